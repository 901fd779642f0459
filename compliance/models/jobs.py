"""Background work: the runs of periodic jobs, imports from the ERP with the completeness check, and report
jobs.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from transactions.documents import (
    RandomName,
    private_storage,
)
from transactions.models import (
    ConnectedPerson,
)


def _report_job_storage():
    # Imported late: the storage follows the settings in force (tests use a temporary folder).
    from transactions.documents import private_storage

    return private_storage()


class JobRun(models.Model):
    """One run of a scheduled job, so administrators can see that the schedule runs and what it did."""

    job = models.CharField(_("job"), max_length=100)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), null=True)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"], name="job_run_latest")]

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M}"


class Import(models.Model):
    """One upload of ERP rows of one kind (compliance.imports). It is queued, run by a worker and kept
    with its outcome: all its rows were written (`done`) or none was (`failed`, with the row errors).
    A dry run checks every rule and writes nothing."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=32)
    file = models.FileField(_("file"), storage=private_storage, upload_to=RandomName("imports"), max_length=200)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Only the worker that moved the import from queued to running processes it (a redelivered task
    # finds it claimed).
    claimed_at = models.DateTimeField(null=True, blank=True)
    # A running import's lease: its worker writes its last sign of life here every half minute and with
    # its progress; the imports sweep fails a run silent for longer than IMPORT_LEASE (its worker died).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="import_status_valid"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="import_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name or self.pk} ({self.status})"


class CompletenessCheck(models.Model):
    """The ERP's postings to a connected person's companies for a period, compared with the product:
    what the ERP has that the product lacks and the reverse, kept as evidence for the annual pack."""

    connected_person = models.ForeignKey(
        ConnectedPerson, on_delete=models.PROTECT, related_name="+", verbose_name=_("connected person")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    erp_rows = models.PositiveIntegerField(_("ERP rows"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    missing_in_product = models.JSONField(_("missing in the product"), default=list, blank=True)
    missing_in_erp = models.JSONField(_("missing in the ERP"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("completeness check")
        verbose_name_plural = _("completeness checks")
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="completeness_period_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.connected_person}: {self.period_start} to {self.period_end}"

    @property
    def complete(self) -> bool:
        return not self.missing_in_product and not self.missing_in_erp


class ReportJob(models.Model):
    """A report built by the worker because it is too long for a request (compliance.jobs.report_jobs): who
    asked for which report, its progress, and the file once built, kept under PRIVATE_MEDIA_ROOT and
    served only to someone who reads reports. A job is claimed once (a conditional update from queued to
    running), so a message delivered twice builds it once."""

    class Report(models.TextChoices):
        MONTHLY = "monthly", _("Monthly cap report")
        DIRECTORS = "directors", _("Directors' report")
        ANNUAL_REVIEW = "annual-review", _("Annual review pack")

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Workbook (.xlsx)")
        PDF = "pdf", _("Printable PDF")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready to download")
        FAILED = "failed", _("Failed")

    report = models.CharField(_("report"), max_length=16, choices=Report.choices)
    period = models.CharField(
        _("period"), max_length=10, help_text=_("The month (YYYY-MM), half year (YYYY-H1) or year (YYYY).")
    )
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    orders = models.PositiveIntegerField(
        _("orders"), default=0, help_text=_("The orders the report reads, counted when it was requested.")
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    file = models.FileField(_("file"), storage=_report_job_storage, upload_to="reports/%Y/", max_length=200, blank=True)
    filename = models.CharField(_("file name"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_job_progress_at_most_100"),
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(finished_at__isnull=False) & ~Q(file="")),
                name="report_job_done_has_its_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_report_display()} {self.period} ({self.format})"
