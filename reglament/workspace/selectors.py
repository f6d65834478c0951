"""Read-only queries of the agent workspace: the queue and a request as staff see it.

Both pages read a bounded number of queries whatever the number of requests,
comments or events: the queue reads one page of requests (keyset, index order)
and their stored clock rows in one query; the request page reads each of its
lists with one query.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.selectors import STAFF_ROLES, Profile, person_profile
from reglament.domain.regulation import Regulation, format_target
from reglament.domain.sla import ClockState
from reglament.mailbox.models import InboundMessage, OutboundMessage
from reglament.mailbox.selectors import inbound_for_ticket, outbound_for_ticket
from reglament.regulations.models import Contract
from reglament.regulations.selectors import regulation_latest_versions
from reglament.sla.models import Clock
from reglament.tickets.errors import TicketNotFoundError
from reglament.tickets.models import Attachment, Channel, Comment, Ticket, TicketEvent
from reglament.usage.models import Activity, TimeEntry

Kind = TicketEvent.Kind
PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


class NotStaffError(TicketNotFoundError):
    """The workspace is for support staff; anyone else is told nothing (a 404)."""


def require_staff(user: User) -> Profile:
    profile = person_profile(user)
    if not profile.staff:
        raise NotStaffError(details={"workspace": True})
    return profile


def zone_of(regulation: Regulation) -> ZoneInfo:
    return regulation.calendars[regulation.default_calendar].timezone


def duration_text(value: timedelta, *, in_days: bool = True) -> str:
    """A span for people: `2 d 4 h`, `3 h 05 min`, `12 min` (rounded down to minutes).

    Business time (`in_days=False`) stays in hours: 30 working hours are not "1 d 6 h".
    """
    minutes = max(int(abs(value) // timedelta(minutes=1)), 0)
    days, rest = divmod(minutes, 24 * 60) if in_days else (0, minutes)
    hours, minutes = divmod(rest, 60)
    # The same words as the queue's countdown script (workspace.js) is given.
    if days:
        return _("{d} d {h} h").format(d=days, h=hours)
    if hours:
        return _("{h} h {m} min").format(h=hours, m=f"{minutes:02d}")
    return _("{m} min").format(m=minutes)


def title_of(items: Any, item_id: str, lang: str) -> str:
    for item in items:
        if item.id == item_id:
            return str(item.title.get(lang))
    return item_id


# ----------------------------------------------------------------------- clocks
@dataclass(frozen=True, slots=True)
class Countdown:
    """A clock as a countdown: its due and warning instants and how it looks at `now`."""

    title: str
    state: str  # running, paused, breached (Clock.State)
    due_at: datetime | None
    warn_at: datetime | None
    level: str  # ok, warn, bad, paused
    text: str

    @property
    def due_ms(self) -> int | None:
        return _ms(self.due_at)

    @property
    def warn_ms(self) -> int | None:
        return _ms(self.warn_at)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // timedelta(milliseconds=1)


def countdown(
    *, title: str, state: str, due: datetime | None, warn: datetime | None, now: datetime
) -> Countdown:
    """Green until the warning share of the target is used, amber after, red once due."""
    if state == Clock.State.PAUSED:
        return Countdown(title, state, due, warn, "paused", _("paused"))
    if due is None:
        return Countdown(title, state, due, warn, "ok", "—")
    if state == Clock.State.BREACHED or now >= due:
        overdue = _("overdue by {t}").format(t=duration_text(now - due))
        return Countdown(title, state, due, warn, "bad", overdue)
    left = _("{t} left").format(t=duration_text(due - now))
    if warn is not None and now >= warn:
        return Countdown(title, state, due, warn, "warn", _("at risk: {t}").format(t=left))
    return Countdown(title, state, due, warn, "ok", left)


def _next_clock(
    rows: list[Clock], regulation: Regulation, lang: str, now: datetime
) -> Countdown | None:
    """The clock the queue is ordered by (Ticket.next_due_at), else a paused one."""
    running = [
        c
        for c in rows
        if c.stopped_at is None and c.due_at is not None and c.state in ("running", "breached")
    ]
    paused = [c for c in rows if c.state == "paused"]
    chosen = min(running or paused, key=lambda c: c.due_at or _EPOCH, default=None)
    if chosen is None:
        return None
    return countdown(
        title=title_of(regulation.metrics, chosen.metric, lang),
        state=chosen.state,
        due=chosen.due_at,
        warn=chosen.warn_at,
        now=now,
    )


# ------------------------------------------------------------------------ queue
@dataclass(frozen=True, slots=True)
class QueueFilters:
    """The queue's filters, all shareable as URL parameters."""

    line: int | None = None
    assignee: str = ""  # "", "me" or "none"
    organisation: int | None = None
    tariff: str = ""  # "<regulation>:<tariff code>"
    priority: str = ""
    category: str = ""  # "<regulation>:<category id>"
    at_risk: bool = False
    breached: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class QueueRow:
    ticket: Ticket
    status_title: str
    waiting: bool
    priority_title: str
    category_title: str
    tariff_title: str
    zone: ZoneInfo
    clock: Countdown | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None
    now: datetime


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class QueueChoices:
    organisations: list[Option]
    tariffs: list[Option]
    categories: list[Option]
    priorities: list[Option]


