"""A deliberately naive business-time oracle: it steps one minute at a time.

It shares no code with the engine: days off and working Saturdays come straight
from the ``holidays`` package, and every minute is judged on its own. Only
tests use it, on minute-aligned inputs, so its answers are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

MINUTE = timedelta(minutes=1)


@cache
def _russian(year: int) -> holidays.HolidayBase:
    return holidays.RU(years=year)


@dataclass
class MinuteOracle:
    timezone: str
    # weekday -> list of (start_minute, end_minute) after local midnight; end may pass 1440
    week: dict[int, list[tuple[int, int]]]
    russian_holidays: bool = False
    day_off: set[date] = field(default_factory=set)

    def _day_ranges(self, day: date) -> list[tuple[int, int]]:
        if day in self.day_off:
            return []
        if self.russian_holidays:
            calendar = _russian(day.year)
            if day in calendar:
                return []
            if day in calendar.weekend_workdays:
                return self.week[0]  # every working Saturday so far stands in for a weekday
        return self.week.get(day.weekday(), [])

    def is_working(self, t: datetime) -> bool:
        """Whether the minute starting at ``t`` counts."""
        local = t.astimezone(ZoneInfo(self.timezone))  # ZoneInfo caches its instances
        minute = local.hour * 60 + local.minute
        for back, offset in ((0, 0), (1, 1440)):
            day = local.date() - timedelta(days=back)
            for start, end in self._day_ranges(day):
                if start <= minute + offset < end:
                    return True
        return False

    def between(self, a: datetime, b: datetime, pauses=()) -> timedelta:
        t, total = a.astimezone(UTC), timedelta(0)
        while t < b:
            if self.is_working(t) and not any(p <= t < q for p, q in pauses):
                total += MINUTE
            t += MINUTE
        return total

    def add(self, start: datetime, duration: timedelta, pauses=()) -> datetime:
        t, left = start.astimezone(UTC), duration
        while left > timedelta(0):
            if self.is_working(t) and not any(p <= t < q for p, q in pauses):
                left -= MINUTE
            t += MINUTE
        return t
