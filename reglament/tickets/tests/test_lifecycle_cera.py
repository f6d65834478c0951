"""A CERA request lives its whole life through the services (R3.4–R3.8)."""

from datetime import datetime, timedelta

import pytest

from reglament.sla.models import Clock
from reglament.sla.services import sla_sweep
from reglament.tickets import services
from reglament.tickets.errors import (
    ResolutionRequiredError,
    TicketClosedError,
    TicketPermissionError,
    TransitionNotAllowedError,
)
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def resolution(ticket: Ticket) -> Clock:
    return Clock.objects.get(ticket=ticket, metric="resolution")


def test_escalation_keeps_consumed_time_and_clarification_pauses_resolution() -> None:
    # given a critical defect registered Monday 12:00 Moscow time on line 1
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Камеры не считают посетителей",
        type="defect",
        priority="critical",
        now=at("2025-03-03T12:00:00+03:00"),
    )
    # R3.4: a unique number with the registration time
    assert ticket.number == "CERA-2025-000001"
    assert ticket.registered_at == at("2025-03-03T12:00:00+03:00")
    # R3.6 Critical, line 1–2: 6 working hours → Monday 18:00
    assert resolution(ticket).due_at == at("2025-03-03T18:00:00+03:00")

    # when line 1 escalates to line 3 at 14:00
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-03-03T13:00:00+03:00")
    )
    services.ticket_escalate(
        ticket=ticket,
        actor=d.agent1,
        line=3,
        reason="Нужен разработчик",
        now=at("2025-03-03T14:00:00+03:00"),
    )
    # then R3.6 Critical, line 3: 12 working hours, the 2 h consumed are kept:
    # Mon 12–19 (7 h) + Tue 10–15 (5 h)
    clock = resolution(ticket)
    assert clock.due_at == at("2025-03-04T15:00:00+03:00")
    assert clock.consumed == timedelta(hours=2)

    # when line 3 asks the customer at 15:00 and the customer answers Tue 11:00 (R3.7)
    services.ticket_transition(
        ticket=ticket, actor=d.agent3, status="clarification", now=at("2025-03-03T15:00:00+03:00")
    )
    assert resolution(ticket).state == "paused"
    assert resolution(ticket).next_check_at is None
    services.ticket_reply(
        ticket=ticket,
        author=d.requester,
        body="Логи во вложении",
        now=at("2025-03-04T11:00:00+03:00"),
    )
    # then the reply resumed the clock: 3 h used, 9 h left from Tue 11:00 → Wed 11:00
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    clock = resolution(ticket)
    assert (clock.state, clock.consumed) == ("running", timedelta(hours=3))
    assert clock.due_at == at("2025-03-05T11:00:00+03:00")
    # 80 % of 12 h = 9 h 36 min: 3 h before the pause, 6 h 36 min from Tue 11:00
    assert clock.warn_at == at("2025-03-04T17:36:00+03:00")
    assert clock.next_check_at == clock.warn_at

    # when the sweeper runs after the warning instant, twice
    first = sla_sweep(now=at("2025-03-04T18:00:00+03:00"))
    second = sla_sweep(now=at("2025-03-04T18:00:00+03:00"))
    # then the warning is recorded once, for its instant
    assert (first.warnings, first.breaches, second.warnings) == (1, 0, 0)
    warning = TicketEvent.objects.get(ticket=ticket, kind=Kind.CLOCK_WARNING)
    assert warning.data["at"] == at("2025-03-04T17:36:00+03:00").isoformat()

    # when done without a resolution, then the regulation refuses (R3.5)
    with pytest.raises(ResolutionRequiredError):
        services.ticket_transition(
            ticket=ticket, actor=d.agent3, status="done", now=at("2025-03-05T10:00:00+03:00")
        )
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent3,
        status="done",
        resolution="solved",
        now=at("2025-03-05T10:30:00+03:00"),
    )
    # then the resolution clock is met and nothing is due any more
    clock = resolution(ticket)
    assert (clock.state, clock.next_check_at) == ("met", None)
    assert sla_sweep(now=at("2025-03-06T12:00:00+03:00")).breaches == 0


