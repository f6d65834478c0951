"""Working calendars and exact business-time arithmetic (pure Python)."""

from reglament.domain.calendar.durations import Duration, WorkingDays
from reglament.domain.calendar.engine import (
    Deadline,
    Explanation,
    Interval,
    Pauses,
    WorkCalendar,
)
from reglament.domain.calendar.overrides import DateOverride
from reglament.domain.calendar.production import (
    CountryHolidays,
    HolidaySource,
    RussianProductionCalendar,
    YearDays,
    holiday_source,
)
from reglament.domain.calendar.schedule import TimeRange, WeekSchedule

__all__ = [
    "CountryHolidays",
    "DateOverride",
    "Deadline",
    "Duration",
    "Explanation",
    "HolidaySource",
    "Interval",
    "Pauses",
    "RussianProductionCalendar",
    "TimeRange",
    "WeekSchedule",
    "WorkCalendar",
    "WorkingDays",
    "YearDays",
    "holiday_source",
]
