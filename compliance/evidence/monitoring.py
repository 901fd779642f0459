"""Evidence that the monitoring controls ran (internal control 2 and 3 of the announcement):

- the designated finance staff sign off each month's figures (MonthlySignoff, one per month); a month
  that has ended without one is *missing*, and on the fifth Hong Kong business day of the next month
  the lists that receive sign-off reminders are e-mailed once (a Mailing, through the outbox);
- senior management acknowledges each cap alert (AlertAcknowledgement, once), from the signed link
  in the alert's e-mail or from the admin;
- the directors' half-year report is recorded as sent to the board (BoardSubmission);
- the auditors' timetable (Rule 14A.57): the letter's deadline ten business days before the bulk
  printing, with reminders to the lists that receive them, once each.
"""

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.common.business_days import (
    SIGNOFF_REMINDER_BUSINESS_DAY,
    UnknownHolidays,
    business_days_before,
    letter_deadline,
    nth_business_day,
)
from compliance.delivery.links import ACK_MAX_AGE, ACK_SALT, alert_ack_token, alert_from_token  # noqa: F401 - re-exported
from compliance.delivery.mailing import mailing_once
from compliance.models import Alert, AlertAcknowledgement, AnnualCap, AuditorTimetable, Mailing, MonthlySignoff

if TYPE_CHECKING:
    from transactions.users import RequestUser, User

MANAGEMENT_ROLE = "management"


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(day: datetime.date) -> datetime.date:
    return first_of_month(first_of_month(day) - datetime.timedelta(days=1))


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


# --- Monthly sign-offs -------------------------------------------------------------------------------


def monthly_signoff_create(*, month: datetime.date, user: "User", note: str = "") -> MonthlySignoff:
    """Sign a month off: once, and only a month that has begun."""
    month = first_of_month(month)
    if month > timezone.localdate():
        raise ValidationError({"month": _("A month can be signed off once it has begun: %(month)s has not.")
                               % {"month": f"{month:%Y-%m}"}})  # fmt: skip
    try:
        with transaction.atomic():
            return MonthlySignoff.objects.create(month=month, signed_by=user, note=note)
    except IntegrityError:
        existing = MonthlySignoff.objects.select_related("signed_by").get(month=month)
        raise ValidationError(
            {"month": _("%(month)s was already signed off by %(user)s on %(when)s.")
             % {"month": f"{month:%Y-%m}", "user": existing.signed_by, "when": f"{existing.signed_at:%Y-%m-%d}"}}
        ) from None  # fmt: skip


def monitored_months(*, until: datetime.date) -> list[datetime.date]:
    """Every month from the first cap period's month to the last month ended on or before `until`."""
    first = AnnualCap.objects.aggregate(first=Min("period_start"))["first"]
    last = previous_month(until)
    months = []
    month = first_of_month(first) if first else None
    while month and month <= last:
        months.append(month)
        month = next_month(month)
    return months


def months_missing_signoff(*, until: datetime.date | None = None) -> list[datetime.date]:
    """The months that have ended, under any cap, without a sign-off (two queries)."""
    months = monitored_months(until=until or timezone.localdate())
    if not months:
        return []
    signed = set(MonthlySignoff.objects.filter(month__gte=months[0]).values_list("month", flat=True))
    return [month for month in months if month not in signed]


