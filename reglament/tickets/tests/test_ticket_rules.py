"""Rules every request follows whatever its regulation: priority, numbers, corrections,
reopening, notes, watchers, files, closing and the event log.

Hand-computed instants use the files' calendars: CERA counts working hours Mon–Fri
10:00–19:00 Moscow time (regulations/cera.yaml), SET Retail counts hours around the
clock and working days Mon–Fri 10:00–19:00 (regulations/set-retail.yaml). 3–7 March
2025 holds no holiday.
"""

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import PersonFactory
from reglament.core.files import FileTooLargeError
from reglament.sla import services as services_sla
from reglament.sla.models import Clock
from reglament.sla.selectors import ticket_clocks
from reglament.sla.services import sla_sweep
from reglament.tickets import services
from reglament.tickets.errors import (
    NoContractError,
    TicketClosedError,
    TicketInvalidError,
    TicketNotFoundError,
    TicketPermissionError,
)
from reglament.tickets.models import Attachment, Comment, Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind
Role = Membership.Role


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def clock(ticket: Ticket, metric: str) -> Clock:
    return Clock.objects.get(ticket=ticket, metric=metric)


# --- R3.1 priority from impact × workaround ---------------------------------------------


@pytest.mark.parametrize(
    ("impact", "workaround", "priority"),
    [
        # R3.1 Критический (а) «невозможность использования Комплекса видеоаналитики»
        ("unusable", "none", "critical"),
        ("unusable", "exists", "critical"),
        # Критический (б) «невозможности использования основных функции Системы и
        # возможность Обхода проблемы отсутствует»; Высокий (а) «…но существует
        # возможность Обхода проблемы»
        ("main-functions", "none", "critical"),
        ("main-functions", "exists", "high"),
        # Высокий (б) «существенно ограничивает функции … Обхода проблемы отсутствует»;
        # Средний (а) «…но существует оперативная возможность Обхода проблемы»
        ("limited", "none", "high"),
        ("limited", "exists", "medium"),
        # Средний (б) «существенные недостатки в качестве функционирования Системы»
        ("major-quality", "none", "medium"),
        ("major-quality", "exists", "medium"),
        # Низкий «присутствует недостатки в качестве функционирования Системы»
        ("minor-quality", "none", "low"),
        ("minor-quality", "exists", "low"),
    ],
)
def test_r3_1_priority_is_derived_from_the_requesters_two_answers(
    impact: str, workaround: str, priority: str
) -> None:
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Ошибка подсчёта",
        type="defect",
        impact=impact,
        workaround=workaround,
        now=at("2025-03-03T12:00:00+03:00"),
    )
    assert (ticket.priority, ticket.impact, ticket.workaround) == (priority, impact, workaround)


def test_r3_1_new_answers_re_derive_the_priority_and_move_the_deadline() -> None:
    # given limited functions with a workaround: medium, R3.6 «Medium … 30» working hours
    # on line 1: Mon 12–19 (7 h), Tue (9 h), Wed (9 h), Thu 10–15 (5 h) → Thu 15:00
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Не строится отчёт по зонам",
        type="defect",
        impact="limited",
        workaround="exists",
        now=at("2025-03-03T12:00:00+03:00"),
    )
    assert ticket.priority == "medium"
    assert clock(ticket, "resolution").due_at == at("2025-03-06T15:00:00+03:00")
    # when support learns the main functions are down (the workaround still exists)
    services.ticket_update(
        ticket=ticket,
        actor=d.agent1,
        impact="main-functions",
        reason="Не работает подсчёт посетителей",
        now=at("2025-03-03T13:00:00+03:00"),
    )
    # then R3.1 Высокий (а): high; R3.6 «High … 15» on line 1: Mon 12–19 (7 h), Tue 10–18
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert clock(ticket, "resolution").due_at == at("2025-03-04T18:00:00+03:00")
    changes = TicketEvent.objects.filter(ticket=ticket, kind=Kind.CHANGED).order_by("id")
    assert [(e.actor, e.data["field"], e.data["old"], e.data["new"]) for e in changes] == [
        (d.agent1, "impact", "limited", "main-functions"),
        (d.agent1, "priority", "medium", "high"),
    ]


