"""The reports know the cap lifecycle: every recorded term (renewals included), documented quote-rule
exceptions, cap revisions and their breaches, and the classification of each category and connected person."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from compliance.caps.approval import purchase_order_approve
from compliance.lifecycle.renewals import category_renewal_record
from compliance.lifecycle.revisions import cap_revision_propose, cap_revision_record_steps
from compliance.rules.quote_exceptions import (
    quote_rule_exception_approve,
    quote_rule_exception_reject,
    quote_rule_exception_request,
)
from tests.compliance.test_quote_exceptions import evidence
from tests.compliance.workbooks import annual, approved_order, directors, load, money, monthly, quoted, rows
from tests.conftest import make_user
from tests.factories import D, FinancialYearFactory, InvoiceFactory, RateFactory, UserFactory
from transactions.models import ConnectedPerson, PurchaseOrder

DOCUMENTED = "Approved under a documented quote-rule exception · 按已記錄的報價規則例外批准"
NOT_MET = "Approved, quote rule not met · 已批准但不符合報價規則"
SOLE_SUPPLIER = "Only one vendor makes this switch model; the search found no other supplier."

RENEWAL_CAPS = [{"period_start": D("2027-01-01"), "period_end": D("2027-12-31"), "amount": Decimal("3000000.00")}]


def renew(ledger, user, start: str, end: str = "2027-12-31"):
    caps = [{**cap, "period_start": D(start)} for cap in RENEWAL_CAPS]
    return category_renewal_record(
        user=user, category=ledger.category, term_start=D(start), term_end=D(end), board_approved_on=D("2026-11-02"),
        caps=caps,
    )  # fmt: skip


def matters(book) -> dict[str, dict]:
    return {row["Matter"].value[:3]: row for row in rows(book["Auditor matters"])}


def headers_at(sheet, letter: str) -> str:
    return str(sheet[f"{letter}3"].value).split("\n")[0]


# --- Terms: the first term and every renewal ------------------------------------------------------


def test_an_order_inside_a_renewals_term_is_not_flagged_outside_the_term(ledger, compliance_user):
    renew(ledger, compliance_user, "2027-01-01")
    quoted(ledger, approved_order(ledger, "1000.00", number="PO-RENEWED", order_date=D("2027-03-01")))
    # Hosting from the first term's last month into the renewal's first.
    quoted(ledger, approved_order(ledger, "6200.00", number="PO-ACROSS", order_date=D("2026-12-01"),
                                  service_start=D("2026-12-01"), service_end=D("2027-01-31")))  # fmt: skip
    ledger.order("1000.00", number="PO-DRAFT-RENEWED", order_date=D("2027-04-01"))

    book = load(annual(2027))

    orders = {row["Order"].value: row["Within term"].value for row in rows(book["Orders"])}
    assert orders == {"PO-RENEWED": "Yes · 是", "PO-ACROSS": "Yes · 是"}
    assert matters(book)["(c)"]["Identified by the product"].value == (
        "Exceptions identified by the product: 0 · 系統識別的例外：0"
    )
    assert rows(book["Exceptions"]) == []


def test_an_order_in_a_gap_between_two_terms_is_flagged_outside_the_term(ledger, compliance_user):
    renew(ledger, compliance_user, "2027-03-01")
    # Hosting from the first term into the gap: some of its days are outside every term.
    quoted(ledger, approved_order(ledger, "6200.00", number="PO-INTO-GAP", order_date=D("2026-12-01"),
                                  service_start=D("2026-12-01"), service_end=D("2027-03-31")))  # fmt: skip
    quoted(ledger, approved_order(ledger, "1000.00", number="PO-INSIDE", order_date=D("2027-03-01")))
    ledger.order("1000.00", number="PO-DRAFT-GAP", order_date=D("2027-02-02"))

    book = load(annual(2027))

    orders = {row["Order"].value: row["Within term"].value for row in rows(book["Orders"])}
    assert orders == {"PO-INTO-GAP": "No · 否", "PO-INSIDE": "Yes · 是"}
    assert matters(book)["(c)"]["Exceptions"].value == 1
    exceptions = {row["Order"].value: row["Detail"].value for row in rows(book["Exceptions"])}
    assert exceptions == {"PO-DRAFT-GAP": "Outside the category's term."}


# --- Documented quote-rule exceptions ---------------------------------------------------------------


@pytest.fixture
def second_officer(db):
    return make_user("sam.second", "compliance")


def request_exception(order, user, reason=SOLE_SUPPLIER):
    return quote_rule_exception_request(user=user, purchase_order=order, reason=reason, evidence=evidence())


@pytest.fixture
def under_exception(ledger, finance_user, compliance_user, second_officer, time_machine):
    """PO-SOLE (2 Mar 2026, one independent quote) approved under an exception requested on 5 Mar and approved
    on 6 Mar; PO-UNEXPLAINED approved with no quotes and no exception."""
    order = ledger.order("100000.00", number="PO-SOLE", quotes=("120000.00",), created_by=finance_user)
    time_machine.move_to("2026-03-05 10:00 +08:00")
    exception = request_exception(order, compliance_user)
    time_machine.move_to("2026-03-06 10:00 +08:00")
    quote_rule_exception_approve(exception_id=exception.pk, user=second_officer)
    purchase_order_approve(order_id=order.pk, user=compliance_user)
    approved_order(ledger, "100.00", number="PO-UNEXPLAINED", order_date=D("2026-03-03"))
    return order


WHO_AND_WHEN = "Requested by connie.compliance on 5 Mar 2026; approved by sam.second on 6 Mar 2026."


def test_an_order_approved_under_a_documented_exception_shows_as_such_in_the_monthly_quotes_sheet(under_exception):
    quotes = {row["Order"].value: row for row in rows(load(monthly(D("2026-03-01")))["Quotes"])}

    sole, unexplained = quotes["PO-SOLE"], quotes["PO-UNEXPLAINED"]
    assert sole["Quote rule"].value == "Not met: documented exception · 不符合：已記錄例外"
    assert sole["Exception"].value == (
        f"{DOCUMENTED}: {SOLE_SUPPLIER} {WHO_AND_WHEN} Quote rule: 1 of the 2 required independent quotes."
    )
    assert unexplained["Quote rule"].value == "Not met · 不符合"
    assert unexplained["Exception"].value == "0 of the 2 required independent quotes."


def test_an_order_approved_under_a_documented_exception_is_not_an_unexplained_breach_in_the_annual_review(
    under_exception,
):
    book = load(annual(2026))

    exceptions = {row["Order"].value: row for row in rows(book["Exceptions"])}
    assert {number: row["Exception"].value for number, row in exceptions.items()} == {
        "PO-SOLE": DOCUMENTED, "PO-UNEXPLAINED": NOT_MET,
    }  # fmt: skip
    assert exceptions["PO-SOLE"]["Detail"].value == (
        f"{SOLE_SUPPLIER} {WHO_AND_WHEN} Quote rule: 1 of the 2 required independent quotes."
    )
    pricing = matters(book)["(b)"]
    assert pricing["Identified by the product"].value == (
        "Exceptions identified by the product: 2 · 系統識別的例外：2. PO-UNEXPLAINED: Does not meet the quote rule: "
        "0 of the 2 required independent quotes; PO-SOLE: Approved under a documented quote-rule exception (Matter "
        "exceptions)"
    )
    assert pricing["Exceptions"].value == 2
    assert "1 approved under a documented quote-rule exception" in pricing["Evidence the product holds"].value


def test_the_directors_exceptions_sheet_shows_a_documented_exception_as_a_row_of_its_own_kind(under_exception):
    exceptions = {
        row["Order"].value: row["Exception"].value for row in rows(load(directors(D("2026-01-01")))["Exceptions"])
    }

    assert exceptions == {"PO-SOLE": DOCUMENTED, "PO-UNEXPLAINED": NOT_MET}


def test_an_exception_that_no_longer_covers_its_order_does_not_explain_it(under_exception):
    # The order is no longer the one the exception was approved for.
    PurchaseOrder.objects.filter(pk=under_exception.pk).update(amount=Decimal("110000.00"))

    exceptions = {row["Order"].value: row for row in rows(load(annual(2026))["Exceptions"])}

    assert exceptions["PO-SOLE"]["Exception"].value == NOT_MET
    assert exceptions["PO-SOLE"]["Detail"].value == (
        "1 of the 2 required independent quotes. The quote-rule exception approved for CNY 100,000.00 does not "
        "cover the order as it stands."
    )


def test_a_draft_under_an_approved_exception_would_not_be_refused_but_one_under_a_rejected_one_would(
    ledger, finance_user, compliance_user, second_officer
):
    waived = ledger.order("100.00", number="PO-WAIVED", quotes=(), created_by=finance_user)
    quote_rule_exception_approve(exception_id=request_exception(waived, compliance_user).pk, user=second_officer)
    turned_down = ledger.order("100.00", number="PO-TURNED-DOWN", quotes=(), created_by=finance_user)
    quote_rule_exception_reject(exception_id=request_exception(turned_down, compliance_user).pk, user=second_officer)

    exceptions = {row["Order"].value: row for row in rows(load(annual(2026))["Exceptions"])}

    assert set(exceptions) == {"PO-TURNED-DOWN"}
    assert exceptions["PO-TURNED-DOWN"]["Detail"].value == "0 of the 2 required independent quotes."


def test_the_annual_review_lists_every_quote_rule_exception_of_the_year_pending_and_rejected_too(
    under_exception, ledger, finance_user, compliance_user, second_officer, time_machine
):
    pending = ledger.order("100.00", number="PO-PENDING", quotes=(), created_by=finance_user)
    request_exception(pending, compliance_user, reason="The only licensed reseller in Hong Kong")
    turned_down = ledger.order("100.00", number="PO-TURNED-DOWN", quotes=(), created_by=finance_user)
    time_machine.move_to("2026-03-09 10:00 +08:00")
    exception = request_exception(turned_down, second_officer, reason="Sole importer")
    quote_rule_exception_reject(exception_id=exception.pk, user=compliance_user, reason="Ask a third vendor")
    time_machine.move_to("2027-01-05 10:00 +08:00")
    next_year = ledger.order("100.00", number="PO-2027", quotes=(), order_date=D("2027-01-05"), created_by=finance_user)
    request_exception(next_year, compliance_user)

    book = load(annual(2026))
    listed = rows(book["Quote-rule exceptions"])

    def cells(row, *names):
        return tuple(row[name].value for name in names)

    assert [
        cells(row, "Order", "Status", "Requested by", "Approved or rejected by", "Reason", "Why rejected")
        for row in listed
    ] == [
        ("PO-SOLE", "Approved · 已批准", "connie.compliance", "sam.second", SOLE_SUPPLIER, None),
        ("PO-PENDING", "Pending: awaiting a second approver · 待第二人批准", "connie.compliance", None,
         "The only licensed reseller in Hong Kong", None),
        ("PO-TURNED-DOWN", "Rejected · 已拒絕", "sam.second", "connie.compliance", "Sole importer",
         "Ask a third vendor"),
    ]  # fmt: skip
    sole = listed[0]
    assert cells(sole, "Evidence", "Currency", "Counterparty", "Covers the order as it stands") == (
        "sole supplier search.pdf", "CNY", "Xiaomi Corporation", "Yes · 是",
    )  # fmt: skip
    assert money(sole["Amount"]) == Decimal("100000.00")
    assert (sole["Requested at"].value, sole["Decided at"].value) == (
        datetime.datetime(2026, 3, 5, 10, 0), datetime.datetime(2026, 3, 6, 10, 0),
    )  # fmt: skip
    assert sole["Order date"].value.date() == D("2026-03-02")
    summary = [str(cell.value) for row in book["INED summary"].iter_rows() for cell in row if cell.value]
    assert any("3 quote-rule exceptions recorded, 1 approved (Quote-rule exceptions)" in text for text in summary)


def test_the_directors_report_lists_the_half_years_quote_rule_exceptions(under_exception):
    listed = rows(load(directors(D("2026-01-01")))["Quote-rule exceptions"])

    assert [(row["Order"].value, row["Status"].value) for row in listed] == [("PO-SOLE", "Approved · 已批准")]
    assert rows(load(directors(D("2026-07-01")))["Quote-rule exceptions"]) == []


# --- Cap revisions ----------------------------------------------------------------------------------


@pytest.fixture
def revised_after_a_breach(ledger, compliance_user, time_machine):
    """The 2026 cap of CNY 2,000,000 exceeded by an invoice of CNY 2,100,000, then revised to CNY 3,000,000
    (announcement tier: 0.3% of revenue, above HK$3m); then a second revision to CNY 3,500,000 proposed."""
    FinancialYearFactory(market_cap=Decimal("5000000000.00"), market_cap_currency="CNY")
    RateFactory(currency="HKD", target_currency="CNY", rate_date=D("2026-01-02"), rate=Decimal("0.9"))
    order = ledger.approved("2000000.00", approver=UserFactory(username="first.approver"), order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("2100000.00"), invoice_date=D("2026-04-30"))
    time_machine.move_to("2026-05-10 10:00 +08:00")
    breach = cap_revision_propose(user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("3000000.00"),
                                  reason="Invoices above the order")  # fmt: skip
    cap_revision_record_steps(revision_id=breach.pk, user=compliance_user, board_approved_on=D("2026-05-04"),
                              announced_on=D("2026-05-05"))  # fmt: skip
    time_machine.move_to("2026-09-01 10:00 +08:00")
    cap_revision_propose(user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("3500000.00"),
                         reason="A second data hall")  # fmt: skip
    return ledger


def test_a_revision_proposed_after_the_cap_was_exceeded_shows_as_a_breach(revised_after_a_breach):
    sheet = load(annual(2026))["Cap revisions"]
    revisions = rows(sheet)

    def cells(row, *names):
        return tuple(row[name].value for name in names)

    assert [cells(row, "Cap", "Status", "Breach") for row in revisions] == [
        ("IDC services 2026-01-01 to 2026-12-31", "Completed: in force · 已生效", "BREACH · 違規"),
        ("IDC services 2026-01-01 to 2026-12-31", "Pending: steps to record · 待記錄步驟", "No · 否"),
    ]
    breach, pending = revisions
    assert [money(breach[name]) for name in ("Cap before", "Revised cap", "Used when proposed")] == [
        Decimal("2000000.00"), Decimal("3000000.00"), Decimal("2100000.00"),
    ]  # fmt: skip
    assert cells(breach, "Reason", "Tier", "Steps required", "Steps outstanding", "Completed or withdrawn by") == (
        "Invoices above the order", "Announcement, reporting and annual review · 公告、申報及年度審核",
        "Board approval · 董事會批准; Announcement · 公告", None, "connie.compliance",
    )  # fmt: skip
    assert [breach[name].value.date() for name in ("Board approval", "Announcement")] == [
        D("2026-05-04"), D("2026-05-05"),
    ]  # fmt: skip
    assert breach["Independent shareholders' approval"].value is None
    assert cells(pending, "Steps outstanding", "Board approval") == (
        "Board approval · 董事會批准; Announcement · 公告", None,
    )  # fmt: skip
    # The breach is red, as a cap at 100%.
    [rule] = [rule for cf in sheet.conditional_formatting for rule in cf.rules if str(cf.sqref).startswith("P")]
    assert rule.formula == ['$P4="BREACH · 違規"']
    assert headers_at(sheet, "P") == "Breach"


def test_a_cap_revised_only_after_it_was_exceeded_is_reported_as_exceeded(revised_after_a_breach):
    book = load(annual(2026))

    exceeded = matters(book)["(d)"]
    assert exceeded["Exceptions"].value == 1
    assert exceeded["Identified by the product"].value == (
        "Exceptions identified by the product: 1 · 系統識別的例外：1. IDC services 2026-01-01 to 2026-12-31: Revised "
        "only after it was exceeded: a breach. Breach recorded: detected on 30 Apr 2026, over by CNY 100,000.00, "
        "open: to announce (Matter exceptions)"
    )  # the invoice of 2,100,000 on 30 Apr against the cap of 2,000,000; no breach step recorded yet
    lines = [[cell.value for cell in row if cell.value is not None] for row in book["INED summary"].iter_rows()]
    [cap] = [line for line in lines if line and line[0] == "IDC services" and "2026" in str(line[1])]
    assert cap[-1] == "No: revised after it was exceeded · 否：超出後才修訂"
    assert any("2 cap revisions, 1 flagged as a breach" in str(value) for line in lines for value in line)


def test_the_directors_report_shows_the_revisions_of_the_half_years_caps(revised_after_a_breach):
    first_half = rows(load(directors(D("2026-01-01")))["Cap revisions"])

    assert [row["Breach"].value for row in first_half] == ["BREACH · 違規", "No · 否"]


# --- Classification -----------------------------------------------------------------------------------


@pytest.fixture
def demo(db):
    """The 2025 Xiaomi agreement and the 2024 annual results, as loaded by `load_demo`."""
    call_command("load_demo", verbosity=0)
    return f"{ConnectedPerson.objects.get().name}: all its agreements"


ANNOUNCEMENT_TIER = "Announcement, reporting and annual review · 公告、申報及年度審核"
SALES = "Cloud services sold to Xiaomi Group (illustrative)"  # the demo's illustrative sales category, after purchases


def test_the_demo_agreements_classification_appears_in_the_annual_review(demo):
    book = load(annual(2026))

    classified = {row["Classified"].value: row for row in rows(book["Classification"])}
    assert list(classified) == [demo, "IDC services", "Network hardware", SALES]
    for row in classified.values():
        assert row["Tier"].value == ANNOUNCEMENT_TIER
        assert (row["Provisional"].value, row["Missing inputs"].value) == ("Yes · 是", "the market capitalisation")
        assert row["Profits ratio"].value == "Not applicable: a loss · 不適用：虧損"
        assert row["Financial year ended"].value.date() == D("2024-12-31")
        assert "Announce the transactions" in row["Obligations"].value
    # 82.0m of IDC services is 1.0533% of the revenue; the 2026 caps together, 88.7m, 1.1393%.
    assert percent4(classified["IDC services"]["Highest ratio"]) == Decimal("1.0533")
    assert percent4(classified[demo]["Revenue ratio"]) == Decimal("1.1393")
    assert money(classified[demo]["Amount classified"]) == Decimal("88700000.00")
    assert classified["IDC services"]["Consideration ratio"].value is None


def test_the_ined_summary_gives_each_classification_on_its_page(demo):
    lines = [[cell for cell in row if cell.value is not None] for row in load(annual(2026))["INED summary"].iter_rows()]

    classified = {line[0].value: line for line in lines if len(line) == 5 and line[1].value == ANNOUNCEMENT_TIER}
    assert list(classified) == [demo, "IDC services", "Network hardware", SALES]
    idc = classified["IDC services"]
    missing = "the market capitalisation"
    assert (percent4(idc[2]), idc[3].value, idc[4].value) == (Decimal("1.0533"), "Yes · 是", missing)
    assert idc[2].number_format == "0.00%"


def percent4(cell) -> Decimal:
    """A percent cell as the API's four-place percentage ("1.0533")."""
    assert cell.data_type == "n"
    return (Decimal(repr(cell.value)) * 100).quantize(Decimal("0.0001"))


def test_a_revision_needing_the_shareholders_shows_its_circular_and_advisers_letter(
    ledger, compliance_user, time_machine
):
    # No financial year: the most demanding tier, so the circular and the adviser's letter are required.
    time_machine.move_to("2026-06-10 10:00 +08:00")
    revision = cap_revision_propose(user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("3000000.00"),
                                    reason="A second data hall")  # fmt: skip
    cap_revision_record_steps(revision_id=revision.pk, user=compliance_user, board_approved_on=D("2026-06-01"),
                              announced_on=D("2026-06-02"), circular_issued_on=D("2026-06-05"),
                              board_minutes_ref="Minutes 2026/06",
                              abstaining_directors="Lei Jun; Zhang Duo")  # fmt: skip

    [row] = rows(load(directors(D("2026-01-01")))["Cap revisions"])

    assert row["Steps outstanding"].value == (
        "Independent financial adviser's letter · 獨立財務顧問函件; Independent shareholders' approval · 獨立股東批准"
    )
    assert (row["Circular issued"].value.date(), row["Adviser's letter"].value) == (D("2026-06-05"), None)
    assert (row["Board minutes"].value, row["Directors who abstained"].value) == (
        "Minutes 2026/06",
        "Lei Jun; Zhang Duo",
    )
