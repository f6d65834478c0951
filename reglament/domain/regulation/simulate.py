"""What-if: every clock a request would run under a regulation, from its facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reglament.domain.calendar import Explanation, Pauses
from reglament.domain.calendar.engine import PauseLike
from reglament.domain.regulation.model import (
    Case,
    Regulation,
    RegulationQueryError,
    ResolvedTarget,
    Text,
)

# Events a request always has by the time it exists; others must be given.
_IMPLIED = ("received", "registered")


@dataclass(frozen=True, slots=True)
class Clock:
    """One metric's clock for a simulated request."""

    metric: str
    title: Text
    starts_on: str
    stops_on: str
    target: ResolvedTarget | None  # None: the metric does not apply
    start: datetime | None  # None: its start event has not happened
    due: datetime | None  # None: no promise, not applicable, or not started
    paused: bool  # whether the waiting status pauses this metric
    explanation: Explanation | None

    @property
    def applies(self) -> bool:
        return self.target is not None

    @property
    def promise(self) -> bool:
        return self.target is not None and self.target.promise

    @property
    def provisional(self) -> bool:
        return self.explanation is not None and self.explanation.provisional


def simulate(
    regulation: Regulation,
    case: Case,
    *,
    received: datetime,
    pauses: Sequence[PauseLike] = (),
    events: Mapping[str, datetime] | None = None,
) -> tuple[Clock, ...]:
    """Every metric of the regulation for ``case``, received at ``received``.

    ``pauses`` are periods spent in the regulation's waiting-for-customer status;
    they pause only the metrics that status pauses. ``received`` and
    ``registered`` default to ``received``; any other start event (for example
    ``defect_confirmed``) can be given in ``events``.
    """
    case = regulation.check_case(case)
    happened = dict.fromkeys(_IMPLIED, received)
    happened.update(events or {})
    for name, moment in happened.items():
        if moment < received and name != "received":
            raise RegulationQueryError(
                f"The event {name} at {moment.isoformat()} is before the request was received.",
                hint="Give events at or after the instant the request was received.",
            )
    waiting = regulation.waiting_status
    if pauses and waiting is None:
        raise RegulationQueryError(
            f"The regulation {regulation.id} has no status that waits for the customer, so "
            "nothing can pause its clocks.",
            hint="Drop the pauses.",
        )
    prepared = Pauses(pauses)
    clocks: list[Clock] = []
    for metric in regulation.metrics:
        target = regulation.target(metric.id, case)
        paused = waiting is not None and waiting.pauses_metric(metric.id)
        start = happened.get(metric.starts)
        due = explanation = None
        if target is not None and target.duration is not None and start is not None:
            calendar = regulation.calendars[target.calendar]
            deadline = calendar.deadline(start, target.duration, prepared if paused else ())
            due, explanation = deadline.due, deadline.explanation
        clocks.append(
            Clock(
                metric=metric.id,
                title=metric.title,
                starts_on=metric.starts,
                stops_on=metric.stops,
                target=target,
                start=start,
                due=due,
                paused=paused,
                explanation=explanation,
            )
        )
    return tuple(clocks)