@pytest.mark.parametrize(
    ("impact", "workaround", "field"),
    [
        ("unusable", None, "workaround"),  # an answer is missing
        (None, "none", "impact"),
        ("everything", "none", "impact"),  # an answer the matrix does not know
        ("unusable", "maybe", "workaround"),
    ],
)
def test_r3_1_a_missing_or_unknown_answer_is_refused_naming_its_field(
    impact: str | None, workaround: str | None, field: str
) -> None:
    d = desk("cera", "standard")
    with pytest.raises(TicketInvalidError) as error:
        services.ticket_create(
            actor=d.requester,
            subject="Ошибка",
            impact=impact,
            workaround=workaround,
            now=at("2025-03-03T12:00:00+03:00"),
        )
    assert (error.value.status, error.value.code) == (422, "ticket_invalid")
    assert error.value.details["field"] == field
    assert not Ticket.objects.exists()


# --- R3.4 numbers -----------------------------------------------------------------------


def test_r3_4_numbers_are_unique_and_sequential_per_prefix_and_year() -> None:
    # R3.4 «присвоение уникального номера запросу с фиксацией времени»
    cera = desk("cera", "standard")
    krizhik = desk("krizhik", "start")

    def register(requester: User, now: str) -> Ticket:
        return services.ticket_create(actor=requester, subject="Вопрос", now=at(now))

    first = register(cera.requester, "2025-03-03T12:00:00+03:00")
    second = register(cera.requester, "2025-03-03T12:01:00+03:00")
    other_prefix = register(krizhik.requester, "2025-03-03T12:02:00+03:00")
    # 20:30 UTC is 23:30 in Moscow: still 2025
    last_of_year = register(cera.requester, "2025-12-31T20:30:00+00:00")
    # 22:30 UTC is 01:30 on 1 January 2026 in Moscow, the regulation's time zone
    first_of_year = register(cera.requester, "2025-12-31T22:30:00+00:00")
    after = register(cera.requester, "2026-01-01T02:00:00+03:00")
    assert [
        t.number for t in (first, second, other_prefix, last_of_year, first_of_year, after)
    ] == [
        "CERA-2025-000001",
        "CERA-2025-000002",
        "KRZ-2025-000001",
        "CERA-2025-000003",
        "CERA-2026-000001",
        "CERA-2026-000002",
    ]
    assert first_of_year.registered_at == at("2026-01-01T01:30:00+03:00")


def test_a_contract_starts_and_ends_at_midnight_in_the_regulations_time_zone() -> None:
    # given a CERA contract from 1 December 2025 to 31 December 2025 (Moscow dates)
    d = desk("cera", "standard", valid_from=date(2025, 12, 1))
    d.contract.valid_to = date(2025, 12, 31)
    d.contract.save(update_fields=["valid_to"])

    def register(now: str) -> Ticket:
        return services.ticket_create(actor=d.requester, subject="Вопрос", now=at(now))

    # when a request comes at 23:59 Moscow time on 30 November, then there is no contract yet
    with pytest.raises(NoContractError) as error:
        register("2025-11-30T20:59:00+00:00")
    assert "2025-11-30T20:59+00:00" in str(error.value.message)
    # when it comes a minute later, 00:00 Moscow on 1 December (still 30 November in UTC)
    assert register("2025-11-30T21:00:00+00:00").contract == d.contract
    # and on 31 December at 23:59 Moscow the contract still holds, at 00:00 no longer
    assert register("2025-12-31T20:59:00+00:00").contract == d.contract
    with pytest.raises(NoContractError):
        register("2025-12-31T21:00:00+00:00")


@pytest.mark.parametrize(
    ("regulation", "tariff", "channel", "accepted"),
    [
        # R5.1 «Прием обращений»: email and phone only
        ("rusbitech", "standard", "email", True),
        ("rusbitech", "standard", "phone", True),
        ("rusbitech", "standard", "telegram", False),
        ("rusbitech", "standard", "whatsapp", False),
        # R3.2: email, phone, a Telegram or WhatsApp group per customer
        ("cera", "standard", "telegram", True),
        ("cera", "standard", "whatsapp", True),
        # Reglament's own ways in are open under every regulation
        ("rusbitech", "standard", "portal", True),
        ("rusbitech", "standard", "api", True),
        ("rusbitech", "standard", "monitoring", True),
    ],
)
def test_a_request_comes_by_a_channel_its_regulation_lists_or_by_our_own(
    regulation: str, tariff: str, channel: str, accepted: bool
) -> None:
    d = desk(regulation, tariff)

    def register() -> Ticket:
        return services.ticket_create(
            actor=d.agent1,
            requester=d.requester,
            subject="Вопрос",
            channel=channel,
            now=at("2025-03-03T12:00:00+03:00"),
        )

    if accepted:
        assert register().channel == channel
        return
    with pytest.raises(TicketInvalidError) as error:
        register()
    assert error.value.details["field"] == "channel"
    assert error.value.details["known"] == ["portal", "api", "monitoring", "email", "phone"]
    assert not Ticket.objects.exists()


