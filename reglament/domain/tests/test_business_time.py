"""Hand-computed deadlines and elapsed times; each case names the date facts it uses.

Date facts of the Russian production calendar used below (Government decrees on
transferring days off; the ``holidays`` package carries the same data):
- 2024: Sat 27 Apr works (its day off moved to Mon 29 Apr); 28 Apr–1 May off.
- 2024: Sat 2 Nov works (its day off moved to Tue 30 Apr); 3–4 Nov off.
- 2024: Sat 28 Dec works (its day off moved to Mon 30 Dec); 29 Dec 2024 – 8 Jan 2025 off.
- 2025: Sat 1 Nov works (its day off moved to Mon 3 Nov); 2–4 Nov off.
- 2025: Thu 12 Jun is Russia Day, Fri 13 Jun is off (moved from Sat 8 Mar).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reglament.domain.calendar import (
    CountryHolidays,
    DateOverride,
    Pauses,
    RussianProductionCalendar,
    TimeRange,
    WeekSchedule,
    WorkCalendar,
    WorkingDays,
)
from reglament.domain.errors import CalendarError, NaiveDatetimeError, ScheduleSyntaxError

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture
def moscow() -> WorkCalendar:
    """R2.3: 10:00–19:00 Moscow time on working days of the production calendar."""
    return WorkCalendar(
        schedule="mon-fri 10:00-19:00",
        timezone="Europe/Moscow",
        holidays=RussianProductionCalendar(),
    )


# --- deadlines on the Russian production calendar ------------------------------------


def test_four_hours_from_friday_evening_end_on_working_saturday_2024_12_28(moscow):
    # Fri 27 Dec 18:00–19:00 = 1 h; Sat 28 Dec 2024 is a working day: 10:00 + 3 h.
    assert moscow.add(at("2024-12-27T18:00:00+03:00"), hours(4)) == at("2024-12-28T13:00:00+03:00")


def test_deadline_landing_on_closing_time_is_the_closing_instant(moscow):
    due = moscow.add(at("2024-12-27T18:00:00+03:00"), hours(1))
    assert due == at("2024-12-27T19:00:00+03:00")
    assert due.tzinfo == MSK


def test_new_year_break_2024_12_29_to_2025_01_08_is_skipped(moscow):
    # Sat 28 Dec 18:00–19:00 = 1 h; 29 Dec – 8 Jan off; Thu 9 Jan 2025 10:00 + 1 h.
    assert moscow.add(at("2024-12-28T18:00:00+03:00"), hours(2)) == at("2025-01-09T11:00:00+03:00")
    assert moscow.between(
        at("2024-12-28T10:00:00+03:00"), at("2025-01-09T19:00:00+03:00")
    ) == hours(18)


def test_working_saturday_2024_04_27_counts_and_may_holidays_do_not(moscow):
    # Fri 26 Apr 17:00–19:00 = 2 h, Sat 27 Apr 10:00 + 3 h.
    assert moscow.add(at("2024-04-26T17:00:00+03:00"), hours(5)) == at("2024-04-27T13:00:00+03:00")
    # Sat 27 Apr 18:00–19:00 = 1 h; 28 Apr – 1 May off; Thu 2 May 10:00 + 1 h.
    assert moscow.add(at("2024-04-27T18:00:00+03:00"), hours(2)) == at("2024-05-02T11:00:00+03:00")


def test_working_saturday_2024_11_02_before_unity_day(moscow):
    # Fri 1 Nov 18:30–19:00 = 30 min, Sat 2 Nov 10:00 + 30 min.
    assert moscow.add(at("2024-11-01T18:30:00+03:00"), hours(1)) == at("2024-11-02T10:30:00+03:00")
    # Sat 2 Nov 18:00–19:00 = 1 h; 3–4 Nov off; Tue 5 Nov 10:00 + 1 h.
    assert moscow.add(at("2024-11-02T18:00:00+03:00"), hours(2)) == at("2024-11-05T11:00:00+03:00")


def test_working_saturday_2025_11_01_and_the_day_off_it_moved_to_3_november(moscow):
    # Fri 31 Oct 18:00–19:00 = 1 h, Sat 1 Nov 10:00 + 2 h.
    assert moscow.add(at("2025-10-31T18:00:00+03:00"), hours(3)) == at("2025-11-01T12:00:00+03:00")
    # Sat 1 Nov 18:00–19:00 = 1 h; Sun 2, Mon 3 (moved day off), Tue 4 (Unity Day) off.
    assert moscow.add(at("2025-11-01T18:00:00+03:00"), hours(3)) == at("2025-11-05T12:00:00+03:00")


def test_elapsed_over_a_plain_weekend_counts_only_weekdays(moscow):
    # Fri 7 Mar 2025 is a working day before Women's Day (Sat 8 Mar); Mon 10 Mar works.
    start, end = at("2025-03-07T15:00:00+03:00"), at("2025-03-10T12:00:00+03:00")
    assert moscow.between(start, end) == hours(6)  # 15–19 Fri + 10–12 Mon


def test_a_calendar_in_vladivostok_counts_its_own_working_hours(moscow):
    vladivostok = WorkCalendar(
        schedule="mon-fri 10:00-19:00",
        timezone="Asia/Vladivostok",
        holidays=RussianProductionCalendar(),
    )
    # The same instant written in Moscow time: 18:00 in Vladivostok (UTC+10).
    due = vladivostok.add(at("2024-12-27T11:00:00+03:00"), hours(4))
    assert due == at("2024-12-28T13:00:00+10:00")
    assert due.utcoffset() == hours(10)


def test_results_are_exact_to_the_microsecond(moscow):
    start = at("2025-03-04T12:00:00.123456+03:00")
    due = moscow.add(start, timedelta(hours=2, microseconds=7))
    assert due == at("2025-03-04T14:00:00.123463+03:00")
    assert moscow.between(start, due) == timedelta(hours=2, microseconds=7)


def test_zero_duration_is_due_at_the_start_even_when_closed(moscow):
    sunday = at("2025-03-09T12:00:00+03:00")
    assert moscow.add(sunday, timedelta(0)) == sunday


# --- working days -----------------------------------------------------------------------


def test_three_working_days_across_russia_day_2025(moscow):
    # R1.6 "workaround within 3 working days". From Tue 10 Jun 15:00 the working days
    # are Wed 11, (Thu 12 Russia Day, Fri 13 moved day off, weekend) Mon 16, Tue 17.
    assert moscow.add(at("2025-06-10T15:00:00+03:00"), WorkingDays(3)) == at(
        "2025-06-17T15:00:00+03:00"
    )


def test_working_days_from_outside_hours_end_at_a_close(moscow):
    # After closing on Tue 10 Jun: counting starts at Wed 11 Jun 10:00, one day ends at its close.
    assert moscow.add(at("2025-06-10T20:00:00+03:00"), WorkingDays(1)) == at(
        "2025-06-11T19:00:00+03:00"
    )
    # Exactly at an opening is the same business instant as the previous close.
    assert moscow.add(at("2025-06-10T10:00:00+03:00"), WorkingDays(1)) == at(
        "2025-06-10T19:00:00+03:00"
    )


def test_working_days_land_at_the_close_of_a_shorter_day():
    calendar = WorkCalendar(
        schedule="mon-thu 09:00-18:00; fri 09:00-16:45",
        timezone="Europe/Moscow",
        holidays=RussianProductionCalendar(),
    )
    # Thu 6 Mar 2025 17:30 is 8.5 h into the day; Fri 7 Mar holds only 7.75 h.
    assert calendar.add(at("2025-03-06T17:30:00+03:00"), WorkingDays(1)) == at(
        "2025-03-07T16:45:00+03:00"
    )


def test_working_days_between_counts_whole_days_and_the_rest(moscow):
    days, rest = moscow.working_days_between(
        at("2025-06-10T15:00:00+03:00"), at("2025-06-17T17:30:00+03:00")
    )
    assert (days, rest) == (3, timedelta(hours=2, minutes=30))


def test_working_days_are_whole_numbers():
    with pytest.raises(CalendarError, match="whole number"):
        WorkingDays(1.5)  # type: ignore[arg-type]


# --- pauses -------------------------------------------------------------------------------


def test_pause_inside_a_day_moves_the_deadline_by_the_paused_business_time(moscow):
    start = at("2024-12-27T12:00:00+03:00")
    pause = (at("2024-12-27T13:00:00+03:00"), at("2024-12-27T15:00:00+03:00"))
    # 12–13 counted, 13–15 paused, 15:00 + 3 h.
    assert moscow.add(start, hours(4), [pause]) == at("2024-12-27T18:00:00+03:00")


def test_pause_over_closing_time_only_removes_business_time(moscow):
    start = at("2024-12-27T16:00:00+03:00")
    pause = (at("2024-12-27T18:00:00+03:00"), at("2024-12-28T11:00:00+03:00"))
    # 16–18 counted; paused 18–19 Fri and 10–11 Sat; 11:00 Sat + 2 h.
    assert moscow.add(start, hours(4), [pause]) == at("2024-12-28T13:00:00+03:00")


def test_elapsed_excludes_paused_business_time(moscow):
    pause = (at("2024-12-27T15:00:00+03:00"), at("2024-12-28T12:00:00+03:00"))
    elapsed = moscow.between(
        at("2024-12-27T10:00:00+03:00"), at("2024-12-28T19:00:00+03:00"), [pause]
    )
    assert elapsed == hours(18 - 6)  # Fri 15–19 and Sat 10–12 paused


def test_overlapping_pauses_are_not_counted_twice(moscow):
    a, b = at("2025-03-04T10:00:00+03:00"), at("2025-03-04T19:00:00+03:00")
    pauses = [
        (at("2025-03-04T12:00:00+03:00"), at("2025-03-04T14:00:00+03:00")),
        (at("2025-03-04T13:00:00+03:00"), at("2025-03-04T15:00:00+03:00")),
        (at("2025-03-04T11:00:00+03:00"), at("2025-03-04T11:30:00+03:00")),
    ]
    assert moscow.between(a, b, pauses) == hours(9 - 3.5)


def test_pause_before_the_start_or_in_closed_time_changes_nothing(moscow):
    start = at("2025-03-04T12:00:00+03:00")
    pauses = [
        (at("2025-03-03T12:00:00+03:00"), at("2025-03-04T12:00:00+03:00")),
        (at("2025-03-04T20:00:00+03:00"), at("2025-03-05T09:00:00+03:00")),
    ]
    assert moscow.add(start, hours(9), pauses) == moscow.add(start, hours(9))


def test_deadline_reached_exactly_when_a_pause_starts_is_that_instant(moscow):
    start = at("2025-03-04T12:00:00+03:00")
    pause = (at("2025-03-04T14:00:00+03:00"), at("2025-03-04T16:00:00+03:00"))
    assert moscow.add(start, hours(2), [pause]) == at("2025-03-04T14:00:00+03:00")


def test_working_days_with_a_pause_extend_by_the_paused_business_time(moscow):
    start = at("2025-06-10T15:00:00+03:00")
    pause = (at("2025-06-11T10:00:00+03:00"), at("2025-06-11T19:00:00+03:00"))  # all of Wed
    assert moscow.add(start, WorkingDays(3), [pause]) == at("2025-06-18T15:00:00+03:00")


def test_prepared_pauses_are_merged_once_and_reused(moscow):
    pauses = Pauses(
        [
            (at("2025-03-04T13:00:00+03:00"), at("2025-03-04T15:00:00+03:00")),
            (at("2025-03-04T12:00:00+03:00"), at("2025-03-04T14:00:00+03:00")),
        ]
    )
    assert [(i.start, i.end) for i in pauses] == [
        (at("2025-03-04T12:00:00+03:00"), at("2025-03-04T15:00:00+03:00"))
    ]
    start = at("2025-03-04T10:00:00+03:00")
    assert moscow.add(start, hours(4), pauses) == at("2025-03-04T17:00:00+03:00")
    assert moscow.between(start, at("2025-03-04T13:00:00+03:00"), pauses) == hours(2)


def test_a_pause_that_ends_before_it_starts_is_refused(moscow):
    pause = (at("2025-03-04T15:00:00+03:00"), at("2025-03-04T14:00:00+03:00"))
    with pytest.raises(CalendarError, match=r"ends .* before it starts"):
        moscow.add(at("2025-03-04T12:00:00+03:00"), hours(1), [pause])


# --- explain, is_open, next_open ------------------------------------------------------


def test_explain_lists_counted_and_paused_intervals(moscow):
    pause = (at("2024-12-27T18:00:00+03:00"), at("2024-12-28T11:00:00+03:00"))
    deadline = moscow.deadline(at("2024-12-27T16:00:00+03:00"), hours(4), [pause])
    explanation = deadline.explanation
    assert deadline.due == at("2024-12-28T13:00:00+03:00")
    assert deadline.business_time == hours(4)
    assert [(i.start, i.end) for i in explanation.counted] == [
        (at("2024-12-27T16:00:00+03:00"), at("2024-12-27T18:00:00+03:00")),
        (at("2024-12-28T11:00:00+03:00"), at("2024-12-28T13:00:00+03:00")),
    ]
    assert [(i.start, i.end) for i in explanation.paused] == [
        (at("2024-12-27T18:00:00+03:00"), at("2024-12-27T19:00:00+03:00")),
        (at("2024-12-28T10:00:00+03:00"), at("2024-12-28T11:00:00+03:00")),
    ]
    assert explanation.total == hours(4)
    assert explanation.provisional is False


def test_open_at_opening_closed_at_closing(moscow):
    assert moscow.is_open(at("2025-03-04T10:00:00+03:00"))
    assert not moscow.is_open(at("2025-03-04T19:00:00+03:00"))
    assert not moscow.is_open(at("2024-12-29T12:00:00+03:00"))  # Sunday in the break
    assert moscow.next_open(at("2024-12-28T09:00:00+03:00")) == at("2024-12-28T10:00:00+03:00")
    assert moscow.next_open(at("2024-12-28T19:00:00+03:00")) == at("2025-01-09T10:00:00+03:00")
    assert moscow.next_open(at("2025-03-04T12:00:00+03:00")) == at("2025-03-04T12:00:00+03:00")


# --- schedules: lunch breaks, night shifts, 24/7, working-Saturday hours ---------------------


def test_lunch_break_is_not_counted():
    calendar = WorkCalendar(schedule="mon-fri 09:00-13:00,14:00-18:00", timezone="Europe/Moscow")
    assert calendar.add(at("2025-03-04T12:00:00+03:00"), hours(2)) == at(
        "2025-03-04T15:00:00+03:00"
    )
    assert calendar.add(at("2025-03-04T12:00:00+03:00"), hours(1)) == at(
        "2025-03-04T13:00:00+03:00"
    )


def test_night_shift_belongs_to_the_day_it_starts_on():
    calendar = WorkCalendar(
        schedule="mon-fri 22:00-06:00",
        timezone="Europe/Moscow",
        holidays=RussianProductionCalendar(),
    )
    # Tue 10 Jun shift from midnight: 6 h; Wed 11 Jun shift: 8 h; Thu 12 (Russia Day) and
    # Fri 13 (moved day off) have no shift, so their nights are not counted.
    elapsed = calendar.between(at("2025-06-11T00:00:00+03:00"), at("2025-06-16T12:00:00+03:00"))
    assert elapsed == hours(14)


def test_always_counts_every_instant_and_ignores_holidays():
    calendar = WorkCalendar(
        schedule="always", timezone="Europe/Moscow", holidays=RussianProductionCalendar()
    )
    # R2.3 critical: 2 h around the clock, even on 1 January.
    assert calendar.add(at("2025-01-01T23:30:00+03:00"), hours(2)) == at(
        "2025-01-02T01:30:00+03:00"
    )
    assert calendar.provisional_from is None


def test_working_saturday_works_the_hours_of_the_weekday_it_was_swapped_with():
    calendar = WorkCalendar(
        schedule="mon 10:00-19:00; tue-fri 09:00-18:00",
        timezone="Europe/Moscow",
        holidays=RussianProductionCalendar(),
    )
    assert calendar.hours_on(date(2024, 4, 27)) == (
        TimeRange.parse("10:00-19:00"),
    )  # for Mon 29 Apr
    assert calendar.hours_on(date(2024, 11, 2)) == (
        TimeRange.parse("09:00-18:00"),
    )  # for Tue 30 Apr
    assert calendar.hours_on(date(2024, 4, 30)) == ()


# --- daylight saving time (Europe/Berlin, 2025: 30 March and 26 October) -------------------


def test_spring_forward_day_has_23_hours_around_the_clock():
    calendar = WorkCalendar(schedule="always", timezone="Europe/Berlin")
    start = at("2025-03-29T12:00:00+01:00")
    assert calendar.between(start, at("2025-03-30T12:00:00+02:00")) == hours(23)
    assert calendar.add(start, hours(24)) == at("2025-03-30T13:00:00+02:00")


def test_fall_back_day_has_25_hours_around_the_clock():
    calendar = WorkCalendar(schedule="always", timezone="Europe/Berlin")
    start = at("2025-10-25T12:00:00+02:00")
    assert calendar.add(start, hours(24)) == at("2025-10-26T11:00:00+01:00")
    assert calendar.between(start, at("2025-10-26T12:00:00+01:00")) == hours(25)


def test_office_hours_keep_their_wall_clock_times_across_both_transitions():
    calendar = WorkCalendar(schedule="daily 09:00-17:00", timezone="Europe/Berlin")
    assert calendar.add(at("2025-03-29T16:00:00+01:00"), hours(2)) == at(
        "2025-03-30T10:00:00+02:00"
    )
    assert calendar.add(at("2025-10-25T16:00:00+02:00"), hours(2)) == at(
        "2025-10-26T10:00:00+01:00"
    )


def test_night_shift_across_dst_lasts_7_and_9_real_hours():
    calendar = WorkCalendar(schedule="sat 22:00-06:00", timezone="Europe/Berlin")
    spring = calendar.between(at("2025-03-29T20:00:00+01:00"), at("2025-03-30T08:00:00+02:00"))
    autumn = calendar.between(at("2025-10-25T20:00:00+02:00"), at("2025-10-26T08:00:00+01:00"))
    assert (spring, autumn) == (hours(7), hours(9))


def test_skipped_wall_time_starts_work_when_the_clocks_jump():
    calendar = WorkCalendar(schedule="sun 02:30-04:00", timezone="Europe/Berlin")
    explanation = calendar.explain(at("2025-03-30T00:00:00+01:00"), at("2025-03-31T00:00:00+02:00"))
    assert [(i.start, i.end) for i in explanation.counted] == [
        (at("2025-03-30T03:00:00+02:00"), at("2025-03-30T04:00:00+02:00"))
    ]


def test_german_public_holidays_from_country_code():
    calendar = WorkCalendar(
        schedule="mon-fri 09:00-17:00", timezone="Europe/Berlin", holidays=CountryHolidays("DE")
    )
    # Fri 3 Oct 2025 is German Unity Day.
    assert calendar.add(at("2025-10-02T16:00:00+02:00"), hours(2)) == at(
        "2025-10-06T10:00:00+02:00"
    )


# --- overrides, shortened pre-holiday days, provisional years --------------------------------


def test_date_overrides_replace_holidays_and_schedule():
    calendar = WorkCalendar(
        schedule="mon-fri 10:00-19:00",
        timezone="Europe/Moscow",
        holidays=RussianProductionCalendar(),
        overrides=[
            DateOverride.parse("2025-12-30=10:00-15:00"),
            DateOverride.parse("2025-12-31=work"),
            DateOverride.parse("2025-12-29=off"),
        ],
    )
    day = timedelta(days=1)
    for first, expected in (("2025-12-29", 0), ("2025-12-30", 5), ("2025-12-31", 9)):
        start = at(f"{first}T00:00:00+03:00")
        assert calendar.between(start, start + day) == hours(expected), first


def test_the_same_date_cannot_be_overridden_twice():
    with pytest.raises(CalendarError, match="overridden twice"):
        WorkCalendar(
            schedule="mon-fri 10:00-19:00",
            overrides=[DateOverride.parse("2025-12-30=off"), DateOverride.parse("2025-12-30=work")],
        )


def test_shortened_pre_holiday_days_are_off_by_default(moscow):
    assert moscow.hours_on(date(2025, 3, 7)) == (TimeRange.parse("10:00-19:00"),)


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2024, 2, 22), "before Defender of the Fatherland Day"),
        (date(2024, 11, 2), "working Saturday standing in for 30 Apr, the eve of 1 May"),
        (date(2025, 3, 7), "before Women's Day on Saturday 8 March"),
        (date(2025, 11, 1), "working Saturday standing in for 3 Nov, the eve of Unity Day"),
    ],
)
def test_shortened_pre_holiday_days_lose_their_last_hour_when_asked(day, why):
    calendar = WorkCalendar(
        schedule="mon-fri 10:00-19:00",
        timezone="Europe/Moscow",
        holidays=RussianProductionCalendar(),
        shortened_pre_holiday=True,
    )
    assert calendar.hours_on(day) == (TimeRange.parse("10:00-18:00"),), why


def test_year_norms_match_the_official_production_calendar():
    # Official 40-hour-week norms: 2023 — 1973 h, 2024 — 1979 h, 2025 — 1972 h.
    calendar = WorkCalendar(
        schedule="mon-fri 09:00-18:00",  # 8 h plus a 1 h lunch is not needed for a norm count
        timezone="Europe/Moscow",
        holidays=RussianProductionCalendar(),
        shortened_pre_holiday=True,
    )
    for year, norm in ((2023, 1973 + 247), (2024, 1979 + 248), (2025, 1972 + 247)):
        start = datetime(year, 1, 1, tzinfo=MSK)
        # The schedule is 9 h a day, so the norm plus one hour per working day.
        assert calendar.between(start, start.replace(year=year + 1)) == hours(norm), year


def test_results_past_the_horizon_are_provisional(moscow):
    horizon = moscow.horizon
    assert horizon is not None
    assert horizon >= 2027
    inside = moscow.deadline(datetime(horizon, 12, 1, 12, tzinfo=MSK), hours(4))
    beyond = moscow.deadline(datetime(horizon, 12, 30, 12, tzinfo=MSK), hours(40))
    assert (inside.provisional, beyond.provisional) == (False, True)
    assert moscow.provisional_from == datetime(horizon + 1, 1, 1, tzinfo=MSK)
    # Beyond the horizon weekends and the fixed holidays still apply (1–8 January).
    assert moscow.next_open(datetime(horizon + 1, 1, 1, tzinfo=MSK)).day >= 9


# --- bad input ------------------------------------------------------------------------


def test_naive_datetimes_are_refused_with_an_example(moscow):
    with pytest.raises(NaiveDatetimeError, match=r"has no time zone.*\+03:00"):
        moscow.add(datetime(2025, 3, 4, 12), hours(1))  # noqa: DTZ001


def test_end_before_start_and_negative_durations_are_refused(moscow):
    with pytest.raises(CalendarError, match="before the start"):
        moscow.between(at("2025-03-04T12:00:00+03:00"), at("2025-03-04T11:00:00+03:00"))
    with pytest.raises(CalendarError, match="negative"):
        moscow.add(at("2025-03-04T12:00:00+03:00"), -hours(1))


def test_unknown_time_zone_and_country_are_refused():
    with pytest.raises(CalendarError, match="not a known time zone"):
        WorkCalendar(schedule="always", timezone="Mars/Olympus")
    with pytest.raises(CalendarError, match="unknown to the holidays data"):
        CountryHolidays("XX")


def test_a_calendar_without_any_working_day_says_so():
    calendar = WorkCalendar(schedule="mon 10:00-11:00", timezone="UTC", overrides=[])
    assert calendar.add(datetime(2025, 3, 4, tzinfo=UTC), hours(1)) == datetime(
        2025, 3, 10, 11, tzinfo=UTC
    )
    with pytest.raises(ScheduleSyntaxError, match="no working hours"):
        WeekSchedule(days=((),) * 7)


def test_batch_path_refuses_arrays_of_the_wrong_kind(moscow):
    import numpy as np

    starts = np.array(["2025-03-04T06:00"], dtype="datetime64[us]")  # 09:00 in Moscow
    with pytest.raises(CalendarError, match="durations must be timedelta64"):
        moscow.add_many(starts, np.array([1.5]))
    with pytest.raises(CalendarError, match="end before they start"):
        moscow.between_many(starts, starts - np.timedelta64(1, "h"))
    assert moscow.add_many(starts, np.array([3_600_000_000])).tolist() == [
        datetime(2025, 3, 4, 8, 0)  # noqa: DTZ001 - datetime64 is UTC by convention: 11:00 MSK
    ]
