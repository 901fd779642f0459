"""Admin pages of the monitoring evidence and the auditors' deliverables: monthly sign-offs (with the
months not yet signed), the directors' report sent to the board, the auditors' timetable (its deadline
computed), access undertakings, issued reports and evidence binders (read-only)."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from compliance.evidence import monitoring
from compliance.models import (
    AccessUndertaking,
    AlertAcknowledgement,
    AuditorTimetable,
    BoardSubmission,
    EvidenceBinder,
    IssuedReport,
    MonthlySignoff,
)
from transactions.admin import ReadOnlyAdmin


@admin.register(MonthlySignoff)
class MonthlySignoffAdmin(admin.ModelAdmin):
    list_display = ["__str__", "signed_by", "signed_at", "note"]
    list_select_related = ["signed_by"]
    fields = ["month", "note"]
    change_list_template = "admin/compliance/monthlysignoff/change_list.html"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        context = {"missing_months": [f"{month:%Y-%m}" for month in monitoring.months_missing_signoff()]}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def save_model(self, request, obj, form, change) -> None:
        signed = monitoring.monthly_signoff_create(month=obj.month, user=request.user, note=obj.note)
        obj.pk, obj.signed_by, obj.signed_at = signed.pk, signed.signed_by, signed.signed_at

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class SignoffForm(form):
            def clean_month(self):
                month = self.cleaned_data["month"].replace(day=1)
                if MonthlySignoff.objects.filter(month=month).exists():
                    raise ValidationError(_("This month is already signed off."))
                return month

        return SignoffForm


@admin.register(AlertAcknowledgement)
class AlertAcknowledgementAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["alert", "acknowledged_by", "acknowledged_at", "via"]
    list_select_related = ["alert__cap__category", "acknowledged_by"]


@admin.register(BoardSubmission)
class BoardSubmissionAdmin(admin.ModelAdmin):
    list_display = ["half", "sent_on", "note", "recorded_by", "recorded_at"]
    list_select_related = ["recorded_by"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(AuditorTimetable)
class AuditorTimetableAdmin(admin.ModelAdmin):
    list_display = ["year", "bulk_printing_on", "letter_deadline", "letter_received_on", "letter_reference"]
    readonly_fields = ["letter_deadline"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class TimetableForm(form):
            def clean_bulk_printing_on(self):
                day = self.cleaned_data["bulk_printing_on"]
                try:
                    self.instance.letter_deadline = monitoring.letter_deadline(day)
                except monitoring.UnknownHolidays as error:
                    raise ValidationError(str(error)) from None
                return day

        return TimetableForm


@admin.register(AccessUndertaking)
class AccessUndertakingAdmin(admin.ModelAdmin):
    list_display = ["agreement", "given_on", "reference", "recorded_by"]
    list_select_related = ["agreement", "recorded_by"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(IssuedReport)
class IssuedReportAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["kind", "period", "how", "issued_at", "issued_to", "sha256"]
    list_filter = ["kind", "how", "year"]
    exclude = ["file"]


@admin.register(EvidenceBinder)
class EvidenceBinderAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["year", "status", "progress", "requested_at", "finished_at", "sha256"]
    exclude = ["file"]