def test_a_transition_the_regulation_does_not_allow_is_refused_with_what_is_allowed() -> None:
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester, subject="Вопрос", now=at("2025-03-03T12:00:00+03:00")
    )
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="closed", now=at("2025-03-03T12:10:00+03:00")
    )
    with pytest.raises(TransitionNotAllowedError) as error:
        services.ticket_transition(
            ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-03-03T12:20:00+03:00")
        )
    assert error.value.details == {"from": "closed", "to": "in-progress", "allowed": []}


def test_the_requester_closes_their_own_request_r3_8() -> None:
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester, subject="Вопрос", now=at("2025-03-03T12:00:00+03:00")
    )
    services.ticket_close_by_requester(
        ticket=ticket, actor=d.requester, now=at("2025-03-03T12:30:00+03:00")
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.is_open) == ("closed", False)
    assert resolution(ticket).state == "met"


def test_customers_cannot_change_status() -> None:
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester, subject="Вопрос", now=at("2025-03-03T12:00:00+03:00")
    )
    with pytest.raises(TicketPermissionError):
        services.ticket_transition(
            ticket=ticket,
            actor=d.requester,
            status="in-progress",
            now=at("2025-03-03T12:01:00+03:00"),
        )


def test_a_missed_deadline_is_recorded_once_even_when_noticed_late() -> None:
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Всё упало",
        priority="critical",
        now=at("2025-03-03T12:00:00+03:00"),
    )
    # the worker was down all day; a sweep on Tuesday finds warning and breach passed
    report = sla_sweep(now=at("2025-03-04T12:00:00+03:00"))
    assert (report.warnings, report.breaches) == (1, 1)
    breach = TicketEvent.objects.get(ticket=ticket, kind=Kind.CLOCK_BREACHED)
    assert breach.data["at"] == at("2025-03-03T18:00:00+03:00").isoformat()
    warning = TicketEvent.objects.get(ticket=ticket, kind=Kind.CLOCK_WARNING)
    assert warning.data["notify"] is False  # only the breach is worth a message
    # an agent's change later re-computes without recording anything again
    services.ticket_update(
        ticket=ticket, actor=d.agent1, priority="high", now=at("2025-03-04T12:30:00+03:00")
    )
    assert TicketEvent.objects.filter(ticket=ticket, kind=Kind.CLOCK_BREACHED).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=Kind.CLOCK_WARNING).count() == 1


def test_a_merged_duplicate_stops_its_clocks_and_never_breaches() -> None:
    # given two requests about the same outage
    d = desk("cera", "standard")
    first = services.ticket_create(
        actor=d.requester,
        subject="Всё упало",
        priority="critical",
        now=at("2025-03-03T12:00:00+03:00"),
    )
    duplicate = services.ticket_create(
        actor=d.customer_admin,
        subject="Всё упало (ещё раз)",
        priority="critical",
        now=at("2025-03-03T12:10:00+03:00"),
    )
    # when an agent merges the duplicate at 12:30
    services.ticket_merge(
        ticket=duplicate, into=first, actor=d.agent1, now=at("2025-03-03T12:30:00+03:00")
    )
    # then the duplicate is closed, its clock met and nothing of it fires later
    duplicate.refresh_from_db()
    assert (duplicate.is_open, duplicate.merged_into_id) == (False, first.pk)
    assert (resolution(duplicate).state, resolution(duplicate).next_check_at) == ("met", None)
    report = sla_sweep(now=at("2025-03-04T12:00:00+03:00"))
    assert report.breaches == 1  # the request that continues, not the duplicate
    assert not TicketEvent.objects.filter(ticket=duplicate, kind=Kind.CLOCK_BREACHED).exists()
    assert first.watchers.filter(pk=d.customer_admin.pk).exists()
    with pytest.raises(TicketClosedError):
        services.ticket_transition(
            ticket=duplicate,
            actor=d.agent1,
            status="in-progress",
            now=at("2025-03-03T13:00:00+03:00"),
        )
