"""Imports in the admin: upload (a dry run by default), the preview of every row error with its row,
column and reason, then *Import these rows* to run it for real; a progress bar while it runs."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy

from compliance.imports.kinds import KINDS
from compliance.imports.services import import_confirm, import_create, import_file_check
from compliance.models import CompletenessCheck, Import

# The kinds of rows in the reader's language (the form's values stay the API's names).
KIND_NAMES = {
    "purchase_orders": gettext_lazy("purchase orders"),
    "quotes": gettext_lazy("quotes"),
    "invoices": gettext_lazy("invoices"),
    "credit_notes": gettext_lazy("credit notes"),
    "sales_orders": gettext_lazy("sales orders"),
    "price_references": gettext_lazy("price references"),
    "sales_invoices": gettext_lazy("sales invoices"),
}


class ImportForm(forms.ModelForm):
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=[(name, KIND_NAMES.get(name, name)) for name in KINDS])
    file = forms.FileField(
        label=gettext_lazy("file"),
        help_text=gettext_lazy("CSV (UTF-8) or .xlsx; the first row holds the API's field names."),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("dry run"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Check every row and write nothing; then import the rows from the result's page."),
    )

    class Meta:
        model = Import
        fields = ["kind", "file", "dry_run"]

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("file"):
            try:
                import_file_check(kind=data["kind"], file=data["file"])
            except ValidationError as error:
                self.add_error("file", error.message_dict["file"])
        return data


@admin.register(Import)
class ImportAdmin(admin.ModelAdmin):
    form = ImportForm
    list_display = ["created_at", "kind", "file_name", "dry_run", "status", "rows", "created", "unchanged",
                    "error_count", "created_by"]  # fmt: skip
    list_filter = ["kind", "status", "dry_run"]
    readonly = ["kind", "file_name", "dry_run", "status", "progress_bar", "rows", "created", "unchanged",
                "error_count", "row_errors", "created_by", "created_at", "started_at", "finished_at"]  # fmt: skip
    change_form_template = "admin/compliance/import/change_form.html"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        return self.readonly if obj else ["kind", "file", "dry_run"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            form.instance = import_create(
                user=request.user, kind=data["kind"], file=data["file"], dry_run=data["dry_run"]
            )
        except ValidationError as error:
            raise PermissionDenied(error.messages[0]) from None
        obj.pk = form.instance.pk

    @admin.display(description=gettext_lazy("progress"))
    def progress_bar(self, obj: Import) -> str:
        return format_html(
            '<progress max="100" value="{}" style="width:20em"></progress> {}%', obj.progress, obj.progress
        )

    @admin.display(description=gettext_lazy("row errors"))
    def row_errors(self, obj: Import) -> str:
        if not obj.errors:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((error["row"] or gettext("file"), error["column"] or "-", error["message"]) for error in obj.errors),
        )
        more = ""
        if obj.error_count > len(obj.errors):
            more = gettext("… and %(count)s more.") % {"count": f"{obj.error_count - len(obj.errors):,}"}
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>{}",
            gettext("row"), gettext("column"), gettext("reason"), rows, more,
        )  # fmt: skip

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [path("<int:object_id>/confirm/", view(self.confirm_view), name="compliance_import_confirm")]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_confirm"] = bool(
            obj and obj.dry_run and obj.status == Import.Status.DONE and self.has_add_permission(request)
        )
        context["running"] = bool(obj and obj.status in (Import.Status.QUEUED, Import.Status.RUNNING))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def confirm_view(self, request: HttpRequest, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        checked = get_object_or_404(Import, pk=object_id)
        try:
            imp = import_confirm(checked=checked, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(reverse("admin:compliance_import_change", args=[checked.pk]))
        messages.success(request, gettext("The rows are being imported."))
        return HttpResponseRedirect(reverse("admin:compliance_import_change", args=[imp.pk]))


class CompletenessCheckForm(forms.ModelForm):
    file = forms.FileField(
        label=gettext_lazy("the ERP's postings"),
        help_text=gettext_lazy("CSV (UTF-8) or .xlsx with the columns counterparty, number, date, amount, currency."),
    )

    class Meta:
        model = CompletenessCheck
        fields = ["connected_person", "period_start", "period_end", "file"]

    def clean(self):
        from compliance.imports.completeness import completeness_compare

        data = super().clean()
        if not self.errors:
            try:
                self.comparison = completeness_compare(
                    connected_person=data["connected_person"], period_start=data["period_start"],
                    period_end=data["period_end"], file=data["file"],
                )  # fmt: skip
            except ValidationError as error:
                self.add_error(None, error.messages)
        return data


@admin.register(CompletenessCheck)
class CompletenessCheckAdmin(admin.ModelAdmin):
    """Compliance uploads the ERP's list; the page keeps what each side lacks as evidence for the auditors."""

    form = CompletenessCheckForm
    list_display = ["connected_person", "period_start", "period_end", "erp_rows", "matched", "complete", "created_at"]
    readonly = ["connected_person", "period_start", "period_end", "file_name", "erp_rows", "matched",
                "missing_in_product", "missing_in_erp", "created_by", "created_at"]  # fmt: skip

    def get_fields(self, request, obj=None):
        return self.readonly if obj else ["connected_person", "period_start", "period_end", "file"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly if obj else []

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        for name, value in form.comparison.items():
            setattr(obj, name, value)
        obj.save()

    @admin.display(boolean=True, description=gettext_lazy("complete"))
    def complete(self, obj: CompletenessCheck) -> bool:
        return obj.complete
