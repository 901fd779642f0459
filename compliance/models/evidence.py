"""Board and auditor deliverables: the evidence that the monitoring controls ran, the reports as they
were issued, the auditors' timetable (Rule 14A.57) and the counterparty's access undertaking (14A.58).

Domain words
- A *monthly sign-off* is the designated finance staff's confirmation that they reviewed a month's
  actual amounts against the caps: one per month (UniqueConstraint on the month's first day).
- An *alert acknowledgement* records who in senior management acknowledged a cap alert, and when:
  once per alert (OneToOne), from the signed link in the alert's e-mail or from the admin.
- A *board submission* records when the directors' half-year report was sent to the board: once per
  half year (UniqueConstraint).
- An *issued report* is a copy of a report as it was downloaded or e-mailed, with its SHA-256, kept so
  that the evidence binder holds what was issued, never a later regeneration.
- An *evidence binder* is the auditors' .zip for a financial year, built in the background for large
  years with its progress (status, progress 0-100).
- The *auditors' timetable* of a financial year: the annual report's bulk-printing date and the day by
  which the auditors' letter (Rule 14A.56) must reach the Exchange, ten Hong Kong business days before
  it (compliance.common.business_days), kept with the letter's receipt.
- An *access undertaking* is the counterparty's agreement to give the auditors access to its records
  for the transactions under a framework agreement (Rule 14A.58).

Imported at the end of compliance.models, so the models keep the app label `compliance`; the models of
compliance.models they refer to are named by label, so this module imports nothing of compliance.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from transactions.documents import RandomName, evidence_storage, private_storage, validate_evidence_document
from transactions.models import FrameworkAgreement


class MonthlySignoff(models.Model):
    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month reviewed."))
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    signed_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("monthly sign-off")
        verbose_name_plural = _("monthly sign-offs")
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="signoff_month_is_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class AlertAcknowledgement(models.Model):
    class Via(models.TextChoices):
        LINK = "link", _("Link in the alert e-mail")
        ADMIN = "admin", _("Admin")

    alert = models.OneToOneField("compliance.Alert", on_delete=models.PROTECT, related_name="acknowledgement")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(auto_now_add=True)
    via = models.CharField(max_length=8, choices=Via.choices)

    class Meta:
        ordering = ["-acknowledged_at"]
        verbose_name = _("alert acknowledgement")
        verbose_name_plural = _("alert acknowledgements")

    def __str__(self) -> str:
        return f"{self.alert} acknowledged by {self.acknowledged_by}"


class BoardSubmission(models.Model):
    """The directors' half-year report as sent to the board."""

    half = models.CharField(_("half year"), max_length=7, unique=True, help_text=_("YYYY-H1 or YYYY-H2."))
    sent_on = models.DateField(_("sent to the board on"))
    note = models.CharField(_("note"), max_length=300, blank=True, help_text=_("e.g. the board paper's reference."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-half"]
        verbose_name = _("directors' report sent to the board")
        verbose_name_plural = _("directors' reports sent to the board")
        constraints = [models.CheckConstraint(condition=Q(half__regex=r"^\d{4}-H[12]$"), name="submission_half_valid")]

    def __str__(self) -> str:
        return f"{self.half}: {self.sent_on}"


class IssuedReport(models.Model):
    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("Monthly cap report")
        DIRECTORS = "directors", _("Directors' report")
        ANNUAL_REVIEW = "annual_review", _("Annual review pack")
        DISCLOSURE = "disclosure", _("Annual-report disclosure")

    class How(models.TextChoices):
        DOWNLOAD = "download", _("Downloaded")
        EMAIL = "email", _("E-mailed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    period = models.CharField(_("period"), max_length=16, help_text=_("2026-03, 2026-H1 or 2026."))
    year = models.PositiveSmallIntegerField(_("year"), help_text=_("The financial year the period belongs to."))
    file = models.FileField(_("file"), storage=private_storage, upload_to=RandomName("issued"), max_length=200)
    filename = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField(_("size"))
    how = models.CharField(_("how"), max_length=8, choices=How.choices)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    issued_to = models.CharField(
        _("issued to"), max_length=500, blank=True, help_text=_("Who received it: a user or the mailing's lists.")
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("issued by"),
    )  # fmt: skip
    mailing = models.ForeignKey(
        "compliance.Mailing", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("mailing"),
    )  # fmt: skip

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("issued report")
        verbose_name_plural = _("issued reports")
        indexes = [models.Index(fields=["year", "kind"], name="issued_report_year")]
        constraints = [models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="issued_sha256")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period} ({self.get_how_display()} {self.issued_at:%Y-%m-%d %H:%M})"


class EvidenceBinder(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(storage=private_storage, upload_to=RandomName("binders"), max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("evidence binder")
        verbose_name_plural = _("evidence binders")
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="binder_progress_percent")]

    def __str__(self) -> str:
        return f"Evidence binder {self.year} ({self.status}, {self.progress}%)"

    @property
    def filename(self) -> str:
        return f"cct-evidence-{self.year}.zip"


class AuditorTimetable(models.Model):
    year = models.PositiveSmallIntegerField(_("financial year"), unique=True)
    bulk_printing_on = models.DateField(_("annual report bulk printing"))
    letter_deadline = models.DateField(
        _("auditors' letter deadline"),
        editable=False,
        help_text=_("Ten Hong Kong business days before the bulk printing (Rule 14A.57)."),
    )
    letter_received_on = models.DateField(_("auditors' letter received on"), null=True, blank=True)
    letter_reference = models.CharField(_("auditors' letter reference"), max_length=300, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("auditors' timetable")
        verbose_name_plural = _("auditors' timetables")
        constraints = [
            models.CheckConstraint(
                condition=Q(letter_deadline__lt=models.F("bulk_printing_on")), name="timetable_deadline_before_print"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}: letter by {self.letter_deadline}, printing {self.bulk_printing_on}"


class AccessUndertaking(models.Model):
    agreement = models.ForeignKey(
        FrameworkAgreement, on_delete=models.PROTECT, related_name="access_undertakings", verbose_name=_("agreement")
    )
    given_on = models.DateField(_("given on"))
    reference = models.CharField(_("reference"), max_length=300, help_text=_("e.g. the clause or the letter."))
    document = models.FileField(
        _("document"),
        storage=evidence_storage,
        upload_to=RandomName("undertakings"),
        max_length=200,
        blank=True,
        validators=[validate_evidence_document],
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "-given_on"]
        verbose_name = _("auditors' access undertaking")
        verbose_name_plural = _("auditors' access undertakings")

    def __str__(self) -> str:
        return f"{self.agreement}: {self.given_on} ({self.reference})"


__all__ = [
    "AccessUndertaking",
    "AlertAcknowledgement",
    "AuditorTimetable",
    "BoardSubmission",
    "EvidenceBinder",
    "IssuedReport",
    "MonthlySignoff",
]
