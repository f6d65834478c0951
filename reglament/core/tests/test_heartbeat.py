from datetime import timedelta

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from reglament.core.models import WorkerHeartbeat
from reglament.core.tasks import worker_heartbeat, worker_heartbeat_schedule
from reglament.core.tests.factories import WorkerHeartbeatFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_beats() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            task_path=worker_heartbeat.module_path, status=TaskResultStatus.READY
        )
    )


def test_a_worker_run_records_its_beat_and_schedules_the_next(settings) -> None:
    # given: a heartbeat due now, and a 10 s heartbeat period
    settings.REGLAMENT_WORKER_HEARTBEAT = timedelta(seconds=10)
    worker_heartbeat_schedule(delay=timedelta(0))
    before = timezone.now()
    # when: a worker takes everything that is due, then stops
    call_command("db_worker", batch=True, reload=False, worker_id="host:1", verbosity=0)
    # then: the beat is recorded under the worker's id ...
    beat = WorkerHeartbeat.objects.get()
    assert beat.worker_id == "host:1"
    assert beat.last_seen >= before
    # ... and exactly one next beat waits, one period later
    [waiting] = _waiting_beats()
    assert timedelta(seconds=9) < waiting.run_after - before < timedelta(seconds=11)


def test_scheduling_adds_no_beat_when_one_is_already_waiting() -> None:
    # given
    assert worker_heartbeat_schedule(delay=timedelta(seconds=10)) is True
    # when
    enqueued_again = worker_heartbeat_schedule(delay=timedelta(0))
    # then
    assert enqueued_again is False
    assert len(_waiting_beats()) == 1


def test_a_beat_forgets_workers_silent_for_a_day() -> None:
    # given
    WorkerHeartbeatFactory.create(worker_id="gone:1", last_seen=timezone.now() - timedelta(days=2))
    worker_heartbeat_schedule(delay=timedelta(0))
    # when
    call_command("db_worker", batch=True, reload=False, worker_id="host:2", verbosity=0)
    # then
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["host:2"]
