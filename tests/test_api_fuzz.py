"""Schemathesis against /api/v1: every answer is one the OpenAPI schema documents.

Cross-app: the API is every app's router under one schema. The schema is read
from the app itself (`/api/v1/openapi.json`) and every operation is called
in-process through Django's WSGI handler, inside the test's transaction, so
what the examples write is rolled back with the test. Three callers: a
vendor's service manager (the widest view), a customer's requester, nobody.

Each answer must be no 5xx and have a status code, a content type and a body
that the schema declares for the operation. Generated path parameters and
fields sometimes take the values of real rows (the seeded request's number, its
file, a login), so the examples reach the code behind the 404s too.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reglament.accounts.models import ApiToken
from reglament.accounts.services import token_create
from reglament.tickets import services
from reglament.tickets.models import Attachment, Ticket
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    WSGIHandler(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20260101,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
            "generation": {
                "mode": "all",  # valid input and invalid input
                "deterministic": True,
                "database": "none",
                # The credentials are the test's own (or none), never generated ones.
                "with-security-parameters": False,
            },
        }
    ),
)

# The examples of one operation share the test's data: seeded once, rolled back after.
FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
# Schemathesis adds its coverage cases (boundary and invalid values of every
# parameter) as Hypothesis' explicit examples. The staff pass runs them; the
# other passes are about the roles, so they only fuzz.
ROLE_SETTINGS: dict[str, Any] = {
    **FUZZ_SETTINGS,
    "phases": [Phase.generate, Phase.target, Phase.shrink],
}


# ------------------------------------------------------------------ the data
@pytest.fixture
def seeded() -> Desk:
    """A CERA customer's request with a reply and a file; a spare token for each caller."""
    d = desk("cera", "standard")
    ticket = services.ticket_create(actor=d.requester, subject="Камеры не считают посетителей")
    services.ticket_reply(ticket=ticket, author=d.requester, body="Журнал во вложении.")
    services.attachment_add(
        ticket=ticket,
        uploader=d.requester,
        name="log.txt",
        content=b"error",
        content_type="text/plain",
    )
    for person in (d.manager, d.requester):
        token_create(user=person, name="spare")
    return d


def _bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(user=user, name='fuzz')[1]}"}


@pytest.fixture
def staff_headers(seeded: Desk) -> dict[str, str]:
    return _bearer(seeded.manager)


@pytest.fixture
def customer_headers(seeded: Desk) -> dict[str, str]:
    return _bearer(seeded.requester)


@pytest.fixture(autouse=True)
def _connection_kept_open() -> Iterator[None]:
    """Keep the test's connection (and its transaction) across calls, as django.test.Client does.

    Django's WSGI handler closes "old" connections when a request starts and
    ends; inside the test's transaction that would close the test's own one.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Real values, read from the test's database when an example is drawn: a
# generated number is almost never one that exists.
def _real_path_parameters(name: str) -> list[Any]:
    if name == "number":
        return list(Ticket.objects.order_by("pk").values_list("number", flat=True)[:1])
    if name == "attachment_id":
        return list(Attachment.objects.order_by("pk").values_list("pk", flat=True)[:1])
    if name == "token_id":
        return list(ApiToken.objects.filter(name="spare").values_list("pk", flat=True))
    if name == "regulation_id":
        return ["cera"]
    return []


def _real_fields(name: str) -> list[Any]:
    if name in ("login", "requester", "assignee"):
        return [
            "agent1",
            "manager",
            *User.objects.filter(username__startswith="user").values_list("username", flat=True),
        ]
    if name == "status":
        ticket = Ticket.objects.order_by("pk").first()
        return [status.id for status in ticket.version.parsed().statuses] if ticket else []
    if name == "priority":
        return ["critical", "high", "medium", "low"]
    return []


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    return _sometimes_real(path_parameters, _real_path_parameters)


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return st.just(body)
    return _sometimes_real(body, _real_fields)


def _sometimes_real(values: dict[str, Any] | None, real: Any) -> Any:
    if not values:
        return st.just(values)
    choices = {name: real(name) for name in values}
    strategies = {
        name: st.one_of(st.just(value), st.sampled_from(choices[name]))
        if choices[name]
        else st.just(value)
        for name, value in values.items()
    }
    return st.fixed_dictionaries(strategies)


# ------------------------------------------------------------------ the runs
@schema.parametrize()
@settings(max_examples=10, **FUZZ_SETTINGS)
def test_a_service_manager_gets_only_documented_answers(
    case: schemathesis.Case, staff_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=staff_headers, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=10, **ROLE_SETTINGS)
def test_a_requester_gets_only_documented_answers(
    case: schemathesis.Case, customer_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=customer_headers, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=3, **ROLE_SETTINGS)
def test_nobody_gets_only_documented_answers(case: schemathesis.Case, seeded: Desk) -> None:
    case.call_and_validate(checks=CHECKS)
