"""A loaded regulation: frozen values, and the questions a regulation answers.

Built only by :mod:`reglament.domain.regulation.loader`, which checks every
reference, so code here may assume ids resolve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from reglament.domain.calendar import WorkCalendar, WorkingDays
from reglament.domain.errors import DomainError

if TYPE_CHECKING:
    from reglament.domain.calendar.engine import PauseLike
    from reglament.domain.regulation.simulate import Clock

PRIORITIES = ("critical", "high", "medium", "low")
LINES = (1, 2, 3)
EVENTS = (
    "received",
    "registered",
    "work_started",
    "first_public_reply",
    "defect_confirmed",
    "workaround_provided",
    "service_restored",
    "resolved",
    "closed",
    "paid_work_approved",
)


class RegulationQueryError(DomainError):
    """A question to a loaded regulation names something it does not have."""

    code = "regulation_query"


@dataclass(frozen=True, slots=True)
class Text:
    """A text in Russian (required) and English."""

    ru: str
    en: str = ""

    def get(self, lang: str) -> str:
        return (self.en or self.ru) if lang == "en" else self.ru

    def __str__(self) -> str:
        return self.ru


Target = timedelta | WorkingDays | None  # None: no promise ("consultation only")


def format_target(target: Target, lang: str = "ru") -> str:
    """``4 ч`` / ``4 h``, ``30 мин`` / ``30 min``, ``3 раб. дн.`` / ``3 working days``."""
    if target is None:
        return "только консультация" if lang == "ru" else "consultation only"
    if isinstance(target, WorkingDays):
        return f"{target.count} раб. дн." if lang == "ru" else str(target)
    minutes = Decimal(target // timedelta(seconds=1)) / 60
    if minutes < 60 or minutes % 60:
        value = minutes if minutes < 60 else minutes / 60
        unit = (
            ("мин" if lang == "ru" else "min") if minutes < 60 else ("ч" if lang == "ru" else "h")
        )
    else:
        value, unit = minutes / 60, ("ч" if lang == "ru" else "h")
    number = f"{value.normalize():f}"
    return f"{number.replace('.', ',') if lang == 'ru' else number} {unit}"


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    id: str
    schedule: str
    timezone: str
    holidays: str | None
    shortened_pre_holiday: bool
    overrides: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    title: Text
    calendar: str
    address: str = ""


# ASSUMPTION: the seeds give no reopen window; two working weeks (docs/usage.md).
DEFAULT_REOPEN_WINDOW = WorkingDays(10)


@dataclass(frozen=True, slots=True)
class Usage:
    """R4.5: how the tariff counts support usage (see docs/usage.md).

    ``period`` is the accounting period (only calendar months, in the time zone of
    the regulation's default calendar). ``reopen_window`` (per request only): a
    request reopened within this much business time of the default calendar after
    its resolution is not counted again when it is resolved again.
    """

    unit: Literal["request", "hour"]
    increment: Decimal = Decimal(1)
    period: Literal["month"] = "month"
    reopen_window: timedelta | WorkingDays = DEFAULT_REOPEN_WINDOW


@dataclass(frozen=True, slots=True)
class OnDecline:
    """What a declined estimate does to the request (docs/paid-work.md).

    ``status`` empty: the request goes back to the status it was in before it
    waited for approval (consultation goes on); otherwise it moves to
    ``status``, with ``resolution`` when that status is final.
    """

    status: str = ""
    resolution: str = ""

    @property
    def consultation(self) -> bool:
        return not self.status


@dataclass(frozen=True, slots=True)
class PaidWork:
    """R4.6: past ``after``'s target, work goes on only after an approved estimate.

    ``status``: where the request waits for the customer's approval (its
    ``pauses`` say which clocks stand still); empty: the request keeps its
    status. ``metric``: a clock that starts when an estimate is approved.
    """

    after: str
    approved_by: tuple[str, ...] = ("requester", "customer_admin")
    status: str = ""
    on_decline: OnDecline = OnDecline()
    metric: str = ""


@dataclass(frozen=True, slots=True)
class Tariff:
    id: str
    title: Text
    description: Text | None = None
    usage: Usage | None = None
    paid_work: PaidWork | None = None


ServiceValue = bool | Text


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    title: Text
    tariffs: Mapping[str, ServiceValue]
    group: Text | None = None
    note: Text | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeSection:
    id: str
    title: Text
    tariffs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Named:
    """A thing with an id, a title and an optional definition."""

    id: str
    title: Text
    definition: Text | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    id: str
    title: Text


@dataclass(frozen=True, slots=True)
class Question:
    title: Text
    answers: tuple[Answer, ...]


@dataclass(frozen=True, slots=True)
class PriorityMatrix:
    """R3.1: impact × workaround → priority."""

    impact: Question
    workaround: Question
    cells: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    title: Text
    group: str | None = None
    default_priority: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    id: str
    title: Text
    initial: bool = False
    final: bool = False
    waiting_for_customer: bool = False
    resolution_required: bool = False
    pauses: tuple[str, ...] = ()  # metric ids; ("all",) for every metric
    next: tuple[str, ...] = ()
    description: Text | None = None

    def pauses_metric(self, metric: str) -> bool:
        return "all" in self.pauses or metric in self.pauses


@dataclass(frozen=True, slots=True)
class Range:
    """A numeric condition: ``low`` ≤ value < ``high`` (either may be open)."""

    low: Decimal | None = None
    high: Decimal | None = None

    def holds(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return False
        number = Decimal(str(value))
        return (self.low is None or number >= self.low) and (
            self.high is None or number < self.high
        )

    def meets(self, other: Range) -> bool:
        """Whether some value satisfies both ranges."""
        low = max((v for v in (self.low, other.low) if v is not None), default=None)
        high = min((v for v in (self.high, other.high) if v is not None), default=None)
        return low is None or high is None or low < high


@dataclass(frozen=True, slots=True)
class Rule:
    """One target rule of a metric: conditions, and what they promise."""

    index: int  # position in the file, for messages
    line: int
    conditions: Mapping[str, frozenset[str | int | bool]]
    attributes: Mapping[str, Range]
    target: Target
    calendar: str | None = None
    note: Text | None = None

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.conditions) | {f"attributes.{name}" for name in self.attributes}

    def matches(self, case: Case) -> bool:
        for key, allowed in self.conditions.items():
            if case.value(key) not in allowed:
                return False
        return all(
            name in case.attributes and condition.holds(case.attributes[name])
            for name, condition in self.attributes.items()
        )

    def describe(self) -> str:
        parts = [
            f"{key}={'|'.join(sorted(str(v) for v in values))}"
            for key, values in sorted(self.conditions.items())
        ]
        parts += [
            f"{name}∈[{_bound(r.low)}, {_bound(r.high)})"
            for name, r in sorted(self.attributes.items())
        ]
        return ", ".join(parts) or "any request"


@dataclass(frozen=True, slots=True)
class Metric:
    id: str
    title: Text
    starts: str
    stops: str
    calendar: str
    rules: tuple[Rule, ...]
    types: tuple[str, ...] | None = None  # None: every request type
    tariffs: tuple[str, ...] | None = None  # None: every tariff
    description: Text | None = None

    def applies(self, case: Case) -> bool:
        return (self.types is None or case.type is None or case.type in self.types) and (
            self.tariffs is None or case.tariff in self.tariffs
        )


@dataclass(frozen=True, slots=True)
class Reported:
    """A promise reported on rather than timed (R5.2, R1.6)."""

    id: str
    text: Text
    metric: str | None = None
    target: Target = None


@dataclass(frozen=True, slots=True)
class Document:
    title: Text
    url: str


@dataclass(frozen=True, slots=True)
class Case:
    """What decides a request's targets."""

    tariff: str
    priority: str
    line: int = 1
    type: str | None = None
    category: str | None = None
    category_group: str | None = None
    attributes: Mapping[str, object] = field(default_factory=dict)
    out_of_scope: bool = False

    def value(self, key: str) -> object:
        return getattr(self, key)


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """The target a metric has for one case, and the rule that gave it."""

    metric: str
    duration: Target
    calendar: str
    rule: Rule | None
    note: Text | None = None

    @property
    def promise(self) -> bool:
        return self.duration is not None


