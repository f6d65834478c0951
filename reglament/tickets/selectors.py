"""Read-only queries of the tickets app. Every read starts from what the person may see.

Tenancy: support staff see every request; a customer admin sees their
organisation's (a partner's admin also its clients', R2.1); a requester sees
the requests they filed or watch. Internal notes, internal files and staff-only
events never reach customers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.selectors import Profile, person_profile
from reglament.domain.regulation import PRIORITIES, Case, Regulation, format_target
from reglament.domain.sla import ClockState
from reglament.regulations.models import Contract
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


# ------------------------------------------------------------ portal: filing
def filing_organisations(*, user: User) -> list[Organisation]:
    """Whom a customer may file for: their organisation, and a partner's clients (R2.1)."""
    profile = person_profile(user)
    own = profile.organisation
    if own is None or not profile.customer:
        return []
    if own.kind != Organisation.Kind.PARTNER:
        return [own]
    return [own, *Organisation.objects.filter(partner=own).order_by("name")]


def filing_organisation_get(pk: object) -> Organisation | None:
    """The organisation a form names by id (whether the person may file for it is the
    service's to say); None for no such id."""
    try:
        number = int(str(pk))
    except ValueError:
        return None
    return Organisation.objects.filter(pk=number).select_related("partner").first()


def contracts_in_force(*, organisation: Organisation, now: datetime) -> list[Contract]:
    """The organisation's contracts in force at `now`, one per regulation; a partner's
    client without one of its own is served under the partner's (R2.1), as ticket_create
    decides."""
    from reglament.regulations.selectors import contract_for_organisation

    def of(org: Organisation) -> list[Contract]:
        day = now.astimezone(UTC).date()
        regulation_ids = sorted(
            set(
                Contract.objects.filter(organisation=org, valid_from__lte=day + timedelta(days=1))
                .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day - timedelta(days=1)))
                .values_list("tariff__version__regulation_id", flat=True)
            )
        )
        found = [
            contract_for_organisation(org, at=now, regulation_id=regulation_id)
            for regulation_id in regulation_ids
        ]
        return [contract for contract in found if contract is not None]

    contracts = of(organisation)
    if not contracts and organisation.partner is not None:
        contracts = of(organisation.partner)
    return contracts


def filing_documentation(contracts: list[Contract], lang: str) -> list[tuple[str, str]]:
    """R5.4: the product documentation the regulations of `contracts` link, (title, url)."""
    links: list[tuple[str, str]] = []
    for contract in contracts:
        for document in contract.tariff.version.parsed().documentation:
            link = (document.title.get(lang), document.url)
            if link not in links:
                links.append(link)
    return links


@dataclass(frozen=True, slots=True)
class PriorityExplanation:
    """R3.1: the priority a new request would get, and why, in the reader's language."""

    priority: str | None  # None: the answers are not complete yet
    title: str
    definition: str
    source: str  # "matrix", "category", "default" or "incomplete"
    reasons: tuple[str, ...]  # the answers or the category it came from


def priority_explain(
    regulation: Regulation, *, impact: str, workaround: str, category: str, lang: str
) -> PriorityExplanation:
    """The priority ticket_create would derive from these answers (the same function)."""
    from reglament.tickets.errors import TicketInvalidError
    from reglament.tickets.services import derive_priority

    matrix = regulation.priority_matrix
    if matrix is not None and not (impact and workaround):
        return PriorityExplanation(None, "", "", "incomplete", ())
    try:
        priority = derive_priority(
            regulation,
            priority=None,
            impact=impact or None,
            workaround=workaround or None,
            category=category or None,
        )
    except TicketInvalidError:
        return PriorityExplanation(None, "", "", "incomplete", ())
    named = next((p for p in regulation.priorities if p.id == priority), None)
    reasons: tuple[str, ...] = ()
    if matrix is not None:
        source = "matrix"
        answers = {a.id: a.title.get(lang) for a in matrix.impact.answers}
        answers |= {f"w:{a.id}": a.title.get(lang) for a in matrix.workaround.answers}
        reasons = (answers.get(impact, impact), answers.get(f"w:{workaround}", workaround))
    elif category and regulation.category(category).default_priority:
        source = "category"
        reasons = (regulation.category(category).title.get(lang),)
    else:
        source = "default"
    return PriorityExplanation(
        priority=priority,
        title=named.title.get(lang) if named is not None else priority,
        definition=named.definition.get(lang) if named and named.definition else "",
        source=source,
        reasons=reasons,
    )


# ------------------------------------------------------- portal: my requests
@dataclass(frozen=True, slots=True)
class PortalFilter:
    """My requests' filters, as URL parameters: state, text, whose."""

    state: str = "open"  # open, closed or all
    text: str = ""  # in the number or the subject
    scope: str = "mine"  # mine, organisation or clients (a customer admin's choice)


def portal_scopes(profile: Profile) -> tuple[str, ...]:
    """Whose requests a person may list: a customer admin also the organisation's
    (a partner's admin also its clients')."""
    if profile.staff:
        return ("organisation",)
    if profile.role != Role.CUSTOMER_ADMIN or profile.organisation is None:
        return ("mine",)
    if profile.organisation.kind == Organisation.Kind.PARTNER:
        return ("mine", "organisation", "clients")
    return ("mine", "organisation")


