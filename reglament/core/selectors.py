"""Read-only queries of the core app."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, connection
from django.db.models import Max
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from reglament import __version__
from reglament.core.errors import DatabaseUnavailableError
from reglament.core.models import WorkerHeartbeat

# A worker that missed this many beats in a row is reported dead.
MISSED_BEATS_BEFORE_DEAD = 3


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    last_seen: datetime | None
    alive: bool


@dataclass(frozen=True, slots=True)
class HealthReport:
    version: str
    worker: WorkerStatus
    time: datetime


def database_check() -> None:
    """Raise DatabaseUnavailableError unless the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        raise DatabaseUnavailableError(details={"reason": type(error).__name__}) from error


def worker_status(*, now: datetime, heartbeat: timedelta) -> WorkerStatus:
    """Whether any worker ran the heartbeat task recently enough."""
    last_seen: datetime | None = WorkerHeartbeat.objects.aggregate(last=Max("last_seen"))["last"]
    alive = last_seen is not None and now - last_seen <= heartbeat * MISSED_BEATS_BEFORE_DEAD
    return WorkerStatus(last_seen=last_seen, alive=alive)


def health_report(*, now: datetime, heartbeat: timedelta) -> HealthReport:
    """The system's health; raises DatabaseUnavailableError when the database is down."""
    database_check()
    return HealthReport(
        version=__version__,
        worker=worker_status(now=now, heartbeat=heartbeat),
        time=now,
    )


def task_waiting(*, task_path: str) -> bool:
    """Whether a run of the task at `task_path` is queued and not yet started."""
    return DBTaskResult.objects.filter(task_path=task_path, status=TaskResultStatus.READY).exists()
