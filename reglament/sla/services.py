"""Writes of the sla app: keep each request's clock rows true, and record warnings/breaches.

`clocks_sync` is the one place that writes `Clock` rows and the warning and
breach events. Every change to a request calls it (inside the change's
transaction, with the request row locked), and so does the sweeper when a
timer falls due. It computes the clocks from the event log from scratch, so
it can run any number of times: a warning or breach is recorded only when its
instant has passed and the clock row says it was not recorded yet, and both
writes commit together, so neither a repeat nor a crash makes it fire twice
or never.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from reglament.domain.calendar import WorkingDays
from reglament.domain.sla import ClockState, compute_clocks
from reglament.sla.mappers import clock_events, ticket_case
from reglament.sla.models import Clock
from reglament.tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

Kind = TicketEvent.Kind
State = Clock.State

# The columns clocks_sync copies from the computed state; a row is written
# only when one of them (or a recorded warning/breach) changed.
_COLUMNS = (
    "state",
    "calendar",
    "target_seconds",
    "target_working_days",
    "started_at",
    "stopped_at",
    "due_at",
    "warn_at",
    "consumed",
    "remaining",
    "warned_at",
    "breached_at",
    "next_check_at",
)


@dataclass
class SyncResult:
    """What one clocks_sync recorded."""

    events: list[TicketEvent] = field(default_factory=list)


def clocks_sync(*, ticket: Ticket, now: datetime) -> SyncResult:
    """Re-compute every clock of `ticket` at `now`, store them, record what fell due.

    Call inside a transaction holding the request's row lock (every ticket
    service and the sweeper do). Returns the warning/breach events recorded.
    """
    regulation = ticket.version.parsed()
    events = list(TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id"))
    states = compute_clocks(
        regulation,
        ticket_case(ticket, regulation),
        clock_events(ticket, events),
        now=now,
        warning_share=settings.REGLAMENT_SLA_WARNING_SHARE,
        explain=False,
    )
    existing = {clock.metric: clock for clock in Clock.objects.filter(ticket=ticket)}
    # Out of scope (R1.7): nothing is promised beyond consultation, so nothing fires.
    may_fire = not ticket.out_of_scope
    result = SyncResult()
    new_rows: list[Clock] = []
    for state in states:
        clock = existing.get(state.metric)
        before = _snapshot(clock) if clock is not None else None
        if clock is None:
            clock = Clock(ticket=ticket, metric=state.metric)
        _fill(clock, state)
        if may_fire:
            result.events += _record_due(ticket, clock, state, now)
        clock.next_check_at = _next_check(clock, state, now) if may_fire else None
        clock.computed_at = now
        if before is None:
            new_rows.append(clock)
        elif _snapshot(clock) != before:
            clock.save()
    if new_rows:
        Clock.objects.bulk_create(new_rows)
    _project(ticket, states, now)
    for event in result.events:
        _notify(event)
    return result


def _snapshot(clock: Clock) -> tuple[object, ...]:
    return tuple(getattr(clock, name) for name in _COLUMNS)


def _fill(clock: Clock, state: ClockState) -> None:
    target = state.target.duration if state.target is not None else None
    clock.state = state.state
    clock.calendar = state.target.calendar if state.target is not None else ""
    clock.target_seconds = int(target.total_seconds()) if isinstance(target, timedelta) else None
    clock.target_working_days = target.count if isinstance(target, WorkingDays) else None
    clock.started_at = state.start
    clock.stopped_at = state.stop
    clock.due_at = state.due
    clock.warn_at = state.warn_at
    clock.consumed = state.consumed
    clock.remaining = state.remaining


def _record_due(
    ticket: Ticket, clock: Clock, state: ClockState, now: datetime
) -> list[TicketEvent]:
    """The warning and the breach whose instants have passed and are not recorded yet."""
    recorded: list[TicketEvent] = []
    open_now = state.stop is None and ticket.is_open
    if (
        clock.warned_at is None
        and clock.breached_at is None
        and state.warn_at is not None
        and state.warn_at <= now
        and (state.stop is None or state.stop > state.warn_at)
    ):
        breaching = state.due is not None and state.due <= now
        clock.warned_at = state.warn_at
        recorded.append(
            _clock_event(
                ticket,
                Kind.CLOCK_WARNING,
                state,
                at=state.warn_at,
                now=now,
                # A warning noticed after the breach (the worker was down) is kept
                # for the record, but only the breach is worth a message.
                notify=open_now and not breaching,
            )
        )
    if (
        clock.breached_at is None
        and state.due is not None
        and state.due <= now
        and (state.stop is None or state.stop > state.due)
    ):
        clock.breached_at = state.due
        recorded.append(
            _clock_event(ticket, Kind.CLOCK_BREACHED, state, at=state.due, now=now, notify=open_now)
        )
    return recorded


def _clock_event(
    ticket: Ticket, kind: str, state: ClockState, *, at: datetime, now: datetime, notify: bool
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        kind=kind,
        actor=None,
        created_at=now,
        public=False,
        data={
            "metric": state.metric,
            "at": at.isoformat(),
            "due": state.due.isoformat() if state.due else None,
            "delay_seconds": int((now - at).total_seconds()),
            "notify": notify,
        },
    )
    event.save()
    return event


def _next_check(clock: Clock, state: ClockState, now: datetime) -> datetime | None:
    """The next instant something can fire; none while paused, stopped or all recorded."""
    if state.state != State.RUNNING:
        return None
    pending = []
    if clock.warned_at is None and state.warn_at is not None and state.warn_at > now:
        pending.append(state.warn_at)
    if clock.breached_at is None and state.due is not None and state.due > now:
        pending.append(state.due)
    return min(pending, default=None)


def _project(ticket: Ticket, states: tuple[ClockState, ...], now: datetime) -> None:
    """The queue's columns on the request: most urgent due instant, breached, at risk."""
    running = [s for s in states if s.stop is None and s.state in (State.RUNNING, State.BREACHED)]
    next_due = min((s.due for s in running if s.due is not None), default=None)
    breached = any(s.state == State.BREACHED for s in states)
    at_risk = any(
        s.state == State.RUNNING and s.warn_at is not None and s.warn_at <= now for s in states
    )
    if not ticket.is_open:
        next_due = None
    values = {"next_due_at": next_due, "breached": breached, "at_risk": at_risk}
    if any(getattr(ticket, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(ticket, name, value)
        Ticket.objects.filter(pk=ticket.pk).update(**values)


def _notify(event: TicketEvent) -> None:
    """Queue the staff notification for a warning/breach event.

    The task queue is a table in the same database, so the task row commits
    (or rolls back) together with the event: a notification can be neither
    lost between commit and enqueue nor sent for an event that never was.
    """
    if not event.data.get("notify"):
        return
    from reglament.sla.tasks import clock_event_notify

    clock_event_notify.enqueue(event_id=event.pk)


# ------------------------------------------------------------------- sweeper
@dataclass(frozen=True, slots=True)
class SweepReport:
    tickets: int  # requests whose clocks were re-computed
    warnings: int
    breaches: int
    skipped: int  # claimed clocks whose request another process holds


def sla_sweep(*, now: datetime | None = None, batch: int = 200, limit: int = 5000) -> SweepReport:
    """Record every warning and breach due by `now`; safe to run in several workers at once.

    Each batch is one transaction: due clock rows are claimed with
    ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL), their requests locked the
    same way, and re-computed by clocks_sync. A request another worker or a
    user's change holds is skipped, and picked up by the next tick. On SQLite
    the IMMEDIATE transaction itself makes one writer at a time. A worker
    killed mid-batch rolls the batch back; the rows stay due.
    """
    now = now or timezone.now()
    skip_locked = connection.features.has_select_for_update_skip_locked
    tickets = warnings = breaches = skipped = 0
    while tickets < limit:
        with transaction.atomic():
            clocks = Clock.objects.filter(next_check_at__lte=now).order_by("next_check_at", "id")
            if skip_locked:
                clocks = clocks.select_for_update(skip_locked=True)
            claimed = list(clocks.values_list("ticket_id", flat=True)[:batch])
            ticket_ids = list(dict.fromkeys(claimed))
            if not ticket_ids:
                break
            rows = Ticket.objects.filter(pk__in=ticket_ids).select_related(
                "contract__tariff__version", "version"
            )
            if skip_locked:
                rows = rows.select_for_update(skip_locked=True, of=("self",))
            locked = list(rows)
            skipped += len(ticket_ids) - len(locked)
            for ticket in locked:
                for event in clocks_sync(ticket=ticket, now=now).events:
                    if event.kind == Kind.CLOCK_WARNING:
                        warnings += 1
                    else:
                        breaches += 1
            tickets += len(locked)
        if not locked or len(claimed) < batch:
            break
    if warnings or breaches:
        logger.info(
            "SLA sweep: %d requests, %d warnings, %d breaches recorded", tickets, warnings, breaches
        )
    return SweepReport(tickets=tickets, warnings=warnings, breaches=breaches, skipped=skipped)