@dataclass(frozen=True, slots=True)
class PortalPage:
    items: list[RequestSummary]
    page: Page[Ticket]
    scopes: tuple[str, ...]


def portal_request_page(
    *,
    user: User,
    lang: str,
    filters: PortalFilter,
    page: int | str = 1,
    per_page: int = 50,
    now: datetime | None = None,
    profile: Profile | None = None,
) -> PortalPage:
    """One page of the requests a person may see, newest first, with their clocks.

    A fixed number of queries, whatever the page holds: the count, the page's
    requests (with contract, tariff, version and organisation) and their events.
    """
    from reglament.sla.selectors import tickets_clocks

    profile = profile or person_profile(user)
    scopes = portal_scopes(profile)
    scope = filters.scope if filters.scope in scopes else scopes[0]
    tickets = tickets_visible_to(profile).select_related("contract__tariff")
    if scope == "mine" and not profile.staff:
        tickets = tickets.filter(Q(requester_id=user.pk) | Q(watchers=user.pk)).distinct()
    elif scope == "clients" and profile.organisation is not None:
        tickets = tickets.filter(organisation__partner_id=profile.organisation.pk)
    if filters.state == "open":
        tickets = tickets.filter(is_open=True)
    elif filters.state == "closed":
        tickets = tickets.filter(is_open=False)
    text = filters.text.strip()
    if text:
        tickets = tickets.filter(Q(number__icontains=text) | Q(subject__icontains=text))
    paginator = Paginator(tickets.order_by("-registered_at", "-id"), per_page)
    current = paginator.get_page(page)
    rows = list(current.object_list)
    clocks = tickets_clocks(rows, now=now)
    return PortalPage(
        items=[_summary(ticket, *clocks[ticket.pk], lang) for ticket in rows],
        page=current,
        scopes=scopes,
    )


# ------------------------------------------------------ portal: the history
@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One public event of a request, worded for its customer."""

    at: datetime
    kind: str
    text: str
    actor: str


def portal_history(
    *, user: User, ticket: Ticket, regulation: Regulation, lang: str
) -> list[HistoryEntry]:
    """The request's public events (never internal notes or staff-only changes), oldest first."""
    from django.utils.translation import gettext as _

    Kind = TicketEvent.Kind

    def status(status_id: object) -> str:
        found = next((s for s in regulation.statuses if s.id == status_id), None)
        return found.title.get(lang) if found is not None else str(status_id)

    def resolution(resolution_id: object) -> str:
        found = next((r for r in regulation.resolutions if r.id == resolution_id), None)
        return found.title.get(lang) if found is not None else str(resolution_id)

    entries = []
    for event in ticket_events(user=user, ticket=ticket):
        if not event.public:
            continue
        data = event.data
        kind = event.kind
        if kind == Kind.CREATED:
            text = _("Request registered, status “%(status)s”.") % {
                "status": status(data.get("status"))
            }
        elif kind == Kind.STATUS_CHANGED:
            text = _("Status changed: “%(old)s” → “%(new)s”.") % {
                "old": status(data.get("old")),
                "new": status(data.get("new")),
            }
            if data.get("resolution"):
                text += " " + _("Result: %(resolution)s.") % {
                    "resolution": resolution(data["resolution"])
                }
            if data.get("comment"):
                # The agent's message with the change; the status mail carries it too.
                text += " " + str(data["comment"])
        elif kind == Kind.REPLIED:
            text = _("Support replied.") if data.get("staff") else _("Reply sent.")
        elif kind == Kind.ATTACHED:
            text = _("File attached: %(name)s.") % {"name": data.get("name", "")}
        elif kind == Kind.ESCALATED:
            text = _("Passed to support line %(line)s.") % {"line": data.get("new")}
        elif kind in (
            Kind.PAID_WORK_PROPOSED,
            Kind.PAID_WORK_APPROVED,
            Kind.PAID_WORK_DECLINED,
            Kind.PAID_WORK_WITHDRAWN,
        ):
            words: dict[str, str] = {
                Kind.PAID_WORK_PROPOSED: _("Paid work estimate %(number)s proposed."),
                Kind.PAID_WORK_APPROVED: _("Paid work estimate %(number)s approved."),
                Kind.PAID_WORK_DECLINED: _("Paid work estimate %(number)s declined."),
                Kind.PAID_WORK_WITHDRAWN: _("Paid work estimate %(number)s withdrawn."),
            }
            text = words[kind] % {"number": data.get("estimate", "")}
        else:
            text = str(event.get_kind_display()).capitalize() + "."
        actor = event.actor
        entries.append(
            HistoryEntry(
                at=event.created_at,
                kind=kind,
                text=text,
                actor=(actor.get_full_name() or actor.get_username()) if actor else "",
            )
        )
    return entries


# ---------------------------------------------------------- portal: tariff
@dataclass(frozen=True, slots=True)
class TargetCell:
    target: str  # "4 h", "consultation only", or "" where the metric does not apply
    hours: str  # how the calendar counts it
    note: str
    line3: str  # the line-3 target when it differs (R3.6), else ""