def test_registering_a_request_costs_a_fixed_handful_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    # given a desk that has registered one request already (counters, caches warm)
    d = desk("rusbitech", "standard")
    services.ticket_create(actor=d.requester, subject="Первая", now=at("2025-03-03T12:00:00+03:00"))
    # when another is registered, then: membership, contract, number counter (read and
    # write), the request, its event, its clocks, the queue columns, and savepoints
    with django_assert_max_num_queries(10):
        ticket = services.ticket_create(
            actor=d.requester, subject="Вторая", now=at("2025-03-03T12:05:00+03:00")
        )
    # and its clocks are exactly what a full re-computation gives
    stored = {c.metric: (c.state, c.due_at) for c in ticket.clocks.all()}
    services_sla.clocks_sync(ticket=ticket, now=at("2025-03-03T12:05:00+03:00"))
    assert {c.metric: (c.state, c.due_at) for c in ticket.clocks.all()} == stored
    assert stored


# --- received_at correction --------------------------------------------------------------


def test_correcting_the_arrival_moves_the_clocks_that_start_on_it_and_needs_a_reason() -> None:
    # given a call an agent registered at 10:00 as if it had just come in
    d = desk("set-retail", "standard")
    ticket = services.ticket_create(
        actor=d.agent1,
        requester=d.requester,
        subject="Как настроить весы?",
        channel="phone",
        type="consultation",
        now=at("2025-03-03T10:00:00+03:00"),
    )
    # R1.3 standard «Консультация по SET 6 ч.» around the clock: 10:00 → 16:00
    assert clock(ticket, "consultation").due_at == at("2025-03-03T16:00:00+03:00")
    assert clock(ticket, "registration").state == "met"

    # when the agent corrects the arrival without a reason, then it is refused
    with pytest.raises(TicketInvalidError) as error:
        services.ticket_update(
            ticket=ticket,
            actor=d.agent1,
            received_at=at("2025-03-03T09:40:00+03:00"),
            now=at("2025-03-03T10:30:00+03:00"),
        )
    assert error.value.details["field"] == "reason"
    # and an arrival after the registration is refused too
    with pytest.raises(TicketInvalidError) as error:
        services.ticket_update(
            ticket=ticket,
            actor=d.agent1,
            received_at=at("2025-03-03T10:05:00+03:00"),
            reason="Опечатка",
            now=at("2025-03-03T10:30:00+03:00"),
        )
    assert error.value.details["field"] == "received_at"

    # when the call is corrected to 09:40 with a reason
    services.ticket_update(
        ticket=ticket,
        actor=d.agent1,
        received_at=at("2025-03-03T09:40:00+03:00"),
        reason="Звонок принят в 09:40, заявку завели позже",
        now=at("2025-03-03T10:30:00+03:00"),
    )
    # then the consultation counts from 09:40 → 15:40
    assert clock(ticket, "consultation").due_at == at("2025-03-03T15:40:00+03:00")
    # and R1.2 standard «15 мин.» turns out missed: 09:40 → 09:55, registered 10:00
    registration = clock(ticket, "registration")
    assert (registration.state, registration.consumed) == ("breached", timedelta(minutes=20))
    breach = TicketEvent.objects.get(ticket=ticket, kind=Kind.CLOCK_BREACHED)
    assert breach.data["at"] == at("2025-03-03T09:55:00+03:00").isoformat()
    correction = TicketEvent.objects.get(ticket=ticket, kind=Kind.RECEIVED_CORRECTED)
    assert (correction.actor, correction.public) == (d.agent1, False)
    assert (
        at(correction.data["old"]),
        at(correction.data["new"]),
        correction.data["reason"],
    ) == (
        at("2025-03-03T10:00:00+03:00"),
        at("2025-03-03T09:40:00+03:00"),
        "Звонок принят в 09:40, заявку завели позже",
    )


# --- reopening ----------------------------------------------------------------------------


