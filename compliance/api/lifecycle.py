"""REST resources for classification and the cap lifecycle: the issuer's financial years, renewals
(later terms with their caps) and material changes of terms with their re-compliance steps, cap
revisions and their steps, and quote-rule exceptions.

Plain reads are declarative; every write calls one service (compliance.rules.classification, .renewals,
.revisions, .quote_exceptions), so the API refuses exactly what the admin refuses.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from compliance.api import filters
from compliance.api.caps import REFUSAL
from compliance.lifecycle import renewals, revisions
from compliance.models import CapRevision, FinancialYear, QuoteRuleException, TermsChange
from compliance.rules import classification, quote_exceptions, recompliance
from transactions import api as facts
from transactions.models import CategoryRenewal
from transactions.money import MONEY
from transactions.parsers import JSONObjectParser

_MONEY = {"max_digits": MONEY["max_digits"], "decimal_places": MONEY["decimal_places"]}


# --- Financial years ----------------------------------------------------------------------------


class FinancialYearSerializer(facts.Serializer):
    class Meta:
        model = FinancialYear
        fields = [
            "id", "year_end", "currency", "revenue", "total_assets", "profit_before_tax", "market_cap",
            "market_cap_currency", "share_price", "share_price_currency", "share_price_date", "shares_in_issue",
            "shares_in_issue_on", "source",
        ]  # fmt: skip

    def validate(self, attrs):
        attrs = super().validate(attrs)
        given = attrs.get("market_cap")
        if given is not None and attrs.get("share_price") is not None and attrs.get("shares_in_issue") is not None:
            computed = classification.to_cents(attrs["share_price"] * attrs["shares_in_issue"])
            if computed != given:
                raise serializers.ValidationError(
                    {
                        "market_cap": _("The price times the shares in issue is %(computed)s; leave market_cap out.")
                        % {"computed": computed}
                    }
                )
        return attrs


class FinancialYearViewSet(facts.NoDeleteMixin, viewsets.ModelViewSet):
    """The issuer's figures per financial year: the denominators of the percentage ratios."""

    queryset = FinancialYear.objects.all()
    serializer_class = FinancialYearSerializer
    filterset_class = filters.FinancialYearFilter
    ordering_fields = ["year_end"]

    def perform_create(self, serializer):
        serializer.instance = classification.financial_year_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = classification.financial_year_update(
            year=serializer.instance, user=self.request.user, **serializer.validated_data
        )


# --- Renewals -----------------------------------------------------------------------------------


class RenewalCapSerializer(facts.Body):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    amount = serializers.DecimalField(**_MONEY)


STEP_FIELDS = [*recompliance.STEPS, *recompliance.REFERENCES]


class RecomplianceStepsMixin(serializers.Serializer):
    """`required_steps` and `steps_outstanding` of a revision, renewal or change of terms."""

    required_steps = serializers.SerializerMethodField()
    steps_outstanding = serializers.SerializerMethodField()

    def get_required_steps(self, record) -> list[str]:
        return recompliance.required_steps(record.tier)

    def get_steps_outstanding(self, record) -> list[str]:
        return recompliance.steps_outstanding(record) if record.is_pending else []


class CategoryRenewalSerializer(RecomplianceStepsMixin, facts.Serializer):
    caps = RenewalCapSerializer(
        many=True, write_only=True, required=False, help_text="The caps of the new term's periods (on creation)."
    )

    class Meta:
        model = CategoryRenewal
        fields = [
            "id", "category", "term_start", "term_end", "term_explanation", "reference", "caps", "status", "tier",
            "provisional", "missing", "required_steps", "steps_outstanding", *STEP_FIELDS, "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_by", "created_at", "status", "tier", "provisional", "missing"]
        validators = []  # terms that collide are refused by the service, in words


class StepsSerializer(facts.Body):
    board_approved_on = serializers.DateField(required=False, allow_null=True)
    announced_on = serializers.DateField(required=False, allow_null=True)
    circular_issued_on = serializers.DateField(required=False, allow_null=True)
    adviser_letter_on = serializers.DateField(required=False, allow_null=True)
    shareholders_approved_on = serializers.DateField(required=False, allow_null=True)
    board_minutes_ref = serializers.CharField(max_length=300, required=False, allow_blank=True)
    abstaining_directors = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    announcement_ref = serializers.CharField(max_length=300, required=False, allow_blank=True)


