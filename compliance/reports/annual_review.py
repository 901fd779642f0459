"""The annual review pack (internal control 5): what the INEDs and the auditors need to confirm, for a
financial year, that every continuing connected transaction was approved, priced by the policy, under
its agreement and within its cap.

The financial year runs from 1 January to 31 December (the issuer's year end); figures are as at its
last day. Sheets:
- INED summary: one printable page: per category the caps of the year, the actual total and whether it
  stayed within cap; the classification of each connected person and category at the year end; the four
  matters the auditors report on, each with the number of exceptions the product identified; the INEDs'
  four confirmations and the facts the product holds for each (the product lists exceptions and evidence;
  the conclusions are the auditors' and the INEDs');
- Summary: every cap of the year as in the monthly report;
- Cap revisions: every revision of a cap of the year, its amounts, reason, classification, the steps it
  needs with their dates, its status, and whether it is a breach (proposed or completed when the cap was
  already exceeded);
- Breaches: every breach of a cap detected in the year or still open, with its announcement and
  re-compliance (compliance.alerts.breaches);
- Classification: each connected person (across its agreements) and each category with a cap of the year,
  classified under Rule 14A.76 as at the year end: the percentage ratios, the tier and its obligations,
  and whether the result is provisional for want of an input, and which;
- Auditor matters: the four matters with the exceptions identified, the evidence the product holds and
  where to find it;
- Matter exceptions: each exception identified, matter by matter (orders dated before the board's approval,
  approved by their creator, after their order date or after an invoice; orders not meeting the quote rule
  or under a documented exception; orders outside the terms or the group; caps exceeded or revised after
  it), with where the evidence is;
- Board approvals: the agreements, renewals, changes of terms and cap revisions with the board's minutes,
  the directors who abstained, the announcement, the circular, the adviser's letter and the vote;
- Orders: every order counted in the year's periods with its board-approved agreement, who entered and
  approved it, whether it lies in the term and the counterparty belongs to the connected person's group;
- Quotes: each of those orders' quotes and the margin by which the connected party's price is lower;
- Exceptions: orders dated in the year that were cancelled, approved under a documented quote-rule
  exception, approved without meeting the quote rule otherwise (as the records stand now), or drafts that
  would be refused (a refused approval leaves the order a draft);
- Quote-rule exceptions: every exception requested in the year or for an order dated in it, pending,
  approved or rejected, with who requested and decided it, when, why and its evidence;
- Alerts raised in the year;
- Monitoring: each month's sign-off (or Missing), each alert's acknowledgement by senior management, the
  directors' reports sent to the board, the auditors' timetable and access undertakings
  (compliance.reports.monitoring).
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO

from compliance.alerts.breaches import report_breaches
from compliance.imports.completeness import completeness_checks
from compliance.models import Alert, AnnualCap, Breach, CapRevision, CompletenessCheck, QuoteRuleException
from compliance.reports.breaches import BREACH_STATUS, breaches_sheet
from compliance.reports.lifecycle import TIER, classification_sheet, quote_rule_exceptions_sheet, ratio, revisions_sheet
from compliance.reports.monitoring import monitoring_facts, monitoring_sheet
from compliance.reports.pdf import PdfReport, new_report
from compliance.reports.selectors import (
    BoardRecord,
    ClassificationRow,
    ExceptionRow,
    MatterException,
    OrderRow,
    counted_quote_assessments,
    order_evidence,
    quote_rule_exception,
    report_alerts,
    report_board_records,
    report_cap_revisions,
    report_caps,
    report_classifications,
    report_exceptions,
    report_order_rows,
    report_quote_rule_exceptions,
    report_reading,
)
from compliance.reports.sheets import (
    QuoteTally,
    alerts_sheet,
    cap_label,
    day,
    exception_rows,
    exceptions_sheet,
    order_rows,
    orders_sheet,
    quote_rows,
    quotes_sheet,
    summary_sheet,
)
from compliance.reports.workbook import Column, FreeSheet, Kind, Progress, ReportWorkbook, TableSheet, yes_no
from compliance.rules.classification import describe_all_missing
from compliance.rules.selectors import QuoteRuleResult
from transactions.models import PurchaseOrder

T, M, P, N, DAY = Kind.TEXT, Kind.MONEY, Kind.PERCENT, Kind.INTEGER, Kind.DATE

CAP_COLUMNS = [
    Column("Category", "交易類別", T, 30),
    Column("Cap of the year", "本年度上限", T, 34),
    Column("Currency", "貨幣", T, 9),
    Column("Annual cap", "年度上限", M, 17),
    Column("Actual", "實際交易金額", M, 17),
    Column("Committed", "已承諾金額", M, 17),
    Column("Within cap", "未超出上限", T, 12),
]
# The product lists exceptions and evidence; the conclusion on each matter is the auditors' own.
MATTER_COLUMNS = [
    Column("Matter", "事項", T, 30),
    Column("Identified by the product", "系統識別", T, 34),
    Column("Evidence the product holds", "系統所持證據", T, 60),
    Column("Where to look", "參閱", T, 28),
    Column("Orders examined", "審閱訂單數目", N, 11),
    Column("Exceptions", "例外數目", N, 11),
]
MATTER_EXCEPTION_COLUMNS = [
    Column("Matter", "事項", T, 30),
    Column("Order or cap", "訂單或上限", T, 30),
    Column("What the product identified", "系統識別的情況", T, 60),
    Column("Where the evidence is", "證據所在", T, 40),
]
BOARD_COLUMNS = [
    Column("Record", "記錄", T, 20),
    Column("Subject", "事項", T, 44),
    Column("Board approved on", "董事會批准日期", DAY, 13),
    Column("Board minutes", "董事會會議記錄", T, 30),
    Column("Directors who abstained", "放棄投票的董事", T, 24),
    Column("Announced on", "公告日期", DAY, 13),
    Column("Announcement", "公告", T, 34),
    Column("Circular issued", "通函日期", DAY, 13),
    Column("Adviser's letter", "獨立財務顧問函件", DAY, 13),
    Column("Shareholders' approval", "獨立股東批准", DAY, 13),
    Column("Status", "狀態", T, 16),
]
MATTER_NAMES = {
    "a": "(a) Not approved by the board · 未經董事會批准",
    "b": "(b) Not in line with the pricing policies · 不符合定價政策",
    "c": "(c) Not entered into under the governing agreements · 未根據規管協議進行",
    "d": "(d) Exceeded the annual cap · 超出年度上限",
}


INED_CLASSIFICATION_COLUMNS = [
    Column("Classified", "分類對象", T),
    Column("Tier", "類別", T),
    Column("Highest ratio", "最高比率", P),
    Column("Provisional", "暫定", T),
    Column("Missing inputs", "缺少資料", T),
]

# The one-page summary holds four small tables; these widths suit all four.
INED_WIDTHS = [42, 40, 12, 17, 17, 17, 12]


def year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def annual_review_filename(year: int, *, pdf: bool = False) -> str:
    return f"cct-annual-review-{year}.{'pdf' if pdf else 'xlsx'}"


COMPLETENESS_COLUMNS = [
    Column("Connected person", "關連人士", T, 26),
    Column("Period from", "期間開始", DAY, 12),
    Column("Period to", "期間結束", DAY, 12),
    Column("ERP file", "ERP檔案", T, 22),
    Column("ERP postings", "ERP記錄數", N, 10),
    Column("Matched", "相符", N, 10),
    Column("Result", "結果", T, 22),
    Column("Document", "單據編號", T, 18),
    Column("Date", "日期", T, 12),
    Column("Amount", "金額", T, 16),
    Column("Currency", "貨幣", T, 9),
    Column("Counterparty", "交易對手", T, 22),
    Column("Checked by", "核對人", T, 14),
]


def completeness_sheet(report: ReportWorkbook, checks: list[CompletenessCheck], *, heading: str) -> None:
    """Each completeness check of the year: one line when the ERP and the product agree, otherwise one line
    per document that one side lacks (an amount as the ERP posts it: credit notes negative)."""
    sheet = report.table(
        "Completeness", COMPLETENESS_COLUMNS, heading=heading,
        note="The ERP's postings to the connected person's companies against the invoices and credit notes in the "
        "product · ERP記錄與本系統發票及貸項通知的核對",
    )  # fmt: skip
    for check in checks:
        head = [str(check.connected_person), check.period_start, check.period_end, check.file_name, check.erp_rows,
                check.matched]  # fmt: skip
        who = check.created_by.get_username() if check.created_by_id else ""
        if check.complete:
            sheet.append([*head, "Complete · 完整", "", "", "", "", "", who])
        for side, documents in (
            ("In the ERP, not in the product · ERP有而系統無", check.missing_in_product),
            ("In the product, not in the ERP · 系統有而ERP無", check.missing_in_erp),
        ):
            for doc in documents:
                sheet.append([*head, side, doc["number"], doc["date"], doc["amount"], doc["currency"],
                           doc["counterparty"], who])  # fmt: skip
    sheet.finish()


def write_annual_review(year: int, output: BinaryIO, *, pdf: bool = False, progress: Progress | None = None) -> None:
    """Write the annual review pack of the financial year `year` to `output`."""
    start, end = year_bounds(year)
    with report_reading():
        caps = report_caps(start=start, end=end, as_of=end)
        report = build_annual_review(
            year=year,
            caps=caps,
            revisions=(revisions := report_cap_revisions(caps)),
            board=report_board_records(caps, revisions),
            classifications=report_classifications(caps, on=end),
            evidence=order_evidence(caps, as_of=end),
            orders=report_order_rows(caps, as_of=end),
            quotes=counted_quote_assessments(caps, as_of=end),
            exceptions=report_exceptions(start=start, end=end),
            quote_rule_exceptions=report_quote_rule_exceptions(start=start, end=end),
            alerts=report_alerts(start=start, end=end),
            breaches=report_breaches(start=start, end=end),
            completeness=completeness_checks(start=start, end=end),
            report=new_report(pdf=pdf, progress=progress, title=f"Annual review {year} · 年度審閱"),
        )
        monitoring_sheet(report, year, monitoring_facts(year))
    report.save(output)


def build_annual_review(
    *,
    year: int,
    caps: list[AnnualCap],
    revisions: list[CapRevision],
    classifications: list[ClassificationRow],
    evidence: dict,
    orders: Iterable[OrderRow],
    quotes: Iterable[tuple[PurchaseOrder, QuoteRuleResult]],
    exceptions: Iterable[ExceptionRow],
    quote_rule_exceptions: list[QuoteRuleException],
    alerts: list[Alert],
    board: list[BoardRecord] | None = None,
    breaches: list[Breach] | None = None,
    completeness: list[CompletenessCheck] | None = None,
    report: ReportWorkbook | PdfReport | None = None,
) -> ReportWorkbook | PdfReport:
    """The workbook (or the PDF given as `report`), from selector output; runs no query of its own."""
    board = board or []
    breaches = breaches or []
    end = year_bounds(year)[1]
    name = f"financial year {year} · {year}財政年度"
    as_at = (
        f"Figures as at {end:%-d %b %Y}: invoices and orders dated on or before it; statuses as they stand now · "
        f"數字截至{end:%Y-%m-%d}"
    )
    report = report if report is not None else ReportWorkbook()
    # Created first so that they come first; filled once the orders and quotes have been through.
    ined = report.sheet(
        "INED summary",
        INED_WIDTHS,
        heading=f"Annual review of continuing connected transactions · 持續關連交易年度審閱 — {name}",
        note=as_at,
    )
    _write_cap_sheets(report, caps, revisions, breaches, classifications, name=name, end=end, as_at=as_at)
    matters, matter_exceptions = _auditor_tables(report, name=name)
    _write_board_sheet(report, board, name=name)
    tally = QuoteTally()
    exceptions = _write_order_sheets(
        report, orders, quotes, exceptions, quote_rule_exceptions, tally=tally, name=name, as_at=as_at
    )
    alerts_sheet(report, alerts, heading=f"Alerts raised in the year · 本年度發出的警示 — {name}", note=as_at)
    completeness_sheet(report, completeness or [], heading=f"Completeness checks · 完整性核對 — {name}")

    breached = _breached_caps(caps, revisions)
    listed = _matter_exceptions(caps, breached, evidence, tally, breaches)
    findings = _matters(caps, breached, evidence, tally, listed)
    _write_matters(matters, findings)
    matter_exceptions.extend([MATTER_NAMES[e.matter], e.subject, e.detail, e.evidence] for e in listed)
    matter_exceptions.finish()
    _write_ined_summary(
        ined, caps, breached, classifications, findings, tally, exceptions, quote_rule_exceptions, revisions, alerts,
        board, evidence, breaches,
    )  # fmt: skip
    return report


def _write_cap_sheets(
    report: ReportWorkbook | PdfReport,
    caps: list[AnnualCap],
    revisions: list[CapRevision],
    breaches: list[Breach],
    classifications: list[ClassificationRow],
    *,
    name: str,
    end: datetime.date,
    as_at: str,
) -> None:
    """The caps of the year, their revisions, the breaches and the classification."""
    summary_sheet(report, caps, as_of=end, heading=f"Annual caps of the year · 本年度年度上限 — {name}", note=as_at)
    revisions_sheet(
        report,
        revisions,
        heading=f"Revisions of the year's caps · 本年度年度上限的修訂 — {name}",
        note="Every revision, whatever its status; a revision proposed or completed when the cap was already "
        "exceeded is a breach of the Listing Rules",
    )
    breaches_sheet(
        report,
        breaches,
        heading=f"Breaches of caps · 超出年度上限記錄 — {name}",
        note="Every breach detected in the year, and every earlier one still open at its end or now, until it is "
        "re-complied with; amounts at detection, in the cap's currency",
    )
    classification_sheet(
        report,
        classifications,
        heading=f"Classification under Rule 14A.76 · 第14A.76條分類 — {name}",
        note=f"As at {end:%-d %b %Y}: the largest annual cap (for a connected person, the largest sum of its caps "
        "starting in one financial year) against the latest financial year ended by then; a provisional result "
        "names the input it lacks",
    )


def _auditor_tables(report: ReportWorkbook | PdfReport, *, name: str) -> tuple[TableSheet, TableSheet]:
    """The auditors' matters and their exceptions, created here to keep their place and filled at the end."""
    matters = report.table(
        "Auditor matters",
        MATTER_COLUMNS,
        heading=f"The matters the auditors report on · 核數師須匯報的事項 — {name}",
        note="Rule 14A.56: the exceptions the product identified on each matter and where its evidence is; the "
        "conclusion is the auditors' · 結論由核數師作出",
    )
    matter_exceptions = report.table(
        "Matter exceptions",
        MATTER_EXCEPTION_COLUMNS,
        heading=f"Exceptions identified on the auditors' matters · 核數師事項的例外 — {name}",
        note="Each exception the product identified, the order or cap, and where the evidence is",
    )
    return matters, matter_exceptions


