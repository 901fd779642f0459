"""The annual-report disclosure (Rule 14A.71): a Word document whose every figure is the annual pack's."""

import io
import re
from decimal import Decimal

import docx
import pytest

from compliance.reports.disclosure import write_disclosure
from tests.compliance.workbooks import annual, approved_order, load, money, quoted
from tests.factories import D, InvoiceFactory

YEAR = 2026


def disclosure(year: int) -> docx.Document:
    output = io.BytesIO()
    write_disclosure(year, output)
    return docx.Document(io.BytesIO(output.getvalue()))


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


@pytest.fixture
def year_with_invoices(ledger):
    ledger.agreement.signed_on = D("2025-07-29")
    ledger.agreement.title_zh = "合作框架協議"
    ledger.agreement.save()
    first = quoted(ledger, approved_order(ledger, "300000.00", number="PO-1", order_date=D("2026-02-02")))
    second = quoted(ledger, approved_order(ledger, "450000.00", number="PO-2", order_date=D("2026-08-03")))
    InvoiceFactory(purchase_order=first, invoice_date=D("2026-03-31"), amount=Decimal("125000.50"))
    InvoiceFactory(purchase_order=second, invoice_date=D("2026-09-30"), amount=Decimal("74999.50"))
    return ledger


def cap_rows(document) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (row.cells[2].text, amount(row.cells[3].text), amount(row.cells[4].text))
        for table in document.tables
        for row in table.rows[1:]
    ]


def test_the_disclosure_figures_equal_the_annual_packs(year_with_invoices):
    ined = load(annual(YEAR))["INED summary"]
    pack = [
        (line[2].value, money(line[3]), money(line[4]))
        for line in ([cell for cell in row if cell.value is not None] for row in ined.iter_rows())
        if len(line) == 7 and str(line[0].value).startswith("IDC services")
    ]
    document = disclosure(YEAR)

    # Hand arithmetic: the 2026 cap 2,000,000.00; invoices 125,000.50 + 74,999.50 = 200,000.00.
    assert pack == [("CNY", Decimal("2000000.00"), Decimal("200000.00"))]
    # The same figures in the English table and again in the Chinese one.
    assert cap_rows(document) == pack * 2
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert text.count("CNY 200,000.00") == 2


def test_the_disclosure_states_the_agreement_and_leaves_the_confirmations_to_the_ineds_and_auditors(
    year_with_invoices,
):
    text = "\n".join(paragraph.text for paragraph in disclosure(YEAR).paragraphs)

    assert "Date of the agreement: 29 July 2025" in text
    assert "協議日期：2025年7月29日" in text
    assert "Parties: the Company and Xiaomi Group" in text
    assert "訂約方：本公司與小米集團" in text
    assert "持續關連交易" in text and "年度上限" in text
    # Placeholders for those who confirm: never a conclusion by the product.
    assert re.search(r"\[To be completed by the independent non-executive directors", text)
    assert re.search(r"\[To be completed from the auditors' letter", text)
    assert "have confirmed" not in text and "已確認" not in text


def test_the_disclosure_is_downloaded_as_word_and_kept_as_issued(year_with_invoices, finance_api):
    from compliance.models import IssuedReport

    response = finance_api.get("/api/reports/disclosure/?year=2026")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    body = b"".join(response.streaming_content)
    issued = IssuedReport.objects.get()
    assert (issued.kind, issued.period, issued.year, issued.how) == ("disclosure", "2026", 2026, "download")
    import hashlib

    assert issued.sha256 == hashlib.sha256(body).hexdigest()
    assert docx.Document(io.BytesIO(body)).tables
