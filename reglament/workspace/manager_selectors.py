"""Reads for the service manager's view: breaches and risks across lines, load, today's promises.

Everything here reads the stored clock rows (reglament.sla keeps them) and
judges them against `now`, so a clock whose due instant passed a moment ago is
breached here even before the sweeper records it. A request is *breached* when
one of its clocks is (running past its due instant, or stopped late); it is
*at risk* when it is not breached and a running clock passed its warning
share. The two never overlap, so the figures add up.

The number of queries is fixed: it does not grow with the number of requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership
from reglament.accounts.selectors import Profile
from reglament.domain.calendar import WorkingDays
from reglament.domain.regulation import Regulation, format_target
from reglament.regulations.models import RegulationVersion
from reglament.regulations.selectors import regulation_latest_versions
from reglament.sla.models import Clock
from reglament.tickets.models import Ticket

Role = Membership.Role
State = Clock.State

# The metrics counted in "today's acknowledgements and consultations": those a
# regulation stops at registration, at the start of work or at the first answer
# (registration, reaction, consultation, answer offer — whatever it calls them).
FIRST_RESPONSE_STOPS = ("registered", "work_started", "first_public_reply")
LINES = (1, 2, 3)
ROWS_SHOWN = 100  # per list; the totals still count every request


def manager_may_view(profile: Profile) -> bool:
    """Service managers and administrators (and superusers) see the manager view."""
    return profile.user.is_superuser or profile.role in (
        Role.SERVICE_MANAGER,
        Role.ADMINISTRATOR,
    )


@dataclass(frozen=True, slots=True)
class ManagerFilter:
    regulation: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RegulationChoice:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class AttentionRow:
    """One breached or at-risk open request, with the clock that puts it here."""

    ticket: Ticket
    tariff_title: str
    metric_title: str
    zone: ZoneInfo
    due_at: datetime
    breached: bool
    stopped: bool  # the clock stopped late: missed, nothing left to save
    span: timedelta  # overdue by (breached), missed by (stopped), or time left (at risk)

    @property
    def span_text(self) -> str:
        return duration_words(self.span)


@dataclass(frozen=True, slots=True)
class LineLoad:
    line: int
    open: int
    unassigned: int
    at_risk: int
    breached: int


@dataclass(frozen=True, slots=True)
class AgentLoad:
    person: User
    line: int | None
    role: str
    open: int
    at_risk: int
    breached: int


@dataclass(frozen=True, slots=True)
class DailyMetric:
    """How one regulation's first-response metric did on the regulation's today."""

    regulation: RegulationChoice
    metric_id: str
    metric_title: str
    day: date
    zone: ZoneInfo
    met: int
    missed: int
    targets: tuple[str, ...]

    @property
    def stopped(self) -> int:
        return self.met + self.missed

    @property
    def share_met(self) -> int | None:
        """Whole per cent of clocks met; None when none stopped."""
        return round(100 * self.met / self.stopped) if self.stopped else None


@dataclass(frozen=True, slots=True)
class ManagerOverview:
    now: datetime
    zone: ZoneInfo
    filters: ManagerFilter
    breached: list[AttentionRow]
    at_risk: list[AttentionRow]
    lines: list[LineLoad]
    agents: list[AgentLoad]
    daily: list[DailyMetric]

    @property
    def breached_total(self) -> int:
        return sum(line.breached for line in self.lines)

    @property
    def at_risk_total(self) -> int:
        return sum(line.at_risk for line in self.lines)

    @property
    def open_total(self) -> int:
        return sum(line.open for line in self.lines)

    @property
    def unassigned_total(self) -> int:
        return sum(line.unassigned for line in self.lines)


def duration_words(span: timedelta) -> str:
    """A span in whole minutes, in words: `2 d 3 h`, `1 h 5 min`, `under a minute`."""
    minutes = max(int(span.total_seconds()) // 60, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days and hours:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if days:
        return _("%(days)d d") % {"days": days}
    if hours and minutes:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if hours:
        return _("%(hours)d h") % {"hours": hours}
    if minutes:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("under a minute")


def regulation_choices(lang: str) -> list[RegulationChoice]:
    """Every loaded regulation, for the filter: id and the latest version's title."""
    return [
        _choice(version.regulation_id, version.title_ru, version.title_en, lang)
        for version in regulation_latest_versions()
    ]