def _write_board_sheet(report: ReportWorkbook | PdfReport, board: list[BoardRecord], *, name: str) -> None:
    board_sheet = report.table(
        "Board approvals",
        BOARD_COLUMNS,
        heading=f"Board approvals and re-compliance · 董事會批准及重新遵守 — {name}",
        note="The agreements of the year's caps, their renewals, changes of terms and cap revisions: the board's "
        "minutes, the directors who abstained, the announcement, the circular, the adviser's letter and the vote",
    )
    board_sheet.extend(
        [r.kind, r.subject, r.board_approved_on, r.board_minutes_ref or None, r.abstaining_directors or None,
         r.announced_on, r.announcement_ref or None, r.circular_issued_on, r.adviser_letter_on,
         r.shareholders_approved_on, r.status]
        for r in board
    )  # fmt: skip
    board_sheet.finish()


def _write_order_sheets(
    report: ReportWorkbook | PdfReport,
    orders: Iterable[OrderRow],
    quotes: Iterable[tuple[PurchaseOrder, QuoteRuleResult]],
    exceptions: Iterable[ExceptionRow],
    quote_rule_exceptions: list[QuoteRuleException],
    *,
    tally: QuoteTally,
    name: str,
    as_at: str,
) -> list[ExceptionRow]:
    """The orders, their quotes (counted into `tally`), the exceptions and refusals and the quote-rule
    exceptions; returns the exceptions and refusals, which the INED summary counts."""
    orders_sheet(
        report,
        order_rows(orders),
        heading=f"Orders counted in the year's periods · 本年度計入的訂單 — {name}",
        note=as_at,
    )
    quotes_sheet(
        report,
        quote_rows(quotes, tally),
        heading=f"Quotes and favourability · 獨立報價及優惠程度 — {name}",
        note="Prices compared in the order's currency: a quote in another currency at the order date's rate",
    )
    exceptions = list(exceptions)
    exceptions_sheet(
        report,
        exception_rows(exceptions),
        heading=f"Exceptions and refusals · 例外及拒絕 — {name}",
        note="Orders dated in the year: cancelled, approved under a documented quote-rule exception, approved "
        "without meeting the quote rule otherwise as the records stand now, or drafts that would be refused (a "
        "refused approval leaves the order a draft)",
    )
    quote_rule_exceptions_sheet(
        report,
        quote_rule_exceptions,
        heading=f"Quote-rule exceptions · 報價規則例外 — {name}",
        note="Every exception requested in the year or for an order dated in it, whatever its status; amount, "
        "currency and counterparty as requested, which is what an exception covers",
    )
    return exceptions


