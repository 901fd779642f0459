"""Hong Kong business days: Monday to Friday, except the general holidays of the data file
compliance/data/hk_general_holidays.csv (the gazetted lists; a year not in the file has no holidays
known, and the calendar says so rather than guess).

Used for the auditors' letter deadline (Rule 14A.57: at least ten business days before the annual
report's bulk printing) and the monthly sign-off reminder (the fifth business day of the month)."""

import csv
import datetime
import functools
from pathlib import Path

HOLIDAYS_FILE = Path(__file__).resolve().parent.parent / "data" / "hk_general_holidays.csv"
ONE_DAY = datetime.timedelta(days=1)
# Rule 14A.57: the auditors' letter reaches the Exchange at least this many business days before printing.
LETTER_BUSINESS_DAYS = 10
# The monthly sign-off reminder goes on this business day of the month, for the month before.
SIGNOFF_REMINDER_BUSINESS_DAY = 5


class UnknownHolidays(ValueError):
    """The calendar holds no gazetted holidays for the year asked about."""


@functools.cache
def hk_general_holidays() -> dict[datetime.date, str]:
    with HOLIDAYS_FILE.open(encoding="utf-8") as source:
        rows = csv.reader(line for line in source if line.strip() and not line.startswith("#"))
        next(rows)  # the header
        return {datetime.date.fromisoformat(day): name for day, name in rows}


def years_known() -> set[int]:
    return {day.year for day in hk_general_holidays()}


def _check(day: datetime.date) -> None:
    if day.year not in years_known():
        known = ", ".join(str(year) for year in sorted(years_known()))
        raise UnknownHolidays(
            f"The Hong Kong holiday calendar has no holidays for {day.year} (it holds {known}); "
            f"add that year's gazetted general holidays to {HOLIDAYS_FILE.name}."
        )


def is_business_day(day: datetime.date) -> bool:
    _check(day)
    return day.weekday() < 5 and day not in hk_general_holidays()


def business_days_before(day: datetime.date, count: int) -> datetime.date:
    """The business day `count` business days before `day` (`day` itself not counted): a letter given
    on it leaves `count` business days up to `day`."""
    found = day
    while count:
        found -= ONE_DAY
        if is_business_day(found):
            count -= 1
    return found


def nth_business_day(year: int, month: int, n: int) -> datetime.date:
    day = datetime.date(year, month, 1)
    seen = 0
    while True:
        if is_business_day(day):
            seen += 1
            if seen == n:
                return day
        day += ONE_DAY


def letter_deadline(bulk_printing_on: datetime.date) -> datetime.date:
    """The last day the auditors' letter may reach the Exchange (Rule 14A.57)."""
    return business_days_before(bulk_printing_on, LETTER_BUSINESS_DAYS)
