"""Which period takes the leftover cent of an order spread over a service period, on an exact half-cent tie.

CNY 100.01 spread over two service days, 31 December 2025 (the 2025 period) and 1 January 2026 (the 2026
period): each day's exact share is CNY 50.005. The first period takes the plain rounding of its days, half
up: CNY 50.01; the last takes the remainder: 100.01 - 50.01 = CNY 50.00. (Rounding half to even would give
the first 50.00; taking the remainder first would too.) The figures below are those, by hand, not
day_share's."""

from decimal import Decimal

import pytest
from django.db.models import Value

from compliance.caps.approval import purchase_order_approve
from compliance.models import LedgerEntry
from compliance.rules.selectors import caps_with_utilisation, orders_with_allocation
from tests.compliance.workbooks import load, money, monthly, rows
from tests.factories import D
from transactions.models import PurchaseOrder

FIRST, LAST = Decimal("50.01"), Decimal("50.00")


@pytest.fixture
def tied(ledger, compliance_user):
    order = ledger.order(
        "100.01",
        number="PO-TIE",
        order_date=D("2025-12-20"),
        service_start=D("2025-12-31"),
        service_end=D("2026-01-01"),
    )
    return purchase_order_approve(order_id=order.pk, user=compliance_user)


def test_the_approval_commits_the_leftover_cent_to_the_first_period(ledger, tied):
    commitments = {
        entry.cap.period_start.year: entry.amount
        for entry in LedgerEntry.objects.filter(purchase_order=tied, kind="commitment").select_related("cap")
    }

    assert commitments == {2025: FIRST, 2026: LAST}
    caps = {cap.period_start.year: cap.committed for cap in caps_with_utilisation().filter(category=ledger.category)}
    assert caps == {2025: FIRST, 2026: LAST}


def test_the_databases_allocation_gives_the_first_period_the_leftover_cent_too(ledger, tied):
    def allocation(start: str, end: str) -> Decimal:
        orders = PurchaseOrder.objects.filter(pk=tied.pk)
        return orders_with_allocation(orders, period_start=Value(D(start)), period_end=Value(D(end))).get().allocation

    assert allocation("2025-07-29", "2025-12-31") == FIRST
    assert allocation("2026-01-01", "2026-12-31") == LAST


@pytest.mark.parametrize(("month", "expected"), [("2025-12-01", FIRST), ("2026-01-01", LAST)])
def test_each_months_orders_sheet_shows_its_periods_part(tied, month, expected):
    book = load(monthly(D(month)))

    assert [money(row["Committed in period"]) for row in rows(book["Orders"]) if row["Order"].value == "PO-TIE"] == [
        expected
    ]
