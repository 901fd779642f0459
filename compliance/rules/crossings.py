"""The day a cap's ledger entries first reached a level (a threshold, or the cap itself): read from the
entries' running sums by day.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from compliance.models import AnnualCap, CapRevision, LedgerEntry
from transactions.money import ZERO

# --- Reading the entries -------------------------------------------------------------------------


def _daily_sums(cap_id: int, basis: str, *, upto: datetime.date | None = None) -> list[tuple[datetime.date, Decimal]]:
    entries = LedgerEntry.objects.filter(cap_id=cap_id, basis=basis)
    if upto is not None:
        entries = entries.filter(entry_date__lte=upto)
    return list(
        entries.order_by("entry_date").values("entry_date").annotate(day=Sum("amount")).values_list("entry_date", "day")
    )


def first_day_reaching(cap_id: int, basis: str, level: Decimal) -> datetime.date | None:
    """The first business date on which the cumulative entries of `basis` reached `level` (they may
    fall back later: the first time counts). One query over the cap's days."""
    running = ZERO
    for day, amount in _daily_sums(cap_id, basis):
        running += amount
        if running >= level:
            return day
    return None


def first_day_exceeded(cap: AnnualCap) -> datetime.date | None:
    """The first business date on which the larger of committed and actual went above the amount in
    force that day (completed revisions take effect on their effective day)."""
    days: dict[datetime.date, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for index, basis in enumerate((LedgerEntry.Basis.COMMITTED, LedgerEntry.Basis.ACTUAL)):
        for day, amount in _daily_sums(cap.pk, basis):
            days[day][index] += amount
    revisions = list(
        CapRevision.objects.filter(cap_id=cap.pk, status=CapRevision.Status.COMPLETED, effective_on__isnull=False)
        .order_by("effective_on", "completed_at", "id")
        .values_list("effective_on", "previous_amount", "new_amount")
    )

    def amount_on(day: datetime.date) -> Decimal:
        amount = revisions[0][1] if revisions else cap.amount
        for effective_on, _previous, new_amount in revisions:
            if effective_on <= day:
                amount = new_amount
        return amount

    committed = actual = ZERO
    for day in sorted(days):
        committed += days[day][0]
        actual += days[day][1]
        if max(committed, actual) > amount_on(day):
            return day
    return None