class CategoryRenewalViewSet(facts.NoDeleteMixin, viewsets.ModelViewSet):
    """Later terms of categories. The first term is the category's own; every term is kept."""

    queryset = CategoryRenewal.objects.select_related("category", "created_by")
    serializer_class = CategoryRenewalSerializer
    filterset_class = filters.CategoryRenewalFilter
    ordering_fields = ["term_start"]
    action_permissions = {"steps": ["transactions.change_categoryrenewal"]}

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        caps = data.pop("caps", [])
        serializer.instance = renewals.category_renewal_record(user=self.request.user, caps=caps, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("caps", None):
            raise serializers.ValidationError({"caps": _("Caps of a recorded renewal are entered at /api/caps/.")})
        serializer.instance = renewals.category_renewal_update(
            renewal=serializer.instance, user=self.request.user, **data
        )

    @extend_schema(request=StepsSerializer, responses={200: CategoryRenewalSerializer})
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Record the dates of re-compliance steps taken; the renewal is `effective` once every required one is."""
        renewal = self.get_object()
        body = StepsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        renewals.category_renewal_record_steps(renewal_id=renewal.pk, user=request.user, **body.validated_data)
        return Response(CategoryRenewalSerializer(self.get_queryset().get(pk=renewal.pk)).data)


# --- Material changes of terms ----------------------------------------------------------------------


class TermsChangeSerializer(RecomplianceStepsMixin, facts.Serializer):
    class Meta:
        model = TermsChange
        fields = [
            "id", "category", "effective_from", "pricing_basis", "scope", "reason", "status", "tier", "provisional",
            "missing", "required_steps", "steps_outstanding", *STEP_FIELDS, "proposed_by", "proposed_at",
        ]  # fmt: skip
        read_only_fields = ["status", "tier", "provisional", "missing", "proposed_by", "proposed_at"]


class TermsChangeViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Material changes of a category's terms (pricing basis or scope): recorded (POST), then their
    re-compliance steps (…/steps/); orders touching the days from `effective_from` wait until then."""

    queryset = TermsChange.objects.select_related("category", "proposed_by")
    serializer_class = TermsChangeSerializer
    filterset_fields = ["category", "status"]
    ordering_fields = ["effective_from", "proposed_at"]
    action_permissions = {"steps": ["compliance.change_termschange"]}

    def perform_create(self, serializer):
        change = renewals.terms_change_propose(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=change.pk)

    @extend_schema(
        request=StepsSerializer,
        responses={200: TermsChangeSerializer, 409: OpenApiResponse(REFUSAL, description="Already effective.")},
    )
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Record the dates of steps taken; the new terms govern once every required step is recorded."""
        change = self.get_object()
        body = StepsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        renewals.terms_change_record_steps(change_id=change.pk, user=request.user, **body.validated_data)
        return Response(TermsChangeSerializer(self.get_queryset().get(pk=change.pk)).data)


# --- Cap revisions ------------------------------------------------------------------------------


class CapRevisionSerializer(RecomplianceStepsMixin, facts.Serializer):
    category = serializers.IntegerField(source="cap.category_id", read_only=True)
    currency = serializers.CharField(source="cap.category.currency", read_only=True)
    period_start = serializers.DateField(source="cap.period_start", read_only=True)
    period_end = serializers.DateField(source="cap.period_end", read_only=True)

    class Meta:
        model = CapRevision
        fields = [
            "id", "cap", "category", "period_start", "period_end", "currency", "previous_amount", "new_amount",
            "reason", "status", "tier", "provisional", "missing", "required_steps", "steps_outstanding",
            *STEP_FIELDS, "breach", "used_when_proposed", "proposed_by", "proposed_at", "completed_by",
            "completed_at", "withdrawn_by", "withdrawn_at", "withdrawal_reason",
        ]  # fmt: skip
        # The services refuse a second pending revision of a cap in words; no generic uniqueness message.
        validators = []
        read_only_fields = [
            "previous_amount", "status", "tier", "provisional", "missing", *STEP_FIELDS, "breach",
            "used_when_proposed", "proposed_by", "proposed_at", "completed_by", "completed_at", "withdrawn_by",
            "withdrawn_at", "withdrawal_reason",
        ]  # fmt: skip


CapRevisionStepsSerializer = StepsSerializer


class WithdrawSerializer(facts.Body):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CapRevisionViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Revisions of caps: proposed (POST), their steps recorded (…/steps/), or withdrawn (…/withdraw/).
    A revision takes effect when its last required step is recorded; `breach` flags one proposed or
    completed after the cap was already exceeded."""

    queryset = revisions.cap_revision_list()
    serializer_class = CapRevisionSerializer
    filterset_class = filters.CapRevisionFilter
    ordering_fields = ["proposed_at", "completed_at"]
    action_permissions = {
        "steps": ["compliance.change_caprevision"],
        "withdraw": ["compliance.change_caprevision"],
    }

    def perform_create(self, serializer):
        revision = revisions.cap_revision_propose(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=revision.pk)

    @extend_schema(
        request=CapRevisionStepsSerializer,
        responses={200: CapRevisionSerializer, 409: OpenApiResponse(REFUSAL, description="Not pending.")},
    )
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Record the dates of steps taken; the revision takes effect once every required step is recorded."""
        revision = self.get_object()
        body = CapRevisionStepsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revisions.cap_revision_record_steps(revision_id=revision.pk, user=request.user, **body.validated_data)
        return Response(CapRevisionSerializer(self.get_queryset().get(pk=revision.pk)).data)

    @extend_schema(
        request=WithdrawSerializer,
        responses={200: CapRevisionSerializer, 409: OpenApiResponse(REFUSAL, description="Not pending.")},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        revision = self.get_object()
        body = WithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        revisions.cap_revision_withdraw(revision_id=revision.pk, user=request.user, reason=reason)
        return Response(CapRevisionSerializer(self.get_queryset().get(pk=revision.pk)).data)


# --- Quote-rule exceptions ----------------------------------------------------------------------


class QuoteRuleExceptionSerializer(facts.Serializer):
    evidence = serializers.FileField(write_only=True)
    evidence_url = serializers.SerializerMethodField()
    order_number = serializers.CharField(source="purchase_order.number", read_only=True)

    class Meta:
        model = QuoteRuleException
        fields = [
            "id", "purchase_order", "order_number", "reason", "evidence", "evidence_name", "evidence_url",
            "order_amount", "order_currency", "order_counterparty", "status", "requested_by", "requested_at",
            "decided_by", "decided_at", "rejection_reason",
        ]  # fmt: skip
        validators = []  # one open exception per order: the service says so in words
        read_only_fields = [
            "evidence_name", "order_amount", "order_currency", "order_counterparty", "status", "requested_by",
            "requested_at", "decided_by", "decided_at", "rejection_reason",
        ]  # fmt: skip

    def get_evidence_url(self, exception: QuoteRuleException) -> str | None:
        if not exception.evidence:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(exception.evidence.url) if request else exception.evidence.url


class RejectSerializer(facts.Body):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class QuoteRuleExceptionViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Quote-rule exceptions: recorded (multipart, with the evidence) and decided by a second person who
    neither requested the exception nor entered the order (409 `exception_self_approval` /
    `exception_creator_approval` otherwise)."""

    queryset = quote_exceptions.quote_rule_exception_list()
    serializer_class = QuoteRuleExceptionSerializer
    filterset_class = filters.QuoteRuleExceptionFilter
    ordering_fields = ["requested_at"]
    parser_classes = [MultiPartParser, FormParser, JSONObjectParser]
    action_permissions = {
        "approve": ["compliance.approve_quoteruleexception"],
        "reject": ["compliance.approve_quoteruleexception"],
    }

    def perform_create(self, serializer):
        exception = quote_exceptions.quote_rule_exception_request(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=exception.pk)

    @extend_schema(
        request=None,
        responses={200: QuoteRuleExceptionSerializer, 409: OpenApiResponse(REFUSAL, description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        exception = self.get_object()
        quote_exceptions.quote_rule_exception_approve(exception_id=exception.pk, user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=exception.pk)).data)

    @extend_schema(
        request=RejectSerializer,
        responses={200: QuoteRuleExceptionSerializer, 409: OpenApiResponse(REFUSAL, description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        exception = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        quote_exceptions.quote_rule_exception_reject(
            exception_id=exception.pk, user=request.user, reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=exception.pk)).data)