def _matter_exceptions(
    caps: list[AnnualCap], breached: list[AnnualCap], evidence: dict, tally: QuoteTally, breaches: list[Breach]
) -> list[MatterException]:
    """Every exception the product identified, matter by matter: (a) and (c) from the orders' facts, (b) from
    the quote rule as the Quotes sheet assessed it, (d) from the caps."""
    found = [e for e in evidence["exceptions"] if e.matter == "a"]
    for order, result in tally.failed:
        found.append(MatterException("b", order.number, f"Does not meet the quote rule: {quote_rule_exception(result)}",
                                     "Quotes: Quote rule, Why not counted, Quote document"))  # fmt: skip
    for order, _result in tally.documented:
        found.append(MatterException("b", order.number, "Approved under a documented quote-rule exception.",
                                     "Quote-rule exceptions: reason, evidence file, approver"))  # fmt: skip
    found += [e for e in evidence["exceptions"] if e.matter == "c"]
    records: dict[int, list[Breach]] = {}
    for breach in breaches:
        records.setdefault(breach.cap_id, []).append(breach)
    for cap in caps:
        recorded = "".join(
            f" Breach recorded: detected on {day(b.detected_on)}, over by {b.currency} {b.amount_over:,.2f}, "
            f"{BREACH_STATUS.get(b.status, b.status).split(' · ')[0].lower()}."
            for b in records.get(cap.pk, [])
        )
        where = "; Breaches" if recorded else ""
        if cap.used > cap.amount:
            found.append(MatterException("d", cap_label(cap), f"Used {cap.category.currency} {cap.used:,.2f} of "
                                         f"{cap.category.currency} {cap.amount:,.2f}.{recorded}",
                                         f"Summary: Annual cap, Actual, Committed{where}"))  # fmt: skip
        elif cap in breached:
            found.append(MatterException("d", cap_label(cap),
                                         f"Revised only after it was exceeded: a breach.{recorded}",
                                         f"Cap revisions: Breach{where}"))  # fmt: skip
        elif recorded:
            found.append(MatterException("d", cap_label(cap), f"Exceeded during the year.{recorded}",
                                         "Breaches"))  # fmt: skip
    return found


