"""Several workers sweep at once: every due warning and breach is recorded exactly once."""

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from reglament.sla import services as sla_services
from reglament.sla.models import Clock
from reglament.sla.services import SweepReport, sla_sweep
from reglament.sla.tests.factories import (
    BREACH,
    REGISTERED,
    SWEEP_AT,
    WARNING,
    mixed_requests,
    msk,
    notify_task_event_ids,
    notifying_event_ids,
    recorded,
)
from reglament.sla.tests.workers import in_parallel, in_threads, subprocess_env
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db(transaction=True)

# How long a thread waits for another before the test gives up.
WAIT = 10.0


def clock_events(ticket: Ticket) -> list[TicketEvent]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind__in=(WARNING, BREACH)).order_by("pk")
    )


def test_two_workers_sweeping_together_record_each_warning_and_breach_once(
    shared_database: str,
) -> None:
    # given: 300 requests of ten kinds, 360 warnings and breaches due by Tuesday 14:00
    population = mixed_requests(300)
    assert len(population.expected) == 360

    # when: two workers, each with its own connection, sweep at the same instant
    # in small batches, so their batches interleave
    reports = in_threads(lambda: sla_sweep(now=SWEEP_AT, batch=10), count=2)

    # then: each is recorded once, none for waiting, closed or out-of-scope requests
    assert recorded() == population.expected
    # ... the two reports add up to it, each due request re-computed by one of them ...
    assert sum(r.tickets for r in reports) == 150
    assert sum(r.warnings for r in reports) == 210
    assert sum(r.breaches for r in reports) == 150
    # ... and exactly one mail task was queued per event that asks for one
    assert len(notifying_event_ids()) == 210
    assert notify_task_event_ids() == notifying_event_ids()
    # a third sweep finds nothing left
    assert sla_sweep(now=SWEEP_AT) == SweepReport(tickets=0, warnings=0, breaches=0, left=0)


