"""REST resources for the policy: categories (with the term in force and their classification) and caps
(with utilisation and the history of their amounts), approval and cancellation of orders, invoices,
alerts and their recipients, and the aggregated classification of connected persons (API contract,
"Resources"). Financial years, renewals, cap revisions and quote-rule exceptions are in
compliance.api.lifecycle."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from compliance.alerts import recipients
from compliance.api import filters
from compliance.caps import approval, documents, setup
from compliance.lifecycle import revisions
from compliance.models import (
    Alert,
    AlertRecipient,
    AlertThreshold,
    AnnualCap,
    Delivery,
    DistributionList,
    HeadroomWarning,
    LedgerEntry,
    QuoteRuleFinding,
)
from compliance.rules import selectors, terms
from compliance.rules.classification import category_classification, connected_person_classification
from transactions import api as facts
from transactions import filters as fact_filters
from transactions.models import PURCHASE, CreditNote, Invoice, SalesInvoice, SalesOrder, TransactionCategory


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)


REFUSAL = inline_serializer(
    "Refusal", fields={"code": serializers.CharField(), "detail": serializers.CharField()}
)  # The body of every 409.


class TransactionCategorySerializer(facts.Serializer):
    """`term_start` / `term_end` read as the term in force (compliance.rules.terms); written, they set the first
    term, which is refused while a renewal's term is in force (that one is changed as a renewal)."""

    renewal_in_force = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The renewal whose term is in force; null: the first term."
    )

    class Meta:
        model = TransactionCategory
        fields = [
            "id", "agreement", "name", "name_zh", "term_start", "term_end", "term_explanation", "renewal_in_force",
            "currency", "direction", "min_independent_quotes", "quote_validity_days", "quote_documents_required",
            "pricing_basis", "scope",
        ]  # fmt: skip

    def to_representation(self, instance):
        data = super().to_representation(instance)
        start = getattr(instance, "renewal_term_start", None)
        if start is not None:
            data["term_start"] = self.fields["term_start"].to_representation(start)
            data["term_end"] = self.fields["term_end"].to_representation(instance.renewal_term_end)
        data["renewal_in_force"] = getattr(instance, "renewal_in_force_id", None)
        return data

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None or not {"term_start", "term_end"} & set(attrs):
            return attrs
        renewal = self.instance.renewals.filter(term_start__lte=timezone.localdate()).order_by("-term_start").first()
        if renewal is None:
            return attrs
        # A client that sends back the term it read (the renewal's) changes nothing.
        if attrs.get("term_start", renewal.term_start) == renewal.term_start and (
            attrs.get("term_end", renewal.term_end) == renewal.term_end
        ):
            attrs.pop("term_start", None)
            attrs.pop("term_end", None)
            return attrs
        raise serializers.ValidationError(
            {
                "term_end": _(
                    "The term in force is that of renewal %(renewal)s (%(start)s to %(end)s); change it at "
                    "/api/renewals/%(renewal)s/."
                )
                % {"renewal": renewal.pk, "start": renewal.term_start, "end": renewal.term_end}
            }
        )


class AnnualCapSerializer(facts.Serializer):
    currency = serializers.CharField(source="category.currency", read_only=True)
    status = serializers.ChoiceField(choices=AnnualCap.Status.choices, read_only=True)
    exceeded_on = serializers.DateField(read_only=True, allow_null=True)
    committed = _money()
    actual = _money()
    used = _money()
    remaining = _money()
    committed_pct = _money()
    actual_pct = _money()

    class Meta:
        model = AnnualCap
        fields = [
            "id", "category", "period_start", "period_end", "amount", "currency",
            "actual", "committed", "actual_pct", "committed_pct", "used", "remaining", "status", "exceeded_on",
        ]  # fmt: skip


class LedgerEntrySerializer(serializers.ModelSerializer):
    document = serializers.CharField(read_only=True, help_text='e.g. "purchase_order:42", "invoice:7".')

    class Meta:
        model = LedgerEntry
        fields = ["id", "entry_date", "basis", "kind", "amount", "document", "recorded_at"]
        read_only_fields = fields


class LedgerQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Only entries dated on or before this day.")


class CreditNoteSerializer(facts.Serializer):
    class Meta:
        model = CreditNote
        fields = ["id", "invoice", "number", "credit_date", "amount", "currency"]


class InvoiceSerializer(facts.Serializer):
    direction = PURCHASE

    class Meta:
        model = Invoice
        fields = ["id", "purchase_order", "number", "invoice_date", "amount", "currency"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        order = attrs.get("purchase_order")
        if order is not None:
            field = "purchase_order" if self.direction == PURCHASE else "sales_order"
            facts.direction_check(order.category, self.direction, field)
        return attrs


class SalesInvoiceSerializer(InvoiceSerializer):
    """The group's invoice to the connected person under a sales order (contract v2, /api/sales-invoices/)."""

    direction = TransactionCategory.Direction.SALE
    sales_order = serializers.PrimaryKeyRelatedField(source="purchase_order", queryset=SalesOrder.objects.all())

    class Meta:
        model = SalesInvoice
        fields = ["id", "sales_order", "number", "invoice_date", "amount", "currency"]


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["email", "sent_at", "last_error"]
        read_only_fields = fields


class AlertSerializer(facts.Serializer):
    deliveries = DeliverySerializer(
        many=True, read_only=True, help_text="Each recipient: when the mail server accepted it, or why not yet."
    )

    class Meta:
        model = Alert
        fields = [
            "id", "cap", "threshold", "basis", "utilisation_pct", "used_amount", "cap_amount", "triggered_by",
            "reached_on", "created_at", "sent_at", "send_attempts", "last_error", "deliveries",
        ]  # fmt: skip
        read_only_fields = fields


class AlertRecipientSerializer(facts.ModelRulesMixin, facts.Serializer):
    class Meta:
        model = AlertRecipient
        fields = ["id", "threshold", "email", "name"]


class AlertThresholdSerializer(facts.ModelRulesMixin, facts.Serializer):
    class Meta:
        model = AlertThreshold
        fields = ["id", "percent", "description"]


class DistributionListSerializer(facts.Serializer):
    members = serializers.ListField(
        child=serializers.EmailField(), source="member_emails", help_text="The addresses on the list."
    )
    thresholds = serializers.SlugRelatedField(
        many=True, slug_field="percent", queryset=AlertThreshold.objects.all(), required=False,
        help_text="Thresholds (e.g. \"80.00\") whose cap alerts go to this list.",
        error_messages={
            "does_not_exist": _("There is no {value}% alert threshold; add it under alert thresholds first.")
        },
    )  # fmt: skip

    class Meta:
        model = DistributionList
        fields = [
            "id", "name", "description", "members", "thresholds", "monthly_report", "headroom_warnings",
            "quote_rule_report", "term_warnings", "breaches",
        ]  # fmt: skip

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["thresholds"] = [f"{t.percent:.2f}" for t in instance.thresholds.all()]
        return data


class HeadroomWarningSerializer(facts.Serializer):
    projected_used = _money()

    class Meta:
        model = HeadroomWarning
        fields = [
            "id", "cap", "as_of", "cap_amount", "actual", "committed", "projected_actual", "projected_committed",
            "projected_used", "projected_reached_on", "created_at", "sent_at", "send_attempts", "last_error",
        ]  # fmt: skip
        read_only_fields = fields


class QuoteRuleFindingSerializer(facts.Serializer):
    class Meta:
        model = QuoteRuleFinding
        fields = ["id", "purchase_order", "detail", "found_at", "last_seen_at", "cleared_at"]
        read_only_fields = fields


class CancelSerializer(facts.Body):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    effective_on = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="The day the commitment is withdrawn from (today by default; not before the order date, not in the "
        "future). Figures as at an earlier day still show it.",
    )  # fmt: skip


class ClassificationQuerySerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="The day of the classification; today by default.")


class RatiosSerializer(serializers.Serializer):
    assets = serializers.CharField(allow_null=True)
    revenue = serializers.CharField(allow_null=True)
    consideration = serializers.CharField(allow_null=True)
    profits = serializers.CharField(allow_null=True)


class ClassificationSerializer(serializers.Serializer):
    """Percentage ratios as strings with four places (null where not computed or not applicable), the
    tier under Rule 14A.76 and what it obliges (API contract, "Classification")."""

    ratios = RatiosSerializer(source="ratio_texts")
    highest_ratio = serializers.CharField(source="highest_ratio_text", allow_null=True)
    tier = serializers.CharField()
    tier_label = serializers.CharField()
    provisional = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField())
    obligations = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField(), help_text="Why a ratio or exemption is absent.")
    on = serializers.DateField()
    numerator = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    currency = serializers.CharField(help_text="The numerator's currency.")
    basis = serializers.CharField(help_text="What the numerator is, in words.")
    financial_year = serializers.IntegerField(source="financial_year.pk", allow_null=True, help_text="Its id.")
    financial_year_end = serializers.DateField(source="financial_year.year_end", allow_null=True)
    consideration_hkd = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


