"""Warning and breach mail, sent through a real SMTP server on 127.0.0.1."""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import PersonFactory
from reglament.sla.services import sla_sweep
from reglament.sla.tasks import clock_event_notify
from reglament.sla.tests.conftest import Mailbox
from reglament.sla.tests.factories import BREACH, REGISTERED, SWEEP_AT, WARNING, msk
from reglament.sla.tests.workers import free_port
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import Desk, desk


@dataclass
class Breached:
    desk: Desk
    ticket: Ticket
    event: TicketEvent  # the breach of the processing clock (R1.5: 2 h, due Mon 12:00)


def _line_one_agent(username: str, *, email: str, language: str = "ru") -> User:
    vendor = Membership.objects.get(user__username="agent1").organisation
    return PersonFactory.create(
        username=username,
        organisation=vendor,
        role=Membership.Role.AGENT,
        line=1,
        email=email,
        language=language,
    )


def _breached() -> Breached:
    """A SET Retail premium critical request on line 1, its three clocks breached.

    Line 1 has agent1 (the assignee, Russian), lena (English), pasha (no email)
    and a former agent whose account is disabled; the contract has a personal
    service manager (R1.1).
    """
    retail = desk("set-retail", "premium", service_manager=True)
    _line_one_agent("lena", email="lena@vendor.test", language="en")
    _line_one_agent("pasha", email="")
    former = _line_one_agent("former", email="former@vendor.test")
    former.is_active = False
    former.save()
    ticket = services.ticket_create(
        actor=retail.agent1,
        requester=retail.requester,
        subject="Кассы не пробивают чеки",
        channel="phone",
        type="defect",
        priority="critical",
        category="registers-stopped",
        assignee=retail.agent1,
        now=REGISTERED,
    )
    sla_sweep(now=SWEEP_AT)
    event = TicketEvent.objects.get(ticket=ticket, kind=BREACH, data__metric="processing")
    return Breached(desk=retail, ticket=ticket, event=event)


@pytest.mark.django_db
def test_a_breach_mails_the_assignee_the_lines_agents_and_the_service_manager_once_each(
    smtp_server: Mailbox,
) -> None:
    # given
    breached = _breached()
    ticket = breached.ticket
    # when
    sent = clock_event_notify.call(event_id=breached.event.pk)
    # then: one message each; not pasha (no email), not the disabled account,
    # not line 2 or 3, not the customer; agent1 is assignee and line agent, once
    assert sent == 3
    assert sorted(to for recipients, _ in smtp_server.received for to in recipients) == [
        "agent1@vendor.test",
        "lena@vendor.test",
        "manager@vendor.test",
    ]
    mail = smtp_server.by_recipient()
    # English for lena, the due time in the metric's calendar zone (Moscow)
    english = mail["lena@vendor.test"]
    assert english["Subject"] == (
        f"[{ticket.number}] Deadline missed: Processing time was due 03.03.2025 12:00 (MSK)"
    )
    assert english.get_content() == (
        "The deadline for “Processing time” passed at 03.03.2025 12:00 (MSK).\n"
        "\n"
        f"Request: {ticket.number} — Кассы не пробивают чеки\n"
        f"Organisation: {ticket.organisation.name}\n"
        "Priority: critical, line 1\n"
        "Assignee: agent1\n"
        "\n"
        f"http://127.0.0.1:8000/api/v1/tickets/{ticket.number}\n"
    )
    # Russian for the others: the regulation's Russian metric title, the same
    # number and due time (the sentence around them follows the catalogue)
    for address in ("agent1@vendor.test", "manager@vendor.test"):
        subject = mail[address]["Subject"]
        assert subject.startswith(f"[{ticket.number}] ")
        assert subject.endswith("03.03.2025 12:00 (MSK)")
        assert "Время обработки заявки" in subject
        assert "Processing time" not in subject
    # machine-made mail, so vacation responders stay quiet (RFC 3834)
    for address, message in mail.items():
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Reglament-Ticket"] == ticket.number
        assert message["From"] == settings.DEFAULT_FROM_EMAIL
        assert message["To"] == address


@pytest.mark.django_db
def test_a_warning_mail_says_when_the_deadline_is(smtp_server: Mailbox) -> None:
    # given: a CERA high request on line 1 warned Tuesday 13:00, due 16:00 (R3.6: 15 h)
    cera = desk("cera", "standard")
    _line_one_agent("lena", email="lena@vendor.test", language="en")
    ticket = services.ticket_create(
        actor=cera.requester, subject="Отчёт не строится", priority="high", now=REGISTERED
    )
    sla_sweep(now=SWEEP_AT)
    warning = TicketEvent.objects.get(ticket=ticket, kind=WARNING)
    # when
    sent = clock_event_notify.call(event_id=warning.pk)
    # then: agent1 and lena, the line's agents (no assignee, no service manager)
    assert sent == 2
    english = smtp_server.by_recipient()["lena@vendor.test"]
    assert english["Subject"] == (
        f"[{ticket.number}] Deadline approaching: Resolution time is due 04.03.2025 16:00 (MSK)"
    )
    assert english.get_content().splitlines()[0] == (
        "“Resolution time” is due at 04.03.2025 16:00 (MSK); most of the time is used."
    )
    assert warning.data["at"] == msk("2025-03-04T13:00:00").isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["closed", "out of scope"])
def test_no_mail_for_a_request_closed_or_out_of_scope_since_the_breach(
    change: str, smtp_server: Mailbox
) -> None:
    # given: a breach whose mail is still queued, and the request changed since
    breached = _breached()
    agent, ticket = breached.desk.agent1, breached.ticket
    if change == "closed":
        services.ticket_transition(
            ticket=ticket, actor=agent, status="done", resolution="solved", now=SWEEP_AT
        )
    else:
        services.ticket_set_out_of_scope(
            ticket=ticket, actor=agent, item="hardware-os-dbms", reason="Сервер", now=SWEEP_AT
        )
    # when
    sent = clock_event_notify.call(event_id=breached.event.pk)
    # then: nothing to act on, nothing sent
    assert sent == 0
    assert smtp_server.received == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["refuses", "is down"])
def test_a_failing_smtp_server_fails_the_task_so_the_queue_records_it(
    server: str, smtp_server: Mailbox
) -> None:
    # given: three breaches with mail queued, and an SMTP server that refuses
    # every message (451) or does not listen at all
    _breached()
    smtp_server.refuse = True
    down = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 5},
        }
    }
    mailers = down if server == "is down" else settings.MAILERS
    # when: a worker runs the queue
    with override_settings(MAILERS=mailers):
        call_command("db_worker", batch=True, reload=False, worker_id="host:1", verbosity=0)
    # then: each mail task failed, with the error, rather than being dropped silently
    results = DBTaskResult.objects.filter(task_path=clock_event_notify.module_path)
    expected_error = (
        "smtplib.SMTPDataError" if server == "refuses" else "builtins.ConnectionRefusedError"
    )
    assert (
        sorted(results.values_list("status", "exception_class_path"))
        == [(TaskResultStatus.FAILED, expected_error)] * 3
    )
    assert smtp_server.received == []
