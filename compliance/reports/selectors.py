"""Reads for the reports (compliance.reports): the caps of a date range with their figures as at a date,
the orders counted in their periods, each order's quote rule, alerts, exceptions, and a run-rate forecast.

Figures follow the contract's "As at a date" (version 2): the cap ledger's entries dated on or before
the date; they are the figures of compliance.rules.selectors.caps_with_utilisation(as_of=...), and the
per-order rows (the same entries grouped by order) add up to them.

Every selector runs a fixed number of queries whatever the number of orders. The long lists (orders,
quotes) are streamed from the database in chunks (a server-side cursor on PostgreSQL), so that a
report's memory does not grow with them: iterate them once.
"""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.db.models.lookups import Exact
from django.utils import timezone

from compliance.common.dates import day_in_words as _date
from compliance.lifecycle.revisions import cap_revision_list
from compliance.models import Alert, AnnualCap, CapRevision, LedgerEntry, QuoteRuleException, TermsChange
from compliance.rules.classification import Classification, category_classification, connected_person_classification
from compliance.rules.forecast import CapForecast, cap_forecast
from compliance.rules.quote_exceptions import quote_rule_exception_list
from compliance.rules.selectors import (
    QuoteRuleFailure,
    QuoteRuleResult,
    _recognition_bounds,
    _sum,
    alert_list,
    assess_quote_rule,
    caps_with_forecast_inputs,
    caps_with_utilisation,
)
from compliance.rules.terms import category_terms, order_inside_terms
from transactions.models import (
    CategoryRenewal,
    Counterparty,
    FrameworkAgreement,
    Invoice,
    PurchaseOrder,
    Quote,
    TransactionCategory,
)
from transactions.money import ZERO, DaysBetween, format_money, mul_div_round
from transactions.selectors import RateBook, converted_amount_expression

APPROVED = PurchaseOrder.Status.APPROVED
CHUNK = 2000
ONE_DAY = datetime.timedelta(days=1)

# Caps, and the orders under them, in the order a reader looks for them.
# Purchases first, then sales ("purchase" < "sale"): each direction is its own section of every list of caps.
CAP_ORDER = (
    "category__direction", "category__agreement__connected_person__name", "category__agreement__title",
    "category__name", "period_start",
)  # fmt: skip


ORDER_ROW_ORDER = (
    "category__agreement__connected_person__name", "category__agreement__title", "category__name",
    "cap_period_start", "order_date", "number",
)  # fmt: skip


