"""Hong Kong business days and the auditors' letter deadline (Rule 14A.57), against dates counted by hand."""

import datetime

import pytest

from compliance.common.business_days import (
    UnknownHolidays,
    hk_general_holidays,
    is_business_day,
    letter_deadline,
    nth_business_day,
)
from compliance.evidence.monitoring import auditor_timetable_save
from compliance.models import AuditorTimetable

D = datetime.date.fromisoformat


def test_the_deadline_counts_back_ten_business_days_skipping_the_easter_and_ching_ming_holidays():
    # Printing Thursday 16 Apr 2026. Counted back by hand: 15, 14, 13 Apr (1-3); 10, 9, 8 Apr (4-6);
    # 7 Apr (day following Ching Ming) and 6 Apr (Easter Monday) are holidays, 4-5 Apr a weekend,
    # 3 Apr Good Friday; 2, 1 Apr, 31, 30 Mar (7-10).
    assert letter_deadline(D("2026-04-16")) == D("2026-03-30")


def test_a_window_without_holidays_counts_only_weekends_out():
    # Printing Friday 20 Mar 2026: 19, 18, 17, 16, 13, 12, 11, 10, 9, 6 Mar.
    assert letter_deadline(D("2026-03-20")) == D("2026-03-06")


def test_the_lunar_new_year_of_2027_with_its_fourth_day_in_lieu():
    # 6 Feb 2027 is a Saturday and 7 Feb a Sunday: 8 and 9 Feb are holidays. Printing Friday 19 Feb 2027:
    # 18, 17, 16, 15, 12, 11, 10 Feb (1-7); 9, 8 Feb holidays; 5, 4, 3 Feb (8-10).
    assert letter_deadline(D("2027-02-19")) == D("2027-02-03")


def test_the_calendar_holds_the_gazetted_holidays_and_never_a_sunday():
    holidays = hk_general_holidays()
    assert {year: sum(1 for day in holidays if day.year == year) for year in (2025, 2026, 2027)} == {
        2025: 17, 2026: 17, 2027: 17,  # 2027: the fourth day of Lunar New Year in lieu of its Sunday
    }  # fmt: skip
    assert not any(day.weekday() == 6 for day in holidays)
    assert not is_business_day(D("2026-02-17")) and is_business_day(D("2026-02-20"))


def test_the_fifth_business_day_of_october_2026_skips_national_day():
    # 1 Oct 2026 (Thursday) is National Day: 2, 5, 6, 7, 8 Oct.
    assert nth_business_day(2026, 10, 5) == D("2026-10-08")


def test_a_year_without_gazetted_holidays_is_refused_not_guessed():
    with pytest.raises(UnknownHolidays, match="2031"):
        is_business_day(D("2031-05-02"))


def test_the_timetable_stores_the_computed_deadline(db):
    timetable = auditor_timetable_save(year=2025, bulk_printing_on=D("2026-04-16"))

    assert AuditorTimetable.objects.get(pk=timetable.pk).letter_deadline == D("2026-03-30")
