"""Allocation of orders to cap periods and the utilisation of caps, as the API contract defines them."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.caps.approval import purchase_order_cancel
from compliance.rules.selectors import caps_with_utilisation, order_allocation
from tests.factories import D, InvoiceFactory, OrderFactory, RateFactory, post_to_ledger
from transactions.models import PurchaseOrder
from transactions.money import day_share

APPROVED = PurchaseOrder.Status.APPROVED


def approved_order(ledger, amount, **fields):
    """An approved order written directly (the gates are tested elsewhere)."""
    fields.setdefault("counterparty", ledger.connected)
    if fields.get("service_start"):
        fields["recognition"] = PurchaseOrder.Recognition.OVER_SERVICE_PERIOD
    return OrderFactory(
        category=ledger.category, amount=Decimal(amount), status=APPROVED, approved_by=ledger.clerk,
        approved_at=timezone.now(), **fields,
    )  # fmt: skip


def figures(ledger, as_of=None):
    return {cap.period_start.year: cap for cap in caps_with_utilisation(as_of=as_of).filter(category=ledger.category)}


def test_an_order_spread_across_a_period_boundary_adds_up_to_the_order_to_the_cent(ledger):
    # 31 service days: 17 in the 2025 period, 14 in 2026.
    order = approved_order(
        ledger, "1000000.01", order_date=D("2025-12-10"), service_start=D("2025-12-15"), service_end=D("2026-01-14")
    )
    caps = figures(ledger)

    assert caps[2025].committed == Decimal("548387.10")  # 1,000,000.01 x 17 / 31 = 548,387.099...
    assert caps[2026].committed == Decimal("451612.91")  # the remainder
    assert caps[2025].committed + caps[2026].committed == order.amount
    shares = order_allocation(order, order.amount, ledger.caps)
    assert [s.amount for s in shares] == [caps[2025].committed, caps[2026].committed]


def test_the_database_and_python_split_many_orders_identically(ledger):
    starts = [D("2025-08-01") + datetime.timedelta(days=37 * i) for i in range(12)]
    orders = [
        approved_order(
            ledger, f"{12345 + i * 1001}.{(i * 37) % 100:02d}", order_date=start - datetime.timedelta(days=1),
            service_start=start, service_end=start + datetime.timedelta(days=100 + 13 * i),
        )
        for i, start in enumerate(starts)
        if start + datetime.timedelta(days=100 + 13 * i) <= D("2026-12-31")
    ]  # fmt: skip
    caps = figures(ledger)

    for year in (2025, 2026):
        cap = caps[year]
        expected = sum(
            (share.amount for order in orders for share in order_allocation(order, order.amount, ledger.caps)
             if share.cap and share.cap.pk == cap.pk),
            Decimal("0.00"),
        )  # fmt: skip
        assert cap.committed == expected
    assert caps[2025].committed + caps[2026].committed == sum(o.amount for o in orders)


def test_an_order_recognised_on_its_order_date_counts_wholly_in_that_period(ledger):
    approved_order(ledger, "300.00", order_date=D("2025-12-31"))
    approved_order(ledger, "700.00", order_date=D("2026-01-01"))
    caps = figures(ledger)

    assert caps[2025].committed == Decimal("300.00")
    assert caps[2026].committed == Decimal("700.00")


def test_amounts_are_converted_at_the_rate_of_their_own_date(ledger):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.1234"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-31"), rate=Decimal("7.2000"))
    order = approved_order(ledger, "1000.55", currency="USD", order_date=D("2026-03-02"))
    InvoiceFactory(purchase_order=order, amount=Decimal("1000.55"), currency="USD", invoice_date=D("2026-03-31"))
    caps = figures(ledger)

    assert caps[2026].committed == Decimal("7127.32")  # 1000.55 x 7.1234 = 7127.317...
    assert caps[2026].actual == Decimal("7203.96")  # 1000.55 x 7.2


def test_only_the_inverse_pair_recorded_uses_its_reciprocal(ledger):
    RateFactory(currency="CNY", target_currency="HKD", rate_date=D("2026-03-02"), rate=Decimal("1.0870"))
    approved_order(ledger, "1087.00", currency="HKD", order_date=D("2026-03-02"))

    assert figures(ledger)[2026].committed == Decimal("1000.00")


def test_actual_counts_every_invoice_in_the_period_of_its_date_whatever_the_orders_status(ledger):
    order = approved_order(ledger, "5000.00", order_date=D("2025-12-20"))
    InvoiceFactory(purchase_order=order, amount=Decimal("1200.00"), invoice_date=D("2025-12-31"))
    InvoiceFactory(purchase_order=order, amount=Decimal("3800.00"), invoice_date=D("2026-01-01"))
    draft = ledger.order("900.00", order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=draft, amount=Decimal("900.00"), invoice_date=D("2026-02-02"))
    caps = figures(ledger)

    assert (caps[2025].actual, caps[2025].committed) == (Decimal("1200.00"), Decimal("5000.00"))
    # Contract v2: the draft's invoice counts too (3,800.00 + 900.00); the draft commits nothing.
    assert (caps[2026].actual, caps[2026].committed) == (Decimal("4700.00"), Decimal("0.00"))
    draft.refresh_from_db()
    assert draft.invoiced_before_approval


def test_remaining_is_the_cap_less_the_larger_of_committed_and_actual(ledger):
    order = approved_order(ledger, "400000.00", order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("500000.00"), invoice_date=D("2026-03-01"))
    cap = figures(ledger)[2026]

    assert cap.used == Decimal("500000.00")
    assert cap.remaining == Decimal("1500000.00")
    assert (cap.committed_pct, cap.actual_pct) == (Decimal("20.00"), Decimal("25.00"))


def test_cancelling_an_invoiced_order_withdraws_its_commitment_and_leaves_actual_unchanged(ledger, compliance_user):
    order = approved_order(ledger, "400000.00", order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("300000.00"), invoice_date=D("2026-03-01"))
    purchase_order_cancel(order_id=order.pk, user=compliance_user, effective_on=D("2026-04-10"))
    cap = figures(ledger)[2026]

    assert (cap.committed, cap.actual) == (Decimal("0.00"), Decimal("300000.00"))
    # As at the day before it took effect the commitment still stood.
    assert figures(ledger, as_of=D("2026-04-09"))[2026].committed == Decimal("400000.00")


def test_figures_as_at_a_date_follow_business_dates(ledger):
    early = approved_order(ledger, "100.00", order_date=D("2026-01-31"))
    approved_order(ledger, "900.00", order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=early, amount=Decimal("60.00"), invoice_date=D("2026-01-31"))
    InvoiceFactory(purchase_order=early, amount=Decimal("40.00"), invoice_date=D("2026-02-01"))
    cap = figures(ledger, as_of=D("2026-01-31"))[2026]

    assert (cap.committed, cap.actual) == (Decimal("100.00"), Decimal("60.00"))


@pytest.mark.django_db
def test_utilisation_of_all_caps_takes_the_same_queries_for_10_and_1000_orders(ledger):
    def orders(count):
        return PurchaseOrder.objects.bulk_create(
            PurchaseOrder(
                number=f"BULK-{count}-{i}", category=ledger.category, counterparty=ledger.connected,
                order_date=D("2025-08-01") + datetime.timedelta(days=i % 500), amount=Decimal("10.00"),
                currency="CNY", status=APPROVED, created_by=ledger.clerk, approved_by=ledger.clerk,
                approved_at=timezone.now(),
            )
            for i in range(count)
        )  # fmt: skip

    def measure():
        with CaptureQueriesContext(connection) as queries:
            caps = list(caps_with_utilisation())
        return len(queries), sum(cap.committed for cap in caps)

    post_to_ledger(orders=orders(10))
    with_10 = measure()
    post_to_ledger(orders=orders(990))
    with_1000 = measure()

    assert with_10 == (1, Decimal("100.00"))
    assert with_1000 == (1, Decimal("10000.00"))


def test_day_share_of_the_service_matches_the_database_for_a_three_period_order(ledger):
    from tests.factories import CapFactory

    ledger.category.term_end = D("2027-12-31")
    ledger.category.save()
    cap_2027 = CapFactory(category=ledger.category, period_start=D("2027-01-01"), period_end=D("2027-12-31"))
    order = approved_order(
        ledger, "100.00", order_date=D("2025-12-31"), service_start=D("2025-12-31"), service_end=D("2027-01-01")
    )
    caps = figures(ledger)
    total_days = (D("2027-01-01") - D("2025-12-31")).days + 1

    assert caps[2025].committed == day_share(order.amount, 0, 1, total_days)
    assert caps[2026].committed == day_share(order.amount, 1, total_days - 1, total_days)
    assert caps[2027].committed == order.amount - caps[2025].committed - caps[2026].committed
    assert caps[2027].pk == cap_2027.pk