def test_reopening_a_done_request_keeps_its_met_clock_and_closes_again() -> None:
    # given a high request done Monday 16:00 (R3.6 «High … 15» on line 1: due Tue 18:00)
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Не строится отчёт",
        type="defect",
        priority="high",
        now=at("2025-03-03T12:00:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent1,
        status="done",
        resolution="solved",
        now=at("2025-03-03T16:00:00+03:00"),
    )
    ticket.refresh_from_db()
    assert (ticket.is_open, ticket.closed_at) == (False, at("2025-03-03T16:00:00+03:00"))

    # when the customer says it is back and support reopens it Tuesday 11:00
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-03-04T11:00:00+03:00")
    )
    # then the request is open again, the reopening is in the log
    ticket.refresh_from_db()
    assert (ticket.status, ticket.is_open, ticket.closed_at, ticket.resolution) == (
        "in-progress",
        True,
        None,
        "",
    )
    reopened = TicketEvent.objects.filter(ticket=ticket, kind=Kind.STATUS_CHANGED).last()
    assert reopened is not None
    assert (reopened.data["old"], reopened.data["new"], reopened.data["reopened"]) == (
        "done",
        "in-progress",
        True,
    )
    # and the resolution clock stays met as it was (Mon 12–16, 4 h): it is not restarted
    resolution = clock(ticket, "resolution")
    assert (resolution.state, resolution.stopped_at, resolution.consumed) == (
        "met",
        at("2025-03-03T16:00:00+03:00"),
        timedelta(hours=4),
    )
    assert sla_sweep(now=at("2025-03-07T12:00:00+03:00")).breaches == 0

    # when it is done again on Wednesday
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent1,
        status="done",
        resolution="not-reproducible",
        now=at("2025-03-05T12:00:00+03:00"),
    )
    ticket.refresh_from_db()
    assert (ticket.is_open, ticket.closed_at, ticket.resolution) == (
        False,
        at("2025-03-05T12:00:00+03:00"),
        "not-reproducible",
    )


# --- notes, watchers --------------------------------------------------------------------


def test_a_customer_cannot_write_internal_notes_and_a_note_is_no_answer() -> None:
    # given a standard SET Retail question at 10:00 (R1.3 «6 ч.»: due 16:00)
    d = desk("set-retail", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Как настроить весы?",
        type="consultation",
        now=at("2025-03-03T10:00:00+03:00"),
    )
    # when the customer tries an internal note, then it is refused and nothing is written
    with pytest.raises(TicketPermissionError):
        services.ticket_reply(
            ticket=ticket,
            author=d.requester,
            body="Только для своих",
            public=False,
            now=at("2025-03-03T10:10:00+03:00"),
        )
    assert not Comment.objects.filter(ticket=ticket).exists()
    # when an agent writes an internal note at 10:30
    services.ticket_reply(
        ticket=ticket,
        author=d.agent1,
        body="Похоже на драйвер весов",
        public=False,
        now=at("2025-03-03T10:30:00+03:00"),
    )
    # then the note is hidden from the customer and the consultation still runs
    note = TicketEvent.objects.get(ticket=ticket, kind=Kind.NOTED)
    assert note.public is False
    assert clock(ticket, "consultation").state == "running"
    # when the agent answers publicly at 11:00, then the consultation is met after 1 h
    services.ticket_reply(
        ticket=ticket,
        author=d.agent1,
        body="Обновите драйвер весов",
        now=at("2025-03-03T11:00:00+03:00"),
    )
    consultation = clock(ticket, "consultation")
    assert (consultation.state, consultation.consumed) == ("met", timedelta(hours=1))


