"""The business-time engine: exact deadlines and elapsed times on a working calendar.

Working time is kept as a sorted list of working intervals in UTC microseconds
with prefix sums of their lengths, so every query is two binary searches and a
few additions: O(log n), never a loop over minutes or days. The table covers a
range of local years and grows lazily (and atomically: a query only ever reads
one table object) when a query reaches outside it.

Conventions (docs/sla-semantics.md explains them with examples):
- An interval is open at its start and closed at its end: at 19:00 a
  10:00–19:00 calendar is closed, and a deadline that lands exactly at closing
  time is that closing instant, not the next opening.
- Pauses are wall-clock periods; business time inside them does not count.
- Results are exact to the microsecond; only aware datetimes are accepted.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reglament.domain.calendar.durations import Duration, WorkingDays
from reglament.domain.calendar.overrides import DateOverride
from reglament.domain.calendar.production import HolidaySource, YearDays
from reglament.domain.calendar.schedule import DayHours, TimeRange, WeekSchedule
from reglament.domain.errors import CalendarError, NaiveDatetimeError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

US = 1_000_000
_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - only ever subtracted from a UTC wall time
_MIN_YEAR = 1900
_MAX_YEAR = 9990
_MIN_US = -(2**62)
_BARREN_YEARS = 10  # years of growth without any working time before giving up
_PRE_HOLIDAY_CUT = 3600


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open period [start, end) of wall-clock time."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def __iter__(self) -> Iterator[datetime]:
        yield self.start
        yield self.end


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a span holds the business time it does: the counted and paused pieces."""

    start: datetime
    end: datetime
    counted: tuple[Interval, ...]
    paused: tuple[Interval, ...]
    total: timedelta
    provisional: bool


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline with everything needed to show how it was reached."""

    start: datetime
    duration: Duration
    business_time: timedelta
    due: datetime
    provisional: bool
    explanation: Explanation


PauseLike = tuple[datetime, datetime] | Interval


class Pauses:
    """Pauses checked, sorted and merged once, for reuse across many queries.

    A request's pauses (its time in Clarification, say) come from its event
    log; the clocks of all its metrics are computed against the same pauses, so
    they are normalised once here instead of on every call. Any query taking
    ``pauses`` accepts either this or a plain sequence of (start, end) pairs.
    """

    __slots__ = ("_spans",)

    def __init__(self, pauses: Iterable[PauseLike] = ()) -> None:
        self._spans: tuple[tuple[int, int], ...] = tuple(_merged_pauses(pauses, _MIN_US, None))

    def __len__(self) -> int:
        return len(self._spans)

    def __iter__(self) -> Iterator[Interval]:
        for a, b in self._spans:
            yield Interval(_utc(a), _utc(b))

    def __repr__(self) -> str:
        return f"Pauses({[(i.start.isoformat(), i.end.isoformat()) for i in self]})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pauses) and other._spans == self._spans

    def __hash__(self) -> int:
        return hash(self._spans)

    def spans(self, lo: int, hi: int | None) -> Sequence[tuple[int, int]]:
        """The spans in microseconds, clipped to [lo, hi]."""
        spans = self._spans
        if not spans or (spans[0][0] >= lo and (hi is None or spans[-1][1] <= hi)):
            return spans
        clipped = []
        for a, b in spans:
            if a < lo:
                a = lo
            if hi is not None and b > hi:
                b = hi
            if a < b:
                clipped.append((a, b))
        return clipped


PausesArg = Pauses | Sequence[PauseLike]


class _Table:
    """One immutable snapshot of the working intervals of years ``y0..y1``."""

    __slots__ = ("cum", "cum_end", "day_end", "day_start", "ends", "hi", "lo", "starts", "y0", "y1")

    def __init__(
        self,
        *,
        y0: int,
        y1: int,
        lo: int,
        hi: int,
        starts: list[int],
        ends: list[int],
        cum: list[int],
        cum_end: list[int],
        day_start: list[int],
        day_end: list[int],
    ) -> None:
        self.y0, self.y1, self.lo, self.hi = y0, y1, lo, hi
        self.starts, self.ends, self.cum, self.cum_end = starts, ends, cum, cum_end
        self.day_start, self.day_end = day_start, day_end

    def business(self, t: int) -> int:
        """Business microseconds from the table's origin up to ``t`` (``t`` covered)."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.cum[i] + (t if t < end else end) - self.starts[i]


