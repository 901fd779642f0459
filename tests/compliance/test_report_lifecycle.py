"""The reports know the cap lifecycle: every recorded term (renewals included), documented quote-rule
exceptions, cap revisions and their breaches, and the classification of each category and connected person."""

from decimal import Decimal

from compliance.renewals import category_renewal_record
from tests.compliance.workbooks import annual, approved_order, load, quoted, rows
from tests.factories import D

RENEWAL_CAPS = [{"period_start": D("2027-01-01"), "period_end": D("2027-12-31"), "amount": Decimal("3000000.00")}]


def renew(ledger, user, start: str, end: str = "2027-12-31"):
    caps = [{**cap, "period_start": D(start)} for cap in RENEWAL_CAPS]
    return category_renewal_record(
        user=user, category=ledger.category, term_start=D(start), term_end=D(end), board_approved_on=D("2026-11-02"),
        caps=caps,
    )  # fmt: skip


def matters(book) -> dict[str, dict]:
    return {row["Matter"].value[:3]: row for row in rows(book["Auditor matters"])}


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
    assert matters(book)["(c)"]["Finding"].value == "Nothing found · 未發現"
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
