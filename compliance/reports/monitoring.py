"""The annual pack's Monitoring sheet: evidence that the monitoring controls ran in the year: each month's
sign-off by the designated finance staff (or Missing), each alert of the year with senior management's
acknowledgement, each half year's directors' report with the day it was sent to the board, and the
auditors' timetable and access undertakings."""

import datetime

from django.utils import timezone

from compliance.models import AccessUndertaking, Alert, AuditorTimetable, BoardSubmission, MonthlySignoff
from compliance.reports.workbook import Column, FreeSheet, Kind, ReportWorkbook

T = Kind.TEXT
WIDTHS = [22, 30, 22, 50]


def monitoring_facts(year: int) -> dict:
    """Four queries, whatever the year holds."""
    return {
        "signoffs": {s.month: s for s in MonthlySignoff.objects.filter(month__year=year).select_related("signed_by")},
        "alerts": list(
            Alert.objects.filter(reached_on__year=year)
            .select_related("cap__category", "acknowledgement__acknowledged_by")
            .order_by("reached_on", "pk")
        ),
        "submissions": {s.half: s for s in BoardSubmission.objects.filter(half__startswith=f"{year}-")},
        "timetable": AuditorTimetable.objects.filter(year=year).first(),
        "undertakings": list(AccessUndertaking.objects.select_related("agreement").order_by("agreement__title")),
    }


def _when(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def monitoring_sheet(report: ReportWorkbook, year: int, facts: dict) -> FreeSheet:
    sheet = report.sheet(
        "Monitoring",
        WIDTHS,
        heading=f"Monitoring evidence · 監察證據 — financial year {year} · {year}財政年度",
        note="Who reviewed each month, who acknowledged each alert, when each directors' report reached the board",
    )
    sheet.blank()
    sheet.section("Monthly sign-offs by the designated finance staff · 指定財務人員每月審閱簽署")
    sheet.header([Column("Month", "月份", T), Column("Signed by", "簽署人", T), Column("Signed at", "簽署時間", T),
                  Column("Note", "備註", T)])  # fmt: skip
    for month in range(1, 13):
        first = datetime.date(year, month, 1)
        signoff = facts["signoffs"].get(first)
        if signoff:
            sheet.row([f"{first:%Y-%m}", str(signoff.signed_by), _when(signoff.signed_at), signoff.note or None],
                      [T, T, T, T])  # fmt: skip
        else:
            sheet.row([f"{first:%Y-%m}", "Missing · 未簽署"], [T, T])
    sheet.blank()
    sheet.section("Alerts acknowledged by senior management · 高級管理層確認警示")
    sheet.header([Column("Reached on", "達到日期", T), Column("Alert", "警示", T),
                  Column("Acknowledged by", "確認人", T), Column("Acknowledged at", "確認時間", T)])  # fmt: skip
    for alert in facts["alerts"]:
        ack = getattr(alert, "acknowledgement", None)
        who = str(ack.acknowledged_by) if ack else "Not acknowledged · 未確認"
        sheet.row([f"{alert.reached_on:%Y-%m-%d}", str(alert), who, _when(ack.acknowledged_at) if ack else None],
                  [T, T, T, T], wrap=True)  # fmt: skip
    if not facts["alerts"]:
        sheet.row(["No alert in the year · 本年度沒有警示"], [T])
    sheet.blank()
    sheet.section("Directors' reports sent to the board · 已送交董事會的董事報告")
    sheet.header([Column("Half year", "半年", T), Column("Sent on", "送交日期", T), Column("Note", "備註", T)])
    for half in (f"{year}-H1", f"{year}-H2"):
        submission = facts["submissions"].get(half)
        if submission:
            sheet.row([half, f"{submission.sent_on:%Y-%m-%d}", submission.note or None], [T, T, T])
        else:
            sheet.row([half, "Not recorded · 未有記錄"], [T, T])
    sheet.blank()
    sheet.section("The auditors' letter (Rule 14A.57) and access (Rule 14A.58) · 核數師函件及查閱記錄")
    timetable = facts["timetable"]
    if timetable:
        sheet.row(["Bulk printing · 付印", f"{timetable.bulk_printing_on:%Y-%m-%d}"], [T, T])
        sheet.row(["Letter due by · 函件限期", f"{timetable.letter_deadline:%Y-%m-%d}"], [T, T])
        received = f"{timetable.letter_received_on:%Y-%m-%d}" if timetable.letter_received_on else "Not yet · 尚未收到"
        sheet.row(["Letter received · 函件收到", received], [T, T])
    else:
        sheet.row(["No timetable recorded · 未有記錄時間表"], [T])
    for undertaking in facts["undertakings"]:
        sheet.row(["Access undertaking · 查閱承諾", str(undertaking.agreement),
                   f"{undertaking.given_on:%Y-%m-%d}", undertaking.reference], [T, T, T, T], wrap=True)  # fmt: skip
    return sheet
