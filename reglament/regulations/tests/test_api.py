import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from reglament.regulations.services import regulation_load
from reglament.regulations.tests.factories import ACME, ACME_V2, acme_load

pytestmark = pytest.mark.django_db

CERA = Path(settings.BASE_DIR) / "regulations" / "cera.yaml"
# Tuesday 4 March 2025, noon in Moscow.
RECEIVED = "2025-03-04T12:00:00+03:00"


def cera_load() -> None:
    regulation_load(data=CERA.read_bytes(), name="regulations/cera.yaml")


def simulate(client: Client, **body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/api/v1/sla/simulate",
        data=json.dumps(body),
        content_type="application/json",
        headers={"accept-language": "en"},
    )
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_simulate_over_real_http_gives_cera_critical_line_3_resolution_12_working_hours(
    live_server,
) -> None:
    # given: R3.6 «Критический … 3 линии: 12 (рабочих часов)», counted Mon–Fri
    # 10:00–19:00 Moscow (the file's `working` calendar)
    cera_load()
    body = {
        "regulation": "cera",
        "tariff": "standard",
        "priority": "critical",
        "line": 3,
        "received": RECEIVED,
    }
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/sla/simulate",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    # when
    with urllib.request.urlopen(request, timeout=10) as response:
        status, reply = response.status, json.loads(response.read())
    # then: Tue 12–19 is 7 h, Wed 10–15 is 5 h, so due Wed 5 March 15:00
    assert status == 200
    assert reply == {
        "regulation": "cera",
        "version": 1,
        "clocks": [
            {
                "metric": "resolution",
                "title": {"ru": "Время решения", "en": "Resolution time"},
                "starts_on": "registered",
                "stops_on": "closed",
                "applies": True,
                "promise": True,
                "target": {
                    "text": {"ru": "12 ч", "en": "12 h"},
                    "seconds": 43200,
                    "working_days": None,
                    "note": None,
                },
                "calendar": "working",
                "start": "2025-03-04T12:00:00+03:00",
                "due": "2025-03-05T15:00:00+03:00",
                "paused": True,
                "provisional": False,
                "counted": [
                    {"start": "2025-03-04T12:00:00+03:00", "end": "2025-03-04T19:00:00+03:00"},
                    {"start": "2025-03-05T10:00:00+03:00", "end": "2025-03-05T15:00:00+03:00"},
                ],
                "paused_intervals": [],
            }
        ],
    }


def test_time_in_clarification_moves_the_cera_resolution_deadline(client: Client) -> None:
    # given: R3.7 «без учета времени уточнения у Пользователя»: two working hours
    # spent waiting for the customer on Tuesday
    cera_load()
    # when
    status, reply = simulate(
        client,
        regulation="cera",
        tariff="standard",
        priority="critical",
        line=3,
        received=RECEIVED,
        pauses=[{"start": "2025-03-04T13:00:00+03:00", "end": "2025-03-04T15:00:00+03:00"}],
    )
    # then: 12 working hours end two hours later, Wed 17:00
    assert status == 200
    (clock,) = reply["clocks"]
    assert clock["due"] == "2025-03-05T17:00:00+03:00"
    assert clock["paused_intervals"] == [
        {"start": "2025-03-04T13:00:00+03:00", "end": "2025-03-04T15:00:00+03:00"}
    ]


def test_simulate_lists_metrics_without_a_promise_and_uses_attributes(client: Client) -> None:
    # given: acme's basic tariff promises no resolution time
    acme_load()
    # when
    status, reply = simulate(
        client, regulation="acme", tariff="basic", priority="high", received=RECEIVED
    )
    # then
    assert status == 200
    clocks = {clock["metric"]: clock for clock in reply["clocks"]}
    assert clocks["registration"]["due"] == "2025-03-04T12:30:00+03:00"
    assert clocks["registration"]["calendar"] == "around-the-clock"
    assert clocks["resolution"]["promise"] is False
    assert clocks["resolution"]["due"] is None
    assert clocks["resolution"]["target"] == {
        "text": {"ru": "только консультация", "en": "consultation only"},
        "seconds": None,
        "working_days": None,
        "note": None,
    }


