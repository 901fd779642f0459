"""The monthly cap report (internal control 2: finance reports monthly to senior management).

One workbook per calendar month, with the figures as at the month end:
- Summary: each cap whose period overlaps the month, its actual and committed amounts, utilisation,
  headroom, the run-rate forecast at its period end and its status against 80% and 100%, with a chart;
- Orders: every order counted in those periods, with its part in the period;
- Quotes: each of those orders' quotes, the connected party's price and by how much it is more favourable,
  and why an order does not meet the quote rule or the documented quote-rule exception it was approved under;
- Alerts: the alerts raised in the month and whether each was e-mailed.

`write_monthly_report` is the entry point (the API, the admin, the `monthly_report` command and the
monthly e-mail all call it).
"""

import calendar
import datetime
from collections.abc import Iterable
from typing import BinaryIO

from django.conf import settings

from compliance.models import Alert, AnnualCap
from compliance.reports.pdf import PdfReport, new_report
from compliance.reports.selectors import (
    OrderRow,
    counted_quote_assessments,
    report_alerts,
    report_caps,
    report_order_rows,
    report_reading,
)
from compliance.reports.sheets import alerts_sheet, order_rows, orders_sheet, quote_rows, quotes_sheet, summary_sheet
from compliance.reports.workbook import Progress, ReportWorkbook
from compliance.rules.selectors import QuoteRuleResult
from transactions.models import PurchaseOrder


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the month containing `month`."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def monthly_report_filename(month: datetime.date, *, pdf: bool = False) -> str:
    return f"cct-monthly-report-{month:%Y-%m}.{'pdf' if pdf else 'xlsx'}"


def write_monthly_report(
    month: datetime.date, output: BinaryIO, *, pdf: bool = False, progress: Progress | None = None
) -> None:
    """Write the monthly cap report of the month containing `month` (any day of it) to `output`, a
    binary file open for writing: a workbook, or with `pdf` the printable pack of the same rows. Figures
    are as at the month's last day."""
    first, last = month_bounds(month)
    with report_reading():
        caps = report_caps(start=first, end=last, as_of=last)
        report = build_monthly_report(
            month=first,
            caps=caps,
            orders=report_order_rows(caps, as_of=last),
            quotes=counted_quote_assessments(caps, as_of=last),
            alerts=report_alerts(start=first, end=last),
            report=new_report(pdf=pdf, progress=progress, title=f"Monthly cap report {first:%Y-%m} · 每月年度上限報告"),
        )
    report.save(output)


def build_monthly_report(
    *,
    month: datetime.date,
    caps: list[AnnualCap],
    orders: Iterable[OrderRow],
    quotes: Iterable[tuple[PurchaseOrder, QuoteRuleResult]],
    alerts: list[Alert],
    report: ReportWorkbook | PdfReport | None = None,
) -> ReportWorkbook | PdfReport:
    """The workbook (or the PDF given as `report`), from selector output (compliance.reports.selectors);
    runs no query of its own."""
    first, last = month_bounds(month)
    name = f"{first:%B %Y} · {first.year}年{first.month}月"
    as_at = (
        f"Figures as at {last:%-d %b %Y}: invoices and orders dated on or before it; statuses as they stand "
        f"now · 數字截至{last:%Y-%m-%d}"
    )
    report = report if report is not None else ReportWorkbook()
    summary_sheet(report, caps, as_of=last, heading=f"Monthly cap report · 每月年度上限報告 — {name}", note=as_at)
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
        note="Prices compared in the order's currency: a quote in another currency at the order date's rate · "
        "以訂單貨幣比較",
    )
    alerts_sheet(
        report,
        alerts,
        heading=f"Alerts raised in the month · 本月發出的警示 — {name}",
        note=f"Times in {settings.TIME_ZONE} · 時間為本地時間",
    )
    return report