CLASSIFICATION_SCHEMA = extend_schema(
    parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="The day of the classification; today.")],
    responses=ClassificationSerializer,
)


def _classification_day(request):
    query = ClassificationQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("on") or timezone.localdate()


class AmountChangeSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    changed_at = serializers.DateTimeField()
    changed_by = serializers.CharField()
    reason = serializers.CharField()


# --- Views -----------------------------------------------------------------------------------------


class TransactionCategoryViewSet(facts.NoDeleteMixin, viewsets.ModelViewSet):
    queryset = TransactionCategory.objects.select_related("agreement")
    serializer_class = TransactionCategorySerializer
    filterset_class = fact_filters.TransactionCategoryFilter
    ordering_fields = ["name", "term_start"]

    def get_queryset(self):
        return terms.categories_with_term_in_force(super().get_queryset(), on=timezone.localdate())

    def perform_create(self, serializer):
        serializer.instance = setup.transaction_category_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        category = setup.transaction_category_update(
            category=serializer.instance, user=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=category.pk)

    @CLASSIFICATION_SCHEMA
    @action(detail=True, methods=["get"])
    def classification(self, request, pk=None):
        """The category's own classification: its largest annual cap over the latest financial year."""
        result = category_classification(self.get_object(), on=_classification_day(request))
        return Response(ClassificationSerializer(result).data)


class AnnualCapViewSet(facts.NoDeleteMixin, viewsets.ModelViewSet):
    """Caps with their utilisation (committed, actual, percentages, remaining), one query per page."""

    queryset = selectors.caps_with_utilisation().order_by("category", "period_start")
    serializer_class = AnnualCapSerializer
    filterset_class = filters.AnnualCapFilter
    ordering_fields = ["period_start", "amount"]

    def _with_utilisation(self, cap: AnnualCap) -> AnnualCap:
        return selectors.caps_with_utilisation(AnnualCap.objects.filter(pk=cap.pk)).get()

    def perform_create(self, serializer):
        cap = setup.annual_cap_create(user=self.request.user, **serializer.validated_data)
        serializer.instance = self._with_utilisation(cap)

    def perform_update(self, serializer):
        cap = setup.annual_cap_update(cap=serializer.instance, user=self.request.user, **serializer.validated_data)
        serializer.instance = self._with_utilisation(cap)

    @extend_schema(
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATE, description="Entries dated on or before this day.")],
        responses=LedgerEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        """The cap's ledger entries, oldest first (by business date); their sums per basis are the figures."""
        cap = self.get_object()
        query = LedgerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        entries = selectors.cap_ledger(cap, as_of=query.validated_data.get("as_of"))
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(LedgerEntrySerializer(page, many=True).data)

    @extend_schema(responses=AmountChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="amount-history", pagination_class=None)
    def amount_history(self, request, pk=None):
        """Every value the cap has had, oldest first: who set it, when and why (e.g. a cap revision)."""
        changes = revisions.cap_amount_history(self.get_object())
        return Response(AmountChangeSerializer(changes, many=True).data)


class ConnectedPersonViewSet(facts.ConnectedPersonViewSet):
    """Connected persons, with their aggregated classification."""

    @CLASSIFICATION_SCHEMA
    @action(detail=True, methods=["get"])
    def classification(self, request, pk=None):
        """The aggregated classification: the largest sum of the person's caps whose periods start in one
        financial year of the issuer, over the latest financial year."""
        result = connected_person_classification(self.get_object(), on=_classification_day(request))
        return Response(ClassificationSerializer(result).data)


