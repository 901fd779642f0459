"""Scheduled mailings: the monthly cap report and the weekly quote-rule exceptions, once per period.

Each records its Mailing in the same transaction and queues the e-mail after commit; the pending sweep
delivers anything the queue missed.
"""

import datetime
import io

from django.core.files.base import ContentFile
from django.utils import timezone

from compliance.delivery.mailing import mailing_once, render_body
from compliance.models import AnnualCap, IssuedReport, Mailing, QuoteRuleFinding
from compliance.reports.issued import issued_report_record
from compliance.reports.monthly import monthly_report_filename, write_monthly_report
from compliance.rules.selectors import caps_with_utilisation
from transactions.money import format_money


def _month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def previous_month(on: datetime.date) -> datetime.date:
    return (on.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def monthly_mailing(*, month: datetime.date) -> tuple[Mailing, bool]:
    """The monthly cap report mailing for `month` (any day of it), created once with its content."""
    month = month.replace(day=1)

    def compose(mailing: Mailing) -> None:
        month_end = _month_end(month)
        caps = caps_with_utilisation(
            AnnualCap.objects.filter(period_start__lte=month_end, period_end__gte=month), as_of=month_end
        ).order_by("category__agreement__title", "category__name", "period_start")
        rows = [
            {
                "cap": cap,
                "agreement": cap.category.agreement.title,
                "category": str(cap.category),
                "cap_amount": format_money(cap.amount, cap.category.currency),
                "actual": format_money(cap.actual, cap.category.currency),
                "committed": format_money(cap.committed, cap.category.currency),
                "remaining": format_money(cap.remaining, cap.category.currency),
            }
            for cap in caps
        ]
        # The workbook is the report; the body repeats its summary for a reader without Excel.
        workbook = io.BytesIO()
        write_monthly_report(month, workbook)
        mailing.attachment_name = monthly_report_filename(month)
        mailing.attachment.save(mailing.attachment_name, ContentFile(workbook.getvalue()), save=False)
        context = {"month": month, "month_end": month_end, "rows": rows, "attachment_name": mailing.attachment_name}
        mailing.subject = f"Monthly cap report {month:%Y-%m} · 每月年度上限報告"
        render_body(mailing, "monthly", context)
        mailing.save()
        # Kept as issued, for the auditors' binder.
        issued_report_record(
            kind=IssuedReport.Kind.MONTHLY, period=f"{month:%Y-%m}", filename=mailing.attachment_name,
            content=io.BytesIO(workbook.getvalue()), how=IssuedReport.How.EMAIL,
            issued_to="The lists that receive the monthly cap report", mailing=mailing,
        )  # fmt: skip

    return mailing_once(Mailing.Kind.MONTHLY_REPORT, f"{month:%Y-%m}", compose)


def quote_rule_mailing(*, on: datetime.date | None = None) -> tuple[Mailing, bool]:
    """The weekly e-mail to compliance of the open quote-rule findings, once per ISO week."""
    on = on or timezone.localdate()
    year, week, _ = on.isocalendar()
    period = f"{year}-W{week:02d}"

    def compose(mailing: Mailing) -> None:
        findings = QuoteRuleFinding.objects.filter(cleared_at__isnull=True).select_related("purchase_order__category")
        mailing.subject = f"Quote and pricing rule exceptions, week {period} · 報價及定價規則例外"
        render_body(mailing, "quote_rule_report", {"period": period, "findings": list(findings)})

    return mailing_once(Mailing.Kind.QUOTE_RULE_REPORT, period, compose)
