"""A desk ready for requests: a shipped regulation, a vendor with agents, a customer."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.regulations.models import Contract, RegulationVersion
from reglament.regulations.services import contract_create, regulation_load

REGULATIONS_DIR = Path(settings.BASE_DIR) / "regulations"
Role = Membership.Role


def shipped_version(regulation: str) -> RegulationVersion:
    """Load `regulations/<regulation>.yaml` (once per test database)."""
    path = REGULATIONS_DIR / f"{regulation}.yaml"
    version, _created = regulation_load(data=path.read_bytes(), name=path.name)
    return version


@dataclass
class Desk:
    """One vendor, its agents on lines 1–3 and a manager, one customer on a tariff."""

    version: RegulationVersion
    vendor: Organisation
    agent1: User
    agent2: User
    agent3: User
    manager: User
    customer: Organisation
    contract: Contract
    requester: User
    customer_admin: User


def desk(
    regulation: str,
    tariff: str,
    *,
    attributes: dict[str, Any] | None = None,
    service_manager: bool = False,
    valid_from: date = date(2024, 1, 1),
) -> Desk:
    version = shipped_version(regulation)
    vendor = Organisation.objects.filter(kind=Organisation.Kind.VENDOR).first()
    if vendor is None:
        vendor = OrganisationFactory.create(name="Вендор", kind=Organisation.Kind.VENDOR)
    agents = []
    for line in (1, 2, 3):
        agent = User.objects.filter(username=f"agent{line}").first() or PersonFactory.create(
            username=f"agent{line}",
            organisation=vendor,
            role=Role.AGENT,
            line=line,
            email=f"agent{line}@vendor.test",
        )
        agents.append(agent)
    manager = User.objects.filter(username="manager").first() or PersonFactory.create(
        username="manager",
        organisation=vendor,
        role=Role.SERVICE_MANAGER,
        email="manager@vendor.test",
    )
    customer = OrganisationFactory.create()
    contract = contract_create(
        organisation=customer,
        version=version,
        tariff=tariff,
        valid_from=valid_from,
        attributes=attributes or {},
        service_manager=manager if service_manager else None,
    )
    requester = PersonFactory.create(
        organisation=customer, role=Role.REQUESTER, email="requester@customer.test"
    )
    customer_admin = PersonFactory.create(
        organisation=customer, role=Role.CUSTOMER_ADMIN, email="admin@customer.test"
    )
    return Desk(
        version=version,
        vendor=vendor,
        agent1=agents[0],
        agent2=agents[1],
        agent3=agents[2],
        manager=manager,
        customer=customer,
        contract=contract,
        requester=requester,
        customer_admin=customer_admin,
    )