def _breached_caps(caps: list[AnnualCap], revisions: list[CapRevision]) -> list[AnnualCap]:
    """Caps within their amount now only because a revision raised them after they were exceeded."""
    breached = {revision.cap_id for revision in revisions if revision.breach}
    return [cap for cap in caps if cap.pk in breached and cap.used <= cap.amount]


def _within(cap: AnnualCap, breached: list[AnnualCap]) -> str:
    if cap in breached:
        return "No: revised after it was exceeded · 否：超出後才修訂"
    return yes_no(cap.used <= cap.amount)


def _identified(exceptions: list[MatterException], matter: str) -> tuple[str, int]:
    """ "Exceptions identified by the product: n", with the first few listed (all are on Matter exceptions)."""
    mine = [e for e in exceptions if e.matter == matter]
    text = f"Exceptions identified by the product: {len(mine)} · 系統識別的例外：{len(mine)}"
    if mine:
        shown = "; ".join(f"{e.subject}: {e.detail.rstrip('.')}" for e in mine[:5])
        more = f"; and {len(mine) - 5} more (Matter exceptions)" if len(mine) > 5 else " (Matter exceptions)"
        text += f". {shown}{more}"
    return text, len(mine)


def _matters(
    caps: list[AnnualCap],
    breached: list[AnnualCap],
    evidence: dict,
    tally: QuoteTally,
    exceptions: list[MatterException],
) -> list[list]:
    """The four matters (a) to (d), each: matter, exceptions identified, evidence, where, orders examined,
    number of exceptions. No conclusion: that is the auditors'."""
    examined = evidence["orders"]
    rows = []
    a_text, a_count = _identified(exceptions, "a")
    rows.append([
        MATTER_NAMES["a"], a_text,
        "Each order names its framework agreement and the day the board approved it (Board approvals: minutes, "
        "abstaining directors, announcement); each was approved in the product by a compliance user, on a day "
        f"the product records. {evidence['before_board']} dated before the board's approval, "
        f"{evidence['self_approved']} approved by the person who entered them, {evidence['approved_late']} "
        f"approved after their order date, {evidence['approved_after_invoice']} approved after an invoice.",
        "Orders: Agreement, Board approved on, Entered by, Approved by, Approved on; Board approvals",
        examined, a_count,
    ])  # fmt: skip
    b_text, b_count = _identified(exceptions, "b")
    rows.append([
        MATTER_NAMES["b"], b_text,
        _quote_rule_evidence(tally),
        "Quotes: Quote rule, Quote document, More favourable by; Exceptions; Quote-rule exceptions",
        tally.orders, b_count,
    ])  # fmt: skip
    c_text, c_count = _identified(exceptions, "c")
    rows.append([
        MATTER_NAMES["c"], c_text,
        "Each order is placed under a category of a framework agreement; its dates are checked against the "
        f"category's recorded terms ({evidence['outside_term']} outside) and its counterparty against the group of "
        f"the agreement's connected person ({evidence['outside_group']} outside).",
        "Orders: Agreement, Within term, Counterparty in the group",
        examined, c_count,
    ])  # fmt: skip
    d_text, d_count = _identified(exceptions, "d")
    rows.append([
        MATTER_NAMES["d"], d_text,
        "Committed (approved orders allocated to each period) and actual (their invoices) as at the year end "
        "against every cap of the year, and every revision of those caps with its steps; approvals that would "
        "exceed a cap are refused by the product.",
        "Summary: Annual cap, Actual, Committed, Status; Cap revisions: Breach",
        len(caps), d_count,
    ])  # fmt: skip
    return rows


