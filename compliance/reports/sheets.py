"""The sheets the reports share: caps (Summary), orders, quotes, alerts and exceptions.

Each function writes one table from selector output (compliance.reports.selectors) and runs no query.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings

from compliance.common.dates import day_in_words
from compliance.models import Alert, AnnualCap
from compliance.reports.selectors import (
    DOCUMENTED_EXCEPTION,
    ExceptionRow,
    OrderRow,
    cap_status,
    documented_exception,
    documented_exception_detail,
    quote_rule_exception,
)
from compliance.reports.workbook import Column, Kind, ReportWorkbook, TableSheet, fraction, yes_no
from compliance.rules.forecast import cap_forecast
from compliance.rules.selectors import QuoteRuleResult
from transactions.models import PurchaseOrder
from transactions.money import mul_div_round

T, M, P, D, DT, N = Kind.TEXT, Kind.MONEY, Kind.PERCENT, Kind.DATE, Kind.DATETIME, Kind.INTEGER

RECOGNITION = {
    PurchaseOrder.Recognition.ON_ORDER_DATE: "On the order date · 按訂單日期",
    PurchaseOrder.Recognition.OVER_SERVICE_PERIOD: "Over the service period · 按服務期間",
}
STATUS = {
    PurchaseOrder.Status.DRAFT: "Draft · 草稿",
    PurchaseOrder.Status.APPROVED: "Approved · 已批准",
    PurchaseOrder.Status.CANCELLED: "Cancelled · 已取消",
}
BASIS = {Alert.Basis.ACTUAL: "Actual · 實際", Alert.Basis.COMMITTED: "Committed · 已承諾"}


def day(value: datetime.date) -> str:
    return day_in_words(value)


def cap_label(cap: AnnualCap) -> str:
    return f"{cap.category.name} {cap.period_start:%Y-%m-%d} to {cap.period_end:%Y-%m-%d}"


# --- Summary: one row per cap --------------------------------------------------------------------

DIRECTION = {"purchase": "Purchases · 採購", "sale": "Sales · 銷售"}

SUMMARY_COLUMNS = [
    Column("Cap", "年度上限", T, 36),
    Column("Connected person", "關連人士", T, 26),
    Column("Agreement", "框架協議", T, 28),
    Column("Category", "交易類別", T, 18),
    Column("Period start", "期間開始", D, 12),
    Column("Period end", "期間結束", D, 12),
    Column("Currency", "貨幣", T, 9),
    Column("Annual cap", "年度上限金額", M, 16),
    Column("Actual", "實際交易金額", M, 16),
    Column("Committed", "已承諾金額", M, 16),
    Column("Actual %", "實際使用率", P, 11),
    Column("Committed %", "承諾使用率", P, 11),
    Column("Utilisation %", "使用率（較高者）", P, 12),
    Column("Remaining", "剩餘額度", M, 16),
    Column("Forecast at period end", "期末預測", M, 16),
    Column("Forecast %", "期末預測使用率", P, 12),
    Column("Status", "狀態", T, 34),
    Column("Direction", "方向", T, 14),  # purchases first, then sales (report_selectors.CAP_ORDER)
]


def summary_rows(caps: list[AnnualCap], *, as_of: datetime.date, movement: bool = False) -> Iterable[list]:
    """The cells of the Summary sheet, in column order."""
    for cap in caps:
        forecast = cap_forecast(cap, as_of=as_of)
        category = cap.category
        row = [
            cap_label(cap), category.agreement.connected_person.name, category.agreement.title, category.name,
            cap.period_start, cap.period_end, category.currency, cap.amount, cap.actual, cap.committed,
            fraction(cap.actual_pct), fraction(cap.committed_pct), fraction(cap.used_pct), cap.remaining,
            forecast.amount, fraction(forecast.pct), cap_status(cap, forecast=forecast).label,
            DIRECTION[category.direction],
        ]  # fmt: skip
        if movement:
            row += [cap.actual_in_range, cap.committed_in_range]
        yield row


def summary_sheet(
    report: ReportWorkbook,
    caps: list[AnnualCap],
    *,
    as_of: datetime.date,
    heading: str,
    note: str,
    movement: tuple[str, str] | None = None,
) -> TableSheet:
    """One row per cap with its figures as at `as_of`, coloured at 80% and 100%, and a bar chart.

    `movement` (English, Chinese names of the range) adds what the range itself added, from
    report_caps_with_movement."""
    columns = list(SUMMARY_COLUMNS)
    if movement:
        en, zh = movement
        columns += [Column(f"Actual in the {en}", f"{zh}實際交易", M, 16)]
        columns += [Column(f"Committed in the {en}", f"{zh}新承諾", M, 16)]
    sheet = report.table("Summary", columns, heading=heading, note=note)
    sheet.extend(summary_rows(caps, as_of=as_of, movement=bool(movement)))
    sheet.finish()
    threshold = settings.CCT_DEFAULT_ALERT_THRESHOLD
    sheet.colour_utilisation("Actual %", "Committed %", "Utilisation %", "Forecast %", threshold=threshold)
    sheet.colour_by("Status", "Utilisation %", threshold=threshold)
    sheet.bar_chart(
        title="Utilisation of each annual cap · 各年度上限使用率", label="Cap", values=["Actual %", "Committed %"]
    )
    return sheet


# --- Orders: one row per order and period it counts in -------------------------------------------

ORDER_COLUMNS = [
    Column("Category", "交易類別", T, 18),
    Column("Period start", "期間開始", D, 12),
    Column("Period end", "期間結束", D, 12),
    Column("Order", "訂單編號", T, 16),
    Column("Counterparty", "交易對手", T, 26),
    Column("Description", "說明", T, 28),
    Column("Order date", "訂單日期", D, 12),
    Column("Counts", "計入方式", T, 18),
    Column("Service start", "服務開始", D, 12),
    Column("Service end", "服務結束", D, 12),
    Column("Amount", "金額", M, 16),
    Column("Currency", "貨幣", T, 9),
    Column("Converted", "折算金額", M, 16),
    Column("Cap currency", "上限貨幣", T, 9),
    Column("Committed in period", "計入期間承諾", M, 16),
    Column("Actual in period", "計入期間實際", M, 16),
    Column("Status", "狀態", T, 14),
    Column("Entered by", "輸入人", T, 14),
    Column("Approved by", "批准人", T, 14),
    Column("Approved on", "批准日期", D, 12),
    Column("Agreement", "框架協議", T, 28),
    Column("Board approved on", "董事會批准日期", D, 12),
    Column("Within term", "在期限內", T, 10),
    Column("Counterparty in the group", "屬關連人士集團", T, 12),
]


def order_rows(rows: Iterable[OrderRow]) -> Iterable[list]:
    """The cells of the Orders sheet, in column order (also what the benchmark's baseline writes)."""
    recognition, status, yes, no = RECOGNITION, STATUS, yes_no(True), yes_no(False)
    for r in rows:
        yield [
            r.category, r.period_start, r.period_end, r.number, r.counterparty, r.description, r.order_date,
            recognition.get(r.recognition, r.recognition), r.service_start, r.service_end, r.amount, r.currency,
            r.converted, r.cap_currency, r.committed, r.actual, status.get(r.status, r.status), r.entered_by,
            r.approved_by, r.approved_on, r.agreement, r.board_approved_on, yes if r.within_term else no,
            yes if r.in_group else no,
        ]  # fmt: skip


def orders_sheet(report: ReportWorkbook, rows: Iterable[list], *, heading: str, note: str) -> TableSheet:
    sheet = report.table("Orders", ORDER_COLUMNS, heading=heading, note=note)
    sheet.extend(rows)
    sheet.finish()
    return sheet


# --- Quotes: one row per order and quote ---------------------------------------------------------

QUOTE_COLUMNS = [
    Column("Order", "訂單編號", T, 16),
    Column("Category", "交易類別", T, 18),
    Column("Order date", "訂單日期", D, 12),
    Column("Status", "狀態", T, 14),
    Column("Connected party", "關連方", T, 26),
    Column("Connected party's price", "關連方價格", M, 16),
    Column("Order currency", "訂單貨幣", T, 9),
    Column("Supplier", "報價方", T, 26),
    Column("Quoted on", "報價日期", D, 12),
    Column("Quote", "報價", M, 16),
    Column("Quote currency", "報價貨幣", T, 9),
    Column("Quote reference", "報價編號", T, 16),
    Column("Quote document", "報價文件", T, 24),
    Column("Quote in order currency", "報價折算為訂單貨幣", M, 16),
    Column("Counted", "計入", T, 10),
    Column("Why not counted", "不計入原因", T, 30),
    Column("More favourable by", "較報價優惠", M, 16),
    Column("More favourable by %", "優惠百分比", P, 12),
    Column("Lowest counted quote (sale: highest)", "最低計入報價（銷售：最高）", T, 14),
    Column("Independent quotes", "獨立報價數目", N, 11),
    Column("Required", "所需數目", N, 9),
    Column("Quote rule", "報價規則", T, 14),
    Column("Exception", "例外情況", T, 40),
]


MET, NOT_MET = "Met · 符合", "Not met · 不符合"
NO_DOCUMENT = "None attached · 未附文件"
NOT_MET_DOCUMENTED = "Not met: documented exception · 不符合：已記錄例外"


class QuoteTally:
    """What the Quotes sheet saw: how many orders met the quote rule, those an approved quote-rule exception
    let through (documented), and those that did not meet it otherwise."""

    def __init__(self) -> None:
        self.orders = 0
        self.passed = 0
        self.documented: list[tuple[PurchaseOrder, QuoteRuleResult]] = []
        self.failed: list[tuple[PurchaseOrder, QuoteRuleResult]] = []
        self.smallest_margin_pct: Decimal | None = None

    def add(self, order: PurchaseOrder, result: QuoteRuleResult, *, documented: bool = False) -> None:
        self.orders += 1
        if result.passes:
            self.passed += 1
            # The binding price: a purchase's lowest quote, a sale's highest reference.
            binding = result.highest_counted if result.sale else result.lowest_counted
            if binding is not None and result.margin is not None:
                pct = mul_div_round(result.margin, 100, binding.compared)
                if self.smallest_margin_pct is None or pct < self.smallest_margin_pct:
                    self.smallest_margin_pct = pct
        elif documented:
            self.documented.append((order, result))
        else:
            self.failed.append((order, result))


def _document(quote) -> str:
    """The quote document's name as uploaded (the evidence an auditor samples), or that none is attached."""
    if not quote.document:
        return NO_DOCUMENT
    return quote.document_name or quote.document.name


def quote_rows(assessments: Iterable[tuple[PurchaseOrder, QuoteRuleResult]], tally: QuoteTally | None = None):
    """The cells of the Quotes sheet: each order's quotes (one row for an order without any)."""
    yes, no = yes_no(True), yes_no(False)
    for order, result in assessments:
        passes = result.passes
        exception = None if passes else documented_exception(order)
        if tally is not None:
            tally.add(order, result, documented=exception is not None)
        category = order.category
        # Prices are compared in the order's currency: a quote in another one at the order date's rate.
        price = order.amount
        # The price the order is held against: a purchase's lowest counted quote, a sale's highest reference.
        binding = result.highest_counted if result.sale else result.lowest_counted
        head = [
            order.number, category.name, order.order_date, STATUS.get(order.status, order.status),
            order.counterparty.name, price, order.currency,
        ]  # fmt: skip
        if passes:
            rule, why = MET, None
        elif exception is not None:
            rule, why = NOT_MET_DOCUMENTED, f"{DOCUMENTED_EXCEPTION}: {documented_exception_detail(exception, result)}"
        else:
            rule, why = NOT_MET, quote_rule_exception(result)
        tail = [result.independent_suppliers, result.required, rule, why]
        if not result.assessments:
            yield [*head, *[None] * 12, *tail]
            continue
        for assessment in result.assessments:
            quote = assessment.quote
            margin = margin_pct = None
            if assessment.counted and assessment.compared is not None:
                # To the group's benefit: a purchase cheaper than the quote, a sale dearer than the reference.
                margin = price - assessment.compared if result.sale else assessment.compared - price
                margin_pct = fraction(mul_div_round(margin, 100, assessment.compared))
            middle = [
                quote.supplier.name, quote.quoted_on, quote.amount, quote.currency, quote.reference or None,
                _document(quote), assessment.compared,
                yes if assessment.counted else no, assessment.reason or None, margin, margin_pct,
                yes if assessment is binding else None,
            ]  # fmt: skip
            yield head + middle + tail


def quotes_sheet(report: ReportWorkbook, rows: Iterable[list], *, heading: str, note: str) -> TableSheet:
    sheet = report.table("Quotes", QUOTE_COLUMNS, heading=heading, note=note)
    sheet.extend(rows)
    sheet.finish()
    return sheet


# --- Alerts ------------------------------------------------------------------------------------

ALERT_COLUMNS = [
    Column("Reached on", "達到日期", D, 12),
    Column("Raised at", "發出時間", DT, 17),
    Column("Cap", "年度上限", T, 36),
    Column("Basis", "基準", T, 14),
    Column("Threshold", "閾值", P, 10),
    Column("Utilisation when raised", "當時使用率", P, 12),
    Column("Amount when raised", "當時金額", M, 16),
    Column("Annual cap", "年度上限金額", M, 16),
    Column("Currency", "貨幣", T, 9),
    Column("Order that reached it", "觸發訂單", T, 16),
    Column("E-mailed", "已發送電郵", T, 12),
    Column("E-mailed at", "發送時間", DT, 17),
    Column("Attempts", "嘗試次數", N, 9),
    Column("Last error", "最後錯誤", T, 30),
]


def alert_rows(alerts: list[Alert]) -> Iterable[list]:
    for alert in alerts:
        yield [
            alert.reached_on, alert.created_at, cap_label(alert.cap), BASIS.get(alert.basis, alert.basis),
            fraction(alert.threshold), fraction(alert.utilisation_pct), alert.used_amount, alert.cap_amount,
            alert.cap.category.currency, alert.triggered_by.number if alert.triggered_by else None,
            "Yes · 已發送" if alert.sent_at is not None else "Pending · 待發送", alert.sent_at, alert.send_attempts,
            alert.last_error or None,
        ]  # fmt: skip


def alerts_sheet(report: ReportWorkbook, alerts: list[Alert], *, heading: str, note: str) -> TableSheet:
    sheet = report.table("Alerts", ALERT_COLUMNS, heading=heading, note=note)
    sheet.extend(alert_rows(alerts))
    sheet.finish()
    return sheet


# --- Exceptions ---------------------------------------------------------------------------------

EXCEPTION_COLUMNS = [
    Column("Order", "訂單編號", T, 16),
    Column("Category", "交易類別", T, 18),
    Column("Order date", "訂單日期", D, 12),
    Column("Counterparty", "交易對手", T, 26),
    Column("Amount", "金額", M, 16),
    Column("Currency", "貨幣", T, 9),
    Column("Converted", "折算金額", M, 16),
    Column("Cap currency", "上限貨幣", T, 9),
    Column("Status", "狀態", T, 14),
    Column("Exception", "例外情況", T, 30),
    Column("Detail", "詳情", T, 50),
    Column("Entered by", "輸入人", T, 14),
    Column("Decided by", "處理人", T, 14),
    Column("Decided at", "處理時間", DT, 17),
]


def exception_rows(exceptions: Iterable[ExceptionRow]) -> Iterable[list]:
    for row in exceptions:
        order = row.order
        decided_by = order.cancelled_by or order.approved_by
        yield [
            order.number, order.category.name, order.order_date, order.counterparty.name, order.amount,
            order.currency, row.result.order_converted, order.category.currency, STATUS.get(order.status),
            row.kind, row.detail, order.created_by.username, decided_by.username if decided_by else None,
            order.cancelled_at or order.approved_at,
        ]  # fmt: skip


def exceptions_sheet(report: ReportWorkbook, rows: Iterable[list], *, heading: str, note: str) -> TableSheet:
    sheet = report.table("Exceptions", EXCEPTION_COLUMNS, heading=heading, note=note)
    sheet.extend(rows)
    sheet.finish()
    return sheet
