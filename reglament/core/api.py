"""JSON endpoints of the core app; thin: declare schemas, call one selector."""

from datetime import datetime
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from reglament.core import selectors
from reglament.core.errors import COMMON_ERROR_RESPONSES, ErrorOut

router = Router(tags=["system"])


class WorkerOut(Schema):
    last_seen: datetime | None
    alive: bool


class HealthOut(Schema):
    status: Literal["ok"]
    version: str
    database: Literal["ok"]
    worker: WorkerOut
    time: datetime


@router.get(
    "/health",
    response={200: HealthOut, 503: ErrorOut, **COMMON_ERROR_RESPONSES},
    summary="Health of the service",
    description=(
        "200 when the web process can reach the database; 503 (`database_unavailable`) "
        "when it cannot. `worker.alive` says whether a background worker took its "
        "heartbeat task recently; a dead worker does not make the web process unhealthy."
    ),
)
def health(request: HttpRequest) -> HealthOut:
    report = selectors.health_report(
        now=timezone.now(), heartbeat=settings.REGLAMENT_WORKER_HEARTBEAT
    )
    return HealthOut(
        status="ok",
        version=report.version,
        database="ok",
        worker=WorkerOut(last_seen=report.worker.last_seen, alive=report.worker.alive),
        time=report.time,
    )
