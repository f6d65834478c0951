"""What the sweeper records, and when: one worker, exact instants."""

import pytest
from django.contrib.auth.models import User

from reglament.sla.models import Clock
from reglament.sla.services import SweepReport, sla_sweep
from reglament.sla.tests.factories import BREACH, REGISTERED, WARNING, msk
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db


def _clock_events(ticket: Ticket) -> list[tuple[str, str, str, bool]]:
    """(kind, metric, at, notify) of the request's warning and breach events, in order."""
    events = TicketEvent.objects.filter(ticket=ticket, kind__in=(WARNING, BREACH))
    return [
        (e.kind, e.data["metric"], e.data["at"], e.data["notify"]) for e in events.order_by("pk")
    ]


def _cera_critical() -> tuple[Ticket, User]:
    """A CERA critical request (R3.6 line 1: 6 working hours, due Mon 16:00), and agent1."""
    cera = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=cera.requester, subject="Всё упало", priority="critical", now=REGISTERED
    )
    return ticket, cera.agent1


def test_each_event_carries_the_instant_it_happened_and_how_late_it_was_noticed() -> None:
    # given: the worker was down from Monday 10:00 until Tuesday 10:30
    ticket, _ = _cera_critical()
    # when
    report = sla_sweep(now=msk("2025-03-04T10:30:00"))
    # then: warning Mon 14:48 and breach Mon 16:00, recorded Tuesday 10:30; only the
    # breach asks for mail (a warning after the breach is for the record)
    assert report == SweepReport(tickets=1, warnings=1, breaches=1, left=0)
    assert _clock_events(ticket) == [
        (WARNING, "resolution", "2025-03-03T14:48:00+03:00", False),
        (BREACH, "resolution", "2025-03-03T16:00:00+03:00", True),
    ]
    breach = TicketEvent.objects.get(ticket=ticket, kind=BREACH)
    assert breach.created_at == msk("2025-03-04T10:30:00")
    assert breach.data["delay_seconds"] == 18 * 3600 + 30 * 60
    assert breach.public is False


def test_a_request_closed_late_while_no_worker_ran_records_its_breach_without_mail() -> None:
    # given: a critical request closed Monday 17:00, an hour after its due instant,
    # with no worker running in between
    ticket, agent = _cera_critical()
    services.ticket_transition(
        ticket=ticket,
        actor=agent,
        status="done",
        resolution="solved",
        now=msk("2025-03-03T17:00:00"),
    )
    # then: closing recorded the breach (and the warning) itself, with nobody to mail
    assert _clock_events(ticket) == [
        (WARNING, "resolution", "2025-03-03T14:48:00+03:00", False),
        (BREACH, "resolution", "2025-03-03T16:00:00+03:00", False),
    ]
    # and the sweeper has nothing to do for it
    assert sla_sweep(now=msk("2025-03-04T10:00:00")).tickets == 0


def test_a_request_closed_in_time_records_no_breach() -> None:
    # given: a critical request closed Monday 15:00, past its warning instant (14:48)
    ticket, agent = _cera_critical()
    services.ticket_transition(
        ticket=ticket,
        actor=agent,
        status="done",
        resolution="solved",
        now=msk("2025-03-03T15:00:00"),
    )
    # then: the warning is recorded (without mail: nothing to act on), no breach ever
    assert _clock_events(ticket) == [
        (WARNING, "resolution", "2025-03-03T14:48:00+03:00", False),
    ]
    assert sla_sweep(now=msk("2025-03-05T10:00:00")).tickets == 0


def test_what_passed_out_of_scope_is_recorded_when_the_request_is_back_in_scope() -> None:
    # given: a SET Retail premium critical request (R1.5 registers stopped: processing
    # 2 h, due Mon 12:00) classified out of scope at 10:05 (R1.7)
    retail = desk("set-retail", "premium")
    ticket = services.ticket_create(
        actor=retail.requester,
        subject="Касса",
        type="defect",
        priority="critical",
        category="registers-stopped",
        now=REGISTERED,
    )
    services.ticket_set_out_of_scope(
        ticket=ticket, actor=retail.agent1, item="hardware-os-dbms", now=msk("2025-03-03T10:05:00")
    )
    # when: sweeps run past every instant: nothing is recorded
    assert sla_sweep(now=msk("2025-03-03T15:00:00")).tickets == 0
    assert _clock_events(ticket) == []
    # when: the agent finds it is SET's fault after all
    services.ticket_set_out_of_scope(
        ticket=ticket, actor=retail.agent1, item="", now=msk("2025-03-03T15:30:00")
    )
    # then: the promises are back; what passed meanwhile is recorded now, with its instants
    assert _clock_events(ticket) == [
        (WARNING, "consultation", "2025-03-03T13:12:00+03:00", False),
        (BREACH, "consultation", "2025-03-03T14:00:00+03:00", True),
        (WARNING, "restoration", "2025-03-03T13:12:00+03:00", False),
        (BREACH, "restoration", "2025-03-03T14:00:00+03:00", True),
        (WARNING, "processing", "2025-03-03T11:36:00+03:00", False),
        (BREACH, "processing", "2025-03-03T12:00:00+03:00", True),
    ]


def test_a_breach_is_recorded_once_even_when_the_target_grows_and_passes_again() -> None:
    # given: a critical request breached Monday 16:00 and swept
    ticket, agent = _cera_critical()
    sla_sweep(now=msk("2025-03-03T16:30:00"))
    # when: Tuesday 11:00 the agent lowers it to high (15 h: due Tue 16:00, warning 13:00)
    services.ticket_update(
        ticket=ticket,
        actor=agent,
        priority="high",
        now=msk("2025-03-04T11:00:00"),
    )
    ticket.refresh_from_db()
    # then: the request is within its new target: not breached, not at risk yet
    assert (ticket.breached, ticket.at_risk) == (False, False)
    clock = Clock.objects.get(ticket=ticket, metric="resolution")
    assert (clock.warn_at, clock.due_at) == (msk("2025-03-04T13:00:00"), msk("2025-03-04T16:00:00"))
    # ... but the sweeper still looks at it when the new instants pass
    assert clock.next_check_at == msk("2025-03-04T13:00:00")
    assert sla_sweep(now=msk("2025-03-04T13:30:00")).tickets == 1
    ticket.refresh_from_db()
    assert (ticket.breached, ticket.at_risk) == (False, True)
    assert sla_sweep(now=msk("2025-03-04T16:30:00")).tickets == 1
    ticket.refresh_from_db()
    assert (ticket.breached, ticket.at_risk) == (True, False)
    # and the warning and the breach stay recorded once, for the first target
    assert _clock_events(ticket) == [
        (WARNING, "resolution", "2025-03-03T14:48:00+03:00", False),
        (BREACH, "resolution", "2025-03-03T16:00:00+03:00", True),
    ]
    assert Clock.objects.get(ticket=ticket, metric="resolution").next_check_at is None
