"""One FilterSet per resource, used by the API (and by the admin where it lists the same things)."""

import django_filters

from .models import (
    ConnectedPerson,
    Counterparty,
    ExchangeRate,
    FrameworkAgreement,
    Invoice,
    PriceReference,
    PurchaseOrder,
    Quote,
    SalesInvoice,
    TransactionCategory,
)


class ConnectedPersonFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = ConnectedPerson
        fields = ["name"]


class CounterpartyFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    independent = django_filters.BooleanFilter(field_name="connected_person", lookup_expr="isnull")

    class Meta:
        model = Counterparty
        fields = ["name", "connected_person", "independent"]


class FrameworkAgreementFilter(django_filters.FilterSet):
    class Meta:
        model = FrameworkAgreement
        fields = ["connected_person"]


class TransactionCategoryFilter(django_filters.FilterSet):
    class Meta:
        model = TransactionCategory
        fields = ["agreement", "agreement__connected_person", "currency", "direction"]


class ExchangeRateFilter(django_filters.FilterSet):
    rate_date_from = django_filters.DateFilter(field_name="rate_date", lookup_expr="gte")
    rate_date_to = django_filters.DateFilter(field_name="rate_date", lookup_expr="lte")

    class Meta:
        model = ExchangeRate
        fields = ["currency", "target_currency", "rate_date"]


class PurchaseOrderFilter(django_filters.FilterSet):
    order_date_from = django_filters.DateFilter(field_name="order_date", lookup_expr="gte")
    order_date_to = django_filters.DateFilter(field_name="order_date", lookup_expr="lte")
    agreement = django_filters.NumberFilter(field_name="category__agreement")

    class Meta:
        model = PurchaseOrder
        fields = ["number", "status", "category", "counterparty", "agreement", "currency", "recognition"]


class QuoteFilter(django_filters.FilterSet):
    class Meta:
        model = Quote
        fields = ["purchase_order", "supplier"]


class InvoiceFilter(django_filters.FilterSet):
    invoice_date_from = django_filters.DateFilter(field_name="invoice_date", lookup_expr="gte")
    invoice_date_to = django_filters.DateFilter(field_name="invoice_date", lookup_expr="lte")

    class Meta:
        model = Invoice
        fields = ["purchase_order", "number", "purchase_order__category"]


class PriceReferenceFilter(django_filters.FilterSet):
    sales_order = django_filters.NumberFilter(field_name="purchase_order")
    customer = django_filters.NumberFilter(field_name="supplier")

    class Meta:
        model = PriceReference
        fields = ["sales_order", "customer"]


class SalesInvoiceFilter(django_filters.FilterSet):
    sales_order = django_filters.NumberFilter(field_name="purchase_order")
    invoice_date_from = django_filters.DateFilter(field_name="invoice_date", lookup_expr="gte")
    invoice_date_to = django_filters.DateFilter(field_name="invoice_date", lookup_expr="lte")

    class Meta:
        model = SalesInvoice
        fields = ["sales_order", "number"]
