"""Helpers of the paid-work tests: the instant the desk believes it is, and a token client."""

import json
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from reglament.accounts.services import token_create

API = "/api/v1"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Now:
    """The instant the services and the API believe it is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.value = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.value)

    def __call__(self, text: str) -> None:
        self.value = at(text)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Now:
    return Now(monkeypatch)


class Api:
    """A client that sends one person's personal API token."""

    def __init__(self, user: User) -> None:
        self.client = Client()
        self.headers = {
            "Authorization": f"Bearer {token_create(user=user, name='t')[1]}",
            "Accept-Language": "en",  # the messages the tests read are the English ones
        }

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.send("POST", path, body or {})

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.generic(
            method,
            API + path,
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


def clock(api: Api, number: str, metric: str = "resolution") -> dict[str, Any]:
    clocks = api.get(f"/tickets/{number}/clocks").json()["clocks"]
    (found,) = [c for c in clocks if c["metric"] == metric]
    return found