def cursor_encode(ticket: Ticket) -> str:
    if ticket.next_due_at is None:
        return f"n.{ticket.pk}"
    return f"{(ticket.next_due_at - _EPOCH) // _MICRO}.{ticket.pk}"


def cursor_decode(text: str) -> tuple[datetime | None, int] | None:
    """The (next_due_at, id) pair of a cursor; None for anything malformed (first page)."""
    due_text, _dot, pk_text = text.partition(".")
    try:
        pk = int(pk_text)
        due = None if due_text == "n" else _EPOCH + int(due_text) * _MICRO
    except (ValueError, OverflowError):
        return None
    return due, pk


def _filtered(profile: Profile, filters: QueueFilters) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(is_open=True)
    f = filters
    if f.line is not None:
        tickets = tickets.filter(line=f.line)
    if f.assignee == "me":
        tickets = tickets.filter(assignee_id=profile.user.pk)
    elif f.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    if f.organisation is not None:
        tickets = tickets.filter(organisation_id=f.organisation)
    if f.tariff:
        regulation, _colon, code = f.tariff.partition(":")
        tickets = tickets.filter(version__regulation_id=regulation, contract__tariff__code=code)
    if f.priority:
        tickets = tickets.filter(priority=f.priority)
    if f.category:
        regulation, _colon, category = f.category.partition(":")
        tickets = tickets.filter(version__regulation_id=regulation, category=category)
    if f.at_risk:
        tickets = tickets.filter(at_risk=True)
    if f.breached:
        tickets = tickets.filter(breached=True)
    if f.text:
        tickets = tickets.filter(Q(number__icontains=f.text) | Q(subject__icontains=f.text))
    # Only the columns a row shows: at 50 rows a page, building wide model rows
    # (descriptions, regulation texts) costs more than the query.
    return tickets.select_related("organisation", "assignee", "contract__tariff", "version").only(
        *_ROW_COLUMNS
    )


_ROW_COLUMNS = (
    "number",
    "subject",
    "priority",
    "category",
    "line",
    "status",
    "is_open",
    "next_due_at",
    "organisation__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "contract__tariff__title_ru",
    "contract__tariff__title_en",
    "version__digest",
    "version__source_name",
)


def queue_page(
    *,
    profile: Profile,
    filters: QueueFilters,
    after: tuple[datetime | None, int] | None = None,
    limit: int = PAGE_SIZE,
    lang: str = "ru",
    now: datetime | None = None,
) -> QueuePage:
    """One page of open requests, most urgent next due instant first, then the undated.

    Two index-order reads at most (the partial indexes on open requests by line
    or by due instant): the dated requests after the cursor, then, when the page
    is not full, the undated ones by id. No OFFSET, whatever the page.
    """
    now = now or timezone.now()
    if not profile.staff:
        raise NotStaffError(details={"workspace": True})
    base = _filtered(profile, filters)
    tickets: list[Ticket] = []
    due, pk = after if after is not None else (_EPOCH, 0)
    if after is None or due is not None:
        dated = base.filter(next_due_at__isnull=False)
        if after is not None and due is not None:
            dated = dated.filter(next_due_at__gte=due).filter(Q(next_due_at__gt=due) | Q(id__gt=pk))
        tickets = list(dated.order_by("next_due_at", "id")[: limit + 1])
        pk = 0
    if len(tickets) <= limit:
        undated = base.filter(next_due_at__isnull=True, id__gt=pk).order_by("id")
        tickets += list(undated[: limit + 1 - len(tickets)])
    more = len(tickets) > limit
    tickets = tickets[:limit]
    clocks: dict[int, list[Clock]] = defaultdict(list)
    for clock in Clock.objects.filter(ticket_id__in=[t.pk for t in tickets]).order_by():
        clocks[clock.ticket_id].append(clock)
    rows = []
    for ticket in tickets:
        regulation = ticket.version.parsed()
        status = next((s for s in regulation.statuses if s.id == ticket.status), None)
        tariff = ticket.contract.tariff
        rows.append(
            QueueRow(
                ticket=ticket,
                status_title=status.title.get(lang) if status is not None else ticket.status,
                waiting=status is not None and status.waiting_for_customer,
                priority_title=title_of(regulation.priorities, ticket.priority, lang),
                category_title=(
                    title_of(regulation.categories, ticket.category, lang)
                    if ticket.category
                    else ""
                ),
                tariff_title=(tariff.title_en if lang == "en" else "") or tariff.title_ru,
                zone=zone_of(regulation),
                clock=_next_clock(clocks[ticket.pk], regulation, lang, now),
            )
        )
    return QueuePage(rows=rows, next_cursor=cursor_encode(tickets[-1]) if more else None, now=now)


