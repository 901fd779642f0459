"""Headroom forecast arithmetic on known histories, including partial first and last periods; the forecast
of a cap at its period end as the reports and the dashboard show it; a cap's status against 80% and 100%."""

import datetime
from decimal import Decimal

import pytest

from compliance.jobs.sweeps import forecast_headroom
from compliance.models import AnnualCap, HeadroomWarning
from compliance.reports.selectors import cap_status
from compliance.rules.forecast import cap_forecast, forecast_cap
from compliance.rules.selectors import live_caps_for_forecast
from tests.factories import D, InvoiceFactory, UserFactory

DEMO_FIRST = {"period_start": D("2025-07-29"), "period_end": D("2025-12-31")}  # 156 days, the partial first period
DEMO_LAST = {"period_start": D("2028-01-01"), "period_end": D("2028-07-28")}  # 210 days, the partial last period


def test_actual_is_projected_from_its_run_rate_in_a_partial_first_period():
    # 156 days in all: 64 have passed by 2025-09-30 and 92 remain.
    forecast = forecast_cap(
        **DEMO_FIRST, cap_amount=Decimal("41000000.00"), as_of=D("2025-09-30"),
        actual=Decimal("16000000.00"), committed=Decimal("16000000.00"), actual_one_off=Decimal("0"),
    )  # fmt: skip

    # 16,000,000 / 64 days = 250,000 a day, for the 92 days left.
    assert forecast.projected_actual == Decimal("39000000.00")
    assert forecast.projected_committed == Decimal("16000000.00")
    assert not forecast.insufficient
    assert forecast.reached_on is None


def test_one_off_orders_are_not_extrapolated_as_a_run_rate():
    # 2028-01-01 to 2028-03-31 is 91 days (leap year); 119 days remain to 2028-07-28. Every invoice so far is
    # of one-off hardware orders: the next purchase is not implied by the last one.
    forecast = forecast_cap(
        **DEMO_LAST, cap_amount=Decimal("41000000.00"), as_of=D("2028-03-31"),
        actual=Decimal("30000000.00"), committed=Decimal("25000000.00"), actual_one_off=Decimal("30000000.00"),
    )  # fmt: skip

    # As a run rate 30,000,000 x 210 / 91 would be 69,230,769.23, far above the cap.
    assert (forecast.projected_actual, forecast.projected_committed) == (Decimal("30000000.00"), Decimal("25000000.00"))
    assert not forecast.insufficient


def test_recurring_services_run_on_and_one_off_invoices_count_as_they_are():
    # 91 of 210 days: 9,100,000 recurring is 100,000 a day, 21,000,000 for the period; plus 5,000,000 one-off.
    forecast = forecast_cap(
        **DEMO_LAST, cap_amount=Decimal("25000000.00"), as_of=D("2028-03-31"),
        actual=Decimal("14100000.00"), committed=Decimal("20000000.00"), actual_one_off=Decimal("5000000.00"),
    )  # fmt: skip

    assert forecast.projected_actual == Decimal("26000000.00")
    assert forecast.insufficient
    # 14,100,000 + 100,000 a day reaches 25,000,000 after 109 days: 2028-07-18.
    assert forecast.reached_on == D("2028-07-18")


def test_a_spread_order_counts_as_a_schedule_not_a_pace():
    # A year of hosting fully committed on day 40: the committed schedule already covers the period.
    forecast = forecast_cap(
        period_start=D("2026-01-01"), period_end=D("2026-12-31"), cap_amount=Decimal("82000000.00"),
        as_of=D("2026-02-09"), actual=Decimal("0.00"), committed=Decimal("60000000.00"),
        actual_one_off=Decimal("0.00"),
    )  # fmt: skip

    assert forecast.projected_committed == Decimal("60000000.00")
    assert not forecast.insufficient


def test_before_the_minimum_history_only_known_figures_count():
    forecast = forecast_cap(
        **DEMO_FIRST, cap_amount=Decimal("41000000.00"), as_of=D("2025-08-05"),
        actual=Decimal("5000000.00"), committed=Decimal("5000000.00"), actual_one_off=Decimal("0.00"),
        min_days=14,
    )  # fmt: skip

    assert (forecast.projected_actual, forecast.projected_committed) == (Decimal("5000000.00"), Decimal("5000000.00"))


def test_the_cap_is_reached_today_when_a_figure_is_already_at_it():
    forecast = forecast_cap(
        **DEMO_FIRST, cap_amount=Decimal("41000000.00"), as_of=D("2025-11-30"),
        actual=Decimal("40000000.00"), committed=Decimal("41000000.00"), actual_one_off=Decimal("0.00"),
    )  # fmt: skip

    # 125 of 156 days: 40,000,000 runs on to 49,920,000; committed is already at the cap.

    assert forecast.insufficient
    assert forecast.reached_on == D("2025-11-30")


