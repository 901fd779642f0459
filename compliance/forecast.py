"""How much of an annual cap is expected to be used by the end of its period.

A simple run-rate projection over a cap's figures as at a day (compliance.selectors.caps_with_utilisation
with `as_of`), shown in the reports' Summary and on the management dashboard. Pure arithmetic, no query:
a fuller headroom forecast can take its place behind the same signature.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from transactions.money import ZERO, mul_div_round

from .models import AnnualCap


@dataclass(frozen=True)
class CapForecast:
    """The projected use of a cap at the end of its period."""

    cap_amount: Decimal
    amount: Decimal

    @property
    def pct(self) -> Decimal:
        return mul_div_round(self.amount, 100, self.cap_amount)

    @property
    def headroom(self) -> Decimal:
        return self.cap_amount - self.amount

    @property
    def excess(self) -> Decimal:
        """By how much the forecast goes above the cap (0.00 when it stays within)."""
        return max(self.amount - self.cap_amount, ZERO)

    @property
    def exceeds(self) -> bool:
        """The remaining cap is expected to be insufficient (internal control 4: report to the board)."""
        return self.amount > self.cap_amount


def cap_forecast(cap: AnnualCap, *, as_of: datetime.date) -> CapForecast:
    """A run-rate projection of a cap's use at its period end, from its figures as at `as_of`
    (a cap from caps_with_utilisation(as_of=as_of)).

    During the period: the larger of the committed amount (already contracted for the period) and the
    actual amount extrapolated at its average daily rate so far, actual x period days / days elapsed.
    Before the period starts nothing has run, so the forecast is what is committed; once it has ended,
    it is what was used. Pure arithmetic: no query.
    """
    if as_of < cap.period_start:
        projected = cap.committed
    elif as_of >= cap.period_end:
        projected = cap.used
    else:
        elapsed = (as_of - cap.period_start).days + 1
        total = (cap.period_end - cap.period_start).days + 1
        projected = max(cap.committed, mul_div_round(cap.actual, total, elapsed))
    return CapForecast(cap_amount=cap.amount, amount=projected)