def queue_choices(*, lang: str) -> QueueChoices:
    """What the queue's filter selects offer: customers, and every regulation's tariffs,
    categories and priorities (the latest versions)."""
    organisations = [
        Option(str(pk), name)
        for pk, name in Organisation.objects.exclude(kind=Organisation.Kind.VENDOR)
        .order_by("name")
        .values_list("pk", "name")
    ]
    tariffs: list[Option] = []
    categories: list[Option] = []
    priorities: dict[str, str] = {}
    for version in regulation_latest_versions():
        regulation = version.parsed()
        title = regulation.title.get(lang)
        for tariff in regulation.tariffs:
            tariffs.append(
                Option(f"{regulation.id}:{tariff.id}", f"{title}: {tariff.title.get(lang)}")
            )
        for category in regulation.categories:
            categories.append(
                Option(f"{regulation.id}:{category.id}", f"{title}: {category.title.get(lang)}")
            )
        for priority in regulation.priorities:
            priorities.setdefault(priority.id, priority.title.get(lang))
    return QueueChoices(
        organisations=organisations,
        tariffs=tariffs,
        categories=categories,
        priorities=[Option(key, label) for key, label in priorities.items()],
    )


# ----------------------------------------------------------------- request page
@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime
    length: str


@dataclass(frozen=True, slots=True)
class ClockView:
    metric: str
    title: str
    state: str
    target: str
    calendar: str
    start: datetime | None
    stop: datetime | None
    due: datetime | None
    consumed: str
    remaining: str
    countdown: Countdown
    counted: list[Span]
    pauses: list[Span]
    provisional: bool


@dataclass(frozen=True, slots=True)
class TimelineItem:
    event: TicketEvent
    label: str
    detail: str


@dataclass(frozen=True, slots=True)
class ConversationItem:
    comment: Comment
    attachments: list[Attachment]


@dataclass
class AgentRequest:
    ticket: Ticket
    regulation: Regulation
    lang: str
    zone: ZoneInfo
    contract: Contract
    regulation_title: str
    tariff_title: str
    status_title: str
    waiting: bool
    priority_title: str
    category_title: str
    type_title: str
    resolution_title: str
    out_of_scope_title: str
    clocks: list[ClockView]
    conversation: list[ConversationItem]
    loose_attachments: list[Attachment]
    timeline: list[TimelineItem]
    time_entries: list[TimeEntry]
    time_total: str
    estimates: list[Any]
    paid_work: bool
    transitions: list[Option]
    resolution_statuses: list[str]
    staff: list[Option]
    attributes: list[tuple[str, str]] = field(default_factory=list)
    mail: list[OutboundMessage] = field(default_factory=list)
    received: list[InboundMessage] = field(default_factory=list)


def _span(start: datetime, end: datetime) -> Span:
    return Span(start, end, duration_text(end - start, in_days=False))


def _clock_view(state: ClockState, regulation: Regulation, lang: str, now: datetime) -> ClockView:
    explanation = state.explanation
    target = state.target
    return ClockView(
        metric=state.metric,
        title=title_of(regulation.metrics, state.metric, lang),
        state=state.state,
        target=format_target(target.duration, lang) if target is not None else "—",
        calendar=target.calendar if target is not None else "",
        start=state.start,
        stop=state.stop,
        due=state.due,
        consumed=duration_text(state.consumed, in_days=False),
        remaining=(
            ""
            if state.remaining is None
            else (
                duration_text(state.remaining, in_days=False)
                if state.remaining >= timedelta(0)
                else _("overdue by {t}").format(t=duration_text(state.remaining, in_days=False))
            )
        ),
        countdown=countdown(
            title="", state=state.state, due=state.due, warn=state.warn_at, now=now
        ),
        counted=[_span(i.start, i.end) for i in explanation.counted] if explanation else [],
        pauses=[_span(a, b) for a, b in state.pauses],
        provisional=explanation.provisional if explanation else False,
    )


