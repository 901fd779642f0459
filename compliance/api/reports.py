"""The reports as downloads (API contract: `GET /api/reports/monthly/?month=YYYY-MM`), plus the
semi-annual directors' report and the annual review pack, each as a workbook or (`format=pdf`) as a
printable PDF.

Every role reads the reports; a user with no role reads nothing. A small report is written to a
temporary file in the request and streamed from it, so it does not sit in the web worker's memory. A
report too long for a request (compliance.jobs.report_jobs) is built by the worker: the answer is 202 with
the job's address (`Location`), where its progress is read and, once built, the file downloaded
(`/api/report-jobs/<id>/download/`).
"""

import datetime
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from compliance.jobs.report_jobs import ReportRequest, in_background, report_job_request, report_order_count
from compliance.models import IssuedReport, ReportJob
from compliance.reports import annual_review, directors, disclosure, evidence, monthly
from compliance.reports.issued import issued_report_record
from compliance.reports.pdf import PDF_CONTENT_TYPE
from compliance.reports.workbook import XLSX_CONTENT_TYPE

# What the reports show: reading them needs the right to read each of these.
REPORT_PERMISSIONS = (
    "compliance.view_annualcap",
    "compliance.view_alert",
    "transactions.view_purchaseorder",
    "transactions.view_quote",
)


class ReadsReports(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(REPORT_PERMISSIONS))


class JsonForErrors(BaseContentNegotiation):
    """The workbook is the body of every success whatever the client accepts; the only rendered bodies
    are errors, and those are always JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


MONTH_HELP = "The month of the report, YYYY-MM. Figures are as at its last day."
HALF_HELP = "The half year, YYYY-H1 (January to June) or YYYY-H2 (July to December)."
YEAR_HELP = "The financial year, e.g. 2026 (1 January to 31 December)."
FORMAT_HELP = "xlsx (the workbook, the default) or pdf (the printable A4 pack)."


# Reports reach a day before and after their period; years outside these are no business period.
FIRST_YEAR, LAST_YEAR = 1000, 9998


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise serializers.ValidationError(f"Enter a year from {FIRST_YEAR} to {LAST_YEAR}.")


class MonthQuery(serializers.Serializer):
    month = serializers.DateField(
        input_formats=["%Y-%m"],
        help_text=MONTH_HELP,
        error_messages={
            "required": "Give the month of the report as YYYY-MM, e.g. ?month=2026-03.",
            "invalid": "Enter the month as YYYY-MM, e.g. 2026-03.",
        },
    )

    def validate_month(self, value: datetime.date) -> datetime.date:
        _check_year(value.year)
        return value


class HalfQuery(serializers.Serializer):
    half = serializers.RegexField(
        r"^\d{4}-H[12]$",
        help_text=HALF_HELP,
        error_messages={
            "required": "Give the half year as YYYY-H1 or YYYY-H2, e.g. ?half=2026-H1.",
            "invalid": "Enter the half year as YYYY-H1 (January to June) or YYYY-H2 (July to December).",
        },
    )

    def validate_half(self, value: str) -> datetime.date:
        year, half = value.split("-H")
        _check_year(int(year))
        return datetime.date(int(year), 1 if half == "1" else 7, 1)


class YearQuery(serializers.Serializer):
    year = serializers.IntegerField(
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        help_text=YEAR_HELP,
        error_messages={
            "required": "Give the financial year, e.g. ?year=2026.",
            "invalid": "Enter the financial year as a number, e.g. 2026.",
        },
    )


class FormatQuery(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=["xlsx", "pdf"],
        default="xlsx",
        required=False,
        help_text=FORMAT_HELP,
        error_messages={"invalid_choice": "Enter the format as xlsx (the workbook) or pdf (the printable pack)."},
    )


def _content_type(filename: str) -> str:
    return PDF_CONTENT_TYPE if filename.endswith(".pdf") else XLSX_CONTENT_TYPE


# The kind of issued report each report job's report is kept as.
ISSUED_KIND = {
    ReportJob.Report.MONTHLY: IssuedReport.Kind.MONTHLY,
    ReportJob.Report.DIRECTORS: IssuedReport.Kind.DIRECTORS,
    ReportJob.Report.ANNUAL_REVIEW: IssuedReport.Kind.ANNUAL_REVIEW,
}


def _keep_issued(file: BinaryIO, filename: str, issued: dict) -> None:
    """Keep the copy sent (kind, period, user in `issued`), so the evidence binder holds what was issued."""
    user = issued["user"]
    issued_report_record(
        filename=filename, content=file, how=IssuedReport.How.DOWNLOAD, issued_to=user.get_username(),
        kind=issued["kind"], period=issued["period"], user=user,
    )  # fmt: skip


def _file(
    write: Callable[[BinaryIO], None], filename: str, *, content_type: str | None = None, issued: dict | None = None
) -> FileResponse:
    """Write the report to a temporary file and send it; `issued` (kind, period, user) keeps the copy sent."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    try:
        write(file)
        if issued:
            _keep_issued(file, filename, issued)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    response = FileResponse(
        file, as_attachment=True, filename=filename, content_type=content_type or _content_type(filename)
    )
    response["Cache-Control"] = "private, no-store"
    return response


class ReportJobSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    download = serializers.SerializerMethodField(help_text="Where to download the file once the job is done.")

    class Meta:
        model = ReportJob
        fields = [
            "id", "report", "period", "format", "status", "progress", "stage", "orders", "requested_by",
            "requested_at", "started_at", "finished_at", "filename", "size", "error", "download",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download(self, job: ReportJob) -> str | None:
        if job.status != ReportJob.Status.DONE:
            return None
        return reverse("reportjob-download", args=[job.pk])


def _download(parameter: OpenApiParameter, summary: str, description: str):
    return extend_schema(
        summary=summary,
        parameters=[
            parameter,
            OpenApiParameter("format", str, required=False, enum=["xlsx", "pdf"], description=FORMAT_HELP),
        ],
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=description),
            (200, PDF_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The same, as a printable PDF."),
            (202, "application/json"): OpenApiResponse(
                ReportJobSerializer,
                description="Too long for a request: the worker builds it. `Location` is the job's address; "
                "its `download` link appears once the job is done.",
            ),
            (400, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The query parameter is missing or malformed (field-keyed errors)."
            ),
            (403, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The user has no role that reads reports."
            ),
        },
    )


class ReportViewSet(viewsets.ViewSet):
    """Report downloads (.xlsx)."""

    permission_classes = [ReadsReports]
    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = JsonForErrors

    def _query(self, serializer_class: type[serializers.Serializer], name: str):
        query = serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data[name]

    def _report(self, report: str, period: str, write: Callable[[BinaryIO, bool], None], filename) -> object:
        """The report in the request, or (too long for one) a job for the worker: 202 with its address."""
        pdf = self._query(FormatQuery, "format") == "pdf"
        wanted = ReportRequest(report=report, period=period, pdf=pdf)
        orders = report_order_count(wanted)
        if not in_background(wanted, orders):
            issued = {"kind": ISSUED_KIND[report], "period": period, "user": self.request.user}
            return _file(lambda out: write(out, pdf), filename(pdf), issued=issued)
        job = report_job_request(request=wanted, user=self.request.user, orders=orders)
        if self.request.query_params.get("ui") == "admin":  # the admin's report box: follow the job there
            return HttpResponseRedirect(reverse("admin:compliance_reportjob_change", args=[job.pk]))
        location = reverse("reportjob-detail", args=[job.pk])
        return Response(ReportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @_download(
        OpenApiParameter("month", str, required=True, pattern=r"^\d{4}-\d{2}$", description=MONTH_HELP),
        "The monthly cap report",
        "Summary (each cap whose period overlaps the month, as at the month end), Orders, Quotes and Alerts sheets.",
    )
    @action(detail=False, methods=["get"])
    def monthly(self, request):
        month = self._query(MonthQuery, "month")
        return self._report(
            ReportJob.Report.MONTHLY,
            f"{month:%Y-%m}",
            lambda out, pdf: monthly.write_monthly_report(month, out, pdf=pdf),
            lambda pdf: monthly.monthly_report_filename(month, pdf=pdf),
        )

    @_download(
        OpenApiParameter("half", str, required=True, pattern=r"^\d{4}-H[12]$", description=HALF_HELP),
        "The semi-annual directors' report",
        "Connected persons, Summary, Alerts, Exceptions, Orders and Quotes of the half year, as at its end.",
    )
    @action(detail=False, methods=["get"])
    def directors(self, request):
        half = self._query(HalfQuery, "half")
        return self._report(
            ReportJob.Report.DIRECTORS,
            f"{half.year}-H{1 if half.month == 1 else 2}",
            lambda out, pdf: directors.write_directors_report(half, out, pdf=pdf),
            lambda pdf: directors.directors_report_filename(half, pdf=pdf),
        )

    @_download(
        OpenApiParameter("year", int, required=True, description=YEAR_HELP),
        "The annual review pack",
        "For the INEDs and the auditors: INED summary, Summary, Auditor matters, Orders, Quotes, Exceptions, Alerts.",
    )
    @action(detail=False, methods=["get"], url_path="annual-review")
    def annual_review(self, request):
        year = self._query(YearQuery, "year")
        return self._report(
            ReportJob.Report.ANNUAL_REVIEW,
            str(year),
            lambda out, pdf: annual_review.write_annual_review(year, out, pdf=pdf),
            lambda pdf: annual_review.annual_review_filename(year, pdf=pdf),
        )

    @extend_schema(
        summary="The annual-report disclosure (Rule 14A.71)",
        parameters=[OpenApiParameter("year", int, required=True, description=YEAR_HELP)],
        responses={
            (200, disclosure.DOCX_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="A Word document, English then Chinese: each agreement's date, parties and connected "
                "relationship, description, terms, the caps against the actual amounts (as in the annual review "
                "pack), and the INEDs' and auditors' confirmations as placeholders for them to complete.",
            ),
            (400, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The year is missing or malformed."
            ),
        },
    )
    @action(detail=False, methods=["get"])
    def disclosure(self, request):
        year = self._query(YearQuery, "year")
        return _file(
            lambda out: disclosure.write_disclosure(year, out),
            disclosure.disclosure_filename(year),
            content_type=disclosure.DOCX_CONTENT_TYPE,
            issued={"kind": IssuedReport.Kind.DISCLOSURE, "period": str(year), "user": request.user},
        )

    @extend_schema(
        summary="The auditors' evidence binder (.zip)",
        parameters=[OpenApiParameter("year", int, required=True, description=YEAR_HELP)],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="index.xlsx, every quote document and quote-rule exception evidence of the year's "
                "orders, the reports issued for the year, and MANIFEST.txt with each file's SHA-256.",
            ),
            (202, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A large year: the binder is built in the background; follow `Location` "
                "(/api/evidence-binders/{id}/) for its progress and download.",
            ),
        },
    )
    @action(detail=False, methods=["get"])
    def evidence(self, request):
        from compliance.api.monitoring import EvidenceBinderSerializer
        from compliance.evidence.binders import evidence_binder_request

        year = self._query(YearQuery, "year")
        if evidence.binder_size(year) > settings.CCT_EVIDENCE_INLINE_MAX_FILES:
            binder = evidence_binder_request(year=year, user=request.user)
            location = reverse("evidencebinder-detail", args=[binder.pk])
            return Response(EvidenceBinderSerializer(binder).data, status=202, headers={"Location": location})
        return _file(
            lambda out: evidence.write_evidence_binder(year, out),
            f"cct-evidence-{year}.zip",
            content_type="application/zip",
        )


class ReportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reports built by the worker: their progress, and the file once built. Each user sees the jobs
    they asked for; compliance and superusers see every job."""

    serializer_class = ReportJobSerializer
    permission_classes = [ReadsReports]
    queryset = ReportJob.objects.none()

    def get_queryset(self):
        jobs = ReportJob.objects.select_related("requested_by").order_by("-requested_at", "-id")
        user = self.request.user
        if user.is_superuser or user.groups.filter(name="compliance").exists():
            return jobs
        return jobs.filter(requested_by=user)

    @extend_schema(
        summary="Download a built report",
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The workbook."),
            (200, PDF_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The printable PDF."),
            (404, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="No such job of yours."),
            (409, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="Not built yet, or failed."),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=JsonForErrors)
    def download(self, request, pk=None):
        job = self.get_object()
        if job.status != ReportJob.Status.DONE:
            return Response(
                {"code": "report_not_ready", "detail": f"The report is not ready: {job.get_status_display()}."},
                status=status.HTTP_409_CONFLICT,
            )
        file = job.file.open("rb")
        issued = {"kind": ISSUED_KIND[job.report], "period": job.period, "user": request.user}
        _keep_issued(file, job.filename, issued)
        response = FileResponse(
            file, as_attachment=True, filename=job.filename, content_type=_content_type(job.filename)
        )
        response["Cache-Control"] = "private, no-store"
        return response
