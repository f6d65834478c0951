"""Demo data: the shipped regulations, a vendor, customers on several tariffs, a person per role.

`reglament demo load` (and `reglament run --demo`) call demo_load(). It is
idempotent: what exists (matched by organisation name, login, or an
organisation's contract under a regulation) is left as it is, so running it
again changes nothing, and a changed regulation file only adds a version.
Everything is written through the services, so the events are there too.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.selectors import organisation_find, person_find
from reglament.accounts.services import organisation_create, person_create
from reglament.regulations.models import RegulationVersion
from reglament.regulations.selectors import contract_for_organisation, regulation_get_latest
from reglament.regulations.services import contract_create, regulation_load_many

# One password for every demo login: this is sample data for a developer's machine.
DEMO_PASSWORD = "reglament-demo"  # noqa: S105 - printed on purpose, demo only
CONTRACTS_FROM = date(2025, 1, 1)

Kind = Organisation.Kind
Role = Membership.Role

VENDOR = "Сервисный центр «Регламент»"
PARTNER = "Интегратор «Партнёр-Софт»"
# R2.5: a partner on the Free tariff, which includes no knowledge-base section.
FREE_PARTNER = "Сервисный центр «Кассир-Сервис»"


@dataclass(frozen=True, slots=True)
class DemoOrganisation:
    name: str
    kind: str
    partner: str | None = None


@dataclass(frozen=True, slots=True)
class DemoContract:
    organisation: str
    regulation: str
    tariff: str
    attributes: dict[str, Any] = field(default_factory=dict)
    service_manager: str | None = None


@dataclass(frozen=True, slots=True)
class DemoPerson:
    username: str
    organisation: str
    role: str
    name: str
    line: int | None = None


ORGANISATIONS = (
    DemoOrganisation(VENDOR, Kind.VENDOR),
    DemoOrganisation("Сеть супермаркетов «Колос»", Kind.CUSTOMER),
    DemoOrganisation("Гипермаркет «Северный»", Kind.CUSTOMER),
    DemoOrganisation("Магазин «Уголок»", Kind.CUSTOMER),
    DemoOrganisation("ООО «Видеоаналитика Ритейл»", Kind.CUSTOMER),
    DemoOrganisation("ИП Смирнова (бухгалтерия)", Kind.CUSTOMER),
    DemoOrganisation("НПО «Защищённые системы»", Kind.CUSTOMER),
    DemoOrganisation(PARTNER, Kind.PARTNER),
    DemoOrganisation("Аптека «Здоровье»", Kind.CUSTOMER, partner=PARTNER),
    DemoOrganisation("Пекарня «Каравай»", Kind.CUSTOMER, partner=PARTNER),
    DemoOrganisation(FREE_PARTNER, Kind.PARTNER),
    DemoOrganisation("ООО «Старт-Учёт»", Kind.CUSTOMER),
)

CONTRACTS = (
    # R1.5: 60 registers put critical requests under the tighter 50+ targets.
    DemoContract("Сеть супермаркетов «Колос»", "set-retail", "standard", {"cash_registers": 60}),
    DemoContract(
        "Гипермаркет «Северный»",
        "set-retail",
        "premium",
        {"cash_registers": 120},
        service_manager="manager",
    ),
    DemoContract("Магазин «Уголок»", "set-retail", "basic", {"cash_registers": 2}),
    DemoContract("ООО «Видеоаналитика Ритейл»", "cera", "standard"),
    DemoContract("ИП Смирнова (бухгалтерия)", "krizhik", "reliable"),
    DemoContract("НПО «Защищённые системы»", "rusbitech", "standard"),
    DemoContract(PARTNER, "set-partner", "expert"),
    DemoContract(FREE_PARTNER, "set-partner", "free"),
    # R4.6: past Start's 4 h resolution, work becomes paid after an approved estimate.
    DemoContract("ООО «Старт-Учёт»", "krizhik", "start"),
)

PEOPLE = (
    DemoPerson("admin", VENDOR, Role.ADMINISTRATOR, "Анна Админова"),
    DemoPerson("manager", VENDOR, Role.SERVICE_MANAGER, "Сергей Менеджеров"),
    DemoPerson("agent1", VENDOR, Role.AGENT, "Ирина Первая", line=1),
    DemoPerson("agent2", VENDOR, Role.AGENT, "Пётр Второй", line=2),
    DemoPerson("agent3", VENDOR, Role.AGENT, "Олег Третий", line=3),
    DemoPerson("kolos-admin", "Сеть супермаркетов «Колос»", Role.CUSTOMER_ADMIN, "Мария Колосова"),
    DemoPerson("kolos", "Сеть супермаркетов «Колос»", Role.REQUESTER, "Кассир Колоса"),
    DemoPerson("severny", "Гипермаркет «Северный»", Role.REQUESTER, "Дежурный Северного"),
    DemoPerson("ugolok", "Магазин «Уголок»", Role.REQUESTER, "Владелец Уголка"),
    DemoPerson("cera", "ООО «Видеоаналитика Ритейл»", Role.REQUESTER, "Аналитик Видеоаналитики"),
    DemoPerson("krizhik", "ИП Смирнова (бухгалтерия)", Role.REQUESTER, "Елена Смирнова"),
    DemoPerson("rusbitech", "НПО «Защищённые системы»", Role.REQUESTER, "Инженер НПО"),
    DemoPerson("partner-admin", PARTNER, Role.CUSTOMER_ADMIN, "Глава Партнёр-Софта"),
    DemoPerson("partner", PARTNER, Role.REQUESTER, "Инженер Партнёр-Софта"),
    DemoPerson("partner-free", FREE_PARTNER, Role.REQUESTER, "Инженер Кассир-Сервиса"),
    DemoPerson("start", "ООО «Старт-Учёт»", Role.REQUESTER, "Бухгалтер Старт-Учёта"),
)


@dataclass(frozen=True, slots=True)
class DemoReport:
    versions: list[tuple[RegulationVersion, bool]]
    created: list[str]  # what this run added, for people to read
    skipped: list[str]  # what could not be added, and why
    logins: list[tuple[str, str, str]]  # (login, role, organisation)
    password: str = DEMO_PASSWORD


def demo_load(*, directory: Path) -> DemoReport:
    """Load every regulation file in `directory` and create the demo organisations.

    Raises RegulationInvalidError (nothing stored) if any file has a problem.
    A contract whose regulation is not loaded is skipped and reported.
    """
    files = [(str(path), path.read_bytes()) for path in sorted(directory.glob("*.yaml"))]
    created: list[str] = []
    skipped: list[str] = []
    with transaction.atomic():
        versions = regulation_load_many(files=files)
        organisations = {item.name: _organisation(item, created) for item in ORGANISATIONS}
        people = {item.username: _person(item, organisations, created) for item in PEOPLE}
        for item in CONTRACTS:
            _contract(item, organisations, people, created, skipped)
    logins = [
        (
            item.username,
            f"{item.role} (line {item.line})" if item.line else item.role,
            item.organisation,
        )
        for item in PEOPLE
    ]
    return DemoReport(versions=versions, created=created, skipped=skipped, logins=logins)


def _organisation(item: DemoOrganisation, created: list[str]) -> Organisation:
    found = organisation_find(name=item.name)
    if found is not None:
        return found
    partner = organisation_find(name=item.partner) if item.partner else None
    created.append(f"organisation {item.name}")
    return organisation_create(name=item.name, kind=item.kind, partner=partner)


def _person(item: DemoPerson, organisations: dict[str, Organisation], created: list[str]) -> User:
    found = person_find(username=item.username)
    if found is not None:
        return found
    first_name, _space, last_name = item.name.partition(" ")
    created.append(f"login {item.username}")
    return person_create(
        username=item.username,
        password=DEMO_PASSWORD,
        organisation=organisations[item.organisation],
        role=item.role,
        line=item.line,
        email=f"{item.username}@demo.reglament.invalid",
        first_name=first_name,
        last_name=last_name,
    )


def _contract(
    item: DemoContract,
    organisations: dict[str, Organisation],
    people: dict[str, User],
    created: list[str],
    skipped: list[str],
) -> None:
    organisation = organisations[item.organisation]
    if contract_for_organisation(organisation, at=CONTRACTS_FROM, regulation_id=item.regulation):
        return
    version = regulation_get_latest(item.regulation)
    if version is None:
        skipped.append(f"contract of {item.organisation}: regulation {item.regulation} not loaded")
        return
    contract_create(
        organisation=organisation,
        version=version,
        tariff=item.tariff,
        valid_from=CONTRACTS_FROM,
        attributes=item.attributes,
        service_manager=people[item.service_manager] if item.service_manager else None,
    )
    created.append(f"contract {item.organisation}: {item.regulation} {item.tariff}")


def demo_summary(report: DemoReport) -> Sequence[str]:
    """The lines `reglament demo load` prints."""
    lines = [
        f"{version.regulation_id}: version {version.number} ({'new' if new else 'unchanged'})"
        for version, new in report.versions
    ]
    count = len(report.created)
    lines.append(
        f"Demo data: {count} organisations, logins and contracts created."
        if count
        else "Demo data: already complete; nothing created."
    )
    lines += [f"  skipped {reason}" for reason in report.skipped]
    lines.append(f"Demo logins (password for all: {report.password}):")
    width = max(len(login) for login, _role, _org in report.logins)
    lines += [f"  {login:<{width}}  {role}, {org}" for login, role, org in report.logins]
    return lines