def _quote_rule_evidence(tally: QuoteTally) -> str:
    """Matter (b)'s evidence: the orders meeting the quote rule, the smallest margin, the documented exceptions."""
    smallest = (
        f"; the smallest margin below the lowest independent quote was {tally.smallest_margin_pct}%"
        if tally.smallest_margin_pct is not None
        else ""
    )
    documented = len(tally.documented)
    under_exceptions = (
        f" {documented} approved under a documented quote-rule exception: a reason, evidence and a second "
        "person's approval (Quote-rule exceptions)."
        if documented
        else ""
    )
    return (
        f"{tally.passed} of {tally.orders} orders had the required independent quotes, dated within the "
        f"validity before the order, each with its document, and the connected party's price below every one of "
        f"them, compared in the order's currency (another currency at the order date's rate)"
        f"{smallest}.{under_exceptions}"
    )


def _write_matters(sheet: TableSheet, findings: list[list]) -> None:
    sheet.extend(findings)
    sheet.finish()


def _write_ined_summary(
    sheet: FreeSheet,
    caps: list[AnnualCap],
    breached: list[AnnualCap],
    classifications: list[ClassificationRow],
    findings: list[list],
    tally: QuoteTally,
    exceptions: list[ExceptionRow],
    quote_rule_exceptions: list[QuoteRuleException],
    revisions: list[CapRevision],
    alerts: list[Alert],
    board: list[BoardRecord],
    evidence: dict,
    breaches: list[Breach] | None = None,
) -> None:
    breaches = breaches or []
    _ined_caps(sheet, caps, breached)
    _ined_classifications(sheet, classifications)
    _ined_matters(sheet, findings)
    confirmations = _ined_confirmations(
        caps, tally, exceptions, quote_rule_exceptions, revisions, alerts, board, evidence, breaches
    )
    sheet.blank()
    sheet.section("The INEDs' confirmations: what the product holds · 獨立非執行董事的確認：系統所持資料")
    sheet.header([Column("Confirmation", "確認事項", T), Column("What the product holds", "系統所持資料", T)])
    for confirmation, holds in confirmations:
        sheet.row([confirmation, holds[0]], [T, T], bold_first=True, wrap=True)
        for more in holds[1:]:
            sheet.row([None, more], [T, T], wrap=True)


