"""Business-time benchmark: Reglament's calendar engine against businesstimedelta and pandas.

One run draws random cases from a fixed (printed) seed: starts uniformly over
2024-01-01..2026-12-31 Moscow time (to the minute), durations of 1–150 business
hours (to the minute), on the calendar "mon-fri 10:00-19:00" in Europe/Moscow
with the Russian production calendar. Every figure is the best of three timed
passes over the same cases, after one warm-up pass whose results are the ones
compared between libraries.

This is not a test: it prints figures and goals ("met" / "NOT met") and always
exits 0. Options: ``--cases N``, ``--quick``, ``--seed S``, ``--json PATH``.
"""

# print() (T201) is allowed in benchmarks/ by pyproject.toml's per-file-ignores.

from __future__ import annotations

import argparse
import gc
import json
import operator
import os
import platform
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import metadata
from pathlib import Path
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import numpy as np

from reglament.domain.calendar import Pauses, RussianProductionCalendar, WorkCalendar

Pause = tuple[datetime, datetime]

MSK = ZoneInfo("Europe/Moscow")
SCHEDULE = "mon-fri 10:00-19:00"
OPENING, CLOSING = time(10), time(19)
FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2026, 12, 31)
MIN_MINUTES, MAX_MINUTES = 60, 150 * 60  # durations: 1–150 business hours
ELAPSED_MAX_MINUTES = 21 * 24 * 60  # elapsed spans: end = start + 0–21 wall-clock days
PAUSE_GAP_MAX_MINUTES = 3 * 24 * 60  # pause k starts 0–3 days after the start / pause k-1
PAUSE_MAX_MINUTES = 48 * 60  # each pause lasts 0–48 hours: both fit in the first 10 days
# Peers' holiday data must reach past the last deadline (150 business hours after
# 31 Dec 2026 is in February 2027), and a year earlier does no harm.
DATA_YEARS = range(FIRST_DAY.year - 1, LAST_DAY.year + 3)

DEFAULT_SEED = 20241228
DEFAULT_CASES, QUICK_CASES = 100_000, 10_000
BTD_SUBSET, BTD_QUICK_SUBSET = 3_000, 500
PANDAS_SUBSET, PANDAS_QUICK_SUBSET = 10_000, 2_000
ORACLE_SUBSET, ORACLE_QUICK_SUBSET = 5_000, 1_000  # cases checked with pauses
REPEATS = 3
EXAMPLES = 3  # disagreeing cases printed per peer

ZERO = timedelta(0)
ONE_US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_MINUTE = 60_000_000


# ------------------------------------------------------------------------ cases
@dataclass(frozen=True, slots=True)
class Cases:
    """The same random cases in every form the libraries take."""

    seed: int
    starts: list[datetime]  # aware, ZoneInfo("Europe/Moscow")
    starts_utc: list[datetime]  # aware, datetime.UTC (what Django's ORM returns)
    durations: list[timedelta]
    ends: list[datetime]  # for elapsed time
    ends_utc: list[datetime]
    pauses: list[tuple[Pause, Pause]]
    pauses_utc: list[tuple[Pause, Pause]]
    start_us: np.ndarray  # int64 microseconds since the epoch, for the batch API
    end_us: np.ndarray
    duration_us: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def make_cases(count: int, seed: int) -> Cases:
    rng = np.random.default_rng(seed)
    origin = datetime.combine(FIRST_DAY, time(0), tzinfo=MSK)
    stop = datetime.combine(LAST_DAY + timedelta(days=1), time(0), tzinfo=MSK)
    span = (stop - origin) // timedelta(minutes=1)
    start_min = rng.integers(0, span, count)  # the last start is 31 Dec 2026 23:59
    duration_min = rng.integers(MIN_MINUTES, MAX_MINUTES + 1, count)
    end_min = start_min + rng.integers(0, ELAPSED_MAX_MINUTES + 1, count)
    # Columns: gap, length, gap, length; cumulated they give two disjoint,
    # ordered pauses after the start (zero-length pauses are allowed).
    limits = np.array([PAUSE_GAP_MAX_MINUTES, PAUSE_MAX_MINUTES] * 2) + 1
    pause_min = start_min[:, None] + np.cumsum(rng.integers(0, limits, (count, 4)), axis=1)

    origin_us = (origin - EPOCH) // ONE_US
    start_us = origin_us + start_min * US_PER_MINUTE
    end_us = origin_us + end_min * US_PER_MINUTE
    starts, starts_utc = _aware(start_us)
    ends, ends_utc = _aware(end_us)
    columns = [_aware(origin_us + pause_min[:, k] * US_PER_MINUTE) for k in range(4)]
    return Cases(
        seed=seed,
        starts=starts,
        starts_utc=starts_utc,
        durations=[timedelta(minutes=m) for m in duration_min.tolist()],
        ends=ends,
        ends_utc=ends_utc,
        pauses=_pause_pairs([c[0] for c in columns]),
        pauses_utc=_pause_pairs([c[1] for c in columns]),
        start_us=start_us,
        end_us=end_us,
        duration_us=duration_min * US_PER_MINUTE,
    )


