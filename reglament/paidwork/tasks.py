"""Background tasks of the paidwork app, run by `reglament worker`.

The expiry sweep is a chain like the SLA sweep and the worker heartbeat: each
run first enqueues the next one `REGLAMENT_ESTIMATE_SWEEP_SECONDS` later
(default 300), then expires the proposals past their validity. Queued first, so
neither a failing run nor a worker killed in the middle breaks the chain; the
pending run is a task row with run_after, so the timer survives restarts, and
`reglament worker` starts the chain if no run is waiting.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from reglament.core import selectors as core_selectors
from reglament.core import services as core_services
from reglament.paidwork import notifications
from reglament.paidwork.services import estimates_expire

KEEP_SWEEP_RESULTS = timedelta(hours=1)


def estimate_sweep_interval() -> timedelta:
    """How often expired offers are looked for (REGLAMENT_ESTIMATE_SWEEP_SECONDS, default 300)."""
    interval: timedelta = settings.REGLAMENT_ESTIMATE_SWEEP_INTERVAL
    return interval


@task()
def estimate_notify(estimate_id: int, kind: str) -> int:
    """Mail the people an estimate's step concerns; returns messages sent.

    An SMTP error fails the task, so the queue keeps the failure and its traceback.
    """
    return notifications.estimate_notify(estimate_id=estimate_id, kind=kind)


@task()
def estimate_sweep_tick() -> dict[str, int]:
    """Queue the next run, then expire the proposals whose validity has passed."""
    now = timezone.now()
    estimate_sweep_schedule(delay=estimate_sweep_interval())
    expired = estimates_expire(now=now)
    core_services.task_results_prune(
        task_path=estimate_sweep_tick.module_path, finished_before=now - KEEP_SWEEP_RESULTS
    )
    return {"expired": len(expired)}


def estimate_sweep_schedule(*, delay: timedelta) -> bool:
    """Enqueue an expiry sweep `delay` from now unless one is already waiting."""
    with transaction.atomic():
        if core_selectors.task_waiting(task_path=estimate_sweep_tick.module_path):
            return False
        estimate_sweep_tick.using(run_after=timezone.now() + delay).enqueue()
    return True