def _ined_caps(sheet: FreeSheet, caps: list[AnnualCap], breached: list[AnnualCap]) -> None:
    """Each cap of the year by category, with a line for the year where a category has several."""
    sheet.blank()
    sheet.section("Caps of the year · 本年度上限")
    sheet.header(CAP_COLUMNS)
    kinds = [c.kind for c in CAP_COLUMNS]
    by_category: dict[int, list[AnnualCap]] = {}
    for cap in caps:
        by_category.setdefault(cap.category_id, []).append(cap)
    for category_caps in by_category.values():
        for cap in category_caps:
            period = f"{day(cap.period_start)} to {day(cap.period_end)}"
            sheet.row(
                [str(cap.category), period, cap.category.currency, cap.amount, cap.actual, cap.committed,
                 _within(cap, breached)],
                kinds,
                wrap=True,  # a long bilingual category name wraps in its cell rather than being cut off
            )  # fmt: skip
        if len(category_caps) > 1:
            sheet.row(
                [f"{category_caps[0].category.name}: the year · 全年", "All caps of the year · 全年合計",
                 category_caps[0].category.currency, sum((c.amount for c in category_caps), Decimal(0)),
                 sum((c.actual for c in category_caps), Decimal(0)),
                 sum((c.committed for c in category_caps), Decimal(0)),
                 yes_no(all(c.used <= c.amount and c not in breached for c in category_caps))],
                kinds,
                bold_first=True,
                wrap=True,
            )  # fmt: skip
    if not caps:
        sheet.row(["No cap period falls in this year · 本年度沒有年度上限", None], [T, T])


