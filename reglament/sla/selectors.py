"""Read-only queries of the sla app: a request's clocks, exact as of now, explained."""

from __future__ import annotations

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
