"""REST resource of breaches of caps (contract v2): every role reads them; compliance records their steps
(`POST /api/breaches/{id}/steps/` with `announced_on` or `recomplied_on`). Breaches are opened by the
product itself, in the transaction of the change that took the cap over (compliance.alerts.breaches)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from compliance.alerts import breaches
from compliance.api.caps import REFUSAL, DeliverySerializer
from compliance.models import Breach
from transactions import api as facts


class BreachSerializer(facts.Serializer):
    deliveries = DeliverySerializer(
        many=True, read_only=True, help_text="Each recipient of the breach's e-mail: when it was accepted, or why not."
    )

    class Meta:
        model = Breach
        fields = [
            "id", "cap", "detected_on", "basis", "currency", "cap_amount", "used_amount", "amount_over", "status",
            "announced_on", "announcement_ref", "announced_by", "announced_at", "recomplied_on", "recomplied_by",
            "recomplied_at", "triggered_by", "created_at", "sent_at", "deliveries",
        ]  # fmt: skip
        read_only_fields = fields


class BreachStepsSerializer(facts.Body):
    announced_on = serializers.DateField(required=False, allow_null=True, help_text="The breach was announced.")
    announcement_ref = serializers.CharField(max_length=300, required=False, allow_blank=True)
    recomplied_on = serializers.DateField(
        required=False, allow_null=True, help_text="Re-compliance was completed (after the announcement)."
    )


class BreachViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Breaches of caps, open ones until re-complied with; `status` `open`, `announced` or `recomplied`."""

    queryset = breaches.breach_list()
    serializer_class = BreachSerializer
    filterset_fields = ["cap", "status"]
    ordering_fields = ["detected_on", "created_at"]
    action_permissions = {"steps": ["compliance.change_breach"]}

    @extend_schema(
        request=BreachStepsSerializer,
        responses={200: BreachSerializer, 409: OpenApiResponse(REFUSAL, description="Closed, or step recorded.")},
    )
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Record the announcement of the breach, then its re-compliance (which closes it)."""
        breach = self.get_object()
        body = BreachStepsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        breaches.breach_record_steps(breach_id=breach.pk, user=request.user, **body.validated_data)
        return Response(BreachSerializer(self.get_queryset().get(pk=breach.pk)).data)
