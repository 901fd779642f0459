"""The sheets of the cap lifecycle, for the directors' report and the annual review pack: every quote-rule
exception, every revision of a cap, and the classification of each category and connected person.

Each function writes one table from selector output (compliance.reports.selectors) and runs no query.
"""

from collections.abc import Iterable
from decimal import Decimal

from compliance.lifecycle import revisions
from compliance.models import CapRevision, QuoteRuleException, Tier
from compliance.reports.selectors import ClassificationRow
from compliance.reports.sheets import STATUS, cap_label
from compliance.reports.workbook import Column, Kind, ReportWorkbook, TableSheet, fraction, yes_no
from compliance.rules.classification import ASSETS, CONSIDERATION, PROFITS, REVENUE, describe_all_missing, percent_text

T, M, P, D, DT = Kind.TEXT, Kind.MONEY, Kind.PERCENT, Kind.DATE, Kind.DATETIME


# --- Quote-rule exceptions: every one recorded, whatever its status -------------------------------

EXCEPTION_STATUS = {
    QuoteRuleException.Status.PENDING: "Pending: awaiting a second approver · 待第二人批准",
    QuoteRuleException.Status.APPROVED: "Approved · 已批准",
    QuoteRuleException.Status.REJECTED: "Rejected · 已拒絕",
}

QUOTE_RULE_EXCEPTION_COLUMNS = [
    Column("Order", "訂單編號", T, 16),
    Column("Category", "交易類別", T, 18),
    Column("Order date", "訂單日期", D, 12),
    Column("Order status", "訂單狀態", T, 14),
    Column("Counterparty", "交易對手", T, 26),
    Column("Amount", "金額", M, 16),
    Column("Currency", "貨幣", T, 9),
    Column("Reason", "原因", T, 50),
    Column("Evidence", "證明文件", T, 24),
    Column("Requested by", "申請人", T, 14),
    Column("Requested at", "申請時間", DT, 17),
    Column("Status", "狀態", T, 22),
    Column("Approved or rejected by", "批准或拒絕人", T, 14),
    Column("Decided at", "處理時間", DT, 17),
    Column("Why rejected", "拒絕原因", T, 30),
    Column("Covers the order as it stands", "涵蓋現時訂單", T, 14),
]


def quote_rule_exception_rows(exceptions: Iterable[QuoteRuleException]) -> Iterable[list]:
    """The cells of the Quote-rule exceptions sheet; amount, currency and counterparty are those of the order
    when the exception was requested, which is what it covers."""
    for exception in exceptions:
        order = exception.purchase_order
        yield [
            order.number, order.category.name, order.order_date, STATUS.get(order.status, order.status),
            exception.order_counterparty.name, exception.order_amount, exception.order_currency, exception.reason,
            exception.evidence_name or None, exception.requested_by.username, exception.requested_at,
            EXCEPTION_STATUS.get(exception.status, exception.status),
            exception.decided_by.username if exception.decided_by else None, exception.decided_at,
            exception.rejection_reason or None, yes_no(exception.covers(order)),
        ]  # fmt: skip


def quote_rule_exceptions_sheet(
    report: ReportWorkbook, exceptions: list[QuoteRuleException], *, heading: str, note: str
) -> TableSheet:
    sheet = report.table("Quote-rule exceptions", QUOTE_RULE_EXCEPTION_COLUMNS, heading=heading, note=note)
    sheet.extend(quote_rule_exception_rows(exceptions))
    sheet.finish()
    return sheet


# --- Cap revisions ------------------------------------------------------------------------------

TIER = {
    Tier.FULLY_EXEMPT: "Fully exempt · 全面豁免",
    Tier.ANNOUNCEMENT_AND_ANNUAL_REVIEW: "Announcement, reporting and annual review · 公告、申報及年度審核",
    Tier.SHAREHOLDERS_APPROVAL: "Independent shareholders' approval · 獨立股東批准",
}
REVISION_STATUS = {
    CapRevision.Status.PENDING: "Pending: steps to record · 待記錄步驟",
    CapRevision.Status.COMPLETED: "Completed: in force · 已生效",
    CapRevision.Status.WITHDRAWN: "Withdrawn · 已撤回",
}
STEP_NAMES = {
    revisions.BOARD: "Board approval · 董事會批准",
    revisions.ANNOUNCEMENT: "Announcement · 公告",
    revisions.CIRCULAR: "Circular · 通函",
    revisions.ADVISER: "Independent financial adviser's letter · 獨立財務顧問函件",
    revisions.SHAREHOLDERS: "Independent shareholders' approval · 獨立股東批准",
}
BREACH = "BREACH · 違規"

