"""The reports as downloads (API contract: `GET /api/reports/monthly/?month=YYYY-MM`), plus the
semi-annual directors' report and the annual review pack.

Every role reads the reports; a user with no role reads nothing. A workbook is written to a temporary
file and streamed from it, so a large report does not sit in the web worker's memory.
"""

import datetime
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation

from . import annual_review, directors, monthly
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


def _xlsx(write: Callable[[BinaryIO], None], filename: str) -> FileResponse:
    file = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    try:
        write(file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
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
        return _xlsx(lambda out: monthly.write_monthly_report(month, out), monthly.monthly_report_filename(month))

    @_download(
        OpenApiParameter("half", str, required=True, pattern=r"^\d{4}-H[12]$", description=HALF_HELP),
        "The semi-annual directors' report",
        "Connected persons, Summary, Alerts, Exceptions, Orders and Quotes of the half year, as at its end.",
    )
    @action(detail=False, methods=["get"])
    def directors(self, request):
        half = self._query(HalfQuery, "half")
        return _xlsx(lambda out: directors.write_directors_report(half, out), directors.directors_report_filename(half))

    @_download(
        OpenApiParameter("year", int, required=True, description=YEAR_HELP),
        "The annual review pack",
        "For the INEDs and the auditors: INED summary, Summary, Auditor matters, Orders, Quotes, Exceptions, Alerts.",
    )
    @action(detail=False, methods=["get"], url_path="annual-review")
    def annual_review(self, request):
        year = self._query(YearQuery, "year")
        return _xlsx(
            lambda out: annual_review.write_annual_review(year, out), annual_review.annual_review_filename(year)
        )
