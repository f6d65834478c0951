"""Every clock of a request, computed from scratch from its events.

The event log is the single source: a clock's start and stop are the first
events of the kinds its metric names, its pauses are the periods the request
spent in a status that pauses it, and its target is what the regulation
promises for the request as it is *now* (priority, line, category, type,
contract attributes). So changing the priority or escalating to line 3 swaps
the target but keeps every second already consumed, and a corrected
``received`` instant simply moves the start. Nothing depends on when the
computation runs except the state of clocks still open at ``now``.

Closing the request (a ``closed`` event) stops every clock still running,
whatever its own stop event: a closed request has nothing left to wait for, so
no clock of it can breach afterwards. Such a clock is met if the request was
closed in time; ``stopped_by`` says which event stopped it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from reglament.domain.calendar import Explanation, Pauses
from reglament.domain.errors import DomainError
from reglament.domain.regulation.model import EVENTS, Case, Regulation, ResolvedTarget

State = Literal["not_applicable", "no_promise", "waiting", "running", "paused", "met", "breached"]


class ClockError(DomainError):
    code = "clock_error"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a request, as far as clocks care.

    ``kind`` is one of the metric events (``received``, ``registered``,
    ``work_started``, ``first_public_reply``, ``defect_confirmed``,
    ``workaround_provided``, ``service_restored``, ``resolved``, ``closed``,
    ``paid_work_approved``)
    or ``status``, with ``status`` naming the status the request entered.
    """

    at: datetime
    kind: str
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ClockState:
    """One metric's clock at ``now``."""

    metric: str
    state: State
    target: ResolvedTarget | None
    start: datetime | None
    stop: datetime | None
    due: datetime | None  # while paused: the due instant if the pause ended now
    warn_at: datetime | None
    breached_at: datetime | None
    consumed: timedelta
    remaining: timedelta | None  # business time left; negative once breached
    pauses: tuple[tuple[datetime, datetime], ...]
    explanation: Explanation | None
    stopped_by: str | None = None  # the metric's own stop event, or "closed"

    @property
    def open(self) -> bool:
        return self.state in ("running", "paused")


def compute_clocks(
    regulation: Regulation,
    case: Case,
    events: Sequence[Event],
    *,
    now: datetime,
    warning_share: float = 0.8,
    explain: bool = True,
) -> tuple[ClockState, ...]:
    """The state of every metric of ``regulation`` for a request at ``now``.

    ``explain=False`` skips the counted-intervals explanation (the sweeper and
    the queue need only instants and durations).
    """
    if not 0 < warning_share < 1:
        raise ClockError(
            f"The warning share must be between 0 and 1, got {warning_share}.",
            hint="E.g. 0.8 warns when 80 % of the time is used.",
        )
    ordered = sorted(events, key=lambda e: e.at)
    for event in ordered:
        if event.kind not in EVENTS and event.kind != "status":
            raise ClockError(
                f"Unknown event kind {event.kind!r}.",
                hint=f"Use one of {', '.join(EVENTS)} or 'status'.",
            )
        if event.kind == "status":
            regulation.status(str(event.status))
    case = regulation.check_case(case)
    periods = _status_periods(ordered, now)
    return tuple(
        _clock(regulation, case, metric_id, ordered, periods, now, warning_share, explain)
        for metric_id in (m.id for m in regulation.metrics)
    )


def _status_periods(events: Sequence[Event], now: datetime) -> list[tuple[str, datetime, datetime]]:
    """(status, from, to) for every status the request was in, the last up to ``now``."""
    changes = [(e.at, str(e.status)) for e in events if e.kind == "status"]
    periods = []
    for (at, status), following in zip(changes, [*changes[1:], (None, "")], strict=True):
        until = following[0] if following[0] is not None else max(now, at)
        periods.append((status, at, until))
    return periods


def _clock(
    regulation: Regulation,
    case: Case,
    metric_id: str,
    events: Sequence[Event],
    periods: list[tuple[str, datetime, datetime]],
    now: datetime,
    share: float,
    explain: bool,
) -> ClockState:
    metric = regulation.metric(metric_id)
    target = regulation.target(metric_id, case)
    start = next((e.at for e in events if e.kind == metric.starts), None)
    stopping = next(
        (
            e
            for e in events
            if e.kind in (metric.stops, "closed") and start is not None and e.at >= start
        ),
        None,
    )
    stop = stopping.at if stopping is not None else None
    stopped_by = (
        None
        if stopping is None
        else metric.stops
        if any(e.kind == metric.stops and e.at == stopping.at for e in events)
        else "closed"
    )
    end = stop if stop is not None else max(now, start) if start is not None else None
    pauses = tuple(
        (max(a, start), min(b, end))
        for status, a, b in periods
        if start is not None
        and end is not None
        and regulation.status(status).pauses_metric(metric_id)
        and min(b, end) > max(a, start)
    )

    def state(kind: State, **values: object) -> ClockState:
        fields: dict[str, object] = {
            "metric": metric_id,
            "state": kind,
            "target": target,
            "start": start,
            "stop": stop,
            "due": None,
            "warn_at": None,
            "breached_at": None,
            "consumed": timedelta(0),
            "remaining": None,
            "pauses": pauses,
            "explanation": None,
            "stopped_by": stopped_by,
        }
        fields.update(values)
        return ClockState(**fields)  # type: ignore[arg-type]

    if target is None:
        return state("not_applicable")
    calendar = regulation.calendars[target.calendar]
    consumed = calendar.between(start, end, pauses) if start is not None and end else timedelta(0)
    if target.duration is None:
        return state("no_promise", consumed=consumed)
    if start is None or end is None:
        return state("waiting")
    prepared = Pauses(pauses)
    deadline = calendar.deadline(start, target.duration, prepared)
    business = deadline.business_time
    warn_at = calendar.add(start, _share(business, share), prepared)
    remaining = business - consumed
    paused_now = stop is None and _in_pause(periods, regulation, metric_id, now)
    if stop is not None:
        kind: State = "met" if stop <= deadline.due else "breached"
    elif now >= deadline.due:
        kind = "breached"
    else:
        kind = "paused" if paused_now else "running"
    return state(
        kind,
        due=deadline.due,
        warn_at=warn_at,
        breached_at=deadline.due if kind == "breached" else None,
        consumed=consumed,
        remaining=remaining,
        explanation=calendar.explain(start, end, prepared) if explain else None,
    )


def _share(business: timedelta, share: float) -> timedelta:
    micro = business // timedelta(microseconds=1)
    return timedelta(microseconds=round(micro * share))


def _in_pause(
    periods: list[tuple[str, datetime, datetime]],
    regulation: Regulation,
    metric_id: str,
    now: datetime,
) -> bool:
    if not periods:
        return False
    status, since, _ = periods[-1]
    return since <= now and regulation.status(status).pauses_metric(metric_id)


__all__ = ["ClockState", "Event", "State", "compute_clocks"]
