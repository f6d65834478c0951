"""Random lives of a request: the stored clocks always say what the event log says.

Hypothesis plays random sequences of changes through the services (statuses
including waiting for the customer, replies, priority, line, corrected arrival,
workflow steps, scope, sweeps) at increasing instants. After each step:

- the stored ``Clock`` rows equal a from-scratch ``compute_clocks`` over the
  request's whole event log, read back as fresh objects, at the instant the
  request was last synced;
- no warning or breach is recorded twice, and the clock rows agree with the events;
- after a sync nothing is overdue: whatever passed is recorded, every timer is ahead;
- after a sync or a sweep the request's queue columns (breached, at risk, next
  due) say what the clocks say at that instant, even when the sweep had no
  reason to re-compute the request;
- nothing is recorded while the request is out of scope (R1.7).

At the end, the consumed time of the clocks the waiting status pauses is checked
against a minute-stepping oracle given the pauses the steps made (R3.7).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from reglament.core.errors import AppError
from reglament.domain.regulation import PRIORITIES, Regulation
from reglament.domain.sla import ClockState, compute_clocks
from reglament.domain.tests.oracle import MinuteOracle
from reglament.sla.mappers import clock_events, ticket_case
from reglament.sla.models import Clock
from reglament.sla.services import sla_sweep
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.services import MILESTONES
from reglament.tickets.tests.factories import Desk, desk

Kind = TicketEvent.Kind
CLOCK_KINDS = (Kind.CLOCK_WARNING, Kind.CLOCK_BREACHED)

# Monday 2025-03-10 00:00 Moscow time: the weeks after it hold no Russian public
# holiday until May, so the oracle and the engine see the same calendar.
WINDOW = datetime.fromisoformat("2025-03-10T00:00:00+03:00")
MOSCOW_OFFICE = MinuteOracle(
    "Europe/Moscow", {day: [(600, 1140)] for day in range(5)}, russian_holidays=True
)
ALWAYS = MinuteOracle("Europe/Moscow", {day: [(0, 1440)] for day in range(7)})

Op = tuple[Any, ...]
OPS: st.SearchStrategy[Op] = st.one_of(
    st.tuples(st.just("transition"), st.integers(0, 5)),
    st.tuples(st.just("ask_customer")),
    st.tuples(st.just("customer_reply")),
    st.tuples(st.just("staff_reply")),
    st.tuples(st.just("priority"), st.sampled_from(PRIORITIES)),
    st.tuples(st.just("escalate"), st.integers(1, 3)),
    st.tuples(st.just("received"), st.integers(0, 600)),
    st.tuples(st.just("milestone"), st.sampled_from(sorted(MILESTONES))),
    st.tuples(st.just("out_of_scope"), st.booleans()),
    st.tuples(st.just("sweep")),
)
ADVANCE = st.one_of(st.integers(1, 180), st.integers(181, 1440))  # minutes


@dataclass
class Life:
    """What the steps did, as the test knows it (not as the code under test does)."""

    desk: Desk
    regulation: Regulation
    ticket: Ticket
    synced_at: datetime
    statuses: list[tuple[datetime, str]] = field(default_factory=list)


@pytest.mark.django_db
def test_stored_clocks_always_equal_a_fresh_computation_from_the_event_log() -> None:
    desks = {"cera": desk("cera", "standard"), "set-retail": desk("set-retail", "premium")}

    @hypothesis_settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        regulation=st.sampled_from(sorted(desks)),
        opening=st.integers(0, 7 * 24 * 60),
        priority=st.sampled_from(PRIORITIES),
        category=st.sampled_from(["", "registers-stopped", "loyalty", "erp-discrepancy"]),
        waited=st.integers(0, 120),
        steps=st.lists(st.tuples(ADVANCE, OPS), min_size=2, max_size=12),
    )
    def live(
        regulation: str,
        opening: int,
        priority: str,
        category: str,
        waited: int,
        steps: list[tuple[int, Op]],
    ) -> None:
        # Each example in a transaction of its own, rolled back: only its request exists.
        with transaction.atomic():
            try:
                _live(
                    desks[regulation],
                    now=WINDOW + timedelta(minutes=opening),
                    priority=priority,
                    category=category if regulation == "set-retail" else "",
                    waited=timedelta(minutes=waited),
                    steps=steps,
                )
            finally:
                transaction.set_rollback(True)

    live()


def _live(
    d: Desk,
    *,
    now: datetime,
    priority: str,
    category: str,
    waited: timedelta,
    steps: list[tuple[int, Op]],
) -> None:
    ticket = services.ticket_create(
        actor=d.agent1,  # a call taken by the agent, who says when it came in
        requester=d.requester,
        subject="Запрос",
        type="defect",
        priority=priority,
        category=category,
        received_at=now - waited,
        now=now,
    )
    life = Life(desk=d, regulation=d.version.parsed(), ticket=ticket, synced_at=now)
    life.statuses.append((now, ticket.status))
    _check(life, now, swept=False)
    for advance, op in steps:
        now += timedelta(minutes=advance)
        events_before = TicketEvent.objects.filter(ticket=ticket).count()
        recorded_before = _clock_event_count(ticket)
        swept = _apply(life, op, now)
        current = Ticket.objects.get(pk=ticket.pk)
        if TicketEvent.objects.filter(ticket=ticket).count() > events_before or swept:
            life.synced_at = now
        if current.status != life.statuses[-1][1]:
            life.statuses.append((now, current.status))
        if current.out_of_scope:  # R1.7: nothing fires for it
            assert _clock_event_count(ticket) == recorded_before
        _check(life, now, swept=op[0] == "sweep")
    _check_consumed(life)


def _apply(life: Life, op: Op, now: datetime) -> bool:
    """Do `op` at `now`; refusals (closed, not allowed, nothing to change) are fine.

    Returns whether a sweep re-computed the request.
    """
    d, ticket, regulation = life.desk, life.ticket, life.regulation
    name = op[0]
    try:
        if name == "transition":
            current = regulation.status(Ticket.objects.get(pk=ticket.pk).status)
            if not current.next:
                return False
            status = regulation.status(current.next[op[1] % len(current.next)])
            resolution = regulation.resolutions[0].id if status.resolution_required else ""
            services.ticket_transition(
                ticket=ticket, actor=d.agent1, status=status.id, resolution=resolution, now=now
            )
        elif name == "ask_customer":  # R3.7: the waiting status pauses the clocks
            waiting = next(s.id for s in regulation.statuses if s.waiting_for_customer)
            services.ticket_transition(ticket=ticket, actor=d.agent1, status=waiting, now=now)
        elif name == "customer_reply":
            services.ticket_reply(ticket=ticket, author=d.requester, body="Ответ", now=now)
        elif name == "staff_reply":
            services.ticket_reply(ticket=ticket, author=d.agent1, body="Смотрим", now=now)
        elif name == "priority":
            services.ticket_update(ticket=ticket, actor=d.agent1, priority=op[1], now=now)
        elif name == "escalate":
            services.ticket_escalate(
                ticket=ticket, actor=d.agent1, line=op[1], reason="Линия", now=now
            )
        elif name == "received":
            registered = Ticket.objects.get(pk=ticket.pk).registered_at
            services.ticket_update(
                ticket=ticket,
                actor=d.agent1,
                received_at=registered - timedelta(minutes=op[1]),
                reason="Письмо пришло раньше",
                now=now,
            )
        elif name == "milestone":
            services.ticket_mark(ticket=ticket, actor=d.agent1, milestone=op[1], now=now)
        elif name == "out_of_scope":
            item = regulation.out_of_scope[0].id if op[1] and regulation.out_of_scope else ""
            services.ticket_set_out_of_scope(ticket=ticket, actor=d.agent1, item=item, now=now)
        else:
            return sla_sweep(now=now).tickets == 1
    except AppError:
        pass
    return False


def _clock_event_count(ticket: Ticket) -> int:
    return TicketEvent.objects.filter(ticket=ticket, kind__in=CLOCK_KINDS).count()


def _fresh_states(life: Life, at: datetime) -> dict[str, ClockState]:
    ticket = Ticket.objects.select_related("contract__tariff", "version").get(pk=life.ticket.pk)
    regulation = ticket.version.parsed()
    events = TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id")
    states = compute_clocks(
        regulation,
        ticket_case(ticket, regulation),
        clock_events(ticket, list(events)),
        now=at,
        warning_share=settings.REGLAMENT_SLA_WARNING_SHARE,
        explain=False,
    )
    return {state.metric: state for state in states}


def _columns(state: ClockState) -> tuple[object, ...]:
    target = state.target.duration if state.target is not None else None
    return (
        state.state,
        state.target.calendar if state.target is not None else "",
        int(target.total_seconds()) if isinstance(target, timedelta) else None,
        getattr(target, "count", None),
        state.start,
        state.stop,
        state.due,
        state.warn_at,
        state.consumed,
        state.remaining,
    )


def _check(life: Life, now: datetime, *, swept: bool) -> None:
    ticket = Ticket.objects.get(pk=life.ticket.pk)
    stored = {clock.metric: clock for clock in Clock.objects.filter(ticket=ticket)}
    fresh = _fresh_states(life, life.synced_at)
    # the rows are what the event log says at the last sync
    assert {
        metric: (
            clock.state,
            clock.calendar,
            clock.target_seconds,
            clock.target_working_days,
            clock.started_at,
            clock.stopped_at,
            clock.due_at,
            clock.warn_at,
            clock.consumed,
            clock.remaining,
        )
        for metric, clock in stored.items()
    } == {metric: _columns(state) for metric, state in fresh.items()}
    # each warning and breach at most once, and the rows say what the events say
    recorded: dict[tuple[str, str], datetime] = {}
    for event in TicketEvent.objects.filter(ticket=ticket, kind__in=CLOCK_KINDS):
        key = (event.data["metric"], event.kind)
        assert key not in recorded, f"{key} recorded twice"
        recorded[key] = datetime.fromisoformat(event.data["at"])
    for metric, clock in stored.items():
        assert clock.warned_at == recorded.get((metric, Kind.CLOCK_WARNING))
        assert clock.breached_at == recorded.get((metric, Kind.CLOCK_BREACHED))
    if (swept or life.synced_at == now) and not ticket.out_of_scope:
        assert (ticket.breached, ticket.at_risk, ticket.next_due_at) == _queue_columns(
            _fresh_states(life, now), now, is_open=ticket.is_open
        )
    if life.synced_at != now:
        return
    # just synced: every timer is ahead, and whatever passed is recorded
    for metric, clock in stored.items():
        assert clock.next_check_at is None or clock.next_check_at > now
        if ticket.out_of_scope:
            assert clock.next_check_at is None
            continue
        state = fresh[metric]
        if (
            state.due is not None
            and state.due <= now
            and (not state.stop or state.stop > state.due)
        ):
            assert clock.breached_at is not None, metric
        if (
            state.warn_at is not None
            and state.warn_at <= now
            and (not state.stop or state.stop > state.warn_at)
        ):
            assert clock.warned_at is not None or clock.breached_at is not None, metric


def _queue_columns(
    states: dict[str, ClockState], now: datetime, *, is_open: bool
) -> tuple[bool, bool, datetime | None]:
    """Breached (any clock), at risk (a running clock past its warning), earliest due."""
    running = [s for s in states.values() if s.stop is None and s.state in ("running", "breached")]
    return (
        any(s.state == "breached" for s in states.values()),
        any(s.state == "running" and s.warn_at is not None and s.warn_at <= now for s in running),
        min((s.due for s in running if s.due is not None), default=None) if is_open else None,
    )


def _check_consumed(life: Life) -> None:
    """Paused time never counts: consumed time against the oracle, with the known pauses."""
    ticket = Ticket.objects.get(pk=life.ticket.pk)
    waiting = {s.id for s in life.regulation.statuses if s.waiting_for_customer}
    final = {s.id for s in life.regulation.statuses if s.final}
    closed_at = next((at for at, status in life.statuses if status in final), None)
    ends = [at for at, _ in life.statuses[1:]] + [life.synced_at]
    pauses = [
        (a, b) for (a, status), b in zip(life.statuses, ends, strict=True) if status in waiting
    ]
    if life.regulation.id == "cera":
        # R3.6/R3.7: registered → closed, working hours, paused while waiting
        checks = [("resolution", ticket.registered_at, MOSCOW_OFFICE, pauses)]
    else:
        # R1.5 around the clock from arrival, paused while waiting; R1.2 never paused
        checks = [
            ("processing", ticket.received_at, ALWAYS, pauses),
            ("registration", ticket.received_at, ALWAYS, []),
        ]
    stored = {clock.metric: clock for clock in Clock.objects.filter(ticket=ticket)}
    for metric, start, oracle, paused in checks:
        stop = ticket.registered_at if metric == "registration" else closed_at
        end = stop if stop is not None else life.synced_at
        assert stored[metric].consumed == oracle.between(start, end, paused), metric
