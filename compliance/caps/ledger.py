"""The cap ledger: every change to a cap's committed or actual figure is an entry, never changed.

- A *commitment* is posted when an order is approved: one entry per period it touches, dated on the
  order date, cent-exact as compliance.rules.selectors.order_allocation splits it.
- A *withdrawal* is posted when an order is cancelled, on the cancellation's effective day: the negative
  of what the order still has committed in each cap.
- An *invoice* is posted on its invoice date in the period containing it, whatever its order's status;
  a correction reverses what the invoice had posted and posts it again.
- A *credit note* is a negative actual entry on its credit date.
- A *revaluation* is the difference a corrected (or newly recorded) exchange rate makes to the
  orders, invoices and credit notes converted at it, on the rate's date.

Every posting goes through ledger_post, which locks the caps' running totals (CapTotals) in cap-id order
(two acts touching several caps cannot deadlock), inserts the entries, moves the totals by the same
sums and calls cap_figures_changed: the one place that reacts to new figures (alerts, the day a cap
was first exceeded, a breach), in the same transaction.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from compliance.alerts.breaches import breaches_record
from compliance.alerts.recording import alerts_record
from compliance.models import Alert, AnnualCap, CapTotals, LedgerEntry
from compliance.rules.crossings import first_day_exceeded, first_day_reaching
from compliance.rules.selectors import (
    PeriodShare,
    annotate_allocation,
    caps_with_utilisation,
    order_allocation,
)
from transactions.models import CreditNote, ExchangeRate, Invoice, PurchaseOrder
from transactions.money import ZERO, CentsField
from transactions.selectors import amount_converted, converted_amount_expression

if TYPE_CHECKING:
    from transactions.users import User

COMMITTED = LedgerEntry.Basis.COMMITTED
ACTUAL = LedgerEntry.Basis.ACTUAL
Kind = LedgerEntry.Kind
_money = CentsField()


# --- Locking and posting -------------------------------------------------------------------------


def totals_lock(cap_ids: Iterable[int]) -> dict[int, CapTotals]:
    """Lock the running totals of these caps, in cap-id order, creating any that is missing."""
    ids = sorted(set(cap_ids))
    if not ids:
        return {}
    locked = {t.cap_id: t for t in CapTotals.objects.select_for_update().filter(cap_id__in=ids).order_by("cap_id")}
    missing = [cap_id for cap_id in ids if cap_id not in locked]
    if missing:
        CapTotals.objects.bulk_create([CapTotals(cap_id=cap_id) for cap_id in missing], ignore_conflicts=True)
        locked.update(
            {t.cap_id: t for t in CapTotals.objects.select_for_update().filter(cap_id__in=missing).order_by("cap_id")}
        )
    return locked


def ledger_post(
    entries: list[LedgerEntry], *, user: "User | None" = None, triggered_by: PurchaseOrder | None = None
) -> list[LedgerEntry]:
    """Insert entries and move the caps' totals by the same sums, under the totals' lock, then react to
    the new figures (alerts). Entries of 0.00 are left out. Must run inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post runs inside the transaction of the act it records")
    entries = [entry for entry in entries if entry.amount != 0]
    if not entries:
        return []
    totals = totals_lock(entry.cap_id for entry in entries)
    for entry in entries:
        entry.recorded_by = user if user is not None and user.pk else None
    LedgerEntry.objects.bulk_create(entries)
    moved: dict[int, dict[str, Decimal]] = defaultdict(lambda: {COMMITTED: ZERO, ACTUAL: ZERO})
    for entry in entries:
        moved[entry.cap_id][entry.basis] += entry.amount
    for cap_id, by_basis in moved.items():
        row = totals[cap_id]
        row.committed += by_basis[COMMITTED]
        row.actual += by_basis[ACTUAL]
        row.save(update_fields=["committed", "actual"])
    cap_figures_changed(cap_ids=sorted(moved), triggered_by=triggered_by)
    return entries


def cap_figures_changed(*, cap_ids: list[int], triggered_by: PurchaseOrder | None = None) -> list[Alert]:
    """Called in the transaction of every posting, with the caps whose figures moved (their totals
    locked): records the alerts reached, the first day a cap was exceeded and the breach a cap above its
    amount opens (compliance.alerts.breaches). Anything else that must follow a change of figures in the same
    transaction belongs here."""
    caps = list(caps_with_utilisation(AnnualCap.objects.filter(pk__in=cap_ids)))
    for cap in caps:
        if cap.used > cap.amount and cap.exceeded_on is None:
            CapTotals.objects.filter(cap_id=cap.pk).update(exceeded_on=first_day_exceeded(cap))
    breaches_record(caps=caps, triggered_by=triggered_by)
    return alerts_record(cap_ids=cap_ids, triggered_by=triggered_by, caps=caps)


