"""The PDF packs read back with pypdf: A4, English and Chinese text a reader can extract, nothing below
8 points, off the page or drawn over other text, every cell's lines within their column, long tables
across pages with their header repeated, the chart's lines, and figures equal to the workbook's."""

import datetime
import io
import re
from decimal import Decimal

import pytest

from compliance.reports.annual_review import write_annual_review
from compliance.reports.directors import write_directors_report
from compliance.reports.monthly import write_monthly_report
from compliance.reports.pdf import PdfReport
from tests.compliance.pdfs import PAGE_HEIGHT, PAGE_WIDTH, cell_overflows, layout_faults, page_texts, reader, text
from tests.compliance.workbooks import annual, approved_order, load, monthly, rows
from tests.conftest import client_for
from tests.factories import D, InvoiceFactory, QuoteFactory

pytestmark = pytest.mark.pdf

MARCH = D("2026-03-01")
H1 = D("2026-01-01")
PDF = "application/pdf"
LONG_WORD = "QUOTE-REFERENCE-" + "X" * 70  # one word wider than its column


@pytest.fixture
def busy(ledger):
    """The 2026 cap at 84% committed: 84 orders of CNY 20,000.00 dated January to March, each with two
    independent quotes, half invoiced, some with long Chinese and English descriptions."""
    for n in range(84):
        day = D("2026-01-05") + datetime.timedelta(days=n)
        description = (
            "IDC 機櫃租賃及頻寬服務 rack hosting and bandwidth for the Beijing and Shanghai data centres, "
            "including cross-connects and remote hands · 北京及上海數據中心"
            if n % 7 == 0
            else f"Servers batch {n}"
        )
        order = approved_order(ledger, "20000.00", order_date=min(day, D("2026-03-31")), description=description)
        for supplier, above in zip(ledger.independents[:2], ("1500.00", "2200.00"), strict=True):
            QuoteFactory(
                purchase_order=order, supplier=supplier, quoted_on=order.order_date - datetime.timedelta(days=5),
                amount=order.amount + Decimal(above), reference=LONG_WORD if n == 3 else f"Q-{n}",
            )  # fmt: skip
        if n % 2 == 0:
            InvoiceFactory(purchase_order=order, amount=Decimal("20000.00"), invoice_date=order.order_date)
    return ledger


def pdf_of(write, period) -> bytes:
    output = io.BytesIO()
    write(period, output, pdf=True)
    return output.getvalue()


PACKS = {
    "monthly": (write_monthly_report, MARCH),
    "directors": (write_directors_report, H1),
    "annual": (write_annual_review, 2026),
}


@pytest.mark.parametrize("pack", PACKS)
def test_each_pack_is_a4_with_english_and_chinese_text_a_reader_can_extract(busy, pack):
    write, period = PACKS[pack]
    data = pdf_of(write, period)

    pages = reader(data).pages
    assert all((round(p.mediabox.width), round(p.mediabox.height)) == (842, 595) for p in pages)
    all_text = text(data)
    assert "Xiaomi Group" in all_text
    assert "年度上限" in all_text and "關連人士" in all_text and "北京及上海數據中心" in all_text
    # 84 orders with two quotes each cannot fit on one page: the Quotes table runs on, its header repeated.
    quote_header_pages = [t for t in page_texts(data) if "Quoted on" in t and "報價日期" in t]
    assert len(quote_header_pages) >= 2
    assert len(pages) >= {"monthly": 10, "directors": 12, "annual": 16}[pack]


@pytest.mark.parametrize("pack", PACKS)
def test_no_text_is_below_8_points_off_the_page_or_drawn_over_other_text(busy, pack):
    write, period = PACKS[pack]

    assert layout_faults(pdf_of(write, period)) == []