def _field_label(name: str) -> str:
    labels = {
        "priority": _("Priority"),
        "category": _("Category"),
        "type": _("Type"),
        "subject": _("Subject"),
        "assignee": _("Assignee"),
        "impact": _("Impact"),
        "workaround": _("Workaround"),
        "contract": _("Contract"),
        "watchers": _("Watchers"),
        "out_of_scope": _("Out of scope"),
    }
    return labels.get(name, name)


def _value(regulation: Regulation, name: str, value: Any, lang: str) -> str:
    if value in (None, ""):
        return "—"
    lists = {
        "priority": regulation.priorities,
        "category": regulation.categories,
        "type": regulation.request_types,
        "out_of_scope": regulation.out_of_scope,
    }
    if name in lists:
        return title_of(lists[name], str(value), lang)
    return str(value)


def _channel_label(channel: str) -> str:
    return str(Channel(channel).label) if channel in Channel.values else channel


def _event_item(event: TicketEvent, regulation: Regulation, lang: str) -> TimelineItem:
    data: dict[str, Any] = event.data or {}
    label = str(Kind(event.kind).label) if event.kind in Kind.values else event.kind
    label = label[:1].upper() + label[1:]
    detail = ""
    statuses = regulation.statuses
    if event.kind == Kind.STATUS_CHANGED:
        old = title_of(statuses, data.get("old", ""), lang)
        detail = f"{old} → {title_of(statuses, data.get('new', ''), lang)}"
        if data.get("resolution"):
            detail += f" ({title_of(regulation.resolutions, data['resolution'], lang)})"
        if data.get("comment"):
            detail += f": {data['comment']}"
    elif event.kind == Kind.CREATED:
        detail = _("%(status)s, priority %(priority)s, via %(channel)s") % {
            "status": title_of(statuses, data.get("status", ""), lang),
            "priority": title_of(regulation.priorities, data.get("priority", ""), lang),
            "channel": _channel_label(str(data.get("channel", ""))),
        }
    elif event.kind == Kind.ESCALATED:
        detail = _("line %(old)s → %(new)s: %(reason)s") % {
            "old": data.get("old"),
            "new": data.get("new"),
            "reason": data.get("reason", ""),
        }
    elif event.kind == Kind.CHANGED:
        name = str(data.get("field", ""))
        detail = (
            f"{_field_label(name)}: {_value(regulation, name, data.get('old'), lang)} → "
            f"{_value(regulation, name, data.get('new'), lang)}"
        )
        if data.get("reason"):
            detail += f" ({data['reason']})"
    elif event.kind == Kind.ATTACHED:
        detail = str(data.get("name", ""))
    elif event.kind == Kind.TIME_LOGGED:
        activity = data.get("activity", "")
        detail = _("%(minutes)s min, %(activity)s") % {
            "minutes": data.get("minutes"),
            "activity": Activity(activity).label if activity in Activity.values else activity,
        }
    elif event.kind == Kind.DEVELOPMENT_RECORDED:
        parts = []
        if "reference" in data:
            parts.append(_("reference %(ref)s") % {"ref": data["reference"].get("new") or "—"})
        if "fix_promised_on" in data:
            parts.append(
                _("fix promised for %(date)s") % {"date": data["fix_promised_on"].get("new") or "—"}
            )
        detail = ", ".join(parts)
    elif event.kind in (Kind.CLOCK_WARNING, Kind.CLOCK_BREACHED):
        detail = title_of(regulation.metrics, str(data.get("metric", "")), lang)
    elif event.kind in (Kind.PAID_WORK_PROPOSED, Kind.PAID_WORK_APPROVED, Kind.PAID_WORK_DECLINED):
        detail = _("estimate %(number)s: %(total)s %(currency)s") % {
            "number": data.get("estimate"),
            "total": data.get("total", ""),
            "currency": data.get("currency", ""),
        }
    elif event.kind == Kind.MAIL_FAILED:
        detail = _("to %(address)s after %(attempts)s attempts: %(error)s") % {
            "address": data.get("address", ""),
            "attempts": data.get("attempts", ""),
            "error": data.get("error", ""),
        }
    elif event.kind == Kind.RECEIVED_CORRECTED:
        detail = str(data.get("reason", ""))
    elif event.kind in MILESTONE_KINDS and data.get("note"):
        detail = str(data["note"])
    return TimelineItem(event=event, label=label, detail=detail)