def order_commitment_by_cap(order_id: int) -> dict[int, Decimal]:
    """What the order still has committed in each cap (the sum of its committed entries)."""
    rows = (
        LedgerEntry.objects.filter(purchase_order_id=order_id, basis=COMMITTED)
        .order_by()
        .values("cap_id")
        .annotate(net=Sum("amount"))
        .values_list("cap_id", "net")
    )
    return {cap_id: net for cap_id, net in rows if net}


# --- Entries of each act -------------------------------------------------------------------------


def commitment_entries(order: PurchaseOrder, shares: list[PeriodShare]) -> list[LedgerEntry]:
    """One commitment per period the approved order touches, on its order date."""
    return [
        LedgerEntry(
            cap=share.cap,
            entry_date=order.order_date,
            basis=COMMITTED,
            kind=Kind.COMMITMENT,
            amount=share.amount,
            purchase_order=order,
        )
        for share in shares
        if share.cap is not None
    ]


def withdrawal_entries(order: PurchaseOrder, effective_on: datetime.date) -> list[LedgerEntry]:
    """The negative of what the order still has committed in each cap, on the effective day."""
    return [
        LedgerEntry(
            cap_id=cap_id,
            entry_date=effective_on,
            basis=COMMITTED,
            kind=Kind.WITHDRAWAL,
            amount=-net,
            purchase_order=order,
        )
        for cap_id, net in sorted(order_commitment_by_cap(order.pk).items())
    ]


def _invoice_booked(invoice_id: int) -> dict[tuple[int, datetime.date], Decimal]:
    rows = (
        LedgerEntry.objects.filter(invoice_id=invoice_id, basis=ACTUAL, credit_note__isnull=True)
        .order_by()
        .values("cap_id", "entry_date")
        .annotate(net=Sum("amount"))
        .values_list("cap_id", "entry_date", "net")
    )
    return {(cap_id, day): net for cap_id, day, net in rows if net}


def invoice_entries(invoice: Invoice, *, cap: AnnualCap | None, converted: Decimal | None) -> list[LedgerEntry]:
    """What the invoice must post so that its entries equal `converted` in `cap` on its date: nothing
    if they already do; otherwise a reversal of what it posted before (on the dates it posted them)
    and the invoice again. `cap` is None when no cap period contains the invoice date."""
    booked = _invoice_booked(invoice.pk)
    wanted = {(cap.pk, invoice.invoice_date): converted} if cap is not None and converted else {}
    if booked == wanted:
        return []
    order_id = invoice.purchase_order_id
    reversal = [
        LedgerEntry(
            cap_id=cap_id,
            entry_date=day,
            basis=ACTUAL,
            kind=Kind.INVOICE,
            amount=-net,
            purchase_order_id=order_id,
            invoice=invoice,
        )
        for (cap_id, day), net in sorted(booked.items())
    ]
    posting = [
        LedgerEntry(
            cap_id=cap_id,
            entry_date=day,
            basis=ACTUAL,
            kind=Kind.INVOICE,
            amount=amount,
            purchase_order_id=order_id,
            invoice=invoice,
        )
        for (cap_id, day), amount in wanted.items()
    ]
    return reversal + posting


def credit_note_entries(note: CreditNote, *, cap: AnnualCap | None, converted: Decimal | None) -> list[LedgerEntry]:
    if cap is None or not converted:
        return []
    return [
        LedgerEntry(
            cap=cap,
            entry_date=note.credit_date,
            basis=ACTUAL,
            kind=Kind.CREDIT_NOTE,
            amount=-converted,
            purchase_order_id=note.invoice.purchase_order_id,
            invoice_id=note.invoice_id,
            credit_note=note,
        )
    ]


# --- Revaluation -------------------------------------------------------------------------------


def _caps_of_currencies(pair: set[str]) -> list[int]:
    return list(AnnualCap.objects.filter(category__currency__in=pair).values_list("pk", flat=True))


def _booked(**filters) -> Subquery:
    entries = LedgerEntry.objects.filter(**filters).order_by().values("cap_id").annotate(net=Sum("amount"))
    return Coalesce(Subquery(entries.values("net")[:1], output_field=_money), Value(ZERO), output_field=_money)


