"""Background tasks of the core app (Django tasks, run by `reglament worker`).

The worker heartbeat is a chain: each run records the beat, then enqueues the
next run for `REGLAMENT_WORKER_HEARTBEAT` later. The pending run is a database
row with run_after, so the timer survives restarts and needs no scheduler
process; `reglament worker` starts the chain if no run is waiting. Because the
beat travels through the queue, it proves that a worker is taking tasks, not
merely that a process exists.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import TaskContext, task
from django.utils import timezone

from reglament.core import selectors, services

# Finished heartbeat results are kept this long, then pruned by the heartbeat.
KEEP_HEARTBEAT_RESULTS = timedelta(hours=1)


@task(takes_context=True)
def worker_heartbeat(context: TaskContext) -> None:
    now = timezone.now()
    worker_ids = context.task_result.worker_ids
    try:
        services.worker_heartbeat_record(
            worker_id=worker_ids[-1] if worker_ids else "unknown", now=now
        )
        services.task_results_prune(
            task_path=worker_heartbeat.module_path,
            finished_before=now - KEEP_HEARTBEAT_RESULTS,
        )
    finally:
        # Even a failed beat schedules the next one: the chain must not break.
        worker_heartbeat_schedule(delay=settings.REGLAMENT_WORKER_HEARTBEAT)


def worker_heartbeat_schedule(*, delay: timedelta) -> bool:
    """Enqueue a heartbeat run `delay` from now unless one is already waiting.

    Returns whether it enqueued. Two workers starting at once may both enqueue;
    the chains merge at the next beat, which sees the other one waiting.
    """
    with transaction.atomic():
        if selectors.task_waiting(task_path=worker_heartbeat.module_path):
            return False
        worker_heartbeat.using(run_after=timezone.now() + delay).enqueue()
    return True
