"""A Krizhik desk with requests at given instants, API tokens and helpers for usage tests."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django_tasks_db.models import DBTaskResult

from reglament.accounts.services import token_create
from reglament.tickets import services as ticket_services
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import Desk, desk
from reglament.usage.tasks import allowance_exceeded_notify


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def krizhik_desk(tariff: str) -> Desk:
    """A Krizhik customer on `tariff` (no Krizhik tariff includes a personal manager)."""
    return desk("krizhik", tariff)


def request(d: Desk, subject: str, registered: str) -> Ticket:
    return ticket_services.ticket_create(
        actor=d.requester, subject=subject, priority="high", now=at(registered)
    )


def resolve(d: Desk, ticket: Ticket, when: str, resolution: str = "solved") -> Ticket:
    return ticket_services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="done", resolution=resolution, now=at(when)
    )


def reopen(d: Desk, ticket: Ticket, when: str) -> Ticket:
    return ticket_services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at(when)
    )


def bearer(user: User) -> dict[str, str]:
    """Headers of an API call as `user` (a personal token), answered in English."""
    key = token_create(user=user, name="tests")[1]
    return {"Authorization": f"Bearer {key}", "Accept-Language": "en"}


def queued_crossings() -> list[int]:
    """The crossing of every queued allowance_exceeded_notify task; a duplicate shows twice."""
    tasks = DBTaskResult.objects.filter(task_path=allowance_exceeded_notify.module_path)
    return sorted(
        row["kwargs"]["crossing_id"] for row in tasks.values_list("args_kwargs", flat=True)
    )


API = "/api/v1"


class Api:
    """A client that sends one person's personal API token (answers in English)."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers = bearer(user) if user is not None else {"Accept-Language": "en"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params, headers=self.headers)

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.generic(
            method,
            API + path,
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.send("POST", path, body)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.send("PUT", path, body)

    def log(self, number: str, minutes: int, when: str, **body: Any) -> Any:
        body = {"minutes": minutes, "activity": "consultation", "performed_at": when, **body}
        return self.post(f"/tickets/{number}/time", body)
