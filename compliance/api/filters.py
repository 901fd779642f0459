"""FilterSets of the policy resources."""

import django_filters
from django.utils import timezone

from compliance.models import Alert, AlertRecipient, AnnualCap, CapRevision, FinancialYear, QuoteRuleException
from compliance.rules.selectors import caps_with_utilisation
from transactions.models import CategoryRenewal


class AnnualCapFilter(django_filters.FilterSet):
    agreement = django_filters.NumberFilter(field_name="category__agreement")
    live = django_filters.BooleanFilter(method="filter_live", label="Period contains today")
    on = django_filters.DateFilter(method="filter_on", label="Period contains this day")
    as_of = django_filters.DateFilter(
        method="filter_as_of", label="Figures as at this day: invoices and orders dated on or before it"
    )

    class Meta:
        model = AnnualCap
        fields = ["category", "agreement", "live", "on", "as_of"]

    def filter_live(self, queryset, name, value):
        today = timezone.localdate()
        live = {"period_start__lte": today, "period_end__gte": today}
        return queryset.filter(**live) if value else queryset.exclude(**live)

    def filter_on(self, queryset, name, value):
        return queryset.filter(period_start__lte=value, period_end__gte=value)

    def filter_as_of(self, queryset, name, value):
        # Annotating again replaces today's figures with those as at the day (what the reports show).
        return caps_with_utilisation(queryset, as_of=value)


class AlertFilter(django_filters.FilterSet):
    sent = django_filters.BooleanFilter(field_name="sent_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Alert
        fields = ["cap", "threshold", "basis", "sent"]


class AlertRecipientFilter(django_filters.FilterSet):
    class Meta:
        model = AlertRecipient
        fields = ["threshold", "email"]


class CapRevisionFilter(django_filters.FilterSet):
    category = django_filters.NumberFilter(field_name="cap__category")

    class Meta:
        model = CapRevision
        fields = ["cap", "category", "status", "breach", "tier"]


class FinancialYearFilter(django_filters.FilterSet):
    class Meta:
        model = FinancialYear
        fields = ["year_end", "currency"]


class CategoryRenewalFilter(django_filters.FilterSet):
    agreement = django_filters.NumberFilter(field_name="category__agreement")

    class Meta:
        model = CategoryRenewal
        fields = ["category", "agreement"]


class QuoteRuleExceptionFilter(django_filters.FilterSet):
    category = django_filters.NumberFilter(field_name="purchase_order__category")

    class Meta:
        model = QuoteRuleException
        fields = ["purchase_order", "category", "status"]
