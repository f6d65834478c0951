"""A «Крыжик» request lives its whole life through the services (R4.2–R4.4).

regulations/krizhik.yaml counts every promise in the support's working hours, Mon–Fri
09:00–18:00 Moscow time on the Russian production calendar (the file's ASSUMPTION).
Date facts used below (``holidays.RU``): Sat 2025-11-01 is a working Saturday (its day
off moved to Mon 3 November, so it works Monday's 09:00–18:00); Tue 4 November is
National Unity Day. The file has no priority matrix: the priority is set directly and
every promise is the same for all four priorities.
"""

from datetime import datetime, timedelta

import pytest

from reglament.sla.models import Clock
from reglament.sla.services import sla_sweep
from reglament.tickets import services
from reglament.tickets.errors import TicketInvalidError
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def clock(ticket: Ticket, metric: str) -> Clock:
    return Clock.objects.get(ticket=ticket, metric=metric)


@pytest.mark.parametrize(
    ("tariff", "resolution_due", "answer_offer"),
    [
        # R4.4 «4 часа*****»: Fri 17–18 (1 h) + working Sat 09–12 (3 h) → Sat 12:00
        ("start", "2025-11-01T12:00:00+03:00", "waiting"),
        # R4.4 «2 часа»: Fri 17–18 (1 h) + Sat 09–10 (1 h) → Sat 10:00
        ("krizhik", "2025-11-01T10:00:00+03:00", "no_promise"),
        # R4.4 «1 час»: Fri 17–18 → Fri 18:00 (a deadline at closing time is that closing)
        ("reliable", "2025-10-31T18:00:00+03:00", "no_promise"),
        ("reliable-management", "2025-10-31T18:00:00+03:00", "no_promise"),
    ],
)
def test_reaction_and_maximum_resolution_per_tariff(
    tariff: str, resolution_due: str, answer_offer: str
) -> None:
    # given a customer on each tariff writing on Friday 2025-10-31 at 17:00
    d = desk("krizhik", tariff)
    # when the request is registered with a priority set directly (no matrix in the file)
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Не проводится документ поступления",
        priority="high",
        now=at("2025-10-31T17:00:00+03:00"),
    )
    # then R4.2 «Время реакции … после регистрации: 30 минут» on every tariff: 17:30
    assert ticket.number == "KRZ-2025-000001"
    assert ticket.priority == "high"
    assert clock(ticket, "reaction").due_at == at("2025-10-31T17:30:00+03:00")
    assert clock(ticket, "resolution").due_at == at(resolution_due)
    # R4.3 «30 минут | - | - | -»: only Start promises an answer after work starts
    assert clock(ticket, "answer-offer").state == answer_offer


def test_a_start_request_lives_its_life_and_waiting_for_the_customer_pauses_resolution() -> None:
    # given a Start customer's request of Friday 2025-10-31 17:00
    d = desk("krizhik", "start")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Как заполнить 6-НДФЛ?",
        now=at("2025-10-31T17:00:00+03:00"),
    )
    # the priority nobody chose is the file's default
    assert ticket.priority == "medium"

    # when a specialist starts work at 17:20
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-10-31T17:20:00+03:00")
    )
    # then R4.2 «30 минут»: the reaction is met after 20 min
    reaction = clock(ticket, "reaction")
    assert (reaction.state, reaction.consumed) == ("met", timedelta(minutes=20))
    # and R4.3 «Время для предоставления варианта ответа клиенту (после начала работы):
    # 30 минут»: from 17:20 → 17:50
    answer = clock(ticket, "answer-offer")
    assert (answer.state, answer.started_at, answer.due_at) == (
        "running",
        at("2025-10-31T17:20:00+03:00"),
        at("2025-10-31T17:50:00+03:00"),
    )

    # when the specialist offers an answer at 17:45 and waits for the customer from 17:50
    services.ticket_reply(
        ticket=ticket,
        author=d.agent1,
        body="Пришлите, пожалуйста, скриншот раздела 2",
        now=at("2025-10-31T17:45:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent1,
        status="waiting-for-customer",
        now=at("2025-10-31T17:50:00+03:00"),
    )
    assert clock(ticket, "answer-offer").state == "met"
    assert clock(ticket, "resolution").state == "paused"
    # and the customer answers on the working Saturday at 10:00
    services.ticket_reply(
        ticket=ticket,
        author=d.requester,
        body="Скриншот во вложении",
        now=at("2025-11-01T10:00:00+03:00"),
    )
    # then the request is back in work; the resolution clock used 17:00–17:50 (50 min),
    # stood still Fri 17:50–18:00 and Sat 09:00–10:00, and has 3 h 10 min left → 13:10
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    resolution = clock(ticket, "resolution")
    assert (resolution.state, resolution.consumed) == ("running", timedelta(minutes=50))
    assert resolution.due_at == at("2025-11-01T13:10:00+03:00")
    # 80 % of 4 h = 3 h 12 min: 50 min, then 2 h 22 min from Sat 10:00 → 12:22
    assert resolution.warn_at == at("2025-11-01T12:22:00+03:00")
    report = sla_sweep(now=at("2025-11-01T12:30:00+03:00"))
    assert (report.warnings, report.breaches) == (1, 0)

    # when the task is solved at 13:00
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent1,
        status="done",
        resolution="solved",
        now=at("2025-11-01T13:00:00+03:00"),
    )
    # then R4.4 «4 часа» is met: 50 min + Sat 10:00–13:00 = 3 h 50 min
    resolution = clock(ticket, "resolution")
    assert (resolution.state, resolution.consumed) == ("met", timedelta(hours=3, minutes=50))
    assert sla_sweep(now=at("2025-11-05T12:00:00+03:00")).breaches == 0


