"""Reads over the facts: exchange rates and amounts converted into another currency."""

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce

from .models import ExchangeRate, Invoice, PurchaseOrder, Quote
from .money import CentsField, MulDivRound, mul_div_round

RateKey = tuple[str, str, datetime.date]


class RateBook:
    """The exchange rates needed to convert a known set of documents, read in one query.

    A rate is the direct pair on the document's own date, else the reciprocal of the inverse pair;
    never a rate of another day. A book made `latest_on` a day also converts figures that are not documents
    of a day (percentage-ratio tests, the HK$ thresholds) at the latest rate on or before it, each pair read
    once: the one cache of rates in the product.
    """

    on: datetime.date | None = None

    def __init__(self, wanted: Iterable[RateKey]) -> None:
        wanted = {(c, t, d) for c, t, d in wanted if c != t}
        self._rates: dict[RateKey, Decimal] = {}
        self._latest: dict[tuple[str, str], tuple[Decimal, Decimal, datetime.date] | None] = {}
        if not wanted:
            return
        currencies = {c for c, _, _ in wanted} | {t for _, t, _ in wanted}
        rows = ExchangeRate.objects.filter(
            rate_date__in={d for _, _, d in wanted}, currency__in=currencies, target_currency__in=currencies
        ).values_list("currency", "target_currency", "rate_date", "rate")
        self._rates = {(c, t, d): rate for c, t, d, rate in rows}

    @classmethod
    def of_currencies(cls, currencies: Iterable[str]) -> "RateBook":
        """Every rate recorded into or out of `currencies`, in one query: for reports that convert many
        documents, where listing the wanted rates first would cost a pass over the documents."""
        book = cls([])
        currencies = set(currencies)
        rows = ExchangeRate.objects.filter(Q(currency__in=currencies) | Q(target_currency__in=currencies)).values_list(
            "currency", "target_currency", "rate_date", "rate"
        )
        book._rates = {(c, t, d): rate for c, t, d, rate in rows}
        return book

    @classmethod
    def latest_on(cls, on: datetime.date) -> "RateBook":
        """A book for convert_latest: the latest rates on or before `on`, read as they are first needed."""
        book = cls([])
        book.on = on
        return book

    def convert_latest(self, amount: Decimal, currency: str, target_currency: str) -> Decimal | None:
        """`amount` in `target_currency` at the latest rate on or before the book's day (latest_rate_ratio),
        rounded to cents; None when no rate is recorded by then."""
        key = (currency, target_currency)
        if key not in self._latest:
            self._latest[key] = latest_rate_ratio(currency, target_currency, self.on)
        ratio = self._latest[key]
        return None if ratio is None else mul_div_round(amount, ratio[0], ratio[1])

    def ratio(self, currency: str, target_currency: str, on: datetime.date) -> tuple[Decimal, Decimal] | None:
        """(numerator, denominator) turning `currency` into `target_currency` on `on`, or None."""
        if currency == target_currency:
            return Decimal(1), Decimal(1)
        if (currency, target_currency, on) in self._rates:
            return self._rates[(currency, target_currency, on)], Decimal(1)
        if (target_currency, currency, on) in self._rates:
            return Decimal(1), self._rates[(target_currency, currency, on)]
        return None

    def convert(self, amount: Decimal, currency: str, target_currency: str, on: datetime.date) -> Decimal | None:
        """`amount` in `target_currency`, rounded to cents; None when no rate is recorded for that day."""
        ratio = self.ratio(currency, target_currency, on)
        return None if ratio is None else mul_div_round(amount, *ratio)


def amount_converted(*, amount: Decimal, currency: str, target_currency: str, on: datetime.date) -> Decimal | None:
    """One amount in `target_currency` at the rate of the day `on`; None without a rate."""
    return RateBook([(currency, target_currency, on)]).convert(amount, currency, target_currency, on)


def latest_rate_ratio(
    currency: str, target_currency: str, on: datetime.date
) -> tuple[Decimal, Decimal, datetime.date] | None:
    """(numerator, denominator, rate date) turning `currency` into `target_currency` at the latest rate
    recorded on or before `on`, either pair (the inverse as its reciprocal; the direct pair on a tie).

    For figures that are not documents of a day (percentage-ratio tests, HK$ thresholds); documents are
    converted at the rate of their own date only (RateBook)."""
    if currency == target_currency:
        return Decimal(1), Decimal(1), on
    either_pair = Q(currency=currency, target_currency=target_currency) | Q(
        currency=target_currency, target_currency=currency
    )
    row = (
        ExchangeRate.objects.filter(either_pair, rate_date__lte=on)
        .annotate(direct=Case(When(currency=currency, then=Value(1)), default=Value(0)))
        .order_by("-rate_date", "-direct")
        .values_list("currency", "rate", "rate_date")
        .first()
    )
    if row is None:
        return None
    source, rate, day = row
    return (rate, Decimal(1), day) if source == currency else (Decimal(1), rate, day)


def converted_amount_expression(
    *, target_currency: str, on: str, amount: str = "amount", currency: str = "currency"
) -> Expression:
    """SQL for a row's `amount` converted into `target_currency` (a field path) at the rate of its
    date field `on`, by the same rules as RateBook; NULL without a rate."""
    direct = ExchangeRate.objects.filter(
        currency=OuterRef(currency), target_currency=OuterRef(target_currency), rate_date=OuterRef(on)
    ).values("rate")[:1]
    inverse = ExchangeRate.objects.filter(
        currency=OuterRef(target_currency), target_currency=OuterRef(currency), rate_date=OuterRef(on)
    ).values("rate")[:1]
    return Case(
        When(Q(**{currency: F(target_currency)}), then=F(amount)),
        default=Coalesce(
            MulDivRound(F(amount), Subquery(direct), Value(1)),
            MulDivRound(F(amount), Value(1), Subquery(inverse)),
        ),
        output_field=CentsField(),
    )


def exchange_rate_in_use(rate: ExchangeRate) -> bool:
    """Whether an order, quote or invoice is converted with this rate (either direction)."""
    pair = {rate.currency, rate.target_currency}
    orders = PurchaseOrder.objects.filter(order_date=rate.rate_date, currency__in=pair, category__currency__in=pair)
    quotes = Quote.objects.filter(
        quoted_on=rate.rate_date, currency__in=pair, purchase_order__category__currency__in=pair
    )
    invoices = Invoice.objects.filter(
        invoice_date=rate.rate_date, currency__in=pair, purchase_order__category__currency__in=pair
    )
    return any(
        qs.exclude(**{field: F(other)}).exists()
        for qs, field, other in (
            (orders, "currency", "category__currency"),
            (quotes, "currency", "purchase_order__category__currency"),
            (invoices, "currency", "purchase_order__category__currency"),
        )
    )


def purchase_order_list(model: type[PurchaseOrder] = PurchaseOrder) -> QuerySet[PurchaseOrder]:
    """Orders with what their lists show; `model` SalesOrder gives the sales only."""
    return model.objects.select_related(
        "category__agreement__connected_person", "counterparty", "created_by", "approved_by", "cancelled_by"
    )


def quote_list(model: type[Quote] = Quote) -> QuerySet[Quote]:
    """Quotes (or, with `model` PriceReference, the price references of sales) with their order and party."""
    return model.objects.select_related("purchase_order", "supplier")
