"""Personal API tokens: the key is shown once, works as a Bearer token, and is revocable."""

import json
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from reglament.accounts.models import AccountEvent, ApiToken, Membership
from reglament.accounts.services import token_authenticate, token_create, token_digest
from reglament.accounts.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_logged_in_person_creates_a_token_and_the_key_is_shown_only_once() -> None:
    # given a requester logged in to the web UI
    person = PersonFactory.create(username="anna", role=Membership.Role.REQUESTER)
    browser = Client()
    browser.force_login(person)
    # when they create a token for a script
    created = browser.post(
        f"{API}/tokens",
        json.dumps({"name": "  monitoring  ", "expires_at": "2999-01-01T00:00:00+03:00"}),
        content_type="application/json",
    )
    # then the answer carries the key; only its digest is stored
    assert created.status_code == 201
    body = created.json()
    key = body.pop("key")
    created_at, expires_at = body.pop("created_at"), body.pop("expires_at")
    token = ApiToken.objects.get()
    assert key.startswith(f"rgl_{token.prefix}_")
    assert token.digest == token_digest(key)
    assert body == {
        "id": token.pk,
        "name": "monitoring",
        "prefix": token.prefix,
        "last_used_at": None,
        "revoked_at": None,
    }
    # (the JSON carries milliseconds)
    assert datetime.fromisoformat(created_at) == token.created_at.replace(
        microsecond=token.created_at.microsecond // 1000 * 1000
    )
    assert datetime.fromisoformat(expires_at) == datetime.fromisoformat("2998-12-31T21:00:00+00:00")
    created_events = AccountEvent.objects.filter(kind=AccountEvent.Kind.TOKEN_CREATED)
    assert list(created_events.values_list("person", flat=True)) == [person.pk]
    # and the key works as a Bearer token; the list never shows it again
    listed = Client().get(f"{API}/tokens", headers=bearer(key))
    assert listed.status_code == 200
    assert [sorted(item) for item in listed.json()] == [
        ["created_at", "expires_at", "id", "last_used_at", "name", "prefix", "revoked_at"]
    ]
    assert listed.json()[0]["last_used_at"] is not None


def test_a_person_lists_only_their_own_tokens_newest_first() -> None:
    anna = PersonFactory.create(username="anna")
    boris = PersonFactory.create(username="boris")
    first, key = token_create(user=anna, name="laptop")
    second, _ = token_create(user=anna, name="ci")
    token_create(user=boris, name="boris's")
    response = Client().get(f"{API}/tokens", headers=bearer(key))
    assert [(item["id"], item["name"]) for item in response.json()] == [
        (second.pk, "ci"),
        (first.pk, "laptop"),
    ]


def test_revoking_a_token_stops_its_key_at_once() -> None:
    # given two tokens of one person
    anna = PersonFactory.create(username="anna")
    ci, ci_key = token_create(user=anna, name="ci")
    _laptop, laptop_key = token_create(user=anna, name="laptop")
    # when the laptop's key revokes the CI token
    response = Client().delete(f"{API}/tokens/{ci.pk}", headers=bearer(laptop_key))
    # then it is gone for good, and revoking again changes nothing
    assert response.status_code == 204
    assert response.content == b""
    refused = Client().get(f"{API}/tokens", headers=bearer(ci_key))
    assert (refused.status_code, refused.json()["code"]) == (401, "not_authenticated")
    assert token_authenticate(ci_key) is None
    again = Client().delete(f"{API}/tokens/{ci.pk}", headers=bearer(laptop_key))
    assert again.status_code == 204
    assert AccountEvent.objects.filter(kind=AccountEvent.Kind.TOKEN_REVOKED).count() == 1
    listed = Client().get(f"{API}/tokens", headers=bearer(laptop_key)).json()
    assert [item["revoked_at"] is not None for item in listed] == [False, True]


def test_someone_elses_token_is_404_and_stays_valid() -> None:
    anna = PersonFactory.create(username="anna")
    boris = PersonFactory.create(username="boris")
    borises, borises_key = token_create(user=boris, name="boris's")
    _, annas_key = token_create(user=anna, name="anna's")
    response = Client().delete(
        f"{API}/tokens/{borises.pk}", headers={**bearer(annas_key), "Accept-Language": "en"}
    )
    assert response.status_code == 404
    assert response.json() == {
        "code": "token_not_found",
        "message": "You have no such API token.",
        "details": {"id": borises.pk},
    }
    assert token_authenticate(borises_key) == boris


def test_a_token_needs_a_name_and_a_future_expiry() -> None:
    anna = PersonFactory.create(username="anna")
    _, key = token_create(user=anna, name="setup")
    client = Client()
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    for body, field in (({"name": " "}, "name"), ({"name": "x", "expires_at": past}, "expires_at")):
        response = client.post(
            f"{API}/tokens", json.dumps(body), content_type="application/json", headers=bearer(key)
        )
        assert response.status_code == 422
        assert response.json()["code"] == "token_invalid"
        assert response.json()["details"]["field"] == field
    naive = client.post(
        f"{API}/tokens",
        json.dumps({"name": "x", "expires_at": "2999-01-01T00:00:00"}),
        content_type="application/json",
        headers=bearer(key),
    )
    assert naive.status_code == 422
    assert [e["loc"] for e in naive.json()["details"]["errors"]] == [
        ["body", "payload", "expires_at"]
    ]


def test_the_tokens_api_needs_a_login() -> None:
    client = Client()
    assert client.get(f"{API}/tokens").status_code == 401
    assert client.post(f"{API}/tokens", "{}", content_type="application/json").status_code == 401
    assert client.delete(f"{API}/tokens/1").status_code == 401


def test_a_key_of_a_deactivated_person_or_a_malformed_key_authenticates_nobody() -> None:
    anna = PersonFactory.create(username="anna")
    _, key = token_create(user=anna, name="laptop")
    assert token_authenticate(key) == anna
    assert token_authenticate(key + "x") is None
    assert token_authenticate(key.removeprefix("rgl_")) is None
    anna.is_active = False
    anna.save()
    assert token_authenticate(key) is None
    response = Client().get(f"{API}/tokens", headers=bearer(key))
    assert response.status_code == 401


def test_an_expired_token_authenticates_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    anna = PersonFactory.create(username="anna")
    expires = datetime.fromisoformat("2999-01-01T00:00:00+00:00")
    _, key = token_create(user=anna, name="trial", expires_at=expires)
    monkeypatch.setattr(timezone, "now", lambda: expires - timedelta(seconds=1))
    assert token_authenticate(key) == anna
    monkeypatch.setattr(timezone, "now", lambda: expires)
    assert token_authenticate(key) is None


@pytest.mark.parametrize("offset", ["-19:36", "+15:00", "+23:59"])
def test_an_instant_with_an_offset_no_time_zone_has_is_refused_not_a_server_error(
    offset: str,
) -> None:
    """Found by Schemathesis on PostgreSQL, which stores offsets only up to ±15:59."""
    # given a logged-in person
    browser = Client()
    browser.force_login(PersonFactory.create(username="anna", role=Membership.Role.REQUESTER))
    # when the expiry carries an offset beyond -12:00…+14:00
    response = browser.post(
        f"{API}/tokens",
        json.dumps({"name": "script", "expires_at": f"2999-11-25T08:04:41{offset}"}),
        content_type="application/json",
    )
    # then it is a 422 naming the field and the range; nothing is stored
    assert response.status_code == 422, response.content
    assert "offsets run from -12:00 to +14:00" in response.content.decode()
    assert "expires_at" in response.content.decode()
    assert not ApiToken.objects.exists()
