"""The annual review pack: the INEDs' one-page summary, the four matters the auditors report on with the
evidence the product holds, every order with its agreement, quotes and exceptions."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.compliance.workbooks import annual, approved_order, load, money, quoted, rows
from tests.factories import D, UserFactory
from transactions.models import PurchaseOrder

YEAR = 2026


@pytest.fixture
def clean_year(ledger):
    """A year in which everything went by the policy."""
    for number, day, amount in (("PO-1", "2026-02-02", "300000.00"), ("PO-2", "2026-08-03", "500000.00")):
        quoted(ledger, approved_order(ledger, amount, number=number, order_date=D(day)), amount_above="25000.00")
    return ledger


def matters(book) -> dict[str, dict]:
    return {row["Matter"].value[:3]: row for row in rows(book["Auditor matters"])}


def test_the_pack_opens_with_the_ined_summary_and_holds_the_evidence_sheets(clean_year):
    assert load(annual(YEAR)).sheetnames == [
        "INED summary", "Summary", "Cap revisions", "Classification", "Auditor matters", "Orders", "Quotes",
        "Exceptions", "Quote-rule exceptions", "Alerts",
    ]  # fmt: skip


def test_the_ined_summary_prints_on_one_page_with_each_cap_of_the_year_and_whether_it_stayed_within(clean_year):
    ws = load(annual(YEAR))["INED summary"]

    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 1)
    assert ws.page_setup.orientation == "landscape"
    lines = [[cell for cell in row if cell.value is not None] for row in ws.iter_rows()]
    caps = [line for line in lines if len(line) == 7 and str(line[0].value).startswith("IDC services")]
    assert [(line[1].value, money(line[3]), money(line[4]), money(line[5]), line[6].value) for line in caps] == [
        ("1 Jan 2026 to 31 Dec 2026", Decimal("2000000.00"), Decimal("0.00"), Decimal("800000.00"), "Yes · 是")
    ]
    text = [str(line[0].value) for line in lines if line]
    assert [t[:3] for t in text if t.startswith("(")] == ["(a)", "(b)", "(c)", "(d)", "(1)", "(2)", "(3)", "(4)"]
    assert all(line[1].value == "Nothing found · 未發現" for line in lines if line and str(line[0].value)[:3] in
               {"(a)", "(b)", "(c)", "(d)"})  # fmt: skip


def test_a_year_by_the_policy_finds_nothing_on_any_of_the_four_matters(clean_year):
    found = matters(load(annual(YEAR)))

    assert {key: (row["Finding"].value, row["Exceptions"].value) for key, row in found.items()} == {
        key: ("Nothing found · 未發現", 0) for key in ("(a)", "(b)", "(c)", "(d)")
    }
    assert found["(b)"]["Orders examined"].value == 2
    # PO-2: 500,000.00 against quotes of 525,000.00: 4.76% below, the smaller margin.
    assert (
        "smallest margin below the lowest independent quote was 4.76%"
        in found["(b)"]["Evidence the product holds"].value
    )


def test_each_matter_counts_what_breaks_it(ledger):
    # (a) approved by the person who entered it; (b) no quotes; (c) a counterparty outside the group;
    # (d) the year's cap exceeded.
    clerk = UserFactory(username="self.approver")
    quoted(ledger, approved_order(ledger, "100.00", number="PO-SELF", order_date=D("2026-02-02"),
                                  created_by=clerk, approved_by=clerk))  # fmt: skip
    approved_order(ledger, "100.00", number="PO-NO-QUOTES", order_date=D("2026-02-03"))
    quoted(ledger, approved_order(ledger, "100.00", number="PO-OUTSIDER", order_date=D("2026-02-04"),
                                  counterparty=ledger.independents[2]))  # fmt: skip
    quoted(ledger, approved_order(ledger, "2000000.00", number="PO-BIG", order_date=D("2026-02-05")))

    book = load(annual(YEAR))
    found = matters(book)

    assert {key: row["Exceptions"].value for key, row in found.items()} == {"(a)": 1, "(b)": 1, "(c)": 1, "(d)": 1}
    assert found["(b)"]["Finding"].value == "1 orders not meeting the quote rule · 發現1項"
    assert "IDC services 2026-01-01 to 2026-12-31" in found["(d)"]["Evidence the product holds"].value
    orders = {row["Order"].value: row for row in rows(book["Orders"])}
    assert orders["PO-OUTSIDER"]["Counterparty in the group"].value == "No · 否"
    assert orders["PO-SELF"]["Entered by"].value == orders["PO-SELF"]["Approved by"].value == "self.approver"


def test_every_order_shows_its_board_approved_agreement(clean_year):
    orders = rows(load(annual(YEAR))["Orders"])

    assert [(r["Order"].value, r["Agreement"].value, r["Board approved on"].value.date()) for r in orders] == [
        ("PO-1", clean_year.agreement.title, D("2025-07-29")),
        ("PO-2", clean_year.agreement.title, D("2025-07-29")),
    ]


def test_cancelled_orders_of_the_year_are_listed_as_exceptions(clean_year, compliance_user):
    order = clean_year.order("100.00", number="PO-CANCELLED", order_date=D("2026-05-05"))
    PurchaseOrder.objects.filter(pk=order.pk).update(
        status="cancelled", cancelled_by=compliance_user, cancelled_at=timezone.now(), cancellation_reason="Duplicate"
    )

    exceptions = rows(load(annual(YEAR))["Exceptions"])

    assert [(r["Order"].value, r["Detail"].value) for r in exceptions] == [("PO-CANCELLED", "Cancelled: Duplicate.")]


def test_the_annual_review_command_writes_the_pack(clean_year, tmp_path):
    output = tmp_path / "review.xlsx"

    call_command("annual_review", "--year", "2026", "--output", str(output), stdout=io.StringIO())

    summary = rows(load(output.read_bytes())["Summary"])
    assert [money(row["Committed"]) for row in summary] == [Decimal("800000.00")]
