"""Background tasks of the sla app, run by `reglament worker`.

The sweeper is a chain like the worker heartbeat: each run first enqueues the
next run `REGLAMENT_SLA_SWEEP_INTERVAL` later, then records what fell due.
Queued first, so neither a failing sweep nor a worker killed in the middle of
one breaks the chain. The pending run is a task row with run_after, so the
timer survives restarts; `reglament worker` starts the chain if no run is
waiting. Several workers may sweep at once without harm
(reglament.sla.services.sla_sweep locks requests with SKIP LOCKED).
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
# One run re-computes at most this many requests, in transactions of SWEEP_BATCH;
# when more were due (a worker was down for long), another run is queued at once.
SWEEP_LIMIT = 5000
SWEEP_BATCH = 200


@task()
def clock_event_notify(event_id: int) -> int:
    """Mail the staff concerned about a warning or breach event; returns messages sent.

    An SMTP error fails the task, so the queue keeps the failure and its traceback.
    """
    return notifications.clock_event_notify(event_id=event_id)


@task()
def sla_sweep_tick() -> dict[str, int]:
    """Queue the next run, then record the warnings and breaches due now."""
    now = timezone.now()
    sla_sweep_schedule(delay=settings.REGLAMENT_SLA_SWEEP_INTERVAL)
    report = sla_sweep(now=now, batch=SWEEP_BATCH, limit=SWEEP_LIMIT)
    if report.left and report.tickets >= SWEEP_LIMIT:
        # The backlog goes on at once, beside the run already waiting.
        sla_sweep_tick.using(run_after=timezone.now()).enqueue()
    core_services.task_results_prune(
        task_path=sla_sweep_tick.module_path, finished_before=now - KEEP_SWEEP_RESULTS
    )
    return {
        "tickets": report.tickets,
        "warnings": report.warnings,
        "breaches": report.breaches,
        "left": report.left,
    }


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
