"""Reads of the policy: allocation of amounts to cap periods, utilisation, the quote rule.

The rules are those of the API contract ("The rules behind the numbers"):
- amounts are converted into the category's currency at the rate of their own date;
- an order counts wholly in the period of its order date, or is spread evenly per day over its
  service period, each period taking round(C x days up to its end / N) - round(C x days before it / N),
  so that the parts add up to the order to the cent (transactions.money.day_share);
- committed and actual are the sums of the cap ledger's entries (compliance.caps.ledger): today's are the
  running totals, as at a day those of the entries dated on or before it;
- remaining: the cap less the larger of the two.

Aggregates over many orders are computed by the database (one query for any number of caps and
orders); the same arithmetic for a single order is done in Python with the same rounding.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, DateField, DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Greatest, Least
from django.db.models.query import ModelIterable
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from compliance.models import Alert, AlertRecipient, AlertThreshold, AnnualCap, CapRevision, LedgerEntry
from transactions.models import PurchaseOrder, Quote, TransactionCategory
from transactions.money import ZERO, CentsField, DaysBetween, MulDivRound, day_share, mul_div_round
from transactions.selectors import RateBook, converted_amount_expression

_money = CentsField()
APPROVED = PurchaseOrder.Status.APPROVED


# --- Allocation of orders to cap periods ---------------------------------------------------------


def _recognition_bounds() -> dict[str, Expression]:
    over = PurchaseOrder.Recognition.OVER_SERVICE_PERIOD
    start = Case(When(recognition=over, then=F("service_start")), default=F("order_date"), output_field=DateField())
    end = Case(When(recognition=over, then=F("service_end")), default=F("order_date"), output_field=DateField())
    return {"recognition_first": start, "recognition_last": end}


def orders_with_allocation(
    orders: QuerySet[PurchaseOrder], *, period_start: Expression, period_end: Expression
) -> QuerySet[PurchaseOrder]:
    """`orders` that touch the period, annotated with `converted` (in the category currency at the
    order date) and `allocation` (their part of it that falls in the period)."""
    return annotate_allocation(orders, period_start=period_start, period_end=period_end).filter(
        recognition_first__lte=period_end, recognition_last__gte=period_start
    )


def annotate_allocation(
    orders: QuerySet[PurchaseOrder], *, period_start: Expression, period_end: Expression
) -> QuerySet[PurchaseOrder]:
    """`orders` annotated as by orders_with_allocation, without leaving out those that do not touch
    the period (their allocation is 0.00); `recognition_first` and `recognition_last` are annotated too."""
    total_days = DaysBetween(F("recognition_last"), F("recognition_first")) + 1
    return (
        orders.annotate(**_recognition_bounds())
        .annotate(
            converted=converted_amount_expression(target_currency="category__currency", on="order_date"),
            total_days=total_days,
            days_before=Greatest(Value(0), Least(F("total_days"), DaysBetween(period_start, F("recognition_first")))),
            days_through=Greatest(
                Value(0), Least(F("total_days"), DaysBetween(period_end, F("recognition_first")) + 1)
            ),
        )
        .annotate(
            allocation=MulDivRound(F("converted"), F("days_through"), F("total_days"))
            - MulDivRound(F("converted"), F("days_before"), F("total_days"))
        )
    )


def _sum(queryset: QuerySet, group: str, value: str) -> Expression:
    """Coalesce((SELECT SUM(value) ... GROUP BY group), 0): one correlated subquery."""
    total = queryset.order_by().values(group).annotate(total=Sum(value, output_field=_money)).values("total")
    return Coalesce(Subquery(total, output_field=_money), Value(ZERO), output_field=_money)


def _first_threshold() -> Expression:
    """The lowest alert threshold (the default 80% unless a lower one is configured)."""
    lowest = AlertThreshold.objects.order_by("percent").values("percent")[:1]
    default = Value(settings.CCT_DEFAULT_ALERT_THRESHOLD)
    percent = DecimalField(max_digits=7, decimal_places=2)
    return Least(Coalesce(Subquery(lowest), default), default, output_field=percent)


def _ledger_sum(basis: str, as_of: datetime.date) -> Expression:
    entries = LedgerEntry.objects.filter(cap=OuterRef("pk"), basis=basis, entry_date__lte=as_of)
    return _sum(entries, "cap", "amount")


def _amount_as_of(as_of: datetime.date) -> Expression:
    """The cap's amount in force at the end of `as_of`: the new amount of the last completed revision
    effective by then; before the first one took effect, the amount it replaced; without any, the amount."""
    completed = CapRevision.objects.filter(cap=OuterRef("pk"), status=CapRevision.Status.COMPLETED)
    in_force = completed.filter(effective_on__lte=as_of).order_by("-effective_on", "-completed_at", "-id")
    later = completed.filter(effective_on__gt=as_of).order_by("effective_on", "completed_at", "id")
    return Coalesce(
        Subquery(in_force.values("new_amount")[:1]),
        Subquery(later.values("previous_amount")[:1]),
        F("amount"),
        output_field=_money,
    )


class _AsOfIterable(ModelIterable):
    """Caps as at a day carry that day's amount in `amount`, so every reader (API, reports) shows it."""

    def __iter__(self):
        for cap in super().__iter__():
            cap.amount = cap.amount_as_of
            if cap.exceeded_on is not None and cap.exceeded_on > cap.as_of_day:
                cap.exceeded_on = None
            yield cap


