"""The semi-annual directors' report (internal control 2: finance reports to the directors, the INEDs
included, every six months).

One workbook per half year (January to June, July to December), figures as at the half year's last day:
- Connected persons: each connected person's caps added up across its agreements and categories (per
  currency), with what the half year itself added, its alerts and its exceptions;
- Summary: each cap whose period overlaps the half year, as in the monthly report, plus what the half
  year added;
- Cap revisions: every revision of those caps, with the steps it needs, their dates and any breach;
- Breaches: every breach of a cap detected in the half year or still open, with its announcement and
  re-compliance;
- Alerts raised in the half year; Exceptions: orders dated in it that were cancelled, approved under a
  documented quote-rule exception, or approved or pending without meeting the quote rule otherwise;
  Quote-rule exceptions: every exception requested in the half year or for an order dated in it;
- Orders and Quotes, as in the monthly report.
"""

import datetime
from collections import Counter
from collections.abc import Iterable
from typing import BinaryIO

from compliance.alerts.breaches import report_breaches
from compliance.models import Alert, AnnualCap, Breach, CapRevision, QuoteRuleException
from compliance.reports.breaches import breaches_sheet
from compliance.reports.lifecycle import quote_rule_exceptions_sheet, revisions_sheet
from compliance.reports.pdf import PdfReport, new_report
from compliance.reports.selectors import (
    ExceptionRow,
    OrderRow,
    connected_person_totals,
    counted_quote_assessments,
    report_alerts,
    report_cap_revisions,
    report_caps_with_movement,
    report_exceptions,
    report_order_rows,
    report_quote_rule_exceptions,
    report_reading,
)
from compliance.reports.sheets import (
    DIRECTION,
    alerts_sheet,
    exception_rows,
    exceptions_sheet,
    order_rows,
    orders_sheet,
    quote_rows,
    quotes_sheet,
    summary_sheet,
)
from compliance.reports.workbook import Column, Kind, Progress, ReportWorkbook, fraction
from compliance.rules.selectors import QuoteRuleResult
from transactions.models import PurchaseOrder

T, M, P, N = Kind.TEXT, Kind.MONEY, Kind.PERCENT, Kind.INTEGER

PERSON_COLUMNS = [
    Column("Direction", "方向", T, 14),
    Column("Connected person", "關連人士", T, 34),
    Column("Currency", "貨幣", T, 9),
    Column("Caps", "年度上限數目", N, 9),
    Column("Annual caps", "年度上限總額", M, 17),
    Column("Actual", "實際交易金額", M, 17),
    Column("Committed", "已承諾金額", M, 17),
    Column("Used", "已使用（各上限較高者合計）", M, 17),
    Column("Utilisation %", "使用率", P, 12),
    Column("Remaining", "剩餘額度", M, 17),
    Column("Forecast at period ends", "期末預測", M, 17),
    Column("Forecast %", "期末預測使用率", P, 12),
    Column("Actual in the half year", "本半年實際交易", M, 17),
    Column("Committed in the half year", "本半年新承諾", M, 17),
    Column("Alerts in the half year", "本半年警示", N, 11),
    Column("Exceptions in the half year", "本半年例外情況", N, 11),
]


def half_bounds(half: datetime.date) -> tuple[datetime.date, datetime.date]:
    """January to June or July to December: the half year containing `half`."""
    if half.month <= 6:
        return datetime.date(half.year, 1, 1), datetime.date(half.year, 6, 30)
    return datetime.date(half.year, 7, 1), datetime.date(half.year, 12, 31)


def half_name(half: datetime.date) -> str:
    return f"{half.year}-H{1 if half.month <= 6 else 2}"


def directors_report_filename(half: datetime.date, *, pdf: bool = False) -> str:
    return f"cct-directors-report-{half_name(half)}.{'pdf' if pdf else 'xlsx'}"


def write_directors_report(
    half: datetime.date, output: BinaryIO, *, pdf: bool = False, progress: Progress | None = None
) -> None:
    """Write the directors' report of the half year containing `half` (any day of it) to `output`."""
    start, end = half_bounds(half)
    with report_reading():
        caps = report_caps_with_movement(start=start, end=end)
        report = build_directors_report(
            half=start,
            caps=caps,
            revisions=report_cap_revisions(caps),
            alerts=report_alerts(start=start, end=end),
            exceptions=list(report_exceptions(start=start, end=end)),
            quote_rule_exceptions=report_quote_rule_exceptions(start=start, end=end),
            orders=report_order_rows(caps, as_of=end),
            quotes=counted_quote_assessments(caps, as_of=end),
            breaches=report_breaches(start=start, end=end),
            report=new_report(pdf=pdf, progress=progress, title=f"Directors' report {half_name(start)} · 董事報告"),
        )
    report.save(output)


