"""A Rusbitech request lives its whole life through the services (R5.1–R5.3).

regulations/rusbitech.yaml: working time is Mon–Fri 10:00–18:00 Moscow time on the
Russian production calendar (R5.1/R5.2); the reaction of high-criticality requests
(priorities critical and high, the file's reading) counts around the clock (R5.3).
The reaction figure, 4 h, is the file's ASSUMPTION (the seed gives none); the
processing time is the seed's upper bound, 10 working days. 15–31 March 2025 holds no
holiday.
"""

from datetime import datetime, timedelta

import pytest

from reglament.sla.models import Clock
from reglament.sla.services import sla_sweep
from reglament.tickets import services
from reglament.tickets.errors import TransitionNotAllowedError
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def clock(ticket: Ticket, metric: str) -> Clock:
    return Clock.objects.get(ticket=ticket, metric=metric)


@pytest.mark.parametrize(
    ("category", "given", "priority", "reaction_due"),
    [
        # R5.3 «…за исключением работы сотрудников техподдержки по обращениям с высоким
        # уровнем критичности»: Sat 22:00 + 4 h around the clock → Sun 02:00
        ("critical-services-restoration", None, "critical", "2025-03-16T02:00:00+03:00"),
        ("account-access-restoration", None, "high", "2025-03-16T02:00:00+03:00"),
        # R5.3 «Время реакции на обращения включает в себя только рабочее время»: from
        # Saturday night the count starts Mon 10:00 → 14:00
        ("", "medium", "medium", "2025-03-17T14:00:00+03:00"),
        ("", "low", "low", "2025-03-17T14:00:00+03:00"),
    ],
)
def test_r5_3_high_criticality_reacts_around_the_clock_the_rest_in_working_hours(
    category: str, given: str | None, priority: str, reaction_due: str
) -> None:
    # given an e-mail of Saturday 2025-03-15 at 22:00 (R5.1 «По электронной почте –
    # круглосуточно»)
    d = desk("rusbitech", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Не открывается каталог",
        channel="email",
        category=category,
        priority=given,
        now=at("2025-03-15T22:00:00+03:00"),
    )
    assert ticket.priority == priority
    assert clock(ticket, "reaction").due_at == at(reaction_due)
    # R5.2 «5-10 рабочих дней с 10:00 до 18:00 (по МСК)» whatever the criticality: from a
    # closed moment the close of the 10th working day, Mon 17 … Fri 21, Mon 24 … Fri 28
    processing = clock(ticket, "resolution")
    assert (processing.calendar, processing.target_working_days) == ("working", 10)
    assert processing.due_at == at("2025-03-28T18:00:00+03:00")


def test_the_sweeper_records_a_critical_reaction_at_night_and_an_ordinary_one_on_monday() -> None:
    # given a critical and an ordinary request, both e-mailed Saturday 2025-03-15 22:00
    d = desk("rusbitech", "standard")
    critical = services.ticket_create(
        actor=d.requester,
        subject="Недоступен сервис каталога",
        channel="email",
        category="critical-services-restoration",
        now=at("2025-03-15T22:00:00+03:00"),
    )
    ordinary = services.ticket_create(
        actor=d.requester,
        subject="Вопрос по отчёту",
        channel="email",
        now=at("2025-03-15T22:00:00+03:00"),
    )
    # when the sweeper runs on Sunday 03:00
    night = sla_sweep(now=at("2025-03-16T03:00:00+03:00"))
    # then only the critical reaction is late: warned at 80 % of 4 h = 3 h 12 min (01:12),
    # breached at 02:00
    assert (night.warnings, night.breaches) == (1, 1)
    assert set(
        TicketEvent.objects.filter(kind__in=(Kind.CLOCK_WARNING, Kind.CLOCK_BREACHED)).values_list(
            "ticket__number", "kind", "data__at"
        )
    ) == {
        (critical.number, Kind.CLOCK_WARNING, at("2025-03-16T01:12:00+03:00").isoformat()),
        (critical.number, Kind.CLOCK_BREACHED, at("2025-03-16T02:00:00+03:00").isoformat()),
    }
    # when it runs again on Monday at 14:00
    monday = sla_sweep(now=at("2025-03-17T14:00:00+03:00"))
    # then the ordinary reaction is warned at Mon 13:12 (3 h 12 min from 10:00), breached 14:00
    assert (monday.warnings, monday.breaches) == (1, 1)
    breach = TicketEvent.objects.get(ticket=ordinary, kind=Kind.CLOCK_BREACHED)
    assert (breach.data["metric"], breach.data["at"]) == (
        "reaction",
        at("2025-03-17T14:00:00+03:00").isoformat(),
    )


