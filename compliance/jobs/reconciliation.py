"""Reconciliation: each cap's running totals against the sums of its ledger entries, and those against a
recomputation from its orders, invoices and credit notes; any difference is e-mailed to compliance.
"""

import datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from compliance.delivery.mailing import mailing_once, render_body
from compliance.models import AnnualCap, LedgerEntry, Mailing
from compliance.rules.selectors import (
    caps_with_utilisation,
    order_allocation,
)
from transactions.models import PurchaseOrder
from transactions.money import format_money
from transactions.selectors import RateBook


def recompute_caps() -> dict[int, tuple[Decimal, Decimal]]:
    """Every cap's (committed, actual) recomputed in Python from the documents themselves, by the rules of
    contract v2 and independently of the ledger: the allocation of approved orders; every invoice, whatever
    its order's status, less its credit notes. A fixed number of queries."""
    caps_by_category: dict[int, list[AnnualCap]] = {}
    for cap in AnnualCap.objects.order_by("period_start"):
        caps_by_category.setdefault(cap.category_id, []).append(cap)
    orders = list(PurchaseOrder.objects.select_related("category").prefetch_related("invoices__credit_notes"))
    rates = RateBook(
        [(o.currency, o.category.currency, o.order_date) for o in orders]
        + [(i.currency, o.category.currency, i.invoice_date) for o in orders for i in o.invoices.all()]
        + [
            (n.currency, o.category.currency, n.credit_date)
            for o in orders
            for i in o.invoices.all()
            for n in i.credit_notes.all()
        ]
    )
    totals = {cap.pk: [Decimal("0.00"), Decimal("0.00")] for caps in caps_by_category.values() for cap in caps}

    def add_actual(caps, amount, currency, target, day, sign=1):
        converted = rates.convert(amount, currency, target, day)
        cap = next((c for c in caps if c.covers(day)), None)
        if cap is not None and converted is not None:
            totals[cap.pk][1] += sign * converted

    for order in orders:
        caps = caps_by_category.get(order.category_id, [])
        target = order.category.currency
        converted = rates.convert(order.amount, order.currency, target, order.order_date)
        if order.status == PurchaseOrder.Status.APPROVED and converted is not None:
            for share in order_allocation(order, converted, caps):
                if share.cap is not None:
                    totals[share.cap.pk][0] += share.amount
        for invoice in order.invoices.all():
            add_actual(caps, invoice.amount, invoice.currency, target, invoice.invoice_date)
            for note in invoice.credit_notes.all():
                add_actual(caps, note.amount, note.currency, target, note.credit_date, sign=-1)
    return {pk: (committed, actual) for pk, (committed, actual) in totals.items()}


def ledger_sums() -> dict[int, tuple[Decimal, Decimal]]:
    """Every cap's (committed, actual) as the sums of its ledger entries (one query)."""
    sums: dict[int, list[Decimal]] = {}
    rows = LedgerEntry.objects.order_by().values("cap_id", "basis").annotate(total=Sum("amount"))
    for cap_id, basis, total in rows.values_list("cap_id", "basis", "total"):
        sums.setdefault(cap_id, [Decimal("0.00"), Decimal("0.00")])[0 if basis == "committed" else 1] = total
    return {cap_id: (committed, actual) for cap_id, (committed, actual) in sums.items()}


def _figures(committed: Decimal, actual: Decimal, currency: str) -> str:
    return f"committed {format_money(committed, currency)}, actual {format_money(actual, currency)}"


def reconcile_caps(*, on: datetime.date | None = None) -> tuple[list[dict], Mailing | None]:
    """The ledger's two invariants, for every cap: the running totals the product reports equal the sums
    of its entries, and the entries equal what the documents say (recomputed from the orders, invoices
    and credit notes). Any difference is e-mailed to the lists that take reconciliation differences
    (once per day)."""
    on = on or timezone.localdate()
    recomputed = recompute_caps()
    entries = ledger_sums()
    zero = (Decimal("0.00"), Decimal("0.00"))
    differences = []
    for cap in sorted(caps_with_utilisation(), key=lambda c: (c.category.name, c.period_start)):
        committed, actual = recomputed.get(cap.pk, zero)
        in_entries = entries.get(cap.pk, zero)
        if (cap.committed, cap.actual) != (committed, actual) or in_entries != (committed, actual):
            currency = cap.category.currency
            differences.append(
                {
                    "cap": cap,
                    "reported": _figures(cap.committed, cap.actual, currency)
                    + f" (ledger entries: {_figures(*in_entries, currency)})",
                    "recomputed": _figures(committed, actual, currency),
                }
            )
    if not differences:
        return [], None

    def compose(mailing: Mailing) -> None:
        mailing.subject = f"Cap figures do not reconcile ({on}) · 年度上限數字核對差異"
        render_body(mailing, "reconciliation", {"on": on, "differences": differences})

    mailing, _ = mailing_once(Mailing.Kind.RECONCILIATION, on.isoformat(), compose)
    return differences, mailing
