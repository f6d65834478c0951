"""SLA clocks of a request, derived from its event log (pure Python).

clocks = compute_clocks(regulation, case, events, now=...)
"""

from reglament.domain.sla.clock import ClockState, Event, compute_clocks

__all__ = ["ClockState", "Event", "compute_clocks"]
