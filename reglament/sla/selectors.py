"""Read-only queries of the sla app: a request's clocks, exact as of now, explained."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.domain.regulation import Regulation
from reglament.domain.sla import ClockState, compute_clocks
from reglament.regulations.models import Contract
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


# ------------------------------------------------------------------ previews
def promise_preview(
    *,
    contract: Contract,
    priority: str,
    type: str = "",
    category: str = "",
    line: int = 1,
    now: datetime | None = None,
) -> tuple[Regulation, tuple[ClockState, ...]]:
    """The clocks a request filed `now` under `contract` would start with; nothing is stored.

    The very computation ticket_clocks runs, on the events tickets.services.ticket_create
    writes for a request filed in the portal: received = registered = now, then the
    regulation's initial status. So the promise a customer reads before filing is
    the promise the request gets, to the second.
    """
    now = now or timezone.now()
    version = contract.tariff.version
    regulation = version.parsed()
    initial = next(s for s in regulation.statuses if s.initial)
    ticket = Ticket(
        contract=contract,
        version=version,
        priority=priority,
        line=line,
        type=type,
        category=category,
        status=initial.id,
        received_at=now,
        registered_at=now,
    )
    created = TicketEvent(
        kind=TicketEvent.Kind.CREATED, created_at=now, data={"status": initial.id}
    )
    states = compute_clocks(
        regulation,
        ticket_case(ticket, regulation),
        clock_events(ticket, [created]),
        now=now,
        warning_share=settings.REGLAMENT_SLA_WARNING_SHARE,
        explain=False,
    )
    return regulation, states


_WEEKDAY_HOURS = re.compile(r"^mon-fri (\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


def calendar_hours(regulation: Regulation, calendar: str, *, counted: bool = True) -> str:
    """How a calendar counts time, in words: "counted 10:00–19:00 Moscow time on working
    days"; with `counted=False`, when it is open: "10:00–19:00 Moscow time on working days"."""
    spec = regulation.calendar_specs.get(calendar)
    if spec is None:
        return ""
    zone = _("Moscow") if spec.timezone == "Europe/Moscow" else spec.timezone
    schedule = spec.schedule.strip().lower()
    hours = _WEEKDAY_HOURS.match(schedule)
    if schedule == "always":
        return _("counted around the clock") if counted else _("around the clock")
    if hours is not None:
        words = {"start": hours.group(1), "end": hours.group(2), "zone": zone}
        if counted:
            return _("counted %(start)s–%(end)s %(zone)s time on working days") % words
        return _("%(start)s–%(end)s %(zone)s time on working days") % words
    return _("counted in working hours: %(schedule)s, %(zone)s time") % {
        "schedule": spec.schedule,
        "zone": zone,
    }