MILESTONE_KINDS = (
    Kind.DEFECT_CONFIRMED,
    Kind.WORKAROUND_PROVIDED,
    Kind.SERVICE_RESTORED,
    Kind.FIX_DELIVERED,
)


def staff_options() -> list[Option]:
    """Everyone a request can be assigned to, by name."""
    people = (
        Membership.objects.filter(role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("line", "user__first_name", "user__username")
    )
    options = []
    for membership in people:
        user = membership.user
        name = user.get_full_name() or user.get_username()
        if membership.line:
            name = _("%(name)s (line %(line)d)") % {"name": name, "line": membership.line}
        options.append(Option(user.get_username(), name))
    return options


def paid_work_status_ids(regulation: Regulation) -> set[str]:
    return {t.paid_work.status for t in regulation.tariffs if t.paid_work and t.paid_work.status}


def agent_request(
    *, user: User, number: str, lang: str = "ru", now: datetime | None = None
) -> AgentRequest:
    """A request as staff see it: every clock explained, conversation with notes, history."""
    from reglament.paidwork.selectors import estimate_list
    from reglament.sla.selectors import ticket_clocks
    from reglament.tickets.selectors import ticket_get

    now = now or timezone.now()
    require_staff(user)
    ticket = ticket_get(user=user, number=number)
    contract = Contract.objects.select_related("service_manager", "tariff").get(
        pk=ticket.contract_id
    )
    regulation, states = ticket_clocks(ticket, now=now)
    status = regulation.status(ticket.status)
    comments = list(ticket.comments.select_related("author").order_by("created_at", "id"))
    by_comment: dict[int | None, list[Attachment]] = defaultdict(list)
    for attachment in ticket.attachments.order_by("created_at", "id"):
        by_comment[attachment.comment_id].append(attachment)
    events = ticket.events.select_related("actor").order_by("created_at", "id")
    entries = list(
        TimeEntry.objects.filter(ticket=ticket)
        .select_related("author")
        .order_by("performed_at", "id")
    )
    counted = sum((e.minutes for e in entries if e.voided_at is None), 0)
    tariff_rule = regulation.tariff(contract.tariff.code)
    paid_work = tariff_rule.paid_work is not None
    waiting_paid = paid_work_status_ids(regulation)
    transitions = [
        Option(s, title_of(regulation.statuses, s, lang))
        for s in status.next
        if s not in waiting_paid
    ]
    return AgentRequest(
        ticket=ticket,
        regulation=regulation,
        lang=lang,
        zone=zone_of(regulation),
        contract=contract,
        regulation_title=regulation.title.get(lang),
        tariff_title=tariff_rule.title.get(lang),
        status_title=status.title.get(lang),
        waiting=status.waiting_for_customer,
        priority_title=title_of(regulation.priorities, ticket.priority, lang),
        category_title=title_of(regulation.categories, ticket.category, lang)
        if ticket.category
        else "",
        type_title=title_of(regulation.request_types, ticket.type, lang) if ticket.type else "",
        resolution_title=(
            title_of(regulation.resolutions, ticket.resolution, lang) if ticket.resolution else ""
        ),
        out_of_scope_title=(
            title_of(regulation.out_of_scope, ticket.out_of_scope, lang)
            if ticket.out_of_scope
            else ""
        ),
        clocks=[
            _clock_view(state, regulation, lang, now)
            for state in states
            if state.state != "not_applicable"
        ],
        conversation=[ConversationItem(c, by_comment.get(c.pk, [])) for c in comments],
        loose_attachments=by_comment.get(None, []),
        timeline=[_event_item(e, regulation, lang) for e in events],
        time_entries=entries,
        time_total=duration_text(timedelta(minutes=counted)) if counted else "",
        estimates=estimate_list(user=user, ticket=ticket) if paid_work else [],
        paid_work=paid_work,
        transitions=transitions,
        resolution_statuses=[
            s.id for s in regulation.statuses if s.final and s.resolution_required
        ],
        staff=staff_options(),
        attributes=[(str(k), str(v)) for k, v in sorted(contract.attributes.items())],
        mail=outbound_for_ticket(ticket_id=ticket.pk),
        received=inbound_for_ticket(ticket_id=ticket.pk),
    )


def today_in(regulation: Regulation, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(zone_of(regulation)).date()