def revaluation_entries(rate: ExchangeRate) -> list[LedgerEntry]:
    """The difference the rate as it now stands makes to every approved order's commitment and every
    invoice and credit note converted at that pair on that day, one entry per document and cap. Three
    queries whatever the number of documents (one per kind of document), no query per document."""
    return _order_revaluations(rate) + _invoice_revaluations(rate) + _credit_note_revaluations(rate)


def _order_revaluations(rate: ExchangeRate) -> list[LedgerEntry]:
    """Committed basis: each approved foreign-currency order of the rate's day, per cap its recognition touches."""
    day, pair = rate.rate_date, {rate.currency, rate.target_currency}
    foreign = ~Q(currency=F("category__currency"))
    orders = PurchaseOrder.objects.filter(
        foreign, status=PurchaseOrder.Status.APPROVED, order_date=day, currency__in=pair, category__currency__in=pair
    ).annotate(
        cap_id=F("category__caps__id"),
        cap_period_start=F("category__caps__period_start"),
        cap_period_end=F("category__caps__period_end"),
    )
    orders = (
        annotate_allocation(orders, period_start=F("cap_period_start"), period_end=F("cap_period_end"))
        .filter(recognition_first__lte=F("cap_period_end"), recognition_last__gte=F("cap_period_start"))
        .annotate(booked=_booked(purchase_order_id=OuterRef("pk"), cap_id=OuterRef("cap_id"), basis=COMMITTED))
        .values_list("pk", "cap_id", "allocation", "booked")
    )
    return [
        LedgerEntry(
            cap_id=cap_id,
            entry_date=day,
            basis=COMMITTED,
            kind=Kind.REVALUATION,
            amount=allocation - booked,
            purchase_order_id=order_id,
            exchange_rate=rate,
        )
        for order_id, cap_id, allocation, booked in orders
        if allocation is not None and allocation != booked
    ]


def _invoice_revaluations(rate: ExchangeRate) -> list[LedgerEntry]:
    """Actual basis: each foreign-currency invoice of the rate's day, in the cap whose period holds that day."""
    day, pair = rate.rate_date, {rate.currency, rate.target_currency}
    cap_on_day = AnnualCap.objects.filter(
        category=OuterRef("purchase_order__category"), period_start__lte=day, period_end__gte=day
    ).values("pk")[:1]
    invoices = (
        Invoice.objects.filter(invoice_date=day, currency__in=pair, purchase_order__category__currency__in=pair)
        .exclude(currency=F("purchase_order__category__currency"))
        .annotate(
            converted=converted_amount_expression(
                target_currency="purchase_order__category__currency", on="invoice_date"
            ),
            cap_id=Subquery(cap_on_day),
            booked=_booked(invoice_id=OuterRef("pk"), basis=ACTUAL, credit_note__isnull=True),
        )
        .filter(cap_id__isnull=False)
        .values_list("pk", "purchase_order_id", "cap_id", "converted", "booked")
    )
    return [
        LedgerEntry(
            cap_id=cap_id,
            entry_date=day,
            basis=ACTUAL,
            kind=Kind.REVALUATION,
            amount=converted - booked,
            purchase_order_id=order_id,
            invoice_id=invoice_id,
            exchange_rate=rate,
        )
        for invoice_id, order_id, cap_id, converted, booked in invoices
        if converted is not None and converted != booked
    ]


def _credit_note_revaluations(rate: ExchangeRate) -> list[LedgerEntry]:
    """Actual basis: each foreign-currency credit note of the rate's day, negative, in the cap holding that day."""
    day, pair = rate.rate_date, {rate.currency, rate.target_currency}
    cap_on_credit_day = AnnualCap.objects.filter(
        category=OuterRef("invoice__purchase_order__category"), period_start__lte=day, period_end__gte=day
    ).values("pk")[:1]
    notes = (
        CreditNote.objects.filter(
            credit_date=day, currency__in=pair, invoice__purchase_order__category__currency__in=pair
        )
        .exclude(currency=F("invoice__purchase_order__category__currency"))
        .annotate(
            converted=converted_amount_expression(
                target_currency="invoice__purchase_order__category__currency", on="credit_date"
            ),
            cap_id=Subquery(cap_on_credit_day),
            booked=_booked(credit_note_id=OuterRef("pk"), basis=ACTUAL),
        )
        .filter(cap_id__isnull=False)
        .values_list("pk", "invoice_id", "invoice__purchase_order_id", "cap_id", "converted", "booked")
    )
    return [
        LedgerEntry(
            cap_id=cap_id,
            entry_date=day,
            basis=ACTUAL,
            kind=Kind.REVALUATION,
            amount=-converted - booked,
            purchase_order_id=order_id,
            invoice_id=invoice_id,
            credit_note_id=note_id,
            exchange_rate=rate,
        )
        for note_id, invoice_id, order_id, cap_id, converted, booked in notes
        if converted is not None and -converted != booked
    ]


