"""Weekly working schedules: which hours of each weekday count as business time.

A schedule is written the way a regulation states it::

    mon-fri 10:00-19:00
    mon-fri 09:00-13:00,14:00-18:00; sat 10:00-14:00
    mon-fri 22:00-06:00        (a night shift: it belongs to the day it starts on)
    always                     (24/7: every instant counts, holidays do not apply)

Times are local wall-clock times of the calendar's time zone. ``24:00`` may end
a range. A range whose end is earlier than its start crosses midnight.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from reglament.domain.errors import ScheduleSyntaxError

DAY_SECONDS = 86_400

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES = {
    **{name: i for i, name in enumerate(WEEKDAY_NAMES)},
    **{name: i for i, name in enumerate(("пн", "вт", "ср", "чт", "пт", "сб", "вс"))},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_ALWAYS_WORDS = frozenset({"always", "24/7", "круглосуточно"})
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
EXAMPLE = "mon-fri 10:00-19:00; sat 10:00-14:00"


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """Working hours within one day, in seconds after local midnight.

    ``end`` may exceed one day (up to ``start + 86400``): the range then crosses
    midnight and still belongs to the day it starts on.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < DAY_SECONDS:
            raise ScheduleSyntaxError(
                f"A working range must start within the day, got {_fmt(self.start)}.",
                hint="Use a start time from 00:00 to 23:59.",
            )
        if not self.start < self.end <= self.start + DAY_SECONDS:
            raise ScheduleSyntaxError(
                f"The working range {_fmt(self.start)}-{_fmt(self.end)} is empty or longer "
                "than a day.",
                hint="Write 00:00-24:00 for a whole day, or 'always' for 24/7.",
            )

    @property
    def seconds(self) -> int:
        return self.end - self.start

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Parse ``HH:MM-HH:MM``; an end before the start crosses midnight."""
        parts = text.strip().split("-")
        if len(parts) != 2:
            raise ScheduleSyntaxError(
                f"{text.strip()!r} is not a time range.", hint="Write it like 10:00-19:00."
            )
        start = _parse_time(parts[0], allow_24=False)
        end = _parse_time(parts[1], allow_24=True)
        if end <= start:
            end += DAY_SECONDS
        if end == start + DAY_SECONDS and start != 0:
            raise ScheduleSyntaxError(
                f"The range {text.strip()!r} starts and ends at the same time.",
                hint="Write 00:00-24:00 for a whole day.",
            )
        return cls(start, end)

    def __str__(self) -> str:
        end = self.end if self.end <= DAY_SECONDS else self.end - DAY_SECONDS
        if self.start == 0 and self.end == DAY_SECONDS:
            end = DAY_SECONDS
        return f"{_fmt(self.start)}-{_fmt(end)}"


DayHours = tuple[TimeRange, ...]


@dataclass(frozen=True, slots=True)
class WeekSchedule:
    """Working hours for each weekday (Monday = 0), or 24/7 when ``always``."""

    days: tuple[DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours]
    always: bool = False

    def __post_init__(self) -> None:
        if self.always:
            return
        if not any(self.days):
            raise ScheduleSyntaxError(
                "The schedule has no working hours on any day.",
                hint=f"Give at least one day, e.g. {EXAMPLE!r}, or 'always'.",
            )
        for weekday, ranges in enumerate(self.days):
            _check_day(weekday, ranges, self.days[(weekday + 1) % 7])

    @classmethod
    def always_open(cls) -> WeekSchedule:
        whole = (TimeRange(0, DAY_SECONDS),)
        return cls(days=(whole,) * 7, always=True)

    @classmethod
    def parse(cls, text: str) -> WeekSchedule:
        """Parse the schedule notation described in this module's docstring."""
        source = text.strip()
        if source.lower() in _ALWAYS_WORDS:
            return cls.always_open()
        if not source:
            raise ScheduleSyntaxError(
                "The schedule is empty.", hint=f"Write it like {EXAMPLE!r}, or 'always'."
            )
        days: list[list[TimeRange]] = [[] for _ in range(7)]
        for clause in filter(None, (c.strip() for c in source.split(";"))):
            pieces = clause.split(None, 1)
            if len(pieces) != 2:
                raise ScheduleSyntaxError(
                    f"The clause {clause!r} needs days and hours.",
                    hint=f"Write it like {EXAMPLE!r}.",
                )
            weekdays = _parse_days(pieces[0])
            ranges = [TimeRange.parse(r) for r in pieces[1].replace(" ", "").split(",") if r]
            for weekday in weekdays:
                days[weekday].extend(ranges)
        week = tuple(tuple(sorted(d)) for d in days)
        return cls(days=week)  # type: ignore[arg-type]

    def hours(self, weekday: int) -> DayHours:
        return self.days[weekday]

    @property
    def standard_day(self) -> DayHours:
        """Hours of the first weekday (from Monday) that has any."""
        return next(d for d in self.days if d)

    def __str__(self) -> str:
        if self.always:
            return "always"
        clauses: list[str] = []
        weekday = 0
        while weekday < 7:
            ranges = self.days[weekday]
            last = weekday
            while last + 1 < 7 and self.days[last + 1] == ranges:
                last += 1
            if ranges:
                span = WEEKDAY_NAMES[weekday]
                if last > weekday:
                    span += f"-{WEEKDAY_NAMES[last]}"
                clauses.append(f"{span} {','.join(str(r) for r in ranges)}")
            weekday = last + 1
        return "; ".join(clauses)


def _check_day(weekday: int, ranges: DayHours, next_day: DayHours) -> None:
    name = WEEKDAY_NAMES[weekday]
    for before, after in itertools.pairwise(ranges):
        if after.start < before.end:
            raise ScheduleSyntaxError(
                f"On {name} the ranges {before} and {after} overlap.",
                hint="List each working range once, in order, e.g. 09:00-13:00,14:00-18:00.",
            )
    if ranges and next_day:
        spill = ranges[-1].end - DAY_SECONDS
        if spill > next_day[0].start:
            raise ScheduleSyntaxError(
                f"The {name} range {ranges[-1]} runs into the next day's range {next_day[0]}.",
                hint="A night shift must end before the next day's first range starts.",
            )


def _parse_days(text: str) -> list[int]:
    result: list[int] = []
    for part in text.lower().split(","):
        part = part.strip()
        if part in ("daily", "ежедневно"):
            result.extend(range(7))
            continue
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = _weekday(first), _weekday(last)
            result.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        else:
            result.append(_weekday(part))
    return sorted(set(result))


def _weekday(name: str) -> int:
    try:
        return _WEEKDAY_ALIASES[name.strip()]
    except KeyError:
        raise ScheduleSyntaxError(
            f"{name.strip()!r} is not a day of the week.",
            hint="Use mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri, or daily.",
        ) from None


def _parse_time(text: str, *, allow_24: bool) -> int:
    match = _TIME_RE.match(text.strip())
    if not match:
        raise ScheduleSyntaxError(f"{text.strip()!r} is not a time.", hint="Write it as HH:MM.")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if allow_24 and (hours, minutes, seconds) == (24, 0, 0):
        return DAY_SECONDS
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ScheduleSyntaxError(
            f"{text.strip()!r} is not a valid time of day.",
            hint="Hours go from 00 to 23 (24:00 may end a range), minutes from 00 to 59.",
        )
    return hours * 3600 + minutes * 60 + seconds


def _fmt(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")
