"""REST resources for the facts (API contract, "Resources").

Plain reference data is declarative CRUD that runs the model's own validation. Purchase orders
and quotes are written through transactions.services; approval, cancellation, invoices, caps and
categories are compliance acts and live in compliance.api.caps.
"""

from copy import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser

from . import filters, selectors, services
from .api_errors import validation_detail
from .models import (
    PURCHASE,
    SALE,
    ConnectedPerson,
    Counterparty,
    ExchangeRate,
    FrameworkAgreement,
    PriceReference,
    PurchaseOrder,
    Quote,
    SalesOrder,
)
from .parsers import JSONObjectParser


class RefuseUnsettableFieldsMixin:
    """Mass assignment (ASVS 15.3.3): a write that names a field the caller may not set - status,
    approver, audit fields, or anything unknown - is refused with a 400 naming it, never silently dropped."""

    ignorable = frozenset({"id", "csrfmiddlewaretoken"})

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = sorted(set(data.keys()) - writable - self.ignorable)
            if refused:
                raise serializers.ValidationError({name: ["This field cannot be set."] for name in refused})
        return super().to_internal_value(data)


class Serializer(RefuseUnsettableFieldsMixin, serializers.ModelSerializer):
    """The base of every resource's serializer."""


class Body(RefuseUnsettableFieldsMixin, serializers.Serializer):
    """The base of every action's body (cancel, steps, withdraw, reject) and of nested input."""


