"""Holiday sources: which dates are days off, working weekends and pre-holiday days.

The Russian production calendar ("производственный календарь") is built from the
``holidays`` package: public holidays, transferred days off **and** the working
Saturdays it lists in ``weekend_workdays``. Years after the last one the package
knows decrees for (its ``horizon``) still get weekends and the fixed public
holidays, but every result that reaches into them is flagged ``provisional``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Protocol

import holidays as holidays_lib

from reglament.domain.errors import CalendarError

_ONE_DAY = timedelta(days=1)
_SUBSTITUTED_FROM = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")


@dataclass(frozen=True, slots=True)
class YearDays:
    """What a holiday source says about one calendar year.

    ``working`` maps each working weekend day to the weekday whose hours it
    works (the weekday of the day off it was swapped with), or ``None`` when
    the source does not say: the schedule's first working weekday is used then.
    ``pre_holiday`` lists the dates Labour Code art. 95 shortens by one hour if
    they are working days; calendars apply it only when asked to.
    """

    days_off: frozenset[date] = frozenset()
    working: dict[date, int | None] = field(default_factory=dict)
    pre_holiday: frozenset[date] = frozenset()


class HolidaySource(Protocol):
    """Anything that can tell a calendar about the days of a year."""

    @property
    def name(self) -> str: ...

    @property
    def horizon(self) -> int | None:
        """The last year whose data is authoritative; ``None``: every year is."""
        ...

    def year(self, year: int) -> YearDays: ...


@dataclass(frozen=True, slots=True)
class RussianProductionCalendar:
    """The Russian production calendar: holidays, transfers and working Saturdays.

    A working Saturday works the hours of the weekday whose day off it was
    swapped with (2024-11-02 works as Tuesday 2024-04-30, the day it freed).
    Art. 95 pre-holiday days: the day right before a non-working public holiday,
    and a working weekend day whose swapped day off comes right before one
    (2024-11-02, as the stand-in for 2024-04-30 before 1 May).
    """

    name: str = "RU"

    @property
    def horizon(self) -> int | None:
        return _russian_horizon()

    def year(self, year: int) -> YearDays:
        return _russian_year(year)


@dataclass(frozen=True, slots=True)
class CountryHolidays:
    """Public holidays of any country the ``holidays`` package knows.

    Every year is taken as authoritative (``horizon`` is ``None``): for most
    countries the package computes holidays from fixed rules.
    """

    country: str
    subdivision: str | None = None

    def __post_init__(self) -> None:
        supported = holidays_lib.list_supported_countries()
        if self.country.upper() not in supported:
            raise CalendarError(
                f"The country code {self.country!r} is unknown to the holidays data.",
                hint="Use an ISO 3166-1 alpha-2 code such as RU, DE, KZ, or 'none'.",
            )

    @property
    def name(self) -> str:
        return self.country.upper() + (f"-{self.subdivision}" if self.subdivision else "")

    @property
    def horizon(self) -> int | None:
        return None

    def year(self, year: int) -> YearDays:
        return _country_year(self.country.upper(), self.subdivision, year)


def holiday_source(code: str | None) -> HolidaySource | None:
    """``RU`` → the Russian production calendar, ``none``/empty → no holidays,
    any other ISO code (optionally ``DE-BY``) → that country's public holidays."""
    if code is None or code.strip().lower() in ("", "none", "no"):
        return None
    country, _, subdivision = code.strip().upper().partition("-")
    if country == "RU" and not subdivision:
        return RussianProductionCalendar()
    return CountryHolidays(country, subdivision or None)


@lru_cache(maxsize=1)
def _russian_horizon() -> int:
    from holidays.countries.russia import RussiaStaticHolidays

    decreed = getattr(RussiaStaticHolidays, "special_public_holidays", {})
    return max(decreed) if decreed else date.today().year  # noqa: DTZ011


def _is_statutory(name: str) -> bool:
    # Transferred days off read "Выходной (перенесено с …)", days off in lieu of
    # a holiday on a weekend end with "(выходной)"; the rest are art. 112 holidays.
    return not name.startswith("Выходной") and not name.endswith("(выходной)")


@lru_cache(maxsize=256)
def _russian_entries(year: int) -> dict[date, str]:
    return dict(holidays_lib.country_holidays("RU", years=year, language="ru").items())


@lru_cache(maxsize=256)
def _russian_workdays(year: int) -> frozenset[date]:
    calendar = holidays_lib.country_holidays("RU", years=year, language="ru")
    return frozenset(getattr(calendar, "weekend_workdays", ()))


@lru_cache(maxsize=256)
def _russian_year(year: int) -> YearDays:
    entries = _russian_entries(year)
    workdays = _russian_workdays(year)
    # A transferred day off names the date it came from; when that date is a
    # working weekend day, the two were swapped.
    swapped: dict[date, date] = {}
    for day, name in entries.items():
        match = _SUBSTITUTED_FROM.search(name)
        if match:
            source = date(int(match[3]), int(match[2]), int(match[1]))
            if source in workdays or source in _russian_workdays(source.year):
                swapped[source] = day
    working: dict[date, int | None] = {
        day: swapped[day].weekday() if day in swapped else None for day in workdays
    }
    statutory = {
        day
        for y in (year, year + 1)
        for day, name in _russian_entries(y).items()
        if _is_statutory(name)
    }
    pre_holiday = {day - _ONE_DAY for day in statutory if (day - _ONE_DAY).year == year}
    pre_holiday.update(
        day for day in workdays if day in swapped and swapped[day] + _ONE_DAY in statutory
    )
    return YearDays(
        days_off=frozenset(entries), working=working, pre_holiday=frozenset(pre_holiday)
    )


@lru_cache(maxsize=256)
def _country_year(country: str, subdivision: str | None, year: int) -> YearDays:
    calendar = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    workdays = getattr(calendar, "weekend_workdays", ())
    return YearDays(days_off=frozenset(calendar), working=dict.fromkeys(workdays))
