"""The Breaches sheet of the directors' report and the annual review pack: every breach of a cap detected
in the period, and every one detected before its end that was still open at its end or is open now, with
its steps. Written from selector output (compliance.alerts.breaches.report_breaches); runs no query."""

from collections.abc import Iterable

from compliance.models import Breach
from compliance.reports.sheets import cap_label
from compliance.reports.workbook import Column, Kind, ReportWorkbook, TableSheet

T, M, D = Kind.TEXT, Kind.MONEY, Kind.DATE

BREACH_STATUS = {
    Breach.Status.OPEN: "OPEN: to announce · 未公告",
    Breach.Status.ANNOUNCED: "OPEN: announced, to re-comply · 已公告，待重新遵守",
    Breach.Status.RECOMPLIED: "Re-complied · 已重新遵守",
}

BREACH_COLUMNS = [
    Column("Cap", "年度上限", T, 34),
    Column("Detected on", "發現日期", D, 12),
    Column("Basis", "基準", T, 12),
    Column("Currency", "貨幣", T, 9),
    Column("Cap at detection", "當時上限", M, 17),
    Column("Used at detection", "當時已使用", M, 17),
    Column("Over by", "超出金額", M, 17),
    Column("Status", "狀態", T, 30),
    Column("Announced on", "公告日期", D, 12),
    Column("Announcement", "公告", T, 26),
    Column("Re-complied on", "重新遵守日期", D, 12),
    Column("Recorded by", "登記人", T, 22),
]


def breach_rows(breaches: Iterable[Breach]) -> Iterable[list]:
    for breach in breaches:
        recorded = [user.username for user in (breach.announced_by, breach.recomplied_by) if user is not None]
        yield [
            cap_label(breach.cap), breach.detected_on, breach.get_basis_display(), breach.currency, breach.cap_amount,
            breach.used_amount, breach.amount_over, BREACH_STATUS.get(breach.status, breach.status),
            breach.announced_on, breach.announcement_ref or None, breach.recomplied_on, ", ".join(recorded) or None,
        ]  # fmt: skip


def breaches_sheet(report: ReportWorkbook, breaches: list[Breach], *, heading: str, note: str) -> TableSheet:
    sheet = report.table("Breaches", BREACH_COLUMNS, heading=heading, note=note)
    sheet.extend(breach_rows(breaches))
    sheet.finish()
    for status in (Breach.Status.OPEN, Breach.Status.ANNOUNCED):
        sheet.highlight("Status", BREACH_STATUS[status])
    return sheet