REVISION_COLUMNS = [
    Column("Cap", "年度上限", T, 36),
    Column("Connected person", "關連人士", T, 22),
    Column("Currency", "貨幣", T, 9),
    Column("Cap before", "修訂前上限", M, 16),
    Column("Revised cap", "修訂後上限", M, 16),
    Column("Reason", "原因", T, 40),
    Column("Tier", "類別", T, 28),
    Column("Provisional", "暫定", T, 10),
    Column("Steps required", "所需步驟", T, 34),
    Column("Board approval", "董事會批准日期", D, 12),
    Column("Announcement", "公告日期", D, 12),
    Column("Independent shareholders' approval", "獨立股東批准日期", D, 14),
    Column("Steps outstanding", "待完成步驟", T, 30),
    Column("Status", "狀態", T, 22),
    Column("Used when proposed", "提出時已使用", M, 16),
    Column("Breach", "違規", T, 12),
    Column("Proposed by", "提出人", T, 14),
    Column("Proposed at", "提出時間", DT, 17),
    Column("Completed or withdrawn by", "完成或撤回人", T, 14),
    Column("Completed or withdrawn at", "完成或撤回時間", DT, 17),
    Column("Why withdrawn", "撤回原因", T, 30),
    # Later additions at the end, so that the columns above keep their places.
    Column("Circular issued", "通函日期", D, 12),
    Column("Adviser's letter", "獨立財務顧問函件日期", D, 12),
    Column("Board minutes", "董事會會議記錄", T, 24),
    Column("Directors who abstained", "放棄投票的董事", T, 22),
    Column("Announcement reference", "公告編號", T, 24),
]


def revision_rows(cap_revisions: Iterable[CapRevision]) -> Iterable[list]:
    """The cells of the Cap revisions sheet. A revision proposed or completed when the cap was already
    exceeded is a breach, and says so in capitals."""
    for revision in cap_revisions:
        cap = revision.cap
        steps = revisions.required_steps(revision.tier)
        outstanding = revisions.steps_outstanding(revision) if revision.is_pending else []
        closed_by = revision.completed_by or revision.withdrawn_by
        yield [
            cap_label(cap), cap.category.agreement.connected_person.name, cap.category.currency,
            revision.previous_amount, revision.new_amount, revision.reason, TIER.get(revision.tier, revision.tier),
            yes_no(revision.provisional), "; ".join(STEP_NAMES[step] for step in steps),
            revision.board_approved_on, revision.announced_on, revision.shareholders_approved_on,
            "; ".join(STEP_NAMES[step] for step in outstanding) or None,
            REVISION_STATUS.get(revision.status, revision.status), revision.used_when_proposed,
            BREACH if revision.breach else yes_no(False), revision.proposed_by.username, revision.proposed_at,
            closed_by.username if closed_by else None, revision.completed_at or revision.withdrawn_at,
            revision.withdrawal_reason or None, revision.circular_issued_on, revision.adviser_letter_on,
            revision.board_minutes_ref or None, revision.abstaining_directors or None,
            revision.announcement_ref or None,
        ]  # fmt: skip


def revisions_sheet(report: ReportWorkbook, cap_revisions: list[CapRevision], *, heading: str, note: str) -> TableSheet:
    sheet = report.table("Cap revisions", REVISION_COLUMNS, heading=heading, note=note)
    sheet.extend(revision_rows(cap_revisions))
    sheet.finish()
    sheet.highlight("Breach", BREACH)
    return sheet


# --- Classification -----------------------------------------------------------------------------

CLASSIFICATION_COLUMNS = [
    Column("Classified", "分類對象", T, 32),
    Column("Connected person", "關連人士", T, 22),
    Column("Agreement", "框架協議", T, 28),
    Column("Amount classified", "分類金額", M, 17),
    Column("Currency", "貨幣", T, 9),
    Column("What the amount is", "金額說明", T, 44),
    Column("Financial year ended", "財政年度結算日", D, 12),
    Column("Assets ratio", "資產比率", P, 11),
    Column("Revenue ratio", "收益比率", P, 11),
    Column("Consideration ratio", "代價比率", P, 11),
    Column("Profits ratio", "盈利比率", P, 14),
    Column("Highest ratio", "最高比率", P, 11),
    Column("Tier", "類別", T, 30),
    Column("Provisional", "暫定", T, 10),
    Column("Missing inputs", "缺少資料", T, 20),
    Column("Obligations", "責任", T, 60),
    Column("Notes", "附註", T, 60),
]
NOT_APPLICABLE = "Not applicable: a loss · 不適用：虧損"


def ratio(value: Decimal | None) -> Decimal | None:
    """An exact percentage as the API shows it (four places), as the fraction a percent cell holds."""
    text = percent_text(value)
    return None if text is None else fraction(Decimal(text))


def classification_rows(classifications: Iterable[ClassificationRow]) -> Iterable[list]:
    for row in classifications:
        result = row.classification
        year = result.financial_year
        profits = ratio(result.ratios[PROFITS])
        if profits is None and year is not None and year.is_loss:
            profits = NOT_APPLICABLE
        yield [
            row.subject, row.connected_person, row.agreement, result.numerator, result.currency, result.basis,
            year.year_end if year else None, ratio(result.ratios[ASSETS]), ratio(result.ratios[REVENUE]),
            ratio(result.ratios[CONSIDERATION]), profits, ratio(result.highest_ratio),
            TIER.get(result.tier, result.tier), yes_no(result.provisional),
            describe_all_missing(result.missing) or None,
            " ".join(result.obligations), " ".join(result.notes) or None,
        ]  # fmt: skip


def classification_sheet(
    report: ReportWorkbook, classifications: list[ClassificationRow], *, heading: str, note: str
) -> TableSheet:
    sheet = report.table("Classification", CLASSIFICATION_COLUMNS, heading=heading, note=note)
    sheet.extend(classification_rows(classifications))
    sheet.finish()
    return sheet
