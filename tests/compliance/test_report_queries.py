"""Every report runs the same, small number of queries however many orders it covers."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import CapRevision, QuoteRuleException
from compliance.reports.annual_review import write_annual_review
from compliance.reports.directors import write_directors_report
from compliance.reports.monthly import write_monthly_report
from tests.compliance.workbooks import load, money, rows
from tests.factories import D, UserFactory, post_to_ledger
from transactions.models import Invoice, PurchaseOrder, Quote
from transactions.money import ZERO

REPORTS = {
    "monthly": lambda output: write_monthly_report(D("2026-03-01"), output),
    "directors": lambda output: write_directors_report(D("2026-01-01"), output),
    "annual review": lambda output: write_annual_review(2026, output),
}
# The most each report may run here, three of them the transaction's own (a savepoint inside the test's
# transaction, its release, and `SET LOCAL jit = off`). The annual review's classification takes three
# per connected person and three per category (their caps, the financial year, a rate), none per order.
# One each for the breaches; the annual review one more for its completeness checks, and five for its
# Monitoring sheet (sign-offs, alerts with their acknowledgements, board submissions, the auditors'
# timetable, access undertakings).
MOST_QUERIES = {"monthly": 11, "directors": 22, "annual review": 38}


def bulk_orders(ledger, count: int, prefix: str) -> None:
    """`count` approved orders in the first quarter of 2026, each with an invoice and two quotes, but every
    third with one quote and an approved quote-rule exception; and a withdrawn revision of the 2026 cap."""
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
        for i, order in enumerate(orders)
        for supplier in ledger.independents[: 1 if i % 3 == 0 else 2]
    )  # fmt: skip
    invoices = Invoice.objects.bulk_create(
        Invoice(purchase_order=order, number=f"INV-{order.number}", invoice_date=D("2026-03-01"),
                amount=Decimal("10.00"), currency="CNY")
        for order in orders
    )  # fmt: skip
    post_to_ledger(orders=orders, invoices=invoices)
    approver = UserFactory(username=f"{prefix.lower()}.approver")
    QuoteRuleException.objects.bulk_create(
        QuoteRuleException(purchase_order=order, reason="Sole supplier", evidence="exceptions/search.pdf",
                           order_amount=order.amount, order_currency=order.currency,
                           order_counterparty=order.counterparty, status="approved", requested_by=ledger.clerk,
                           decided_by=approver, decided_at=timezone.now())
        for order in orders[::3]
    )  # fmt: skip
    CapRevision.objects.create(
        cap=ledger.caps[1], previous_amount=Decimal("2000000.00"), new_amount=Decimal("2500000.00"),
        reason="Forecast", status="withdrawn", tier="announcement_and_annual_review", used_when_proposed=ZERO,
        proposed_by=ledger.clerk, withdrawn_by=approver, withdrawn_at=timezone.now(),
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
    book = load(data)
    assert money(rows(book["Summary"])[-1]["Committed"]) == Decimal("1530.00")  # all 153 orders were read
    documented = [row for row in rows(book["Quotes"]) if row["Quote rule"].value.startswith("Not met: documented")]
    assert len(documented) == 51  # and each one's exception
    if "Quote-rule exceptions" in book.sheetnames:
        assert len(rows(book["Quote-rule exceptions"])) == 51
        assert len(rows(book["Cap revisions"])) == 2
