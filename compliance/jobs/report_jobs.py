"""Reports too long for a request, built by the worker (ReportJob).

A request for a report first counts the orders it reads (one query). Up to
`CCT_REPORT_SYNC_ORDERS` weighted orders, the report is built in the request as before; beyond, a
ReportJob is recorded and the worker builds it: the API answers 202 with the job's address, the admin
shows the job's progress, and the file is downloaded when it is ready. A PDF weighs
`CCT_REPORT_PDF_WEIGHT` times a workbook (laying out pages costs more than streaming rows; see
bench/report_formats.py).

The job row is the queue's safety net: the task claims it with a conditional update (queued to
running), so a message delivered twice builds it once, and the minute sweep re-queues a job whose
message was lost and fails one whose worker died while building it.
"""

import datetime
import logging
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import connection, connections, transaction
from django.db.models import Min, Q
from django.utils import timezone, translation

from accounts.models import Preference
from compliance.common import queue
from compliance.models import AnnualCap, ReportJob
from compliance.reports import annual_review, directors, monthly
from transactions.models import PurchaseOrder

if TYPE_CHECKING:
    from transactions.users import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportRequest:
    """One report of one period in one format, as asked for."""

    report: str  # ReportJob.Report
    period: str  # as written in the request: 2026-03, 2026-H1, 2026
    pdf: bool

    @property
    def format(self) -> str:
        return ReportJob.Format.PDF if self.pdf else ReportJob.Format.XLSX

    def bounds(self) -> tuple[datetime.date, datetime.date]:
        if self.report == ReportJob.Report.MONTHLY:
            return monthly.month_bounds(self.first_day())
        if self.report == ReportJob.Report.DIRECTORS:
            return directors.half_bounds(self.first_day())
        return annual_review.year_bounds(int(self.period))

    def first_day(self) -> datetime.date:
        if self.report == ReportJob.Report.MONTHLY:
            year, month = self.period.split("-")
            return datetime.date(int(year), int(month), 1)
        if self.report == ReportJob.Report.DIRECTORS:
            year, half = self.period.split("-H")
            return datetime.date(int(year), 1 if half == "1" else 7, 1)
        return datetime.date(int(self.period), 1, 1)

    def filename(self) -> str:
        if self.report == ReportJob.Report.MONTHLY:
            return monthly.monthly_report_filename(self.first_day(), pdf=self.pdf)
        if self.report == ReportJob.Report.DIRECTORS:
            return directors.directors_report_filename(self.first_day(), pdf=self.pdf)
        return annual_review.annual_review_filename(int(self.period), pdf=self.pdf)

    def write(self, output: BinaryIO, progress=None) -> None:
        if self.report == ReportJob.Report.MONTHLY:
            monthly.write_monthly_report(self.first_day(), output, pdf=self.pdf, progress=progress)
        elif self.report == ReportJob.Report.DIRECTORS:
            directors.write_directors_report(self.first_day(), output, pdf=self.pdf, progress=progress)
        else:
            annual_review.write_annual_review(int(self.period), output, pdf=self.pdf, progress=progress)


def report_order_count(request: ReportRequest) -> int:
    """The orders a report reads, near enough to judge its cost: those of the categories with a cap
    overlapping the report's range, dated from the earliest such cap's start to the range's end (two
    queries)."""
    start, end = request.bounds()
    caps = AnnualCap.objects.filter(period_start__lte=end, period_end__gte=start)
    earliest = caps.aggregate(first=Min("period_start"))["first"]
    if earliest is None:
        return 0
    return PurchaseOrder.objects.filter(
        Q(category__in=caps.values("category")), order_date__gte=earliest, order_date__lte=end
    ).count()


def in_background(request: ReportRequest, orders: int) -> bool:
    """Whether the report is too long for a request (the README's *Long reports*)."""
    weight = settings.CCT_REPORT_PDF_WEIGHT if request.pdf else 1
    return orders * weight > settings.CCT_REPORT_SYNC_ORDERS


def report_job_request(*, request: ReportRequest, user: "User", orders: int) -> ReportJob:
    """Record a job and queue it once the job is committed."""
    with transaction.atomic():
        job = ReportJob.objects.create(
            report=request.report,
            period=request.period,
            format=request.format,
            requested_by=user,
            orders=orders,
            filename=request.filename(),
            stage="Queued · 排隊中",
        )
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(pk: int) -> None:
    """Queue the build; never fails the caller (the sweep queues it again if the broker is down)."""
    queue.send_task("compliance.tasks.build_report", pk)