def signoff_reminder(*, today: datetime.date | None = None) -> tuple[Mailing | None, bool]:
    """On the fifth business day of a month, remind once that the previous month is not signed off."""
    today = today or timezone.localdate()
    try:
        reminder_day = nth_business_day(today.year, today.month, SIGNOFF_REMINDER_BUSINESS_DAY)
    except UnknownHolidays:
        return None, False
    month = previous_month(today)
    if today < reminder_day or MonthlySignoff.objects.filter(month=month).exists():
        return None, False
    if month not in monitored_months(until=today):
        return None, False
    return mailing_once(
        Mailing.Kind.SIGNOFF_REMINDER,
        f"{month:%Y-%m}",
        subject=f"Monthly sign-off missing: {month:%Y-%m} · {month:%Y-%m} 每月審閱尚未簽署",
        body=(
            f"Nobody has signed off the cap figures of {month:%Y-%m} yet. The designated finance staff "
            "confirm that they reviewed the month's actual amounts against the annual caps under "
            "Monthly sign-offs in the admin or at /api/monthly-signoffs/.\n\n"
            f"{month:%Y-%m} 的年度上限數字尚未有人簽署審閱。請指定財務人員在系統「每月審閱簽署」中確認。\n"
        ),
    )


# --- Alert acknowledgements --------------------------------------------------------------------------


def may_acknowledge(user: "RequestUser") -> bool:
    return bool(user and user.is_active and (user.is_superuser or user.groups.filter(name=MANAGEMENT_ROLE).exists()))


def alert_acknowledge(*, alert: Alert, user: "User", via: str) -> tuple[AlertAcknowledgement, bool]:
    """Record that senior management acknowledged the alert: once; a second attempt changes nothing and
    returns the first acknowledgement."""
    if not may_acknowledge(user):
        raise ValidationError(_("Only senior management acknowledges alerts."))
    try:
        with transaction.atomic():
            return AlertAcknowledgement.objects.create(alert=alert, acknowledged_by=user, via=via), True
    except IntegrityError:
        return AlertAcknowledgement.objects.select_related("acknowledged_by").get(alert=alert), False


# --- The auditors' timetable (Rule 14A.57) -----------------------------------------------------------

# Reminders before the letter's deadline, in business days, each sent once per year.
LETTER_REMINDERS = {"first": 10, "final": 3}


def auditor_timetable_save(*, year: int, bulk_printing_on: datetime.date, **fields) -> AuditorTimetable:
    """Record (or change) the year's bulk-printing date; the letter's deadline follows from it."""
    try:
        deadline = letter_deadline(bulk_printing_on)
    except UnknownHolidays as error:
        raise ValidationError({"bulk_printing_on": str(error)}) from None
    timetable, _created = AuditorTimetable.objects.update_or_create(
        year=year, defaults={"bulk_printing_on": bulk_printing_on, "letter_deadline": deadline, **fields}
    )
    return timetable


def auditor_letter_reminders(*, today: datetime.date | None = None) -> list[Mailing]:
    """E-mail the lists that follow the auditors' timetable when the letter's deadline is ten and three
    business days away (or nearer) and the letter is not yet recorded; each reminder once."""
    today = today or timezone.localdate()
    sent = []
    for timetable in AuditorTimetable.objects.filter(letter_received_on__isnull=True, letter_deadline__gte=today):
        for name, days in LETTER_REMINDERS.items():
            try:
                due_from = business_days_before(timetable.letter_deadline, days)
            except UnknownHolidays:
                continue
            if today < due_from:
                continue
            mailing, created = mailing_once(
                Mailing.Kind.AUDITOR_LETTER_REMINDER,
                f"{timetable.year}-{name}",
                subject=(
                    f"Auditors' letter for {timetable.year} due by {timetable.letter_deadline} · "
                    f"核數師函件須於{timetable.letter_deadline}前提交"
                ),
                body=(
                    f"The annual report for {timetable.year} is to be bulk-printed on "
                    f"{timetable.bulk_printing_on}. Rule 14A.57: the auditors' letter (Rule 14A.56) must "
                    f"reach the Exchange at least ten business days before, that is by "
                    f"{timetable.letter_deadline}. No letter is recorded yet.\n\n"
                    f"{timetable.year}年度年報將於{timetable.bulk_printing_on}付印。根據第14A.57條，核數師函件"
                    f"須於付印前最少十個營業日（即{timetable.letter_deadline}或之前）提交聯交所。\n"
                ),
            )
            if created:
                sent.append(mailing)
    return sent
