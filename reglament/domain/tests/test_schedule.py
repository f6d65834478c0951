"""Parsing weekly schedules and date overrides, and the errors a person sees."""

from __future__ import annotations

from datetime import date

import pytest

from reglament.domain.calendar import DateOverride, TimeRange, WeekSchedule
from reglament.domain.errors import CalendarError, ScheduleSyntaxError


def test_weekday_range_with_lunch_break_and_saturday():
    schedule = WeekSchedule.parse("mon-fri 09:00-13:00,14:00-18:00; sat 10:00-14:00")
    assert schedule.hours(0) == (TimeRange(9 * 3600, 13 * 3600), TimeRange(14 * 3600, 18 * 3600))
    assert schedule.hours(5) == (TimeRange(10 * 3600, 14 * 3600),)
    assert schedule.hours(6) == ()
    assert str(schedule) == "mon-fri 09:00-13:00,14:00-18:00; sat 10:00-14:00"


def test_night_shift_ends_the_next_day_and_24_00_ends_a_day():
    assert WeekSchedule.parse("mon 22:00-06:00").hours(0) == (TimeRange(22 * 3600, 30 * 3600),)
    assert WeekSchedule.parse("пн-пт 00:00-24:00").hours(4) == (TimeRange(0, 86_400),)


def test_always_means_around_the_clock():
    assert WeekSchedule.parse("always").always
    assert WeekSchedule.parse("24/7").always
    assert str(WeekSchedule.parse("always")) == "always"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("mon-fri", "needs days and hours"),
        ("mon-fry 10:00-19:00", "'fry' is not a day of the week"),
        ("mon-fri 10:00-25:00", "not a valid time of day"),
        ("mon-fri 10-19", "is not a time"),
        ("mon-fri 10:00-12:00,11:00-13:00", "overlap"),
        ("mon 22:00-08:00; tue 07:00-10:00", "runs into the next day"),
        ("mon 10:00-10:00", "same time"),
    ],
)
def test_bad_schedules_say_what_is_wrong(text, message):
    with pytest.raises(ScheduleSyntaxError, match=message) as raised:
        WeekSchedule.parse(text)
    assert raised.value.hint


def test_date_overrides_parse_off_work_and_hours():
    assert DateOverride.parse("2025-12-31=off") == DateOverride(date(2025, 12, 31), ())
    assert DateOverride.parse("2025-12-27=work") == DateOverride(date(2025, 12, 27), None)
    assert DateOverride.parse("2025-12-30=10:00-15:00").hours == (TimeRange(36_000, 54_000),)
    assert str(DateOverride.parse("2025-12-30=10:00-15:00")) == "2025-12-30=10:00-15:00"


@pytest.mark.parametrize(
    "text", ["2025-12-31", "2025-13-01=off", "2025-12-31=", "2025-12-31=nonsense"]
)
def test_bad_date_overrides_are_refused(text):
    with pytest.raises(CalendarError):
        DateOverride.parse(text)
