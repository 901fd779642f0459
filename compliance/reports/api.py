"""The reports as downloads (API contract: `GET /api/reports/monthly/?month=YYYY-MM`), plus the
semi-annual directors' report and the annual review pack.

Every role reads the reports; a user with no role reads nothing. A workbook is written to a temporary
file and streamed from it, so a large report does not sit in the web worker's memory.
"""

import datetime
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from compliance.models import IssuedReport

from . import annual_review, directors, disclosure, evidence, monthly
from .issued import issued_report_record
from .workbook import XLSX_CONTENT_TYPE

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


def _xlsx(
    write: Callable[[BinaryIO], None],
    filename: str,
    *,
    content_type: str = XLSX_CONTENT_TYPE,
    issued: dict | None = None,
) -> FileResponse:
    """Write the report to a temporary file and send it; `issued` (kind, period, user) keeps the copy sent."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    try:
        write(file)
        if issued:
            user = issued["user"]
            issued_report_record(
                filename=filename, content=file, how=IssuedReport.How.DOWNLOAD, issued_to=user.get_username(),
                kind=issued["kind"], period=issued["period"], user=user,
            )  # fmt: skip
    except BaseException:
        file.close()
        raise
    file.seek(0)
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def _download(parameter: OpenApiParameter, summary: str, description: str):
    return extend_schema(
        summary=summary,
        parameters=[parameter],
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=description),
            (400, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The query parameter is missing or malformed (field-keyed errors)."
            ),
            (403, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The user has no role that reads reports."
            ),
        },
    )


def _half_label(half: datetime.date) -> str:
    return f"{half.year}-H{1 if half.month == 1 else 2}"


class ReportViewSet(viewsets.ViewSet):
    """Report downloads (.xlsx)."""

    permission_classes = [ReadsReports]
    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = JsonForErrors

    def _query(self, serializer_class: type[serializers.Serializer], name: str):
        query = serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data[name]

    @_download(
        OpenApiParameter("month", str, required=True, pattern=r"^\d{4}-\d{2}$", description=MONTH_HELP),
        "The monthly cap report",
        "Summary (each cap whose period overlaps the month, as at the month end), Orders, Quotes and Alerts sheets.",
    )
    @action(detail=False, methods=["get"])
    def monthly(self, request):
        month = self._query(MonthQuery, "month")
        return _xlsx(
            lambda out: monthly.write_monthly_report(month, out),
            monthly.monthly_report_filename(month),
            issued={"kind": IssuedReport.Kind.MONTHLY, "period": f"{month:%Y-%m}", "user": request.user},
        )

    @_download(
        OpenApiParameter("half", str, required=True, pattern=r"^\d{4}-H[12]$", description=HALF_HELP),
        "The semi-annual directors' report",
        "Connected persons, Summary, Alerts, Exceptions, Orders and Quotes of the half year, as at its end.",
    )
    @action(detail=False, methods=["get"])
    def directors(self, request):
        half = self._query(HalfQuery, "half")
        return _xlsx(
            lambda out: directors.write_directors_report(half, out),
            directors.directors_report_filename(half),
            issued={"kind": IssuedReport.Kind.DIRECTORS, "period": _half_label(half), "user": request.user},
        )

    @_download(
        OpenApiParameter("year", int, required=True, description=YEAR_HELP),
        "The annual review pack",
        "For the INEDs and the auditors: INED summary, Summary, Auditor matters, Orders, Quotes, Exceptions, Alerts.",
    )
    @action(detail=False, methods=["get"], url_path="annual-review")
    def annual_review(self, request):
        year = self._query(YearQuery, "year")
        return _xlsx(
            lambda out: annual_review.write_annual_review(year, out),
            annual_review.annual_review_filename(year),
            issued={"kind": IssuedReport.Kind.ANNUAL_REVIEW, "period": str(year), "user": request.user},
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
        return _xlsx(
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
        from compliance.binders import evidence_binder_request
        from compliance.monitoring_api import EvidenceBinderSerializer

        year = self._query(YearQuery, "year")
        if evidence.binder_size(year) > settings.CCT_EVIDENCE_INLINE_MAX_FILES:
            binder = evidence_binder_request(year=year, user=request.user)
            location = reverse("evidencebinder-detail", args=[binder.pk])
            return Response(EvidenceBinderSerializer(binder).data, status=202, headers={"Location": location})
        return _xlsx(
            lambda out: evidence.write_evidence_binder(year, out),
            f"cct-evidence-{year}.zip",
            content_type="application/zip",
        )
