"""An estimate nobody answered expires (R4.6): the request goes back to work by itself.

Krizhik (regulations/krizhik.yaml) counts in working hours, Mon–Fri 09:00–18:00 Moscow
time (UTC+3). A Start request registered Tue 2025-11-11 10:00 is past its 4 working hours
(R4.4 «4 часа*****») at 14:00; at 14:30 paid work is offered, valid until Thu 13th.
"""

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from reglament.paidwork import notifications
from reglament.paidwork.models import Estimate
from reglament.paidwork.notifications import EXPIRED_NOTICE
from reglament.paidwork.services import estimate_propose, estimate_withdraw, estimates_expire
from reglament.paidwork.tasks import estimate_notify, estimate_sweep_tick
from reglament.paidwork.tests.conftest import Api, Now, at, clock
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def offered_start_request(d: Desk) -> Estimate:
    """Registered Tue 10:00, assigned to agent2, offered by agent1 at 14:30 until Thu 13th."""
    ticket = services.ticket_create(
        actor=d.requester, subject="Не проводится", now=at("2025-11-11T10:00:00+03:00")
    )
    services.ticket_update(
        ticket=ticket, actor=d.agent1, assignee=d.agent2, now=at("2025-11-11T10:05:00+03:00")
    )
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-11-11T10:10:00+03:00")
    )
    return estimate_propose(
        ticket=ticket,
        actor=d.agent1,
        scope="Анализ данных",
        hours="6",
        rate="3500",
        valid_until=date(2025, 11, 13),
        now=at("2025-11-11T14:30:00+03:00"),
    )


def test_an_unanswered_estimate_expires_and_the_request_goes_back_to_work(
    now: Now, django_capture_on_commit_callbacks: Any
) -> None:
    """R4.6: the wait for approval ends with the offer; the resolution clock runs again."""
    # given an offer valid until Thu 13th, the request waiting with its clock paused
    d = desk("krizhik", "start")
    estimate = offered_start_request(d)
    ticket = Ticket.objects.get(pk=estimate.ticket_id)
    assert ticket.status == "awaiting-cost-approval"
    # when the sweep runs at 23:30 Moscow on the 13th, the offer is still valid
    assert estimates_expire(now=at("2025-11-13T23:30:00+03:00")) == []
    # and when it runs at 00:30 Moscow on Fri 14th (still the 13th in UTC)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        expired = estimates_expire(now=at("2025-11-14T00:30:00+03:00"))
    # then the estimate is expired, with a withdrawal event saying so, by nobody
    assert expired == [estimate.pk]
    estimate.refresh_from_db()
    assert (estimate.state, estimate.decided_by_id) == ("expired", None)
    (event,) = TicketEvent.objects.filter(ticket=ticket, kind=Kind.PAID_WORK_WITHDRAWN)
    assert (event.data["estimate"], event.data["expired"], event.actor_id) == (1, True, None)
    assert event.created_at == at("2025-11-14T00:30:00+03:00")
    # and the request is back in work, as after a withdrawal
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    last = TicketEvent.objects.filter(ticket=ticket, kind=Kind.STATUS_CHANGED).latest("id")
    assert (last.data["old"], last.data["new"], last.data["by_requester"]) == (
        "awaiting-cost-approval",
        "in-progress",
        False,
    )
    # and the resolution clock, paused 14:30 Tue – 00:30 Fri, counts again from Fri 09:00:
    # 4.5 working hours before the pause and one more by 10:00
    now("2025-11-14T10:00:00+03:00")
    running = clock(Api(d.agent1), ticket.number)
    assert running["consumed_seconds"] == 5 * 3600 + 1800
    assert running["explain"]["pauses"] == [
        {"start": "2025-11-11T11:30:00Z", "end": "2025-11-13T21:30:00Z"}
    ]
    # and mail is queued after commit, to the assignee and the proposer
    assert len(callbacks) == 1
    queued = DBTaskResult.objects.filter(task_path=estimate_notify.module_path)
    assert {"estimate_id": estimate.pk, "kind": EXPIRED_NOTICE} in [
        row.args_kwargs["kwargs"] for row in queued
    ]
    mail.outbox.clear()
    assert notifications.estimate_notify(estimate_id=estimate.pk, kind=EXPIRED_NOTICE) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["agent1@vendor.test", "agent2@vendor.test"]
    # in the recipients' language (Russian, the default)
    assert mail.outbox[0].subject == f"[{ticket.number}] Срок оценки стоимости 1 истёк"