def caps_with_utilisation(
    caps: QuerySet[AnnualCap] | None = None, *, as_of: datetime.date | None = None
) -> QuerySet[AnnualCap]:
    """Caps annotated with `committed`, `actual`, `exceeded_on` and `first_threshold` (see AnnualCap.used,
    .remaining, .status and the percentages for what follows from them).

    Today's figures are the running totals kept with the ledger (no aggregate over history). `as_of`
    gives the figures at the end of that business day: the sums of the entries dated on or before it,
    and the amount in force on it (the caps' `amount` then holds that amount).
    """
    caps = AnnualCap.objects.all() if caps is None else caps
    caps = caps.select_related("category__agreement__connected_person").annotate(first_threshold=_first_threshold())
    if as_of is None:
        return caps.annotate(
            committed=Coalesce(F("totals__committed"), Value(ZERO), output_field=_money),
            actual=Coalesce(F("totals__actual"), Value(ZERO), output_field=_money),
            exceeded_on=F("totals__exceeded_on"),
        )
    # used, remaining and the percentages follow from these two per cap (AnnualCap properties):
    # annotating them here would make the database evaluate each subquery several times.
    caps = caps.annotate(
        committed=_ledger_sum(LedgerEntry.Basis.COMMITTED, as_of),
        actual=_ledger_sum(LedgerEntry.Basis.ACTUAL, as_of),
        exceeded_on=F("totals__exceeded_on"),
        amount_as_of=_amount_as_of(as_of),
        as_of_day=Value(as_of, output_field=DateField()),
    )
    caps._iterable_class = _AsOfIterable
    return caps


def cap_ledger(cap: AnnualCap, *, as_of: datetime.date | None = None) -> QuerySet[LedgerEntry]:
    """The cap's entries, oldest first by business date (then as recorded)."""
    entries = LedgerEntry.objects.filter(cap=cap).order_by("entry_date", "id")
    return entries if as_of is None else entries.filter(entry_date__lte=as_of)


def live_caps_with_utilisation(*, on: datetime.date | None = None) -> QuerySet[AnnualCap]:
    """Caps whose period contains the day `on` (today by default), with their utilisation."""
    on = on or timezone.localdate()
    return caps_with_utilisation(AnnualCap.objects.filter(period_start__lte=on, period_end__gte=on)).order_by(
        "category__agreement__connected_person__name", "category__agreement__title", "category__name"
    )