def test_a_critical_request_goes_through_development_and_waits_for_the_customer() -> None:
    # given a critical request e-mailed Saturday 2025-03-15 at 22:00
    d = desk("rusbitech", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Недоступен сервис каталога",
        channel="email",
        category="critical-services-restoration",
        now=at("2025-03-15T22:00:00+03:00"),
    )
    # when support takes it at 22:30 and answers at Sunday 01:00
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-03-15T22:30:00+03:00")
    )
    services.ticket_reply(
        ticket=ticket,
        author=d.agent1,
        body="Сервис перезапущен, ищем причину",
        now=at("2025-03-16T01:00:00+03:00"),
    )
    # then R5.3: the reaction is met after 3 h of real time (22:00–01:00)
    reaction = clock(ticket, "reaction")
    assert (reaction.state, reaction.consumed) == ("met", timedelta(hours=3))

    # when the question is passed to development Mon 12:00 and comes back Wed 12:00
    services.ticket_transition(
        ticket=ticket, actor=d.agent2, status="development", now=at("2025-03-17T12:00:00+03:00")
    )
    # (from development the regulation goes back to work or to done only)
    with pytest.raises(TransitionNotAllowedError) as error:
        services.ticket_transition(
            ticket=ticket,
            actor=d.agent2,
            status="waiting-for-customer",
            now=at("2025-03-18T12:00:00+03:00"),
        )
    assert error.value.details["allowed"] == ["in-progress", "done"]
    services.ticket_transition(
        ticket=ticket, actor=d.agent2, status="in-progress", now=at("2025-03-19T12:00:00+03:00")
    )
    # then development does not stop the processing time: Mon 10–18 (8 h), Tue (8 h),
    # Wed 10–12 (2 h) = 18 h
    assert clock(ticket, "resolution").consumed == timedelta(hours=18)

    # when support waits for the customer from Wed 14:00 to the reply Thu 14:00
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent2,
        status="waiting-for-customer",
        now=at("2025-03-19T14:00:00+03:00"),
    )
    assert clock(ticket, "resolution").state == "paused"
    services.ticket_reply(
        ticket=ticket,
        author=d.requester,
        body="Журналы сервиса во вложении",
        now=at("2025-03-20T14:00:00+03:00"),
    )
    # then the wait held Wed 14–18 and Thu 10–14 (8 working hours): the 10 working days
    # (80 working hours, due Fri 28 March 18:00) end one working day later, Mon 31 18:00
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    processing = clock(ticket, "resolution")
    assert (processing.state, processing.consumed) == ("running", timedelta(hours=20))
    assert processing.due_at == at("2025-03-31T18:00:00+03:00")
    # 80 % of 80 h = 64 h counted: 20 h by Thu 14:00, Thu 14–18 (24 h), Fri 21 (32 h),
    # Mon 24 … Thu 27 (64 h) → Thu 27 March 18:00
    assert processing.warn_at == at("2025-03-27T18:00:00+03:00")

    # when the fix ships in an update on Monday 24 March at 11:00
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent2,
        status="done",
        resolution="fixed-in-update",
        now=at("2025-03-24T11:00:00+03:00"),
    )
    # then R5.2 is met: 20 h + Thu 14–18 (4 h) + Fri (8 h) + Mon 10–11 (1 h) = 33 h
    processing = clock(ticket, "resolution")
    assert (processing.state, processing.consumed) == ("met", timedelta(hours=33))
    assert list(
        TicketEvent.objects.filter(ticket=ticket, kind=Kind.STATUS_CHANGED).values_list(
            "data__old", "data__new"
        )
    ) == [
        ("created", "in-progress"),
        ("in-progress", "development"),
        ("development", "in-progress"),
        ("in-progress", "waiting-for-customer"),
        ("waiting-for-customer", "in-progress"),
        ("in-progress", "done"),
    ]
    assert sla_sweep(now=at("2025-04-15T12:00:00+03:00")).breaches == 0
