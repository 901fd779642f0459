"""REST resources of the monitoring evidence and the auditors' binders (contract v2, "Board and auditor
deliverables"):

- `/api/monthly-signoffs/`: `id`, `month` (YYYY-MM), `signed_by` and `signed_at` (read-only), `note`; one
  per month; finance or compliance sign (the add permission of their role);
- `/api/evidence-binders/{id}/`: a binder being built in the background (`status`, `progress` 0-100) and,
  once done, `download` (`/api/evidence-binders/{id}/download/`).
"""

import datetime
import re

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from compliance.evidence import monitoring
from compliance.models import EvidenceBinder, MonthlySignoff
from transactions import api as facts

FIRST_SIGNOFF_YEAR = 2000  # no month before it is signed off in this product


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-03"})
class MonthField(serializers.Field):
    default_error_messages = {"invalid": _("Enter the month as YYYY-MM, e.g. 2026-03.")}

    def to_internal_value(self, data) -> datetime.date:
        # Four digits, a dash, two digits, in the product's era: strptime alone takes "2026-3" and "0641-06".
        if not isinstance(data, str) or not re.fullmatch(r"\d{4}-\d{2}", data):
            self.fail("invalid")
        try:
            month = datetime.datetime.strptime(data, "%Y-%m").date()
        except ValueError:
            self.fail("invalid")
        if month.year < FIRST_SIGNOFF_YEAR:
            self.fail("invalid")
        return month

    def to_representation(self, value: datetime.date) -> str:
        return f"{value.year:04d}-{value.month:02d}"


class MonthlySignoffSerializer(facts.Serializer):
    month = MonthField(help_text="The month reviewed, YYYY-MM.")

    class Meta:
        model = MonthlySignoff
        fields = ["id", "month", "signed_by", "signed_at", "note"]
        read_only_fields = ["signed_by", "signed_at"]


class MonthlySignoffViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The designated finance staff's confirmation that they reviewed a month's figures: one per month."""

    queryset = MonthlySignoff.objects.select_related("signed_by")
    serializer_class = MonthlySignoffSerializer
    ordering_fields = ["month"]

    def perform_create(self, serializer):
        serializer.instance = monitoring.monthly_signoff_create(user=self.request.user, **serializer.validated_data)


class EvidenceBinderSerializer(facts.Serializer):
    download = serializers.SerializerMethodField(help_text="Where to fetch the .zip once `status` is `done`.")

    class Meta:
        model = EvidenceBinder
        fields = ["id", "year", "status", "progress", "sha256", "error", "requested_at", "finished_at", "download"]
        read_only_fields = fields

    def get_download(self, binder: EvidenceBinder) -> str | None:
        if binder.status != EvidenceBinder.Status.DONE:
            return None
        return reverse("evidencebinder-download", args=[binder.pk])


class EvidenceBinderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The auditors' evidence binders built in the background (`GET /api/reports/evidence/?year=` starts one)."""

    queryset = EvidenceBinder.objects.all()
    serializer_class = EvidenceBinderSerializer
    filterset_fields = ["year", "status"]

    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        binder = self.get_object()
        if binder.status != EvidenceBinder.Status.DONE:
            return Response(
                {
                    "code": "not_ready",
                    "detail": _("The binder is %(status)s (%(progress)s%%).")
                    % {"status": binder.get_status_display(), "progress": binder.progress},
                },
                status=status.HTTP_409_CONFLICT,
            )
        response = FileResponse(binder.file.open("rb"), as_attachment=True, filename=binder.filename)
        response["Cache-Control"] = "private, no-store"
        return response