def caps_with_forecast_inputs(caps: QuerySet[AnnualCap] | None = None, *, as_of: datetime.date) -> QuerySet[AnnualCap]:
    """caps_with_utilisation as at `as_of`, each also with `actual_one_off`: the part of `actual` (the cap
    ledger's actual entries) invoiced or credited against orders recognised on their order date (one-off
    purchases, which compliance.rules.forecast does not extrapolate as a run rate). Still one query."""
    one_off = LedgerEntry.objects.filter(
        cap=OuterRef("pk"),
        basis=LedgerEntry.Basis.ACTUAL,
        entry_date__lte=as_of,
        purchase_order__recognition=PurchaseOrder.Recognition.ON_ORDER_DATE,
    )
    return caps_with_utilisation(caps, as_of=as_of).annotate(actual_one_off=_sum(one_off, "cap", "amount"))


def live_caps_for_forecast(*, on: datetime.date) -> QuerySet[AnnualCap]:
    """Caps live on the day `on`, with their forecast inputs as at that day."""
    return caps_with_forecast_inputs(AnnualCap.objects.filter(period_start__lte=on, period_end__gte=on), as_of=on)


@dataclass(frozen=True)
class PeriodShare:
    cap: AnnualCap | None  # None: days inside the order's recognition that no cap period covers
    first_day: datetime.date
    last_day: datetime.date
    amount: Decimal


def order_allocation(order: PurchaseOrder, converted: Decimal, caps: list[AnnualCap]) -> list[PeriodShare]:
    """How one order's converted amount falls into its category's cap periods (and any gaps).

    The same arithmetic as orders_with_allocation, in Python, for the order being decided about.
    """
    first, last = order.recognition_start, order.recognition_end
    total_days = (last - first).days + 1

    def share(start: datetime.date, end: datetime.date) -> Decimal:
        before = min(max((start - first).days, 0), total_days)
        through = min(max((end - first).days + 1, 0), total_days)
        return day_share(converted, before, through, total_days)

    shares: list[PeriodShare] = []
    cursor = first
    for cap in sorted(caps, key=lambda c: c.period_start):
        if cap.period_end < first or cap.period_start > last:
            continue
        if cap.period_start > cursor:
            gap_end = cap.period_start - datetime.timedelta(days=1)
            shares.append(PeriodShare(None, cursor, gap_end, share(cursor, gap_end)))
        start, end = max(cap.period_start, first), min(cap.period_end, last)
        shares.append(PeriodShare(cap, start, end, share(start, end)))
        cursor = end + datetime.timedelta(days=1)
    if cursor <= last:
        shares.append(PeriodShare(None, cursor, last, share(cursor, last)))
    return shares


# --- The quote rule -----------------------------------------------------------------------------

NO_DOCUMENT = gettext_noop("no quote document")


@dataclass
class QuoteAssessment:
    quote: Quote
    converted: Decimal | None  # in the category currency at the quote date's rate: shown, not compared
    counted: bool
    reason: str = ""  # why a quote does not count
    # In the order's currency: as it stands when the quote is in it, else at the order date's rate. The
    # pricing comparison is made on this figure, so exchange movements cannot make a dearer price pass.
    compared: Decimal | None = None


@dataclass(frozen=True)
class QuoteRuleFailure:
    """Why an order fails the quote rule (or a sale the pricing rule), decided once (QuoteRuleResult.failure):
    the approval gate words it as a refusal, the reports as a cell; neither decides again."""

    NO_ORDER_RATE = "no_order_rate"  # the order cannot be converted at its date's rate
    NO_QUOTE_RATE = "no_quote_rate"  # a counted quote cannot be compared: `assessment` names it
    TOO_FEW = "too_few"  # fewer independent quotes (price references) than required
    NOT_CHEAPER = "not_cheaper"  # a purchase not cheaper than `assessment`, the lowest such quote
    PRICED_BELOW = "priced_below"  # a sale priced lower than `assessment`, the highest such reference

    reason: str
    assessment: QuoteAssessment | None = None