class PurchaseOrderViewSet(facts.PurchaseOrderViewSet):
    action_permissions = {
        "approve": ["transactions.approve_purchaseorder"],
        "cancel": ["transactions.cancel_purchaseorder"],
    }

    @extend_schema(
        request=None,
        responses={200: facts.PurchaseOrderSerializer, 409: OpenApiResponse(REFUSAL, description="A gate refused.")},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        order = self.get_object()
        order = approval.purchase_order_approve(order_id=order.pk, user=request.user)
        return Response(self.get_serializer_class()(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(
        request=CancelSerializer,
        responses={200: facts.PurchaseOrderSerializer, 409: OpenApiResponse(REFUSAL, description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approval.purchase_order_cancel(
            order_id=order.pk,
            user=request.user,
            reason=body.validated_data["reason"],
            effective_on=body.validated_data["effective_on"],
        )
        return Response(self.get_serializer_class()(self.get_queryset().get(pk=order.pk)).data)


class SalesOrderViewSet(facts.SalesOrderViewSet, PurchaseOrderViewSet):
    """Sales orders with the same approve and cancel as purchases: the gates, with `pricing_rule` for the
    quote rule (compliance.caps.approval), and the same cap ledger."""

    action_permissions = {
        "approve": ["transactions.approve_salesorder"],
        "cancel": ["transactions.cancel_salesorder"],
    }

    @extend_schema(
        request=None,
        responses={200: facts.SalesOrderSerializer, 409: OpenApiResponse(REFUSAL, description="A gate refused.")},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return super().approve(request, pk)

    @extend_schema(
        request=CancelSerializer,
        responses={200: facts.SalesOrderSerializer, 409: OpenApiResponse(REFUSAL, description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return super().cancel(request, pk)


class InvoiceViewSet(facts.NoDeleteMixin, viewsets.ModelViewSet):
    queryset = Invoice.objects.select_related("purchase_order").filter(purchase_order__category__direction=PURCHASE)
    serializer_class = InvoiceSerializer
    filterset_class = fact_filters.InvoiceFilter
    ordering_fields = ["invoice_date", "number", "amount"]

    def perform_create(self, serializer):
        serializer.instance = documents.invoice_record(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = documents.invoice_update(
            invoice=serializer.instance, user=self.request.user, **serializer.validated_data
        )


class SalesInvoiceViewSet(InvoiceViewSet):
    queryset = SalesInvoice.objects.select_related("purchase_order")
    serializer_class = SalesInvoiceSerializer
    filterset_class = fact_filters.SalesInvoiceFilter


class CreditNoteViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Credit notes: recorded once (a wrong one is reversed by the supplier's next document), never changed."""

    queryset = CreditNote.objects.select_related("invoice")
    serializer_class = CreditNoteSerializer
    filterset_fields = ["invoice"]
    ordering_fields = ["credit_date", "number", "amount"]

    def perform_create(self, serializer):
        serializer.instance = documents.credit_note_record(user=self.request.user, **serializer.validated_data)


class ExchangeRateViewSet(facts.ExchangeRateViewSet):
    """Rates are recorded and corrected through compliance: the documents converted at a corrected rate are
    revalued in the cap ledger in the same transaction (the facts app knows nothing of caps)."""

    def perform_create(self, serializer):
        serializer.instance = documents.exchange_rate_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = documents.exchange_rate_update(
            exchange_rate=serializer.instance, user=self.request.user, **serializer.validated_data
        )


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = selectors.alert_list().prefetch_related("deliveries")
    serializer_class = AlertSerializer
    filterset_class = filters.AlertFilter
    ordering_fields = ["created_at", "threshold"]


class AlertRecipientViewSet(facts.RecordedByMixin, viewsets.ModelViewSet):
    queryset = selectors.alert_recipient_list()
    serializer_class = AlertRecipientSerializer
    filterset_class = filters.AlertRecipientFilter


class AlertThresholdViewSet(facts.RecordedByMixin, viewsets.ModelViewSet):
    queryset = AlertThreshold.objects.all()
    serializer_class = AlertThresholdSerializer

    @extend_schema(responses={204: None, 409: OpenApiResponse(REFUSAL, description="Lists receive its alerts.")})
    def destroy(self, request, *args, **kwargs):
        """Refused (409 `threshold_in_use`) while distribution lists receive the threshold's alerts."""
        recipients.alert_threshold_delete(threshold_id=self.get_object().pk, user=request.user)
        return Response(status=204)


class DistributionListViewSet(viewsets.ModelViewSet):
    queryset = DistributionList.objects.prefetch_related("members", "thresholds")
    serializer_class = DistributionListSerializer

    def perform_create(self, serializer):
        serializer.instance = recipients.distribution_list_save(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = recipients.distribution_list_save(
            user=self.request.user, distribution_list=serializer.instance, **serializer.validated_data
        )


class HeadroomWarningViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = HeadroomWarning.objects.all()
    serializer_class = HeadroomWarningSerializer


class QuoteRuleFindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = QuoteRuleFinding.objects.all()
    serializer_class = QuoteRuleFindingSerializer
    filterset_fields = ["purchase_order"]