def test_two_workers_holding_clocks_of_each_others_requests_do_not_deadlock(
    shared_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks: on SQLite one IMMEDIATE transaction writes at a time")
    # given: two SET Retail critical requests, the second registered an hour
    # earlier, so their due clocks interleave: T2 processing 10:36, T1 processing
    # 11:36, T2 consultation and restoration 12:12, T1 consultation 13:12 …
    retail = desk("set-retail", "premium")
    first, second = (
        services.ticket_create(
            actor=retail.requester,
            subject=subject,
            type="defect",
            priority="critical",
            category="registers-stopped",
            now=registered,
        )
        for subject, registered in (
            ("Т1", REGISTERED),
            ("Т2", REGISTERED - timedelta(hours=1)),
        )
    )
    # ... an agent's change holds T2 while worker A locks its batch, so A gets T1 only
    agent_holds, agent_may_go, agent_done = threading.Event(), threading.Event(), threading.Event()
    computing = {"A": threading.Event(), "B": threading.Event()}
    name = threading.local()

    def agent() -> None:
        with transaction.atomic():
            Ticket.objects.select_for_update().get(pk=second.pk)
            agent_holds.set()
            assert agent_may_go.wait(WAIT)
        agent_done.set()

    real = sla_services.compute_clocks

    def compute_when_both_hold_their_requests(*args: Any, **kwargs: Any) -> Any:
        computing[name.value].set()
        computing["B" if name.value == "A" else "A"].wait(WAIT)
        return real(*args, **kwargs)

    monkeypatch.setattr(sla_services, "compute_clocks", compute_when_both_hold_their_requests)

    def worker_a() -> SweepReport:
        name.value = "A"
        assert agent_holds.wait(WAIT)
        return sla_sweep(now=SWEEP_AT, batch=2)

    def worker_b() -> SweepReport:
        name.value = "B"
        assert computing["A"].wait(WAIT)
        agent_may_go.set()
        assert agent_done.wait(WAIT)  # T2 is free again: B takes it
        return sla_sweep(now=SWEEP_AT, batch=3)

    # when: both sweep, each holding clock rows of the other's request
    _, a, b = in_parallel([agent, worker_a, worker_b])

    # then: both finished (no deadlock), and every event is recorded once
    assert isinstance(a, SweepReport)
    assert isinstance(b, SweepReport)
    assert (a.tickets + b.tickets, a.warnings + b.warnings, a.breaches + b.breaches) == (2, 6, 6)
    assert Counter((r.ticket, r.metric, r.kind) for r in recorded()) == Counter(
        {
            (ticket.pk, metric, kind): 1
            for ticket in (first, second)
            for metric in ("processing", "consultation", "restoration")
            for kind in (WARNING, BREACH)
        }
    )


def test_two_worker_processes_sweeping_together_record_each_warning_and_breach_once(
    shared_database: str, tmp_path: Path
) -> None:
    # given: 120 requests, 144 warnings and breaches due by Tuesday 14:00
    population = mixed_requests(120)
    # when: two OS processes sweep the same database at once, five requests a batch
    command = [sys.executable, "-m", "reglament.sla.tests.sweeper_process", SWEEP_AT.isoformat()]
    processes = [
        subprocess.Popen(
            [*command, "--batch", "5"],
            env=subprocess_env(shared_database, tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            outputs.append(json.loads(out))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    # then: each event once, the reports add up, one mail task per event that wants one
    assert recorded() == population.expected
    assert sum(o["tickets"] for o in outputs) == 60
    assert sum(o["warnings"] for o in outputs) == 84
    assert sum(o["breaches"] for o in outputs) == 60
    assert notify_task_event_ids() == notifying_event_ids()


def test_an_agents_change_waiting_for_a_sweep_records_nothing_twice(
    shared_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a CERA critical request, warning and breach due (Mon 14:48 and 16:00)
    cera = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=cera.requester, subject="Всё упало", priority="critical", now=REGISTERED
    )
    # ... and a sweep that holds the request while an agent tries to change it
    sweep_holds, agent_calls = threading.Event(), threading.Event()
    real = sla_services.compute_clocks
    swept_at, changed_at = SWEEP_AT, SWEEP_AT + timedelta(minutes=1)

    def compute_slowly(*args: Any, **kwargs: Any) -> Any:
        if kwargs["now"] == swept_at:
            sweep_holds.set()
            assert agent_calls.wait(WAIT)
            time.sleep(0.5)  # the agent's change is now waiting for the request's lock
        return real(*args, **kwargs)

    monkeypatch.setattr(sla_services, "compute_clocks", compute_slowly)

    def agent() -> Ticket:
        assert sweep_holds.wait(WAIT)
        agent_calls.set()
        return services.ticket_update(
            ticket=ticket, actor=cera.agent1, priority="high", now=changed_at
        )

    # when
    report, _ = in_parallel([lambda: sla_sweep(now=swept_at), agent])

    # then: the sweep recorded warning and breach, the agent's change re-computed
    # the clock (15 h now: due Tue 16:00) without recording them again
    assert isinstance(report, SweepReport)
    assert (report.tickets, report.warnings, report.breaches) == (1, 1, 1)
    assert [(e.kind, e.created_at) for e in clock_events(ticket)] == [
        (WARNING, swept_at),
        (BREACH, swept_at),
    ]
    clock = Clock.objects.get(ticket=ticket, metric="resolution")
    assert (clock.state, clock.due_at) == ("running", msk("2025-03-04T16:00:00"))
    assert (clock.warned_at, clock.breached_at) == (
        msk("2025-03-03T14:48:00"),
        msk("2025-03-03T16:00:00"),
    )
    # the sweeper looks again at the new due instant, to refresh the queue's columns
    assert clock.next_check_at == msk("2025-03-04T16:00:00")


def test_a_sweep_meeting_an_agents_change_in_progress_records_nothing_twice(
    shared_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a CERA critical request with warning and breach due, and an agent's
    # change at Tuesday 14:00 that holds the request while a sweep starts
    cera = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=cera.requester, subject="Всё упало", priority="critical", now=REGISTERED
    )
    agent_holds, sweep_started = threading.Event(), threading.Event()
    real = sla_services.compute_clocks
    changed_at, swept_at = SWEEP_AT, SWEEP_AT + timedelta(minutes=1)

    def compute_slowly(*args: Any, **kwargs: Any) -> Any:
        if kwargs["now"] == changed_at:
            agent_holds.set()
            assert sweep_started.wait(WAIT)
            time.sleep(0.5)  # the sweep has met the lock (skipped it, or waits on SQLite)
        return real(*args, **kwargs)

    monkeypatch.setattr(sla_services, "compute_clocks", compute_slowly)

    def sweep() -> SweepReport:
        assert agent_holds.wait(WAIT)
        sweep_started.set()
        return sla_sweep(now=swept_at)

    def agent() -> Ticket:
        return services.ticket_transition(
            ticket=ticket, actor=cera.agent1, status="in-progress", now=changed_at
        )

    # when
    _, report = in_parallel([agent, sweep])

    # then: the agent's change recorded warning and breach itself; the sweep found
    # the request held (PostgreSQL: skipped; SQLite: waited) and recorded nothing
    assert isinstance(report, SweepReport)
    assert (report.warnings, report.breaches) == (0, 0)
    assert [(e.kind, e.created_at) for e in clock_events(ticket)] == [
        (WARNING, changed_at),
        (BREACH, changed_at),
    ]
    # a later sweep has nothing left either
    assert sla_sweep(now=swept_at) == SweepReport(tickets=0, warnings=0, breaches=0, left=0)
