"""Admin for finance and compliance staff: purchase orders with their quotes and invoices, approval
and cancellation, categories with their caps, utilisation, terms and classification, alerts and who
receives them. Financial years, renewals, cap revisions and quote-rule exceptions: lifecycle_admin.

Every save goes through the same services as the API, so a form shows the same sentence a 409 would.
"""

import itertools

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from transactions import services as fact_services
from transactions.admin import AuditedAdmin, ExchangeRateAdmin, HistoryAdmin, ReadOnlyAdmin
from transactions.errors import Refusal
from transactions.models import (
    PURCHASE,
    CreditNote,
    ExchangeRate,
    Invoice,
    PurchaseOrder,
    Quote,
    TransactionCategory,
)
from transactions.money import format_money
from transactions.selectors import amount_converted, purchase_order_list

from . import classification, outbox, selectors, services, user_admin  # noqa: F401 (the user pages)
from .approval_preview import approval_preview
from .lifecycle_admin import (
    amount_history_panel,
    classification_panel,
    revisions_panel,
    terms_panel,
)
from .links import revision_start_url
from .models import (
    Alert,
    AlertRecipient,
    AlertThreshold,
    AnnualCap,
    DistributionList,
    DistributionListMember,
    HeadroomWarning,
    JobRun,
    LedgerEntry,
    Mailing,
    QuoteRuleException,
    QuoteRuleFinding,
    TermWarning,
)
from .outbox_admin import OutboxAdmin
from .schedule import JOBS
from .templatetags.cct import cap_status_label, utilisation_bar


def _money_column(amount, currency: str) -> str:
    return format_html('<span style="white-space:nowrap">{}</span>', format_money(amount, currency))


# --- Purchase orders ----------------------------------------------------------------------------------


class ServiceCheckedForm(forms.ModelForm):
    """Runs a service's cross-row check after the model's own validation, so the form shows the same
    sentence the service (and the API) would."""

    @staticmethod
    def service_check(instance) -> None:
        raise NotImplementedError

    def _post_clean(self):
        super()._post_clean()
        try:
            self.service_check(self.instance)
        except ValidationError as error:
            self._update_errors(error)


def default_currency(category_id=None) -> str | None:
    """The currency a new order or document most likely is in: its category's, else (with no category
    chosen yet) the one most categories count their caps in."""
    categories = TransactionCategory.objects.all()
    if category_id:
        return categories.filter(pk=category_id).values_list("currency", flat=True).first()
    from django.db.models import Count

    commonest = categories.values("currency").annotate(n=Count("id")).order_by("-n", "currency").first()
    return commonest["currency"] if commonest else None


