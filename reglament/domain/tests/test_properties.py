"""Properties of the engine, checked against a naive minute-stepping oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reglament.domain.calendar import Pauses, RussianProductionCalendar, WorkCalendar
from reglament.domain.tests.oracle import MinuteOracle

MOSCOW = WorkCalendar(
    schedule="mon-fri 10:00-19:00", timezone="Europe/Moscow", holidays=RussianProductionCalendar()
)
MOSCOW_ORACLE = MinuteOracle(
    "Europe/Moscow", {d: [(600, 1140)] for d in range(5)}, russian_holidays=True
)

LUNCH = WorkCalendar(
    schedule="mon-fri 09:00-13:00,14:00-18:00; sat 10:00-14:00", timezone="Asia/Vladivostok"
)
LUNCH_ORACLE = MinuteOracle(
    "Asia/Vladivostok", {**{d: [(540, 780), (840, 1080)] for d in range(5)}, 5: [(600, 840)]}
)

NIGHT = WorkCalendar(schedule="mon-fri 22:00-06:00", timezone="Europe/Berlin")
NIGHT_ORACLE = MinuteOracle("Europe/Berlin", {d: [(1320, 1800)] for d in range(5)})

CASES = [(MOSCOW, MOSCOW_ORACLE), (LUNCH, LUNCH_ORACLE), (NIGHT, NIGHT_ORACLE)]

START = datetime(2024, 1, 1, tzinfo=UTC)
minutes_2024_2026 = st.integers(0, 3 * 365 * 24 * 60)
instants = minutes_2024_2026.map(lambda m: START + timedelta(minutes=m))
durations = st.integers(0, 40 * 60).map(lambda m: timedelta(minutes=m))
cases = st.sampled_from(CASES)


@st.composite
def pauses_after(draw, start: datetime):
    result = []
    for _ in range(draw(st.integers(0, 3))):
        begin = start + timedelta(minutes=draw(st.integers(-600, 5 * 24 * 60)))
        result.append((begin, begin + timedelta(minutes=draw(st.integers(0, 2 * 24 * 60)))))
    return result


@settings(max_examples=150, deadline=None)
@given(case=cases, start=instants, duration=durations)
def test_add_matches_the_oracle(case, start, duration):
    calendar, oracle = case
    assert calendar.add(start, duration) == oracle.add(start, duration)


@settings(max_examples=150, deadline=None)
@given(case=cases, start=instants, span=st.integers(0, 6 * 24 * 60))
def test_between_matches_the_oracle(case, start, span):
    calendar, oracle = case
    end = start + timedelta(minutes=span)
    assert calendar.between(start, end) == oracle.between(start, end)


@settings(max_examples=100, deadline=None)
@given(case=cases, start=instants, duration=durations, data=st.data())
def test_add_with_pauses_matches_the_oracle(case, start, duration, data):
    calendar, oracle = case
    pauses = data.draw(pauses_after(start))
    due = calendar.add(start, duration, pauses)
    assert due == oracle.add(start, duration, pauses)
    assert calendar.between(start, due, pauses) == duration
    prepared = Pauses(pauses)
    assert calendar.add(start, duration, prepared) == due
    assert calendar.between(start, due, prepared) == duration
    assert calendar.explain(start, due, prepared) == calendar.explain(start, due, pauses)


@settings(max_examples=300, deadline=None)
@given(case=cases, start=instants, duration=durations)
def test_between_undoes_add_and_add_undoes_between(case, start, duration):
    calendar, _ = case
    due = calendar.add(start, duration)
    assert calendar.between(start, due) == duration
    later = start + duration * 3
    assert calendar.add(start, calendar.between(start, later)) <= later


@settings(max_examples=300, deadline=None)
@given(case=cases, start=instants, shift=st.integers(0, 10_000), one=durations, two=durations)
def test_deadlines_are_monotonic(case, start, shift, one, two):
    calendar, _ = case
    short, long = sorted((one, two))
    assert calendar.add(start, short) <= calendar.add(start, long)
    assert calendar.add(start, short) <= calendar.add(start + timedelta(minutes=shift), short)


@settings(max_examples=300, deadline=None)
@given(case=cases, start=instants, duration=durations.filter(bool), data=st.data())
def test_a_deadline_never_falls_inside_closed_or_paused_time(case, start, duration, data):
    calendar, _ = case
    pauses = data.draw(pauses_after(start))
    due = calendar.add(start, duration, pauses)
    just_before = due - timedelta(microseconds=1)
    assert calendar.is_open(just_before)
    assert not any(a <= just_before < b for a, b in pauses)


@settings(max_examples=200, deadline=None)
@given(case=cases, start=instants, span=st.integers(0, 10 * 24 * 60), data=st.data())
def test_pauses_subtract_exactly_their_business_time(case, start, span, data):
    calendar, _ = case
    end = start + timedelta(minutes=span)
    pauses = data.draw(pauses_after(start))
    disjoint = _merge(pauses)
    inside = sum(
        (
            calendar.between(max(a, start), min(b, end))
            for a, b in disjoint
            if max(a, start) < min(b, end)
        ),
        timedelta(0),
    )
    assert calendar.between(start, end, pauses) == calendar.between(start, end) - inside


@settings(max_examples=50, deadline=None)
@given(
    case=cases,
    starts=st.lists(instants, min_size=1, max_size=50),
    minutes=st.lists(st.integers(0, 150 * 60), min_size=50, max_size=50),
)
def test_batch_path_agrees_with_the_scalar_path(case, starts, minutes):
    calendar, _ = case
    durations = [timedelta(minutes=m) for m in minutes[: len(starts)]]
    as_array = np.array([s.replace(tzinfo=None) for s in starts], dtype="datetime64[us]")
    got = calendar.add_many(as_array, np.array(durations, dtype="timedelta64[us]"))
    expected = [
        calendar.add(s, d).astimezone(UTC).replace(tzinfo=None)
        for s, d in zip(starts, durations, strict=True)
    ]
    assert got.tolist() == expected
    ends = np.array([e for e in expected], dtype="datetime64[us]")
    assert calendar.between_many(as_array, ends).tolist() == durations


def _merge(pauses):
    merged: list[list[datetime]] = []
    for a, b in sorted(pauses):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged
