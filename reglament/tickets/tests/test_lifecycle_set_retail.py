"""A SET Retail client's request lives its whole life through the services (R1.2–R1.7).

Calendars of regulations/set-retail.yaml: every hour target counts `around-the-clock`
(«Круглосуточная поддержка ✓ ✓ ✓»: holidays do not apply); the R1.6 working days count
on `working`, Mon–Fri 10:00–19:00 Moscow time on the Russian production calendar.
Date facts used below (``holidays.RU``): 1–8 January 2025 are the New Year holidays;
Sat 2025-11-01 is a working Saturday (its day off moved to Mon 3 November) and Tue
2025-11-04 is National Unity Day.
"""

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from reglament.sla.models import Clock
from reglament.sla.selectors import ticket_clocks
from reglament.sla.services import sla_sweep
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def clock(ticket: Ticket, metric: str) -> Clock:
    return Clock.objects.get(ticket=ticket, metric=metric)


def pauses(ticket: Ticket, now: datetime) -> dict[str, tuple[tuple[datetime, datetime], ...]]:
    _regulation, states = ticket_clocks(ticket, now=now)
    return {state.metric: state.pauses for state in states}


@pytest.mark.parametrize(
    ("tariff", "attributes", "due"),
    [
        # R1.4 standard «до 6 ч.»: Sat 22:00 + 6 h around the clock = Sun 04:00
        ("standard", {}, "2025-01-05T04:00:00+03:00"),
        # 49 registers is not «от 50-ти касс»: still 6 h
        ("standard", {"cash_registers": 49}, "2025-01-05T04:00:00+03:00"),
        # R1.4 standard «(до 4 ч.)» «*для клиентов от 50-ти касс»: 50 counts, Sun 02:00
        ("standard", {"cash_registers": 50}, "2025-01-05T02:00:00+03:00"),
        ("standard", {"cash_registers": 60}, "2025-01-05T02:00:00+03:00"),
        # R1.4 premium «до 4 ч. (до 2 ч.)»: Sun 02:00, and with 60 registers Sun 00:00
        ("premium", {}, "2025-01-05T02:00:00+03:00"),
        ("premium", {"cash_registers": 60}, "2025-01-05T00:00:00+03:00"),
    ],
)
def test_r1_4_restoration_target_follows_the_contracts_cash_registers(
    tariff: str, attributes: dict[str, Any], due: str
) -> None:
    # given a client whose registers stopped on Saturday night, in the New Year holidays
    d = desk("set-retail", tariff, attributes=attributes)
    # when the call of 22:00 is registered by an agent at 22:10
    ticket = services.ticket_create(
        actor=d.agent1,
        requester=d.requester,
        subject="Не работает больше половины касс",
        channel="phone",
        type="defect",
        category="registers-stopped",
        received_at=at("2025-01-04T22:00:00+03:00"),
        now=at("2025-01-04T22:10:00+03:00"),
    )
    # then R1.5 «Устранение неисправности при остановке работы более 50% касс» is critical
    assert ticket.priority == "critical"
    # and the restoration clock runs from the call, around the clock (R1.1 «Круглосуточная
    # поддержка»): the holidays change nothing
    restoration = clock(ticket, "restoration")
    assert restoration.started_at == at("2025-01-04T22:00:00+03:00")
    assert (restoration.state, restoration.due_at) == ("running", at(due))


