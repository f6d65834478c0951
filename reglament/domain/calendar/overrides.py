"""Per-date exceptions to a calendar: an extra day off, an extra working day, other hours."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from reglament.domain.calendar.schedule import DayHours, TimeRange
from reglament.domain.errors import CalendarError

EXAMPLES = "2025-12-31=off, 2025-12-27=work, 2025-12-30=10:00-15:00"


@dataclass(frozen=True, slots=True)
class DateOverride:
    """Hours that replace whatever the schedule and the holidays say for ``day``.

    ``hours`` empty: a day off. ``hours`` ``None``: a working day with the
    schedule's standard hours (those of its first working weekday).
    """

    day: date
    hours: DayHours | None

    @classmethod
    def day_off(cls, day: date) -> DateOverride:
        return cls(day, ())

    @classmethod
    def working(cls, day: date, hours: DayHours | None = None) -> DateOverride:
        return cls(day, hours)

    @classmethod
    def parse(cls, text: str) -> DateOverride:
        """Parse ``YYYY-MM-DD=off``, ``=work`` or ``=HH:MM-HH:MM[,HH:MM-HH:MM]``."""
        day_text, sep, value = text.strip().partition("=")
        if not sep:
            raise CalendarError(
                f"The date override {text.strip()!r} has no '='.", hint=f"Examples: {EXAMPLES}."
            )
        try:
            day = date.fromisoformat(day_text.strip())
        except ValueError:
            raise CalendarError(
                f"{day_text.strip()!r} in the date override is not a date.",
                hint="Write the date as YYYY-MM-DD.",
            ) from None
        value = value.strip().lower()
        if value in ("off", "holiday", "выходной"):
            return cls.day_off(day)
        if value in ("work", "working", "рабочий"):
            return cls.working(day)
        ranges = tuple(sorted(TimeRange.parse(r) for r in value.split(",") if r.strip()))
        if not ranges:
            raise CalendarError(
                f"The date override {text.strip()!r} gives no hours.", hint=f"Examples: {EXAMPLES}."
            )
        for before, after in itertools.pairwise(ranges):
            if after.start < before.end:
                raise CalendarError(
                    f"The override for {day} has overlapping ranges {before} and {after}."
                )
        return cls(day, ranges)

    def __str__(self) -> str:
        if self.hours is None:
            return f"{self.day}=work"
        if not self.hours:
            return f"{self.day}=off"
        return f"{self.day}=" + ",".join(str(r) for r in self.hours)