class ModelRulesMixin:
    """Runs the model's validation (field validators, check and unique constraints) on the input, so a
    plain resource refuses with a field-keyed 400 what the database would refuse."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(validation_detail(error)) from error
        return attrs


class RecordedByMixin:
    """Saves through the model with the acting user on the history row."""

    def perform_create(self, serializer):
        instance = serializer.Meta.model(**serializer.validated_data)
        instance._history_user = self.request.user
        instance.save()
        serializer.instance = instance

    def perform_update(self, serializer):
        instance = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        instance._history_user = self.request.user
        instance.save()


class NoDeleteMixin:
    """Financial and reference records are corrected or cancelled, never deleted."""

    def destroy(self, request, *args, **kwargs):
        raise PermissionDenied(f"{self.queryset.model._meta.verbose_name_plural.capitalize()} cannot be deleted.")


class CrudViewSet(NoDeleteMixin, RecordedByMixin, viewsets.ModelViewSet):
    pass


# --- Serializers ---------------------------------------------------------------------------------


class ConnectedPersonSerializer(ModelRulesMixin, Serializer):
    class Meta:
        model = ConnectedPerson
        fields = ["id", "name", "name_zh", "basis", "connected_from", "connected_until"]


class CounterpartySerializer(ModelRulesMixin, Serializer):
    class Meta:
        model = Counterparty
        fields = [
            "id", "name", "name_zh", "erp_code", "connected_person", "independence_basis", "independence_checked_on",
            "independence_reference",
        ]  # fmt: skip


class FrameworkAgreementSerializer(ModelRulesMixin, Serializer):
    class Meta:
        model = FrameworkAgreement
        fields = [
            "id", "title", "title_zh", "connected_person", "signed_on", "board_approved_on", "board_minutes_ref",
            "abstaining_directors", "announced_on", "announcement_ref",
        ]  # fmt: skip


class ExchangeRateSerializer(ModelRulesMixin, Serializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "target_currency", "rate_date", "rate", "source"]


def direction_message(direction: str) -> str:
    """The sentence refusing a category of the other direction where documents of `direction` are entered
    (with %(category)s for its name)."""
    if direction == SALE:
        return _(
            "“%(category)s” is a category of purchases from the connected person; enter its orders under "
            "purchase orders."
        )
    return _("“%(category)s” is a category of sales to the connected person; enter its orders under sales orders.")


def direction_mismatch(category, direction: str) -> str | None:
    """Why `category` does not fit where documents of `direction` are entered, or None when it fits (the
    API's resources and the imports say the same)."""
    if category is None or category.direction == direction:
        return None
    return direction_message(direction) % {"category": category.name}


def direction_check(category, direction: str, field: str = "category") -> None:
    """Purchases and sales are kept apart: a purchase resource refuses a sales category and vice versa."""
    message = direction_mismatch(category, direction)
    if message is not None:
        raise serializers.ValidationError({field: message})


class PurchaseOrderSerializer(Serializer):
    direction = PURCHASE  # the category direction this resource takes
    created_by_name = serializers.CharField(source="created_by.username", read_only=True)
    approved_by_name = serializers.CharField(
        source="approved_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "id", "number", "category", "counterparty", "description", "order_date", "amount", "currency",
            "recognition", "service_start", "service_end", "status", "created_by", "created_by_name",
            "created_at", "approved_by", "approved_by_name", "approved_at", "cancelled_at", "cancellation_reason",
            "cancellation_effective_on", "invoiced_before_approval",
        ]  # fmt: skip
        read_only_fields = [
            "status", "created_by", "created_at", "approved_by", "approved_at", "cancelled_at", "cancellation_reason",
            "cancellation_effective_on", "invoiced_before_approval",
        ]  # fmt: skip

    def validate(self, attrs):
        attrs = super().validate(attrs)
        direction_check(attrs.get("category"), self.direction)
        return attrs


class SalesOrderSerializer(PurchaseOrderSerializer):
    """A sale to the connected person: `counterparty` is the connected customer; its category is a sales one."""

    direction = SALE

    class Meta(PurchaseOrderSerializer.Meta):
        model = SalesOrder


class QuoteSerializer(Serializer):
    direction = PURCHASE
    document = serializers.FileField(write_only=True, required=False, allow_null=True)
    document_url = serializers.SerializerMethodField()

    class Meta:
        model = Quote
        fields = [
            "id", "purchase_order", "supplier", "quoted_on", "amount", "currency", "reference",
            "document", "document_name", "document_url",
        ]  # fmt: skip
        read_only_fields = ["document_name"]

    def get_document_url(self, quote: Quote) -> str | None:
        if not quote.document:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(quote.document.url) if request else quote.document.url

    def validate(self, attrs):
        attrs = super().validate(attrs)
        order = attrs.get("purchase_order")
        if order is not None:
            field = "sales_order" if self.direction == SALE else "purchase_order"
            direction_check(order.category, self.direction, field)
        return attrs


class PriceReferenceSerializer(QuoteSerializer):
    """What the group charged or offered an independent customer (contract v2, /api/price-references/)."""

    direction = SALE
    sales_order = serializers.PrimaryKeyRelatedField(source="purchase_order", queryset=SalesOrder.objects.all())
    customer = serializers.PrimaryKeyRelatedField(
        source="supplier", queryset=Counterparty.objects.all(), help_text="The independent customer."
    )
    dated = serializers.DateField(source="quoted_on")

    class Meta:
        model = PriceReference
        fields = [
            "id", "sales_order", "customer", "dated", "amount", "currency", "reference", "document",
            "document_name", "document_url",
        ]  # fmt: skip
        read_only_fields = ["document_name"]


# --- Views ---------------------------------------------------------------------------------------


class ConnectedPersonViewSet(CrudViewSet):
    queryset = ConnectedPerson.objects.all()
    serializer_class = ConnectedPersonSerializer
    filterset_class = filters.ConnectedPersonFilter
    ordering_fields = ["name", "connected_from"]


class CounterpartyViewSet(CrudViewSet):
    queryset = Counterparty.objects.all()
    serializer_class = CounterpartySerializer
    filterset_class = filters.CounterpartyFilter
    ordering_fields = ["name"]


class FrameworkAgreementViewSet(CrudViewSet):
    queryset = FrameworkAgreement.objects.all()
    serializer_class = FrameworkAgreementSerializer
    filterset_class = filters.FrameworkAgreementFilter
    ordering_fields = ["signed_on", "title"]


class ExchangeRateViewSet(RecordedByMixin, viewsets.ModelViewSet):
    queryset = ExchangeRate.objects.all()
    serializer_class = ExchangeRateSerializer
    filterset_class = filters.ExchangeRateFilter
    ordering_fields = ["rate_date", "currency"]

    def perform_destroy(self, instance):
        services.exchange_rate_delete(rate=instance, user=self.request.user)


class PurchaseOrderViewSet(NoDeleteMixin, viewsets.ModelViewSet):
    """Orders are entered and edited as drafts; compliance.api.caps adds approve and cancel."""

    queryset = selectors.purchase_order_list().filter(category__direction=PURCHASE)
    serializer_class = PurchaseOrderSerializer
    filterset_class = filters.PurchaseOrderFilter
    ordering_fields = ["order_date", "number", "amount", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.purchase_order_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.purchase_order_update(
            order=serializer.instance, user=self.request.user, **serializer.validated_data
        )


class QuoteViewSet(viewsets.ModelViewSet):
    queryset = selectors.quote_list().filter(purchase_order__category__direction=PURCHASE)
    serializer_class = QuoteSerializer
    filterset_class = filters.QuoteFilter
    parser_classes = [JSONObjectParser, MultiPartParser, FormParser]
    ordering_fields = ["quoted_on", "amount"]

    def perform_create(self, serializer):
        serializer.instance = services.quote_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.quote_update(
            quote=serializer.instance, user=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.quote_delete(quote=instance, user=self.request.user)


class SalesOrderViewSet(PurchaseOrderViewSet):
    """Sales to the connected person, entered and edited as drafts; compliance.api.caps adds approve and cancel."""

    queryset = selectors.purchase_order_list(SalesOrder)
    serializer_class = SalesOrderSerializer


class PriceReferenceViewSet(QuoteViewSet):
    queryset = selectors.quote_list(PriceReference)
    serializer_class = PriceReferenceSerializer
    filterset_class = filters.PriceReferenceFilter
