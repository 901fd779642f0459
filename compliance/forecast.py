"""Headroom forecast: will a cap last until its period ends?

From the figures of a cap as at a business day:
- actual is projected from its run rate so far: actual + actual / days elapsed x days left;
- committed is the committed schedule (every approved order's allocation to the period, future
  service days included) plus, for the days left, the daily rate of orders recognised on their
  order date that were placed so far in the period (spread orders are a schedule, not a pace);
- the projection is the larger of the two; the cap is insufficient when it exceeds the cap, and
  the forecast says on which day the cap would be reached at that pace.

Run rates need a few weeks of history to mean anything: before `min_days` have elapsed in the
period, only the figures already known count. Pure arithmetic on Decimals, no queries.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from transactions.money import mul_div_round, to_cents


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
    placed_on_order_date: Decimal,
    min_days: int = 14,
) -> Forecast:
    """The forecast of one cap as at `as_of` (a day of its period).

    `placed_on_order_date` is the part of `committed` from orders recognised on their order date and
    dated in the period up to `as_of`: the pace at which new commitments arrive.
    """
    if not period_start <= as_of <= period_end:
        raise ValueError(f"{as_of} is not a day of the period {period_start} to {period_end}")
    elapsed = (as_of - period_start).days + 1
    left = (period_end - as_of).days
    if elapsed < min_days:
        actual_rate = commitment_rate = Decimal(0)
    else:
        actual_rate = actual / elapsed
        commitment_rate = placed_on_order_date / elapsed
    projected_actual = actual + to_cents(actual_rate * left)
    projected_committed = committed + to_cents(commitment_rate * left)
    candidates = [
        day
        for day in (
            _reached_on(actual, actual_rate, cap_amount, as_of) if projected_actual >= cap_amount else None,
            _reached_on(committed, commitment_rate, cap_amount, as_of) if projected_committed >= cap_amount else None,
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
