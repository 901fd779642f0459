"""Headroom forecast: will a cap last until its period ends?

From the figures of a cap as at a business day:
- committed is the committed schedule: every approved order's allocation to the period, future
  service days included;
- actual is projected from the run rate of recurring services only: the invoices of orders spread
  over a service period run on at their daily rate so far (recurring x days in the period / days
  elapsed), while the invoices of one-off orders recognised on their order date count as they are.
  A one-off purchase (a batch of switches) says nothing about the next one, so it is never
  extrapolated as a run rate;
- the projection is the larger of the two; when it exceeds the cap the remaining headroom is expected
  to be insufficient: "forecast above cap: report to the board" (internal control 4), and the
  forecast says on which day the cap would be reached at that pace.

Run rates need a few weeks of history to mean anything: before `min_days` have elapsed in the
period, only the figures already known count. Before a period starts the forecast is what is
committed; once it has ended, what was used. Pure arithmetic on Decimals, no queries.

`forecast_cap` is the arithmetic; `cap_forecast` applies it to a cap as the selectors give it
(compliance.rules.selectors.caps_with_forecast_inputs) for the headroom job, the reports and the dashboard.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from compliance.models import AnnualCap
from transactions.money import ZERO, mul_div_round


@dataclass(frozen=True)
class Forecast:
    as_of: datetime.date
    period_start: datetime.date
    period_end: datetime.date
    cap_amount: Decimal
    actual: Decimal
    committed: Decimal
    projected_actual: Decimal
    projected_committed: Decimal
    reached_on: datetime.date | None  # the day the cap would be reached, if within the period

    @property
    def projected_used(self) -> Decimal:
        return max(self.projected_actual, self.projected_committed)

    @property
    def insufficient(self) -> bool:
        return self.projected_used > self.cap_amount

    @property
    def projected_pct(self) -> Decimal:
        return mul_div_round(self.projected_used, 100, self.cap_amount)


def _reached_on(value: Decimal, daily_rate: Decimal, cap: Decimal, as_of: datetime.date) -> datetime.date | None:
    if value >= cap:
        return as_of
    if daily_rate <= 0:
        return None
    return as_of + datetime.timedelta(days=math.ceil((cap - value) / daily_rate))


def forecast_cap(
    *,
    period_start: datetime.date,
    period_end: datetime.date,
    cap_amount: Decimal,
    as_of: datetime.date,
    actual: Decimal,
    committed: Decimal,
    actual_one_off: Decimal,
    min_days: int = 14,
) -> Forecast:
    """The forecast of one cap as at `as_of` (a day of its period).

    `actual_one_off` is the part of `actual` invoiced against orders recognised on their order date: it
    is not extrapolated; the rest (recurring services) runs on at its daily rate.
    """
    if not period_start <= as_of <= period_end:
        raise ValueError(f"{as_of} is not a day of the period {period_start} to {period_end}")
    elapsed = (as_of - period_start).days + 1
    left = (period_end - as_of).days
    recurring = actual - actual_one_off
    actual_rate = recurring / elapsed if elapsed >= min_days else Decimal(0)
    # The recurring part x period days / days elapsed, rounded once; one-off invoices as they are.
    projected_actual = actual if not actual_rate else actual_one_off + mul_div_round(recurring, elapsed + left, elapsed)
    projected_committed = committed
    candidates = [
        day
        for day in (
            _reached_on(actual, actual_rate, cap_amount, as_of) if projected_actual >= cap_amount else None,
            _reached_on(committed, Decimal(0), cap_amount, as_of) if projected_committed >= cap_amount else None,
        )
        if day is not None and day <= period_end
    ]
    return Forecast(
        as_of=as_of,
        period_start=period_start,
        period_end=period_end,
        cap_amount=cap_amount,
        actual=actual,
        committed=committed,
        projected_actual=projected_actual,
        projected_committed=projected_committed,
        reached_on=min(candidates) if candidates else None,
    )


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

    @property
    def board_note(self) -> str:
        """What the cap's status says when the forecast exceeds the cap, else nothing."""
        return FORECAST_ABOVE_CAP if self.exceeds else ""


FORECAST_ABOVE_CAP = "Forecast above cap: report to the board · 預測超出上限：須向董事會匯報"


def cap_forecast(cap: AnnualCap, *, as_of: datetime.date) -> CapForecast:
    """The projected use of a cap at its period end, from its figures as at `as_of` (a cap from
    caps_with_forecast_inputs(as_of=as_of)): forecast_cap during the period; before it starts, what is
    committed; once it has ended, what was used."""
    if as_of < cap.period_start:
        projected = cap.committed
    elif as_of > cap.period_end:
        projected = cap.used
    else:
        projected = forecast_cap(
            period_start=cap.period_start,
            period_end=cap.period_end,
            cap_amount=cap.amount,
            as_of=as_of,
            actual=cap.actual,
            committed=cap.committed,
            actual_one_off=cap.actual_one_off,
            min_days=settings.CCT_FORECAST_MIN_DAYS,
        ).projected_used
    return CapForecast(cap_amount=cap.amount, amount=projected)