@dataclass
class QuoteRuleResult:
    order_converted: Decimal | None  # the order in the category currency at its date's rate (for the caps)
    required: int
    assessments: list[QuoteAssessment] = field(default_factory=list)
    order_amount: Decimal | None = None
    order_currency: str = ""
    # A sale (category direction `sale`): the pricing rule reversed, the order must not be priced lower
    # than any counted price reference (what independent customers are charged).
    sale: bool = False

    @property
    def counted(self) -> list[QuoteAssessment]:
        return [a for a in self.assessments if a.counted]

    @property
    def independent_suppliers(self) -> int:
        return len({a.quote.supplier_id for a in self.counted})

    @property
    def missing_rates(self) -> list[QuoteAssessment]:
        return [a for a in self.counted if a.compared is None]

    @property
    def lowest_counted(self) -> QuoteAssessment | None:
        priced = [a for a in self.counted if a.compared is not None]
        return min(priced, key=lambda a: a.compared) if priced else None

    @property
    def enough_quotes(self) -> bool:
        return self.independent_suppliers >= self.required

    @property
    def highest_counted(self) -> QuoteAssessment | None:
        priced = [a for a in self.counted if a.compared is not None]
        return max(priced, key=lambda a: a.compared) if priced else None

    @property
    def more_favourable(self) -> bool:
        """A purchase is strictly cheaper than every counted quote; a sale is priced not lower than every
        counted price reference; compared in the order's currency (vacuously true without any)."""
        if self.order_converted is None or self.missing_rates:
            return False
        if self.sale:
            return all(self.order_amount >= a.compared for a in self.counted)
        return all(self.order_amount < a.compared for a in self.counted)

    @property
    def passes(self) -> bool:
        return self.enough_quotes and self.more_favourable

    def failure(self) -> QuoteRuleFailure | None:
        """Why the order fails the rule, checked in this order: its own rate, the quotes' rates, how many
        quotes count, then the price; None when it passes."""
        if self.order_converted is None:
            return QuoteRuleFailure(QuoteRuleFailure.NO_ORDER_RATE)
        if self.missing_rates:
            return QuoteRuleFailure(QuoteRuleFailure.NO_QUOTE_RATE, self.missing_rates[0])
        if not self.enough_quotes:
            return QuoteRuleFailure(QuoteRuleFailure.TOO_FEW)
        if self.more_favourable:
            return None
        if self.sale:
            higher = (a for a in self.counted if self.order_amount < a.compared)
            return QuoteRuleFailure(QuoteRuleFailure.PRICED_BELOW, max(higher, key=lambda a: (a.compared, -a.quote.pk)))
        lower = (a for a in self.counted if self.order_amount >= a.compared)
        return QuoteRuleFailure(QuoteRuleFailure.NOT_CHEAPER, min(lower, key=lambda a: (a.compared, a.quote.pk)))

    @property
    def margin(self) -> Decimal | None:
        """How much more favourable the order is to the group, in the order's currency: for a purchase how
        much cheaper than the lowest counted quote, for a sale how much dearer than the highest reference."""
        if self.order_amount is None:
            return None
        if self.sale:
            highest = self.highest_counted
            return None if highest is None else self.order_amount - highest.compared
        lowest = self.lowest_counted
        if lowest is None:
            return None
        return lowest.compared - self.order_amount


def _connected_on(counterparty, day: datetime.date) -> bool:
    person = counterparty.connected_person
    if person is None:
        return False
    return person.connected_from <= day and (person.connected_until is None or day <= person.connected_until)


