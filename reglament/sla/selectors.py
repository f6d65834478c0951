"""Read-only queries of the sla app: a request's clocks, exact as of now, explained."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from reglament.domain.regulation import Regulation
from reglament.domain.sla import ClockState, compute_clocks
from reglament.sla.mappers import clock_events, ticket_case
from reglament.sla.models import Clock
from reglament.tickets.models import Ticket, TicketEvent


def ticket_clocks(
    ticket: Ticket, *, now: datetime | None = None
) -> tuple[Regulation, tuple[ClockState, ...]]:
    """Every clock of the request computed live from its events, with explanations."""
    regulation = ticket.version.parsed()
    events = TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id")
    states = compute_clocks(
        regulation,
        ticket_case(ticket, regulation),
        clock_events(ticket, events),
        now=now or timezone.now(),
        warning_share=settings.REGLAMENT_SLA_WARNING_SHARE,
    )
    return regulation, states


def clock_rows(ticket: Ticket) -> dict[str, Clock]:
    """The stored clock rows (recorded warnings and breaches), by metric."""
    return {clock.metric: clock for clock in Clock.objects.filter(ticket=ticket)}


def tickets_clocks(
    tickets: Sequence[Ticket], *, now: datetime | None = None
) -> dict[int, tuple[Regulation, tuple[ClockState, ...]]]:
    """The clocks of many requests at once: one query for all their events, no explanations.

    For lists: the query count does not grow with the number of requests.
    """
    now = now or timezone.now()
    by_ticket: dict[int, list[TicketEvent]] = {ticket.pk: [] for ticket in tickets}
    for event in TicketEvent.objects.filter(ticket__in=list(by_ticket)).order_by(
        "created_at", "id"
    ):
        by_ticket[event.ticket_id].append(event)
    result: dict[int, tuple[Regulation, tuple[ClockState, ...]]] = {}
    for ticket in tickets:
        regulation = ticket.version.parsed()
        result[ticket.pk] = (
            regulation,
            compute_clocks(
                regulation,
                ticket_case(ticket, regulation),
                clock_events(ticket, by_ticket[ticket.pk]),
                now=now,
                warning_share=settings.REGLAMENT_SLA_WARNING_SHARE,
                explain=False,
            ),
        )
    return result