def test_simulate_uses_the_version_asked_for(client: Client) -> None:
    # given
    acme_load()
    acme_load(ACME_V2)
    # when
    status, reply = simulate(
        client, regulation="acme", version=1, tariff="basic", priority="low", received=RECEIVED
    )
    # then
    assert (status, reply["version"]) == (200, 1)
    assert (
        simulate(client, regulation="acme", tariff="basic", priority="low", received=RECEIVED)[1][
            "version"
        ]
        == 2
    )


@pytest.mark.parametrize(
    ("field", "value", "code", "known"),
    [
        ("tariff", "gold", "unknown_tariff", ["basic", "premium"]),
        ("priority", "urgent", "unknown_priority", ["critical", "high", "medium", "low"]),
        ("category", "tills", "unknown_category", []),
        ("type", "wish", "unknown_request_type", ["defect", "consultation"]),
    ],
)
def test_simulate_refuses_an_unknown_value_naming_the_field_and_the_known_ones(
    client: Client, field: str, value: str, code: str, known: list[str]
) -> None:
    # given
    acme_load()
    body = {"regulation": "acme", "tariff": "basic", "priority": "high", "received": RECEIVED}
    # when
    status, reply = simulate(client, **{**body, field: value})
    # then
    assert status == 422
    assert reply == {
        "code": code,
        "message": f"Unknown {field} “{value}”; known: {', '.join(known) or '—'}.",
        "details": {
            "field": field,
            "value": value,
            "known": known,
            "regulation": "acme",
            "version": 1,
        },
    }


def test_simulate_refuses_an_unknown_event(client: Client) -> None:
    # given
    acme_load()
    # when
    status, reply = simulate(
        client,
        regulation="acme",
        tariff="basic",
        priority="high",
        received=RECEIVED,
        events={"lunch": RECEIVED},
    )
    # then
    assert status == 422
    assert reply["code"] == "unknown_event"
    assert reply["details"]["field"] == "events"
    assert reply["details"]["value"] == "lunch"


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"received": "2025-03-04T12:00:00"}, ["body", "payload", "received"]),
        (
            {"pauses": [{"start": "2025-03-04T13:00:00", "end": "2025-03-04T14:00:00+03:00"}]},
            ["body", "payload", "pauses", 0, "start"],
        ),
        (
            {"events": {"defect_confirmed": "2025-03-05T10:00"}},
            ["body", "payload", "events", "defect_confirmed"],
        ),
        ({"line": 4}, ["body", "payload", "line"]),
        (
            {
                "pauses": [
                    {"start": "2025-03-04T14:00:00+03:00", "end": "2025-03-04T13:00:00+03:00"}
                ]
            },
            ["body", "payload", "pauses", 0],
        ),
    ],
)
def test_simulate_refuses_naive_datetimes_and_bad_fields_naming_the_field(
    client: Client, body: dict[str, Any], location: list[Any]
) -> None:
    # given
    acme_load()
    base = {"regulation": "acme", "tariff": "basic", "priority": "high", "received": RECEIVED}
    # when
    status, reply = simulate(client, **{**base, **body})
    # then
    assert status == 422
    assert reply["code"] == "invalid_input"
    assert reply["message"] == "The request is not valid."
    assert [error["loc"] for error in reply["details"]["errors"]] == [location]


def test_simulate_refuses_an_event_before_the_request_was_received(client: Client) -> None:
    # given
    acme_load()
    # when
    status, reply = simulate(
        client,
        regulation="acme",
        tariff="basic",
        priority="high",
        received=RECEIVED,
        events={"resolved": "2025-03-03T12:00:00+03:00"},
    )
    # then
    assert status == 422
    assert reply["code"] == "simulation_invalid"
    assert reply["message"] == (
        "The event resolved at 2025-03-03T12:00:00+03:00 is before the request was received."
    )