def test_watchers_are_added_by_staff_and_customer_admins_and_may_then_follow() -> None:
    # given a request of a CERA customer and a colleague of the requester
    d = desk("cera", "standard")
    colleague = PersonFactory.create(organisation=d.customer, role=Role.REQUESTER)
    stranger = desk("cera", "standard").requester
    ticket = services.ticket_create(
        actor=d.requester, subject="Вопрос", now=at("2025-03-03T12:00:00+03:00")
    )
    # the colleague cannot see it yet
    with pytest.raises(TicketNotFoundError):
        services.ticket_reply(
            ticket=ticket, author=colleague, body="Я тоже", now=at("2025-03-03T12:01:00+03:00")
        )
    # a requester may not add someone else
    with pytest.raises(TicketPermissionError):
        services.ticket_watch(
            ticket=ticket,
            actor=d.requester,
            watcher=colleague,
            now=at("2025-03-03T12:02:00+03:00"),
        )
    # nobody may add a person of another organisation
    with pytest.raises(TicketInvalidError) as error:
        services.ticket_watch(
            ticket=ticket, actor=d.agent1, watcher=stranger, now=at("2025-03-03T12:03:00+03:00")
        )
    assert error.value.details["field"] == "watcher"

    # when the customer admin adds the colleague and an agent adds line 2
    services.ticket_watch(
        ticket=ticket,
        actor=d.customer_admin,
        watcher=colleague,
        now=at("2025-03-03T12:05:00+03:00"),
    )
    services.ticket_watch(
        ticket=ticket, actor=d.agent1, watcher=d.agent2, now=at("2025-03-03T12:06:00+03:00")
    )
    # then both watch, the log says who added whom, and the colleague may write
    assert set(ticket.watchers.all()) == {colleague, d.agent2}
    added = TicketEvent.objects.filter(ticket=ticket, kind=Kind.CHANGED).order_by("id")
    assert [(e.actor, e.data["field"], e.data["old"], e.data["new"], e.public) for e in added] == [
        (d.customer_admin, "watchers", None, colleague.username, False),
        (d.agent1, "watchers", None, d.agent2.username, False),
    ]
    services.ticket_reply(
        ticket=ticket, author=colleague, body="Я тоже", now=at("2025-03-03T12:10:00+03:00")
    )
    # when the colleague stops watching, then they lose sight of the request
    services.ticket_watch(
        ticket=ticket,
        actor=colleague,
        watcher=colleague,
        watch=False,
        now=at("2025-03-03T12:20:00+03:00"),
    )
    with pytest.raises(TicketNotFoundError):
        services.ticket_reply(
            ticket=ticket, author=colleague, body="Ещё", now=at("2025-03-03T12:21:00+03:00")
        )


# --- attachments --------------------------------------------------------------------------


def test_attachments_have_a_size_limit_are_stored_by_digest_and_get_safe_names(
    settings: Settings, tmp_path: Path
) -> None:
    settings.REGLAMENT_ATTACHMENTS_DIR = tmp_path
    settings.REGLAMENT_ATTACHMENT_MAX_BYTES = 1000
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester, subject="Логи", now=at("2025-03-03T12:00:00+03:00")
    )
    # one byte over the limit is refused with 413, nothing stored
    with pytest.raises(FileTooLargeError) as error:
        services.attachment_add(
            ticket=ticket,
            uploader=d.requester,
            name="big.log",
            content=b"x" * 1001,
            now=at("2025-03-03T12:01:00+03:00"),
        )
    assert (error.value.status, error.value.details) == (413, {"size": 1001, "limit": 1000})
    assert not Attachment.objects.exists()
    assert list(tmp_path.iterdir()) == []

    # a file of exactly the limit, with a path in its name, is kept under its digest
    content = b"y" * 1000
    digest = hashlib.sha256(content).hexdigest()
    first = services.attachment_add(
        ticket=ticket,
        uploader=d.requester,
        name="C:\\Users\\Иван\\отчёт 2025.pdf",
        content=content,
        now=at("2025-03-03T12:02:00+03:00"),
    )
    assert (first.name, first.content_type, first.size, first.sha256) == (
        "отчёт 2025.pdf",
        "application/pdf",
        1000,
        digest,
    )
    stored = tmp_path / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == content
    # the same bytes again under unsafe names: two rows, one stored file
    second = services.attachment_add(
        ticket=ticket,
        uploader=d.agent1,
        name="../../etc/passwd",
        content=content,
        now=at("2025-03-03T12:03:00+03:00"),
    )
    third = services.attachment_add(
        ticket=ticket,
        uploader=d.agent1,
        name="касса<1>|лог?.txt",
        content=content,
        now=at("2025-03-03T12:04:00+03:00"),
    )
    assert (second.name, third.name) == ("passwd", "касса_1_лог_.txt")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [stored]
    assert TicketEvent.objects.filter(ticket=ticket, kind=Kind.ATTACHED).count() == 3
    # a customer attaches nothing internal
    with pytest.raises(TicketPermissionError):
        services.attachment_add(
            ticket=ticket,
            uploader=d.requester,
            name="secret.txt",
            content=b"z",
            public=False,
            now=at("2025-03-03T12:05:00+03:00"),
        )


# --- closing ------------------------------------------------------------------------------


