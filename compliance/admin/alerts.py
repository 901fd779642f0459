"""Admin of alerts, warnings and mailings (the outbox rows), quote-rule findings, who receives alerts and at
which thresholds, and the periodic jobs' runs.
"""

from django.contrib import admin, messages
from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from compliance.admin import users as user_admin  # noqa: F401 (the user pages)
from compliance.admin.outbox import OutboxAdmin
from compliance.alerts import recipients
from compliance.delivery import outbox  # noqa: F401 (the user pages)
from compliance.jobs.schedule import JOBS
from compliance.models import (
    Alert,
    AlertRecipient,
    AlertThreshold,
    DistributionList,
    DistributionListMember,
    HeadroomWarning,
    JobRun,
    Mailing,
    QuoteRuleFinding,
    TermWarning,
)
from transactions.admin import HistoryAdmin, ReadOnlyAdmin
from transactions.errors import Refusal

# --- Alerts, warnings, mailings: the outbox --------------------------------------------------------------


DEFAULT_THRESHOLD_DESCRIPTION = gettext_noop("Report to senior management immediately (about 80%).")


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
        from compliance.evidence.monitoring import may_acknowledge

        return may_acknowledge(request.user)

    @admin.action(
        description=gettext_lazy("Acknowledge the selected alerts (senior management)"), permissions=["acknowledge"]
    )
    def acknowledge(self, request: HttpRequest, queryset: QuerySet) -> None:
        from compliance.evidence.monitoring import alert_acknowledge

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
        # Not while distribution lists receive its alerts (compliance.alerts.recipients.alert_threshold_delete).
        if obj is not None and obj.distribution_lists.exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for threshold in queryset:
            try:
                recipients.alert_threshold_delete(threshold_id=threshold.pk, user=request.user)
            except Refusal as refusal:
                messages.error(request, refusal.detail)


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """The background jobs: their schedule (from compliance.jobs.schedule) and every run."""

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