class WorkCalendar:
    """Working time in one time zone: a weekly schedule, holidays and date overrides.

    >>> cal = WorkCalendar(schedule="mon-fri 10:00-19:00", timezone="Europe/Moscow",
    ...                    holidays=RussianProductionCalendar())
    >>> cal.add(datetime.fromisoformat("2024-12-27T18:00+03:00"), timedelta(hours=4))
    datetime.datetime(2024, 12, 28, 13, 0, tzinfo=zoneinfo.ZoneInfo(key='Europe/Moscow'))
    """

    __slots__ = (
        "_arrays",
        "_holidays",
        "_overrides",
        "_provisional_from",
        "_schedule",
        "_shortened",
        "_table",
        "_tz",
    )

    def __init__(
        self,
        *,
        schedule: WeekSchedule | str,
        timezone: str | ZoneInfo = "Europe/Moscow",
        holidays: HolidaySource | None = None,
        overrides: Iterable[DateOverride] = (),
        shortened_pre_holiday: bool = False,
    ) -> None:
        self._schedule = WeekSchedule.parse(schedule) if isinstance(schedule, str) else schedule
        self._tz = timezone if isinstance(timezone, ZoneInfo) else _zone(timezone)
        self._holidays = None if self._schedule.always else holidays
        self._overrides: dict[date, DateOverride] = {}
        for override in overrides:
            if override.day in self._overrides:
                raise CalendarError(
                    f"The date {override.day} is overridden twice.",
                    hint="Give one override per date.",
                )
            self._overrides[override.day] = override
        self._shortened = shortened_pre_holiday
        horizon = self._holidays.horizon if self._holidays is not None else None
        self._provisional_from: int | None = (
            None if horizon is None else self._local_us(date(horizon + 1, 1, 1), 0)
        )
        self._table: _Table | None = None
        self._arrays: tuple[Any, ...] | None = None

    # ----------------------------------------------------------------- describe
    @property
    def timezone(self) -> ZoneInfo:
        return self._tz

    @property
    def schedule(self) -> WeekSchedule:
        return self._schedule

    @property
    def holidays(self) -> HolidaySource | None:
        return self._holidays

    @property
    def overrides(self) -> tuple[DateOverride, ...]:
        return tuple(sorted(self._overrides.values(), key=lambda o: o.day))

    @property
    def shortened_pre_holiday(self) -> bool:
        return self._shortened

    @property
    def horizon(self) -> int | None:
        """The last year whose holidays are known for certain; ``None``: all are."""
        return self._holidays.horizon if self._holidays is not None else None

    @property
    def provisional_from(self) -> datetime | None:
        """Results reaching this instant or later are provisional."""
        return None if self._provisional_from is None else self._to_dt(self._provisional_from)

    def __repr__(self) -> str:
        source = self._holidays.name if self._holidays is not None else "none"
        return (
            f"WorkCalendar(schedule={str(self._schedule)!r}, timezone={self._tz.key!r}, "
            f"holidays={source!r}, overrides={len(self._overrides)}, "
            f"shortened_pre_holiday={self._shortened})"
        )

    def hours_on(self, day: date) -> DayHours:
        """The working hours of one local date, after holidays and overrides."""
        return self._day_ranges(day, self._holidays.year(day.year) if self._holidays else None)

    # ------------------------------------------------------------------ queries
    def add(self, start: datetime, duration: Duration, pauses: PausesArg = ()) -> datetime:
        """The earliest instant at which business time since ``start``, minus the
        business time inside ``pauses``, reaches ``duration``."""
        s = _to_us(start)
        if type(duration) is timedelta:
            d = (duration.days * 86_400 + duration.seconds) * US + duration.microseconds
            if d < 0:
                self._business_us(s, duration)  # raises the error
        else:
            d = self._business_us(s, duration)
        due = self._deadline_us(s, d, pauses) if pauses or d == 0 else self._add_us(s, d)
        seconds, micro = divmod(due, US)
        moment = datetime.fromtimestamp(seconds, self._tz)
        return moment.replace(microsecond=micro) if micro else moment

    def between(self, a: datetime, b: datetime, pauses: PausesArg = ()) -> timedelta:
        """Business time in [a, b] outside ``pauses``."""
        x, y = _span_us(a, b)
        return timedelta(microseconds=self._between_us(x, y, pauses))

    def is_open(self, t: datetime) -> bool:
        """Whether ``t`` is inside working time (openings count, closings do not)."""
        u = _to_us(t)
        tb = self._covering(u)
        i = bisect_right(tb.starts, u) - 1
        return i >= 0 and u < tb.ends[i]

    def next_open(self, t: datetime) -> datetime:
        """``t`` itself if open, else the next opening."""
        u = _to_us(t)
        tb = self._covering(u)
        while True:
            i = bisect_right(tb.starts, u) - 1
            if i >= 0 and u < tb.ends[i]:
                return self._to_dt(u)
            if i + 1 < len(tb.starts):
                return self._to_dt(tb.starts[i + 1])
            tb = self._grow(tb)

    def deadline(self, start: datetime, duration: Duration, pauses: PausesArg = ()) -> Deadline:
        """Like :meth:`add`, with the business time it stands for and an explanation."""
        s = _to_us(start)
        business = self._business_us(s, duration)
        due_us = self._deadline_us(s, business, pauses)
        due = self._to_dt(due_us)
        explanation = self._explain_us(s, due_us, pauses)
        return Deadline(
            start=start,
            duration=duration,
            business_time=timedelta(microseconds=business),
            due=due,
            provisional=explanation.provisional,
            explanation=explanation,
        )

    def explain(self, a: datetime, b: datetime, pauses: PausesArg = ()) -> Explanation:
        """The working intervals counted in [a, b], and those removed by pauses."""
        x, y = _span_us(a, b)
        return self._explain_us(x, y, pauses)

    def working_days_between(
        self, a: datetime, b: datetime, pauses: PausesArg = ()
    ) -> tuple[int, timedelta]:
        """Whole working days in [a, b] (as :class:`WorkingDays` counts them) and the rest."""
        x, y = _span_us(a, b)

        def reached(n: int) -> int:
            return self._deadline_us(x, self._working_days_us(x, n), pauses)

        low, high = 0, 1
        while reached(high) <= y:
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            if reached(middle) <= y:
                low = middle
            else:
                high = middle
        rest = self._between_us(reached(low), y, pauses) if low else self._between_us(x, y, pauses)
        return low, timedelta(microseconds=rest)

    # ------------------------------------------------------------- batch (NumPy)
    def add_many(
        self, starts: npt.NDArray[Any], durations: npt.NDArray[Any]
    ) -> npt.NDArray[np.datetime64]:
        """Deadlines for many starts at once: UTC ``datetime64[us]`` in, out."""
        from reglament.domain.calendar import batch

        return batch.add_many(self, starts, durations)

    def between_many(
        self, starts: npt.NDArray[Any], ends: npt.NDArray[Any]
    ) -> npt.NDArray[np.timedelta64]:
        """Business time for many spans: UTC ``datetime64[us]`` in, ``timedelta64[us]`` out."""
        from reglament.domain.calendar import batch

        return batch.between_many(self, starts, ends)

    # ---------------------------------------------------------------- internals
    def _business_us(self, s: int, duration: Duration) -> int:
        if isinstance(duration, timedelta):
            d: int = duration // _ONE_US
            if d < 0:
                raise CalendarError(
                    f"The duration {duration} is negative.", hint="Give a duration ≥ 0."
                )
            return d
        if isinstance(duration, WorkingDays):
            return self._working_days_us(s, duration.count)
        raise CalendarError(
            f"{duration!r} is not a duration.",
            hint="Give a datetime.timedelta (hours, minutes) or WorkingDays(n).",
        )

    def _deadline_us(self, s: int, d: int, pauses: PausesArg) -> int:
        """The deadline ``d`` business microseconds after ``s``, pauses excluded.

        Each pause that starts before the running target is reached pushes the
        target on by the business time it holds; the answer is the earliest
        instant at which the pushed target is reached.
        """
        if d == 0:
            return s
        spans = _merged_pauses(pauses, s, None) if pauses else ()
        tb = self._spanning(s, spans[-1][1]) if spans else self._covering(s)
        while True:
            business = tb.business
            target = business(s) + d
            for ps, pe in spans:
                held = business(ps)
                if held >= target:
                    break
                target += business(pe) - held
            cum_end = tb.cum_end
            i = bisect_left(cum_end, target)
            if i < len(cum_end):
                return tb.starts[i] + target - tb.cum[i]
            tb = self._grow(tb)

    def _add_us(self, t: int, d: int) -> int:
        tb = self._table
        if tb is None or not tb.lo <= t < tb.hi:
            tb = self._covering(t)
        while True:
            starts = tb.starts
            i = bisect_right(starts, t) - 1
            if i < 0:
                target = d
            else:
                end = tb.ends[i]
                target = tb.cum[i] + (t if t < end else end) - starts[i] + d
            cum_end = tb.cum_end
            i = bisect_left(cum_end, target)
            if i < len(cum_end):
                return starts[i] + target - tb.cum[i]
            tb = self._grow(tb)

    def _working_days_us(self, s: int, n: int) -> int:
        if n == 0:
            return 0
        tb = self._covering(s)
        while True:
            b = tb.business(s)
            day_start, day_end = tb.day_start, tb.day_end
            k = bisect_right(day_start, b) - 1
            if k >= 0 and b < day_end[k]:
                offset = b - day_start[k]
            else:
                k, offset = k + 1, 0
            j = k + n
            if j < len(day_start):
                length = day_end[j] - day_start[j]
                return day_start[j] + (offset if offset < length else length) - b
            tb = self._grow(tb)

    def _between_us(self, x: int, y: int, pauses: PausesArg) -> int:
        tb = self._spanning(x, y)
        total = tb.business(y) - tb.business(x)
        for ps, pe in _merged_pauses(pauses, x, y) if pauses else ():
            total -= tb.business(pe) - tb.business(ps)
        return total

    def _explain_us(self, x: int, y: int, pauses: PausesArg) -> Explanation:
        tb = self._spanning(x, y)
        pieces: list[tuple[int, int]] = []
        i = max(bisect_right(tb.starts, x) - 1, 0)
        while i < len(tb.starts) and tb.starts[i] < y:
            a, b = max(tb.starts[i], x), min(tb.ends[i], y)
            if a < b:
                pieces.append((a, b))
            i += 1
        counted: list[tuple[int, int]] = []
        paused: list[tuple[int, int]] = []
        merged = _merged_pauses(pauses, x, y) if pauses else []
        for a, b in pieces:
            cursor = a
            for ps, pe in merged:
                if pe <= cursor or ps >= b:
                    continue
                if ps > cursor:
                    counted.append((cursor, ps))
                paused.append((max(ps, cursor), min(pe, b)))
                cursor = min(pe, b)
            if cursor < b:
                counted.append((cursor, b))
        total = sum(b - a for a, b in counted)
        return Explanation(
            start=self._to_dt(x),
            end=self._to_dt(y),
            counted=tuple(Interval(self._to_dt(a), self._to_dt(b)) for a, b in counted),
            paused=tuple(Interval(self._to_dt(a), self._to_dt(b)) for a, b in paused),
            total=timedelta(microseconds=total),
            provisional=self._provisional_from is not None and y >= self._provisional_from,
        )

    def _to_dt(self, u: int) -> datetime:
        seconds, micro = divmod(u, US)
        moment = datetime.fromtimestamp(seconds, self._tz)
        return moment.replace(microsecond=micro) if micro else moment

    # ------------------------------------------------------------ table upkeep
    def _covering(self, u: int) -> _Table:
        tb = self._table
        if tb is not None and tb.lo <= u < tb.hi:
            return tb
        year = _local_year(u, self._tz)
        if tb is None:
            y0, y1 = year - 1, year + 1
        else:
            y0, y1 = min(tb.y0, year), max(tb.y1, year)
        return self._build(y0, y1)

    def _spanning(self, x: int, y: int) -> _Table:
        """One table covering both ``x`` ≤ ``y`` (tables only ever grow)."""
        tb = self._covering(x)
        return tb if y < tb.hi else self._covering(y)

    def _grow(self, tb: _Table) -> _Table:
        """A table reaching further into the future than ``tb``.

        Callers recompute every business-time value from the returned table:
        values from different tables are not comparable (their origins differ).
        """
        latest = self._table if self._table is not None else tb
        if latest.y1 > tb.y1 and latest.y0 <= tb.y0:
            return latest
        y1 = max(latest.y1, tb.y1 + max(1, tb.y1 - tb.y0 + 1))
        grown = self._build(min(latest.y0, tb.y0), y1)
        if (not grown.ends or grown.ends[-1] <= tb.hi) and y1 - tb.y1 >= _BARREN_YEARS:
            raise CalendarError(
                f"The calendar has no working time from {tb.y1 + 1} to {y1}.",
                hint="Check the schedule and the date overrides.",
            )
        return grown

    def _build(self, y0: int, y1: int) -> _Table:
        if y0 < _MIN_YEAR or y1 > _MAX_YEAR:
            raise CalendarError(
                f"The calendar covers years {_MIN_YEAR} to {_MAX_YEAR}; "
                f"this query needs {y0 if y0 < _MIN_YEAR else y1}.",
                hint="Check the instants and durations given.",
            )
        starts: list[int] = []
        ends: list[int] = []
        cum: list[int] = []
        cum_end: list[int] = []
        day_start: list[int] = []
        day_end: list[int] = []
        total = 0
        # Start one day early so a night shift from 31 December counts in full.
        day = date(y0, 1, 1) - _ONE_DAY
        last = date(y1, 12, 31)
        year_days: YearDays | None = None
        year_of_days = 0
        while day <= last:
            if self._holidays is not None and day.year != year_of_days:
                year_days, year_of_days = self._holidays.year(day.year), day.year
            before = total
            for hours in self._day_ranges(day, year_days):
                a = self._local_us(day, hours.start)
                b = self._local_us(day, hours.end)
                if starts and a < ends[-1]:
                    a = ends[-1]  # a DST fold or an override overlapping a night shift
                if b <= a:
                    continue
                if starts and a == ends[-1]:
                    ends[-1] = b
                else:
                    starts.append(a)
                    ends.append(b)
                    cum.append(total)
                    cum_end.append(total)
                total += b - a
                cum_end[-1] = total
            if total > before:
                day_start.append(before)
                day_end.append(total)
            day += _ONE_DAY
        table = _Table(
            y0=y0,
            y1=y1,
            lo=self._local_us(date(y0, 1, 1), 0),
            hi=self._local_us(date(y1 + 1, 1, 1), 0),
            starts=starts,
            ends=ends,
            cum=cum,
            cum_end=cum_end,
            day_start=day_start,
            day_end=day_end,
        )
        self._table = table
        return table

    def _day_ranges(self, day: date, year_days: YearDays | None) -> DayHours:
        override = self._overrides.get(day)
        if override is not None:
            return self._schedule.standard_day if override.hours is None else override.hours
        weekday_hours = self._schedule.hours(day.weekday())
        if year_days is None:
            return weekday_hours
        if day in year_days.working:
            if not weekday_hours:
                swapped = year_days.working[day]
                weekday_hours = (
                    self._schedule.hours(swapped) if swapped is not None else ()
                ) or self._schedule.standard_day
        elif day in year_days.days_off:
            return ()
        if self._shortened and weekday_hours and day in year_days.pre_holiday:
            return _shorten(weekday_hours, _PRE_HOLIDAY_CUT)
        return weekday_hours

    def _local_us(self, day: date, seconds: int) -> int:
        """The instant a wall-clock time of ``day`` names.

        A repeated wall time (clocks going back) names its first occurrence; a
        skipped one (clocks going forward) names the moment the clocks jump, the
        first instant whose wall time is not earlier.
        """
        wall = datetime.combine(day, time(0), tzinfo=self._tz) + timedelta(seconds=seconds)
        first = _to_us(wall)
        second = _to_us(wall.replace(fold=1))
        if second >= first:
            return first
        naive = wall.replace(tzinfo=None)
        low, high = second, first  # the jump lies in (low, high]
        while high - low > US:
            middle = (low + high) // 2 // US * US
            if middle <= low:
                break
            local = datetime.fromtimestamp(middle // US, self._tz).replace(tzinfo=None)
            if local >= naive:
                high = middle
            else:
                low = middle
        return high


def _zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(
            f"{key!r} is not a known time zone.",
            hint="Use an IANA name such as Europe/Moscow, Asia/Vladivostok or Europe/Berlin.",
        ) from None


def _utc(u: int) -> datetime:
    return _EPOCH + timedelta(microseconds=u)


def _local_year(u: int, tz: ZoneInfo) -> int:
    try:
        return (_EPOCH + timedelta(microseconds=u)).astimezone(tz).year
    except OverflowError:
        return _MIN_YEAR - 1 if u < 0 else _MAX_YEAR + 1


def _to_us(value: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (the hot path)."""
    try:
        tzinfo = value.tzinfo
        if tzinfo is UTC:
            stamp = value.timestamp()
            if stamp >= 0:
                return int(stamp) * US + value.microsecond
        result: int = (
            value.replace(tzinfo=None) - _NAIVE_EPOCH - tzinfo.utcoffset(value)  # type: ignore[union-attr,operator]
        ) // _ONE_US
        return result
    except (AttributeError, TypeError):
        pass
    if not isinstance(value, datetime):
        raise CalendarError(
            f"{value!r} is not a datetime.", hint="Give an aware datetime.datetime."
        )
    raise NaiveDatetimeError(
        f"The datetime {value.isoformat()} has no time zone.",
        hint="Give an aware datetime, e.g. 2024-12-27T18:00:00+03:00.",
    )


def _span_us(a: datetime, b: datetime) -> tuple[int, int]:
    """Both ends of [a, b] in microseconds; an end before its start is refused."""
    x, y = _to_us(a), _to_us(b)
    if y < x:
        raise CalendarError(
            f"The end {b.isoformat()} is before the start {a.isoformat()}.",
            hint="Swap the two instants.",
        )
    return x, y


def _merged_pauses(
    pauses: Iterable[PauseLike], lo: int, hi: int | None
) -> Sequence[tuple[int, int]]:
    """Pauses as sorted, disjoint microsecond spans clipped to [lo, hi]."""
    if pauses.__class__ is Pauses:
        return pauses.spans(lo, hi)
    spans: list[tuple[int, int]] = []
    ordered = True
    last = lo
    try:
        for first, second in pauses:
            a, b = _to_us(first), _to_us(second)
            if b < a:
                raise CalendarError(
                    f"A pause ends ({second.isoformat()}) before it starts ({first.isoformat()}).",
                    hint="Give each pause as (start, end) with start ≤ end.",
                )
            if a < lo:
                a = lo
            if hi is not None and b > hi:
                b = hi
            if a < b:
                if a < last:
                    ordered = False
                last = b
                spans.append((a, b))
    except (TypeError, ValueError) as error:
        if isinstance(error, CalendarError):
            raise
        raise CalendarError(
            "Each pause must be a (start, end) pair of aware datetimes.",
            hint="Give pauses like [(datetime(...), datetime(...))].",
        ) from None
    if ordered:
        return spans
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _shorten(hours: DayHours, cut: int) -> DayHours:
    """The same hours with ``cut`` seconds taken off the end of the day."""
    result = list(hours)
    while cut > 0 and result:
        last = result.pop()
        if last.seconds > cut:
            result.append(TimeRange(last.start, last.end - cut))
            break
        cut -= last.seconds
    return tuple(result)