@dataclass(frozen=True, slots=True)
class TargetRow:
    title: str
    cells: tuple[TargetCell, ...]


@dataclass(frozen=True, slots=True)
class ServiceRow:
    title: str
    group: str
    note: str  # a limit or remark of the cell (e.g. "up to 6 h")
    included: bool


@dataclass(frozen=True, slots=True)
class TariffSummary:
    """What one contract's tariff includes and promises, in the reader's language."""

    contract: Contract
    regulation_title: str
    tariff_title: str
    tariff_description: str
    included: tuple[ServiceRow, ...]
    excluded: tuple[ServiceRow, ...]
    priorities: tuple[str, ...]
    targets: tuple[TargetRow, ...]
    category_targets: tuple[TargetRow, ...]
    metric_titles: tuple[str, ...]
    knowledge_sections: tuple[str, ...]
    channels: tuple[tuple[str, str, str], ...]  # title, address, hours
    out_of_scope: tuple[str, ...]
    paid_work_after: str


def _cell(regulation: Regulation, metric_id: str, case: Case, lang: str) -> TargetCell:
    from reglament.sla.selectors import calendar_hours

    found = regulation.target(metric_id, case)
    if found is None:
        return TargetCell("", "", "", "")
    line3 = ""
    if case.line == 1:
        upper = regulation.target(metric_id, replace(case, line=3))
        if upper is not None and upper.duration != found.duration:
            line3 = format_target(upper.duration, lang)
    return TargetCell(
        target=format_target(found.duration, lang),
        hours=calendar_hours(regulation, found.calendar) if found.promise else "",
        note=found.note.get(lang) if found.note else "",
        line3=line3,
    )


def tariff_summaries(
    *, organisation: Organisation, now: datetime, lang: str
) -> list[TariffSummary]:
    """R1.1, R2.5, R4.1: every contract in force, rendered from its regulation."""
    from reglament.paidwork.selectors import service_coverage

    summaries = []
    for contract in contracts_in_force(organisation=organisation, now=now):
        regulation = contract.tariff.version.parsed()
        code = contract.tariff.code
        tariff = regulation.tariff(code)
        included: list[ServiceRow] = []
        excluded: list[ServiceRow] = []
        for service in regulation.services:
            coverage = service_coverage(regulation, service=service.id, tariff=code)
            row = ServiceRow(
                title=service.title.get(lang),
                group=service.group.get(lang) if service.group else "",
                note=coverage.note.get(lang) if coverage.note else "",
                included=coverage.included,
            )
            (included if coverage.included else excluded).append(row)
        attributes = dict(contract.attributes)
        metrics = [m for m in regulation.metrics if m.tariffs is None or code in m.tariffs]
        targets = tuple(
            TargetRow(
                title=metric.title.get(lang),
                cells=tuple(
                    _cell(
                        regulation,
                        metric.id,
                        Case(tariff=code, priority=p, attributes=attributes),
                        lang,
                    )
                    for p in PRIORITIES
                ),
            )
            for metric in metrics
        )
        category_targets = tuple(
            TargetRow(
                title=category.title.get(lang),
                cells=tuple(
                    _cell(
                        regulation,
                        metric.id,
                        Case(
                            tariff=code,
                            priority=category.default_priority or regulation.default_priority,
                            category=category.id,
                            attributes=attributes,
                        ),
                        lang,
                    )
                    for metric in metrics
                ),
            )
            for category in regulation.categories
        )
        titles = {p.id: p.title.get(lang) for p in regulation.priorities}
        summaries.append(
            TariffSummary(
                contract=contract,
                regulation_title=regulation.title.get(lang),
                tariff_title=tariff.title.get(lang),
                tariff_description=tariff.description.get(lang) if tariff.description else "",
                included=tuple(included),
                excluded=tuple(excluded),
                priorities=tuple(titles.get(p, p) for p in PRIORITIES),
                targets=targets,
                category_targets=category_targets,
                metric_titles=tuple(m.title.get(lang) for m in metrics),
                knowledge_sections=tuple(
                    s.title.get(lang) for s in regulation.knowledge_sections if code in s.tariffs
                ),
                channels=_channels(regulation, lang),
                out_of_scope=tuple(o.title.get(lang) for o in regulation.out_of_scope),
                paid_work_after=(
                    regulation.metric(tariff.paid_work.after).title.get(lang)
                    if tariff.paid_work is not None
                    else ""
                ),
            )
        )
    return summaries


def _channels(regulation: Regulation, lang: str) -> tuple[tuple[str, str, str], ...]:
    from django.utils.translation import gettext as _

    from reglament.sla.selectors import calendar_hours

    rows = [
        (
            channel.title.get(lang),
            channel.address,
            calendar_hours(regulation, channel.calendar, counted=False),
        )
        for channel in regulation.channels
    ]
    if not any(channel.id == "portal" for channel in regulation.channels):
        rows.insert(0, (_("This portal"), "", _("around the clock")))
    return tuple(rows)
