"""The annual-report disclosure of the year's continuing connected transactions (Rule 14A.71), as a Word
document the company secretary pastes into the annual report, in English and then in Chinese.

From the product's facts only: per framework agreement its date, the parties and the connected
relationship, the board's approval and the announcement; per category its description (scope), term
and pricing basis; the caps of the year against the actual amounts, figure for figure the annual review
pack's (the same selector, as at the year end). What the product does not hold (the purpose of the
transactions) is left as a bracketed placeholder. The INEDs' and the auditors' confirmations are
placeholders for them to complete: the product never concludes on their behalf."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from compliance.models import AnnualCap
from compliance.reports.annual_review import year_bounds
from compliance.reports.selectors import report_caps, report_reading
from transactions.models import FrameworkAgreement, TransactionCategory

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EAST_ASIAN_FONT = "PMingLiU"
LATIN_FONT = "Arial"


def disclosure_filename(year: int) -> str:
    return f"cct-disclosure-{year}.docx"


@dataclass
class CategoryFacts:
    category: TransactionCategory
    caps: list[AnnualCap] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.category.currency

    @property
    def actual(self) -> Decimal:
        return sum((cap.actual for cap in self.caps), Decimal("0.00"))

    @property
    def cap_total(self) -> Decimal:
        return sum((cap.amount for cap in self.caps), Decimal("0.00"))


@dataclass
class AgreementFacts:
    agreement: FrameworkAgreement
    categories: list[CategoryFacts] = field(default_factory=list)


def disclosure_facts(year: int) -> list[AgreementFacts]:
    """The agreements with a cap in the year, their categories and caps as at the year end (one query, the
    annual review pack's)."""
    start, end = year_bounds(year)
    with report_reading():
        caps = report_caps(start=start, end=end, as_of=end)
    agreements: dict[int, AgreementFacts] = {}
    categories: dict[int, CategoryFacts] = {}
    for cap in caps:
        agreement = cap.category.agreement
        facts = agreements.setdefault(agreement.pk, AgreementFacts(agreement))
        if cap.category_id not in categories:
            categories[cap.category_id] = CategoryFacts(cap.category)
            facts.categories.append(categories[cap.category_id])
        categories[cap.category_id].caps.append(cap)
    return list(agreements.values())


def amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _date_en(value: datetime.date | None) -> str:
    return value.strftime("%-d %B %Y") if value else "[not recorded]"


def _date_zh(value: datetime.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "［未有記錄］"


def _zh(chinese: str, english: str) -> str:
    return chinese or english


class _Writer:
    def __init__(self) -> None:
        self.doc = Document()
        normal = self.doc.styles["Normal"]
        normal.font.name = LATIN_FONT
        normal.font.size = Pt(10)
        fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)

    def heading(self, text: str, level: int) -> None:
        self.doc.add_heading(text, level=level)

    def para(self, text: str, *, bold_label: str = "", placeholder: bool = False) -> None:
        paragraph = self.doc.add_paragraph()
        if bold_label:
            paragraph.add_run(bold_label).bold = True
        run = paragraph.add_run(text)
        run.italic = placeholder

    def table(self, header: list[str], rows: list[list[str]], numeric_from: int) -> None:
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = text
            cell.paragraphs[0].runs[0].bold = True
        for values in rows:
            cells = table.add_row().cells
            for index, (cell, text) in enumerate(zip(cells, values, strict=True)):
                cell.text = text
                if index >= numeric_from:
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self.doc.add_paragraph()


def _cap_rows(category: CategoryFacts, *, zh: bool) -> list[list[str]]:
    name = _zh(category.category.name_zh, category.category.name) if zh else category.category.name
    rows = []
    for cap in category.caps:
        period = (
            f"{_date_zh(cap.period_start)}至{_date_zh(cap.period_end)}"
            if zh
            else f"{_date_en(cap.period_start)} to {_date_en(cap.period_end)}"
        )
        rows.append([name, period, category.currency, amount(cap.amount), amount(cap.actual)])
    return rows


CAP_HEADER_EN = ["Category", "Period", "Currency", "Annual cap", "Actual amount"]
CAP_HEADER_ZH = ["交易類別", "期間", "貨幣", "年度上限", "實際交易金額"]


def _english(writer: _Writer, year: int, facts: list[AgreementFacts]) -> None:
    end = year_bounds(year)[1]
    writer.heading("Continuing connected transactions", 1)
    writer.para(
        f"During the year ended {_date_en(end)}, the Group carried out the following continuing connected "
        "transactions under Chapter 14A of the Listing Rules. Amounts are the transactions' actual amounts as "
        f"recorded up to {_date_en(end)}."
    )
    if not facts:
        writer.para("No continuing connected transaction had an annual cap in the year.")
    for item in facts:
        agreement = item.agreement
        person = agreement.connected_person
        writer.heading(agreement.title, 2)
        writer.para(_date_en(agreement.signed_on), bold_label="Date of the agreement: ")
        writer.para(f"the Company and {person.name}", bold_label="Parties: ")
        writer.para(
            f"{person.name} is a connected person of the Company: {person.basis}", bold_label="Connected relationship: "
        )
        announced = _date_en(agreement.announced_on)
        if agreement.announcement_ref:
            announced += f" ({agreement.announcement_ref})"
        writer.para(
            f"approved by the board on {_date_en(agreement.board_approved_on)}"
            + (f"; directors who abstained: {agreement.abstaining_directors}" if agreement.abstaining_directors else "")
            + f"; announced on {announced}.",
            bold_label="Approval: ",
        )
        for category in item.categories:
            cat = category.category
            writer.heading(cat.name, 3)
            writer.para(cat.scope or "[scope not recorded]", bold_label="Description: ")
            writer.para("[to be completed by the company secretary]", bold_label="Purpose: ", placeholder=True)
            writer.para(f"{_date_en(cat.term_start)} to {_date_en(cat.term_end)}", bold_label="Term: ")
            writer.para(cat.pricing_basis or "[pricing basis not recorded]", bold_label="Pricing and terms: ")
            writer.para(
                f"{category.currency} {amount(category.actual)} (the actual amounts of the caps below)",
                bold_label="Total consideration for the year: ",
            )
            writer.table(CAP_HEADER_EN, _cap_rows(category, zh=False), numeric_from=3)
    writer.heading("Confirmation of the independent non-executive directors", 2)
    writer.para(
        "[To be completed by the independent non-executive directors after their review. Rule 14A.55: whether "
        "the transactions were entered into (1) in the ordinary and usual course of business of the Group; (2) "
        "on normal commercial terms or better; and (3) according to the agreements governing them on terms that "
        "are fair and reasonable and in the interests of the shareholders as a whole.]",
        placeholder=True,
    )
    writer.heading("Confirmation of the auditors", 2)
    writer.para(
        "[To be completed from the auditors' letter under Rule 14A.56: whether anything has come to their "
        "attention that causes them to believe that the transactions (a) have not been approved by the board; "
        "(b) were not, in all material respects, in accordance with the pricing policies of the Group; (c) were "
        "not entered into, in all material respects, in accordance with the relevant agreements; and (d) have "
        "exceeded the annual caps.]",
        placeholder=True,
    )


def _chinese(writer: _Writer, year: int, facts: list[AgreementFacts]) -> None:
    end = year_bounds(year)[1]
    writer.doc.add_page_break()
    writer.heading("持續關連交易", 1)
    writer.para(
        f"截至{_date_zh(end)}止年度，本集團根據上市規則第14A章進行以下持續關連交易。金額為截至"
        f"{_date_zh(end)}所記錄的實際交易金額。"
    )
    if not facts:
        writer.para("本年度並無設有年度上限的持續關連交易。")
    for item in facts:
        agreement = item.agreement
        person = agreement.connected_person
        person_name = _zh(person.name_zh, person.name)
        writer.heading(_zh(agreement.title_zh, agreement.title), 2)
        writer.para(_date_zh(agreement.signed_on), bold_label="協議日期：")
        writer.para(f"本公司與{person_name}", bold_label="訂約方：")
        # The product keeps the basis of the connection in English only: quoted, for the secretary to translate.
        writer.para(
            f"{person_name}為本公司的關連人士：{person.basis}［英文原文，中文譯文由公司秘書填寫］",
            bold_label="關連關係：",
        )
        announced = _date_zh(agreement.announced_on)
        if agreement.announcement_ref:
            announced += f"（{agreement.announcement_ref}）"
        writer.para(
            f"董事會於{_date_zh(agreement.board_approved_on)}批准"
            + (f"；放棄投票的董事：{agreement.abstaining_directors}" if agreement.abstaining_directors else "")
            + f"；於{announced}公告。",
            bold_label="批准：",
        )
        for category in item.categories:
            cat = category.category
            writer.heading(_zh(cat.name_zh, cat.name), 3)
            writer.para(cat.scope or "［未有記錄範圍］", bold_label="交易內容：")
            writer.para("［由公司秘書填寫］", bold_label="交易目的：", placeholder=True)
            writer.para(f"{_date_zh(cat.term_start)}至{_date_zh(cat.term_end)}", bold_label="期限：")
            writer.para(cat.pricing_basis or "［未有記錄定價基準］", bold_label="定價及條款：")
            writer.para(
                f"{category.currency} {amount(category.actual)}（下列年度上限的實際交易金額）",
                bold_label="本年度總代價：",
            )
            writer.table(CAP_HEADER_ZH, _cap_rows(category, zh=True), numeric_from=3)
    writer.heading("獨立非執行董事的確認", 2)
    writer.para(
        "［由獨立非執行董事於審閱後填寫。第14A.55條：有關交易是否(1)在本集團的日常業務中訂立；(2)按照一般商務條款"
        "或更佳條款進行；及(3)根據有關交易的協議進行，條款公平合理，並且符合股東的整體利益。］",
        placeholder=True,
    )
    writer.heading("核數師的確認", 2)
    writer.para(
        "［根據核數師按第14A.56條發出的函件填寫：核數師有否注意到任何事項，令其相信有關交易(a)並未獲董事會批准；"
        "(b)在各重大方面沒有按照本集團的定價政策進行；(c)在各重大方面沒有根據有關協議進行；及(d)超逾年度上限。］",
        placeholder=True,
    )


def write_disclosure(year: int, output: BinaryIO) -> None:
    """Write the disclosure of the financial year `year` to `output` (.docx)."""
    facts = disclosure_facts(year)
    writer = _Writer()
    writer.doc.core_properties.title = f"Continuing connected transactions {year} · {year}年持續關連交易"
    _english(writer, year, facts)
    _chinese(writer, year, facts)
    writer.doc.save(output)
