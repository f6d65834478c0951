"""Who may do what with estimates (R4.6): every role against every paid-work operation.

Staff propose and withdraw; the customer people `approved_by` names (Krizhik: the
requester and the customer admin) approve and decline; another customer does not
learn the request exists (404); nobody unauthenticated gets anywhere (401).
"""

import pytest
from django.test import Client

from reglament.paidwork.tests.conftest import API, Api, Now
from reglament.paidwork.tests.test_api import OFFER, file_start_request
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "requester", "customer_admin", "other_customer", "agent", "manager")

# fmt: off
EXPECTED: dict[str, tuple[int, ...]] = {
    #             anon requester admin other agent manager
    "list":     (401, 200,      200,  404,  200,  200),
    "propose":  (401, 403,      403,  404,  201,  201),
    "approve":  (401, 200,      200,  404,  403,  403),
    "decline":  (401, 200,      200,  404,  403,  403),
    "withdraw": (401, 403,      403,  404,  200,  200),
}
# fmt: on


def call(operation: str, role: str, now: Now) -> int:
    d = desk("krizhik", "start")
    other = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")  # past the 4 h of R4.4
    if operation not in ("list", "propose"):
        assert Api(d.agent1).post(f"/tickets/{number}/estimates", OFFER).status_code == 201
    people = {
        "requester": d.requester,
        "customer_admin": d.customer_admin,
        "other_customer": other.requester,
        "agent": d.agent1,
        "manager": d.manager,
    }
    path = {
        "list": f"/tickets/{number}/estimates",
        "propose": f"/tickets/{number}/estimates",
    }.get(operation, f"/tickets/{number}/estimates/1/{operation}")
    if role == "anonymous":
        client = Client()
        response = (
            client.get(API + path)
            if operation == "list"
            else client.post(API + path, OFFER, content_type="application/json")
        )
        return int(response.status_code)
    api = Api(people[role])
    response = api.get(path) if operation == "list" else api.post(path, OFFER)
    return int(response.status_code)


@pytest.mark.parametrize("operation", list(EXPECTED))
def test_each_role_gets_what_the_table_says(operation: str, now: Now) -> None:
    # given a Start request past its 4 h (with an open estimate, for decisions)
    # when each role calls the operation on a fresh request
    statuses = {role: call(operation, role, now) for role in ROLES}
    # then
    assert statuses == dict(zip(ROLES, EXPECTED[operation], strict=True))


def test_the_table_covers_every_paid_work_operation(client: Client) -> None:
    schema = client.get(f"{API}/openapi.json").json()
    operations = {
        (method, path.removeprefix(API))
        for path, methods in schema["paths"].items()
        if "/estimates" in path
        for method in methods
    }
    assert operations == {
        ("get", "/tickets/{number}/estimates"),
        ("post", "/tickets/{number}/estimates"),
        ("post", "/tickets/{number}/estimates/{estimate}/approve"),
        ("post", "/tickets/{number}/estimates/{estimate}/decline"),
        ("post", "/tickets/{number}/estimates/{estimate}/withdraw"),
    }
    for path, methods in schema["paths"].items():
        if "/estimates" in path:
            for operation in methods.values():
                for status in ("401", "403", "404", "422"):
                    assert status in operation["responses"], (path, status)