def _aware(us: np.ndarray) -> tuple[list[datetime], list[datetime]]:
    """Whole-minute instants as Moscow (ZoneInfo) and as UTC aware datetimes."""
    seconds = (us // 1_000_000).tolist()
    return (
        [datetime.fromtimestamp(s, MSK) for s in seconds],
        [datetime.fromtimestamp(s, UTC) for s in seconds],
    )


def _pause_pairs(columns: list[list[datetime]]) -> list[tuple[Pause, Pause]]:
    a, b, c, d = columns
    return [((w, x), (y, z)) for w, x, y, z in zip(a, b, c, d, strict=True)]


# ------------------------------------------------------------------ measuring
def timed[T](run: Callable[[], T], count: int) -> tuple[float, T]:
    """Operations per second (best of REPEATS passes after a warm-up) and the
    warm-up's result.

    The warm-up fills every cache (the calendar's interval table, holiday
    years) so that no pass pays for it; its output is what gets compared.
    """
    result = run()
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection in one pass would be noise
    try:
        for _ in range(REPEATS):
            began = perf_counter()
            run()
            best = min(best, perf_counter() - began)
    finally:
        if enabled:
            gc.enable()
    return count / best, result


def progress(text: str) -> None:
    # On stderr, so that stdout holds only the report.
    print(f"  … {text}", file=sys.stderr, flush=True)


@dataclass(slots=True)
class Row:
    """One line of the report."""

    library: str
    operation: str
    inputs: str
    cases: int
    ops_per_s: float | None
    ratio: float | None = None  # ours / theirs, for the same kind of operation
    exact: float | None = None  # share of cases agreeing with ours exactly
    up_to_convention: float | None = None  # exact, or differing by no business time
    note: str = ""


@dataclass(slots=True)
class Report:
    seed: int
    cases: int
    machine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def rate(self, library: str, operation: str, inputs: str = "ZoneInfo") -> float | None:
        for row in self.rows:
            if (row.library, row.operation, row.inputs) == (library, operation, inputs):
                return row.ops_per_s
        return None


# ----------------------------------------------------------------------- ours
@dataclass(slots=True)
class OursResults:
    """The outputs other measurements are checked against."""

    deadlines: list[datetime]
    deadlines_paused: list[datetime]
    elapsed: list[timedelta]
    elapsed_paused: list[timedelta]


def mapped(function: Callable[..., Any], *columns: Sequence[Any]) -> Callable[[], list[Any]]:
    """One pass: ``function`` over the columns. map() keeps the harness's own
    cost per case to a minimum, the same for every library."""
    return lambda: list(map(function, *columns))


def bench_ours(cal: WorkCalendar, cases: Cases, report: Report) -> OursResults:
    n = len(cases)
    add, between, durations = cal.add, cal.between, cases.durations
    kinds = [
        ("ZoneInfo", cases.starts, cases.ends, cases.pauses),
        ("UTC", cases.starts_utc, cases.ends_utc, cases.pauses_utc),
    ]
    found: dict[tuple[str, str], list[Any]] = {}
    for inputs, starts, ends, pauses in kinds:
        # A request's pauses come from its event log and serve all its clocks, so
        # the SLA layer normalises them once (Pauses); built outside the timing.
        prepared = [Pauses(pair) for pair in pauses]
        runs = {
            "deadline, 0 pauses": mapped(add, starts, durations),
            "deadline, 2 pauses": mapped(add, starts, durations, pauses),
            "deadline, 2 Pauses": mapped(add, starts, durations, prepared),
            "elapsed, 0 pauses": mapped(between, starts, ends),
            "elapsed, 2 pauses": mapped(between, starts, ends, pauses),
            "elapsed, 2 Pauses": mapped(between, starts, ends, prepared),
        }
        for operation, run in runs.items():
            progress(f"ours {operation}, {inputs} inputs")
            rate, found[operation, inputs] = timed(run, n)
            report.rows.append(Row("ours", operation, inputs, n, rate))
        if inputs != "ZoneInfo":
            for operation in runs:
                same = sum(map(operator.eq, found[operation, "ZoneInfo"], found[operation, inputs]))
                report.checks[f"{operation}: {inputs} inputs give the ZoneInfo results"] = _share(
                    same, n
                )

    results = OursResults(
        deadlines=found["deadline, 0 pauses", "ZoneInfo"],
        deadlines_paused=found["deadline, 2 pauses", "ZoneInfo"],
        elapsed=found["elapsed, 0 pauses", "ZoneInfo"],
        elapsed_paused=found["elapsed, 2 pauses", "ZoneInfo"],
    )
    _check_round_trips(cal, cases, results, report)
    return results


def bench_batch(cal: WorkCalendar, cases: Cases, ours: OursResults, report: Report) -> None:
    n = len(cases)
    # Array conversion stays outside the timed region: callers of the batch API
    # hold their data in arrays already (a DataFrame column, a query result).
    starts = cases.start_us.astype("datetime64[us]")
    ends = cases.end_us.astype("datetime64[us]")
    durations = cases.duration_us.astype("timedelta64[us]")
    note = "datetime64/timedelta64 arrays built outside the timed region"

    progress("ours add_many")
    rate, due = timed(lambda: cal.add_many(starts, durations), n)
    report.rows.append(Row("ours", "batch add_many", "datetime64", n, rate, note=note))
    scalar_due = _us_array(ours.deadlines)
    report.checks["add_many gives the scalar add's deadlines"] = _share(
        int((due.astype(np.int64) == scalar_due).sum()), n
    )

    progress("ours between_many")
    rate, spans = timed(lambda: cal.between_many(starts, ends), n)
    report.rows.append(Row("ours", "batch between_many", "datetime64", n, rate, note=note))
    scalar_spans = np.array([e // ONE_US for e in ours.elapsed], dtype=np.int64)
    report.checks["between_many gives the scalar between's elapsed times"] = _share(
        int((spans.astype(np.int64) == scalar_spans).sum()), n
    )


def _check_round_trips(cal: WorkCalendar, cases: Cases, ours: OursResults, report: Report) -> None:
    """The business time from a start to its deadline is the duration asked for."""
    n = len(cases)
    plain = sum(
        cal.between(s, due) == d
        for s, due, d in zip(cases.starts, ours.deadlines, cases.durations, strict=True)
    )
    paused = sum(
        cal.between(s, due, p) == d
        for s, due, d, p in zip(
            cases.starts, ours.deadlines_paused, cases.durations, cases.pauses, strict=True
        )
    )
    report.checks["between(start, add(start, d)) == d, 0 pauses"] = _share(plain, n)
    report.checks["between(start, add(start, d, p), p) == d, 2 pauses"] = _share(paused, n)


# ------------------------------------------------------------ the RU calendar
def russian_days(years: Iterable[int]) -> tuple[set[date], set[date]]:
    """Days off (holidays and transferred days off) and working weekend days,
    from the same ``holidays`` data our RussianProductionCalendar reads."""
    days_off: set[date] = set()
    working: set[date] = set()
    for year in years:
        calendar = holidays_lib.RU(years=year)
        days_off.update(calendar)
        working.update(calendar.weekend_workdays)
    return days_off, working


def saturdays_off(years: range, working: set[date]) -> set[date]:
    day, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    day += timedelta(days=(5 - day.weekday()) % 7)
    found: set[date] = set()
    while day <= last:
        if day not in working:
            found.add(day)
        day += timedelta(days=7)
    return found


# ------------------------------------------------------ minute-grid oracle
class MinuteGrid:
    """An independent, brute-force answer key: one flag per minute saying whether
    it is working time, built straight from the ``holidays`` data.

    It shares no code with the engine, so agreeing with it checks the engine's
    logic (cases are whole minutes, so a minute grid is exact for them).
    Moscow keeps UTC+3 all year, so local minutes follow one another evenly.
    """

    WINDOW = 60 * 24 * 60  # minutes a paused deadline is searched in (then widened)

    def __init__(self, years: range) -> None:
        self.origin = datetime.combine(date(years[0], 1, 1), time(0), tzinfo=MSK)
        self.origin_us = (self.origin - EPOCH) // ONE_US
        days_off, working = russian_days(years)
        first, last = date(years[0], 1, 1), date(years[-1], 12, 31)
        days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
        open_day = np.array([(d.weekday() < 5 or d in working) and d not in days_off for d in days])
        hours = np.zeros(24 * 60, dtype=bool)
        hours[OPENING.hour * 60 : CLOSING.hour * 60] = True
        self.work = (open_day[:, None] & hours[None, :]).ravel()
        # before[i]: working minutes before minute i.
        self.before = np.concatenate(([0], np.cumsum(self.work, dtype=np.int64)))

    def minute(self, us: np.ndarray) -> np.ndarray:
        return (us - self.origin_us) // US_PER_MINUTE

    def minute_of(self, moment: datetime) -> int:
        return (_us(moment) - self.origin_us) // US_PER_MINUTE

    def at(self, minute: int) -> datetime:
        return self.origin + timedelta(minutes=minute)

    def deadlines(self, start_us: np.ndarray, duration_us: np.ndarray) -> np.ndarray:
        """Earliest minute at which the working minutes since the start reach the duration."""
        target = self.before[self.minute(start_us)] + duration_us // US_PER_MINUTE
        return np.searchsorted(self.before, target, side="left")

    def elapsed(self, start_us: np.ndarray, end_us: np.ndarray) -> np.ndarray:
        return self.before[self.minute(end_us)] - self.before[self.minute(start_us)]

    def paused_deadline(self, start: int, minutes: int, pauses: list[tuple[int, int]]) -> int:
        window = self.WINDOW
        while True:
            counted = self.work[start : start + window].copy()
            for a, b in pauses:
                counted[max(a - start, 0) : max(b - start, 0)] = False
            reached = np.cumsum(counted, dtype=np.int64)
            if reached[-1] >= minutes:
                return start + int(np.searchsorted(reached, minutes, side="left")) + 1
            if start + window >= len(self.work):
                raise ValueError("the minute grid ends before this deadline")
            window *= 2

    def paused_elapsed(self, start: int, end: int, pauses: list[tuple[int, int]]) -> int:
        counted = self.work[start:end].copy()
        for a, b in pauses:
            counted[max(a - start, 0) : max(b - start, 0)] = False
        return int(np.count_nonzero(counted))


def check_against_oracle(cases: Cases, ours: OursResults, subset: int, report: Report) -> None:
    """Our results against the minute grid: all cases without pauses, a subset with."""
    progress("minute-grid oracle")
    grid = MinuteGrid(range(FIRST_DAY.year, LAST_DAY.year + 2))
    k = min(subset, len(cases))
    starts = grid.minute(cases.start_us).tolist()
    ends = grid.minute(cases.end_us).tolist()
    minutes = (cases.duration_us // US_PER_MINUTE).tolist()
    pauses = [
        [(grid.minute_of(a), grid.minute_of(b)) for a, b in pair] for pair in cases.pauses[:k]
    ]
    expected: dict[str, tuple[list[int], list[datetime] | list[timedelta]]] = {
        "deadline, 0 pauses": (
            grid.deadlines(cases.start_us, cases.duration_us).tolist(),
            ours.deadlines,
        ),
        "elapsed, 0 pauses": (grid.elapsed(cases.start_us, cases.end_us).tolist(), ours.elapsed),
        "deadline, 2 pauses": (
            [grid.paused_deadline(starts[i], minutes[i], pauses[i]) for i in range(k)],
            ours.deadlines_paused[:k],
        ),
        "elapsed, 2 pauses": (
            [grid.paused_elapsed(starts[i], ends[i], pauses[i]) for i in range(k)],
            ours.elapsed_paused[:k],
        ),
    }
    for operation, (answers, results) in expected.items():
        # Deadlines compare as minutes since the grid's origin, elapsed times as minutes.
        mine = [
            grid.minute_of(r) if isinstance(r, datetime) else r // timedelta(minutes=1)
            for r in results
        ]
        wrong = [i for i, (a, b) in enumerate(zip(answers, mine, strict=True)) if a != b]
        report.checks[f"minute-grid oracle, {operation}"] = _share(
            len(answers) - len(wrong), len(answers)
        )
        for i in wrong[:EXAMPLES]:
            report.disagreements.append(
                f"OURS vs minute-grid oracle, {operation}, case {i}: {_case(cases, i, operation)}"
                f": ours {_value(results[i])}, oracle {_grid_value(grid, answers[i], results[i])}"
            )


def _case(cases: Cases, i: int, operation: str) -> str:
    text = f"start {_show(cases.starts[i])}, "
    text += f"end {_show(cases.ends[i])}" if "elapsed" in operation else _hm(cases.durations[i])
    if "2 pauses" in operation:
        text += ", pauses " + ", ".join(f"{_show(a)}–{_show(b)}" for a, b in cases.pauses[i])
    return text


def _value(value: datetime | timedelta) -> str:
    return _show(value) if isinstance(value, datetime) else _hm(value)


def _grid_value(grid: MinuteGrid, answer: int, like: datetime | timedelta) -> str:
    return _value(grid.at(answer) if isinstance(like, datetime) else timedelta(minutes=answer))


def _us(moment: datetime) -> int:
    return (moment - EPOCH) // ONE_US


def _us_array(moments: Sequence[datetime]) -> np.ndarray:
    return np.array([_us(m) for m in moments], dtype=np.int64)


# ---------------------------------------------------------- businesstimedelta
def bench_businesstimedelta(
    cal: WorkCalendar, cases: Cases, ours: OursResults, subset: int, report: Report
) -> None:
    try:
        import businesstimedelta as btd
        import pytz
    except ImportError:
        report.rows.append(Row("businesstimedelta", "deadline", "-", 0, None, note="missing"))
        return
    n = min(subset, len(cases))
    days_off, working = russian_days(DATA_YEARS)
    if any(day.weekday() != 5 for day in working):
        # A working Sunday would need a second WorkDayRule; RU data has none.
        report.notes.append("businesstimedelta: a working day falls on a Sunday: miscounted")
    tz = pytz.timezone("Europe/Moscow")
    # Mon–Sat 10–19, then every RU day off and every Saturday that does not
    # work is taken away: this is how the library expresses working Saturdays.
    # A set, not a list: HolidayRule tests membership day by day.
    blocked = frozenset(days_off | saturdays_off(DATA_YEARS, working))
    workdays = btd.WorkDayRule(
        start_time=OPENING, end_time=CLOSING, working_days=[0, 1, 2, 3, 4, 5], tz=tz
    )
    rules = btd.Rules([workdays, btd.HolidayRule(blocked, tz=tz)])
    starts, ends = cases.starts[:n], cases.ends[:n]
    deltas = [
        btd.BusinessTimeDelta(rules, hours=d // timedelta(hours=1), seconds=d.seconds % 3600)
        for d in cases.durations[:n]
    ]
    note = f"first {n:,} cases; Mon–Sat rule + HolidayRule of {len(blocked)} dates"

    progress(f"businesstimedelta deadline ({n:,} cases)")
    rate, theirs = timed(mapped(operator.add, starts, deltas), n)
    row = Row("businesstimedelta", "deadline, 0 pauses", "ZoneInfo", n, rate, note=note)
    _agree_deadlines(cal, row, cases, ours.deadlines, theirs, report)
    report.rows.append(row)

    progress(f"businesstimedelta elapsed ({n:,} cases)")
    rate, spans = timed(mapped(rules.difference, starts, ends), n)
    row = Row("businesstimedelta", "elapsed, 0 pauses", "ZoneInfo", n, rate, note=note)
    _agree_elapsed(row, cases, ours.elapsed, [s.timedelta for s in spans], report)
    report.rows.append(row)

    # The same rules with the holidays in a sorted list, as the library's README
    # writes them: what most users run (and the ~600/s the issue quotes).
    k = max(1, n // 3)
    listed = btd.Rules([workdays, btd.HolidayRule(sorted(blocked), tz=tz)])
    listed_deltas = [
        btd.BusinessTimeDelta(listed, hours=d // timedelta(hours=1), seconds=d.seconds % 3600)
        for d in cases.durations[:k]
    ]
    progress(f"businesstimedelta deadline, holidays as a list ({k:,} cases)")
    rate, theirs = timed(mapped(operator.add, starts[:k], listed_deltas), k)
    row = Row(
        "businesstimedelta",
        "deadline, list rule",
        "ZoneInfo",
        k,
        rate,
        note=f"first {k:,} cases; the same rules with HolidayRule given a sorted list",
    )
    _agree_deadlines(cal, row, cases, ours.deadlines[:k], theirs, report)
    report.rows.append(row)


# --------------------------------------------------------------------- pandas
def pandas_deadline(days_off: Iterable[date]) -> Callable[[Any, int, int], Any]:
    """``stamp + hours h minutes m`` in business time with CustomBusinessHour.

    CustomBusinessHour takes whole hours only (``n`` must be an integer), so
    the minutes are added after the hours: inside the working period when
    they fit before closing time; otherwise one more business hour (which
    crosses the closing) is added and the unused minutes taken back, which
    lands in the next working period. A pandas result is never at closing
    time (pandas moves a deadline landing there to the next opening), so the
    minutes never start from a closed instant.
    """
    import pandas as pd

    base = pd.offsets.CustomBusinessHour(
        start=OPENING.strftime("%H:%M"),
        end=CLOSING.strftime("%H:%M"),
        weekmask="Mon Tue Wed Thu Fri",
        holidays=sorted(days_off),
    )
    # Built once: making an offset costs about as much as applying it.
    by_hours = [base * h for h in range(MAX_MINUTES // 60 + 1)]
    one_hour = by_hours[1]
    forward = [pd.Timedelta(minutes=m) for m in range(60)]
    back = [pd.Timedelta(minutes=60 - m) for m in range(60)]
    closing = base.end[0]

    def deadline(stamp: Any, hours: int, minutes: int) -> Any:
        due = stamp + by_hours[hours]  # hours ≥ 1: durations are at least one hour
        if not minutes:
            return due
        shifted = due + forward[minutes]
        if shifted.time() < closing:
            return shifted
        return due + one_hour - back[minutes]

    return deadline


# Hand cases on ordinary weeks (no holiday, no working Saturday near them):
# (start, minutes) whose results pandas must match, up to the convention.
PANDAS_HAND_CASES = (
    ("2024-03-12T17:00", 90),  # 18:30 the same day
    ("2024-03-12T17:30", 90),  # 19:00 (ours) / next opening (pandas)
    ("2024-03-12T18:00", 90),  # Wed 10:30
    ("2024-03-13T17:40", 110),  # 80 min on Wed, Thu 10:30
    ("2024-03-15T18:15", 170),  # 45 min on Fri, Mon 12:05
    ("2024-03-15T18:45", 80),  # 15 min on Fri, Mon 11:05
    ("2024-03-15T08:00", 545),  # a whole Friday, Mon 10:05
    ("2024-03-16T12:00", 61),  # from a Saturday: Mon 11:01
)


def bench_pandas(
    cal: WorkCalendar, cases: Cases, ours: OursResults, subset: int, report: Report
) -> None:
    try:
        import pandas as pd
    except ImportError:
        report.rows.append(Row("pandas", "deadline", "-", 0, None, note="missing"))
        return
    n = min(subset, len(cases))
    days_off, _ = russian_days(DATA_YEARS)
    deadline = pandas_deadline(days_off)
    _check_pandas_minutes(cal, deadline, report)

    # Moscow has kept UTC+3 since 2014: naive local time is exact here.
    stamps = [pd.Timestamp(s.replace(tzinfo=None)) for s in cases.starts[:n]]
    minutes = [d // timedelta(minutes=1) for d in cases.durations[:n]]
    hours, extra = [m // 60 for m in minutes], [m % 60 for m in minutes]
    note = f"first {n:,} cases; naive Moscow Timestamps made outside the timed region"

    progress(f"pandas deadline ({n:,} cases)")
    rate, theirs = timed(mapped(deadline, stamps, hours, extra), n)
    aware = [t.to_pydatetime().replace(tzinfo=MSK) for t in theirs]
    row = Row("pandas", "deadline, 0 pauses", "naive MSK", n, rate, note=note)
    _agree_deadlines(cal, row, cases, ours.deadlines, aware, report)
    report.rows.append(row)
    report.notes.append(
        "pandas: CustomBusinessHour knows a weekmask and holidays only; it cannot make a "
        "Saturday work, so cases spanning a working Saturday disagree by design."
    )
    report.rows.append(
        Row("pandas", "elapsed", "-", 0, None, note="n/a: pandas has no elapsed business time")
    )


def _check_pandas_minutes(
    cal: WorkCalendar, deadline: Callable[[Any, int, int], Any], report: Report
) -> None:
    import pandas as pd

    agreeing = 0
    for text, minutes in PANDAS_HAND_CASES:
        start = datetime.fromisoformat(text).replace(tzinfo=MSK)
        ours = cal.add(start, timedelta(minutes=minutes))
        theirs = deadline(pd.Timestamp(text), minutes // 60, minutes % 60)
        theirs = theirs.to_pydatetime().replace(tzinfo=MSK)
        agreeing += cal.between(min(ours, theirs), max(ours, theirs)) == ZERO
    report.checks["pandas hours+minutes method agrees with ours on hand cases"] = _share(
        agreeing, len(PANDAS_HAND_CASES)
    )


# ---------------------------------------------------------------- agreement
def _agree_deadlines(
    cal: WorkCalendar,
    row: Row,
    cases: Cases,
    ours: Sequence[datetime],
    theirs: Sequence[datetime],
    report: Report,
) -> None:
    """Exact agreement, agreement up to the closing/opening convention, and
    what the remaining disagreements have in common."""
    n = len(theirs)
    exact = convention = 0
    differing: list[int] = []
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if a == b:
            exact += 1
        elif cal.between(min(a, b), max(a, b)) == ZERO:
            convention += 1
        else:
            differing.append(i)
    row.exact, row.up_to_convention = exact / n, (exact + convention) / n
    if convention:
        report.disagreements.append(
            f"{row.library} deadline: {convention:,} of {n:,} differ only by the convention "
            f"(e.g. {_convention_example(cal, ours, theirs)})"
        )
    if differing:
        _explain_deadlines(row.library, cases, ours, theirs, differing, report)
    elif not convention:
        report.disagreements.append(f"{row.library} deadline: all {n:,} agree with ours exactly")


def _convention_example(
    cal: WorkCalendar, ours: Sequence[datetime], theirs: Sequence[datetime]
) -> str:
    for a, b in zip(ours, theirs, strict=False):
        if a != b and cal.between(min(a, b), max(a, b)) == ZERO:
            return f"ours {_show(a)}, theirs {_show(b)}"
    return "-"


def _explain_deadlines(
    library: str,
    cases: Cases,
    ours: Sequence[datetime],
    theirs: Sequence[datetime],
    differing: list[int],
    report: Report,
) -> None:
    _, working = russian_days(DATA_YEARS)

    def saturday_in_span(i: int) -> date | None:
        first, last = cases.starts[i].date(), max(ours[i], theirs[i]).date()
        return next((day for day in sorted(working) if first <= day <= last), None)

    by_saturday = [i for i in differing if saturday_in_span(i) is not None]
    others = [i for i in differing if saturday_in_span(i) is None]
    report.disagreements.append(
        f"{library} deadline: {len(differing):,} of {len(theirs):,} disagree beyond the "
        f"convention; {len(by_saturday):,} of them span a working Saturday, "
        f"{len(others):,} do not"
    )
    for i in (others or by_saturday)[:EXAMPLES]:
        saturday = saturday_in_span(i)
        why = f"working Saturday {saturday} in the span" if saturday else "no working Saturday"
        report.disagreements.append(
            f"    case {i}: start {_show(cases.starts[i])} + {_hm(cases.durations[i])}: "
            f"ours {_show(ours[i])}, theirs {_show(theirs[i])} ({why})"
        )


def _agree_elapsed(
    row: Row,
    cases: Cases,
    ours: Sequence[timedelta],
    theirs: Sequence[timedelta],
    report: Report,
) -> None:
    n = len(theirs)
    differing = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b]
    row.exact = row.up_to_convention = (n - len(differing)) / n
    report.disagreements.append(
        f"{row.library} elapsed: {len(differing):,} of {n:,} disagree"
        if differing
        else f"{row.library} elapsed: all {n:,} agree with ours exactly"
    )
    for i in differing[:EXAMPLES]:
        report.disagreements.append(
            f"    case {i}: {_show(cases.starts[i])} → {_show(cases.ends[i])}: "
            f"ours {_hm(ours[i])}, theirs {_hm(theirs[i])}"
        )


# -------------------------------------------------------------------- goals
def judge_goals(report: Report) -> None:
    def lowest(*values: float | None) -> float | None:
        known = [v for v in values if v is not None]
        return min(known) if known and len(known) == len(values) else None

    deadline = report.rate("ours", "deadline, 0 pauses")
    deadline_utc = report.rate("ours", "deadline, 0 pauses", "UTC")
    paused = report.rate("ours", "deadline, 2 pauses")
    paused_utc = report.rate("ours", "deadline, 2 pauses", "UTC")
    prepared = report.rate("ours", "deadline, 2 Pauses")
    prepared_utc = report.rate("ours", "deadline, 2 Pauses", "UTC")
    batch = (
        report.rate("ours", "batch add_many", "datetime64"),
        report.rate("ours", "batch between_many", "datetime64"),
    )
    ratios = {
        row.library: row.ratio
        for row in report.rows
        if row.operation == "deadline, 0 pauses" and row.library != "ours"
    }
    listed_ratio = next(
        (r.ratio for r in report.rows if r.operation == "deadline, list rule"), None
    )
    theirs = report.rate("businesstimedelta", "deadline, 0 pauses")
    batch_ratio = batch[0] / theirs if batch[0] and theirs else None
    goals: list[tuple[str, float | None, float, str]] = [
        ("ours deadline, 0 pauses (ZoneInfo & UTC)", lowest(deadline, deadline_utc), 3e5, "/s"),
        ("ours deadline, 2 pauses (ZoneInfo & UTC)", lowest(paused, paused_utc), 1.5e5, "/s"),
        ("ours deadline, 2 Pauses (ZoneInfo & UTC)", lowest(prepared, prepared_utc), 1.5e5, "/s"),
        ("ours batch (add_many & between_many)", lowest(*batch), 5e6, "/s"),
        ("ours vs businesstimedelta, deadline", ratios.get("businesstimedelta"), 500, "×"),
        ("ours vs businesstimedelta (list rule), deadline", listed_ratio, 500, "×"),
        ("ours batch vs businesstimedelta, deadline", batch_ratio, 500, "×"),
        ("ours vs pandas CustomBusinessHour, deadline", ratios.get("pandas"), 50, "×"),
    ]
    for text, value, target, unit in goals:
        verdict = "not measured" if value is None else "met" if value >= target else "NOT met"
        report.goals.append(
            {"goal": text, "target": target, "unit": unit, "value": value, "verdict": verdict}
        )


# ----------------------------------------------------------------- printing
def print_report(report: Report) -> None:
    machine = report.machine
    print("Reglament business-time benchmark")
    print(f"  machine : {machine['cpu']} ({machine['cpu_count']} CPUs), {machine['platform']}")
    print(
        f"  python {machine['python']}, numpy {machine['numpy']}, pandas {machine['pandas']}, "
        f"businesstimedelta {machine['businesstimedelta']}, holidays {machine['holidays']}"
    )
    print(f"  cases   : {report.cases:,} random cases, seed {report.seed}")
    print(f"            starts {FIRST_DAY}..{LAST_DAY} Moscow time, to the minute")
    print("            durations 1–150 business hours, to the minute")
    print("            elapsed: end = start + 0–21 wall-clock days, to the minute")
    print("            2 pauses: two disjoint periods of 0–48 h within the first 10 days")
    print(f"  calendar: {SCHEDULE!r}, Europe/Moscow, Russian production calendar")
    print(f"  figures : best of {REPEATS} timed passes after a warm-up pass, gc off while timed")
    print()
    header = ("library", "operation", "inputs", "cases", "ops/s", "ours/theirs", "exact", "≈conv")
    table = [header] + [_cells(row) for row in report.rows]
    widths = [max(len(line[k]) for line in table) for k in range(len(header))]
    left = {0, 1, 2}
    for k, line in enumerate(table):
        cells = [
            c.ljust(w) if j in left else c.rjust(w)
            for j, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  " + "  ".join(cells).rstrip())
        if k == 0:
            print("  " + "  ".join("-" * w for w in widths))
    print()
    print("  ours/theirs: ours scalar (ZoneInfo inputs, 0 pauses) of the same operation / theirs.")
    print("  exact: same instant (or elapsed time) as ours; ≈conv: same, or the two instants")
    print("  differ by no business time (19:00 closing vs 10:00 next opening).")
    for row in report.rows:
        if row.note:
            print(f"  {row.library} {row.operation}: {row.note}")
    for note in report.notes:
        print(f"  {note}")
    _print_section("Disagreements investigated", report.disagreements or ["none"])
    _print_section("Self-checks", [f"{text}: {value}" for text, value in report.checks.items()])
    lines = []
    for goal in report.goals:
        value = "-" if goal["value"] is None else f"{goal['value']:,.0f}{goal['unit']}"
        target = f"{goal['target']:,.0f}{goal['unit']}"
        lines.append(f"{goal['goal']:<52} ≥ {target:>12}: {value:>12}  {goal['verdict']}")
    _print_section("Goals (informational)", lines)
    print()
    print(f"Total run time: {report.seconds:.1f} s")


def _print_section(title: str, lines: Iterable[str]) -> None:
    print()
    print(title)
    for line in lines:
        print(f"  {line}")


def _cells(row: Row) -> tuple[str, ...]:
    def pct(x: float | None) -> str:
        return "" if x is None else f"{x:.2%}"

    return (
        row.library,
        row.operation,
        row.inputs,
        f"{row.cases:,}" if row.cases else "",
        "n/a" if row.ops_per_s is None else f"{row.ops_per_s:,.0f}",
        "" if row.ratio is None else f"{row.ratio:,.0f}×",
        pct(row.exact),
        pct(row.up_to_convention),
    )


def _show(moment: datetime) -> str:
    return moment.astimezone(MSK).strftime("%a %Y-%m-%d %H:%M")


def _hm(span: timedelta) -> str:
    minutes = span // timedelta(minutes=1)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _share(count: int, total: int) -> str:
    return f"{count:,}/{total:,} ({count / total:.2%})"


# --------------------------------------------------------------------- main
def describe_machine() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "missing"

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{name: version(name) for name in ("numpy", "pandas", "businesstimedelta", "holidays")},
    }


def set_ratios(report: Report) -> None:
    reference = {
        "deadline, 0 pauses": report.rate("ours", "deadline, 0 pauses"),
        "deadline, list rule": report.rate("ours", "deadline, 0 pauses"),
        "elapsed, 0 pauses": report.rate("ours", "elapsed, 0 pauses"),
    }
    for row in report.rows:
        ours = reference.get(row.operation)
        if row.library != "ours" and ours and row.ops_per_s:
            row.ratio = ours / row.ops_per_s


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cases", type=int, help=f"random cases (default {DEFAULT_CASES:,})")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_CASES:,} cases, smaller peer subsets"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if args.cases is None:
        args.cases = QUICK_CASES if args.quick else DEFAULT_CASES
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = perf_counter()
    report = Report(seed=args.seed, cases=args.cases, machine=describe_machine())
    progress(f"making {args.cases:,} cases (seed {args.seed})")
    cases = make_cases(args.cases, args.seed)
    cal = WorkCalendar(schedule=SCHEDULE, timezone=MSK, holidays=RussianProductionCalendar())

    ours = bench_ours(cal, cases, report)
    bench_batch(cal, cases, ours, report)
    check_against_oracle(cases, ours, ORACLE_QUICK_SUBSET if args.quick else ORACLE_SUBSET, report)
    btd_subset = BTD_QUICK_SUBSET if args.quick else BTD_SUBSET
    pandas_subset = PANDAS_QUICK_SUBSET if args.quick else PANDAS_SUBSET
    bench_businesstimedelta(cal, cases, ours, btd_subset, report)
    bench_pandas(cal, cases, ours, pandas_subset, report)
    set_ratios(report)
    judge_goals(report)
    report.seconds = perf_counter() - began

    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n")
    return 0