def _choice(regulation_id: str, title_ru: str, title_en: str, lang: str) -> RegulationChoice:
    return RegulationChoice(
        id=regulation_id, title=(title_en if lang == "en" and title_en else title_ru)
    )


# --------------------------------------------------------------- conditions
def breached_clocks(now: datetime) -> Q:
    """A clock missed its target: recorded as breached, or still running past its due instant."""
    return Q(state=State.BREACHED) | Q(state=State.RUNNING, due_at__lte=now)


def at_risk_clocks(now: datetime) -> Q:
    """A running clock past its warning share, not yet due."""
    return Q(state=State.RUNNING, warn_at__lte=now, due_at__gt=now)


def _has(condition: Q) -> Exists:
    return Exists(Clock.objects.filter(condition, ticket=OuterRef("pk")))


def _open_tickets(filters: ManagerFilter, through: str = "") -> Q:
    """Open requests the filters keep; `through` names the relation to them (e.g. `ticket__`)."""
    condition = Q(**{f"{through}is_open": True})
    if filters.regulation is not None:
        condition &= Q(**{f"{through}version__regulation_id": filters.regulation})
    if filters.line is not None:
        condition &= Q(**{f"{through}line": filters.line})
    return condition


def _counts(rows: Iterable[Mapping[str, Any]], key: str) -> dict[Any, dict[str, int]]:
    """Aggregate rows by `key`, each a dict of whole counts."""
    return {
        row[key]: {name: int(value) for name, value in row.items() if name != key} for row in rows
    }


# ------------------------------------------------------------------ the view
def manager_overview(
    *, filters: ManagerFilter, now: datetime, lang: str, rows: int = ROWS_SHOWN
) -> ManagerOverview:
    """What the manager view shows, as of `now`, for the filtered regulation and line."""
    versions = _latest_versions()
    regulations = {v.regulation_id: v.parsed() for v in versions}
    titles = {
        v.regulation_id: _choice(v.regulation_id, v.title_ru, v.title_en, lang) for v in versions
    }
    tickets = _open_tickets(filters)
    breached_now = _has(breached_clocks(now))
    at_risk_now = _has(at_risk_clocks(now))

    breached = _attention(
        Clock.objects.filter(breached_clocks(now), _open_tickets(filters, "ticket__")),
        regulations,
        now=now,
        lang=lang,
        rows=rows,
        breached=True,
    )
    at_risk = _attention(
        Clock.objects.filter(at_risk_clocks(now), _open_tickets(filters, "ticket__")).exclude(
            Exists(Clock.objects.filter(breached_clocks(now), ticket=OuterRef("ticket")))
        ),
        regulations,
        now=now,
        lang=lang,
        rows=rows,
        breached=False,
    )
    counts = {
        "open": Count("id"),
        "breached": Count("id", filter=Q(breached_now)),
        "at_risk": Count("id", filter=Q(at_risk_now) & ~Q(breached_now)),
    }
    by_line = _counts(
        Ticket.objects.filter(tickets)
        .values("line")
        .annotate(**counts, unassigned=Count("id", filter=Q(assignee__isnull=True)))
        .order_by("line"),
        "line",
    )
    lines = [
        LineLoad(
            line=line,
            open=by_line.get(line, {}).get("open", 0),
            unassigned=by_line.get(line, {}).get("unassigned", 0),
            at_risk=by_line.get(line, {}).get("at_risk", 0),
            breached=by_line.get(line, {}).get("breached", 0),
        )
        for line in (LINES if filters.line is None else (filters.line,))
    ]
    agents = _agents(tickets, counts, filters)
    zone = (
        _zone(regulations[filters.regulation])
        if filters.regulation in regulations
        else _zone(next(iter(regulations.values())))
        if regulations
        else ZoneInfo("Europe/Moscow")
    )
    return ManagerOverview(
        now=now,
        zone=zone,
        filters=filters,
        breached=breached,
        at_risk=at_risk,
        lines=lines,
        agents=agents,
        daily=_daily(regulations, titles, filters, now=now, lang=lang),
    )


