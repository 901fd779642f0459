"""The annual review pack (internal control 5): what the INEDs and the auditors need to confirm, for a
financial year, that every continuing connected transaction was approved, priced by the policy, under
its agreement and within its cap.

The financial year runs from 1 January to 31 December (the issuer's year end); figures are as at its
last day. Sheets:
- INED summary: one printable page: per category the caps of the year, the actual total and whether it
  stayed within cap; the classification of each connected person and category at the year end; the four
  matters the auditors report on, each with its finding; the INEDs' four confirmations and what the
  product holds for each;
- Summary: every cap of the year as in the monthly report;
- Cap revisions: every revision of a cap of the year, its amounts, reason, classification, the steps it
  needs with their dates, its status, and whether it is a breach (proposed or completed when the cap was
  already exceeded);
- Classification: each connected person (across its agreements) and each category with a cap of the year,
  classified under Rule 14A.76 as at the year end: the percentage ratios, the tier and its obligations,
  and whether the result is provisional for want of an input, and which;
- Auditor matters: the four matters with the evidence the product holds and where to find it;
- Orders: every order counted in the year's periods with its board-approved agreement, who entered and
  approved it, whether it lies in the term and the counterparty belongs to the connected person's group;
- Quotes: each of those orders' quotes and the margin by which the connected party's price is lower;
- Exceptions: orders dated in the year that were cancelled, approved under a documented quote-rule
  exception, approved without meeting the quote rule otherwise (as the records stand now), or drafts that
  would be refused (a refused approval leaves the order a draft);
- Quote-rule exceptions: every exception requested in the year or for an order dated in it, pending,
  approved or rejected, with who requested and decided it, when, why and its evidence;
- Alerts raised in the year.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO

from compliance.models import Alert, AnnualCap, CapRevision, QuoteRuleException
from compliance.report_selectors import (
    ClassificationRow,
    ExceptionRow,
    OrderRow,
    counted_quote_assessments,
    order_evidence,
    report_alerts,
    report_cap_revisions,
    report_caps,
    report_classifications,
    report_exceptions,
    report_order_rows,
    report_quote_rule_exceptions,
    report_reading,
)
from compliance.selectors import QuoteRuleResult
from transactions.models import PurchaseOrder

from .lifecycle import TIER, classification_sheet, quote_rule_exceptions_sheet, ratio, revisions_sheet
from .sheets import (
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
from .workbook import Column, FreeSheet, Kind, ReportWorkbook, TableSheet, yes_no

T, M, P, N = Kind.TEXT, Kind.MONEY, Kind.PERCENT, Kind.INTEGER

CAP_COLUMNS = [
    Column("Category", "交易類別", T, 30),
    Column("Cap of the year", "本年度上限", T, 34),
    Column("Currency", "貨幣", T, 9),
    Column("Annual cap", "年度上限", M, 17),
    Column("Actual", "實際交易金額", M, 17),
    Column("Committed", "已承諾金額", M, 17),
    Column("Within cap", "未超出上限", T, 12),
]
MATTER_COLUMNS = [
    Column("Matter", "事項", T, 30),
    Column("Finding", "結果", T, 34),
    Column("Evidence the product holds", "系統所持證據", T, 60),
    Column("Where to look", "參閱", T, 28),
    Column("Orders examined", "審閱訂單數目", N, 11),
    Column("Exceptions", "例外數目", N, 11),
]


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


def annual_review_filename(year: int) -> str:
    return f"cct-annual-review-{year}.xlsx"


def write_annual_review(year: int, output: BinaryIO) -> None:
    """Write the annual review pack of the financial year `year` to `output`."""
    start, end = year_bounds(year)
    with report_reading():
        caps = report_caps(start=start, end=end, as_of=end)
        report = build_annual_review(
            year=year,
            caps=caps,
            revisions=report_cap_revisions(caps),
            classifications=report_classifications(caps, on=end),
            evidence=order_evidence(caps, as_of=end),
            orders=report_order_rows(caps, as_of=end),
            quotes=counted_quote_assessments(caps, as_of=end),
            exceptions=report_exceptions(start=start, end=end),
            quote_rule_exceptions=report_quote_rule_exceptions(start=start, end=end),
            alerts=report_alerts(start=start, end=end),
        )
    report.save(output)


def build_annual_review(
    *,
    year: int,
    caps: list[AnnualCap],
    revisions: list[CapRevision],
    classifications: list[ClassificationRow],
    evidence: dict[str, int],
    orders: Iterable[OrderRow],
    quotes: Iterable[tuple[PurchaseOrder, QuoteRuleResult]],
    exceptions: Iterable[ExceptionRow],
    quote_rule_exceptions: list[QuoteRuleException],
    alerts: list[Alert],
) -> ReportWorkbook:
    """The workbook, from selector output; runs no query of its own."""
    end = year_bounds(year)[1]
    name = f"financial year {year} · {year}財政年度"
    as_at = (
        f"Figures as at {end:%-d %b %Y}: invoices and orders dated on or before it; statuses as they stand now · "
        f"數字截至{end:%Y-%m-%d}"
    )
    report = ReportWorkbook()
    # Created first so that they come first; filled once the orders and quotes have been through.
    ined = report.sheet(
        "INED summary",
        INED_WIDTHS,
        heading=f"Annual review of continuing connected transactions · 持續關連交易年度審閱 — {name}",
        note=as_at,
    )
    summary_sheet(report, caps, as_of=end, heading=f"Annual caps of the year · 本年度年度上限 — {name}", note=as_at)
    revisions_sheet(
        report,
        revisions,
        heading=f"Revisions of the year's caps · 本年度年度上限的修訂 — {name}",
        note="Every revision, whatever its status; a revision proposed or completed when the cap was already "
        "exceeded is a breach of the Listing Rules",
    )
    classification_sheet(
        report,
        classifications,
        heading=f"Classification under Rule 14A.76 · 第14A.76條分類 — {name}",
        note=f"As at {end:%-d %b %Y}: the largest annual cap (for a connected person, the largest sum of its caps "
        "starting in one financial year) against the latest financial year ended by then; a provisional result "
        "names the input it lacks",
    )
    matters = report.table(
        "Auditor matters",
        MATTER_COLUMNS,
        heading=f"The matters the auditors report on · 核數師須匯報的事項 — {name}",
        note="Rule 14A.56: whether anything suggests the transactions were not approved by the board, not in line "
        "with the pricing policies, not under the governing agreements, or exceeded the annual cap",
    )
    orders_sheet(
        report,
        order_rows(orders),
        heading=f"Orders counted in the year's periods · 本年度計入的訂單 — {name}",
        note=as_at,
    )
    tally = QuoteTally()
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
    alerts_sheet(report, alerts, heading=f"Alerts raised in the year · 本年度發出的警示 — {name}", note=as_at)

    breached = _breached_caps(caps, revisions)
    findings = _matters(caps, breached, evidence, tally)
    _write_matters(matters, findings)
    _write_ined_summary(
        ined, caps, breached, classifications, findings, tally, exceptions, quote_rule_exceptions, revisions, alerts
    )
    return report


def _breached_caps(caps: list[AnnualCap], revisions: list[CapRevision]) -> list[AnnualCap]:
    """Caps within their amount now only because a revision raised them after they were exceeded."""
    breached = {revision.cap_id for revision in revisions if revision.breach}
    return [cap for cap in caps if cap.pk in breached and cap.used <= cap.amount]


def _within(cap: AnnualCap, breached: list[AnnualCap]) -> str:
    if cap in breached:
        return "No: revised after it was exceeded · 否：超出後才修訂"
    return yes_no(cap.used <= cap.amount)


def _matters(
    caps: list[AnnualCap], breached: list[AnnualCap], evidence: dict[str, int], tally: QuoteTally
) -> list[list]:
    """The four matters (a) to (d), each: matter, finding, evidence, where, orders examined, exceptions."""
    examined = evidence["orders"]
    exceeded = [cap for cap in caps if cap.used > cap.amount]
    smallest = (
        f"; the smallest margin below the lowest independent quote was {tally.smallest_margin_pct}%"
        if tally.smallest_margin_pct is not None
        else ""
    )
    before_board, outside = evidence["before_board"], evidence["outside_term"] + evidence["outside_group"]
    failed, documented = len(tally.failed), len(tally.documented)
    under_exceptions = (
        f" {documented} approved under a documented quote-rule exception: a reason, evidence and a second "
        "person's approval (Quote-rule exceptions)."
        if documented
        else ""
    )

    def finding(count: int, what: str) -> str:
        return "Nothing found · 未發現" if count == 0 else f"{count} {what} · 發現{count}項"

    return [
        [
            "(a) Not approved by the board · 未經董事會批准",
            finding(before_board, "orders dated before the board approved their agreement"),
            "Each order names its framework agreement and the day the board approved it; each was approved in "
            f"the product by a compliance user other than the person who entered it "
            f"({evidence['self_approved']} approved by the person who entered them).",
            "Orders: Agreement, Board approved on, Entered by, Approved by",
            examined,
            before_board + evidence["self_approved"],
        ],
        [
            "(b) Not in line with the pricing policies · 不符合定價政策",
            finding(failed, "orders not meeting the quote rule")
            + (f"; {documented} under a documented exception · {documented}項已記錄例外" if documented else ""),
            f"{tally.passed} of {tally.orders} orders had the required independent quotes, dated within the "
            f"validity before the order, each with its document, and the connected party's price below every one of "
            f"them, compared in the order's currency (another currency at the order date's rate)"
            f"{smallest}.{under_exceptions}",
            "Quotes: Quote rule, More favourable by; Exceptions; Quote-rule exceptions",
            tally.orders,
            failed + documented,
        ],
        [
            "(c) Not entered into under the governing agreements · 未根據規管協議進行",
            finding(outside, "orders outside the term or with a counterparty outside the group"),
            "Each order is placed under a category of a framework agreement; its dates lie within the category's "
            f"term ({evidence['outside_term']} outside) and its counterparty belongs to the group of the "
            f"agreement's connected person ({evidence['outside_group']} outside).",
            "Orders: Agreement, Within term, Counterparty in the group",
            examined,
            outside,
        ],
        [
            "(d) Exceeded the annual cap · 超出年度上限",
            finding(len(exceeded) + len(breached), "caps exceeded"),
            "Committed (approved orders allocated to each period) and actual (their invoices) as at the year end "
            "against every cap of the year; approvals that would exceed a cap are refused by the product."
            + (" Exceeded: " + "; ".join(cap_label(cap) for cap in exceeded) + "." if exceeded else "")
            + (
                " Revised only after it was exceeded, a breach: " + "; ".join(cap_label(cap) for cap in breached) + "."
                if breached
                else ""
            ),
            "Summary: Annual cap, Actual, Committed, Status; Cap revisions: Breach",
            len(caps),
            len(exceeded) + len(breached),
        ],
    ]


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
) -> None:
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
            )  # fmt: skip
    if not caps:
        sheet.row(["No cap period falls in this year · 本年度沒有年度上限", None], [T, T])

    sheet.blank()
    sheet.section("Classification under Rule 14A.76 · 第14A.76條分類")
    sheet.header(INED_CLASSIFICATION_COLUMNS)
    for row in classifications:
        result = row.classification
        sheet.row(
            [row.subject, TIER.get(result.tier, result.tier), ratio(result.highest_ratio),
             yes_no(result.provisional), ", ".join(result.missing) or None],
            [T, T, P, T, T],
            bold_first=row.agreement is None,
            wrap=True,
        )  # fmt: skip

    sheet.blank()
    sheet.section("What the auditors report on · 核數師須匯報的事項")
    sheet.header([MATTER_COLUMNS[0], MATTER_COLUMNS[1], MATTER_COLUMNS[5], MATTER_COLUMNS[3]])
    for matter, finding, _evidence, where, _examined, count in findings:
        sheet.row([matter, finding, count, where], [T, T, N, T], bold_first=True, wrap=True)

    approved = sum(1 for exception in quote_rule_exceptions if exception.is_approved)
    breaches = sum(1 for revision in revisions if revision.breach)
    sheet.blank()
    sheet.section("The INEDs' confirmations · 獨立非執行董事的確認")
    sheet.header([Column("Confirmation", "確認事項", T), Column("What the product holds", "系統所持資料", T)])
    # What the product holds, a line each, so that no line runs far beyond the page.
    confirmations = [
        ("(1) In the ordinary and usual course of business · 屬日常及一般業務",
         [f"Every order of the year with its description, category and counterparty ({tally.orders} in Orders)."]),
        ("(2) On normal commercial terms or better · 按一般或更佳商業條款",
         [f"{tally.passed} of {tally.orders} orders priced below every counted independent quote (Quotes)"
          + (f"; {len(tally.documented)} under a documented quote-rule exception." if tally.documented else ".")]),
        ("(3) Under the governing agreement, on fair and reasonable terms · 根據規管協議進行，條款公平合理",
         [f"{findings[2][1]} (Orders: Within term, Counterparty in the group)."]),
        ("(4) In the interests of the shareholders as a whole · 符合股東整體利益",
         [f"Caps: {findings[3][1]}; {len(revisions)} cap revisions, {breaches} flagged as a breach (Cap revisions).",
          f"{len(exceptions)} exceptions or refusals (Exceptions); {len(quote_rule_exceptions)} quote-rule "
          f"exceptions recorded, {approved} approved (Quote-rule exceptions).",
          f"{len(alerts)} alerts raised in the year (Alerts)."]),
    ]  # fmt: skip
    for confirmation, holds in confirmations:
        sheet.row([confirmation, holds[0]], [T, T], bold_first=True, wrap=True)
        for more in holds[1:]:
            sheet.row([None, more], [T, T], wrap=True)
