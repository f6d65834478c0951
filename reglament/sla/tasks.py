"""Background tasks of the sla app, run by `reglament worker`.

The sweeper is a chain like the worker heartbeat: each run records what fell
due, then enqueues the next run `REGLAMENT_SLA_SWEEP_INTERVAL` later (sooner
if more is due). The pending run is a task row with run_after, so the timer
survives restarts; several workers may run sweeps at once without harm
(reglament.sla.services.sla_sweep claims rows with SKIP LOCKED).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from reglament.core import selectors as core_selectors
from reglament.core import services as core_services
from reglament.sla import notifications
from reglament.sla.services import sla_sweep

KEEP_SWEEP_RESULTS = timedelta(hours=1)


@task()
def clock_event_notify(event_id: int) -> int:
    """Mail the staff concerned about a warning or breach event; returns messages sent."""
    return notifications.clock_event_notify(event_id=event_id)


@task()
def sla_sweep_tick() -> dict[str, int]:
    now = timezone.now()
    try:
        report = sla_sweep(now=now)
        core_services.task_results_prune(
            task_path=sla_sweep_tick.module_path, finished_before=now - KEEP_SWEEP_RESULTS
        )
    finally:
        # Even a failed sweep schedules the next one: the chain must not break.
        sla_sweep_schedule(delay=settings.REGLAMENT_SLA_SWEEP_INTERVAL)
    return {"tickets": report.tickets, "warnings": report.warnings, "breaches": report.breaches}


def sla_sweep_schedule(*, delay: timedelta) -> bool:
    """Enqueue a sweep `delay` from now unless one is already waiting.

    Two workers starting at once may both enqueue; the chains merge at the
    next run, which sees the other one waiting.
    """
    with transaction.atomic():
        if core_selectors.task_waiting(task_path=sla_sweep_tick.module_path):
            return False
        sla_sweep_tick.using(run_after=timezone.now() + delay).enqueue()
    return True
