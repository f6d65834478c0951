"""The portal's request page: the public history, and paid work the customer approves
or declines (R4.6), by the people the regulation names."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import PersonFactory
from reglament.paidwork.models import Estimate
from reglament.paidwork.services import estimate_propose
from reglament.tickets import services
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

Role = Membership.Role


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The portal acts at 15:00 on the day of the offer."""
    monkeypatch.setattr(timezone, "now", lambda: at("2025-11-11T15:00:00+03:00"))


def _offered(d: Desk) -> tuple[Ticket, Estimate]:
    """A Start request past its 4 h resolution time (R4.4) with an estimate proposed."""
    ticket = services.ticket_create(
        actor=d.requester, subject="Не проводится поступление", now=at("2025-11-11T10:00:00+03:00")
    )
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-11-11T10:10:00+03:00")
    )
    estimate = estimate_propose(
        ticket=ticket,
        actor=d.agent1,
        scope="Анализ базы и исправление проводок",
        hours="6",
        rate="3500",
        valid_until=date(2025, 11, 20),
        now=at("2025-11-11T14:30:00+03:00"),
    )
    ticket.refresh_from_db()
    return ticket, estimate


def test_the_history_shows_public_events_with_customer_labels_and_no_internal_note() -> None:
    # given: a CERA request moved to In progress, with a public reply and an internal note
    d = desk("cera", "standard")
    ticket = services.ticket_create(actor=d.requester, subject="Камеры", priority="high")
    services.ticket_transition(ticket=ticket, actor=d.agent1, status="in-progress")
    services.ticket_reply(ticket=ticket, author=d.agent1, body="Смотрим.")
    services.ticket_reply(ticket=ticket, author=d.agent1, body="Секрет", public=False)
    # when
    page = _client(d.requester).get(f"/requests/{ticket.number}/").content.decode()
    history = page[page.index('id="history"') :]
    # then: registration, the status change in the regulation's words, the reply
    assert "Request registered, status “Created”." in history
    assert "Status changed: “Created” → “In progress”." in history
    assert "Support replied." in history
    assert "Секрет" not in page
    assert "internal note" not in history


def test_the_requester_sees_the_estimate_and_approves_it(frozen: None) -> None:
    # given: R4.6 — a Start request became paid work
    d = desk("krizhik", "start")
    ticket, estimate = _offered(d)
    assert ticket.status == "awaiting-cost-approval"
    client = _client(d.requester)
    page = client.get(f"/requests/{ticket.number}/").content.decode()
    # then: scope, hours, rate, total, currency, validity and the buttons
    paid = page[page.index('id="paid-work"') :]
    for text in (
        "Анализ базы и исправление проводок",
        "6.00",
        "3500.00 RUB",
        "21000.00 RUB",
        "20.11.2025",
        "awaiting approval",
        'id="approve-form"',
        'id="decline-form"',
    ):
        assert text in paid
    # when
    response = client.post(f"/requests/{ticket.number}/estimates/1/approve/", follow=True)
    # then: approved, the work goes on, the page says so
    estimate.refresh_from_db()
    ticket.refresh_from_db()
    assert estimate.state == "approved"
    assert (estimate.decided_by, ticket.status) == (d.requester, "in-progress")
    body = response.content.decode()
    assert "You approved estimate 1; the work goes on." in body
    assert 'id="estimate-1-state">approved<' in body
    assert 'id="approve-form"' not in body
    assert "Paid work estimate 1 approved." in body


def test_the_customer_admin_declines_with_a_reason(frozen: None) -> None:
    # given
    d = desk("krizhik", "start")
    ticket, estimate = _offered(d)
    # when: the organisation's administrator declines
    response = _client(d.customer_admin).post(
        f"/requests/{ticket.number}/estimates/1/decline/",
        {"reason": "Дорого"},
        follow=True,
    )
    # then: declined with the reason; Start closes the request as consulted (on_decline)
    estimate.refresh_from_db()
    ticket.refresh_from_db()
    assert (estimate.state, estimate.decision_reason) == ("declined", "Дорого")
    assert (ticket.status, ticket.resolution) == ("done", "consulted")
    assert "You declined estimate 1." in response.content.decode()
    assert "Дорого" in response.content.decode()


@pytest.mark.parametrize("who", ["watcher", "agent"])
def test_people_the_regulation_does_not_name_cannot_decide(frozen: None, who: str) -> None:
    # given: a colleague watching the request, or an agent
    d = desk("krizhik", "start")
    ticket, estimate = _offered(d)
    if who == "watcher":
        person = PersonFactory.create(organisation=d.customer, role=Role.REQUESTER)
        services.ticket_watch(ticket=ticket, actor=d.customer_admin, watcher=person)
    else:
        person = d.agent1
    client = _client(person)
    # when: the page offers no buttons, and a hand-made approval is refused
    page = client.get(f"/requests/{ticket.number}/").content.decode()
    response = client.post(f"/requests/{ticket.number}/estimates/1/approve/", follow=True)
    # then
    assert 'id="approve-form"' not in page
    assert "may approve an estimate of this request" in response.content.decode()
    estimate.refresh_from_db()
    assert estimate.state == "proposed"


def test_another_customer_cannot_reach_the_estimate(frozen: None) -> None:
    # given
    d = desk("krizhik", "start")
    ticket, estimate = _offered(d)
    stranger = desk("krizhik", "start").requester
    # when
    response = _client(stranger).post(f"/requests/{ticket.number}/estimates/1/approve/")
    # then
    assert response.status_code == 404
    estimate.refresh_from_db()
    assert estimate.state == "proposed"