@contextmanager
def report_reading() -> Iterator[None]:
    """Read a whole report in one transaction.

    On PostgreSQL, a report that starts its own transaction reads one snapshot (REPEATABLE READ, read
    only), so its sheets agree with each other even while orders are being approved; and the JIT
    compiler is off for it, because compiling the per-row money arithmetic took about a second per
    query, longer than running it."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if outermost:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SET LOCAL jit = off")
        yield


# --- Caps ----------------------------------------------------------------------------------------


def report_caps(*, start: datetime.date, end: datetime.date, as_of: datetime.date) -> list[AnnualCap]:
    """Caps whose period overlaps `start`..`end`, with `committed`, `actual` and the forecast's inputs as
    at `as_of` (one query)."""
    caps = AnnualCap.objects.filter(period_start__lte=end, period_end__gte=start)
    return list(
        caps_with_forecast_inputs(caps, as_of=as_of)
        .select_related("category__agreement__connected_person")
        .order_by(*CAP_ORDER)
    )


def report_caps_with_movement(*, start: datetime.date, end: datetime.date) -> list[AnnualCap]:
    """report_caps as at `end`, each also with `actual_in_range` and `committed_in_range`: what the
    invoices and orders dated from `start` to `end` added (two queries)."""
    caps = report_caps(start=start, end=end, as_of=end)
    before = {
        cap.pk: cap
        for cap in caps_with_utilisation(AnnualCap.objects.filter(pk__in=[c.pk for c in caps]), as_of=start - ONE_DAY)
    }
    for cap in caps:
        # As at the day before the range, less as at its end: exactly the documents dated in the range.
        cap.actual_in_range = cap.actual - before[cap.pk].actual
        cap.committed_in_range = cap.committed - before[cap.pk].committed
    return caps


class CapStatus(NamedTuple):
    level: str  # "below", "warning" (at or above the alert threshold), "full" (at or above 100%)
    label: str
    report_to_board: bool = False  # the forecast at period end exceeds the cap


def percent_label(value: Decimal) -> str:
    """80.00 -> "80", 92.50 -> "92.5"."""
    return f"{value.normalize():f}"


def cap_status(cap: AnnualCap, *, forecast: CapForecast | None = None) -> CapStatus:
    """Where the cap stands against the alert threshold (80%) and the cap, compared exactly as alerts are
    (79.996% has not reached 80%); with its forecast, also "forecast above cap: report to the board" when
    the forecast at period end exceeds the cap."""
    threshold = settings.CCT_DEFAULT_ALERT_THRESHOLD
    label = percent_label(threshold)
    if cap.used > cap.amount:
        status = CapStatus("exceeded", "Exceeded · 超出上限")
    elif cap.used == cap.amount:
        status = CapStatus("full", "At 100% · 已達上限")
    elif cap.used * 100 >= threshold * cap.amount:
        status = CapStatus("warning", f"At or above {label}% · 已達{label}%")
    else:
        status = CapStatus("below", f"Below {label}% · 低於{label}%")
    if forecast is not None and forecast.exceeds:
        return CapStatus(status.level, f"{status.label}; {forecast.board_note}", report_to_board=True)
    return status


# --- Aggregated per connected person --------------------------------------------------------------


@dataclass
class PersonTotals:
    """The caps of one connected person in one direction and currency, added up across its agreements and
    categories (the Listing Rules aggregate transactions with the same connected person; purchases with
    purchases, sales with sales: a purchase cap is never added to a sales cap)."""

    connected_person_id: int
    name: str
    currency: str
    direction: str = "purchase"
    caps: int = 0
    amount: Decimal = ZERO
    actual: Decimal = ZERO
    committed: Decimal = ZERO
    used: Decimal = ZERO
    forecast: Decimal = ZERO
    actual_in_range: Decimal = ZERO
    committed_in_range: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.used

    @property
    def used_pct(self) -> Decimal:
        return mul_div_round(self.used, 100, self.amount)

    @property
    def forecast_pct(self) -> Decimal:
        return mul_div_round(self.forecast, 100, self.amount)


def connected_person_totals(caps: list[AnnualCap], *, as_of: datetime.date) -> list[PersonTotals]:
    """report_caps_with_movement added up per connected person, direction and currency (never across
    currencies, never purchases with sales).

    The few caps of a report are already computed by the database; adding them here runs no query.
    """
    totals: dict[tuple[int, str], PersonTotals] = {}
    for cap in caps:
        person = cap.category.agreement.connected_person
        direction = cap.category.direction
        key = (direction, person.pk, cap.category.currency)
        total = totals.setdefault(key, PersonTotals(person.pk, person.name, cap.category.currency, direction))
        total.caps += 1
        total.amount += cap.amount
        total.actual += cap.actual
        total.committed += cap.committed
        total.used += cap.used
        total.forecast += cap_forecast(cap, as_of=as_of).amount
        total.actual_in_range += getattr(cap, "actual_in_range", ZERO)
        total.committed_in_range += getattr(cap, "committed_in_range", ZERO)
    return sorted(totals.values(), key=lambda t: (t.direction, t.name, t.currency))


# --- Orders counted in the caps' periods ---------------------------------------------------------


def _days_inside(start: Expression, end: Expression, first: Expression, last: Expression) -> Expression:
    """How many days from `first` to `last` fall from `start` to `end` (0 when none do)."""
    return Greatest(Value(0), DaysBetween(Least(last, end), Greatest(first, start)) + 1)


def _within_term() -> Case:
    """The order date and every day the order counts on fall inside the category's recorded terms: its first
    term and its renewals (compliance.rules.terms, the approval gate's rule). Terms never overlap, so the days they
    cover add up: the order's days are all inside when the terms cover as many of them as there are.

    Needs `recognition_first` and `recognition_last` on the query (compliance.rules.selectors._recognition_bounds)."""
    renewals = CategoryRenewal.objects.filter(category=OuterRef("category"))
    dated_in_renewal = Exists(
        renewals.filter(term_start__lte=OuterRef("order_date"), term_end__gte=OuterRef("order_date"))
    )
    days_in_renewals = (
        renewals.order_by()
        .annotate(
            days=_days_inside(
                F("term_start"), F("term_end"), OuterRef("recognition_first"), OuterRef("recognition_last")
            )
        )
        .values("category")
        .annotate(total=Sum("days"))
        .values("total")
    )
    days_in_terms = _days_inside(
        F("category__term_start"), F("category__term_end"), F("recognition_first"), F("recognition_last")
    ) + Coalesce(Subquery(days_in_renewals, output_field=IntegerField()), Value(0))
    days = DaysBetween(F("recognition_last"), F("recognition_first")) + 1
    dated_in_first = Q(order_date__gte=F("category__term_start"), order_date__lte=F("category__term_end"))
    inside = (dated_in_first | Q(dated_in_renewal)) & Q(Exact(days_in_terms, days))
    return Case(When(inside, then=Value(True)), default=Value(False), output_field=BooleanField())


def _in_group() -> Case:
    """The counterparty belongs to the group of the agreement's connected person."""
    same = Q(counterparty__connected_person=F("category__agreement__connected_person"))
    return Case(When(same, then=Value(True)), default=Value(False), output_field=BooleanField())


def _ledger_of_order(as_of: datetime.date, **filters) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(
        purchase_order=OuterRef("pk"), cap_id=OuterRef("cap_id"), entry_date__lte=as_of, **filters
    )


def counted_order_periods(caps: list[AnnualCap], *, as_of: datetime.date) -> QuerySet[PurchaseOrder]:
    """One row per order and cap period in which the cap ledger holds entries for it dated on or before
    `as_of` (an order spread over two periods gives two rows), annotated with `cap_id`, `converted` (the
    order in the category currency), `committed` and `actual` (the sums of its entries of each basis:
    commitments less withdrawals and revaluations; invoices less credit notes, whatever the order's
    status). Per cap, the rows add up to the cap's committed and actual amounts as at `as_of`; an order
    voided on its order date (its entries sum to nothing) is left out."""
    orders = PurchaseOrder.objects.filter(category__caps__in=[cap.pk for cap in caps]).annotate(
        # The same joined cap row as the filter above: each order once per period of its category.
        cap_id=F("category__caps__id"),
        cap_period_start=F("category__caps__period_start"),
        cap_period_end=F("category__caps__period_end"),
    )
    committed = _sum(_ledger_of_order(as_of, basis=LedgerEntry.Basis.COMMITTED), "purchase_order", "amount")
    actual = _sum(_ledger_of_order(as_of, basis=LedgerEntry.Basis.ACTUAL), "purchase_order", "amount")
    return (
        orders.alias(in_ledger=Exists(_ledger_of_order(as_of)))
        .filter(in_ledger=True)
        .annotate(**_recognition_bounds())
        .annotate(
            converted=converted_amount_expression(target_currency="category__currency", on="order_date"),
            committed=committed,
            actual=actual,
        )
        .exclude(committed=ZERO, actual=ZERO)
        .order_by(*ORDER_ROW_ORDER)
    )


class OrderRow(NamedTuple):
    cap_id: int
    period_start: datetime.date
    period_end: datetime.date
    category: str
    cap_currency: str
    number: str
    counterparty: str
    description: str
    order_date: datetime.date
    recognition: str
    service_start: datetime.date | None
    service_end: datetime.date | None
    amount: Decimal
    currency: str
    converted: Decimal | None
    committed: Decimal
    actual: Decimal
    status: str
    entered_by: str
    approved_by: str | None
    approved_on: datetime.date | None
    agreement: str
    board_approved_on: datetime.date
    within_term: bool
    in_group: bool


def report_order_rows(caps: list[AnnualCap], *, as_of: datetime.date) -> Iterator[OrderRow]:
    """counted_order_periods as rows, streamed (one query)."""
    if not caps:
        return iter(())
    rows = counted_order_periods(caps, as_of=as_of).annotate(
        period_start=F("cap_period_start"),
        period_end=F("cap_period_end"),
        category_name=F("category__name"),
        cap_currency=F("category__currency"),
        counterparty_name=F("counterparty__name"),
        entered_by=F("created_by__username"),
        approver=F("approved_by__username"),
        approved_on=TruncDate("approved_at"),
        agreement=F("category__agreement__title"),
        board_approved_on=F("category__agreement__board_approved_on"),
        within_term=_within_term(),
        in_group=_in_group(),
    )
    fields = [
        "cap_id", "period_start", "period_end", "category_name", "cap_currency", "number", "counterparty_name",
        "description", "order_date", "recognition", "service_start", "service_end", "amount", "currency",
        "converted", "committed", "actual", "status", "entered_by", "approver", "approved_on", "agreement",
        "board_approved_on", "within_term", "in_group",
    ]  # fmt: skip
    return (OrderRow._make(values) for values in rows.values_list(*fields).iterator(chunk_size=CHUNK))


def counted_orders(caps: list[AnnualCap], *, as_of: datetime.date) -> QuerySet[PurchaseOrder]:
    """The orders of counted_order_periods, each once: those with a cap ledger entry in one of the caps
    dated on or before `as_of`, less those voided (cancelled with effect from their order date) that no
    invoice counts for: a voided order is in no view. Decided without summing, so it is cheap to use as a
    subquery."""
    if not caps:
        return PurchaseOrder.objects.none()
    entries = LedgerEntry.objects.filter(
        purchase_order=OuterRef("pk"), cap__in=[cap.pk for cap in caps], entry_date__lte=as_of
    )
    return (
        PurchaseOrder.objects.alias(
            in_ledger=Exists(entries), invoiced=Exists(entries.filter(basis=LedgerEntry.Basis.ACTUAL))
        )
        .filter(in_ledger=True)
        .exclude(cancellation_effective_on=F("order_date"), invoiced=False)
    )


class MatterException(NamedTuple):
    """Something the product found about one order or cap under one of the matters of Rule 14A.56."""

    matter: str  # "a" to "d"
    subject: str  # the order number or the cap
    detail: str
    evidence: str  # where in the pack (and the product) the evidence is


def order_evidence(caps: list[AnnualCap], *, as_of: datetime.date) -> dict[str, Any]:
    """Counts over the counted orders that the annual review's matters rest on, and the orders behind them
    (two queries: the counts, then only the orders that are exceptions).

    `exceptions` lists, per order: dated before its agreement's board approval, approved by the person who
    entered it, approved after its order date, or after an invoice of it ("approved before contracting"
    cannot be evidenced) under matter (a); outside every term, or with a counterparty outside the connected
    person's group, under matter (c)."""
    empty = {
        "orders": 0, "before_board": 0, "outside_term": 0, "outside_group": 0, "self_approved": 0,
        "approved_late": 0, "approved_after_invoice": 0, "exceptions": [],
    }  # fmt: skip
    if not caps:
        return empty
    orders = _orders_with_evidence(caps, as_of=as_of)
    flags = {
        "before_board": Q(order_date__lt=F("category__agreement__board_approved_on")),
        "outside_term": Q(within_term=False),
        "outside_group": Q(in_group=False),
        "self_approved": Q(approved_by=F("created_by")),
        "approved_late": Q(approved_on__gt=F("order_date")),
        "approved_after_invoice": Q(first_invoiced_on__lt=F("approved_on")),
    }
    counts = orders.aggregate(orders=Count("pk"), **{name: Count("pk", filter=q) for name, q in flags.items()})
    any_flag = Q()
    for q in flags.values():
        any_flag |= q
    rows = (
        orders.filter(any_flag)
        .annotate(board_on=F("category__agreement__board_approved_on"), agreement=F("category__agreement__title"))
        .values_list(
            "number",
            "order_date",
            "approved_on",
            "first_invoiced_on",
            "board_on",
            "agreement",
            "within_term",
            "in_group",
            "approved_by_id",
            "created_by_id",
        )
        .order_by("order_date", "number")
    )
    exceptions: list[MatterException] = []
    for row in rows:
        exceptions += _order_exceptions(*row)
    return {**counts, "exceptions": exceptions}


def _orders_with_evidence(caps: list[AnnualCap], *, as_of: datetime.date):
    """The counted orders with what the matters test: within a term, in the group, approval day, first invoice."""
    first_invoice = (
        Invoice.objects.filter(purchase_order=OuterRef("pk")).order_by("invoice_date").values("invoice_date")[:1]
    )
    return (
        counted_orders(caps, as_of=as_of)
        .alias(**_recognition_bounds())
        .annotate(
            within_term=_within_term(),
            in_group=_in_group(),
            approved_on=TruncDate("approved_at"),
            first_invoiced_on=Subquery(first_invoice),
        )
    )


def _order_exceptions(
    number, ordered, approved, invoiced, board, agreement, within, in_group, approver, creator
) -> list[MatterException]:
    """One order's exceptions, matter (a)'s first, in the order the pack lists them."""
    exceptions = []
    approvals = "Orders: Order date, Approved on, Entered by, Approved by; Invoices"
    if ordered < board:
        exceptions.append(MatterException("a", number, f"Dated {_date(ordered)}, before the board approved "
                                          f"“{agreement}” on {_date(board)}.", approvals))  # fmt: skip
    if approver == creator:
        exceptions.append(MatterException("a", number, "Approved by the person who entered it.", approvals))
    if approved is not None and approved > ordered:
        exceptions.append(MatterException("a", number, f"Approved on {_date(approved)}, after its order date "
                                          f"{_date(ordered)}.", approvals))  # fmt: skip
    if invoiced is not None and approved is not None and invoiced < approved:
        exceptions.append(MatterException("a", number, f"Invoiced on {_date(invoiced)}, before its approval on "
                                          f"{_date(approved)}.", approvals))  # fmt: skip
    if not within:
        exceptions.append(MatterException("c", number, "Outside every recorded term of its category.",
                                          "Orders: Within term"))  # fmt: skip
    if not in_group:
        exceptions.append(MatterException("c", number, "Its counterparty is not in the connected person's group.",
                                          "Orders: Counterparty in the group"))  # fmt: skip
    return exceptions


class BoardRecord(NamedTuple):
    """A board decision the pack prints with its facts: an agreement, renewal, change of terms or cap revision."""

    kind: str
    subject: str
    board_approved_on: datetime.date | None
    board_minutes_ref: str
    abstaining_directors: str
    announced_on: datetime.date | None
    announcement_ref: str
    circular_issued_on: datetime.date | None
    adviser_letter_on: datetime.date | None
    shareholders_approved_on: datetime.date | None
    status: str


def report_board_records(caps: list[AnnualCap], revisions: list[CapRevision]) -> list[BoardRecord]:
    """The agreements of the caps' categories, those categories' renewals and changes of terms, and the caps'
    revisions, each with the board's facts and the re-compliance steps recorded (three queries)."""
    category_ids = {cap.category_id for cap in caps}
    records: list[BoardRecord] = []
    agreements = FrameworkAgreement.objects.filter(categories__in=category_ids).distinct().order_by("signed_on")
    for a in agreements:
        records.append(BoardRecord("Agreement · 協議", a.title, a.board_approved_on, a.board_minutes_ref,
                                   a.abstaining_directors, a.announced_on, a.announcement_ref, None, None, None,
                                   "In force · 生效"))  # fmt: skip
    later = [
        *CategoryRenewal.objects.filter(category__in=category_ids).select_related("category").order_by("term_start"),
        *TermsChange.objects.filter(category__in=category_ids).select_related("category").order_by("effective_from"),
    ]
    for r in later:
        if isinstance(r, CategoryRenewal):
            kind, subject = "Renewal · 續期", f"{r.category.name}: {_date(r.term_start)} to {_date(r.term_end)}"
        else:
            kind, subject = "Change of terms · 條款變更", f"{r.category.name}: from {_date(r.effective_from)}"
        records.append(BoardRecord(kind, subject, r.board_approved_on, r.board_minutes_ref, r.abstaining_directors,
                                   r.announced_on, r.announcement_ref, r.circular_issued_on, r.adviser_letter_on,
                                   r.shareholders_approved_on, r.get_status_display()))  # fmt: skip
    for r in revisions:
        records.append(BoardRecord("Cap revision · 上限修訂", str(r.cap), r.board_approved_on, r.board_minutes_ref,
                                   r.abstaining_directors, r.announced_on, r.announcement_ref, r.circular_issued_on,
                                   r.adviser_letter_on, r.shareholders_approved_on,
                                   r.get_status_display()))  # fmt: skip
    return records


# --- The quote rule of many orders ---------------------------------------------------------------


class _ByOrder:
    """A stream of rows in order of their purchase order's id, taken off the front one order at a time by a
    loop over the orders in the same order."""

    def __init__(self, rows: Iterator) -> None:
        self._rows = rows
        self._next = next(rows, None)

    def take(self, order_id: int) -> list:
        own = []
        while self._next is not None and self._next.purchase_order_id <= order_id:
            if self._next.purchase_order_id == order_id:
                own.append(self._next)
            self._next = next(self._rows, None)
        return own


def quote_assessments(
    orders: QuerySet[PurchaseOrder], *, currencies: set[str] | None = None, with_people: bool = False
) -> Iterator[tuple[PurchaseOrder, QuoteRuleResult]]:
    """Each order with its quote rule assessed as compliance.rules.selectors.assess_quote_rule does for one
    order, streamed in order of id. Five queries for any number of orders (six without `currencies`):
    the orders, their quotes, their quote-rule exceptions, the counterparties, the exchange rates of the
    categories' currencies.

    Each order carries its quote-rule exceptions, oldest first, with who requested and decided them, as
    `order.quote_exceptions` (see documented_exception). `with_people` also loads who entered, approved
    and cancelled each order."""
    related = ["category__agreement", "counterparty"]
    if with_people:
        related += ["created_by", "approved_by", "cancelled_by"]
    orders = orders.select_related(*related)
    quotes = Quote.objects.filter(purchase_order__in=orders.values("pk")).only(
        "id",
        "purchase_order_id",
        "supplier_id",
        "quoted_on",
        "amount",
        "currency",
        "reference",
        "document",
        "document_name",
    )
    exceptions = QuoteRuleException.objects.filter(purchase_order__in=orders.values("pk")).select_related(
        "requested_by", "decided_by"
    )
    # Counterparties and rates are reference data, bounded by the calendar and the suppliers, not by
    # the orders: loading them whole is cheaper than listing which of them the orders need.
    suppliers = {supplier.pk: supplier for supplier in Counterparty.objects.select_related("connected_person")}
    if currencies is None:
        currencies = set(TransactionCategory.objects.order_by().values_list("currency", flat=True).distinct())
    rates = RateBook.of_currencies(currencies)

    # All three streams are in order of the order's id: each order takes its own rows off their fronts.
    quote_stream = _ByOrder(quotes.order_by("purchase_order_id", "quoted_on", "id").iterator(chunk_size=CHUNK))
    exception_stream = _ByOrder(
        exceptions.order_by("purchase_order_id", "requested_at", "id").iterator(chunk_size=CHUNK)
    )
    for order in orders.order_by("pk").iterator(chunk_size=CHUNK):
        own = quote_stream.take(order.pk)
        for quote in own:
            quote.supplier = suppliers[quote.supplier_id]
        order.quote_exceptions = exception_stream.take(order.pk)
        for exception in order.quote_exceptions:
            exception.purchase_order = order
        yield order, assess_quote_rule(order, own, rates, order.category)


def counted_quote_assessments(
    caps: list[AnnualCap], *, as_of: datetime.date
) -> Iterator[tuple[PurchaseOrder, QuoteRuleResult]]:
    """quote_assessments of the counted_orders (five queries)."""
    if not caps:
        return iter(())
    return quote_assessments(counted_orders(caps, as_of=as_of), currencies={cap.category.currency for cap in caps})


def quote_rule_exception(result: QuoteRuleResult) -> str:
    """Why an order does not meet the quote rule, in a report's cell (QuoteRuleResult.failure decides, as for
    the approval gate); empty when it does."""
    failure = result.failure()
    if failure is None:
        return ""
    if failure.reason == QuoteRuleFailure.NO_ORDER_RATE:
        return "No exchange rate for the order's date."
    if failure.reason == QuoteRuleFailure.NO_QUOTE_RATE:
        quote = failure.assessment.quote
        return (
            f"No {quote.currency}/{result.order_currency} exchange rate for the order date, to compare the quote "
            f"from {quote.supplier.name}."
        )
    if failure.reason == QuoteRuleFailure.TOO_FEW:
        what = "independent customers' price references" if result.sale else "independent quotes"
        text = f"{result.independent_suppliers} of the {result.required} required {what}."
        ignored = [f"{a.quote.supplier.name}: {a.reason}" for a in result.assessments if not a.counted]
        return text + (" Not counted: " + "; ".join(ignored) + "." if ignored else "")
    if failure.reason == QuoteRuleFailure.PRICED_BELOW:
        below = failure.assessment
        return (
            f"Priced {result.order_currency} {below.compared - result.order_amount:,.2f} below the price charged to "
            f"{below.quote.supplier.name}, an independent customer."
        )
    return f"Not cheaper than the independent quote from {failure.assessment.quote.supplier.name}."


# --- Documented quote-rule exceptions -------------------------------------------------------------


def documented_exception(order: PurchaseOrder) -> QuoteRuleException | None:
    """The approved quote-rule exception that covers the order as it stands, among the exceptions the order
    carries from quote_assessments: the approval gate lets such an order through the quote rule
    (compliance.caps.approval), so an order under it that does not meet the rule is documented, not a breach."""
    return next((e for e in order.quote_exceptions if e.is_approved and e.covers(order)), None)


def _stale_exception_note(order: PurchaseOrder) -> str:
    """An approved exception that no longer covers the order (it changed since), in a sentence."""
    stale = next((e for e in order.quote_exceptions if e.is_approved and not e.covers(order)), None)
    if stale is None:
        return ""
    return (
        f"The quote-rule exception approved for {format_money(stale.order_amount, stale.order_currency)} does not "
        "cover the order as it stands."
    )


def _day(value: datetime.datetime) -> str:
    return _date(timezone.localdate(value))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def documented_exception_detail(exception: QuoteRuleException, result: QuoteRuleResult) -> str:
    """The exception's reason, who requested and approved it and when, and what it waived."""
    text = (
        f"{_sentence(exception.reason)} Requested by {exception.requested_by.username} on "
        f"{_day(exception.requested_at)}; approved by {exception.decided_by.username} on "
        f"{_day(exception.decided_at)}."
    )
    waived = quote_rule_exception(result)
    return f"{text} Quote rule: {waived}" if waived else text


# --- Exceptions ----------------------------------------------------------------------------------


class ExceptionRow(NamedTuple):
    order: PurchaseOrder
    result: QuoteRuleResult
    kind: str
    detail: str


def _renewals_by_category(orders: QuerySet[PurchaseOrder]) -> dict[int, list[CategoryRenewal]]:
    """The renewals of the orders' categories, per category in date order (one query)."""
    renewals: dict[int, list[CategoryRenewal]] = {}
    for renewal in CategoryRenewal.objects.filter(category__in=orders.values("category")).order_by("term_start"):
        renewals.setdefault(renewal.category_id, []).append(renewal)
    return renewals


def _outside_term(order: PurchaseOrder, renewals: dict[int, list[CategoryRenewal]]) -> bool:
    """Outside every recorded term of the order's category, as the approval gate decides it."""
    terms = category_terms(order.category, renewals=renewals.get(order.category_id, []))
    return not order_inside_terms(order, terms)


CANCELLED = "Cancelled · 已取消"
QUOTE_RULE_NOT_MET = "Approved, quote rule not met · 已批准但不符合報價規則"
DOCUMENTED_EXCEPTION = "Approved under a documented quote-rule exception · 按已記錄的報價規則例外批准"
WOULD_BE_REFUSED = "Draft, would be refused · 草稿，將被拒絕"


def report_exceptions(*, start: datetime.date, end: datetime.date) -> Iterator[ExceptionRow]:
    """Orders dated from `start` to `end` that did not go through as the policy wants: cancelled orders,
    approved orders whose quote rule is not met as the records stand now (those an approved quote-rule
    exception covers apart, as documented), and drafts that would be refused (quote rule or term).
    Refused approvals leave the order a draft; they are not stored apart. Streamed; seven queries."""
    orders = PurchaseOrder.objects.filter(order_date__gte=start, order_date__lte=end)
    renewals = _renewals_by_category(orders)
    for order, result in quote_assessments(orders, with_people=True):
        documented = documented_exception(order)
        if order.status == PurchaseOrder.Status.CANCELLED:
            reason = order.cancellation_reason or "no reason given"
            yield ExceptionRow(order, result, CANCELLED, f"Cancelled: {reason}.")
        elif order.status == APPROVED and not result.passes:
            if documented is not None:
                yield ExceptionRow(order, result, DOCUMENTED_EXCEPTION, documented_exception_detail(documented, result))
            else:
                detail = " ".join(filter(None, [quote_rule_exception(result), _stale_exception_note(order)]))
                yield ExceptionRow(order, result, QUOTE_RULE_NOT_MET, detail)
        elif order.is_draft:
            outside = _outside_term(order, renewals)
            # An approved exception waives the quote rule, not the order's own exchange rate.
            refused_on_quotes = not result.passes and (documented is None or result.order_converted is None)
            if outside or refused_on_quotes:
                reasons = ["Outside the category's term." if outside else ""]
                reasons += [quote_rule_exception(result), _stale_exception_note(order)] if refused_on_quotes else []
                yield ExceptionRow(order, result, WOULD_BE_REFUSED, " ".join(filter(None, reasons)))


def report_quote_rule_exceptions(*, start: datetime.date, end: datetime.date) -> list[QuoteRuleException]:
    """Every quote-rule exception requested from `start` to `end`, or for an order dated in that range, whatever
    its status (pending, approved, rejected), oldest first, with its order and people (one query)."""
    requested = Q(requested_at__date__gte=start, requested_at__date__lte=end)
    for_order = Q(purchase_order__order_date__gte=start, purchase_order__order_date__lte=end)
    return list(quote_rule_exception_list().filter(requested | for_order).order_by("requested_at", "id"))


# --- Cap revisions --------------------------------------------------------------------------------


def report_cap_revisions(caps: list[AnnualCap]) -> list[CapRevision]:
    """Every revision of the caps, whatever its status, in the caps' order and then as proposed, with who
    proposed, completed or withdrew it (one query)."""
    if not caps:
        return []
    order = [f"cap__{field}" for field in CAP_ORDER]
    revisions = cap_revision_list().select_related("cap__category__agreement__connected_person")
    return list(revisions.filter(cap__in=[cap.pk for cap in caps]).order_by(*order, "proposed_at", "id"))


# --- Classification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassificationRow:
    """The classification of one category, or of one connected person across all its agreements."""

    subject: str
    connected_person: str
    agreement: str | None  # None: the connected person's aggregated classification
    classification: Classification


def report_classifications(caps: list[AnnualCap], *, on: datetime.date) -> list[ClassificationRow]:
    """Each connected person of the caps, aggregated across its agreements, then each of its categories
    that has one of the caps, classified as at `on` by compliance.rules.classification. A few queries per
    connected person and category (their caps, the financial year, the rates), none per order."""
    people: dict[int, list[TransactionCategory]] = {}
    for cap in caps:
        categories = people.setdefault(cap.category.agreement.connected_person_id, [])
        if cap.category not in categories:
            categories.append(cap.category)
    rows: list[ClassificationRow] = []
    for categories in people.values():
        person = categories[0].agreement.connected_person
        aggregated = connected_person_classification(person, on=on)
        rows.append(ClassificationRow(f"{person.name}: all its agreements", person.name, None, aggregated))
        for category in categories:
            own = category_classification(category, on=on)
            rows.append(ClassificationRow(category.name, person.name, category.agreement.title, own))
    return rows


# --- Alerts --------------------------------------------------------------------------------------


def report_alerts(*, start: datetime.date, end: datetime.date) -> list[Alert]:
    """Alerts whose threshold was reached from `start` to `end` by business date (`reached_on`: an invoice
    dated in December and keyed in January is December's), oldest first (one query)."""
    return list(
        alert_list()
        .select_related("cap__category__agreement__connected_person")
        .filter(reached_on__gte=start, reached_on__lte=end)
        .order_by("reached_on", "created_at", "id")
    )


# --- The management dashboard --------------------------------------------------------------------


def live_caps_as_at(on: datetime.date) -> list[AnnualCap]:
    """Caps whose period contains `on`, with their figures as at `on` (one query)."""
    return report_caps(start=on, end=on, as_of=on)


def recent_alerts(limit: int = 10) -> list[Alert]:
    """The latest alerts, newest first (one query)."""
    return list(
        alert_list().select_related("cap__category__agreement__connected_person").order_by("-created_at", "-id")[:limit]
    )


def draft_order_count(direction: str = "purchase") -> int:
    """Orders of the direction (purchases or sales) entered and waiting for approval (one query)."""
    return PurchaseOrder.objects.filter(status=PurchaseOrder.Status.DRAFT, category__direction=direction).count()