def revalue_for_rate(*, rate: ExchangeRate, user: "User") -> list[LedgerEntry]:
    """Post the revaluation a saved rate calls for. The totals of every cap in the pair's currencies are
    locked first, so no approval or invoice converting at the old rate can slip in between."""
    totals_lock(_caps_of_currencies({rate.currency, rate.target_currency}))
    return ledger_post(revaluation_entries(rate), user=user)


# --- Building the ledger from the documents (the data migration, and the reconciliation's reference) ---


def expected_entries() -> dict[tuple[int, int, str], Decimal]:
    """What the documents say each order puts in each cap, per basis, today: the allocation of every
    approved order; every invoice (whatever its order's status) in the period of its date, less its
    credit notes. Set-based: three queries. Keys are (order id, cap id, basis)."""
    expected: dict[tuple[int, int, str], Decimal] = defaultdict(lambda: ZERO)
    orders = PurchaseOrder.objects.filter(status=PurchaseOrder.Status.APPROVED).annotate(
        cap_id=F("category__caps__id"),
        cap_period_start=F("category__caps__period_start"),
        cap_period_end=F("category__caps__period_end"),
    )
    orders = (
        annotate_allocation(orders, period_start=F("cap_period_start"), period_end=F("cap_period_end"))
        .filter(recognition_first__lte=F("cap_period_end"), recognition_last__gte=F("cap_period_start"))
        .values_list("pk", "cap_id", "allocation")
    )
    for order_id, cap_id, allocation in orders:
        if allocation:
            expected[(order_id, cap_id, COMMITTED)] += allocation
    for order_id, cap_id, converted in _invoices_with_caps().values_list("purchase_order_id", "cap_id", "converted"):
        if converted:
            expected[(order_id, cap_id, ACTUAL)] += converted
    for order_id, cap_id, converted in _credit_notes_with_caps().values_list(
        "invoice__purchase_order_id", "cap_id", "converted"
    ):
        if converted:
            expected[(order_id, cap_id, ACTUAL)] -= converted
    return {key: amount for key, amount in expected.items() if amount}


def _invoices_with_caps():
    cap = AnnualCap.objects.filter(
        category=OuterRef("purchase_order__category"),
        period_start__lte=OuterRef("invoice_date"),
        period_end__gte=OuterRef("invoice_date"),
    ).values("pk")[:1]
    return Invoice.objects.annotate(
        converted=converted_amount_expression(target_currency="purchase_order__category__currency", on="invoice_date"),
        cap_id=Subquery(cap),
    ).filter(cap_id__isnull=False, converted__isnull=False)


def _credit_notes_with_caps():
    cap = AnnualCap.objects.filter(
        category=OuterRef("invoice__purchase_order__category"),
        period_start__lte=OuterRef("credit_date"),
        period_end__gte=OuterRef("credit_date"),
    ).values("pk")[:1]
    return CreditNote.objects.annotate(
        converted=converted_amount_expression(
            target_currency="invoice__purchase_order__category__currency", on="credit_date"
        ),
        cap_id=Subquery(cap),
    ).filter(cap_id__isnull=False, converted__isnull=False)


def ledger_build() -> list[int]:
    """Build the ledger of documents recorded before it existed, with their business dates: commitments of
    orders ever approved on their order date, the withdrawal of those since cancelled on their order date
    too (before the ledger a cancelled order counted in no figure, as at any day), invoices on their
    dates, whatever the order's status. Then the totals, the days caps were first exceeded and the
    alerts' `reached_on`. Returns the caps whose figures the rules of the ledger change (invoices of
    draft or cancelled orders now count)."""
    for cap_id in AnnualCap.objects.values_list("pk", flat=True):
        CapTotals.objects.get_or_create(cap_id=cap_id)
    entries = _commitment_entries()
    PurchaseOrder.objects.filter(status=PurchaseOrder.Status.CANCELLED, cancellation_effective_on__isnull=True).update(
        cancellation_effective_on=F("order_date")
    )
    invoice_entries, changed = _invoice_entries()
    entries += invoice_entries
    LedgerEntry.objects.bulk_create([entry for entry in entries if entry.amount], batch_size=5000)
    # Orders invoiced while still drafts (before their approval, or never approved).
    early = Invoice.objects.filter(purchase_order=OuterRef("pk")).filter(
        Q(purchase_order__approved_at__isnull=True) | Q(created_at__lt=OuterRef("approved_at"))
    )
    PurchaseOrder.objects.filter(Exists(early)).update(invoiced_before_approval=True)
    _set_totals_and_days()
    return sorted(changed)