@pytest.mark.parametrize(
    ("regulation", "version", "code", "message"),
    [
        ("nothing", None, "regulation_not_found", "There is no regulation nothing."),
        ("acme", 3, "regulation_version_not_found", "The regulation acme has no version 3."),
    ],
)
def test_simulate_an_unknown_regulation_or_version_answers_404(
    client: Client, regulation: str, version: int | None, code: str, message: str
) -> None:
    # given
    acme_load()
    # when
    status, reply = simulate(
        client,
        regulation=regulation,
        version=version,
        tariff="basic",
        priority="high",
        received=RECEIVED,
    )
    # then
    assert status == 404
    assert (reply["code"], reply["message"]) == (code, message)


def test_regulation_list_gives_each_regulation_with_its_latest_version(client: Client) -> None:
    # given
    acme_load()
    acme_load(ACME_V2)
    cera_load()
    # when
    response = client.get("/api/v1/regulations")
    # then
    assert response.status_code == 200
    assert response.json() == [
        {"id": "acme", "title": {"ru": "Акме 2", "en": "Acme 2"}, "latest_version": 2},
        {
            "id": "cera",
            "title": {
                "ru": "CERA Retail analytics — регламент технической поддержки",
                "en": "CERA Retail analytics — technical support regulation",
            },
            "latest_version": 1,
        },
    ]


def test_regulation_detail_gives_every_version_with_its_tariffs(client: Client) -> None:
    # given
    v1 = acme_load()
    v2 = acme_load(ACME_V2, name="regulations/acme.yaml")
    # when
    response = client.get("/api/v1/regulations/acme")
    # then
    assert response.status_code == 200
    body = response.json()
    tariffs = [
        {"id": "basic", "title": {"ru": "Базовый", "en": "Basic"}},
        {"id": "premium", "title": {"ru": "Премиум", "en": "Premium"}},
    ]
    assert body["id"] == "acme"
    assert body["latest_version"] == 2
    assert body["title"] == {"ru": "Акме 2", "en": "Acme 2"}
    assert [
        {key: version[key] for key in ("number", "digest", "source_name", "title", "tariffs")}
        for version in body["versions"]
    ] == [
        {
            "number": 1,
            "digest": v1.digest,
            "source_name": "acme.yaml",
            "title": {"ru": "Акме", "en": "Acme"},
            "tariffs": tariffs,
        },
        {
            "number": 2,
            "digest": v2.digest,
            "source_name": "regulations/acme.yaml",
            "title": {"ru": "Акме 2", "en": "Acme 2"},
            "tariffs": tariffs,
        },
    ]
    assert body["versions"][0]["loaded_by"] is None


def test_regulation_detail_of_an_unknown_regulation_answers_404_in_the_error_shape(
    client: Client,
) -> None:
    # when
    response = client.get("/api/v1/regulations/nothing", headers={"accept-language": "en"})
    # then
    assert response.status_code == 404
    assert response.json() == {
        "code": "regulation_not_found",
        "message": "There is no regulation nothing.",
        "details": {"regulation": "nothing"},
    }


def test_openapi_declares_the_error_shape_for_the_regulation_endpoints(client: Client) -> None:
    # when
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    # then
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, method, statuses in [
        ("/api/v1/sla/simulate", "post", ("404", "422", "500")),
        ("/api/v1/regulations/{regulation_id}", "get", ("404", "422", "500")),
        ("/api/v1/regulations", "get", ("422", "500")),
    ]:
        responses = paths[path][method]["responses"]
        for status in statuses:
            assert responses[status]["content"]["application/json"]["schema"] == error, (
                path,
                status,
            )


def test_the_simulation_is_public_for_now(client: Client) -> None:
    # given: no one is logged in
    regulation_load(data=ACME.encode(), name="acme.yaml")
    # when
    status, _reply = simulate(
        client, regulation="acme", tariff="basic", priority="high", received=RECEIVED
    )
    # then
    assert status == 200


def test_errors_follow_the_request_language(client: Client) -> None:
    # given: a client reading Russian (the default language)
    acme_load()
    # when
    response = client.post(
        "/api/v1/sla/simulate",
        data=json.dumps(
            {"regulation": "acme", "tariff": "gold", "priority": "high", "received": RECEIVED}
        ),
        content_type="application/json",
        headers={"accept-language": "ru"},
    )
    # then
    assert response.json()["message"] == (
        "Неизвестное значение tariff «gold»; допустимы: basic, premium."
    )
