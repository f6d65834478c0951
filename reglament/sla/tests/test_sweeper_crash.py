"""A worker that dies mid-batch loses nothing and duplicates nothing: its batch rolls back whole."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from reglament.sla import services as sla_services
from reglament.sla.models import Clock
from reglament.sla.services import sla_sweep
from reglament.sla.tests.factories import (
    SWEEP_AT,
    Recorded,
    mixed_requests,
    notify_task_event_ids,
    notifying_event_ids,
    recorded,
)
from reglament.sla.tests.workers import subprocess_env
from reglament.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

# Of 60 requests of the ten kinds, 30 have something due (kinds 0–3 and 8); taken
# in id order, ten a batch, each batch records 24 events.
REQUESTS = 60
DUE_REQUESTS = 30
BATCH = 10


class WorkerKilled(Exception):
    pass


def _failing_on_call(real: Callable[..., Any], number: int) -> Callable[..., Any]:
    calls = 0

    def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == number:
            raise WorkerKilled(f"call {number}")
        return real(*args, **kwargs)

    return failing


def _state() -> tuple[list[Any], list[Any], int, int]:
    """Everything a sweep writes: clock rows, the requests' queue columns, events, tasks."""
    clocks = list(
        Clock.objects.order_by("pk").values_list(
            "pk", "state", "due_at", "consumed", "warned_at", "breached_at", "next_check_at"
        )
    )
    tickets = list(Ticket.objects.order_by("pk").values_list("pk", "breached", "at_risk"))
    return clocks, tickets, len(recorded()), DBTaskResult.objects.count()


def _of_first_due(expected: list[Recorded], count: int) -> list[Recorded]:
    """The events of the first `count` due requests by id: what the first batches record."""
    first = sorted({r.ticket for r in expected})[:count]
    return [r for r in expected if r.ticket in first]


@pytest.mark.parametrize(
    ("where", "call"),
    [
        # the 8th request's computation: seven requests are computed, nothing written yet
        ("compute_clocks", 8),
        # the 10th event's mail: the batch's events, clock rows and queue columns
        # are written and nine events' mail tasks queued
        ("_notify", 10),
    ],
)
def test_a_batch_that_fails_midway_rolls_back_whole_and_a_rerun_records_it_once(
    where: str, call: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: 60 requests, 72 events due by Tuesday 14:00
    population = mixed_requests(REQUESTS)
    before = _state()
    # when: the worker dies inside its one batch
    monkeypatch.setattr(sla_services, where, _failing_on_call(getattr(sla_services, where), call))
    with pytest.raises(WorkerKilled):
        sla_sweep(now=SWEEP_AT, batch=200)
    # then: nothing of the batch is left behind
    assert _state() == before
    # when: the next run
    monkeypatch.undo()
    report = sla_sweep(now=SWEEP_AT)
    # then: everything is recorded once, and one mail task per event that wants one
    assert (report.tickets, report.warnings, report.breaches) == (DUE_REQUESTS, 42, 30)
    assert recorded() == population.expected
    assert notify_task_event_ids() == notifying_event_ids()


def test_batches_before_the_failing_one_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    population = mixed_requests(REQUESTS)
    # when: the worker dies computing the 25th due request, in its third batch
    monkeypatch.setattr(
        sla_services, "compute_clocks", _failing_on_call(sla_services.compute_clocks, 25)
    )
    with pytest.raises(WorkerKilled):
        sla_sweep(now=SWEEP_AT, batch=BATCH)
    # then: the two committed batches stay, the third left nothing
    assert recorded() == _of_first_due(population.expected, 2 * BATCH)
    assert len(recorded()) == 48
    # when: the next run
    monkeypatch.undo()
    report = sla_sweep(now=SWEEP_AT, batch=BATCH)
    # then: it records exactly the rest
    assert (report.tickets, report.warnings + report.breaches) == (10, 24)
    assert recorded() == population.expected
    assert notify_task_event_ids() == notifying_event_ids()


def test_a_worker_process_killed_mid_batch_loses_and_duplicates_nothing(
    shared_database: str, tmp_path: Path
) -> None:
    # given: 60 requests, and a sweeper process that stops in its second batch,
    # with that batch's events and clock rows written but not committed
    population = mixed_requests(REQUESTS)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reglament.sla.tests.sweeper_process",
            SWEEP_AT.isoformat(),
            "--batch",
            str(BATCH),
            "--hold-at-event",
            "30",
        ],
        env=subprocess_env(shared_database, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line == "holding\n", process.stderr.read() if process.stderr else ""
        # when: it is killed there, as by the OOM killer or a power cut
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # then: its first batch is committed, nothing of the second
    assert recorded() == _of_first_due(population.expected, BATCH)
    assert notify_task_event_ids() == notifying_event_ids()
    # when: another worker sweeps (PostgreSQL ends the dead session's transaction
    # when it notices the closed connection; until then its requests are skipped)
    deadline = time.monotonic() + 30
    tickets = 0
    while True:
        report = sla_sweep(now=SWEEP_AT, batch=BATCH)
        tickets += report.tickets
        if report.left == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # then: everything is recorded once
    assert tickets == DUE_REQUESTS - BATCH
    assert recorded() == population.expected
    assert notify_task_event_ids() == notifying_event_ids()
    if connection.vendor == "sqlite":
        # the killed writer left the WAL consistent
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            assert cursor.fetchone() == ("ok",)