class _JobProgress:
    """Writes a job's progress while its report is being read, at most once a second.

    The report reads in one REPEATABLE READ transaction, whose own writes nobody would see before it
    ends; the progress goes through a connection of its own (PostgreSQL: on SQLite it would wait on the
    reader's lock, and only the stages are shown)."""

    def __init__(self, job: ReportJob, *, expected_rows: int, pdf: bool) -> None:
        self.pk = job.pk
        self.expected = max(expected_rows, 1)
        self.pdf = pdf
        self.last = 0.0
        self.connection = connections.create_connection("default") if connection.vendor == "postgresql" else None

    def _write(self, percent: int, stage: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.connection is None or (not force and now - self.last < 1):
            return
        self.last = now
        # The table's name is the model's own, never input.
        sql = f"UPDATE {ReportJob._meta.db_table} SET progress = GREATEST(progress, %s), stage = %s WHERE id = %s"  # noqa: S608
        with self.connection.cursor() as cursor:
            cursor.execute(
                sql,
                [min(percent, 99), stage, self.pk],
            )

    def rows(self, written: int) -> None:
        # Reading and writing rows is the whole of a workbook, and about a third of a PDF.
        share = min(written / self.expected, 1.0)
        span = 30 if self.pdf else 90
        self._write(5 + int(share * span), f"Rows written: {written:,} · 已寫入{written:,}行")

    def layout(self, done: float) -> None:
        self._write(35 + int(min(done, 1.0) * 60), f"Laying out the pages: {done:.0%} · 排版中")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def report_job_build(pk: int) -> str:
    """Build a queued job's report into its file. Idempotent: only the call that claims the job builds."""
    claimed = ReportJob.objects.filter(pk=pk, status=ReportJob.Status.QUEUED).update(
        status=ReportJob.Status.RUNNING, started_at=timezone.now(), progress=5, stage="Reading · 讀取中"
    )
    if not claimed:
        return "not queued"
    job = ReportJob.objects.get(pk=pk)
    request = ReportRequest(report=job.report, period=job.period, pdf=job.format == ReportJob.Format.PDF)
    # An order gives a row on Orders and about two on Quotes.
    progress = _JobProgress(job, expected_rows=3 * job.orders, pdf=request.pdf)
    # The worker has no request: the Chinese of the titles and headers is the language the user chose.
    chosen = Preference.objects.filter(user_id=job.requested_by_id).values_list("language", flat=True).first()
    try:
        with tempfile.TemporaryFile() as output, translation.override(chosen or settings.LANGUAGE_CODE):
            request.write(output, progress=progress)
            output.seek(0)
            job.file.save(job.filename, File(output), save=False)
            job.size = job.file.size
    except Exception as error:
        log.exception("Report job %s failed", pk)
        ReportJob.objects.filter(pk=pk).update(
            status=ReportJob.Status.FAILED, finished_at=timezone.now(), error=str(error)[:2000], stage=""
        )
        return "failed"
    finally:
        progress.close()
    ReportJob.objects.filter(pk=pk).update(
        status=ReportJob.Status.DONE,
        progress=100,
        stage="Ready · 已完成",
        file=job.file.name,
        size=job.size,
        finished_at=timezone.now(),
    )
    return "done"


# A job queued this long ago and still queued lost its message; one running this long lost its worker.
REQUEUE_AFTER = datetime.timedelta(minutes=2)


def sweep_report_jobs() -> dict[str, int]:
    """Queue again the jobs whose message was lost; fail those whose worker stopped while building."""
    now = timezone.now()
    stale = list(
        ReportJob.objects.filter(status=ReportJob.Status.QUEUED, requested_at__lt=now - REQUEUE_AFTER).values_list(
            "pk", flat=True
        )
    )
    for pk in stale:
        enqueue(pk)
    limit = datetime.timedelta(seconds=settings.CCT_REPORT_JOB_TIME_LIMIT + 60)
    failed = ReportJob.objects.filter(status=ReportJob.Status.RUNNING, started_at__lt=now - limit).update(
        status=ReportJob.Status.FAILED,
        finished_at=now,
        error="The worker stopped before the report was built; ask for it again.",
    )
    return {"requeued": len(stale), "failed": failed}
