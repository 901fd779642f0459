"""Which orders every report lists on its Orders and Quotes sheets, whatever their status: an order is on the
Orders sheet when the cap ledger counts something of it as at the report's day (a commitment not withdrawn,
or an invoice, whatever the order's status). A draft without invoices is on neither sheet, an order cancelled
on its order date (voided) on no Orders sheet; a cancelled order still counts where its invoices do, and
where the report's day comes before its cancellation took effect."""

from decimal import Decimal

import pytest

from compliance.caps.approval import purchase_order_approve, purchase_order_cancel
from tests.compliance.workbooks import annual, directors, load, money, monthly, rows
from tests.factories import D, InvoiceFactory


@pytest.fixture
def march_orders(ledger, compliance_user):
    """Seven orders of March 2026 in the 2026 cap (CNY), one of each kind."""

    def approved(number, amount, day):
        dearer = (str(Decimal(amount) + 1), str(Decimal(amount) + 2))
        order = ledger.order(amount, number=number, order_date=D(day), quotes=dearer)
        return purchase_order_approve(order_id=order.pk, user=compliance_user)

    approved("PO-KEPT", "100.00", "2026-03-02")
    voided = approved("PO-VOIDED", "200.00", "2026-03-03")
    purchase_order_cancel(order_id=voided.pk, user=compliance_user, effective_on=D("2026-03-03"))
    withdrawn = approved("PO-WITHDRAWN", "300.00", "2026-03-04")
    purchase_order_cancel(order_id=withdrawn.pk, user=compliance_user, effective_on=D("2026-03-20"))
    late = approved("PO-CANCELLED-IN-APRIL", "400.00", "2026-03-05")
    purchase_order_cancel(order_id=late.pk, user=compliance_user, effective_on=D("2026-04-10"))
    invoiced = approved("PO-CANCELLED-INVOICED", "500.00", "2026-03-06")
    InvoiceFactory(purchase_order=invoiced, number="INV-500", amount=Decimal("500.00"), invoice_date=D("2026-03-10"))
    purchase_order_cancel(order_id=invoiced.pk, user=compliance_user, effective_on=D("2026-03-12"))
    ledger.order("600.00", number="PO-DRAFT", order_date=D("2026-03-07"))
    draft_invoiced = ledger.order("700.00", number="PO-DRAFT-INVOICED", order_date=D("2026-03-08"))
    InvoiceFactory(
        purchase_order=draft_invoiced, number="INV-700", amount=Decimal("700.00"), invoice_date=D("2026-03-09")
    )
    return ledger


# As at 31 March the April cancellation has not taken effect: that order is still committed. By 30 June
# and 31 December it has, and with no invoice it no longer counts.
AS_AT_MARCH = {
    "PO-KEPT": ("Approved", Decimal("100.00"), Decimal("0.00")),
    "PO-CANCELLED-IN-APRIL": ("Cancelled", Decimal("400.00"), Decimal("0.00")),
    "PO-CANCELLED-INVOICED": ("Cancelled", Decimal("0.00"), Decimal("500.00")),
    "PO-DRAFT-INVOICED": ("Draft", Decimal("0.00"), Decimal("700.00")),
}
AFTER_APRIL = {number: row for number, row in AS_AT_MARCH.items() if number != "PO-CANCELLED-IN-APRIL"}


def orders_and_quotes(data: bytes) -> tuple[dict, set[str]]:
    book = load(data)
    orders = {
        row["Order"].value: (row["Status"].value, money(row["Committed in period"]), money(row["Actual in period"]))
        for row in rows(book["Orders"])
    }
    assert len(orders) == len(rows(book["Orders"]))  # each order once: all of them fall in the 2026 period
    return orders, {row["Order"].value for row in rows(book["Quotes"])}


# The Quotes sheet is of the orders the ledger holds entries for as at the report's day
# (report_selectors.counted_orders, decided without summing): also an order withdrawn in full after its
# order date (its quotes were the evidence for a commitment that stood for a while), never a voided one
# (cancelled with effect from its order date, no invoice): a voided order is in no view.
NETTED_TO_NOTHING_BY_MARCH = {"PO-WITHDRAWN"}


@pytest.mark.parametrize(
    ("report", "expected", "netted"),
    [
        (lambda: monthly(D("2026-03-01")), AS_AT_MARCH, NETTED_TO_NOTHING_BY_MARCH),
        (lambda: directors(D("2026-01-01")), AFTER_APRIL, NETTED_TO_NOTHING_BY_MARCH | {"PO-CANCELLED-IN-APRIL"}),
        (lambda: annual(2026), AFTER_APRIL, NETTED_TO_NOTHING_BY_MARCH | {"PO-CANCELLED-IN-APRIL"}),
    ],
    ids=["monthly", "directors", "annual-review"],
)
def test_each_reports_orders_and_quotes_sheets_list_the_orders_the_ledger_counts_whatever_their_status(
    march_orders, report, expected, netted
):
    orders, quoted = orders_and_quotes(report())

    assert {number: (status.split(" ")[0], *figures) for number, (status, *figures) in orders.items()} == expected
    assert quoted == set(expected) | netted
    assert "PO-DRAFT" not in set(orders) | quoted