def test_expiring_twice_does_nothing_more() -> None:
    # given an offer the sweep has already expired
    d = desk("krizhik", "start")
    estimate = offered_start_request(d)
    assert estimates_expire(now=at("2025-11-14T00:30:00+03:00")) == [estimate.pk]
    events = TicketEvent.objects.filter(ticket_id=estimate.ticket_id).count()
    # when it runs again, later
    again = estimates_expire(now=at("2025-11-14T09:00:00+03:00"))
    # then nothing is expired, written or moved
    assert again == []
    assert TicketEvent.objects.filter(ticket_id=estimate.ticket_id).count() == events
    assert Ticket.objects.get(pk=estimate.ticket_id).status == "in-progress"
    assert Estimate.objects.get(pk=estimate.pk).state == "expired"


def test_decided_and_withdrawn_estimates_are_left_alone() -> None:
    # given an offer support withdrew on the 12th
    d = desk("krizhik", "start")
    estimate = offered_start_request(d)
    estimate_withdraw(estimate=estimate, actor=d.agent1, now=at("2025-11-12T10:00:00+03:00"))
    # when the sweep runs after its validity
    assert estimates_expire(now=at("2025-11-20T10:00:00+03:00")) == []
    # then it stays withdrawn, with no second event
    assert Estimate.objects.get(pk=estimate.pk).state == "withdrawn"
    assert TicketEvent.objects.filter(kind=Kind.PAID_WORK_WITHDRAWN).count() == 1


def test_a_sweep_run_expires_offers_and_schedules_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an offer long past its validity, and the default interval
    d = desk("krizhik", "start")
    estimate = offered_start_request(d)
    before = timezone.now()
    # when the task runs
    result = estimate_sweep_tick.call()
    # then it expired the offer and the next run waits 300 s
    assert result == {"expired": 1}
    assert Estimate.objects.get(pk=estimate.pk).state == "expired"
    (waiting,) = DBTaskResult.objects.filter(
        task_path=estimate_sweep_tick.module_path, status=TaskResultStatus.READY
    )
    assert timedelta(seconds=299) < waiting.run_after - before < timedelta(seconds=301)
    # and a second run expires nothing more
    assert estimate_sweep_tick.call() == {"expired": 0}


def test_the_worker_starts_the_expiry_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    # given no expiry run waiting, and the worker loop itself replaced
    from django.core import management

    from reglament.cli import processes

    monkeypatch.setattr(processes, "setup_django", lambda: None)
    monkeypatch.setattr(management, "call_command", lambda *args, **kwargs: None)
    # when `reglament worker` starts
    assert processes.serve_worker(interval=1.0) == 0
    # then one expiry run waits, due at once
    (waiting,) = DBTaskResult.objects.filter(
        task_path=estimate_sweep_tick.module_path, status=TaskResultStatus.READY
    )
    assert waiting.run_after <= timezone.now()


@pytest.mark.django_db(transaction=True)
def test_a_request_another_process_holds_is_skipped_until_the_next_run() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks: on SQLite one IMMEDIATE transaction writes at a time")
    # given an expired offer whose request an agent's change holds locked
    d = desk("krizhik", "start")
    estimate = offered_start_request(d)
    holds, may_go = threading.Event(), threading.Event()

    def agent() -> None:
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=estimate.ticket_id)
                holds.set()
                assert may_go.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=agent)
    thread.start()
    try:
        assert holds.wait(10)
        # when the sweep runs meanwhile, it neither waits nor expires it
        assert estimates_expire(now=at("2025-11-14T09:00:00+03:00")) == []
        assert Estimate.objects.get(pk=estimate.pk).state == "proposed"
    finally:
        may_go.set()
        thread.join(10)
    # then the next run, once the request is free, does
    assert estimates_expire(now=at("2025-11-14T09:05:00+03:00")) == [estimate.pk]
