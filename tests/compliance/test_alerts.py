"""Alerts are recorded once per cap, threshold and basis, with the change that reached the threshold."""

from decimal import Decimal

import pytest

from compliance.alerts.recording import alerts_record
from compliance.caps.approval import purchase_order_approve
from compliance.caps.documents import invoice_record
from compliance.models import Alert, AlertThreshold
from tests.factories import D


@pytest.fixture
def approve(compliance_user):
    return lambda order: purchase_order_approve(order_id=order.pk, user=compliance_user)


def alerts():
    return sorted((a.cap.period_start.year, str(a.threshold), a.basis, a.utilisation_pct) for a in Alert.objects.all())


def test_reaching_80_percent_committed_records_one_alert_with_the_figures(ledger, approve):
    order = approve(ledger.order("1600000.00", quotes=("1700000", "1700000")))  # 80% of the 2026 cap

    alert = Alert.objects.get()
    assert (alert.cap.period_start, alert.threshold, alert.basis) == (D("2026-01-01"), Decimal("80.00"), "committed")
    assert (alert.utilisation_pct, alert.used_amount, alert.cap_amount) == (
        Decimal("80.00"), Decimal("1600000.00"), Decimal("2000000.00"),
    )  # fmt: skip
    assert alert.triggered_by == order
    assert alert.sent_at is None


def test_just_below_80_percent_records_nothing(ledger, approve):
    approve(ledger.order("1599999.99", quotes=("1700000", "1700000")))  # 79.99999...%

    assert alerts() == []


def test_a_threshold_is_alerted_once_however_often_it_is_crossed_again(ledger, approve):
    approve(ledger.order("1650000.00", quotes=("1700000", "1700000")))
    approve(ledger.order("10000.00", quotes=("20000", "20000")))
    alerts_record(cap_ids=[cap.pk for cap in ledger.caps])

    assert alerts() == [(2026, "80.00", "committed", Decimal("82.50"))]


def test_further_thresholds_configured_by_compliance_are_alerted_too(ledger, approve):
    AlertThreshold.objects.create(percent=Decimal("90.00"))
    AlertThreshold.objects.create(percent=Decimal("100.00"))

    approve(ledger.order("2000000.00", quotes=("2100000", "2100000")))

    assert [(t, b) for _, t, b, _ in alerts()] == [
        ("100.00", "committed"), ("80.00", "committed"), ("90.00", "committed"),
    ]  # fmt: skip


def test_an_invoice_that_takes_actual_past_80_percent_records_an_actual_alert(ledger, approve, finance_user):
    order = approve(ledger.order("1000000.00", quotes=("1100000", "1100000")))
    invoice_record(user=finance_user, purchase_order=order, number="FP-1", invoice_date=D("2026-04-30"),
                   amount=Decimal("1600000.00"), currency="CNY")  # fmt: skip

    assert alerts() == [(2026, "80.00", "actual", Decimal("80.00"))]


def test_the_recorded_alert_says_which_alerts_this_call_created(ledger, approve):
    approve(ledger.order("1700000.00", quotes=("1800000", "1800000")))
    AlertThreshold.objects.create(percent=Decimal("85.00"))

    created = alerts_record(cap_ids=[cap.pk for cap in ledger.caps])

    assert [(a.threshold, a.basis) for a in created] == [(Decimal("85.00"), "committed")]
    assert alerts_record(cap_ids=[cap.pk for cap in ledger.caps]) == []