def _commitment_entries() -> list[LedgerEntry]:
    """The commitment of every order ever approved, per cap, on its order date; a cancelled order's
    withdrawal on the same date."""
    ever_approved = PurchaseOrder.objects.filter(approved_at__isnull=False).annotate(
        cap_id=F("category__caps__id"),
        cap_period_start=F("category__caps__period_start"),
        cap_period_end=F("category__caps__period_end"),
    )
    rows = (
        annotate_allocation(ever_approved, period_start=F("cap_period_start"), period_end=F("cap_period_end"))
        .filter(recognition_first__lte=F("cap_period_end"), recognition_last__gte=F("cap_period_start"))
        .values_list("pk", "cap_id", "order_date", "status", "allocation")
    )
    entries = []
    for order_id, cap_id, order_date, status, allocation in rows:
        if not allocation:
            continue
        entries.append(
            LedgerEntry(
                cap_id=cap_id,
                entry_date=order_date,
                basis=COMMITTED,
                kind=Kind.COMMITMENT,
                amount=allocation,
                purchase_order_id=order_id,
            )
        )
        if status == PurchaseOrder.Status.CANCELLED:
            entries.append(
                LedgerEntry(
                    cap_id=cap_id,
                    entry_date=order_date,
                    basis=COMMITTED,
                    kind=Kind.WITHDRAWAL,
                    amount=-allocation,
                    purchase_order_id=order_id,
                )
            )
    return entries


def _invoice_entries() -> tuple[list[LedgerEntry], set[int]]:
    """Every invoice on its date, whatever its order's status; and the caps holding invoices of orders
    not approved, whose figures the ledger's rules change."""
    invoices = _invoices_with_caps().values_list(
        "pk", "purchase_order_id", "cap_id", "invoice_date", "converted", "purchase_order__status"
    )
    entries = []
    changed = set()
    for invoice_id, order_id, cap_id, day, converted, status in invoices:
        entries.append(
            LedgerEntry(
                cap_id=cap_id,
                entry_date=day,
                basis=ACTUAL,
                kind=Kind.INVOICE,
                amount=converted,
                purchase_order_id=order_id,
                invoice_id=invoice_id,
            )
        )
        if status != PurchaseOrder.Status.APPROVED:
            changed.add(cap_id)
    return entries, changed


def _set_totals_and_days() -> None:
    """The caps' totals from the entries, the days caps were first exceeded and the alerts' `reached_on`."""
    for cap_id, basis, total in (
        LedgerEntry.objects.order_by()
        .values("cap_id", "basis")
        .annotate(total=Sum("amount"))
        .values_list("cap_id", "basis", "total")
    ):
        CapTotals.objects.filter(cap_id=cap_id).update(**{basis: total})
    for cap in caps_with_utilisation():
        if cap.used > cap.amount:
            CapTotals.objects.filter(cap_id=cap.pk).update(exceeded_on=first_day_exceeded(cap))
    for alert in Alert.objects.filter(reached_on__isnull=True).select_related("cap"):
        day = first_day_reaching(alert.cap_id, alert.basis, alert.threshold * alert.cap.amount / 100)
        Alert.objects.filter(pk=alert.pk).update(reached_on=day or alert.created_at.date())


def order_commitment_post(order: PurchaseOrder, *, user: "User | None" = None) -> list[LedgerEntry]:
    """Post the commitment of an order already approved by other means (loading data in bulk, tests),
    without the gates: the same entries an approval posts."""
    category = order.category
    converted = amount_converted(
        amount=order.amount, currency=order.currency, target_currency=category.currency, on=order.order_date
    )
    if converted is None:
        return []
    with transaction.atomic():
        shares = order_allocation(order, converted, list(AnnualCap.objects.filter(category=category)))
        return ledger_post(commitment_entries(order, shares), user=user, triggered_by=order)
