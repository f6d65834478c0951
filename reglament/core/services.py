"""Writes of the core app. Keyword-only, `<thing>_<verb>`, the only callers of save()."""

from datetime import datetime, timedelta

from django_tasks_db.models import DBTaskResult

from reglament.core.models import WorkerHeartbeat

# A worker silent this long is gone for good (scaled down, renamed host).
FORGET_WORKER_AFTER = timedelta(days=1)


def worker_heartbeat_record(*, worker_id: str, now: datetime) -> WorkerHeartbeat:
    """Note that `worker_id` is alive at `now`; forget workers long silent."""
    heartbeat, _created = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"last_seen": now}
    )
    WorkerHeartbeat.objects.filter(last_seen__lt=now - FORGET_WORKER_AFTER).delete()
    return heartbeat


def task_results_prune(*, task_path: str, finished_before: datetime) -> int:
    """Delete finished results of one task; returns how many were deleted."""
    deleted, _by_model = (
        DBTaskResult.objects.finished()
        .filter(task_path=task_path, finished_at__lt=finished_before)
        .delete()
    )
    return deleted
