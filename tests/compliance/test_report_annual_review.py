"""The annual review pack: the INEDs' one-page summary, the four matters the auditors report on with the
evidence the product holds, every order with its agreement, quotes and exceptions."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.compliance.workbooks import annual, approved_order, load, money, quoted, rows
from tests.factories import D, InvoiceFactory, UserFactory
from transactions.models import PurchaseOrder

YEAR = 2026


def aware(day: str):
    return timezone.make_aware(datetime.datetime.combine(D(day), datetime.time(10)))


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
        "INED summary", "Summary", "Cap revisions", "Breaches", "Classification", "Auditor matters",
        "Matter exceptions", "Board approvals", "Orders", "Quotes", "Exceptions", "Quote-rule exceptions", "Alerts",
        "Completeness",
        "Monitoring",
    ]  # fmt: skip


def test_the_ined_summary_s_wrapped_rows_are_as_tall_as_their_text_and_the_last_cell_spans_the_page(clean_year):
    ws = load(annual(YEAR))["INED summary"]

    row = next(r[0].row for r in ws.iter_rows() if str(r[0].value or "").startswith("(2) On normal"))
    # "(2) On normal commercial terms or better · " (43 characters, 1.1 wide each) and 9 Chinese characters
    # (2 each): 65.3 in a column of 42 (41 of room): two lines of 15 points at least.
    assert ws.row_dimensions[row].height >= 30
    # Its facts span columns B to G, merged, so they wrap within the page instead of running off it.
    assert f"B{row}:G{row}" in {str(merged) for merged in ws.merged_cells.ranges}


def test_a_long_category_name_wraps_in_the_ined_summary_instead_of_being_cut_off(clean_year):
    clean_year.category.name = "IDC services and content delivery for the group's cloud"
    clean_year.category.name_zh = "集團雲服務的數據中心及內容分發服務"
    clean_year.category.save()
    ws = load(annual(YEAR))["INED summary"]

    [row] = [  # the cap's line of "Caps of the year" (the classification names the category too)
        r[0].row for r in ws.iter_rows()
        if str(r[0].value or "").startswith("IDC services and content") and r[1].value == "1 Jan 2026 to 31 Dec 2026"
    ]  # fmt: skip
    # 56 Latin characters and the " (" and ")" around the Chinese (59 at 1.1: 64.9) and 17 Chinese characters
    # (34): 98.9 in a column of 42 (41 of room): three lines of 15 points.
    assert ws.row_dimensions[row].height >= 45
    assert ws[f"A{row}"].alignment.wrap_text


def test_the_ined_summary_prints_one_page_wide_with_each_cap_of_the_year_and_whether_it_stayed_within(clean_year):
    ws = load(annual(YEAR))["INED summary"]

    # One page wide and as long as it needs: squeezed onto one page, wrapped rows printed over each other.
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.page_setup.orientation == "landscape"
    lines = [[cell for cell in row if cell.value is not None] for row in ws.iter_rows()]
    caps = [line for line in lines if len(line) == 7 and str(line[0].value).startswith("IDC services")]
    assert [(line[1].value, money(line[3]), money(line[4]), money(line[5]), line[6].value) for line in caps] == [
        ("1 Jan 2026 to 31 Dec 2026", Decimal("2000000.00"), Decimal("0.00"), Decimal("800000.00"), "Yes · 是")
    ]
    text = [str(line[0].value) for line in lines if line]
    assert [t[:3] for t in text if t.startswith("(")] == ["(a)", "(b)", "(c)", "(d)", "(1)", "(2)", "(3)", "(4)"]
    assert [line[1].value for line in lines if line and str(line[0].value)[:3] in {"(a)", "(b)", "(c)", "(d)"}] == [
        "Exceptions identified by the product: 0 · 系統識別的例外：0"
    ] * 4
    assert not any("Nothing found" in str(cell.value) for line in lines for cell in line)


def test_a_year_by_the_policy_shows_no_exceptions_and_draws_no_conclusion(clean_year):
    found = matters(load(annual(YEAR)))

    assert {key: (row["Identified by the product"].value, row["Exceptions"].value) for key, row in found.items()} == {
        key: ("Exceptions identified by the product: 0 · 系統識別的例外：0", 0) for key in ("(a)", "(b)", "(c)", "(d)")
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
    assert found["(b)"]["Identified by the product"].value.startswith(
        "Exceptions identified by the product: 1 · 系統識別的例外：1. PO-NO-QUOTES: Does not meet the quote rule"
    )
    listed = [(r["Matter"].value[:3], r["Order or cap"].value, r["What the product identified"].value,
               r["Where the evidence is"].value) for r in rows(book["Matter exceptions"])]  # fmt: skip
    assert [row[:2] for row in listed] == [
        ("(a)", "PO-SELF"), ("(b)", "PO-NO-QUOTES"), ("(c)", "PO-OUTSIDER"),
        ("(d)", "IDC services 2026-01-01 to 2026-12-31"),
    ]  # fmt: skip
    assert listed[0][2:] == (
        "Approved by the person who entered it.",
        "Orders: Order date, Approved on, Entered by, Approved by; Invoices",
    )
    # 100.00 + 100.00 + 100.00 + 2,000,000.00 committed against the 2026 cap of 2,000,000.00.
    # The breach the last order opened is named with it: 2,000,300.00 - 2,000,000.00 = 300.00 over.
    assert listed[3][2] == (
        "Used CNY 2,000,300.00 of CNY 2,000,000.00. Breach recorded: detected on 5 Feb 2026, over by CNY 300.00, "
        "open: to announce."
    )
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


def test_orders_approved_after_their_order_date_or_after_an_invoice_are_exceptions(clean_year):
    late = quoted(clean_year, approved_order(clean_year, "100.00", number="PO-LATE", order_date=D("2026-03-02"),
                                             approved_at=aware("2026-03-09")))  # fmt: skip
    InvoiceFactory(purchase_order=late, invoice_date=D("2026-03-05"), amount=Decimal("100.00"))

    book = load(annual(YEAR))

    listed = [
        (r["Order or cap"].value, r["What the product identified"].value) for r in rows(book["Matter exceptions"])
    ]
    assert listed == [
        ("PO-LATE", "Approved on 9 Mar 2026, after its order date 2 Mar 2026."),
        ("PO-LATE", "Invoiced on 5 Mar 2026, before its approval on 9 Mar 2026."),
    ]
    assert matters(book)["(a)"]["Exceptions"].value == 2


def test_the_pack_prints_the_boards_facts_of_the_agreement(clean_year):
    agreement = clean_year.agreement
    agreement.board_minutes_ref, agreement.abstaining_directors = "Minutes 2025/07", "Lei Jun; Zhang Duo"
    agreement.announced_on, agreement.announcement_ref = D("2025-07-29"), "Announcement of 29 July 2025"
    agreement.save()

    book = load(annual(YEAR))

    board = rows(book["Board approvals"])
    assert [(r["Subject"].value, r["Board minutes"].value, r["Directors who abstained"].value,
             r["Announced on"].value.date(), r["Announcement"].value) for r in board] == [
        (agreement.title, "Minutes 2025/07", "Lei Jun; Zhang Duo", D("2025-07-29"), "Announcement of 29 July 2025")
    ]  # fmt: skip
    ined = [str(cell.value) for row in book["INED summary"].iter_rows() for cell in row if cell.value]
    assert any("directors who abstained: Lei Jun; Zhang Duo" in text for text in ined)
