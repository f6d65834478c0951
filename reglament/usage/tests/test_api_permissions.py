"""Who may call which usage endpoint (R4.5): every role on every endpoint.

Staff record and void time and set allowances; a customer admin reads the usage
and balance of their organisation's contracts (a partner's admin its clients'),
and the counted time of their requests; a requester sees no time. What a person
may not see at all is a 404, never a 403: they are not told it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.contrib.auth.models import User

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.regulations.models import Contract
from reglament.regulations.services import contract_create
from reglament.tickets.models import Ticket
from reglament.usage import services
from reglament.usage.models import TimeEntry
from reglament.usage.tests.factories import Api, at, krizhik_desk, request

pytestmark = pytest.mark.django_db

Role = Membership.Role
ROLES = (
    "anonymous",
    "requester",
    "customer_admin",
    "other_customer_admin",
    "partner_admin",  # pointed at its client's contract
    "agent",
    "service_manager",
    "administrator",
)


@dataclass
class World:
    people: dict[str, User | None]
    contract: Contract  # customer A's
    client_contract: Contract  # partner P's client's
    ticket: Ticket  # customer A's
    entry: TimeEntry

    def contract_for(self, role: str) -> Contract:
        return self.client_contract if role == "partner_admin" else self.contract


def world() -> World:
    a = krizhik_desk("reliable")
    b = krizhik_desk("reliable")
    partner = OrganisationFactory.create(name="Партнёр", kind=Organisation.Kind.PARTNER)
    client = OrganisationFactory.create(name="Клиент партнёра", partner=partner)
    client_contract = contract_create(
        organisation=client, version=a.version, tariff="reliable", valid_from=date(2024, 1, 1)
    )
    ticket = request(a, "Вопрос", "2026-10-05T10:00:00+03:00")
    entry = services.time_log(
        ticket=ticket,
        actor=a.agent1,
        minutes=20,
        activity="consultation",
        note="внутренняя заметка",
        performed_at=at("2026-10-05T11:00:00+03:00"),
    )
    people: dict[str, User | None] = {
        "anonymous": None,
        "requester": a.requester,
        "customer_admin": a.customer_admin,
        "other_customer_admin": b.customer_admin,
        "partner_admin": PersonFactory.create(organisation=partner, role=Role.CUSTOMER_ADMIN),
        "agent": a.agent1,
        "service_manager": a.manager,
        "administrator": PersonFactory.create(organisation=a.vendor, role=Role.ADMINISTRATOR),
    }
    return World(people, a.contract, client_contract, ticket, entry)


# role → status, in ROLES order
LOG = (401, 403, 403, 404, 404, 201, 201, 201)
READ_TIME = (401, 403, 200, 404, 404, 200, 200, 200)
VOID = (401, 403, 403, 404, 404, 200, 200, 200)
READ_USAGE = (401, 404, 200, 404, 200, 200, 200, 200)
SET_ALLOWANCE = (401, 404, 403, 404, 403, 200, 200, 200)


def _call(w: World, role: str, endpoint: str) -> int:
    api = Api(w.people[role])
    number = w.ticket.number
    contract = w.contract_for(role).pk
    if endpoint == "log":
        response = api.log(number, 15, "2026-10-05T12:00:00+03:00")
    elif endpoint == "read_time":
        response = api.get(f"/tickets/{number}/time")
    elif endpoint == "void":
        entry = services.time_log(  # a fresh entry for each role: voiding is once
            ticket=w.ticket,
            actor=w.people["agent"],  # type: ignore[arg-type]
            minutes=5,
            activity="other",
            performed_at=at("2026-10-05T12:00:00+03:00"),
        )
        response = api.post(f"/tickets/{number}/time/{entry.pk}/void", {"reason": "ошибка"})
    elif endpoint == "usage":
        response = api.get(f"/contracts/{contract}/usage", period="2026-10")
    elif endpoint == "usage_csv":
        response = api.get(f"/contracts/{contract}/usage.csv", period="2026-10")
    elif endpoint == "allowance":
        response = api.get(f"/contracts/{contract}/allowance", period="2026-10")
    else:
        response = api.put(
            f"/contracts/{contract}/allowance", {"amount": "5", "valid_from": "2026-10"}
        )
    return int(response.status_code)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("log", LOG),
        ("read_time", READ_TIME),
        ("void", VOID),
        ("usage", READ_USAGE),
        ("usage_csv", READ_USAGE),
        ("allowance", READ_USAGE),
        ("set_allowance", SET_ALLOWANCE),
    ],
)
def test_every_role_on_every_usage_endpoint(endpoint: str, expected: tuple[int, ...]) -> None:
    # given customers A and B, a partner's client, and a request of A with time
    w = world()
    # when each role calls the endpoint
    got = {role: _call(w, role, endpoint) for role in ROLES}
    # then the table holds
    assert got == dict(zip(ROLES, expected, strict=True))


def test_a_customer_admin_sees_counted_time_without_notes_or_authors() -> None:
    # given an entry with an internal note, and a voided one
    w = world()
    agent = w.people["agent"]
    assert agent is not None
    voided = services.time_log(
        ticket=w.ticket,
        actor=agent,
        minutes=60,
        activity="other",
        performed_at=at("2026-10-05T12:00:00+03:00"),
    )
    services.time_void(ticket=w.ticket, actor=agent, entry_id=voided.pk, reason="дубль")
    # when the customer admin and an agent read the request's time
    customer = Api(w.people["customer_admin"]).get(f"/tickets/{w.ticket.number}/time").json()
    staff = Api(agent).get(f"/tickets/{w.ticket.number}/time").json()
    # then the customer sees the counted entry only, without note or author
    assert [(e["minutes"], e["note"], e["author"]) for e in customer["entries"]] == [
        (20, None, None)
    ]
    assert customer["billable_minutes"] == 20
    # and staff see both, the note, and who voided which and why
    assert [
        (e["minutes"], e["note"], e["voided_by"], e["void_reason"]) for e in staff["entries"]
    ] == [
        (20, "внутренняя заметка", None, None),
        (60, "", "agent1", "дубль"),
    ]
    # and the time events are not in the customer's history of the request
    events = Api(w.people["requester"]).get(f"/tickets/{w.ticket.number}/events").json()
    assert not [e for e in events if e["kind"].startswith("time_")]


def test_each_role_lists_the_contracts_whose_usage_it_may_read() -> None:
    """R4.5: `GET /contracts` gives the ids the usage endpoints take, and no others."""
    # given customers A and B and a partner's client
    w = world()
    # when each role lists contracts
    listed = {}
    for role in ROLES:
        response = Api(w.people[role]).get("/contracts")
        listed[role] = (
            response.status_code,
            sorted(row["id"] for row in response.json()) if response.status_code == 200 else None,
        )
    # then staff see all, a customer admin their own, a partner's admin its client's
    everything = sorted(Contract.objects.values_list("pk", flat=True))
    assert listed == {
        "anonymous": (401, None),
        "requester": (200, []),
        "customer_admin": (200, [w.contract.pk]),
        "other_customer_admin": (
            200,
            [c for c in everything if c not in (w.contract.pk, w.client_contract.pk)],
        ),
        "partner_admin": (200, [w.client_contract.pk]),
        "agent": (200, everything),
        "service_manager": (200, everything),
        "administrator": (200, everything),
    }
    row = next(
        r for r in Api(w.people["agent"]).get("/contracts").json() if r["id"] == w.contract.pk
    )
    assert (row["tariff"], row["usage_unit"], row["increment"]) == ("reliable", "hour", "0.5")
