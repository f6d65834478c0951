"""R4.5 usage accounting as pure arithmetic: rounding, periods, requests counted.

Seed R4.5 «Учет использования службы поддержки: Обращение**** | Обращение**** | Час |
Час», «Кратность … 1 | 1 | 0,5 | 0,5». The rule written out in docs/usage.md: per
request, per calendar month of the regulation's default calendar (Moscow for Krizhik),
sum the billable minutes, then round **up** to the increment.

Date facts (``holidays.RU(years=2026)``): Wed 2026-11-04 is National Unity Day; there
are no other holidays in October–November 2026. Ten working days after Mon 2026-11-02
12:00 is Tue 2026-11-17 12:00 (3, 5, 6, 9, 10, 11, 12, 13, 16, 17 November).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reglament.domain.calendar import WorkingDays
from reglament.domain.errors import NaiveDatetimeError
from reglament.domain.regulation import (
    Regulation,
    RegulationInvalid,
    load_regulation,
    load_regulation_file,
)
from reglament.domain.regulation.model import Usage
from reglament.domain.usage import (
    Balance,
    Entry,
    Mark,
    Period,
    StatusChange,
    UsageError,
    counted_resolutions,
    marks_from_status_changes,
    round_up_hours,
    usage_compute,
)

FILE = Path(__file__).resolve().parents[3] / "regulations" / "krizhik.yaml"
MOSCOW = ZoneInfo("Europe/Moscow")
HALF = Decimal("0.5")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def krizhik() -> Regulation:
    return load_regulation_file(FILE)


def usage_of(regulation: Regulation, tariff: str) -> Usage:
    usage = regulation.tariff(tariff).usage
    assert usage is not None
    return usage


# ------------------------------------------------------------------------- rounding
@pytest.mark.parametrize(
    ("minutes", "increment", "hours"),
    [
        (0, HALF, Decimal(0)),  # nothing worked, nothing counted
        (1, HALF, HALF),
        (20, HALF, HALF),  # the issue: 20 min → 0.5 h
        (30, HALF, HALF),  # exactly on an increment stays there
        (31, HALF, Decimal(1)),  # the issue: 31 min → 1 h
        (60, HALF, Decimal(1)),
        (61, HALF, Decimal("1.5")),
        (90, HALF, Decimal("1.5")),
        (91, HALF, Decimal(2)),
        (20, Decimal(1), Decimal(1)),  # a 1 h increment rounds likewise
        (60, Decimal(1), Decimal(1)),
        (61, Decimal(1), Decimal(2)),
        (0, Decimal(1), Decimal(0)),
        (10, Decimal("0.25"), Decimal("0.25")),
        (16, Decimal("0.25"), Decimal("0.5")),
    ],
)
def test_minutes_round_up_to_the_tariffs_increment(
    minutes: int, increment: Decimal, hours: Decimal
) -> None:
    # R4.5 «Кратность … 0,5»: whole half-hours, rounded up
    assert round_up_hours(minutes, increment) == hours


def test_many_small_entries_are_summed_before_rounding(krizhik: Regulation) -> None:
    # given twelve 5-minute entries on one Reliable request in November
    entries = [
        Entry("KRZ-1", 5, at(f"2026-11-10T{9 + i // 4:02d}:{i % 4 * 15:02d}:00+03:00"))
        for i in range(12)
    ]
    # when the month is counted
    summary = usage_compute(
        usage=usage_of(krizhik, "reliable"),
        period=Period(2026, 11),
        calendar=krizhik.calendars["working"],
        entries=entries,
        status_changes={},
    )
    # then 60 minutes → 1.0 h, not 12 × 0.5 h
    (line,) = summary.lines
    assert (line.billable_minutes, line.entries, line.units) == (60, 12, Decimal("1.0"))


@pytest.mark.parametrize("minutes", [-1, -30])
def test_negative_minutes_are_refused(minutes: int) -> None:
    with pytest.raises(UsageError):
        round_up_hours(minutes, HALF)


@pytest.mark.parametrize("increment", [Decimal(0), Decimal("-0.5"), Decimal("NaN")])
def test_an_increment_must_be_positive(increment: Decimal) -> None:
    with pytest.raises(UsageError):
        round_up_hours(30, increment)


@given(
    minutes=st.integers(min_value=0, max_value=100_000),
    increment=st.sampled_from([Decimal("0.25"), HALF, Decimal(1), Decimal(2)]),
)
def test_rounding_never_counts_less_and_never_a_whole_increment_more(
    minutes: int, increment: Decimal
) -> None:
    rounded = round_up_hours(minutes, increment)
    raw = Decimal(minutes) / 60
    # rounded ≥ raw, less than one increment above it, and a whole number of increments
    assert rounded >= raw
    assert rounded - raw < increment
    assert rounded % increment == 0


# ------------------------------------------------------------------------- periods
@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "", "2026-1"])
def test_a_period_is_written_yyyy_mm(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        Period.parse(text)
    assert raised.value.hint == "Write a period as YYYY-MM, e.g. 2026-11."


def test_a_period_is_a_month_on_moscow_wall_clocks() -> None:
    # 2026-11-30 23:30 in Moscow is 20:30 UTC of the same day; 2026-11-30 21:30 UTC is
    # already 1 December 00:30 in Moscow
    assert Period.of(at("2026-11-30T20:30:00+00:00"), MOSCOW) == Period(2026, 11)
    assert Period.of(at("2026-11-30T21:30:00+00:00"), MOSCOW) == Period(2026, 12)
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2026, 11).start(MOSCOW) == at("2026-11-01T00:00:00+03:00")
    assert Period(2026, 11).end(MOSCOW) == at("2026-12-01T00:00:00+03:00")
    assert str(Period.parse("2026-11")) == "2026-11"


def test_a_naive_instant_has_no_period() -> None:
    with pytest.raises(NaiveDatetimeError):
        Period.of(datetime(2026, 11, 1, 12), MOSCOW)  # noqa: DTZ001 - on purpose


def test_entries_count_in_the_month_of_moscow_time(krizhik: Regulation) -> None:
    # given entries around midnight of 30 Nov → 1 Dec, Moscow time
    entries = [
        Entry("KRZ-1", 20, at("2026-11-30T23:59:00+03:00")),  # November
        Entry("KRZ-1", 20, at("2026-11-30T21:00:00+00:00")),  # 1 Dec 00:00 Moscow
        Entry("KRZ-1", 25, at("2026-10-31T21:00:00+00:00")),  # 1 Nov 00:00 Moscow
    ]
    usage = usage_of(krizhik, "reliable")
    calendar = krizhik.calendars["working"]

    def month(period: Period) -> tuple[int, Decimal]:
        (line,) = usage_compute(
            usage=usage, period=period, calendar=calendar, entries=entries, status_changes={}
        ).lines
        return line.billable_minutes, line.units

    # then November has 20 + 25 = 45 min → 1.0 h, December 20 min → 0.5 h
    assert month(Period(2026, 11)) == (45, Decimal("1.0"))
    assert month(Period(2026, 12)) == (20, Decimal("0.5"))


def test_non_billable_minutes_are_shown_but_not_counted(krizhik: Regulation) -> None:
    entries = [
        Entry("KRZ-1", 40, at("2026-11-10T10:00:00+03:00"), billable=False),
        Entry("KRZ-1", 30, at("2026-11-10T11:00:00+03:00")),
    ]
    summary = usage_compute(
        usage=usage_of(krizhik, "reliable"),
        period=Period(2026, 11),
        calendar=krizhik.calendars["working"],
        entries=entries,
        status_changes={},
    )
    (line,) = summary.lines
    assert (line.billable_minutes, line.non_billable_minutes, line.units) == (
        30,
        40,
        Decimal("0.5"),
    )


# ---------------------------------------------------------------- per request
def test_a_resolution_is_entering_a_final_status_with_a_resolution() -> None:
    changes = [
        StatusChange(at("2026-11-02T10:00:00+03:00"), final=False),
        StatusChange(at("2026-11-02T12:00:00+03:00"), final=True, resolution="solved"),
        StatusChange(at("2026-11-03T10:00:00+03:00"), final=False),
        StatusChange(at("2026-11-03T11:00:00+03:00"), final=True, resolution="solved"),
    ]
    assert marks_from_status_changes(changes) == (
        Mark(at("2026-11-02T12:00:00+03:00"), "resolved"),
        Mark(at("2026-11-03T10:00:00+03:00"), "reopened"),
        Mark(at("2026-11-03T11:00:00+03:00"), "resolved"),
    )


@pytest.mark.parametrize(
    ("reopened", "resolved_again", "counted"),
    [
        # reopened within 10 working days (the last instant included): the same task
        ("2026-11-17T12:00:00+03:00", "2026-11-18T10:00:00+03:00", 1),
        # a minute later: a new task, counted again
        ("2026-11-17T12:01:00+03:00", "2026-11-18T10:00:00+03:00", 2),
    ],
)
def test_a_request_reopened_within_the_window_is_not_counted_again(
    krizhik: Regulation, reopened: str, resolved_again: str, counted: int
) -> None:
    # given a Krizhik request resolved on Mon 2 Nov 12:00, reopened, resolved again
    marks = [
        Mark(at("2026-11-02T12:00:00+03:00"), "resolved"),
        Mark(at(reopened), "reopened"),
        Mark(at(resolved_again), "resolved"),
    ]
    # then R4.5 «Обращение****»: one request is one task while inside the window
    result = counted_resolutions(
        marks, calendar=krizhik.calendars["working"], window=WorkingDays(10)
    )
    assert len(result) == counted


def test_per_request_counts_in_the_month_of_the_first_resolution(krizhik: Regulation) -> None:
    # given request 1 resolved on 30 Oct, reopened 2 Nov (inside the window) and resolved
    # again on 3 Nov; request 2 resolved on 5 Nov; request 3 open with time only
    changes = {
        "KRZ-1": [
            StatusChange(at("2026-10-30T15:00:00+03:00"), final=True, resolution="solved"),
            StatusChange(at("2026-11-02T10:00:00+03:00"), final=False),
            StatusChange(at("2026-11-03T10:00:00+03:00"), final=True, resolution="solved"),
        ],
        "KRZ-2": [
            StatusChange(at("2026-11-05T10:00:00+03:00"), final=True, resolution="consulted")
        ],
    }
    entries = [Entry("KRZ-3", 50, at("2026-11-06T10:00:00+03:00"))]

    def count(period: Period) -> dict[str, Decimal]:
        summary = usage_compute(
            usage=usage_of(krizhik, "krizhik"),
            period=period,
            calendar=krizhik.calendars["working"],
            entries=entries,
            status_changes=changes,
        )
        return {line.ticket: line.units for line in summary.lines}

    # then October counts request 1; November counts request 2 only, and lists
    # request 3 (time, no resolution) with 0 units
    assert count(Period(2026, 10)) == {"KRZ-1": Decimal(1)}
    assert count(Period(2026, 11)) == {"KRZ-2": Decimal(1), "KRZ-3": Decimal(0)}


def test_balance_is_exceeded_only_beyond_the_allowance() -> None:
    assert Balance(Decimal(10), Decimal(10)).exceeded is False  # all used, not exceeded
    assert Balance(Decimal(10), Decimal("10.5")).remaining == Decimal("-0.5")
    assert Balance(Decimal(10), Decimal("10.5")).exceeded is True
    assert Balance(None, Decimal(99)).exceeded is False  # no allowance: nothing to exceed


def test_the_default_reopen_window_is_ten_working_days(krizhik: Regulation) -> None:
    # ASSUMPTION (docs/usage.md): the seed gives no window
    usage = usage_of(krizhik, "start")
    assert usage == Usage("request", Decimal(1), "month", WorkingDays(10))
    assert usage_of(krizhik, "reliable").reopen_window == WorkingDays(10)


# ------------------------------------------------------------- the regulation file
KRIZHIK_USAGE = "usage: {unit: request, increment: 1}   #"  # the «Крыжик» tariff's line


def krizhik_with(usage: str) -> str:
    text = FILE.read_text(encoding="utf-8")
    assert text.count(KRIZHIK_USAGE) == 1
    return text.replace(KRIZHIK_USAGE, f"usage: {usage}   #")


def test_a_regulation_may_give_its_own_reopen_window() -> None:
    regulation = load_regulation(krizhik_with("{unit: request, reopen_window: 3wd, period: month}"))
    assert regulation.tariff("krizhik").usage == Usage(
        "request", Decimal(1), "month", WorkingDays(3)
    )


@pytest.mark.parametrize(
    ("usage", "says"),
    [
        ("{unit: request, period: week}", "'week' is not a supported usage period."),
        ("{unit: request, reopen_window: none}", "The reopen window cannot be 'none'."),
        ("{unit: request, reopen_window: soon}", "'soon' is not a duration."),
        (
            "{unit: hour, increment: 0.5, reopen_window: 3wd}",
            "A reopen window applies only to usage counted per request.",
        ),
    ],
)
def test_a_wrong_usage_block_is_reported_where_it_is(usage: str, says: str) -> None:
    with pytest.raises(RegulationInvalid) as raised:
        load_regulation(krizhik_with(usage))
    assert [p for p in map(str, raised.value.problems) if says in p and "usage" in p]