def _ined_classifications(sheet: FreeSheet, classifications: list[ClassificationRow]) -> None:
    sheet.blank()
    sheet.section("Classification under Rule 14A.76 · 第14A.76條分類")
    sheet.header(INED_CLASSIFICATION_COLUMNS)
    for row in classifications:
        result = row.classification
        sheet.row(
            [row.subject, TIER.get(result.tier, result.tier), ratio(result.highest_ratio),
             yes_no(result.provisional), describe_all_missing(result.missing) or None],
            [T, T, P, T, T],
            bold_first=row.agreement is None,
            wrap=True,
        )  # fmt: skip


def _ined_matters(sheet: FreeSheet, findings: list[list]) -> None:
    sheet.blank()
    sheet.section("What the auditors report on · 核數師須匯報的事項")
    sheet.header([MATTER_COLUMNS[0], MATTER_COLUMNS[1], MATTER_COLUMNS[5], MATTER_COLUMNS[3]])
    for matter, identified, _evidence, where, _examined, count in findings:
        # The count and where to look; the full list is on Matter exceptions.
        sheet.row([matter, identified.split(". ", 1)[0], count, where], [T, T, N, T], bold_first=True, wrap=True)


def _agreement_facts(board: list[BoardRecord]) -> list[str]:
    """A sentence per agreement: the board's approval, its minutes, who abstained, the announcement."""
    return [
        f"{r.subject}: board approval {day(r.board_approved_on) if r.board_approved_on else 'not recorded'}"
        f" (minutes: {r.board_minutes_ref or 'not recorded'}; directors who abstained: "
        f"{r.abstaining_directors or 'none recorded'}); announced "
        f"{day(r.announced_on) if r.announced_on else 'not recorded'}"
        + (f" ({r.announcement_ref})" if r.announcement_ref else "")
        + "."
        for r in board
        if r.kind.startswith("Agreement")
    ]


