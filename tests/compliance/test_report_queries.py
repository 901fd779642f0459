"""Every report runs the same, small number of queries however many orders it covers."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.reports.annual_review import write_annual_review
from compliance.reports.directors import write_directors_report
from compliance.reports.monthly import write_monthly_report
from tests.compliance.workbooks import load, money, rows
from tests.factories import D
from transactions.models import Invoice, PurchaseOrder, Quote

REPORTS = {
    "monthly": lambda output: write_monthly_report(D("2026-03-01"), output),
    "directors": lambda output: write_directors_report(D("2026-01-01"), output),
    "annual review": lambda output: write_annual_review(2026, output),
}
# The most each report may run here, three of them the transaction's own (a savepoint inside the test's
# transaction, its release, and `SET LOCAL jit = off`).
MOST_QUERIES = {"monthly": 10, "directors": 17, "annual review": 17}


def bulk_orders(ledger, count: int, prefix: str) -> None:
    """`count` approved orders in the first quarter of 2026, each with two quotes and an invoice."""
    orders = PurchaseOrder.objects.bulk_create(
        PurchaseOrder(
            number=f"{prefix}-{i}", category=ledger.category, counterparty=ledger.connected,
            order_date=D("2026-01-01") + datetime.timedelta(days=i % 60), amount=Decimal("10.00"), currency="CNY",
            status="approved", created_by=ledger.clerk, approved_by=ledger.clerk, approved_at=timezone.now(),
        )
        for i in range(count)
    )  # fmt: skip
    Quote.objects.bulk_create(
        Quote(purchase_order=order, supplier=supplier, quoted_on=D("2025-12-20"), amount=Decimal("11.00"),
              currency="CNY")
        for order in orders
        for supplier in ledger.independents[:2]
    )  # fmt: skip
    Invoice.objects.bulk_create(
        Invoice(purchase_order=order, number=f"INV-{order.number}", invoice_date=D("2026-03-01"),
                amount=Decimal("10.00"), currency="CNY")
        for order in orders
    )  # fmt: skip


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_the_report_runs_the_same_number_of_queries_for_few_and_many_orders(ledger, report):
    write = REPORTS[report]

    def queries() -> tuple[int, bytes]:
        output = BytesIO()
        with CaptureQueriesContext(connection) as captured:
            write(output)
        return len(captured), output.getvalue()

    bulk_orders(ledger, 3, "FEW")
    few, _ = queries()
    bulk_orders(ledger, 150, "MANY")
    many, data = queries()

    assert few == many
    assert many <= MOST_QUERIES[report]
    summary = rows(load(data)["Summary"])
    assert money(summary[-1]["Committed"]) == Decimal("1530.00")  # all 153 orders were read
