"""ORM ⇄ domain: a request and its event log as the pure clock computation sees them."""

from collections.abc import Iterable

from reglament.domain.regulation import Case, Regulation
from reglament.domain.sla import Event
from reglament.tickets.models import Ticket, TicketEvent

Kind = TicketEvent.Kind

# Ticket events that are, one to one, the metric events of the same name.
_MILESTONES: dict[str, str] = {
    Kind.DEFECT_CONFIRMED: "defect_confirmed",
    Kind.WORKAROUND_PROVIDED: "workaround_provided",
    Kind.SERVICE_RESTORED: "service_restored",
    # R4.6: a paid-work clock (`paid_work.metric`) starts when an estimate is approved.
    Kind.PAID_WORK_APPROVED: "paid_work_approved",
}


def ticket_case(ticket: Ticket, regulation: Regulation) -> Case:
    """What decides the request's targets now: tariff, priority, line, type, category…"""
    return regulation.check_case(
        Case(
            tariff=ticket.contract.tariff.code,
            priority=ticket.priority,
            line=ticket.line,
            type=ticket.type or None,
            category=ticket.category or None,
            attributes=dict(ticket.contract.attributes),
            out_of_scope=bool(ticket.out_of_scope),
        )
    )


def clock_events(ticket: Ticket, events: Iterable[TicketEvent]) -> list[Event]:
    """The metric events of docs/regulations.md, read from the request's event log.

    - ``received`` / ``registered``: the request's (possibly corrected) instants;
    - ``status``: the initial status at registration, then every status change;
    - ``work_started``: the first move out of the initial status;
    - ``first_public_reply``: the first public reply written by support staff;
    - ``defect_confirmed``, ``workaround_provided``, ``service_restored``: those steps;
    - ``paid_work_approved``: every approval of a paid-work estimate (R4.6);
    - ``resolved`` and ``closed``: every entry into a final status;
    - ``closed`` also when the request is merged into another one.
    """
    result = [Event(ticket.received_at, "received"), Event(ticket.registered_at, "registered")]
    work_started = False
    replied = False
    for event in events:
        kind, data = event.kind, event.data
        if kind == Kind.CREATED:
            result.append(Event(ticket.registered_at, "status", data["status"]))
        elif kind == Kind.STATUS_CHANGED:
            result.append(Event(event.created_at, "status", data["new"]))
            if not work_started:
                result.append(Event(event.created_at, "work_started"))
                work_started = True
            if data.get("final"):
                result.append(Event(event.created_at, "resolved"))
                result.append(Event(event.created_at, "closed"))
        elif kind == Kind.MERGED:
            # A duplicate merged into another request is closed: its clocks stop.
            result.append(Event(event.created_at, "closed"))
        elif kind == Kind.REPLIED and data.get("staff") and not replied:
            result.append(Event(event.created_at, "first_public_reply"))
            replied = True
        elif kind in _MILESTONES:
            result.append(Event(event.created_at, _MILESTONES[kind]))
    return result