def test_r4_2_a_late_reaction_is_due_on_the_working_saturday() -> None:
    # given a Krizhik customer's request of Friday 2025-10-31 at 17:50, not taken up
    d = desk("krizhik", "krizhik")
    ticket = services.ticket_create(
        actor=d.requester, subject="Не открывается база", now=at("2025-10-31T17:50:00+03:00")
    )
    # then R4.2 «30 минут»: Fri 17:50–18:00 (10 min) + Sat 09:00–09:20 → Sat 09:20 (without
    # the working Saturday it would be Wed 5 November 09:20)
    reaction = clock(ticket, "reaction")
    assert reaction.due_at == at("2025-11-01T09:20:00+03:00")
    # 80 % of 30 min = 24 min: 10 min on Friday, 14 min on Saturday → 09:14
    assert reaction.warn_at == at("2025-11-01T09:14:00+03:00")
    # R4.4 «2 часа»: 10 min + Sat 09:00–10:50
    assert clock(ticket, "resolution").due_at == at("2025-11-01T10:50:00+03:00")

    # when the sweeper runs on Saturday at 09:30
    report = sla_sweep(now=at("2025-11-01T09:30:00+03:00"))
    # then the reaction's warning and breach are recorded, the resolution is still in time
    assert (report.warnings, report.breaches) == (1, 1)
    breach = TicketEvent.objects.get(ticket=ticket, kind=Kind.CLOCK_BREACHED)
    assert (breach.data["metric"], breach.data["at"]) == (
        "reaction",
        at("2025-11-01T09:20:00+03:00").isoformat(),
    )
    assert clock(ticket, "resolution").state == "running"


def test_r3_1_without_a_matrix_the_priority_is_set_directly_and_answers_are_refused() -> None:
    # given Krizhik, whose file has no impact × workaround matrix
    d = desk("krizhik", "reliable")
    # when a customer answers the matrix questions
    with pytest.raises(TicketInvalidError) as error:
        services.ticket_create(
            actor=d.requester,
            subject="Всё сломалось",
            impact="unusable",
            workaround="none",
            now=at("2025-03-04T12:00:00+03:00"),
        )
    # then the answers are refused, naming the field, and nothing is registered
    assert (error.value.status, error.value.details["field"]) == (422, "impact")
    assert not Ticket.objects.exists()
    # and a priority given directly is taken as it is; it changes no promise (R4.4 «1 час»
    # on Reliable whatever the priority): Tue 12:00 + 1 h = 13:00
    for priority in ("critical", "low"):
        ticket = services.ticket_create(
            actor=d.requester,
            subject="Вопрос",
            priority=priority,
            now=at("2025-03-04T12:00:00+03:00"),
        )
        assert ticket.priority == priority
        assert clock(ticket, "resolution").due_at == at("2025-03-04T13:00:00+03:00")
