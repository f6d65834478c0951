"""Read-only queries of the regulations app, and what-if clocks from a stored version."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NoReturn
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from reglament.accounts.models import Organisation
from reglament.core.errors import InvalidInputError
from reglament.domain.calendar import WorkCalendar
from reglament.domain.calendar.engine import PauseLike
from reglament.domain.errors import DomainError
from reglament.domain.regulation import EVENTS, PRIORITIES, Case, Clock, Text
from reglament.domain.regulation import Regulation as ParsedRegulation
from reglament.regulations.errors import (
    ContractAmbiguousError,
    RegulationNotFoundError,
    RegulationVersionNotFoundError,
    SimulationInvalidError,
    UnknownCategoryError,
    UnknownEventError,
    UnknownPriorityError,
    UnknownRequestTypeError,
    UnknownTariffError,
)
from reglament.regulations.models import Contract, RegulationVersion, Tariff

PERSONAL_MANAGER = "personal-manager"


def regulation_version_get(
    regulation_id: str, *, number: int | None = None
) -> RegulationVersion | None:
    """Version `number` of a regulation, or its latest when `number` is None; None if absent."""
    versions = RegulationVersion.objects.filter(regulation_id=regulation_id)
    if number is not None:
        return versions.filter(number=number).first()
    return versions.order_by("-number").first()


def regulation_get_latest(regulation_id: str) -> RegulationVersion | None:
    """The newest version of a regulation; None if it was never loaded."""
    return regulation_version_get(regulation_id)


def regulation_version_require(
    regulation_id: str, *, number: int | None = None
) -> RegulationVersion:
    """Like regulation_version_get, but a missing regulation or version is an error."""
    found = regulation_version_get(regulation_id, number=number)
    if found is not None:
        return found
    if (
        number is not None
        and RegulationVersion.objects.filter(regulation_id=regulation_id).exists()
    ):
        raise RegulationVersionNotFoundError(
            _("The regulation %(regulation)s has no version %(number)d.")
            % {"regulation": regulation_id, "number": number},
            details={"regulation": regulation_id, "version": number},
        )
    raise RegulationNotFoundError(
        _("There is no regulation %(regulation)s.") % {"regulation": regulation_id},
        details={"regulation": regulation_id},
    )


def regulation_latest_versions() -> list[RegulationVersion]:
    """The latest version of every regulation, by regulation id (without the file texts)."""
    newest = (
        RegulationVersion.objects.filter(regulation=OuterRef("regulation"))
        .order_by("-number")
        .values("number")[:1]
    )
    return list(
        RegulationVersion.objects.filter(number=Subquery(newest))
        .defer("text")
        .order_by("regulation_id")
    )


def regulation_history(regulation_id: str) -> list[RegulationVersion]:
    """Every version of a regulation, oldest first, with its tariffs (without the texts)."""
    versions = list(
        RegulationVersion.objects.filter(regulation_id=regulation_id)
        .defer("text")
        .select_related("loaded_by")
        .prefetch_related("tariffs")
        .order_by("number")
    )
    if not versions:
        raise RegulationNotFoundError(
            _("There is no regulation %(regulation)s.") % {"regulation": regulation_id},
            details={"regulation": regulation_id},
        )
    return versions


def tariff_get(*, version: RegulationVersion, code: str) -> Tariff:
    """The tariff `code` of a version; UnknownTariffError (naming the known ones) if absent."""
    tariff = Tariff.objects.filter(version=version, code=code).first()
    if tariff is None:
        known = list(Tariff.objects.filter(version=version).values_list("code", flat=True))
        raise UnknownTariffError(
            _("The regulation %(regulation)s version %(number)d has no tariff %(tariff)s.")
            % {"regulation": version.regulation_id, "number": version.number, "tariff": code},
            details={
                "field": "tariff",
                "value": code,
                "known": known,
                "regulation": version.regulation_id,
                "version": version.number,
            },
        )
    return tariff


def tariff_includes_service(tariff: Tariff, service_id: str) -> bool:
    """Whether the regulation's service catalogue includes `service_id` in this tariff.

    ✓ and a text (a limit or a note, e.g. "up to 6 h") include it; ✗ or a
    service the regulation does not list do not.
    """
    regulation = tariff.version.parsed()
    service = next((s for s in regulation.services if s.id == service_id), None)
    if service is None:
        return False
    value = service.tariffs.get(tariff.code, False)
    return value is True or isinstance(value, Text)


def contract_for_organisation(
    organisation: Organisation, *, at: date | datetime, regulation_id: str | None = None
) -> Contract | None:
    """The organisation's contract in force on `at` (under `regulation_id`, if given).

    Given an instant, each contract is judged on the date it is in the time zone
    of its regulation's calendar (a contract from 1 December starts at
    midnight in Moscow, not at 03:00 Moscow time when UTC's date turns).

    No two contracts of one organisation under one regulation overlap, so there
    is at most one per regulation; with contracts under several regulations,
    `regulation_id` must say which (ContractAmbiguousError otherwise).
    """
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("contract_for_organisation needs an aware instant")
        day = at.astimezone(UTC).date()
        # Any zone's date is within a day of UTC's; the exact test is per contract below.
        earliest, latest = day - timedelta(days=1), day + timedelta(days=1)
    else:
        earliest = latest = at
    contracts = Contract.objects.filter(organisation=organisation, valid_from__lte=latest).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=earliest)
    )
    if regulation_id is not None:
        contracts = contracts.filter(tariff__version__regulation_id=regulation_id)
    found = list(
        contracts.select_related("tariff__version", "service_manager")
        # The regulation's text is parsed once per process (RegulationVersion.parsed).
        .defer("tariff__version__text")[:4]
    )
    if isinstance(at, datetime):
        found = [c for c in found if _in_force(c, at.astimezone(_contract_zone(c)).date())]
    if len(found) > 1:
        raise ContractAmbiguousError(
            details={
                "organisation": organisation.name,
                "regulations": sorted(c.regulation_id for c in found),
            }
        )
    return found[0] if found else None


def _contract_zone(contract: Contract) -> ZoneInfo:
    parsed = contract.tariff.version.parsed()
    return parsed.calendars[parsed.default_calendar].timezone


def _in_force(contract: Contract, day: date) -> bool:
    return contract.valid_from <= day and (contract.valid_to is None or day <= contract.valid_to)


@dataclass(frozen=True, slots=True)
class Simulation:
    """Every clock of a what-if request, and the version that computed them."""

    version: RegulationVersion
    clocks: tuple[Clock, ...]


def regulation_simulate(
    *,
    regulation_id: str,
    number: int | None = None,
    case: Case,
    received: datetime,
    pauses: Sequence[PauseLike] = (),
    events: Mapping[str, datetime] | None = None,
) -> Simulation:
    """What-if: every clock `case` would run under a stored regulation version.

    Unknown tariffs, priorities, categories, request types and events are
    refused with an error naming the field and the known values.
    """
    version = regulation_version_require(regulation_id, number=number)
    regulation = version.parsed()
    where = {"regulation": regulation_id, "version": version.number}

    def unknown(
        error: type[InvalidInputError], field: str, value: str, known: list[str]
    ) -> NoReturn:
        raise error(
            _("Unknown %(field)s “%(value)s”; known: %(known)s.")
            % {"field": field, "value": value, "known": ", ".join(known) or "—"},
            details={"field": field, "value": value, "known": known, **where},
        )

    if case.tariff not in {t.id for t in regulation.tariffs}:
        unknown(UnknownTariffError, "tariff", case.tariff, [t.id for t in regulation.tariffs])
    if case.priority not in PRIORITIES:
        unknown(UnknownPriorityError, "priority", case.priority, list(PRIORITIES))
    if case.category is not None and case.category not in {c.id for c in regulation.categories}:
        known_categories = [c.id for c in regulation.categories]
        unknown(UnknownCategoryError, "category", case.category, known_categories)
    if case.type is not None and case.type not in {t.id for t in regulation.request_types}:
        known_types = [t.id for t in regulation.request_types]
        unknown(UnknownRequestTypeError, "type", case.type, known_types)
    for name in events or {}:
        if name not in EVENTS:
            unknown(UnknownEventError, "events", name, list(EVENTS))
    try:
        clocks = regulation.simulate(case, received=received, pauses=pauses, events=events)
    except DomainError as error:
        raise SimulationInvalidError(
            error.message, details={"hint": error.hint, "reason": error.code, **where}
        ) from error
    return Simulation(version=version, clocks=clocks)


@dataclass(frozen=True, slots=True)
class ContractSummary:
    """A contract as its customer reads it: titles in one language, dates, manager."""

    regulation_title: str
    tariff_title: str
    valid_from: date
    valid_to: date | None
    service_manager: str | None


def contract_summaries(
    *, organisation: Organisation, day: date, language: str
) -> list[ContractSummary]:
    """The organisation's contracts in force on `day`, titled in `language` (Russian fallback)."""
    contracts = (
        Contract.objects.filter(organisation=organisation, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .select_related("tariff__version", "service_manager")
        .defer("tariff__version__text")
        .order_by("tariff__version__regulation_id")
    )
    english = language == "en"
    summaries = []
    for contract in contracts:
        version, tariff, manager = (
            contract.tariff.version,
            contract.tariff,
            contract.service_manager,
        )
        summaries.append(
            ContractSummary(
                regulation_title=(english and version.title_en) or version.title_ru,
                tariff_title=(english and tariff.title_en) or tariff.title_ru,
                valid_from=contract.valid_from,
                valid_to=contract.valid_to,
                service_manager=(manager.get_full_name() or manager.get_username())
                if manager
                else None,
            )
        )
    return summaries


# ------------------------------------------------------------- calendar preview
PREVIEW_DAYS = 14


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One date of a calendar preview: open or not, why, and its open intervals."""

    day: date
    working: bool
    kind: str
    name: str  # the holiday's name, when the day is one
    hours: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CalendarPreview:
    id: str
    description: str
    days: list[CalendarDay]


def calendar_preview(
    regulation: ParsedRegulation, *, start: date, days: int = PREVIEW_DAYS
) -> list[CalendarPreview]:
    """Each calendar of the regulation over `days` dates from `start`: its open hours and why."""
    result = []
    for calendar_id, calendar in regulation.calendars.items():
        spec = regulation.calendar_specs.get(calendar_id)
        code = spec.holidays if spec is not None else None
        result.append(
            CalendarPreview(
                id=calendar_id,
                description=_describe(calendar, code),
                days=[
                    _calendar_day(calendar, code, start + timedelta(days=n)) for n in range(days)
                ],
            )
        )
    return result


def _describe(calendar: WorkCalendar, holidays_code: str | None) -> str:
    if calendar.schedule.always:
        return _("Around the clock, %(zone)s") % {"zone": calendar.timezone.key}
    text = _("%(schedule)s, %(zone)s") % {
        "schedule": str(calendar.schedule),
        "zone": calendar.timezone.key,
    }
    if holidays_code:
        text += "; " + _("holidays: %(code)s") % {"code": holidays_code}
    return text


def _holiday_names(code: str, year: int) -> dict[date, str]:
    """Holiday names from the `holidays` package, in the active language when it has it."""
    country, _sep, subdivision = code.upper().partition("-")
    lang = "en_US" if (get_language() or "ru").startswith("en") else "ru"
    try:
        names = holidays_lib.country_holidays(
            country, subdiv=subdivision or None, years=year, language=lang
        )
    except (NotImplementedError, KeyError):
        return {}
    return dict(names.items())


def _calendar_day(calendar: WorkCalendar, holidays_code: str | None, day: date) -> CalendarDay:
    hours = tuple(str(span) for span in calendar.hours_on(day))
    working = bool(hours)
    name = ""
    if day in {override.day for override in calendar.overrides}:
        kind = _("Changed by the regulation")
    elif calendar.schedule.always:
        kind = _("Open around the clock")
    else:
        facts = calendar.holidays.year(day.year) if calendar.holidays is not None else None
        if facts is not None and day in facts.working:
            weekend = {5: _("Working Saturday"), 6: _("Working Sunday")}
            kind = weekend.get(day.weekday(), _("Working day"))
        elif facts is not None and day in facts.days_off:
            kind = _("Holiday or transferred day off")
            name = _holiday_names(holidays_code, day.year).get(day, "") if holidays_code else ""
        elif working:
            kind = _("Working day")
        else:
            kind = _("Weekend")
        if working and facts is not None and calendar.shortened_pre_holiday:
            if day in facts.pre_holiday:
                kind += " · " + _("shortened pre-holiday day")
    return CalendarDay(day=day, working=working, kind=kind, name=name, hours=hours)
