"""The run-rate forecast of a cap at its period end, and a cap's status against 80% and 100%."""

from decimal import Decimal

from compliance.forecast import cap_forecast
from compliance.models import AnnualCap
from compliance.report_selectors import cap_status
from tests.factories import D


def cap(committed: str, actual: str, *, amount: str = "365000.00", start="2026-01-01", end="2026-12-31") -> AnnualCap:
    """A cap with figures as caps_with_utilisation gives them (the forecast is arithmetic on them)."""
    annual = AnnualCap(period_start=D(start), period_end=D(end), amount=Decimal(amount))
    annual.committed, annual.actual = Decimal(committed), Decimal(actual)
    return annual


def test_during_the_period_the_actual_amount_runs_on_at_its_daily_rate_so_far():
    # 90 days of 2026 have run by 31 March: 90,000.00 actual is 1,000.00 a day, 365,000.00 for the year.
    forecast = cap_forecast(cap("200000.00", "90000.00"), as_of=D("2026-03-31"))

    assert forecast.amount == Decimal("365000.00")
    assert forecast.pct == Decimal("100.00")
    assert not forecast.exceeds  # reaching the cap exactly is allowed


def test_what_is_already_committed_is_the_least_the_forecast_can_be():
    forecast = cap_forecast(cap("300000.00", "9000.00"), as_of=D("2026-03-31"))

    assert forecast.amount == Decimal("300000.00")  # the run rate alone would give 36,500.00


def test_the_projection_is_rounded_to_cents():
    # 100.00 over 3 of 7 days: 233.333... -> 233.33.
    forecast = cap_forecast(cap("0.00", "100.00", amount="1000.00", end="2026-01-07"), as_of=D("2026-01-03"))

    assert forecast.amount == Decimal("233.33")


def test_before_the_period_starts_the_forecast_is_what_is_committed():
    forecast = cap_forecast(cap("50000.00", "0.00"), as_of=D("2025-12-31"))

    assert forecast.amount == Decimal("50000.00")


def test_after_the_period_the_forecast_is_what_was_used():
    forecast = cap_forecast(cap("120000.00", "130000.00", end="2026-07-28"), as_of=D("2026-07-31"))

    assert forecast.amount == Decimal("130000.00")


def test_on_the_last_day_of_the_period_the_forecast_is_what_was_used():
    forecast = cap_forecast(cap("120000.00", "130000.00"), as_of=D("2026-12-31"))

    assert forecast.amount == Decimal("130000.00")


def test_a_forecast_above_the_cap_says_by_how_much():
    forecast = cap_forecast(cap("0.00", "200000.00"), as_of=D("2026-06-30"))  # 181 days -> 403,314.92

    assert forecast.exceeds
    assert forecast.amount == Decimal("403314.92")
    assert forecast.excess == Decimal("38314.92")
    assert forecast.headroom == Decimal("-38314.92")


def test_the_status_compares_exactly_as_alerts_do():
    assert cap_status(cap("79996.00", "0.00", amount="100000.00")).level == "below"  # 79.996% shows as 80.00%
    assert cap_status(cap("80000.00", "0.00", amount="100000.00")).level == "warning"
    assert cap_status(cap("0.00", "99999.99", amount="100000.00")).level == "warning"
    assert cap_status(cap("100000.00", "0.00", amount="100000.00")).level == "full"
