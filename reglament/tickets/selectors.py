"""Read-only queries of the tickets app. Every read starts from what the person may see.

Tenancy: support staff see every request; a customer admin sees their
organisation's (a partner's admin also its clients', R2.1); a requester sees
the requests they filed or watch. Internal notes, internal files and staff-only
events never reach customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from reglament.accounts.models import Membership
from reglament.accounts.selectors import Profile, person_profile
from reglament.domain.regulation import Regulation, format_target
from reglament.domain.sla import ClockState
from reglament.tickets.errors import TicketNotFoundError
from reglament.tickets.models import Attachment, Comment, Ticket, TicketEvent

Role = Membership.Role


def tickets_visible_to(profile: Profile) -> QuerySet[Ticket]:
    tickets = Ticket.objects.select_related(
        "organisation", "requester", "assignee", "contract__tariff__version", "version"
    ).defer("version__text", "contract__tariff__version__text")
    if profile.staff:
        return tickets
    if not profile.customer or profile.organisation is None:
        return tickets.none()
    if profile.role == Role.CUSTOMER_ADMIN:
        own = profile.organisation.pk
        return tickets.filter(Q(organisation_id=own) | Q(organisation__partner_id=own))
    return tickets.filter(Q(requester_id=profile.user.pk) | Q(watchers=profile.user.pk)).distinct()


def ticket_get(*, user: User, number: str) -> Ticket:
    """The request `number` if `user` may see it; otherwise TicketNotFoundError (no hint)."""
    found = tickets_visible_to(person_profile(user)).filter(number=number).first()
    if found is None:
        raise TicketNotFoundError(details={"number": number})
    return found


@dataclass(frozen=True, slots=True)
class TicketFilter:
    status: str | None = None
    priority: str | None = None
    line: int | None = None
    organisation: int | None = None
    assignee: str | None = None  # a login, or "none" for unassigned
    is_open: bool | None = None
    breached: bool | None = None
    at_risk: bool | None = None


def ticket_list(
    *,
    user: User,
    filters: TicketFilter,
    after: tuple[datetime | None, int] | None = None,
    limit: int = 50,
) -> list[Ticket]:
    """Requests in queue order: the most urgent next due instant first, then the rest.

    Cursor pagination on (next_due_at, id): `after` is the last row's pair.
    Requests with nothing due (NULL) come after every dated one, by id.
    """
    tickets = tickets_visible_to(person_profile(user))
    f = filters
    if f.status is not None:
        tickets = tickets.filter(status=f.status)
    if f.priority is not None:
        tickets = tickets.filter(priority=f.priority)
    if f.line is not None:
        tickets = tickets.filter(line=f.line)
    if f.organisation is not None:
        tickets = tickets.filter(organisation_id=f.organisation)
    if f.assignee is not None:
        tickets = (
            tickets.filter(assignee__isnull=True)
            if f.assignee == "none"
            else tickets.filter(assignee__username=f.assignee)
        )
    if f.is_open is not None:
        tickets = tickets.filter(is_open=f.is_open)
    if f.breached is not None:
        tickets = tickets.filter(breached=f.breached)
    if f.at_risk is not None:
        tickets = tickets.filter(at_risk=f.at_risk)
    if after is not None:
        due, pk = after
        if due is None:
            tickets = tickets.filter(next_due_at__isnull=True, id__gt=pk)
        else:
            tickets = tickets.filter(
                Q(next_due_at__gt=due) | Q(next_due_at=due, id__gt=pk) | Q(next_due_at__isnull=True)
            )
    from django.db.models import F

    return list(tickets.order_by(F("next_due_at").asc(nulls_last=True), "id")[:limit])


def ticket_queue(*, line: int, limit: int = 50) -> list[Ticket]:
    """The agent queue: the `limit` most urgent open requests of a line (index-only order)."""
    return list(
        Ticket.objects.filter(is_open=True, line=line, next_due_at__isnull=False)
        .select_related("organisation", "assignee")
        .order_by("next_due_at", "id")[:limit]
    )


def ticket_comments(*, user: User, ticket: Ticket) -> list[Comment]:
    comments = ticket.comments.select_related("author").order_by("created_at", "id")
    if not person_profile(user).staff:
        comments = comments.filter(public=True)
    return list(comments)


def ticket_events(*, user: User, ticket: Ticket) -> list[TicketEvent]:
    events = ticket.events.select_related("actor").order_by("created_at", "id")
    if not person_profile(user).staff:
        events = events.filter(public=True)
    return list(events)


def ticket_attachments(*, user: User, ticket: Ticket) -> list[Attachment]:
    attachments = ticket.attachments.order_by("created_at", "id")
    if not person_profile(user).staff:
        attachments = attachments.filter(public=True)
    return list(attachments)


def attachment_get(*, user: User, ticket: Ticket, attachment_id: int) -> Attachment:
    for attachment in ticket_attachments(user=user, ticket=ticket):
        if attachment.pk == attachment_id:
            return attachment
    from reglament.tickets.errors import TicketNotFoundError as _NotFound

    raise _NotFound(
        details={"number": ticket.number, "attachment": attachment_id},
    )


# ------------------------------------------------------------------ portal
@dataclass(frozen=True, slots=True)
class PromisedTime:
    """One promised time a customer sees: the metric, its target, due instant and state."""

    title: str
    target: str
    due_at: datetime | None
    state: str  # waiting, running, paused, met or breached (ClockState.state)


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """A request as its customer reads it: labels from the regulation, times in its zone."""

    ticket: Ticket
    status_title: str
    priority_title: str
    zone: ZoneInfo
    waiting_for_customer: bool
    promises: tuple[PromisedTime, ...]


@dataclass(frozen=True, slots=True)
class RequestPage:
    summary: RequestSummary
    comments: list[Comment]
    attachments: list[Attachment]
    may_close: bool


# Clock states a customer is told about; a metric without a promise is left out.
_PROMISED_STATES = ("waiting", "running", "paused", "met", "breached")


def _summary(
    ticket: Ticket, regulation: Regulation, states: tuple[ClockState, ...], lang: str
) -> RequestSummary:
    status = regulation.status(ticket.status)
    priority = next((p for p in regulation.priorities if p.id == ticket.priority), None)
    return RequestSummary(
        ticket=ticket,
        status_title=status.title.get(lang),
        priority_title=priority.title.get(lang) if priority is not None else ticket.priority,
        zone=regulation.calendars[regulation.default_calendar].timezone,
        waiting_for_customer=status.waiting_for_customer,
        promises=tuple(
            PromisedTime(
                title=regulation.metric(state.metric).title.get(lang),
                target=format_target(state.target.duration, lang),
                due_at=state.due,
                state=state.state,
            )
            for state in states
            if state.state in _PROMISED_STATES and state.target is not None and state.target.promise
        ),
    )


def portal_requests(
    *, user: User, lang: str, now: datetime | None = None, limit: int = 100
) -> list[RequestSummary]:
    """The requests a person may see (the same tenancy as the API), newest first."""
    from reglament.sla.selectors import tickets_clocks

    tickets = list(
        tickets_visible_to(person_profile(user)).order_by("-registered_at", "-id")[:limit]
    )
    clocks = tickets_clocks(tickets, now=now)
    return [_summary(ticket, *clocks[ticket.pk], lang) for ticket in tickets]


def portal_request(
    *, user: User, number: str, lang: str, now: datetime | None = None
) -> RequestPage:
    """One request's page: header, public conversation and files, clocks; 404 if not visible."""
    from reglament.sla.selectors import tickets_clocks

    ticket = ticket_get(user=user, number=number)
    regulation, states = tickets_clocks([ticket], now=now)[ticket.pk]
    profile = person_profile(user)
    return RequestPage(
        summary=_summary(ticket, regulation, states, lang),
        comments=ticket_comments(user=user, ticket=ticket),
        attachments=ticket_attachments(user=user, ticket=ticket),
        may_close=requester_may_close(profile=profile, ticket=ticket, regulation=regulation),
    )


def requester_may_close(*, profile: Profile, ticket: Ticket, regulation: Regulation) -> bool:
    """R3.8: a customer may close an open request if the regulation has a status for it."""
    return (
        profile.customer
        and ticket.is_open
        and any(s.final and not s.resolution_required for s in regulation.statuses)
    )
