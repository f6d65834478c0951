"""Two agents crossing an allowance at the same moment record it once (R4.5, PostgreSQL).

Writers of one contract's usage queue on the contract's row lock, so the second
sees the first's committed entry; the unique (contract, period) crossing row is
the last guard. On SQLite one transaction writes at a time, so there is nothing
to race.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from reglament.domain.usage import Period
from reglament.tickets.models import TicketEvent
from reglament.usage import services
from reglament.usage.models import AllowanceCrossing, TimeEntry
from reglament.usage.tests.factories import at, krizhik_desk, queued_crossings, request

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_entries_over_the_allowance_record_one_crossing() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks: on SQLite one IMMEDIATE transaction writes at a time")
    # given a Reliable contract with 0.5 prepaid hours in October and two requests
    d = krizhik_desk("reliable")
    services.allowance_set(
        contract=d.contract,
        actor=d.manager,
        amount=Decimal("0.5"),
        unit="hours",
        valid_from=Period(2026, 10),
    )
    tickets = [request(d, f"Вопрос {n}", f"2026-10-0{n}T10:00:00+03:00") for n in (5, 6)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def agent(n: int) -> None:
        try:
            start.wait(10)
            # each entry alone is 0.5 h (within); together they are 1.0 h (over)
            services.time_log(
                ticket=tickets[n],
                actor=(d.agent1, d.agent2)[n],
                minutes=30,
                activity="consultation",
                performed_at=at("2026-10-07T11:00:00+03:00"),
            )
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    # when both agents log at the same instant, each on its own connection
    threads = [threading.Thread(target=agent, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # then both entries are stored and the crossing is recorded and queued once
    assert errors == []
    assert TimeEntry.objects.count() == 2
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.ALLOWANCE_EXCEEDED).count() == 1
    (crossing,) = AllowanceCrossing.objects.all()
    assert queued_crossings() == [crossing.pk]