def test_a_day_outside_the_period_is_refused():
    with pytest.raises(ValueError, match="is not a day of the period"):
        forecast_cap(
            **DEMO_FIRST, cap_amount=Decimal("1.00"), as_of=D("2026-01-01"), actual=Decimal(0),
            committed=Decimal(0), actual_one_off=Decimal(0),
        )  # fmt: skip


def test_the_forecast_inputs_count_the_invoices_of_one_off_orders_within_the_period(ledger):
    approver = UserFactory(username="approver")
    earlier = ledger.approved("100000.00", approver=approver, order_date=D("2025-12-20"))  # previous period
    InvoiceFactory(purchase_order=earlier, invoice_date=D("2026-01-10"), amount=Decimal("100000.00"))
    one_off = ledger.approved("300000.00", approver=approver, order_date=D("2026-02-10"))
    InvoiceFactory(purchase_order=one_off, invoice_date=D("2026-02-20"), amount=Decimal("300000.00"))
    InvoiceFactory(purchase_order=one_off, invoice_date=D("2026-03-02"), amount=Decimal("1.00"))  # after as_of
    hosting = ledger.approved(
        "365000.00", approver=approver, order_date=D("2026-01-05"),
        service_start=D("2026-01-01"), service_end=D("2026-12-31"),
    )  # fmt: skip
    InvoiceFactory(purchase_order=hosting, invoice_date=D("2026-01-31"), amount=Decimal("31000.00"))

    [cap] = live_caps_for_forecast(on=D("2026-03-01"))

    assert cap.period_start == D("2026-01-01")
    # 100,000 + 300,000 one-off invoiced in 2026 by 1 March, and 31,000 of hosting.
    assert (cap.actual, cap.actual_one_off) == (Decimal("431000.00"), Decimal("400000.00"))


def test_an_insufficient_forecast_is_warned_once_per_cap(ledger):
    approver = UserFactory(username="approver")
    # Hosting invoiced at 600,000 in the first 60 days of 2026: 10,000 a day, the 2,000,000 cap reached
    # 140 days after 1 March.
    hosting = ledger.approved("1500000.00", approver=approver, order_date=D("2026-01-01"),
                              service_start=D("2026-01-01"), service_end=D("2026-12-31"))  # fmt: skip
    InvoiceFactory(purchase_order=hosting, invoice_date=D("2026-02-28"), amount=Decimal("600000.00"))

    first = forecast_headroom(on=D("2026-03-01"))
    again = forecast_headroom(on=D("2026-03-02"))

    assert [w.cap_id for w in first] == [ledger.caps[1].pk]
    assert again == []
    warning = HeadroomWarning.objects.get()
    assert warning.projected_reached_on == D("2026-03-01") + datetime.timedelta(days=140)
    assert warning.projected_used > warning.cap_amount


# --- The forecast of a cap, as reports and the dashboard use it ---------------------------------------


def cap(
    committed: str, actual: str, *, amount: str = "365000.00", start="2026-01-01", end="2026-12-31", one_off: str = "0"
) -> AnnualCap:
    """A cap with figures as caps_with_utilisation gives them (the forecast is arithmetic on them)."""
    annual = AnnualCap(period_start=D(start), period_end=D(end), amount=Decimal(amount))
    annual.committed, annual.actual = Decimal(committed), Decimal(actual)
    annual.actual_one_off = Decimal(one_off)
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
    # 100.00 over 15 of 31 days: 206.666... -> 206.67.
    forecast = cap_forecast(cap("0.00", "100.00", amount="1000.00", end="2026-01-31"), as_of=D("2026-01-15"))

    assert forecast.amount == Decimal("206.67")


def test_one_off_invoices_are_not_carried_on_to_the_period_end():
    # 73,000.00 invoiced for one-off orders in 73 days: as a run rate it would be 365,000.00.
    forecast = cap_forecast(cap("100000.00", "73000.00", one_off="73000.00"), as_of=D("2026-03-14"))

    assert forecast.amount == Decimal("100000.00")
    assert not forecast.exceeds


def test_a_forecast_above_the_cap_tells_the_board():
    above = cap("0.00", "200000.00")
    forecast = cap_forecast(above, as_of=D("2026-06-30"))

    # 200,000.00 of 365,000.00 used (54.8%); 181 days run on to 403,314.92 at the period end.
    assert cap_status(above, forecast=forecast).label == (
        "Below 80% · 低於80%; Forecast above cap: report to the board · 預測超出上限：須向董事會匯報"
    )
    assert cap_status(above).label == "Below 80% · 低於80%"


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