def test_the_layout_check_sees_text_drawn_over_text_and_off_the_page():
    """The measure fails where it should: two strings on one spot, one running off the right edge, one at 6
    points."""
    from reportlab.pdfgen import canvas

    from compliance.reports.pdf import FONT, register_font

    register_font()
    output = io.BytesIO()
    page = canvas.Canvas(output, pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    page.setFont(FONT, 8)
    page.drawString(100, 300, "Committed 已承諾")
    page.drawString(120, 302, "Actual 實際")
    page.drawString(PAGE_WIDTH - 20, 200, "82,000,000.00")
    page.setFont(FONT, 6)
    page.drawString(100, 100, "tiny")
    page.save()

    faults = layout_faults(output.getvalue())
    assert any("overlaps" in fault for fault in faults)
    assert any("off the page" in fault for fault in faults)
    assert any("6.0 points" in fault for fault in faults)


def test_every_table_cell_s_lines_fit_their_column_even_a_word_wider_than_the_column(busy):
    from compliance.reports.monthly import build_monthly_report
    from compliance.reports.selectors import counted_quote_assessments, report_caps, report_order_rows

    caps = report_caps(start=MARCH, end=D("2026-03-31"), as_of=D("2026-03-31"))
    report = build_monthly_report(
        month=MARCH,
        caps=caps,
        orders=report_order_rows(caps, as_of=D("2026-03-31")),
        quotes=counted_quote_assessments(caps, as_of=D("2026-03-31")),
        alerts=[],
        report=PdfReport(title="test"),
    )

    assert cell_overflows(report) == []
    assert LONG_WORD in text_of(report).replace("\n", "")  # split across lines, not cut


def text_of(report: PdfReport) -> str:
    output = io.BytesIO()
    report.save(output)
    return text(output.getvalue())


def test_the_monthly_pack_s_figures_equal_the_workbook_s(busy):
    book = load(monthly(MARCH))
    data = pdf_of(write_monthly_report, MARCH)
    printed = text(data)

    summary = rows(book["Summary"])
    assert summary
    for row in summary:
        for name in ("Annual cap", "Actual", "Committed", "Remaining", "Forecast at period end"):
            assert f"{Decimal(repr(row[name].value)):,.2f}" in printed, name
        assert f"{Decimal(repr(row['Committed %'].value)) * 100:,.2f}%" in printed
    # Every order of the workbook, and no other, is in the pack.
    in_book = {row["Order"].value for row in rows(book["Orders"])}
    assert len(in_book) == 84
    assert set(re.findall(r"PO-\d{6}", printed)) == in_book
    # 84 x 20,000.00 committed against the 2,000,000.00 cap: 84%, above the alert threshold.
    assert "1,680,000.00" in printed and "84.00%" in printed


def test_the_annual_pack_s_ined_summary_and_figures_equal_the_workbook_s(busy):
    book = load(annual(2026))
    printed = text(pdf_of(write_annual_review, 2026))

    pages = page_texts(pdf_of(write_annual_review, 2026))
    # The INED summary is the first page, whole: the next page opens the Summary.
    assert "Caps of the year" in pages[0] and "本年度上限" in pages[0]
    assert "(4) In the interests of the shareholders as a whole" in pages[0] and "alerts raised" in pages[0]
    assert "Annual caps of the year" in pages[1]
    assert "What the auditors report on" in printed and "獨立非執行董事的確認" in printed
    for row in rows(book["Summary"]):
        assert f"{Decimal(repr(row['Actual'].value)):,.2f}" in printed


def test_the_summary_chart_shows_actual_committed_and_forecast_against_the_80_and_100_percent_lines(busy):
    first = page_texts(pdf_of(write_monthly_report, MARCH))[0]

    for caption in ("Actual 實際", "Committed 已承諾", "Forecast 預測", "80%", "100%", "84.0%"):
        assert caption in first, caption


def test_the_api_serves_each_pack_as_pdf_and_still_the_workbook_by_default(busy, auditor_user):
    api = client_for(auditor_user)

    for url, query in (
        ("/api/reports/monthly/", {"month": "2026-03"}),
        ("/api/reports/directors/", {"half": "2026-H1"}),
        ("/api/reports/annual-review/", {"year": "2026"}),
    ):
        pdf = api.get(url, {**query, "format": "pdf"})
        assert (pdf.status_code, pdf["Content-Type"]) == (200, PDF), url
        assert b"".join(pdf.streaming_content).startswith(b"%PDF")
        assert ".pdf" in pdf["Content-Disposition"]
        default = api.get(url, query)
        assert default["Content-Type"].startswith("application/vnd.openxmlformats"), url
    wrong = api.get("/api/reports/monthly/", {"month": "2026-03", "format": "docx"})
    assert wrong.status_code == 400 and "format" in wrong.json()
