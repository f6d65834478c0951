"""A SET partner's request for its client lives its whole life through the services (R2).

Calendars of regulations/set-partner.yaml: registration counts around the clock (R2.2);
the consultation counts «с 10 до 19 по МСК в рабочие дни» on the Russian production
calendar, and for critical processes of the expert tariff around the clock (R2.3).
Date facts used below (``holidays.RU``): Sat 2024-12-28 is a working Saturday (its day
off moved to Mon 30 December); Tue 31 December is a transferred day off; 1–8 January
2025 are the New Year holidays, Thu 9 January is the first working day.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.regulations.models import Contract
from reglament.regulations.services import contract_create
from reglament.sla.models import Clock
from reglament.sla.services import sla_sweep
from reglament.tickets import services
from reglament.tickets.errors import TicketInvalidError
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind
Role = Membership.Role


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def clock(ticket: Ticket, metric: str) -> Clock:
    return Clock.objects.get(ticket=ticket, metric=metric)


@dataclass
class PartnerDesk:
    """The vendor's desk, a partner on a tariff, one of the partner's clients."""

    desk: Desk
    partner: Organisation
    contract: Contract
    client: Organisation
    engineer: User  # the partner's person who files requests
    partner_admin: User


def partner_desk(tariff: str) -> PartnerDesk:
    # The desk's own customer stands for an organisation unrelated to the partner.
    d = desk("set-partner", tariff)
    partner = OrganisationFactory.create(kind=Organisation.Kind.PARTNER)
    contract = contract_create(
        organisation=partner, version=d.version, tariff=tariff, valid_from=date(2024, 1, 1)
    )
    client = OrganisationFactory.create(partner=partner)
    engineer = PersonFactory.create(organisation=partner, role=Role.REQUESTER)
    partner_admin = PersonFactory.create(organisation=partner, role=Role.CUSTOMER_ADMIN)
    return PartnerDesk(d, partner, contract, client, engineer, partner_admin)


def test_r2_1_a_partner_files_for_its_client_under_its_own_contract() -> None:
    # given a partner on the expert tariff and its client without a contract of its own
    p = partner_desk("expert")
    # when the partner's engineer files for the client
    ticket = services.ticket_create(
        actor=p.engineer,
        organisation=p.client,
        subject="У клиента не запускается касса",
        type="consultation",
        now=at("2024-12-27T12:00:00+03:00"),
    )
    # then R2.1 «Для партнеров CSI …»: the request is the client's, on the partner's tariff
    assert ticket.number == "SETP-2024-000001"
    assert (ticket.organisation, ticket.contract, ticket.requester) == (
        p.client,
        p.contract,
        p.engineer,
    )
    # and the partner's administrator follows it like the partner's own
    services.ticket_reply(
        ticket=ticket,
        author=p.partner_admin,
        body="Касса 3, магазин на Ленина",
        now=at("2024-12-27T12:05:00+03:00"),
    )
    assert ticket.comments.count() == 1


def test_r2_1_a_partner_cannot_file_for_an_organisation_that_is_not_its_client() -> None:
    p = partner_desk("expert")
    with pytest.raises(TicketInvalidError) as error:
        services.ticket_create(
            actor=p.engineer,
            organisation=p.desk.customer,
            subject="Чужая заявка",
            now=at("2024-12-27T12:00:00+03:00"),
        )
    assert error.value.status == 422
    assert (error.value.details["field"], error.value.details["value"]) == (
        "organisation",
        p.desk.customer.pk,
    )
    assert not Ticket.objects.exists()


def test_r2_3_expert_consultation_on_friday_evening_runs_into_the_working_saturday() -> None:
    # given the partner's call on Friday 2024-12-27 at 18:00, registered at 18:05
    p = partner_desk("expert")
    ticket = services.ticket_create(
        actor=p.desk.agent1,
        requester=p.engineer,
        organisation=p.client,
        subject="Как настроить скидку на группу товаров?",
        channel="phone",
        type="consultation",
        received_at=at("2024-12-27T18:00:00+03:00"),
        now=at("2024-12-27T18:05:00+03:00"),
    )
    # then R2.2 «зарегистрируют в течение 15 минут»: due 18:15 around the clock, met
    registration = clock(ticket, "registration")
    assert (registration.state, registration.due_at) == ("met", at("2024-12-27T18:15:00+03:00"))
    # R2.3 «в течение 4 часов (с 10 до 19 по МСК в рабочие дни)»: Fri 18–19 (1 h) and the
    # working Saturday 10–13 (3 h) → Sat 2024-12-28 13:00
    consultation = clock(ticket, "consultation")
    assert (consultation.calendar, consultation.due_at) == (
        "working",
        at("2024-12-28T13:00:00+03:00"),
    )
    # «Гарантированное восстановление … только консультации»
    assert clock(ticket, "restoration").state == "no_promise"
    # a question is no defect: the workaround clock does not apply
    assert clock(ticket, "workaround").state == "not_applicable"

    # when on Saturday the agent asks at 11:00 and the partner answers at 12:00
    services.ticket_transition(
        ticket=ticket,
        actor=p.desk.agent1,
        status="in-progress",
        now=at("2024-12-28T10:30:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket,
        actor=p.desk.agent1,
        status="clarification",
        now=at("2024-12-28T11:00:00+03:00"),
    )
    assert clock(ticket, "consultation").state == "paused"
    services.ticket_reply(
        ticket=ticket,
        author=p.engineer,
        body="Скидка нужна только в магазине клиента",
        now=at("2024-12-28T12:00:00+03:00"),
    )
    # then 2 h were used (Fri 18–19, Sat 10–11); 2 h left from 12:00 → Sat 14:00
    consultation = clock(ticket, "consultation")
    assert (consultation.state, consultation.consumed) == ("running", timedelta(hours=2))
    assert consultation.due_at == at("2024-12-28T14:00:00+03:00")
    # 80 % of 4 h = 3 h 12 min: 2 h, then 1 h 12 min from 12:00 → 13:12
    assert consultation.warn_at == at("2024-12-28T13:12:00+03:00")
    report = sla_sweep(now=at("2024-12-28T13:20:00+03:00"))
    assert (report.warnings, report.breaches) == (1, 0)

    # when the expert answers at 13:30 and the request is done at 13:45
    services.ticket_reply(
        ticket=ticket,
        author=p.desk.agent1,
        body="Настройте скидку в карточке магазина",
        now=at("2024-12-28T13:30:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket,
        actor=p.desk.agent1,
        status="done",
        resolution="consulted",
        now=at("2024-12-28T13:45:00+03:00"),
    )
    # then the consultation is met with 3 h 30 min used (2 h + 12:00–13:30)
    consultation = clock(ticket, "consultation")
    assert (consultation.state, consultation.consumed) == (
        "met",
        timedelta(hours=3, minutes=30),
    )
    assert sla_sweep(now=at("2025-01-10T12:00:00+03:00")).breaches == 0


def test_r2_3_the_free_tariff_waits_24_working_hours_across_the_new_year() -> None:
    # given a free partner's question of Friday 2024-12-27 18:00
    p = partner_desk("free")
    ticket = services.ticket_create(
        actor=p.engineer,
        organisation=p.client,
        subject="Вопрос по выгрузке цен",
        type="consultation",
        now=at("2024-12-27T18:00:00+03:00"),
    )
    # then R2.2 free «Круглосуточная регистрация заявки до 30 мин.»: due 18:30
    assert clock(ticket, "registration").due_at == at("2024-12-27T18:30:00+03:00")
    # R2.3 free «до 24 ч.» in working hours (the file's reading): Fri 18–19 (1 h), Sat 28
    # 10–19 (9 h), then Mon 30, Tue 31 and 1–8 January are off, Thu 9 Jan 10–19 (9 h),
    # Fri 10 Jan 10–15 (5 h) = 24 h → Fri 2025-01-10 15:00
    assert clock(ticket, "consultation").due_at == at("2025-01-10T15:00:00+03:00")


def test_r2_3_critical_consultation_counts_around_the_clock() -> None:
    # given a partner's ordinary question on Sunday 2024-12-29 at 03:00
    p = partner_desk("expert")
    ticket = services.ticket_create(
        actor=p.engineer,
        organisation=p.client,
        subject="В магазине клиента не работают кассы",
        type="defect",
        now=at("2024-12-29T03:00:00+03:00"),
    )
    # then a medium request counts in working hours: Mon 30 and Tue 31 December and 1–8
    # January are off, so 4 h are Thu 2025-01-09 10–14
    assert ticket.priority == "medium"
    assert clock(ticket, "consultation").due_at == at("2025-01-09T14:00:00+03:00")

    # when the agent learns at 03:20 that over half of the client's registers stopped
    services.ticket_update(
        ticket=ticket,
        actor=p.desk.agent1,
        category="registers-stopped",
        priority="critical",
        reason="Стоят 6 касс из 8",
        now=at("2024-12-29T03:20:00+03:00"),
    )
    # then R2.3 «Если у клиента остановятся критичные бизнес-процессы, вы получите
    # консультацию в течение 2 часов»; table «(до 2 ч. круглосуточно)»: Sun 03:00 + 2 h
    consultation = clock(ticket, "consultation")
    assert (consultation.calendar, consultation.due_at) == (
        "around-the-clock",
        at("2024-12-29T05:00:00+03:00"),
    )
    assert consultation.consumed == timedelta(minutes=20)
    # «Время обработки заявок … круглосуточная консультация до 2 ч.»: no processing promise
    assert clock(ticket, "processing").state == "no_promise"
    priority_change = TicketEvent.objects.get(
        ticket=ticket, kind=Kind.CHANGED, data__field="priority"
    )
    assert (priority_change.actor, priority_change.data["old"], priority_change.data["new"]) == (
        p.desk.agent1,
        "medium",
        "critical",
    )

    # when the expert answers at 04:15
    services.ticket_reply(
        ticket=ticket,
        author=p.desk.agent1,
        body="Перезапустите сервер магазина, инструкция во вложении",
        now=at("2024-12-29T04:15:00+03:00"),
    )
    # then the consultation is met after 1 h 15 min of real time
    consultation = clock(ticket, "consultation")
    assert (consultation.state, consultation.consumed) == (
        "met",
        timedelta(hours=1, minutes=15),
    )


def test_r2_7_expert_workaround_within_3_working_days_free_gets_none() -> None:
    # given a defect of an expert partner's client, confirmed Friday 2024-12-27 16:00
    p = partner_desk("expert")
    ticket = services.ticket_create(
        actor=p.engineer,
        organisation=p.client,
        subject="Ошибка в отчёте по сменам",
        type="defect",
        now=at("2024-12-27T11:00:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket,
        actor=p.desk.agent1,
        status="in-progress",
        now=at("2024-12-27T11:30:00+03:00"),
    )
    services.ticket_transition(
        ticket=ticket,
        actor=p.desk.agent2,
        status="reproducing",
        now=at("2024-12-27T12:00:00+03:00"),
    )
    services.ticket_mark(
        ticket=ticket,
        actor=p.desk.agent2,
        milestone="defect_confirmed",
        now=at("2024-12-27T16:00:00+03:00"),
    )
    # then item 3 «в течение 3 рабочих дней предоставим обходное решение»: the working days
    # after Friday are Sat 28 December, then (Mon 30, Tue 31, 1–8 January off) Thu 9 and
    # Fri 10 January → Fri 2025-01-10 16:00
    assert clock(ticket, "workaround").due_at == at("2025-01-10T16:00:00+03:00")

    # given the same on the free tariff, then «Бесплатный»: consultations only
    free = partner_desk("free")
    other = services.ticket_create(
        actor=free.engineer,
        organisation=free.client,
        subject="Ошибка в отчёте по сменам",
        type="defect",
        now=at("2024-12-27T11:00:00+03:00"),
    )
    services.ticket_mark(
        ticket=other,
        actor=free.desk.agent2,
        milestone="defect_confirmed",
        now=at("2024-12-27T16:00:00+03:00"),
    )
    assert clock(other, "workaround").state == "no_promise"