def _ined_confirmations(
    caps: list[AnnualCap],
    tally: QuoteTally,
    exceptions: list[ExceptionRow],
    quote_rule_exceptions: list[QuoteRuleException],
    revisions: list[CapRevision],
    alerts: list[Alert],
    board: list[BoardRecord],
    evidence: dict,
    breaches: list[Breach],
) -> list[tuple[str, list[str]]]:
    """Facts for the INEDs to weigh, a line each, under each of their four confirmations; the confirmations
    themselves are theirs to give."""
    approved = sum(1 for exception in quote_rule_exceptions if exception.is_approved)
    flagged = sum(1 for revision in revisions if revision.breach)
    still_open = sum(1 for breach in breaches if breach.is_open)
    exceeded = sum(1 for cap in caps if cap.used > cap.amount)
    agreements = _agreement_facts(board)
    later = sum(1 for r in board if not r.kind.startswith("Agreement"))
    return [
        ("(1) In the ordinary and usual course of business · 屬日常及一般業務",
         [f"{tally.orders} orders of the year with their description, category and counterparty (Orders)."]),
        ("(2) On normal commercial terms or better · 按一般或更佳商業條款",
         [f"{tally.passed} of {tally.orders} orders priced below every counted independent quote with its document "
          f"(Quotes); {len(tally.failed)} not meeting the quote rule; {len(tally.documented)} under a documented "
          "quote-rule exception.",
          f"{evidence['approved_late']} orders approved after their order date, {evidence['approved_after_invoice']} "
          "after an invoice (Matter exceptions)."]),
        ("(3) Under the governing agreement, on fair and reasonable terms · 根據規管協議進行，條款公平合理",
         [*(agreements or ["No agreement with a cap in the year."]),
          f"{evidence['outside_term']} orders outside the recorded terms, {evidence['outside_group']} with a "
          f"counterparty outside the group (Orders); {later} renewals, changes of terms and cap revisions with "
          "their re-compliance steps (Board approvals)."]),
        ("(4) In the interests of the shareholders as a whole · 符合股東整體利益",
         [f"{len(caps)} caps of the year, {exceeded} with use above the amount; {len(revisions)} cap revisions, "
          f"{flagged} flagged as a breach (Summary; Cap revisions).",
          f"{len(breaches)} breaches of caps recorded, {still_open} not yet re-complied with (Breaches).",
          f"{len(exceptions)} exceptions or refusals (Exceptions); {len(quote_rule_exceptions)} quote-rule "
          f"exceptions recorded, {approved} approved (Quote-rule exceptions).",
          f"{len(alerts)} alerts raised in the year (Alerts)."]),
    ]  # fmt: skip
