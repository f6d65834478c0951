"""Requests whose warnings and breaches are known in advance, for the sweeper's tests.

Every request is registered on Monday 2025-03-03 at 10:00 Moscow time and the
sweeper looks at Tuesday 14:00, with the default warning share of 80 %. Ten
kinds take turns (CERA: R3.6 working hours Mon–Fri 10–19; SET Retail premium:
R1.3–R1.5 around the clock):

0, 1  CERA critical, 6 h → warning Mon 14:48 (no mail: breached too), breach Mon 16:00
2, 3  CERA high, 15 h → warning Tue 13:00; due Tue 16:00, after the sweep
4     CERA medium, 30 h → nothing yet (warning Wed 16:00)
5     CERA low, 75 h → nothing yet
6     CERA critical, waiting for the customer since Mon 11:00 (R3.7) → nothing
7     CERA critical, done at Mon 11:00 → nothing: met
8     SET Retail critical defect, registers stopped: processing 2 h (warning
      11:36, breach 12:00), consultation and restoration 4 h (warning 13:12,
      breach 14:00) → three warnings without mail, three breaches with
9     the same request, out of scope since 10:05 (R1.7) → nothing
"""

from dataclasses import dataclass
from datetime import datetime

from django_tasks_db.models import DBTaskResult

from reglament.sla.tasks import clock_event_notify
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import Desk, desk

REGISTERED = datetime.fromisoformat("2025-03-03T10:00:00+03:00")
SWEEP_AT = datetime.fromisoformat("2025-03-04T14:00:00+03:00")

Kind = TicketEvent.Kind
WARNING, BREACH = Kind.CLOCK_WARNING.value, Kind.CLOCK_BREACHED.value


def msk(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+03:00")


@dataclass(frozen=True, order=True)
class Recorded:
    """One warning or breach event as the tests compare them."""

    ticket: int
    metric: str
    kind: str
    at: datetime
    notify: bool


@dataclass
class Population:
    tickets: list[Ticket]
    expected: list[Recorded]  # sorted, what a sweep at SWEEP_AT must record


def mixed_requests(count: int) -> Population:
    """`count` requests of the ten kinds above, in turn."""
    cera = desk("cera", "standard")
    retail = desk("set-retail", "premium", service_manager=True)
    tickets: list[Ticket] = []
    expected: list[Recorded] = []
    for index in range(count):
        ticket, events = _KINDS[index % len(_KINDS)](cera, retail, f"Запрос {index}")
        tickets.append(ticket)
        for metric, kind, at, notify in events:
            expected.append(Recorded(ticket.pk, metric, kind, msk(at), notify))
    return Population(tickets=tickets, expected=sorted(expected))


Events = list[tuple[str, str, str, bool]]


def _cera(d: Desk, subject: str, priority: str) -> Ticket:
    return services.ticket_create(
        actor=d.requester, subject=subject, type="defect", priority=priority, now=REGISTERED
    )


def _cera_critical(cera: Desk, retail: Desk, subject: str) -> tuple[Ticket, Events]:
    return _cera(cera, subject, "critical"), [
        ("resolution", WARNING, "2025-03-03T14:48:00", False),
        ("resolution", BREACH, "2025-03-03T16:00:00", True),
    ]


def _cera_high(cera: Desk, retail: Desk, subject: str) -> tuple[Ticket, Events]:
    return _cera(cera, subject, "high"), [("resolution", WARNING, "2025-03-04T13:00:00", True)]


def _cera_medium(cera: Desk, retail: Desk, subject: str) -> tuple[Ticket, Events]:
    return _cera(cera, subject, "medium"), []


def _cera_low(cera: Desk, retail: Desk, subject: str) -> tuple[Ticket, Events]:
    return _cera(cera, subject, "low"), []


def _cera_waiting(cera: Desk, retail: Desk, subject: str) -> tuple[Ticket, Events]:
    ticket = _cera(cera, subject, "critical")
    services.ticket_transition(
        ticket=ticket, actor=cera.agent1, status="clarification", now=msk("2025-03-03T11:00:00")
    )
    return ticket, []


def _cera_done(cera: Desk, retail: Desk, subject: str) -> tuple[Ticket, Events]:
    ticket = _cera(cera, subject, "critical")
    services.ticket_transition(
        ticket=ticket,
        actor=cera.agent1,
        status="done",
        resolution="solved",
        now=msk("2025-03-03T11:00:00"),
    )
    return ticket, []


def _retail(retail: Desk, subject: str) -> Ticket:
    return services.ticket_create(
        actor=retail.requester,
        subject=subject,
        type="defect",
        priority="critical",
        category="registers-stopped",
        now=REGISTERED,
    )


def _retail_critical(cera: Desk, retail: Desk, subject: str) -> tuple[Ticket, Events]:
    return _retail(retail, subject), [
        ("processing", WARNING, "2025-03-03T11:36:00", False),
        ("processing", BREACH, "2025-03-03T12:00:00", True),
        ("consultation", WARNING, "2025-03-03T13:12:00", False),
        ("consultation", BREACH, "2025-03-03T14:00:00", True),
        ("restoration", WARNING, "2025-03-03T13:12:00", False),
        ("restoration", BREACH, "2025-03-03T14:00:00", True),
    ]


def _retail_out_of_scope(cera: Desk, retail: Desk, subject: str) -> tuple[Ticket, Events]:
    ticket = _retail(retail, subject)
    services.ticket_set_out_of_scope(
        ticket=ticket,
        actor=retail.agent1,
        item="hardware-os-dbms",
        reason="Сломан сервер заказчика",
        now=msk("2025-03-03T10:05:00"),
    )
    return ticket, []


_KINDS = (
    _cera_critical,
    _cera_critical,
    _cera_high,
    _cera_high,
    _cera_medium,
    _cera_low,
    _cera_waiting,
    _cera_done,
    _retail_critical,
    _retail_out_of_scope,
)


def recorded() -> list[Recorded]:
    """Every warning and breach event in the database, sorted; duplicates stay."""
    return sorted(
        Recorded(
            event.ticket_id,
            event.data["metric"],
            event.kind,
            datetime.fromisoformat(event.data["at"]),
            event.data["notify"],
        )
        for event in TicketEvent.objects.filter(kind__in=(WARNING, BREACH))
    )


def notifying_event_ids() -> list[int]:
    """The warning/breach events that asked for a message, by id."""
    return sorted(
        TicketEvent.objects.filter(kind__in=(WARNING, BREACH), data__notify=True).values_list(
            "pk", flat=True
        )
    )


def notify_task_event_ids() -> list[int]:
    """The event of every queued clock_event_notify task, by id; a duplicate shows twice."""
    tasks = DBTaskResult.objects.filter(task_path=clock_event_notify.module_path)
    return sorted(row["kwargs"]["event_id"] for row in tasks.values_list("args_kwargs", flat=True))