@dataclass(frozen=True, slots=True)
class Regulation:
    """One version of one vendor's regulation, as loaded from its file."""

    id: str
    title: Text
    vendor: Text
    number_prefix: str
    source: str
    default_calendar: str
    default_priority: str
    calendars: Mapping[str, WorkCalendar]
    calendar_specs: Mapping[str, CalendarSpec]
    channels: tuple[Channel, ...]
    tariffs: tuple[Tariff, ...]
    services: tuple[Service, ...]
    knowledge_sections: tuple[KnowledgeSection, ...]
    out_of_scope: tuple[Named, ...]
    request_types: tuple[Named, ...]
    priorities: tuple[Named, ...]
    priority_matrix: PriorityMatrix | None
    category_groups: tuple[Named, ...]
    categories: tuple[Category, ...]
    statuses: tuple[Status, ...]
    resolutions: tuple[Named, ...]
    metrics: tuple[Metric, ...]
    reported: tuple[Reported, ...]
    documentation: tuple[Document, ...]
    digest: str  # sha256 of the file's bytes: the version's identity

    # -------------------------------------------------------------- look-ups
    def tariff(self, tariff_id: str) -> Tariff:
        return _find(self.tariffs, tariff_id, "tariff")

    def service(self, service_id: str) -> Service:
        return _find(self.services, service_id, "service")

    def metric(self, metric_id: str) -> Metric:
        return _find(self.metrics, metric_id, "metric")

    def status(self, status_id: str) -> Status:
        return _find(self.statuses, status_id, "status")

    def category(self, category_id: str) -> Category:
        return _find(self.categories, category_id, "category")

    @property
    def waiting_status(self) -> Status | None:
        """The status that means "waiting for the customer" (R3.7), if any."""
        return next((s for s in self.statuses if s.waiting_for_customer), None)

    def derive_priority(self, *, impact: str, workaround: str) -> str:
        """R3.1: the priority the impact × workaround matrix gives."""
        if self.priority_matrix is None:
            raise RegulationQueryError(
                f"The regulation {self.id} has no priority matrix.",
                hint="Set the priority directly.",
            )
        row = self.priority_matrix.cells.get(impact)
        if row is None or workaround not in row:
            known_impacts = ", ".join(a.id for a in self.priority_matrix.impact.answers)
            known_workarounds = ", ".join(a.id for a in self.priority_matrix.workaround.answers)
            raise RegulationQueryError(
                f"No priority for impact {impact!r} and workaround {workaround!r}.",
                hint=f"Impact is one of {known_impacts}; workaround one of {known_workarounds}.",
            )
        return row[workaround]

    def simulate(
        self,
        case: Case,
        *,
        received: datetime,
        pauses: Sequence[PauseLike] = (),
        events: Mapping[str, datetime] | None = None,
    ) -> tuple[Clock, ...]:
        """Every clock ``case`` would run; see :func:`simulate.simulate`."""
        from reglament.domain.regulation.simulate import simulate

        return simulate(self, case, received=received, pauses=pauses, events=events)

    # --------------------------------------------------------------- targets
    def check_case(self, case: Case) -> Case:
        """The case with its category group filled in; unknown ids are refused."""
        self.tariff(case.tariff)
        if case.priority not in PRIORITIES:
            raise RegulationQueryError(
                f"{case.priority!r} is not a priority.", hint=f"Use one of {', '.join(PRIORITIES)}."
            )
        if case.line not in LINES:
            raise RegulationQueryError(
                f"{case.line!r} is not a support line.", hint="Use 1, 2 or 3."
            )
        if case.type is not None:
            _find(self.request_types, case.type, "request type")
        group = case.category_group
        if case.category is not None:
            group = self.category(case.category).group
        if group is not case.category_group:
            return Case(
                tariff=case.tariff,
                priority=case.priority,
                line=case.line,
                type=case.type,
                category=case.category,
                category_group=group,
                attributes=case.attributes,
                out_of_scope=case.out_of_scope,
            )
        return case

    def target(self, metric_id: str, case: Case) -> ResolvedTarget | None:
        """The target ``metric_id`` promises for ``case``; ``None`` if it does not apply."""
        metric = self.metric(metric_id)
        case = self.check_case(case)
        if not metric.applies(case):
            return None
        rule = winning_rule(metric, case)
        if rule is None:  # the loader proved completeness for cases without extras
            return ResolvedTarget(metric.id, None, metric.calendar, None)
        return ResolvedTarget(
            metric=metric.id,
            duration=rule.target,
            calendar=rule.calendar or metric.calendar,
            rule=rule,
            note=rule.note,
        )


def _bound(value: Decimal | None) -> str:
    return "…" if value is None else str(value)


def winning_rule(metric: Metric, case: Case) -> Rule | None:
    """The most specific matching rule (its keys contain every other match's keys)."""
    matching = [rule for rule in metric.rules if rule.matches(case)]
    if not matching:
        return None
    best = max(matching, key=lambda rule: len(rule.keys))
    if all(rule.keys < best.keys for rule in matching if rule is not best):
        return best
    raise RegulationQueryError(
        f"Metric {metric.id}: rules "
        + ", ".join(str(rule.index + 1) for rule in matching)
        + " all match this request and none is more specific.",
        hint="The loader refuses such files; reload the regulation.",
    )


def _find[T: (Tariff, Service, Metric, Status, Category, Named)](
    items: tuple[T, ...], item_id: str, what: str
) -> T:
    for item in items:
        if item.id == item_id:
            return item
    known = ", ".join(item.id for item in items) or "none"
    raise RegulationQueryError(f"There is no {what} {item_id!r}.", hint=f"Known: {known}.")