def _latest_versions() -> list[RegulationVersion]:
    """The latest version of each regulation, with its text (parsed once per process)."""
    newest = (
        RegulationVersion.objects.filter(regulation=OuterRef("regulation"))
        .order_by("-number")
        .values("number")[:1]
    )
    return list(RegulationVersion.objects.filter(number=Subquery(newest)).order_by("regulation_id"))


def _zone(regulation: Regulation) -> ZoneInfo:
    return regulation.calendars[regulation.default_calendar].timezone


def _attention(
    clocks: QuerySet[Clock],
    regulations: dict[str, Regulation],
    *,
    now: datetime,
    lang: str,
    rows: int,
    breached: bool,
) -> list[AttentionRow]:
    ordered = (
        clocks.select_related(
            "ticket__organisation",
            "ticket__assignee",
            "ticket__contract__tariff",
            "ticket__version",
        )
        .defer("ticket__version__text")
        .annotate(
            # Running past due first (still to be saved), then stopped late.
            stopped_late=Case(
                When(stopped_at__isnull=True, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("stopped_late", "due_at", "ticket_id")
    )
    if breached:
        ordered = ordered.filter(due_at__isnull=False)
    result: list[AttentionRow] = []
    seen: set[int] = set()
    for clock in ordered[: rows * 3]:
        if clock.ticket_id in seen or clock.due_at is None:
            continue
        seen.add(clock.ticket_id)
        ticket = clock.ticket
        regulation = regulations.get(ticket.version.regulation_id)
        stopped = clock.stopped_at is not None
        if not breached:
            span = clock.due_at - now
        elif stopped:
            span = clock.stopped_at - clock.due_at  # type: ignore[operator]
        else:
            span = now - clock.due_at
        tariff = ticket.contract.tariff
        result.append(
            AttentionRow(
                ticket=ticket,
                tariff_title=(
                    tariff.title_en if lang == "en" and tariff.title_en else tariff.title_ru
                ),
                metric_title=_metric_title(regulation, clock.metric, lang),
                zone=_zone(regulation) if regulation else ZoneInfo("Europe/Moscow"),
                due_at=clock.due_at,
                breached=breached,
                stopped=stopped,
                span=span,
            )
        )
        if len(result) == rows:
            break
    return result


def _metric_title(regulation: Regulation | None, metric: str, lang: str) -> str:
    if regulation is None:
        return metric
    found = next((m for m in regulation.metrics if m.id == metric), None)
    return found.title.get(lang) if found is not None else metric


def _agents(tickets: Q, counts: dict[str, Count], filters: ManagerFilter) -> list[AgentLoad]:
    loads = _counts(
        Ticket.objects.filter(tickets, assignee__isnull=False)
        .values("assignee")
        .annotate(**counts)
        .order_by(),
        "assignee",
    )
    agents = Q(membership__role=Role.AGENT, is_active=True)
    if filters.line is not None:
        agents &= Q(membership__line=filters.line)
    people = User.objects.filter(agents | Q(pk__in=list(loads))).select_related("membership")
    result = []
    for person in people:
        load: dict[str, int] = loads.get(person.pk, {})
        membership = getattr(person, "membership", None)
        result.append(
            AgentLoad(
                person=person,
                line=membership.line if membership is not None else None,
                role=membership.get_role_display() if membership is not None else "",
                open=load.get("open", 0),
                at_risk=load.get("at_risk", 0),
                breached=load.get("breached", 0),
            )
        )
    # The busiest first: breached, then at risk, then open; then by line and name.
    result.sort(
        key=lambda a: (-a.breached, -a.at_risk, -a.open, a.line or 9, a.person.get_username())
    )
    return result


def _daily(
    regulations: dict[str, Regulation],
    titles: dict[str, RegulationChoice],
    filters: ManagerFilter,
    *,
    now: datetime,
    lang: str,
) -> list[DailyMetric]:
    """Clocks of first-response metrics that stopped today (each regulation's own today)."""
    windows: dict[str, tuple[date, ZoneInfo, datetime, datetime]] = {}
    metrics: dict[str, list[str]] = {}
    for regulation_id, regulation in regulations.items():
        if filters.regulation is not None and regulation_id != filters.regulation:
            continue
        measured = [m.id for m in regulation.metrics if m.stops in FIRST_RESPONSE_STOPS]
        if not measured:
            continue
        zone = _zone(regulation)
        today = now.astimezone(zone).date()
        start = datetime.combine(today, time(), tzinfo=zone)
        end = datetime.combine(today + timedelta(days=1), time(), tzinfo=zone)
        windows[regulation_id] = (today, zone, start, end)
        metrics[regulation_id] = measured
    if not windows:
        return []
    condition = Q()
    for regulation_id, (_day, _tz, start, end) in windows.items():
        condition |= Q(
            ticket__version__regulation_id=regulation_id,
            metric__in=metrics[regulation_id],
            stopped_at__gte=start,
            stopped_at__lt=end,
        )
    if filters.line is not None:
        condition &= Q(ticket__line=filters.line)
    stats = {
        (row["ticket__version__regulation_id"], row["metric"]): row
        for row in Clock.objects.filter(condition, state__in=(State.MET, State.BREACHED))
        .values("ticket__version__regulation_id", "metric")
        .annotate(
            met=Count("id", filter=Q(state=State.MET)),
            missed=Count("id", filter=Q(state=State.BREACHED)),
            shortest=Min("target_seconds"),
            longest=Max("target_seconds"),
            fewest_days=Min("target_working_days"),
            most_days=Max("target_working_days"),
        )
        .order_by()
    }
    result = []
    for regulation_id, (today, zone, _start, _end) in windows.items():
        regulation = regulations[regulation_id]
        for metric_id in metrics[regulation_id]:
            row: Mapping[str, Any] = stats.get((regulation_id, metric_id), {})
            result.append(
                DailyMetric(
                    regulation=titles[regulation_id],
                    metric_id=metric_id,
                    metric_title=_metric_title(regulation, metric_id, lang),
                    day=today,
                    zone=zone,
                    met=row.get("met", 0),
                    missed=row.get("missed", 0),
                    targets=_targets(regulation, metric_id, row, lang),
                )
            )
    return result


def _targets(
    regulation: Regulation, metric_id: str, row: Mapping[str, Any], lang: str
) -> tuple[str, ...]:
    """The targets of today's clocks (shortest and longest); the regulation's when none stopped."""
    seconds = sorted({s for s in (row.get("shortest"), row.get("longest")) if isinstance(s, int)})
    days = sorted({d for d in (row.get("fewest_days"), row.get("most_days")) if isinstance(d, int)})
    found: list[timedelta | WorkingDays] = [timedelta(seconds=s) for s in seconds]
    found += [WorkingDays(d) for d in days]
    if not found:
        metric = next(m for m in regulation.metrics if m.id == metric_id)
        rule_targets = [rule.target for rule in metric.rules if rule.target is not None]
        durations = sorted(
            {t for t in rule_targets if isinstance(t, timedelta)}, key=lambda t: t.total_seconds()
        )
        found = [durations[0], durations[-1]] if durations else []
        found = list(dict.fromkeys(found))
    return tuple(format_target(target, lang) for target in found)
