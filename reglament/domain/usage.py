"""Usage accounting (R4.5): what a tariff counts in one period, from plain data.

A tariff counts support either **per request** (a request counts one unit in
the period in which it is resolved; reopened within the regulation's reopen
window it is not counted again) or **per hour**, in whole increments of the
tariff (0.5 h on Krizhik's Reliable: 20 min → 0.5 h, 31 min → 1 h). The rules
are written out in docs/usage.md; this module is their only implementation.

Pure: no Django. Instants are timezone-aware; the period is a calendar month in
the time zone of the regulation's default calendar.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo

from reglament.domain.calendar import Duration, WorkCalendar
from reglament.domain.errors import DomainError, NaiveDatetimeError
from reglament.domain.regulation.model import Usage

MINUTES_PER_HOUR = 60
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class UsageError(DomainError):
    """Usage accounting was asked something it cannot answer (a bad period, minutes…)."""

    code = "usage_invalid"


# ---------------------------------------------------------------------------- periods
@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar month, e.g. ``2026-11``, read in some time zone."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9998:
            raise UsageError(
                f"{self.year:04d}-{self.month:02d} is not a month.",
                hint="Write a period as YYYY-MM, e.g. 2026-11.",
            )

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-11`` → Period(2026, 11); anything else is a UsageError saying how to write it."""
        match = _PERIOD.match(text.strip())
        if match is None:
            raise UsageError(
                f"{text!r} is not a period.", hint="Write a period as YYYY-MM, e.g. 2026-11."
            )
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, instant: datetime, zone: ZoneInfo) -> Period:
        """The month ``instant`` falls in, on the wall clocks of ``zone``."""
        local = _aware(instant).astimezone(zone)
        return cls(local.year, local.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def start(self, zone: ZoneInfo) -> datetime:
        """The first instant of the month in ``zone`` (local midnight of the 1st)."""
        return datetime.combine(self.first_day, time(0), tzinfo=zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """The first instant after the month (exclusive end)."""
        return self.next().start(zone)

    def contains(self, instant: datetime, zone: ZoneInfo) -> bool:
        return Period.of(instant, zone) == self

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{instant.isoformat()} has no time zone.", hint="Give instants with a UTC offset."
        )
    return instant


# ---------------------------------------------------------------------------- rounding
def round_up_hours(minutes: int, increment: Decimal) -> Decimal:
    """Minutes → hours, rounded **up** to a whole number of increments (exact, no floats).

    0 → 0; with 0.5 h: 1…30 min → 0.5, 31…60 → 1.0, 61 → 1.5. It is applied to
    the billable total of one request in one period, never per entry (twelve
    5-minute entries are 60 minutes → 1.0 h, not 12 × 0.5 h).
    """
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise UsageError(f"{minutes!r} is not a number of minutes ≥ 0.")
    if not increment.is_finite() or increment <= 0:
        raise UsageError(f"{increment} is not a positive increment of hours.")
    if minutes == 0:
        return Decimal(0)
    steps = math.ceil(Fraction(minutes) / (Fraction(increment) * MINUTES_PER_HOUR))
    return steps * increment


def hours(minutes: int) -> Decimal:
    """Raw minutes as hours, exact to 1/100 h only when they are (for display; 20 min → 0.33)."""
    return (Decimal(minutes) / MINUTES_PER_HOUR).quantize(Decimal("0.01"))


# ------------------------------------------------------------------ requests resolved
@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status change from a request's log: when, into a final status, with what resolution."""

    at: datetime
    final: bool
    resolution: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment that matters for counting per request: resolved, or reopened."""

    at: datetime
    kind: Literal["resolved", "reopened"]


def marks_from_status_changes(changes: Sequence[StatusChange]) -> tuple[Mark, ...]:
    """Resolutions and reopenings from a request's status changes, oldest first.

    A *resolution* is entering a final status with a resolution from an open
    status (a move between two final statuses resolves nothing again; closing
    without a resolution — a requester closing their own request — is no
    resolution). A *reopening* is leaving a final status for an open one.
    """
    marks: list[Mark] = []
    closed = False
    for change in changes:
        if change.final:
            if change.resolution and not closed:
                marks.append(Mark(change.at, "resolved"))
            closed = True
        else:
            if closed:
                marks.append(Mark(change.at, "reopened"))
            closed = False
    return tuple(marks)


def window_end(calendar: WorkCalendar, resolved_at: datetime, window: Duration) -> datetime:
    """The last instant at which a reopening is still "within the window" (inclusive)."""
    return calendar.add(resolved_at, window)


def counted_resolutions(
    marks: Sequence[Mark], *, calendar: WorkCalendar, window: Duration
) -> tuple[datetime, ...]:
    """The resolutions that count a unit, in the request's whole history.

    The first resolution counts. After it, a reopening at or before
    ``window`` (business time of ``calendar``) after the latest resolution means
    the next resolution is the same task and does not count; a reopening later
    than that means the next resolution counts again.
    """
    counted: list[datetime] = []
    pending = True  # whether the next resolution counts
    last_resolution: datetime | None = None
    for mark in sorted(marks, key=lambda m: m.at):
        if mark.kind == "resolved":
            if pending:
                counted.append(mark.at)
                pending = False
            last_resolution = mark.at
        elif last_resolution is not None and mark.at > window_end(
            calendar, last_resolution, window
        ):
            pending = True
    return tuple(counted)


# ---------------------------------------------------------------------- the computation
@dataclass(frozen=True, slots=True)
class Entry:
    """One (not voided) time entry: minutes of work on a request, performed at an instant."""

    ticket: str
    minutes: int
    performed_at: datetime
    billable: bool = True


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One request's usage in a period: the raw time and what it counts."""

    ticket: str
    billable_minutes: int
    non_billable_minutes: int
    entries: int
    resolved_at: datetime | None  # the latest resolution before the period's end
    counted_at: tuple[datetime, ...]  # per request: the resolutions counted in this period
    units: Decimal  # hours (rounded up) or requests


@dataclass(frozen=True, slots=True)
class UsageSummary:
    period: Period
    unit: Literal["request", "hour"]
    increment: Decimal
    lines: tuple[UsageLine, ...]

    @property
    def units(self) -> Decimal:
        return sum((line.units for line in self.lines), Decimal(0))

    @property
    def billable_minutes(self) -> int:
        return sum(line.billable_minutes for line in self.lines)

    @property
    def non_billable_minutes(self) -> int:
        return sum(line.non_billable_minutes for line in self.lines)


def usage_compute(
    *,
    usage: Usage,
    period: Period,
    calendar: WorkCalendar,
    entries: Iterable[Entry],
    status_changes: Mapping[str, Sequence[StatusChange]],
) -> UsageSummary:
    """The usage of one contract in one period, per request.

    ``entries`` are the contract's time entries (others are ignored by period);
    ``status_changes`` each request's status changes, oldest first, at least up
    to the period's end. A request gets a line when it has time in the period
    or (per request) a resolution counted in it.
    """
    zone = calendar.timezone
    end = period.end(zone)
    billable: dict[str, int] = defaultdict(int)
    non_billable: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for entry in entries:
        if not period.contains(entry.performed_at, zone):
            continue
        if entry.minutes <= 0:
            raise UsageError(f"A time entry of {entry.ticket} has {entry.minutes} minutes.")
        count[entry.ticket] += 1
        if entry.billable:
            billable[entry.ticket] += entry.minutes
        else:
            non_billable[entry.ticket] += entry.minutes
    resolved_at: dict[str, datetime | None] = {}
    counted_here: dict[str, tuple[datetime, ...]] = {}
    for ticket, changes in status_changes.items():
        marks = tuple(m for m in marks_from_status_changes(changes) if m.at < end)
        resolutions = [m.at for m in marks if m.kind == "resolved"]
        resolved_at[ticket] = max(resolutions, default=None)
        counted = counted_resolutions(marks, calendar=calendar, window=usage.reopen_window)
        counted_here[ticket] = tuple(t for t in counted if period.contains(t, zone))
    tickets = set(count)
    if usage.unit == "request":
        tickets |= {ticket for ticket, counted in counted_here.items() if counted}
    lines = []
    for ticket in sorted(tickets):
        counted = counted_here.get(ticket, ())
        units = (
            Decimal(len(counted))
            if usage.unit == "request"
            else round_up_hours(billable[ticket], usage.increment)
        )
        lines.append(
            UsageLine(
                ticket=ticket,
                billable_minutes=billable[ticket],
                non_billable_minutes=non_billable[ticket],
                entries=count[ticket],
                resolved_at=resolved_at.get(ticket),
                counted_at=counted,
                units=units,
            )
        )
    return UsageSummary(period, usage.unit, usage.increment, tuple(lines))


# ---------------------------------------------------------------------------- allowance
@dataclass(frozen=True, slots=True)
class Balance:
    """A prepaid allowance against what was used: ``remaining`` is negative once exceeded."""

    allowance: Decimal | None  # None: the contract has no prepaid allowance for the period
    used: Decimal

    @property
    def remaining(self) -> Decimal | None:
        return None if self.allowance is None else self.allowance - self.used

    @property
    def exceeded(self) -> bool:
        """Used beyond the allowance; using exactly all of it is not exceeding it."""
        return self.allowance is not None and self.used > self.allowance
