"""The worker's sweep chain: each run records what fell due and schedules the next."""

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from reglament.sla import tasks
from reglament.sla.services import SweepReport
from reglament.sla.tasks import clock_event_notify, sla_sweep_schedule, sla_sweep_tick
from reglament.sla.tests.conftest import Mailbox
from reglament.sla.tests.factories import BREACH, REGISTERED, WARNING
from reglament.sla.tests.workers import reglament_worker, subprocess_env
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db(transaction=True)


def _long_breached(count: int) -> list[Ticket]:
    """CERA critical requests of March 2025: long past warning and breach by now."""
    cera = desk("cera", "standard")
    return [
        services.ticket_create(
            actor=cera.requester, subject=f"Запрос {n}", priority="critical", now=REGISTERED
        )
        for n in range(count)
    ]


def _waiting_sweeps() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            task_path=sla_sweep_tick.module_path, status=TaskResultStatus.READY
        )
    )


def _recorded(kind: str) -> int:
    return TicketEvent.objects.filter(kind=kind).count()


def test_a_sweep_run_records_what_fell_due_and_schedules_the_next(
    settings: Settings,
) -> None:
    # given: two breached requests and a 5 s sweep interval
    settings.REGLAMENT_SLA_SWEEP_INTERVAL = timedelta(seconds=5)
    _long_breached(2)
    before = timezone.now()
    # when: the task runs
    result = sla_sweep_tick.call()
    # then: both warnings and breaches are recorded, and the next run waits 5 s
    assert result == {"tickets": 2, "warnings": 2, "breaches": 2, "left": 0}
    [waiting] = _waiting_sweeps()
    assert timedelta(seconds=4) < waiting.run_after - before < timedelta(seconds=6)


def test_a_backlog_larger_than_one_run_is_taken_up_at_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: three breached requests, one run taking at most two
    settings.REGLAMENT_SLA_SWEEP_INTERVAL = timedelta(seconds=5)
    monkeypatch.setattr(tasks, "SWEEP_LIMIT", 2)
    _long_breached(3)
    before = timezone.now()
    # when
    result = sla_sweep_tick.call()
    # then: a run for the rest is due now, beside the regular one 5 s later
    assert result == {"tickets": 2, "warnings": 2, "breaches": 2, "left": 1}
    delays = sorted(waiting.run_after - before for waiting in _waiting_sweeps())
    assert len(delays) == 2
    assert delays[0] < timedelta(seconds=1) < timedelta(seconds=4) < delays[1]
    # when: it runs, it queues no third one (the regular run is waiting)
    assert sla_sweep_tick.call() == {"tickets": 1, "warnings": 1, "breaches": 1, "left": 0}
    assert len(_waiting_sweeps()) == 2  # the two queued above, not run by .call()


@pytest.mark.parametrize("failure", [RuntimeError("database unavailable"), SystemExit(1)])
def test_a_sweep_that_fails_or_is_stopped_midway_leaves_the_next_queued(
    failure: BaseException, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a sweep that fails, or whose worker is told to exit, in the middle
    settings.REGLAMENT_SLA_SWEEP_INTERVAL = timedelta(seconds=5)

    def failing(**kwargs: object) -> SweepReport:
        raise failure

    monkeypatch.setattr(tasks, "sla_sweep", failing)
    # when
    with pytest.raises(type(failure)):
        sla_sweep_tick.call()
    # then: the chain goes on
    assert len(_waiting_sweeps()) == 1


def test_scheduling_adds_no_sweep_when_one_is_already_waiting() -> None:
    # given
    assert sla_sweep_schedule(delay=timedelta(seconds=5)) is True
    # when
    enqueued_again = sla_sweep_schedule(delay=timedelta(0))
    # then
    assert enqueued_again is False
    assert len(_waiting_sweeps()) == 1


def test_a_worker_runs_the_sweep_and_the_mail_it_queues(settings: Settings) -> None:
    # given: two breached requests (agent1 is line 1's only agent), a sweep due now
    settings.REGLAMENT_SLA_SWEEP_INTERVAL = timedelta(seconds=5)
    _long_breached(2)
    sla_sweep_schedule(delay=timedelta(0))
    # when: a worker takes everything that is due, then stops
    call_command("db_worker", batch=True, reload=False, worker_id="host:1", verbosity=0)
    # then: the sweep and both breach mails ran; the next sweep waits
    finished = DBTaskResult.objects.exclude(status=TaskResultStatus.READY)
    assert sorted(finished.values_list("task_path", "status")) == [
        (clock_event_notify.module_path, TaskResultStatus.SUCCESSFUL),
        (clock_event_notify.module_path, TaskResultStatus.SUCCESSFUL),
        (sla_sweep_tick.module_path, TaskResultStatus.SUCCESSFUL),
    ]
    assert [message.to for message in mail.outbox] == [["agent1@vendor.test"]] * 2
    assert len(_waiting_sweeps()) == 1


@pytest.mark.slow
def test_reglament_worker_records_breaches_and_mails_them_through_smtp(
    shared_database: str, smtp_server: Mailbox, tmp_path: Path
) -> None:
    # given: two breached requests, and `reglament worker` started on the test
    # database with the SMTP server as its mail relay and a 1 s sweep interval
    tickets = _long_breached(2)
    env = subprocess_env(shared_database, tmp_path) | {
        "REGLAMENT_EMAIL_HOST": "127.0.0.1",
        "REGLAMENT_EMAIL_PORT": str(smtp_server.port),
        "REGLAMENT_SLA_SWEEP_SECONDS": "1",
    }
    with reglament_worker(env) as worker:
        # when: it runs until both mails arrived (at most 60 s)
        worker.wait_until(lambda: len(_clock_notices(smtp_server)) >= 2)
        code = worker.stop()
    # then: each breach recorded and mailed once, and the worker stopped cleanly
    assert code == 0
    assert (_recorded(WARNING), _recorded(BREACH)) == (2, 2)
    notices = _clock_notices(smtp_server)
    assert sorted(message["X-Reglament-Ticket"] for _, message in notices) == sorted(
        ticket.number for ticket in tickets
    )
    assert {to for recipients, _ in notices for to in recipients} == {"agent1@vendor.test"}


def _clock_notices(smtp_server: Mailbox) -> list[tuple[list[str], EmailMessage]]:
    """The staff notices about clocks; the worker also acknowledges the requests to their
    requesters (reglament.mailbox.outgoing: those carry our loop header)."""
    return [
        (recipients, message)
        for recipients, message in smtp_server.received
        if message[django_settings.REGLAMENT_MAIL_LOOP_HEADER] is None
    ]
