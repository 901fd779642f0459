"""Headroom forecast arithmetic on known histories, including partial first and last periods."""

import datetime
from decimal import Decimal

import pytest

from compliance.checks import forecast_headroom
from compliance.forecast import forecast_cap
from compliance.models import HeadroomWarning
from compliance.selectors import live_caps_for_forecast
from tests.factories import D, UserFactory

DEMO_FIRST = {"period_start": D("2025-07-29"), "period_end": D("2025-12-31")}  # 156 days, the partial first period
DEMO_LAST = {"period_start": D("2028-01-01"), "period_end": D("2028-07-28")}  # 210 days, the partial last period


def test_actual_is_projected_from_its_run_rate_in_a_partial_first_period():
    # 156 days in all: 64 have passed by 2025-09-30 and 92 remain.
    forecast = forecast_cap(
        **DEMO_FIRST, cap_amount=Decimal("41000000.00"), as_of=D("2025-09-30"),
        actual=Decimal("16000000.00"), committed=Decimal("16000000.00"), placed_on_order_date=Decimal("0"),
    )  # fmt: skip

    # 16,000,000 / 64 days = 250,000 a day, for the 92 days left.
    assert forecast.projected_actual == Decimal("39000000.00")
    assert forecast.projected_committed == Decimal("16000000.00")
    assert not forecast.insufficient
    assert forecast.reached_on is None


def test_new_orders_placed_at_the_same_pace_would_exceed_a_partial_last_period_cap():
    # 2028-01-01 to 2028-03-31 is 91 days (leap year); 119 days remain to 2028-07-28.
    forecast = forecast_cap(
        **DEMO_LAST, cap_amount=Decimal("41000000.00"), as_of=D("2028-03-31"),
        actual=Decimal("10000000.00"), committed=Decimal("25000000.00"), placed_on_order_date=Decimal("18200000.00"),
    )  # fmt: skip

    # 18,200,000 / 91 = 200,000 a day; 25,000,000 + 200,000 x 119 = 48,800,000 > 41,000,000.
    assert forecast.projected_committed == Decimal("48800000.00")
    assert forecast.insufficient
    # (41,000,000 - 25,000,000) / 200,000 = 80 days after 2028-03-31.
    assert forecast.reached_on == D("2028-06-19")
    assert forecast.projected_pct == Decimal("119.02")


def test_a_spread_order_counts_as_a_schedule_not_a_pace():
    # A year of hosting fully committed on day 40: the committed schedule already covers the period.
    forecast = forecast_cap(
        period_start=D("2026-01-01"), period_end=D("2026-12-31"), cap_amount=Decimal("82000000.00"),
        as_of=D("2026-02-09"), actual=Decimal("0.00"), committed=Decimal("60000000.00"),
        placed_on_order_date=Decimal("0.00"),
    )  # fmt: skip

    assert forecast.projected_committed == Decimal("60000000.00")
    assert not forecast.insufficient


def test_before_the_minimum_history_only_known_figures_count():
    forecast = forecast_cap(
        **DEMO_FIRST, cap_amount=Decimal("41000000.00"), as_of=D("2025-08-05"),
        actual=Decimal("5000000.00"), committed=Decimal("5000000.00"), placed_on_order_date=Decimal("5000000.00"),
        min_days=14,
    )  # fmt: skip

    assert (forecast.projected_actual, forecast.projected_committed) == (Decimal("5000000.00"), Decimal("5000000.00"))


def test_the_cap_is_reached_today_when_a_figure_is_already_at_it():
    forecast = forecast_cap(
        **DEMO_FIRST, cap_amount=Decimal("41000000.00"), as_of=D("2025-11-30"),
        actual=Decimal("30000000.00"), committed=Decimal("41000000.00"), placed_on_order_date=Decimal("1000000.00"),
    )  # fmt: skip

    assert forecast.insufficient
    assert forecast.reached_on == D("2025-11-30")


def test_a_day_outside_the_period_is_refused():
    with pytest.raises(ValueError, match="is not a day of the period"):
        forecast_cap(
            **DEMO_FIRST, cap_amount=Decimal("1.00"), as_of=D("2026-01-01"), actual=Decimal(0),
            committed=Decimal(0), placed_on_order_date=Decimal(0),
        )  # fmt: skip


def test_the_forecast_inputs_count_only_orders_placed_on_their_order_date_within_the_period(ledger):
    approver = UserFactory(username="approver")
    ledger.approved("100000.00", approver=approver, order_date=D("2025-12-20"))  # previous period
    ledger.approved("300000.00", approver=approver, order_date=D("2026-02-10"))
    ledger.approved(
        "365000.00", approver=approver, order_date=D("2026-01-05"),
        service_start=D("2026-01-01"), service_end=D("2026-12-31"),
    )  # fmt: skip

    [cap] = live_caps_for_forecast(on=D("2026-03-01"))

    assert cap.period_start == D("2026-01-01")
    assert (cap.committed, cap.placed_on_order_date) == (Decimal("665000.00"), Decimal("300000.00"))


def test_an_insufficient_forecast_is_warned_once_per_cap(ledger):
    approver = UserFactory(username="approver")
    # 1,200,000 placed in the first 60 days of 2026: 20,000 a day, 2,000,000 cap reached on day 100.
    ledger.approved("1200000.00", approver=approver, order_date=D("2026-02-01"))

    first = forecast_headroom(on=D("2026-03-01"))
    again = forecast_headroom(on=D("2026-03-02"))

    assert [w.cap_id for w in first] == [ledger.caps[1].pk]
    assert again == []
    warning = HeadroomWarning.objects.get()
    assert warning.projected_reached_on == D("2026-03-01") + datetime.timedelta(days=40)
    assert warning.projected_used > warning.cap_amount
