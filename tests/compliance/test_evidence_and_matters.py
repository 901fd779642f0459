"""Evidence behind the quote rule, and exceptions instead of conclusions in the annual pack, end to end:
quotes entered through the API without their documents do not let an order through, and the annual pack
gives, for each matter the auditors report on, the number of exceptions the product identified and their
list, never a conclusion of its own."""

from tests.compliance.workbooks import annual, approved_order, load, quoted, rows
from tests.factories import D, UserFactory
from transactions.models import PurchaseOrder

MATTERS = ("(a)", "(b)", "(c)", "(d)")
CONCLUSIONS = ("Nothing found", "未發現", "No exception", "Confirmed")


def test_an_order_whose_quotes_were_entered_without_documents_is_refused_with_the_reason(
    ledger, finance_api, compliance_api
):
    created = finance_api.post(
        "/api/purchase-orders/",
        {"number": "PO-NO-DOCS", "category": ledger.category.pk, "counterparty": ledger.connected.pk,
         "order_date": "2026-03-02", "amount": "100000.00", "currency": "CNY", "recognition": "on_order_date"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    order = created.json()["id"]
    for supplier, amount in zip(ledger.independents[:2], ("110000.00", "112000.00"), strict=True):
        quote = finance_api.post(
            "/api/quotes/",
            {"purchase_order": order, "supplier": supplier.pk, "quoted_on": "2026-02-20", "amount": amount,
             "currency": "CNY", "reference": f"Q-{supplier.pk}"},
            format="json",
        )  # fmt: skip
        assert quote.status_code == 201, quote.content

    refused = compliance_api.post(f"/api/purchase-orders/{order}/approve/")

    assert refused.status_code == 409, refused.content
    assert refused.json()["code"] == "quote_rule"
    # Two quotes cheaper than the order, neither counted: each named with the reason.
    assert refused.json()["detail"].count("(no quote document)") == 2
    assert PurchaseOrder.objects.get(pk=order).status == PurchaseOrder.Status.DRAFT


def test_each_matter_of_the_annual_pack_shows_its_count_and_list_and_no_sheet_concludes(ledger):
    # (a) approved by the person who entered it; (b) without quotes; (c) with a counterparty outside the
    # group; (d) the 2026 cap of 2,000,000.00 taken to 2,000,300.00 (a breach is recorded).
    clerk = UserFactory(username="self.approver")
    quoted(ledger, approved_order(ledger, "100.00", number="PO-SELF", order_date=D("2026-02-02"),
                                  created_by=clerk, approved_by=clerk))  # fmt: skip
    approved_order(ledger, "100.00", number="PO-NO-QUOTES", order_date=D("2026-02-03"))
    quoted(ledger, approved_order(ledger, "100.00", number="PO-OUTSIDER", order_date=D("2026-02-04"),
                                  counterparty=ledger.independents[2]))  # fmt: skip
    quoted(ledger, approved_order(ledger, "2000000.00", number="PO-BIG", order_date=D("2026-02-05")))

    book = load(annual(2026))

    found = {row["Matter"].value[:3]: row for row in rows(book["Auditor matters"])}
    subjects = {"(a)": "PO-SELF", "(b)": "PO-NO-QUOTES", "(c)": "PO-OUTSIDER", "(d)": "IDC services 2026-01-01"}
    for matter in MATTERS:
        identified = found[matter]["Identified by the product"].value
        assert identified.startswith("Exceptions identified by the product: 1 · 系統識別的例外：1. "), identified
        assert subjects[matter] in identified
        assert found[matter]["Exceptions"].value == 1
    assert "over by CNY 300.00" in found["(d)"]["Identified by the product"].value
    listed = [(r["Matter"].value[:3], r["Order or cap"].value) for r in rows(book["Matter exceptions"])]
    assert [matter for matter, _ in listed] == list(MATTERS)
    ined = [str(c.value) for line in book["INED summary"].iter_rows() for c in line if c.value is not None]
    assert ined.count("Exceptions identified by the product: 1 · 系統識別的例外：1") == 4
    for ws in book.worksheets:
        for line in ws.iter_rows():
            for cell in line:
                assert not any(words in str(cell.value or "") for words in CONCLUSIONS), (ws.title, cell.value)
