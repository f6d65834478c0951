"""Regulations as code: the file format, its checks, targets and what-if clocks.

regulation = load_regulation_file("regulations/cera.yaml")
regulation.target("resolution", Case(tariff="standard", priority="critical", line=3))
regulation.simulate(Case(...), received=..., pauses=[...])
"""

from reglament.domain.regulation.loader import (
    Problem,
    RegulationInvalid,
    load_regulation,
    load_regulation_file,
)
from reglament.domain.regulation.model import (
    EVENTS,
    LINES,
    PRIORITIES,
    Case,
    Metric,
    Regulation,
    RegulationQueryError,
    ResolvedTarget,
    Service,
    Tariff,
    Text,
    format_target,
)
from reglament.domain.regulation.simulate import Clock, simulate

__all__ = [
    "EVENTS",
    "LINES",
    "PRIORITIES",
    "Case",
    "Clock",
    "Metric",
    "Problem",
    "Regulation",
    "RegulationInvalid",
    "RegulationQueryError",
    "ResolvedTarget",
    "Service",
    "Tariff",
    "Text",
    "format_target",
    "load_regulation",
    "load_regulation_file",
    "simulate",
]