def build_directors_report(
    *,
    half: datetime.date,
    caps: list[AnnualCap],
    revisions: list[CapRevision],
    alerts: list[Alert],
    exceptions: list[ExceptionRow],
    quote_rule_exceptions: list[QuoteRuleException],
    orders: Iterable[OrderRow],
    quotes: Iterable[tuple[PurchaseOrder, QuoteRuleResult]],
    breaches: list[Breach] | None = None,
    report: ReportWorkbook | PdfReport | None = None,
) -> ReportWorkbook | PdfReport:
    """The workbook (or the PDF given as `report`), from selector output; runs no query of its own."""
    start, end = half_bounds(half)
    half_label = "January to June" if start.month == 1 else "July to December"
    half_zh = "上半年" if start.month == 1 else "下半年"
    name = f"{half_label} {start.year} · {start.year}年{half_zh}"
    as_at = (
        f"Figures as at {end:%-d %b %Y}: invoices and orders dated on or before it; statuses as they stand now · "
        f"數字截至{end:%Y-%m-%d}"
    )
    report = report if report is not None else ReportWorkbook()
    _write_people_sheet(report, caps, alerts, exceptions, name=name, end=end, as_at=as_at)
    _write_cap_sheets(report, caps, revisions, breaches, name=name, end=end, as_at=as_at)
    _write_exception_sheets(report, alerts, exceptions, quote_rule_exceptions, name=name, as_at=as_at)
    orders_sheet(
        report,
        order_rows(orders),
        heading=f"Orders counted in the caps' periods · 計入各期間的訂單 — {name}",
        note=as_at,
    )
    quotes_sheet(
        report,
        quote_rows(quotes),
        heading=f"Quotes of those orders · 訂單的獨立報價 — {name}",
        note="Prices compared in the order's currency: a quote in another currency at the order date's rate",
    )
    return report


def _write_people_sheet(
    report: ReportWorkbook | PdfReport,
    caps: list[AnnualCap],
    alerts: list[Alert],
    exceptions: list[ExceptionRow],
    *,
    name: str,
    end: datetime.date,
    as_at: str,
) -> None:
    """Per connected person and direction: its caps' totals, and its alerts and exceptions of the half year."""
    alerts_per_person = Counter(alert.cap.category.agreement.connected_person_id for alert in alerts)
    exceptions_per_person = Counter(row.order.category.agreement.connected_person_id for row in exceptions)
    people = report.table(
        "Connected persons",
        PERSON_COLUMNS,
        heading=f"Directors' report on continuing connected transactions · 董事持續關連交易報告 — {name}",
        note=as_at + " · Per connected person and direction (purchases, sales), across its agreements; never "
        "across currencies, never a purchase cap with a sales cap",
    )
    for total in connected_person_totals(caps, as_of=end):
        people.append(
            [
                DIRECTION[total.direction],
                total.name,
                total.currency,
                total.caps,
                total.amount,
                total.actual,
                total.committed,
                total.used,
                fraction(total.used_pct),
                total.remaining,
                total.forecast,
                fraction(total.forecast_pct),
                total.actual_in_range,
                total.committed_in_range,
                alerts_per_person[total.connected_person_id],
                exceptions_per_person[total.connected_person_id],
            ]
        )
    people.finish()


def _write_cap_sheets(
    report: ReportWorkbook | PdfReport,
    caps: list[AnnualCap],
    revisions: list[CapRevision],
    breaches: list[Breach] | None,
    *,
    name: str,
    end: datetime.date,
    as_at: str,
) -> None:
    """The caps with the half year's movement, their revisions and the breaches."""
    summary_sheet(
        report,
        caps,
        as_of=end,
        heading=f"Annual caps · 年度上限 — {name}",
        note=as_at,
        movement=("half year", "本半年"),
    )
    revisions_sheet(
        report,
        revisions,
        heading=f"Revisions of the caps · 年度上限的修訂 — {name}",
        note="Every revision, whatever its status; a revision proposed or completed when the cap was already "
        "exceeded is a breach of the Listing Rules",
    )
    breaches_sheet(
        report,
        breaches or [],
        heading=f"Breaches of caps · 超出年度上限記錄 — {name}",
        note="Every breach detected in the half year, and every earlier one still open at its end or now, until "
        "it is re-complied with; amounts at detection, in the cap's currency",
    )


def _write_exception_sheets(
    report: ReportWorkbook | PdfReport,
    alerts: list[Alert],
    exceptions: list[ExceptionRow],
    quote_rule_exceptions: list[QuoteRuleException],
    *,
    name: str,
    as_at: str,
) -> None:
    """The alerts, exceptions and quote-rule exceptions of the half year."""
    alerts_sheet(report, alerts, heading=f"Alerts raised in the half year · 本半年發出的警示 — {name}", note=as_at)
    exceptions_sheet(
        report,
        exception_rows(exceptions),
        heading=f"Exceptions of the half year · 本半年例外情況 — {name}",
        note="Orders dated in the half year: cancelled, approved under a documented quote-rule exception, "
        "approved without meeting the quote rule otherwise as the records stand now, or drafts that would be "
        "refused",
    )
    quote_rule_exceptions_sheet(
        report,
        quote_rule_exceptions,
        heading=f"Quote-rule exceptions · 報價規則例外 — {name}",
        note="Every exception requested in the half year or for an order dated in it, whatever its status; amount, "
        "currency and counterparty as requested, which is what an exception covers",
    )
