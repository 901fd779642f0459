"""The admin of breaches of caps: a read-only list (open ones first by default) and, for compliance, the
steps (the announcement, then re-compliance) recorded on the breach's page."""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from compliance.admin.outbox import OutboxAdmin
from compliance.alerts import breaches
from compliance.models import Breach
from transactions.errors import Refusal
from transactions.money import format_money


class OpenFilter(admin.SimpleListFilter):
    title = gettext_lazy("open or closed")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", gettext("Open (not re-complied)")), ("no", gettext("Closed (re-complied)"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(status=Breach.Status.RECOMPLIED)
        if self.value() == "no":
            return queryset.filter(status=Breach.Status.RECOMPLIED)
        return queryset


@admin.register(Breach)
class BreachAdmin(OutboxAdmin):
    outbox_kind = "breach"
    change_form_template = "admin/compliance/breach/change_form.html"
    list_display = [
        "cap", "detected_on", "basis", "over_column", "status_column", "announced_on", "recomplied_on", "delivery",
    ]  # fmt: skip
    list_filter = [OpenFilter, "status", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["cap__category"]
    date_hierarchy = "detected_on"
    fields = [
        "cap", "status", "detected_on", "basis", "currency", "cap_amount", "used_amount", "amount_over",
        "triggered_by", "announced_on", "announcement_ref", "announced_by", "announced_at", "recomplied_on",
        "recomplied_by", "recomplied_at", "created_at",
    ]  # fmt: skip
    readonly_fields = fields

    def has_steps_permission(self, request) -> bool:
        return request.user.has_perm("compliance.change_breach")

    @admin.display(description=gettext_lazy("over the cap by"), ordering="amount_over")
    def over_column(self, breach: Breach) -> str:
        return format_money(breach.amount_over, breach.currency)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_column(self, breach: Breach) -> str:
        colour = "#2e7d32" if not breach.is_open else "#b71c1c"
        return format_html('<strong style="color:{}">{}</strong>', colour, breach.get_status_display())

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [path("<int:object_id>/steps/", view(self.steps_view), name="compliance_breach_steps")]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_record_steps"] = bool(obj and obj.is_open and self.has_steps_permission(request))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def steps_view(self, request: HttpRequest, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_steps_permission(request):
            raise PermissionDenied
        breach = get_object_or_404(Breach, pk=object_id)
        steps: dict = {}
        try:
            for step in breaches.STEPS:
                value = request.POST.get(step, "").strip()
                if value:
                    try:
                        steps[step] = datetime.date.fromisoformat(value)
                    except ValueError as error:
                        raise ValidationError({step: "Enter a date as YYYY-MM-DD."}) from error
            if "announcement_ref" in request.POST:
                steps["announcement_ref"] = request.POST["announcement_ref"]
            saved = breaches.breach_record_steps(breach_id=breach.pk, user=request.user, **steps)
        except Refusal as refusal:
            messages.error(request, refusal.detail)
        except ValidationError as error:
            for field_messages in error.message_dict.values():
                for message in field_messages:
                    messages.error(request, message)
        else:
            messages.success(
                request,
                gettext_lazy("Recorded: the breach is now %(status)s.")
                % {"status": saved.get_status_display().lower()},
            )
        return HttpResponseRedirect(reverse("admin:compliance_breach_change", args=[breach.pk]))