class DocumentCurrencyInline:
    """Quotes and invoices start in the order's currency (or the likeliest one on a new order)."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields.get("currency")
        if field is not None:
            field.initial = obj.currency if obj is not None else default_currency(request.GET.get("category"))
        return formset


class SupplierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, counterparty) -> str:
        tag = gettext("independent") if counterparty.is_independent else gettext("connected")
        return f"{counterparty} · {tag}"


def error_summary(form, inline_admin_formsets) -> list[str]:
    """Every error of the page in words, where it is: "Order · Amount: …", "Quote 2 · Document: …"."""

    def sentences(where: str, a_form) -> list[str]:
        found = []
        for name, errors in a_form.errors.items():
            field = a_form.fields.get(name)
            label = str(field.label) if field is not None and name != "__all__" else None
            found += [f"{where} · {label}: {error}" if label else f"{where}: {error}" for error in errors]
        return found

    summary = sentences(str(form._meta.model._meta.verbose_name).capitalize(), form)
    for inline in inline_admin_formsets:
        formset = inline.formset
        what = str(formset.model._meta.verbose_name).capitalize()
        plural = str(formset.model._meta.verbose_name_plural).capitalize()
        summary += [f"{plural}: {error}" for error in formset.non_form_errors()]
        for number, a_form in enumerate(formset.forms, start=1):
            summary += sentences(f"{what} {number}", a_form)
    return summary


class _NamedFile:
    """A stored document as a person knows it: linked to its download, shown by the name it was uploaded as."""

    def __init__(self, stored, name: str) -> None:
        self.url, self.name = stored.url, name or stored.name

    def __str__(self) -> str:
        return self.name


class NamedFileInput(forms.ClearableFileInput):
    def __init__(self, *args, display_name: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.display_name = display_name

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if context["widget"]["is_initial"]:
            context["widget"]["value"] = _NamedFile(value, self.display_name)
        return context


class QuoteForm(forms.ModelForm):
    class Meta:
        model = Quote
        fields = ["supplier", "quoted_on", "amount", "currency", "reference", "document"]
        field_classes = {"supplier": SupplierChoiceField}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.document:
            self.fields["document"].widget = NamedFileInput(display_name=self.instance.document_name)


class QuoteInline(DocumentCurrencyInline, admin.TabularInline):
    model = Quote
    form = QuoteForm
    extra = 2
    can_delete = True
    # The document is linked by its uploaded name (NamedFileInput); no separate column for it.

    def _draft(self, obj) -> bool:
        return obj is None or obj.is_draft

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("supplier__connected_person")

    def has_add_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_delete_permission(request, obj)

    def get_extra(self, request, obj=None, **kwargs) -> int:
        return 2 if obj is None else 0


INVOICE_FORM_FIELDS = ("number", "invoice_date", "amount", "currency")


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = INVOICE_FORM_FIELDS

    def clean(self):
        data = super().clean()
        if all(data.get(name) for name in INVOICE_FORM_FIELDS):
            candidate = Invoice(
                purchase_order=self.instance.purchase_order, **{k: data[k] for k in INVOICE_FORM_FIELDS}
            )
            refusal = services.invoice_refusal(candidate)
            if refusal is not None:
                raise ValidationError(refusal.detail, code=refusal.code)
        return data


class InvoiceInline(DocumentCurrencyInline, admin.TabularInline):
    model = Invoice
    form = InvoiceForm
    extra = 0
    can_delete = False

    def _open(self, obj) -> bool:
        return obj is None or obj.status != PurchaseOrder.Status.CANCELLED

    def has_add_permission(self, request, obj=None) -> bool:
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._open(obj) and super().has_change_permission(request, obj)


class PurchaseOrderForm(ServiceCheckedForm):
    service_check = staticmethod(fact_services.purchase_order_check)

    class Meta:
        model = PurchaseOrder
        fields = [
            "number", "category", "counterparty", "description", "order_date", "amount", "currency",
            "recognition", "service_start", "service_end",
        ]  # fmt: skip


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(HistoryAdmin):
    """Purchases from the connected person (categories of direction `purchase`); SalesOrderAdmin
    (compliance.sales_admin) is the same page for sales."""

    direction = TransactionCategory.Direction.PURCHASE
    form = PurchaseOrderForm
    inlines = [QuoteInline, InvoiceInline]
    change_form_template = "admin/transactions/purchaseorder/change_form.html"
    list_display = ["number", "counterparty", "order_date", "amount_column", "status", "category"]
    list_filter = ["status", "category", "recognition", ("currency", admin.AllValuesFieldListFilter)]
    list_select_related = ["category", "counterparty", "created_by", "approved_by"]
    search_fields = ["number", "description", "counterparty__name", "counterparty__name_zh"]
    date_hierarchy = "order_date"
    actions = ["approve_selected", "cancel_selected"]
    audit_fields = [
        "status", "created_by", "created_at", "approved_by", "approved_at", "cancelled_by", "cancelled_at",
        "cancellation_reason",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["number", "category", "counterparty", "description"]}),
        (gettext_lazy("Amount and recognition"), {"fields": ["order_date", "amount", "currency", "recognition",
                                                              "service_start", "service_end"]}),
        (gettext_lazy("Compliance"), {"fields": ["before_approval", "quote_rule", "allocation"]}),
        (gettext_lazy("Status"), {"fields": audit_fields}),
    ]  # fmt: skip

    def get_queryset(self, request):
        return purchase_order_list(self.model).filter(category__direction=self.direction)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "category":
            kwargs["queryset"] = TransactionCategory.objects.filter(direction=self.direction)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _url_name(self, what: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{what}"

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("currency", default_currency(initial.get("category")))
        return initial

    def database_changes(self, object_id):
        """The order's own changes and those of its quotes and invoices, in one trail."""
        from django.db.models import Q

        from audit.models import RowChange

        pk = int(object_id)
        of_order = Q(new_row__purchase_order_id=pk) | Q(old_row__purchase_order_id=pk)
        return RowChange.objects.filter(
            Q(table_name=PurchaseOrder._meta.db_table, row_id=str(pk))
            | Q(table_name__in=[Quote._meta.db_table, Invoice._meta.db_table]) & of_order
        )

    def get_readonly_fields(self, request, obj=None):
        computed = ["before_approval", "quote_rule", "allocation", *self.audit_fields]
        if obj is not None and not obj.is_draft:
            return [*PurchaseOrderForm.Meta.fields, *computed]
        return computed

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # Orders are cancelled, never deleted.

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm(f"transactions.approve_{self.opts.model_name}")

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm(f"transactions.cancel_{self.opts.model_name}")

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_column(self, order) -> str:
        return _money_column(order.amount, order.currency)

    @admin.display(description=gettext_lazy("before approval"))
    def before_approval(self, order) -> str:
        if order.pk is None:
            return gettext("Shown once the order is saved.")
        if not order.is_draft:
            return f"{order.get_status_display()}."
        outcomes = approval_preview(order)
        rows = format_html_join(
            "",
            '<li class="cct-gate cct-gate-{}"><strong>{}</strong>: {}</li>',
            (
                (("pass" if o.passes else "fail"), o.gate, gettext("passes") if o.passes else o.sentence)
                for o in outcomes
            ),
        )
        failing = sum(not o.passes for o in outcomes)
        summary = (
            gettext(
                "Approval would pass every gate as the records stand now (another compliance officer than the one "
                "who entered it must approve)."
            )
            if not failing
            else gettext("Approval would be refused as the records stand now (%(failing)s of %(gates)s gates):")
            % {"failing": failing, "gates": len(outcomes)}
        )
        return format_html('<p id="before-approval">{}</p><ul>{}</ul>', summary, rows)

    @admin.display(description=gettext_lazy("quote rule"))
    def quote_rule(self, order) -> str:
        if order.pk is None:
            return gettext("Shown once the order is saved.")
        result = selectors.quote_rule_for_order(order)
        currency = order.currency
        rows = format_html_join(
            "",
            "<li>{} · {} · {} · {}</li>",
            (
                (
                    a.quote.supplier,
                    a.quote.quoted_on,
                    format_money(a.quote.amount, a.quote.currency)
                    + ("" if a.quote.currency == currency else gettext(" (%(amount)s at the order date's rate)")
                       % {"amount": format_money(a.compared, currency)}),
                    gettext("counted") if a.counted else gettext("not counted: %(reason)s") % {"reason": a.reason},
                )
                for a in result.assessments
            ),
        )  # fmt: skip
        verdict = gettext("passes") if result.passes else gettext("does not pass")
        documents = (
            gettext("Quotes count only with their document attached (PDF, PNG or JPEG).")
            if order.category.quote_documents_required
            else ""
        )
        if result.order_amount is None or result.margin is None:
            comparison = gettext("the order cannot be compared with the quotes until the rates they need are recorded")
        elif result.margin < 0:
            comparison = gettext("order %(order)s, dearer than the lowest counted quote by %(margin)s") % {
                "order": format_money(result.order_amount, currency),
                "margin": format_money(-result.margin, currency),
            }
        else:
            comparison = gettext("order %(order)s, %(margin)s below the lowest counted quote") % {
                "order": format_money(result.order_amount, currency),
                "margin": format_money(result.margin, currency),
            }
        return format_html(
            "<p><strong>{}</strong>: {}; {}. {}</p><ul>{}</ul>{}",
            gettext("The order %(verdict)s") % {"verdict": verdict},
            gettext("%(has)s of %(required)s independent quotes")
            % {"has": result.independent_suppliers, "required": result.required},
            comparison,
            documents,
            rows,
            self._exception_note(order),
        )

    def _exception_note(self, order) -> str:
        exception = order.quote_rule_exceptions.exclude(status=QuoteRuleException.Status.REJECTED).first()
        if exception is not None:
            url = reverse("admin:compliance_quoteruleexception_change", args=[exception.pk])
            applies = exception.is_approved and exception.covers(order)
            return format_html(
                '<p>{}: <a href="{}">{}</a>{}.</p>',
                gettext("Quote-rule exception"),
                url,
                exception.get_status_display().lower(),
                gettext(" · the quote rule is waived for this order") if applies else "",
            )
        if not order.is_draft:
            return ""
        url = reverse("admin:compliance_quoteruleexception_add") + f"?purchase_order={order.pk}"
        return format_html(
            '<p>{} <a href="{}">{}</a> {}</p>',
            gettext("No other supplier?"),
            url,
            gettext("Record a quote-rule exception"),
            gettext("with its evidence."),
        )

    @admin.display(description=gettext_lazy("allocation to cap periods"))
    def allocation(self, order) -> str:
        if order.pk is None:
            return gettext("Shown once the order is saved.")
        category = order.category
        converted = amount_converted(
            amount=order.amount, currency=order.currency, target_currency=category.currency, on=order.order_date
        )
        if converted is None:
            return gettext("No %(pair)s rate recorded for %(day)s.") % {
                "pair": f"{order.currency}/{category.currency}",
                "day": order.order_date,
            }
        shares = selectors.order_allocation(order, converted, list(category.caps.all()))
        return format_html_join(
            "",
            "<div>{}: {}{}</div>",
            (
                (
                    gettext("%(start)s to %(end)s") % {"start": share.first_day, "end": share.last_day},
                    format_money(share.amount, category.currency),
                    "" if share.cap else gettext(" (no annual cap covers these days)"),
                )
                for share in shares
            ),
        )

    # Saving goes through the services, which validate again inside their transaction.
    def save_model(self, request, obj, form, change) -> None:
        if obj.pk is None or obj.is_draft:
            fact_services.purchase_order_save(order=obj, user=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            fact_services.quote_delete(quote=deleted, user=request.user)
        for instance in instances:
            if isinstance(instance, Quote):
                fact_services.quote_save(quote=instance, user=request.user)
            else:
                services.invoice_save(invoice=instance, user=request.user)

    # Approve and cancel: buttons on the order's page and actions on the list.
    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path("<int:object_id>/approve/", view(self.approve_view), name=self._url_name("approve")),
            path("<int:object_id>/cancel/", view(self.cancel_view), name=self._url_name("cancel")),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["approve_url"] = reverse(f"admin:{self._url_name('approve')}", args=[obj.pk])
            context["cancel_url"] = reverse(f"admin:{self._url_name('cancel')}", args=[obj.pk])
        context["can_approve"] = bool(obj and obj.is_draft and self.has_approve_permission(request))
        context["can_cancel"] = bool(
            obj and obj.status != PurchaseOrder.Status.CANCELLED and self.has_cancel_permission(request)
        )
        if context.get("errors"):
            context["error_summary"] = error_summary(context["adminform"].form, context["inline_admin_formsets"])
            context["files_to_attach_again"] = [upload.name for upload in request.FILES.values()]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _act(self, request: HttpRequest, order: PurchaseOrder, act) -> bool:
        try:
            act(order)
        except Refusal as refusal:
            messages.error(request, refusal.detail)
            return False
        return True

    def _approve(self, request: HttpRequest, order: PurchaseOrder) -> bool:
        if not self._act(request, order, lambda o: services.purchase_order_approve(order_id=o.pk, user=request.user)):
            return False
        messages.success(request, gettext("Order %(order)s is approved.") % {"order": order.number})
        for alert in Alert.objects.filter(triggered_by=order).select_related("cap__category"):
            messages.warning(
                request,
                gettext(
                    "Alert recorded: the %(basis)s amount of “%(category)s” for %(start)s to %(end)s reached "
                    "%(threshold)s%% (%(utilisation)s%%)."
                )
                % {
                    "basis": alert.get_basis_display().lower(),
                    "category": alert.cap.category,
                    "start": alert.cap.period_start,
                    "end": alert.cap.period_end,
                    "threshold": alert.threshold,
                    "utilisation": alert.utilisation_pct,
                },
            )
        return True

    def approve_view(self, request: HttpRequest, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_approve_permission(request):
            raise PermissionDenied
        order = get_object_or_404(self.get_queryset(request), pk=object_id)
        self._approve(request, order)
        return HttpResponseRedirect(reverse(f"admin:{self._url_name('change')}", args=[order.pk]))

    def cancel_view(self, request: HttpRequest, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        order = get_object_or_404(self.get_queryset(request), pk=object_id)
        reason = request.POST.get("reason", "").strip()
        effective = forms.DateField(required=False)
        try:
            effective_on = effective.clean(request.POST.get("effective_on", "").strip() or None)
        except ValidationError:
            effective_on = None
            messages.error(request, gettext_lazy("Enter the day the cancellation takes effect as YYYY-MM-DD."))
            return HttpResponseRedirect(reverse(f"admin:{self._url_name('change')}", args=[order.pk]))

        def cancel(o):
            services.purchase_order_cancel(order_id=o.pk, user=request.user, reason=reason, effective_on=effective_on)

        try:
            done = self._act(request, order, cancel)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            done = False
        if done:
            messages.success(
                request,
                gettext("Order %(order)s is cancelled; its commitment is withdrawn and its invoices still count.")
                % {"order": order.number},
            )
        return HttpResponseRedirect(reverse(f"admin:{self._url_name('change')}", args=[order.pk]))

    @admin.action(description=gettext_lazy("Approve the selected orders"), permissions=["approve"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        for order in queryset.order_by("order_date", "pk"):
            self._approve(request, order)

    @admin.action(description=gettext_lazy("Cancel the selected orders"), permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        for order in queryset:
            if self._act(request, order, lambda o: services.purchase_order_cancel(order_id=o.pk, user=request.user)):
                messages.success(request, gettext("Order %(order)s is cancelled.") % {"order": order.number})


class CreditNoteInline(admin.TabularInline):
    """The credit notes against an invoice (recorded under Credit notes)."""

    model = CreditNote
    fields = ["number", "credit_date", "amount", "currency"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin, AuditedAdmin):
    """All invoices, for search and audit; they are entered on their purchase order, credit notes
    against them under Credit notes."""

    inlines = [CreditNoteInline]
    list_display = ["number", "purchase_order", "invoice_date", "amount_column"]
    list_select_related = ["purchase_order"]
    search_fields = ["number", "purchase_order__number"]
    date_hierarchy = "invoice_date"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(purchase_order__category__direction=PURCHASE)

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_column(self, invoice) -> str:
        return _money_column(invoice.amount, invoice.currency)


class CreditNoteForm(forms.ModelForm):
    class Meta:
        model = CreditNote
        fields = ["invoice", "number", "credit_date", "amount", "currency"]

    def _post_clean(self):
        # The service's checks on the instance the form built, shown as form errors.
        super()._post_clean()
        if not self.errors and self.instance.invoice_id:
            try:
                services.credit_note_check(self.instance)
            except Refusal as refusal:
                self.add_error(None, refusal.detail)
            except ValidationError as error:
                self.add_error(None, error)


@admin.register(CreditNote)
class CreditNoteAdmin(AuditedAdmin):
    """Credit notes, next to the invoices they reduce: recorded once, never changed."""

    form = CreditNoteForm
    list_display = ["number", "invoice", "credit_date", "amount_column"]
    list_select_related = ["invoice"]
    search_fields = ["number", "invoice__number", "invoice__purchase_order__number"]
    date_hierarchy = "credit_date"
    autocomplete_fields = ["invoice"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_column(self, note) -> str:
        return _money_column(note.amount, note.currency)

    def save_model(self, request, obj, form, change) -> None:
        services.credit_note_save(note=obj, user=request.user)


admin.site.unregister(ExchangeRate)


@admin.register(ExchangeRate)
class RevaluingExchangeRateAdmin(ExchangeRateAdmin):
    """Rates are saved through compliance: what a corrected rate converts is revalued in the cap ledger."""

    def save_model(self, request, obj, form, change) -> None:
        services.exchange_rate_save(rate=obj, user=request.user)


# --- Categories and caps ----------------------------------------------------------------------------------


class UtilisationColumns:
    """Read-only utilisation of caps from compliance.selectors.caps_with_utilisation."""

    utilisation_fields = ["actual_column", "committed_column", "utilisation", "remaining_column", "status_column"]

    @admin.display(description=gettext_lazy("status"))
    def status_column(self, cap) -> str:
        return "-" if cap.pk is None else cap_status_label(cap)

    @admin.display(description=gettext_lazy("actual"))
    def actual_column(self, cap) -> str:
        return "-" if cap.pk is None else _money_column(cap.actual, cap.category.currency)

    @admin.display(description=gettext_lazy("committed"))
    def committed_column(self, cap) -> str:
        return "-" if cap.pk is None else _money_column(cap.committed, cap.category.currency)

    @admin.display(description=gettext_lazy("utilisation (larger of actual and committed)"))
    def utilisation(self, cap) -> str:
        return "-" if cap.pk is None else utilisation_bar(cap.used_pct)

    @admin.display(description=gettext_lazy("remaining"))
    def remaining_column(self, cap) -> str:
        return "-" if cap.pk is None else _money_column(cap.remaining, cap.category.currency)

    @admin.display(description=gettext_lazy("period"), ordering="period_start")
    def period(self, cap) -> str:
        return format_html('<span style="white-space:nowrap">{} – {}</span>', cap.period_start, cap.period_end)

    @admin.display(description=gettext_lazy("utilisation"))
    def utilisation_with_figures(self, cap) -> str:
        currency = cap.category.currency
        return format_html(
            '{}<br><small style="white-space:nowrap">{}<br>{}</small>',
            utilisation_bar(cap.used_pct),
            gettext("actual %(amount)s") % {"amount": format_money(cap.actual, currency)},
            gettext("committed %(amount)s") % {"amount": format_money(cap.committed, currency)},
        )


DEFAULT_THRESHOLD_DESCRIPTION = gettext_noop("Report to senior management immediately (about 80%).")


def _document(reference: str) -> str:
    """A ledger entry's document ("invoice:7", as the API gives it) in words: the kind's name and its id."""
    kind, _colon, pk = reference.partition(":")
    names = {"purchase_order": PurchaseOrder, "invoice": Invoice, "credit_note": CreditNote}
    model = names.get(kind)
    return f"{model._meta.verbose_name} {pk}" if model else reference


class AnnualCapForm(ServiceCheckedForm):
    service_check = staticmethod(services.annual_cap_check)

    class Meta:
        model = AnnualCap
        fields = ["category", "period_start", "period_end", "amount"]


class AnnualCapFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        periods = sorted(
            (form.cleaned_data["period_start"], form.cleaned_data["period_end"])
            for form in self.forms
            if form.cleaned_data.get("period_start") and form.cleaned_data.get("period_end")
            and not form.cleaned_data.get("DELETE")
        )  # fmt: skip
        for (_, end), (next_start, _) in itertools.pairwise(periods):
            if next_start <= end:
                raise ValidationError(gettext("Two of these periods overlap; a day belongs to one period only."))


class AnnualCapInline(UtilisationColumns, admin.TabularInline):
    model = AnnualCap
    form = AnnualCapForm
    formset = AnnualCapFormSet
    extra = 0
    can_delete = False
    fields = ["period_start", "period_end", "amount", *UtilisationColumns.utilisation_fields]
    readonly_fields = UtilisationColumns.utilisation_fields
    show_change_link = True

    def get_queryset(self, request):
        return selectors.caps_with_utilisation(super().get_queryset(request)).order_by("period_start")


class TransactionCategoryForm(ServiceCheckedForm):
    service_check = staticmethod(services.transaction_category_check)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Left out of a form, a category keeps its direction (a new one: purchases).
        if "direction" in self.fields:  # absent where the page is read-only
            self.fields["direction"].required = False

    def clean_direction(self) -> str:
        return self.cleaned_data.get("direction") or self.instance.direction or TransactionCategory.Direction.PURCHASE

    class Meta:
        model = TransactionCategory
        fields = [
            "agreement", "name", "name_zh", "direction", "term_start", "term_end", "term_explanation", "currency",
            "min_independent_quotes", "quote_validity_days", "quote_documents_required", "pricing_basis", "scope",
        ]  # fmt: skip


@admin.register(TransactionCategory)
class TransactionCategoryAdmin(AuditedAdmin):
    form = TransactionCategoryForm
    inlines = [AnnualCapInline]
    list_display = [
        "name", "name_zh", "agreement", "direction", "term_start", "term_end", "currency", "min_independent_quotes",
    ]  # fmt: skip
    list_select_related = ["agreement"]
    list_filter = ["direction", "agreement"]
    search_fields = ["name", "name_zh", "agreement__title"]
    readonly_fields = ["terms", "ratios_and_tier"]

    @admin.display(description=gettext_lazy("terms (first and renewals)"))
    def terms(self, category) -> str:
        return terms_panel(category)

    @admin.display(description=gettext_lazy("classification (Rule 14A.76)"))
    def ratios_and_tier(self, category) -> str:
        if category.pk is None:
            return gettext("Shown once the category is saved.")
        return classification_panel(classification.category_classification(category))

    def save_model(self, request, obj, form, change) -> None:
        services.transaction_category_save(category=obj, user=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        for instance in formset.save(commit=False):
            if isinstance(instance, AnnualCap):
                services.annual_cap_save(cap=instance, user=request.user)


class LiveFilter(admin.SimpleListFilter):
    title = gettext_lazy("period")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return [("live", gettext("Live today")), ("past", gettext("Ended")), ("future", gettext("Not started"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "live":
            return queryset.filter(period_start__lte=today, period_end__gte=today)
        if self.value() == "past":
            return queryset.filter(period_end__lt=today)
        if self.value() == "future":
            return queryset.filter(period_start__gt=today)
        return queryset


@admin.register(AnnualCap)
class AnnualCapAdmin(UtilisationColumns, AuditedAdmin):
    form = AnnualCapForm
    # At a laptop's width: actual and committed sit under the utilisation bar rather than in columns of
    # their own (the cap's page and its category's page show them in full).
    list_display = [
        "category", "period", "amount_column", "utilisation_with_figures", "remaining_column", "status_column",
        "revise",
    ]  # fmt: skip
    list_filter = [LiveFilter, "category"]
    readonly_fields = [*UtilisationColumns.utilisation_fields, "exceeded_on", "revisions", "amount_history", "ledger"]
    search_fields = ["category__name", "category__name_zh", "category__agreement__title"]

    def get_queryset(self, request):
        return selectors.caps_with_utilisation(super().get_queryset(request))

    @admin.display(description=gettext_lazy("cap"), ordering="amount")
    def amount_column(self, cap) -> str:
        return _money_column(cap.amount, cap.category.currency)

    @admin.display(description=gettext_lazy("revision"))
    def revise(self, cap) -> str:
        return format_html('<a href="{}">{}</a>', revision_start_url(cap), gettext("Revise"))

    @admin.display(description=gettext_lazy("revisions"))
    def revisions(self, cap) -> str:
        return revisions_panel(cap)

    @admin.display(description=gettext_lazy("first exceeded on"))
    def exceeded_on(self, cap) -> str:
        return "-" if cap.pk is None or cap.exceeded_on is None else cap.exceeded_on.strftime("%-d %b %Y")

    @admin.display(description=gettext_lazy("ledger (latest entries)"))
    def ledger(self, cap) -> str:
        if cap.pk is None:
            return "-"
        entries = list(LedgerEntry.objects.filter(cap=cap).order_by("-entry_date", "-id")[:20])
        if not entries:
            return gettext_lazy("No entries yet.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td style='text-align:right'>{}</td><td>{}</td></tr>",
            (
                (e.entry_date, e.get_basis_display(), e.get_kind_display(), f"{e.amount:,.2f}", _document(e.document))
                for e in entries
            ),
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>"
            "<p>{} <code>/api/caps/{}/ledger/</code></p>",
            gettext_lazy("date"),
            gettext_lazy("basis"),
            gettext_lazy("kind"),
            gettext_lazy("amount"),
            gettext_lazy("document"),
            rows,
            gettext_lazy("Every entry:"),
            cap.pk,
        )

    @admin.display(description=gettext_lazy("history of the cap's values"))
    def amount_history(self, cap) -> str:
        return amount_history_panel(cap)

    def save_model(self, request, obj, form, change) -> None:
        services.annual_cap_save(cap=obj, user=request.user)


# --- Alerts, warnings, mailings: the outbox --------------------------------------------------------------


@admin.register(Alert)
class AlertAdmin(OutboxAdmin):
    outbox_kind = "alert"
    list_display = [
        "cap", "basis", "threshold", "utilisation_pct", "reached_on", "created_at", "delivery", "acknowledged",
    ]  # fmt: skip
    list_filter = ["basis", "threshold", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["cap__category", "acknowledgement__acknowledged_by"]
    actions = ["send_now", "acknowledge"]

    @admin.display(description=gettext_lazy("acknowledged by senior management"))
    def acknowledged(self, alert: Alert) -> str:
        acknowledgement = getattr(alert, "acknowledgement", None)
        if acknowledgement is None:
            return format_html('<span style="color:#e65100">{}</span>', gettext("not yet"))
        return f"{acknowledgement.acknowledged_by} {timezone.localtime(acknowledgement.acknowledged_at):%Y-%m-%d %H:%M}"

    def has_acknowledge_permission(self, request) -> bool:
        from .monitoring import may_acknowledge

        return may_acknowledge(request.user)

    @admin.action(
        description=gettext_lazy("Acknowledge the selected alerts (senior management)"), permissions=["acknowledge"]
    )
    def acknowledge(self, request: HttpRequest, queryset: QuerySet) -> None:
        from .monitoring import alert_acknowledge

        outcomes = [alert_acknowledge(alert=alert, user=request.user, via="admin")[1] for alert in queryset]
        messages.info(
            request,
            gettext("%(new)s acknowledged, %(old)s already acknowledged before.")
            % {"new": outcomes.count(True), "old": outcomes.count(False)},
        )

    date_hierarchy = "reached_on"


@admin.register(HeadroomWarning)
class HeadroomWarningAdmin(OutboxAdmin):
    outbox_kind = "headroom"
    list_display = ["cap", "as_of", "projected_used", "projected_reached_on", "delivery"]
    list_select_related = ["cap__category"]


@admin.register(TermWarning)
class TermWarningAdmin(OutboxAdmin):
    outbox_kind = "term"
    list_display = ["category", "term_end", "created_at", "delivery"]
    list_select_related = ["category"]


@admin.register(Mailing)
class MailingAdmin(OutboxAdmin):
    outbox_kind = "mailing"
    list_display = ["kind", "period", "subject", "created_at", "delivery"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    exclude = ["attachment", "claim_token", "claimed_until"]


@admin.register(QuoteRuleFinding)
class QuoteRuleFindingAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["purchase_order", "detail", "found_at", "last_seen_at", "cleared_at"]
    list_filter = [("cleared_at", admin.EmptyFieldListFilter)]
    list_select_related = ["purchase_order"]
    search_fields = ["purchase_order__number", "detail"]


class DistributionListMemberInline(admin.TabularInline):
    model = DistributionListMember
    extra = 1


@admin.register(DistributionList)
class DistributionListAdmin(HistoryAdmin):
    list_display = ["name", "member_count", "alert_thresholds", "monthly_report", "headroom_warnings",
                    "quote_rule_report", "term_warnings"]  # fmt: skip
    filter_horizontal = ["thresholds"]
    inlines = [DistributionListMemberInline]
    search_fields = ["name", "members__email"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members", "thresholds")

    @admin.display(description=gettext_lazy("members"))
    def member_count(self, distribution_list) -> int:
        return len(distribution_list.members.all())

    @admin.display(description=gettext_lazy("alerts at"))
    def alert_thresholds(self, distribution_list) -> str:
        return ", ".join(f"{t.percent}%" for t in distribution_list.thresholds.all()) or "-"


@admin.register(AlertRecipient)
class AlertRecipientAdmin(HistoryAdmin):
    list_display = ["threshold", "email", "name"]
    list_filter = ["threshold"]
    search_fields = ["email", "name"]


@admin.register(AlertThreshold)
class AlertThresholdAdmin(HistoryAdmin):
    list_display = ["percent", "description_shown"]

    @admin.display(description=gettext_lazy("description"))
    def description_shown(self, threshold) -> str:
        # The 80% threshold's description is the product's own (written by migration 0003): shown in the
        # reader's language; one typed by a user is shown as typed.
        if threshold.description == DEFAULT_THRESHOLD_DESCRIPTION:
            return gettext(DEFAULT_THRESHOLD_DESCRIPTION)
        return threshold.description

    def has_delete_permission(self, request, obj=None) -> bool:
        # Not while distribution lists receive its alerts (compliance.services.alert_threshold_delete).
        if obj is not None and obj.distribution_lists.exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for threshold in queryset:
            try:
                services.alert_threshold_delete(threshold_id=threshold.pk, user=request.user)
            except Refusal as refusal:
                messages.error(request, refusal.detail)


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """The background jobs: their schedule (from compliance.schedule) and every run."""

    change_list_template = "admin/compliance/jobrun/change_list.html"
    list_display = ["job", "started_at", "finished_at", "succeeded", "summary"]
    list_filter = ["job", "succeeded"]
    date_hierarchy = "started_at"

    def changelist_view(self, request, extra_context=None):
        # Runs are numbered in the order they start, so each job's latest run has its highest id.
        last_ids = JobRun.objects.values("job").annotate(last=Max("pk")).values_list("last", flat=True)
        latest = {run.job: run for run in JobRun.objects.filter(pk__in=list(last_ids))}
        schedule = [{"job": job, "last": latest.get(job.name)} for job in JOBS]
        return super().changelist_view(request, {"schedule": schedule, **(extra_context or {})})


# Breaches of caps, monitoring evidence, report jobs and imports have their own modules; importing them here
# puts them on the admin site. The sales pages build on this module's order pages: the admin's app config
# (compliance.apps) registers them once this module is loaded.
from . import breaches_admin, monitoring_admin, report_jobs_admin  # noqa: E402, F401
from .imports import admin as imports_admin  # noqa: E402, F401
