import json
import urllib.request
from datetime import datetime, timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from reglament import __version__
from reglament.core.tests.factories import WorkerHeartbeatFactory

pytestmark = pytest.mark.django_db


def test_health_reports_ok_and_no_worker_when_no_worker_ever_ran(client: Client) -> None:
    # given: a fresh database, no worker has beaten yet
    # when
    response = client.get("/api/v1/health")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"] == "ok"
    assert body["worker"] == {"last_seen": None, "alive": False}
    assert abs(datetime.fromisoformat(body["time"]) - timezone.now()) < timedelta(seconds=5)


def test_health_reports_worker_alive_after_a_recent_beat(client: Client, settings) -> None:
    # given: heartbeat every 10 s, a beat 25 s ago (two missed beats are tolerated)
    settings.REGLAMENT_WORKER_HEARTBEAT = timedelta(seconds=10)
    beat = WorkerHeartbeatFactory.create(last_seen=timezone.now() - timedelta(seconds=25))
    # when
    body = client.get("/api/v1/health").json()
    # then
    assert body["worker"]["alive"] is True
    # JSON carries milliseconds
    last_seen = datetime.fromisoformat(body["worker"]["last_seen"])
    assert abs(last_seen - beat.last_seen) < timedelta(milliseconds=1)


def test_health_reports_worker_dead_after_three_missed_beats(client: Client, settings) -> None:
    # given: the last beat is older than three heartbeat periods
    settings.REGLAMENT_WORKER_HEARTBEAT = timedelta(seconds=10)
    WorkerHeartbeatFactory.create(last_seen=timezone.now() - timedelta(seconds=31))
    # when
    body = client.get("/api/v1/health").json()
    # then
    assert body["worker"]["alive"] is False


def test_health_uses_the_most_recent_beat_of_any_worker(client: Client) -> None:
    # given: one long-gone worker and one that beat just now
    WorkerHeartbeatFactory.create(last_seen=timezone.now() - timedelta(hours=2))
    recent = WorkerHeartbeatFactory.create(last_seen=timezone.now())
    # when
    body = client.get("/api/v1/health").json()
    # then
    assert body["worker"]["alive"] is True
    last_seen = datetime.fromisoformat(body["worker"]["last_seen"])
    assert abs(last_seen - recent.last_seen) < timedelta(milliseconds=1)


def test_health_answers_503_database_unavailable_when_database_fails(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: every query fails
    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refuse)
    # when
    response = client.get("/api/v1/health", headers={"accept-language": "en"})
    # then
    assert response.status_code == 503
    assert response.json() == {
        "code": "database_unavailable",
        "message": "The database is not reachable.",
        "details": {"reason": "OperationalError"},
    }


def test_health_error_message_follows_the_request_language(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the database is down and the client reads Russian
    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refuse)
    # when
    response = client.get("/api/v1/health", headers={"accept-language": "ru"})
    # then
    assert response.json()["message"] == "База данных недоступна."


@pytest.mark.django_db(transaction=True)
def test_health_is_served_over_real_http(live_server) -> None:
    # given: a live server on a free loopback port
    url = f"{live_server.url}/api/v1/health"
    # when
    with urllib.request.urlopen(url, timeout=10) as response:
        status, content_type, body = (
            response.status,
            response.headers["content-type"],
            response.read(),
        )
    # then
    assert status == 200
    assert content_type.startswith("application/json")
    assert json.loads(body)["status"] == "ok"


def test_openapi_is_3_1_and_declares_the_error_shape_for_health(client: Client) -> None:
    # when
    schema = client.get("/api/v1/openapi.json").json()
    # then
    assert schema["openapi"].startswith("3.1")
    responses = schema["paths"]["/api/v1/health"]["get"]["responses"]
    assert responses["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert schema["components"]["schemas"]["ErrorOut"]["required"] == [
        "code",
        "message",
        "details",
    ]


def test_api_docs_page_is_served_without_external_assets(client: Client) -> None:
    # when
    response = client.get("/api/v1/docs")
    # then: Swagger UI from ninja's bundled static files, not a CDN
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr.net" not in page