def test_a_critical_request_lives_its_life_and_clarification_pauses_all_but_registration() -> None:
    # given a standard client with 60 registers whose registers stop on Saturday night
    d = desk("set-retail", "standard", attributes={"cash_registers": 60})
    ticket = services.ticket_create(
        actor=d.agent1,
        requester=d.requester,
        subject="Не работает больше половины касс",
        channel="phone",
        type="defect",
        category="registers-stopped",
        received_at=at("2025-01-04T22:00:00+03:00"),
        now=at("2025-01-04T22:10:00+03:00"),
    )
    # R1.2 standard «Регистрация заявки … 15 мин.»: 22:00 → 22:15, registered at 22:10
    registration = clock(ticket, "registration")
    assert (registration.state, registration.due_at) == ("met", at("2025-01-04T22:15:00+03:00"))
    assert registration.consumed == timedelta(minutes=10)
    # R1.1 critical consultation, standard «до 6 ч.»: Sat 22:00 + 6 h = Sun 04:00
    assert clock(ticket, "consultation").due_at == at("2025-01-05T04:00:00+03:00")
    # R1.4 standard «(до 4 ч.)» for 50+ registers: Sat 22:00 + 4 h = Sun 02:00
    assert clock(ticket, "restoration").due_at == at("2025-01-05T02:00:00+03:00")
    # R1.5 «остановке работы более 50% касс … 4 ч.»: Sun 02:00
    assert clock(ticket, "processing").due_at == at("2025-01-05T02:00:00+03:00")
    # R1.6 the workaround clock waits for a confirmed defect
    assert clock(ticket, "workaround").state == "waiting"

    # when the agent takes it at 22:20 and asks the client at 23:00
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-01-04T22:20:00+03:00")
    )
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent1,
        status="clarification",
        comment="Сколько касс не работает и что на экране?",
        now=at("2025-01-04T23:00:00+03:00"),
    )
    # then the vendor's clocks stand still, with no timer, registration stays met
    for metric in ("consultation", "restoration", "processing"):
        paused = clock(ticket, metric)
        assert (metric, paused.state, paused.next_check_at) == (metric, "paused", None)
    assert clock(ticket, "registration").state == "met"

    # when the client answers on Sunday 01:00
    services.ticket_reply(
        ticket=ticket,
        author=d.requester,
        body="Не работают 7 касс из 10, на экране ошибка связи",
        now=at("2025-01-05T01:00:00+03:00"),
    )
    # then the request is back in work and each clock kept the 1 h it used (22:00–23:00)
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    waited = ((at("2025-01-04T23:00:00+03:00"), at("2025-01-05T01:00:00+03:00")),)
    assert pauses(ticket, at("2025-01-05T01:00:00+03:00")) == {
        "registration": (),
        "consultation": waited,
        "restoration": waited,
        "processing": waited,
        "workaround": (),
    }
    # restoration: 4 h − 1 h = 3 h from Sun 01:00 → 04:00; processing the same
    restoration = clock(ticket, "restoration")
    assert (restoration.state, restoration.consumed) == ("running", timedelta(hours=1))
    assert restoration.due_at == at("2025-01-05T04:00:00+03:00")
    # 80 % of 4 h = 3 h 12 min: 1 h before the pause, 2 h 12 min from 01:00
    assert restoration.warn_at == at("2025-01-05T03:12:00+03:00")
    assert clock(ticket, "processing").due_at == at("2025-01-05T04:00:00+03:00")
    # consultation: 6 h − 1 h = 5 h from Sun 01:00 → 06:00
    assert clock(ticket, "consultation").due_at == at("2025-01-05T06:00:00+03:00")

    # when the agent answers at 01:30, the service works again at 02:30, done at 03:00
    services.ticket_reply(
        ticket=ticket,
        author=d.agent1,
        body="Перезапустили транспорт, проверьте кассы",
        now=at("2025-01-05T01:30:00+03:00"),
    )
    services.ticket_mark(
        ticket=ticket,
        actor=d.agent1,
        milestone="service_restored",
        now=at("2025-01-05T02:30:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent1,
        status="done",
        resolution="solved",
        now=at("2025-01-05T03:00:00+03:00"),
    )
    # then every promise is met, with the time each one used
    met = {m: clock(ticket, m) for m in ("consultation", "restoration", "processing")}
    # consultation 22:00–23:00 + 01:00–01:30
    assert (met["consultation"].state, met["consultation"].consumed) == (
        "met",
        timedelta(hours=1, minutes=30),
    )
    # restoration 22:00–23:00 + 01:00–02:30
    assert (met["restoration"].state, met["restoration"].consumed) == (
        "met",
        timedelta(hours=2, minutes=30),
    )
    # processing 22:00–23:00 + 01:00–03:00
    assert (met["processing"].state, met["processing"].consumed) == ("met", timedelta(hours=3))
    assert [c.next_check_at for c in Clock.objects.filter(ticket=ticket)] == [None] * 5
    report = sla_sweep(now=at("2025-01-06T12:00:00+03:00"))
    assert (report.warnings, report.breaches) == (0, 0)


def test_r1_2_a_late_registration_on_basic_is_recorded_at_once() -> None:
    # given a basic client's e-mail of Saturday 22:00, registered only at 22:40
    d = desk("set-retail", "basic")
    ticket = services.ticket_create(
        actor=d.agent1,
        requester=d.requester,
        subject="Как выгрузить отчёт по сменам?",
        channel="email",
        type="consultation",
        received_at=at("2025-01-04T22:00:00+03:00"),
        now=at("2025-01-04T22:40:00+03:00"),
    )
    # then R1.2 basic «Регистрация заявки 30 мин.»: due 22:30, missed, recorded once
    registration = clock(ticket, "registration")
    assert (registration.state, registration.due_at) == (
        "breached",
        at("2025-01-04T22:30:00+03:00"),
    )
    breach = TicketEvent.objects.get(ticket=ticket, kind=Kind.CLOCK_BREACHED)
    assert (breach.data["metric"], breach.data["at"]) == (
        "registration",
        at("2025-01-04T22:30:00+03:00").isoformat(),
    )
    # R1.3 basic «Консультация по SET 8 ч.»: Sat 22:00 + 8 h = Sun 06:00
    assert clock(ticket, "consultation").due_at == at("2025-01-05T06:00:00+03:00")
    # R1.4 basic «только консультации»: no restoration promise
    assert clock(ticket, "restoration").state == "no_promise"


def test_r1_6_workaround_within_3_working_days_across_the_november_holidays() -> None:
    # given a standard client's defect in register operations, reproduced on the bench
    d = desk("set-retail", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Касса зависает при возврате",
        type="defect",
        priority="medium",
        now=at("2025-10-30T11:00:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-10-30T11:10:00+03:00")
    )
    services.ticket_transition(
        ticket=ticket, actor=d.agent2, status="reproducing", now=at("2025-10-31T12:00:00+03:00")
    )
    # when the defect is confirmed on Friday 31 October at 16:00
    services.ticket_mark(
        ticket=ticket,
        actor=d.agent2,
        milestone="defect_confirmed",
        now=at("2025-10-31T16:00:00+03:00"),
    )
    # then R1.6 «в течение 3 рабочих дней вы получите обходное решение»: the working days
    # after Friday are Sat 1 Nov (a working Saturday), then — Sun 2, Mon 3 (transferred
    # day off), Tue 4 (National Unity Day) — Wed 5 and Thu 6: Thu 6 Nov at 16:00
    workaround = clock(ticket, "workaround")
    assert (workaround.state, workaround.calendar) == ("running", "working")
    assert workaround.target_working_days == 3
    assert workaround.due_at == at("2025-11-06T16:00:00+03:00")

    # when it goes to development with the fix date told (R1.6 «а также сроки
    # исправления ошибки»), and the client is asked a question Wed 12:00–15:00
    services.ticket_transition(
        ticket=ticket, actor=d.agent3, status="in-development", now=at("2025-11-01T12:00:00+03:00")
    )
    services.ticket_record_development(
        ticket=ticket,
        actor=d.agent3,
        reference="SETRETAIL-4821",
        fix_promised_on=date(2025, 12, 15),
        now=at("2025-11-01T12:05:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent3,
        status="clarification",
        now=at("2025-11-05T12:00:00+03:00"),
    )
    services.ticket_reply(
        ticket=ticket,
        author=d.requester,
        body="Версия кассы 10.4.2",
        now=at("2025-11-05T15:00:00+03:00"),
    )
    # then the request returns to development; the workaround clock used
    # Fri 16–19 (3 h) + Sat 10–19 (9 h) + Wed 10–12 (2 h) = 14 h
    ticket.refresh_from_db()
    assert (ticket.status, ticket.development_reference) == ("in-development", "SETRETAIL-4821")
    assert ticket.fix_promised_on == date(2025, 12, 15)
    workaround = clock(ticket, "workaround")
    assert workaround.consumed == timedelta(hours=14)
    # 3 working days from Fri 16:00 are 27 working hours (3 + 9 + 9 + 6); the 3 h paused
    # push the due instant from Thu 16:00 to Thu 19:00: 14 h + Wed 15–19 (4 h) + Thu 10–19
    # (9 h) = 27 h
    assert workaround.due_at == at("2025-11-06T19:00:00+03:00")
    # 80 % of 27 h = 21 h 36 min: 18 h by Wed 19:00, then 3 h 36 min from Thu 10:00
    assert workaround.warn_at == at("2025-11-06T13:36:00+03:00")

    # when the sweeper runs on Thursday at 14:00
    report = sla_sweep(now=at("2025-11-06T14:00:00+03:00"))
    # then the warning is recorded for 13:36, nothing is breached
    assert (report.warnings, report.breaches) == (1, 0)
    warning = TicketEvent.objects.get(ticket=ticket, kind=Kind.CLOCK_WARNING)
    assert (warning.data["metric"], warning.data["at"]) == (
        "workaround",
        at("2025-11-06T13:36:00+03:00").isoformat(),
    )

    # when the workaround is given on Thursday at 18:00
    services.ticket_mark(
        ticket=ticket,
        actor=d.agent3,
        milestone="workaround_provided",
        now=at("2025-11-06T18:00:00+03:00"),
    )
    # then it is met: 14 h + Wed 15–19 (4 h) + Thu 10–18 (8 h) = 26 h used
    workaround = clock(ticket, "workaround")
    assert (workaround.state, workaround.consumed) == ("met", timedelta(hours=26))
    assert workaround.stopped_at == at("2025-11-06T18:00:00+03:00")
    assert sla_sweep(now=at("2025-11-10T12:00:00+03:00")).breaches == 0


def test_r1_7_out_of_scope_leaves_consultation_only_and_nothing_is_recorded() -> None:
    # given a critical request of a standard client with 60 registers, Monday 12:00
    d = desk("set-retail", "standard", attributes={"cash_registers": 60})
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Остановился транспорт",
        type="defect",
        category="transport-stopped",
        now=at("2025-03-03T12:00:00+03:00"),
    )
    # R1.4 «(до 4 ч.)» and R1.5 «остановке транспорта … 4 ч.»: both due 16:00
    assert clock(ticket, "restoration").due_at == at("2025-03-03T16:00:00+03:00")
    assert clock(ticket, "processing").due_at == at("2025-03-03T16:00:00+03:00")

    # when an agent finds the store's database server broken (12:30)
    services.ticket_set_out_of_scope(
        ticket=ticket,
        actor=d.agent1,
        item="hardware-os-dbms",
        reason="Вышел из строя диск сервера БД магазина",
        now=at("2025-03-03T12:30:00+03:00"),
    )
    # then R1.7 «проблемы связанные с работой оборудования, ОС, БД …»: «мы помогаем путем
    # предоставления консультаций» — restoration and processing promise nothing any more
    ticket.refresh_from_db()
    assert ticket.out_of_scope == "hardware-os-dbms"
    for metric in ("restoration", "processing", "workaround"):
        flagged = clock(ticket, metric)
        assert (metric, flagged.state, flagged.due_at) == (metric, "no_promise", None)
    # the consultation keeps its 6 h (the file's reading), but no timer is set
    consultation = clock(ticket, "consultation")
    assert (consultation.state, consultation.due_at) == ("running", at("2025-03-03T18:00:00+03:00"))
    assert consultation.next_check_at is None
    change = TicketEvent.objects.get(ticket=ticket, kind=Kind.CHANGED)
    assert (change.actor, change.data["field"], change.data["old"], change.data["new"]) == (
        d.agent1,
        "out_of_scope",
        "",
        "hardware-os-dbms",
    )

    # when the agent consults at 13:00 and the sweeper runs the next day
    services.ticket_reply(
        ticket=ticket,
        author=d.agent1,
        body="Проверьте диск по инструкции и обратитесь к поставщику сервера",
        now=at("2025-03-03T13:00:00+03:00"),
    )
    report = sla_sweep(now=at("2025-03-04T12:00:00+03:00"))
    # then nothing was recorded, though the 4 h of restoration passed at 16:00
    assert (report.warnings, report.breaches) == (0, 0)
    assert not TicketEvent.objects.filter(
        ticket=ticket, kind__in=(Kind.CLOCK_WARNING, Kind.CLOCK_BREACHED)
    ).exists()
    assert clock(ticket, "consultation").state == "met"
