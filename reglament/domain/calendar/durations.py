"""Durations a regulation can promise: business hours/minutes, or working days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from reglament.domain.errors import CalendarError


@dataclass(frozen=True, slots=True)
class WorkingDays:
    """``count`` working days, as in "a workaround within 3 working days".

    From an instant inside working day *D*, ``N`` working days end at the same
    business-time position (the same amount of working time into the day) on
    the *N*-th working day after *D*, or at that day's close if it is shorter.
    From an instant outside working hours, counting starts at the next opening,
    so the deadline is the close of the *N*-th working day from then.
    See docs/sla-semantics.md for worked examples.
    """

    count: int

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise CalendarError(
                f"A number of working days must be a whole number ≥ 0, got {self.count!r}.",
                hint="Write e.g. WorkingDays(3); use a timedelta for hours.",
            )

    def __str__(self) -> str:
        return f"{self.count} working day{'s' if self.count != 1 else ''}"


Duration = timedelta | WorkingDays
