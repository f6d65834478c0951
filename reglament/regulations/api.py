"""JSON endpoints of the regulations app; thin: declare schemas, call one selector.

For now every endpoint here is public (no authentication yet): regulations
are what a vendor publishes anyway, and the simulation reads nothing but a
regulation. Endpoints that touch contracts or tickets will require a login.
"""

from datetime import datetime, timedelta
from typing import Self

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import model_validator

from reglament.core.errors import COMMON_ERROR_RESPONSES, ErrorOut
from reglament.core.schemas import Instant, IntervalOut, TextOut
from reglament.domain.calendar import Interval, WorkingDays
from reglament.domain.regulation import Case, Clock, Text, format_target
from reglament.regulations import selectors
from reglament.regulations.models import RegulationVersion, Tariff

router = Router(tags=["regulations"])


class RegulationOut(Schema):
    id: str
    title: TextOut
    latest_version: int


class TariffOut(Schema):
    id: str
    title: TextOut


class VersionOut(Schema):
    number: int
    digest: str
    source_name: str
    title: TextOut
    loaded_at: datetime
    loaded_by: str | None
    tariffs: list[TariffOut]


class RegulationDetailOut(Schema):
    id: str
    latest_version: int
    title: TextOut
    versions: list[VersionOut]


class PauseIn(Schema):
    start: Instant
    end: Instant

    @model_validator(mode="after")
    def end_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError("a pause must end after it starts")
        return self


class SimulateIn(Schema):
    regulation: str = Field(description="Regulation id, e.g. `cera`.")
    version: int | None = Field(None, ge=1, description="Version number; default: the latest.")
    tariff: str
    priority: str = Field(description="critical, high, medium or low.")
    line: int = Field(1, ge=1, le=3, description="Support line 1, 2 or 3.")
    category: str | None = None
    type: str | None = Field(None, description="Request type id, e.g. `defect`.")
    attributes: dict[str, bool | int | float | str] = Field(
        default_factory=dict, description='Contract attributes, e.g. `{"cash_registers": 60}`.'
    )
    out_of_scope: bool = False
    received: Instant = Field(description="When the request arrived; with a UTC offset.")
    pauses: list[PauseIn] = Field(
        default_factory=list, description="Periods spent waiting for the customer."
    )
    events: dict[str, Instant] = Field(
        default_factory=dict,
        description="Other start/stop events by name, e.g. `defect_confirmed`.",
    )


class SimulatedTargetOut(Schema):
    text: TextOut
    seconds: int | None = Field(description="The target in business seconds, if in hours.")
    working_days: int | None = Field(description="The target in working days, if in days.")
    note: TextOut | None


class SimulatedClockOut(Schema):
    metric: str
    title: TextOut
    starts_on: str
    stops_on: str
    applies: bool
    promise: bool
    target: SimulatedTargetOut | None = Field(description="Null when the metric does not apply.")
    calendar: str | None
    start: datetime | None
    due: datetime | None
    paused: bool = Field(description="Whether waiting for the customer pauses this clock.")
    provisional: bool = Field(description="Whether the due time relies on unknown holidays.")
    counted: list[IntervalOut]
    paused_intervals: list[IntervalOut]


class SimulationOut(Schema):
    regulation: str
    version: int
    clocks: list[SimulatedClockOut]


@router.get(
    "/regulations",
    response={200: list[RegulationOut], **COMMON_ERROR_RESPONSES},
    summary="Loaded regulations",
    description="Every loaded regulation with its latest version. Public for now.",
)
def regulation_list(request: HttpRequest) -> list[RegulationOut]:
    return [
        RegulationOut(
            id=version.regulation_id,
            title=_title(version),
            latest_version=version.number,
        )
        for version in selectors.regulation_latest_versions()
    ]