def test_a_closed_requests_clocks_never_breach_and_the_sweeper_records_nothing() -> None:
    # given a SET Retail defect confirmed Monday 12:00: R1.6 «в течение 3 рабочих дней»,
    # Tue, Wed, Thu → Thu 2025-03-06 12:00
    d = desk("set-retail", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Касса не печатает чек",
        type="defect",
        priority="medium",
        now=at("2025-03-03T11:00:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-03-03T11:30:00+03:00")
    )
    services.ticket_mark(
        ticket=ticket,
        actor=d.agent1,
        milestone="defect_confirmed",
        now=at("2025-03-03T12:00:00+03:00"),
    )
    assert clock(ticket, "workaround").due_at == at("2025-03-06T12:00:00+03:00")

    # when it is done on Tuesday 15:00 without a workaround (the update fixed it)
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent1,
        status="done",
        resolution="solved",
        now=at("2025-03-04T15:00:00+03:00"),
    )
    # then closing stopped the workaround clock in time: met, stopped by the closing
    _regulation, states = ticket_clocks(ticket, now=at("2025-04-01T12:00:00+03:00"))
    workaround = next(s for s in states if s.metric == "workaround")
    assert (workaround.state, workaround.stop, workaround.stopped_by) == (
        "met",
        at("2025-03-04T15:00:00+03:00"),
        "closed",
    )
    # Mon 12–19 (7 h) + Tue 10–15 (5 h)
    assert workaround.consumed == timedelta(hours=12)
    # and nothing of it is due any more, a month later nothing is recorded
    assert (
        list(Clock.objects.filter(ticket=ticket).values_list("next_check_at", flat=True))
        == [None] * 5
    )
    ticket.refresh_from_db()
    assert (ticket.next_due_at, ticket.breached) == (None, False)
    report = sla_sweep(now=at("2025-04-01T12:00:00+03:00"))
    assert (report.tickets, report.warnings, report.breaches) == (0, 0, 0)
    assert not TicketEvent.objects.filter(
        ticket=ticket, kind__in=(Kind.CLOCK_WARNING, Kind.CLOCK_BREACHED)
    ).exists()
    # and the customer cannot write into it
    with pytest.raises(TicketClosedError):
        services.ticket_reply(
            ticket=ticket,
            author=d.requester,
            body="Снова не печатает",
            now=at("2025-04-01T12:00:00+03:00"),
        )


# --- escalation and the event log ---------------------------------------------------------


def test_escalation_needs_a_reason_and_the_log_records_old_new_and_the_actor() -> None:
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Камеры не считают посетителей",
        type="defect",
        priority="medium",
        now=at("2025-03-03T12:00:00+03:00"),
    )
    # a blank reason is refused, naming the field
    with pytest.raises(TicketInvalidError) as error:
        services.ticket_escalate(
            ticket=ticket, actor=d.agent1, line=3, reason="  ", now=at("2025-03-03T13:00:00+03:00")
        )
    assert (error.value.status, error.value.details["field"]) == (422, "reason")
    # a customer cannot move the request between lines
    with pytest.raises(TicketPermissionError):
        services.ticket_escalate(
            ticket=ticket,
            actor=d.requester,
            line=3,
            reason="Срочно",
            now=at("2025-03-03T13:00:00+03:00"),
        )
    assert not TicketEvent.objects.filter(ticket=ticket, kind=Kind.ESCALATED).exists()

    # when line 1 moves it to line 3 with a reason, and changes the status
    services.ticket_escalate(
        ticket=ticket,
        actor=d.agent1,
        line=3,
        reason="Нужен разработчик",
        now=at("2025-03-03T13:00:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket, actor=d.agent3, status="in-progress", now=at("2025-03-03T13:30:00+03:00")
    )
    # then each change is in the log: who, when, old → new
    escalated = TicketEvent.objects.get(ticket=ticket, kind=Kind.ESCALATED)
    assert (escalated.actor, escalated.created_at) == (d.agent1, at("2025-03-03T13:00:00+03:00"))
    assert escalated.data == {"old": 1, "new": 3, "reason": "Нужен разработчик"}
    status = TicketEvent.objects.get(ticket=ticket, kind=Kind.STATUS_CHANGED)
    assert (status.actor, status.data["old"], status.data["new"]) == (
        d.agent3,
        "created",
        "in-progress",
    )
    # and R3.6 «Medium … 60» on line 3: Mon 12–19 (7 h), Tue–Fri (36 h), Mon 10 Mar (9 h),
    # Tue 11 Mar (8 h) → Tue 2025-03-11 18:00
    assert clock(ticket, "resolution").due_at == at("2025-03-11T18:00:00+03:00")