def quote_in_order_currency(
    quote: Quote, order: PurchaseOrder, rates: RateBook, category_currency: str
) -> Decimal | None:
    """The quote in the order's currency: as it stands when in the same currency, else at the rate of the
    order date (directly, or through the category currency on that same day); None without a rate."""
    if quote.currency == order.currency:
        return quote.amount
    day = order.order_date
    ratio = rates.ratio(quote.currency, order.currency, day)
    if ratio is None and category_currency not in (quote.currency, order.currency):
        into, out_of = (
            rates.ratio(quote.currency, category_currency, day),
            rates.ratio(order.currency, category_currency, day),
        )
        if into is not None and out_of is not None:
            ratio = (into[0] * out_of[1], into[1] * out_of[0])
    return None if ratio is None else mul_div_round(quote.amount, *ratio)


def quote_rule_rates(order: PurchaseOrder, quotes: list[Quote], category_currency: str) -> list[tuple]:
    """The rates assess_quote_rule may need for one order: each document into the category currency at its
    own date (shown), and each quote into the order's currency at the order date (compared)."""
    day = order.order_date
    wanted = [(order.currency, category_currency, day)]
    for quote in quotes:
        wanted += [
            (quote.currency, category_currency, quote.quoted_on),
            (quote.currency, order.currency, day),
            (quote.currency, category_currency, day),
        ]
    return wanted


def assess_quote_rule(
    order: PurchaseOrder, quotes: list[Quote], rates: RateBook, category: TransactionCategory
) -> QuoteRuleResult:
    """Which quotes count for the order's quote rule and whether the order passes it.

    A quote counts when its supplier is independent (connected to nobody on the quote date) and is not
    the order's counterparty, it is dated on or before the order date and no more than the category's
    validity before it, and its document is attached while the category requires documents. Prices are
    compared in the order's currency (contract v2, "Pricing comparison"): a quote in that currency as it
    stands, one in another currency at the order date's rate.
    """
    currency = category.currency
    result = QuoteRuleResult(
        order_converted=rates.convert(order.amount, order.currency, currency, order.order_date),
        required=category.min_independent_quotes,
        order_amount=order.amount,
        order_currency=order.currency,
        sale=category.direction == TransactionCategory.Direction.SALE,
    )
    oldest = order.order_date - datetime.timedelta(days=category.quote_validity_days)
    for quote in quotes:
        reason = ""
        if quote.supplier_id == order.counterparty_id:
            reason = _("it is from the order's own counterparty")
        elif _connected_on(quote.supplier, quote.quoted_on):
            reason = _("%(supplier)s was connected (%(person)s) on the quote date") % {
                "supplier": quote.supplier.name,
                "person": quote.supplier.connected_person.name,
            }
        elif quote.quoted_on > order.order_date:
            reason = _("it is dated after the order")
        elif quote.quoted_on < oldest:
            reason = _("it is more than %(days)s days older than the order") % {"days": category.quote_validity_days}
        elif category.quote_documents_required and not quote.document:
            reason = _(NO_DOCUMENT)
        result.assessments.append(
            QuoteAssessment(
                quote=quote,
                converted=rates.convert(quote.amount, quote.currency, currency, quote.quoted_on),
                counted=not reason,
                reason=reason,
                compared=quote_in_order_currency(quote, order, rates, currency),
            )
        )
    return result


def quote_rule_for_order(order: PurchaseOrder) -> QuoteRuleResult:
    """Loads the order's quotes and the rates they need (three queries) and assesses the rule."""
    category = order.category
    quotes = list(order.quotes.select_related("supplier__connected_person").order_by("quoted_on", "id"))
    rates = RateBook(quote_rule_rates(order, quotes, category.currency))
    return assess_quote_rule(order, quotes, rates, category)


# --- Alerts -------------------------------------------------------------------------------------


def alert_thresholds() -> list[Decimal]:
    """Every threshold at which caps alert: the default (80%) and those compliance added."""
    configured = set(AlertThreshold.objects.values_list("percent", flat=True))
    return sorted(configured | {settings.CCT_DEFAULT_ALERT_THRESHOLD})


def alert_list() -> QuerySet[Alert]:
    return Alert.objects.select_related("cap__category__agreement", "triggered_by")


def alert_recipient_list() -> QuerySet[AlertRecipient]:
    return AlertRecipient.objects.all()