@router.get(
    "/regulations/{regulation_id}",
    response={200: RegulationDetailOut, 404: ErrorOut, **COMMON_ERROR_RESPONSES},
    summary="One regulation: its versions and their tariffs",
    description="404 `regulation_not_found` if it was never loaded. Public for now.",
)
def regulation_detail(request: HttpRequest, regulation_id: str) -> RegulationDetailOut:
    versions = selectors.regulation_history(regulation_id)
    return RegulationDetailOut(
        id=regulation_id,
        latest_version=versions[-1].number,
        title=_title(versions[-1]),
        versions=[
            VersionOut(
                number=version.number,
                digest=version.digest,
                source_name=version.source_name,
                title=_title(version),
                loaded_at=version.loaded_at,
                loaded_by=version.loaded_by.username if version.loaded_by else None,
                tariffs=[_tariff(tariff) for tariff in version.tariffs.all()],
            )
            for version in versions
        ],
    )


@router.post(
    "/sla/simulate",
    response={200: SimulationOut, 400: ErrorOut, 404: ErrorOut, **COMMON_ERROR_RESPONSES},
    summary="What-if: every SLA clock of a request under a regulation",
    description=(
        "Every metric of the regulation for a request with the given facts: its target, "
        "the calendar it counts on, when it started and is due, and the counted and paused "
        "intervals. Instants need a UTC offset. 404 for an unknown regulation or version; "
        "422 `unknown_tariff`, `unknown_priority`, `unknown_category`, "
        "`unknown_request_type`, `unknown_event` (details name the field and the known "
        "values), `simulation_invalid`, or `invalid_input` for malformed fields. Public for "
        "now: it reads only the published regulation."
    ),
)
def sla_simulate(request: HttpRequest, payload: SimulateIn) -> SimulationOut:
    simulation = selectors.regulation_simulate(
        regulation_id=payload.regulation,
        number=payload.version,
        case=Case(
            tariff=payload.tariff,
            priority=payload.priority,
            line=payload.line,
            type=payload.type,
            category=payload.category,
            attributes=payload.attributes,
            out_of_scope=payload.out_of_scope,
        ),
        received=payload.received,
        pauses=[(pause.start, pause.end) for pause in payload.pauses],
        events=payload.events,
    )
    return SimulationOut(
        regulation=simulation.version.regulation_id,
        version=simulation.version.number,
        clocks=[_clock(clock) for clock in simulation.clocks],
    )


# ------------------------------------------------------------------ rendering
def _title(version: RegulationVersion) -> TextOut:
    return TextOut(ru=version.title_ru, en=version.title_en or version.title_ru)


def _tariff(tariff: Tariff) -> TariffOut:
    return TariffOut(id=tariff.code, title=TextOut(ru=tariff.title_ru, en=tariff.title_en))


def _text(text: Text) -> TextOut:
    return TextOut(ru=text.ru, en=text.get("en"))


def _intervals(intervals: tuple[Interval, ...]) -> list[IntervalOut]:
    return [IntervalOut(start=interval.start, end=interval.end) for interval in intervals]


def _clock(clock: Clock) -> SimulatedClockOut:
    target = None
    if clock.target is not None:
        duration = clock.target.duration
        target = SimulatedTargetOut(
            text=TextOut(ru=format_target(duration, "ru"), en=format_target(duration, "en")),
            seconds=duration // timedelta(seconds=1) if isinstance(duration, timedelta) else None,
            working_days=duration.count if isinstance(duration, WorkingDays) else None,
            note=_text(clock.target.note) if clock.target.note else None,
        )
    explanation = clock.explanation
    return SimulatedClockOut(
        metric=clock.metric,
        title=_text(clock.title),
        starts_on=clock.starts_on,
        stops_on=clock.stops_on,
        applies=clock.applies,
        promise=clock.promise,
        target=target,
        calendar=clock.target.calendar if clock.target is not None else None,
        start=clock.start,
        due=clock.due,
        paused=clock.paused,
        provisional=clock.provisional,
        counted=_intervals(explanation.counted) if explanation else [],
        paused_intervals=_intervals(explanation.paused) if explanation else [],
    )
