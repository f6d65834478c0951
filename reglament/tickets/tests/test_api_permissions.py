"""Who may call which endpoint of the requests API: every role on every endpoint.

The table below is the contract: one row per endpoint, one column per role,
the HTTP status that role gets on a request it is pointed at. Customers act on
their own organisation's request (a partner's people on their client's request,
R2.1); a requester of the same organisation who neither filed nor watches it,
and anyone of another organisation, get 404, never 403: they are not told the
request exists.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.services import token_create
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.regulations.services import contract_create
from reglament.tickets import services
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

Role = Membership.Role

ROLES = (
    "anonymous",
    "requester",  # their own request
    "requester_same_org",  # another requester's request in their organisation
    "requester_other_org",
    "customer_admin",  # their organisation's request
    "partner_admin",  # a request of one of the partner's clients (R2.1)
    "partner_requester",  # the request they filed for a client (R2.1)
    "agent",
    "service_manager",
    "administrator",
)
# The roles pointed at the client's request rather than the customer's.
ON_CLIENT_REQUEST = ("partner_admin", "partner_requester")


@dataclass
class World:
    """A CERA vendor; customer A (two requesters, an admin); customer B; partner P with client C."""

    people: dict[str, User]
    client: Organisation
    keys: dict[str, str] = field(default_factory=dict)

    def ticket_for(self, role: str) -> Ticket:
        """A fresh request the role is pointed at: A's (filed by `requester`) or C's."""
        if role in ON_CLIENT_REQUEST:
            return services.ticket_create(
                actor=self.people["partner_requester"],
                subject="Камеры клиента не считают посетителей",
                organisation=self.client,
                priority="critical",
            )
        return services.ticket_create(
            actor=self.people["requester"], subject="Камеры не считают", priority="critical"
        )

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.keys[role]}"}


def world() -> World:
    a = desk("cera", "standard")
    b = desk("cera", "standard")
    partner = OrganisationFactory.create(name="Партнёр", kind=Organisation.Kind.PARTNER)
    contract_create(
        organisation=partner, version=a.version, tariff="standard", valid_from=date(2024, 1, 1)
    )
    client = OrganisationFactory.create(name="Клиент партнёра", partner=partner)
    people = {
        "requester": a.requester,
        "requester_same_org": PersonFactory.create(organisation=a.customer, role=Role.REQUESTER),
        "requester_other_org": b.requester,
        "customer_admin": a.customer_admin,
        "partner_admin": PersonFactory.create(organisation=partner, role=Role.CUSTOMER_ADMIN),
        "partner_requester": PersonFactory.create(organisation=partner, role=Role.REQUESTER),
        "agent": a.agent1,
        "service_manager": a.manager,
        "administrator": PersonFactory.create(organisation=a.vendor, role=Role.ADMINISTRATOR),
    }
    result = World(people=people, client=client)
    for role, user in people.items():
        result.keys[role] = token_create(user=user, name="tests")[1]
    return result


def _own_login(w: World, role: str) -> dict[str, Any]:
    user = w.people.get(role) or w.people["requester"]
    return {"login": user.get_username(), "watch": True}


def _new_request(w: World, role: str) -> dict[str, Any]:
    if role in ("agent", "service_manager", "administrator"):
        return {"subject": "Звонок клиента", "requester": w.people["requester"].get_username()}
    if role == "partner_requester":
        return {"subject": "Заявка клиента", "organisation": w.client.pk}
    return {"subject": "Не работает отчёт"}


def _file(public: bool) -> Callable[[World, str], dict[str, Any]]:
    def body(w: World, role: str) -> dict[str, Any]:
        upload = SimpleUploadedFile("log.txt", b"ERROR camera 7", content_type="text/plain")
        return {"file": upload, "public": "true" if public else "false"}

    return body


def _confirm_defect(w: World, ticket: Ticket) -> dict[str, Any]:
    services.ticket_mark(ticket=ticket, actor=w.people["agent"], milestone="defect_confirmed")
    return {}


def _attachment(public: bool) -> Callable[[World, Ticket], dict[str, Any]]:
    def prepare(w: World, ticket: Ticket) -> dict[str, Any]:
        attachment = services.attachment_add(
            ticket=ticket,
            uploader=w.people["agent"],
            name="trace.txt",
            content=b"stack trace",
            public=public,
        )
        return {"attachment": attachment.pk}

    return prepare


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Callable[[World, str], dict[str, Any]] | dict[str, Any] | None = None
    prepare: Callable[[World, Ticket], dict[str, Any]] | None = None
    multipart: bool = False

    def run(self, client: Client, w: World, role: str) -> int:
        ticket = w.ticket_for(role)
        values = {"number": ticket.number, **(self.prepare(w, ticket) if self.prepare else {})}
        path = "/api/v1" + self.path.format(**values)
        body = self.body(w, role) if callable(self.body) else self.body
        headers = w.headers(role)
        if self.method == "get":
            response = client.get(path, headers=headers)
        elif self.multipart:
            response = client.post(path, data=body, headers=headers)
        else:
            response = client.generic(
                self.method.upper(),
                path,
                data=json.dumps(body or {}),
                content_type="application/json",
                headers=headers,
            )
        return response.status_code


CALLS: dict[str, Call] = {
    "list": Call("get", "/tickets"),
    "create": Call("post", "/tickets", body=_new_request),
    "detail": Call("get", "/tickets/{number}"),
    "update": Call("patch", "/tickets/{number}", body={"priority": "high"}),
    "transition": Call("post", "/tickets/{number}/transition", body={"status": "in-progress"}),
    "close": Call("post", "/tickets/{number}/close", body={}),
    "escalate": Call(
        "post", "/tickets/{number}/escalate", body={"line": 2, "reason": "Нужен эксперт"}
    ),
    "milestone": Call(
        "post", "/tickets/{number}/milestones", body={"milestone": "defect_confirmed"}
    ),
    "development": Call(
        "post",
        "/tickets/{number}/development",
        body={"reference": "DEV-42"},
        prepare=_confirm_defect,
    ),
    "out_of_scope": Call("post", "/tickets/{number}/out-of-scope", body={"item": ""}),
    "watch": Call("post", "/tickets/{number}/watchers", body=_own_login),
    "comments": Call("get", "/tickets/{number}/comments"),
    "reply": Call("post", "/tickets/{number}/comments", body={"body": "Есть новости?"}),
    "note": Call(
        "post", "/tickets/{number}/comments", body={"body": "Похоже на сеть", "public": False}
    ),
    "events": Call("get", "/tickets/{number}/events"),
    "attachments": Call("get", "/tickets/{number}/attachments"),
    "attach": Call("post", "/tickets/{number}/attachments", body=_file(True), multipart=True),
    "attach_internal": Call(
        "post", "/tickets/{number}/attachments", body=_file(False), multipart=True
    ),
    "download": Call(
        "get", "/tickets/{number}/attachments/{attachment}", prepare=_attachment(public=True)
    ),
    "download_internal": Call(
        "get", "/tickets/{number}/attachments/{attachment}", prepare=_attachment(public=False)
    ),
    "clocks": Call("get", "/tickets/{number}/clocks"),
}

# fmt: off
EXPECTED: dict[str, tuple[int, ...]] = {
    #                   anon  req  same other cadm padm preq agent mgr admin
    "list":             (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "create":           (401, 201, 201, 201, 201, 201, 201, 201, 201, 201),
    "detail":           (401, 200, 404, 404, 200, 200, 200, 200, 200, 200),
    "update":           (401, 403, 404, 404, 403, 403, 403, 200, 200, 200),
    "transition":       (401, 403, 404, 404, 403, 403, 403, 200, 200, 200),
    # R3.8: the requester or their customer admin closes; staff change the status.
    "close":            (401, 200, 404, 404, 200, 200, 200, 403, 403, 403),
    "escalate":         (401, 403, 404, 404, 403, 403, 403, 200, 200, 200),
    "milestone":        (401, 403, 404, 404, 403, 403, 403, 200, 200, 200),
    "development":      (401, 403, 404, 404, 403, 403, 403, 200, 200, 200),
    "out_of_scope":     (401, 403, 404, 404, 403, 403, 403, 200, 200, 200),
    "watch":            (401, 200, 404, 404, 200, 200, 200, 200, 200, 200),
    "comments":         (401, 200, 404, 404, 200, 200, 200, 200, 200, 200),
    "reply":            (401, 201, 404, 404, 201, 201, 201, 201, 201, 201),
    "note":             (401, 403, 404, 404, 403, 403, 403, 201, 201, 201),
    "events":           (401, 200, 404, 404, 200, 200, 200, 200, 200, 200),
    "attachments":      (401, 200, 404, 404, 200, 200, 200, 200, 200, 200),
    "attach":           (401, 201, 404, 404, 201, 201, 201, 201, 201, 201),
    "attach_internal":  (401, 403, 404, 404, 403, 403, 403, 201, 201, 201),
    "download":         (401, 200, 404, 404, 200, 200, 200, 200, 200, 200),
    # An internal file does not exist for customers.
    "download_internal": (401, 404, 404, 404, 404, 404, 404, 200, 200, 200),
    "clocks":           (401, 200, 404, 404, 200, 200, 200, 200, 200, 200),
}
# fmt: on


def test_the_table_covers_every_operation_of_the_requests_api(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operations = {
        (method, path.removeprefix("/api/v1").replace("{attachment_id}", "{attachment}"))
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if "requests" in operation["tags"]
    }
    assert {(call.method, call.path) for call in CALLS.values()} == operations
    assert set(EXPECTED) == set(CALLS)


@pytest.mark.parametrize("endpoint", list(EXPECTED))
def test_each_role_gets_what_the_table_says(endpoint: str, client: Client) -> None:
    # given a customer, another customer, a partner with a client, and the vendor's staff
    w = world()
    # when each role calls the endpoint on a fresh request it is pointed at
    statuses = {role: CALLS[endpoint].run(client, w, role) for role in ROLES}
    # then
    assert statuses == dict(zip(ROLES, EXPECTED[endpoint], strict=True))


def test_each_role_lists_exactly_the_requests_it_may_see() -> None:
    # given one request of customer A and one a partner filed for its client C (R2.1)
    w = world()
    own = w.ticket_for("requester")
    client_request = w.ticket_for("partner_requester")
    client = Client()
    # when every role lists requests
    seen = {
        role: [
            item["number"]
            for item in client.get("/api/v1/tickets", headers=w.headers(role)).json()["items"]
        ]
        for role in ROLES
        if role != "anonymous"
    }
    # then customers see their own (a customer admin their organisation's, a partner's
    # admin its clients'), staff see all
    both = sorted([own.number, client_request.number])
    assert {role: sorted(numbers) for role, numbers in seen.items()} == {
        "requester": [own.number],
        "requester_same_org": [],
        "requester_other_org": [],
        "customer_admin": [own.number],
        "partner_admin": [client_request.number],
        "partner_requester": [client_request.number],
        "agent": both,
        "service_manager": both,
        "administrator": both,
    }


def test_customers_never_see_internal_notes_events_or_files() -> None:
    # given a request with a public reply, an internal note, a public and an internal
    # file, and an internal change (the assignee)
    w = world()
    ticket = w.ticket_for("requester")
    agent = w.people["agent"]
    services.ticket_reply(ticket=ticket, author=agent, body="Смотрим")
    services.ticket_reply(ticket=ticket, author=agent, body="Клиент опять", public=False)
    services.attachment_add(ticket=ticket, uploader=agent, name="public.txt", content=b"p")
    services.attachment_add(
        ticket=ticket, uploader=agent, name="internal.txt", content=b"i", public=False
    )
    services.ticket_update(ticket=ticket, actor=agent, assignee=agent)
    client = Client()
    base = f"/api/v1/tickets/{ticket.number}"

    def seen(role: str) -> tuple[list[str], list[str], list[str]]:
        headers = w.headers(role)
        comments = client.get(f"{base}/comments", headers=headers).json()
        files = client.get(f"{base}/attachments", headers=headers).json()
        events = client.get(f"{base}/events", headers=headers).json()
        return (
            [c["body"] for c in comments],
            [f["name"] for f in files],
            [e["kind"] for e in events],
        )

    # when the requester and the customer admin look, then only public things show
    public = (
        ["Смотрим"],
        ["public.txt"],
        ["created", "replied", "attached"],
    )
    assert seen("requester") == public
    assert seen("customer_admin") == public
    # and staff see everything, in order
    assert seen("agent") == (
        ["Смотрим", "Клиент опять"],
        ["public.txt", "internal.txt"],
        ["created", "replied", "noted", "attached", "attached", "changed"],
    )


def test_a_customer_cannot_file_on_someone_elses_behalf_or_for_another_organisation() -> None:
    w = world()
    client = Client()
    headers = w.headers("requester")
    # when a requester names another requester, then only staff may do that
    on_behalf = client.post(
        "/api/v1/tickets",
        data={"subject": "За коллегу", "requester": w.people["requester_same_org"].username},
        content_type="application/json",
        headers=headers,
    )
    assert (on_behalf.status_code, on_behalf.json()["code"]) == (403, "ticket_permission_denied")
    # when a requester files for the partner's client, then the organisation is refused
    # without naming it (only the id the caller sent comes back)
    foreign = client.post(
        "/api/v1/tickets",
        data={"subject": "Чужая", "organisation": w.client.pk},
        content_type="application/json",
        headers=headers,
    )
    assert foreign.status_code == 422
    assert foreign.json()["details"] == {"field": "organisation", "value": w.client.pk}


def test_only_staff_say_a_request_arrived_before_it_was_filed() -> None:
    # given a customer who would like the clocks to have started yesterday
    w = world()
    client = Client()
    body = json.dumps({"subject": "Вчера", "received_at": "2020-01-01T10:00:00+03:00"})
    # when they file with an earlier arrival, then it is refused
    refused = client.post(
        "/api/v1/tickets", body, content_type="application/json", headers=w.headers("requester")
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "ticket_permission_denied")
    # when an agent registers a call that came in earlier, then the arrival is kept
    call = json.dumps(
        {
            "subject": "Звонок",
            "requester": w.people["requester"].username,
            "received_at": "2020-01-01T10:00:00+03:00",
        }
    )
    filed = client.post(
        "/api/v1/tickets", call, content_type="application/json", headers=w.headers("agent")
    )
    assert filed.status_code == 201
    assert datetime.fromisoformat(filed.json()["received_at"]) == datetime.fromisoformat(
        "2020-01-01T10:00:00+03:00"
    )
