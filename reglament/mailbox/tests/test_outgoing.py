"""Outgoing mail of the e-mail channel (issue 7, section 4 and the outgoing half of 3),
read back from a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import json
import re
import socket
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from reglament.accounts.models import Membership
from reglament.cli import main
from reglament.domain.mail.threads import number_from_address, number_from_message_id
from reglament.mailbox import outgoing
from reglament.mailbox.intake import inbound_process_pending, mail_secret
from reglament.mailbox.models import InboundMessage, MailAddressFailure, OutboundMessage
from reglament.mailbox.outgoing import outbound_scan_events, outbound_send_due
from reglament.mailbox.selectors import outbound_failed, outbound_for_ticket
from reglament.mailbox.tests.conftest import Outbox as SmtpServer
from reglament.mailbox.tests.intake_support import DOMAIN, Intake, intake, mail, reply_to
from reglament.sla.selectors import ticket_clocks
from reglament.sla.tests.workers import in_threads
from reglament.tickets import services as ticket_services
from reglament.tickets.models import Ticket, TicketEvent

REQUESTER = "requester@customer.test"
MSK = ZoneInfo("Europe/Moscow")
BODY = "Здравствуйте! Касса №3 не печатает чеки с утра. SECRET-BODY-MARKER"


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _language(user_email: str, language: str) -> None:
    Membership.objects.filter(user__email=user_email).update(language=language)


def _new_request(setup: Intake, *, sender: str = REQUESTER, **headers: str) -> Ticket:
    """The requester's mail stored and processed: a new request."""
    setup.store(
        mail(
            sender=sender,
            body=BODY,
            message_id=headers.pop("message_id", None),
            headers=headers or None,
        )
    )
    [outcome] = inbound_process_pending()
    assert outcome.outcome == "created", outcome
    return Ticket.objects.get(number=outcome.ticket)


# ------------------------------------------------------------- acknowledgement (R3.4)
@pytest.mark.django_db
def test_new_mail_is_acknowledged_with_number_timestamp_and_promises_not_the_body(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given the requester (Russian) writes to the support mailbox
    setup = intake()
    setup.store(
        mail(sender=f"Иван <{REQUESTER}>", body=BODY, message_id="<first.1@customer.example>")
    )

    # when the mail is processed and due mail is sent
    [outcome] = inbound_process_pending()
    sent = outbound_send_due()

    # then one acknowledgement went to the requester's registered address
    assert sent["sent"] == 1
    ticket = Ticket.objects.get(number=outcome.ticket)
    [(recipients, message)] = smtp_server.received
    assert recipients == [REQUESTER]
    # R3.4 «подтвердить получение, присвоить уникальный номер с отметкой времени»
    assert message["Subject"] == f"[{ticket.number}] Заявка зарегистрирована"
    text = _text(message)
    registered = ticket.registered_at.astimezone(MSK).strftime("%d.%m.%Y %H:%M")
    assert f"Ваша заявка зарегистрирована под номером {ticket.number}." in text
    assert f"Время регистрации: {registered} (MSK)." in text
    # the promised times: each running clock with a promise, due as the clocks say
    _regulation, states = ticket_clocks(ticket)
    promised = [s for s in states if s.target is not None and s.target.promise and s.due]
    assert promised
    for state in promised:
        assert state.due is not None
        due = state.due.astimezone(MSK)
        assert f"до {due.strftime('%d.%m.%Y %H:%M')} (MSK)" in text
    # never the customer's own words (no spam relay), neither in text nor in HTML
    assert "SECRET-BODY-MARKER" not in message.as_string()
    assert "Касса №3" not in _text(message) + _html(message)
    assert ticket.number in _html(message)
    # headers: our mailbox, the request's reply address, threading, RFC 3834
    assert message["From"] == f"support@{DOMAIN}"
    assert message["To"] == REQUESTER
    assert message["Reply-To"] == reply_to(ticket.number)
    assert number_from_address(message["Reply-To"], secret=mail_secret()) == ticket.number
    assert message["In-Reply-To"] == "<first.1@customer.example>"
    assert message["References"] == "<first.1@customer.example>"
    assert number_from_message_id(message["Message-ID"], secret=mail_secret()) == ticket.number
    assert message["Auto-Submitted"] == "auto-replied"
    assert message[settings.REGLAMENT_MAIL_LOOP_HEADER] == "1"
    assert message["X-Reglament-Ticket"] == ticket.number
    row = OutboundMessage.objects.get()
    assert (row.kind, row.state, row.attempts, row.to_address) == (
        "acknowledgement",
        "sent",
        1,
        REQUESTER,
    )
    assert f"<{row.message_id}>" == message["Message-ID"]


@pytest.mark.django_db
def test_the_acknowledgement_is_in_english_for_an_english_speaking_requester(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given the requester reads English
    setup = intake()
    _language(REQUESTER, "en")

    # when they write and the mail is sent
    ticket = _new_request(setup)
    outbound_send_due()

    # then the acknowledgement is English, the regulation's metric titles too
    [(_to, message)] = smtp_server.received
    assert message["Subject"] == f"[{ticket.number}] Your request is registered"
    text = _text(message)
    assert f"Your request is registered as {ticket.number}." in text
    assert "What we promise for this request:" in text
    assert "Здравствуйте" not in text


@pytest.mark.django_db
def test_a_reply_to_spoofed_mail_goes_only_to_the_registered_address(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given mail From the customer whose Reply-To names an attacker (GitLab-style)
    setup = intake()

    # when it is processed and sent
    _new_request(setup, **{"Reply-To": "attacker@evil.example"})
    outbound_send_due()

    # then the acknowledgement goes to the customer's registered address only
    assert [to for recipients, _m in smtp_server.received for to in recipients] == [REQUESTER]
    assert "attacker@evil.example" not in smtp_server.received[0][1].as_string()


@pytest.mark.django_db
def test_an_out_of_office_reply_to_our_acknowledgement_gets_no_answer(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a request acknowledged by mail
    setup = intake()
    ticket = _new_request(setup)
    outbound_send_due()
    [(_to, ack)] = smtp_server.received

    # when the requester's out-of-office answers our acknowledgement
    setup.store(
        mail(
            sender=REQUESTER,
            to=ack["Reply-To"],
            subject=f"Автоответ: {ack['Subject']}",
            body="Я в отпуске до понедельника.",
            in_reply_to=ack["Message-ID"],
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    [outcome] = inbound_process_pending()
    scan = outbound_scan_events()
    outbound_send_due()

    # then it is a note on the request, and nothing more is sent: no loop
    assert (outcome.outcome, outcome.ticket) == ("recorded", ticket.number)
    assert (scan.queued, scan.skipped) == (0, 0)
    assert len(smtp_server.received) == 1
    assert OutboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_automatic_mail_that_opens_nothing_gets_no_instructions(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a mailbox answering unknown senders with instructions
    setup = intake(unknown_sender="instructions")

    # when an unknown sender's vacation responder writes, and a real unknown person
    setup.store(mail(sender="robot@else.example", headers={"Auto-Submitted": "auto-replied"}))
    setup.store(mail(sender="stranger@else.example"))
    inbound_process_pending()
    outbound_send_due()

    # then only the person gets the instructions, in Russian and English
    [(recipients, message)] = smtp_server.received
    assert recipients == ["stranger@else.example"]
    assert message["Subject"] == "Как обратиться в поддержку / How to contact support"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Reply-To"] is None
    text = _text(message)
    assert "не нашли ваш адрес среди зарегистрированных пользователей" in text
    assert "your address is not one of our registered users" in text
    assert "SECRET" not in text
    assert OutboundMessage.objects.get().to_address == "stranger@else.example"


@pytest.mark.django_db
def test_a_rejected_oversized_message_gets_a_notice_unless_it_was_automatic(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given two messages over the mailbox's limit, one of them from a mailer daemon
    setup = intake()
    for sender in (REQUESTER, "MAILER-DAEMON@customer.test"):
        row = setup.store(mail(sender=sender, body="x" * 200))
        InboundMessage.objects.filter(pk=row.pk).update(
            state="rejected", error="The message is 9000000 bytes", size=9_000_000
        )

    # when processed and sent
    inbound_process_pending()
    outbound_send_due()

    # then the person gets a bounce-safe notice; the daemon gets nothing, recorded why
    [(recipients, message)] = smtp_server.received
    assert recipients == [REQUESTER]
    assert message["Subject"] == "Письмо слишком большое / Your message is too large"
    assert message["Auto-Submitted"] == "auto-replied"
    assert "8.6 MiB" in _text(message)
    skipped = OutboundMessage.objects.get(state="skipped")
    assert skipped.kind == "too_large"
    assert skipped.skip_reason.startswith("No automatic reply to automatic mail")


@pytest.mark.django_db
def test_a_failing_address_is_skipped_with_the_reason(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a delivery report said mail to the requester fails
    now = timezone.now()
    MailAddressFailure.objects.create(
        address=REQUESTER, first_failed_at=now, last_failed_at=now, last_status="5.1.1"
    )
    setup = intake()

    # when they open a request by mail
    ticket = _new_request(setup)
    outbound_send_due()

    # then nothing is sent; the request's mail says why
    assert smtp_server.received == []
    [row] = outbound_for_ticket(ticket_id=ticket.pk)
    assert row.state == "skipped"
    assert row.skip_reason == (f"Mail to {REQUESTER} failed before (a delivery report); not sent.")


@pytest.mark.django_db
@override_settings(REGLAMENT_MAIL_AUTO_REPLY_PER_SENDER_HOUR=5)
def test_the_rate_limit_stops_the_sixth_acknowledgement_to_one_sender(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given six mails from the requester within an hour
    setup = intake()
    for n in range(6):
        setup.store(mail(sender=REQUESTER, subject=f"Заявка {n}"))

    # when processed and sent
    outcomes = inbound_process_pending()
    outbound_send_due()

    # then six requests, five acknowledgements; the sixth recorded as skipped
    assert [o.outcome for o in outcomes] == ["created"] * 6
    assert len(smtp_server.received) == 5
    states = list(OutboundMessage.objects.order_by("pk").values_list("state", flat=True))
    assert states == ["sent"] * 5 + ["skipped"]
    last = OutboundMessage.objects.order_by("pk").last()
    assert last is not None
    assert last.skip_reason == (
        f"Rate limit: 5 automatic replies to {REQUESTER} within an hour already."
    )


@pytest.mark.django_db
@override_settings(REGLAMENT_MAIL_AUTO_REPLY_PER_MAILBOX_HOUR=2)
def test_the_mailbox_rate_limit_counts_every_sender(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a mailbox allowed two automatic replies an hour; three unknown senders
    setup = intake(unknown_sender="instructions")
    for n in range(3):
        setup.store(mail(sender=f"stranger{n}@else.example"))

    # when processed and sent
    inbound_process_pending()
    outbound_send_due()

    # then two instructions go out, the third is skipped
    assert len(smtp_server.received) == 2
    assert OutboundMessage.objects.filter(state="skipped").get().skip_reason == (
        f"Rate limit: 2 automatic replies from support@{DOMAIN} within an hour already."
    )


# --------------------------------------------------------- replies, clarification, closure
def _agent_reply(ticket: Ticket, agent_email: str, body: str) -> None:
    from django.contrib.auth.models import User

    agent = User.objects.get(email=agent_email)
    ticket_services.ticket_reply(ticket=ticket, author=agent, body=body, public=True)


@pytest.mark.django_db
def test_an_agents_public_reply_is_mailed_to_the_requester_in_the_thread(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a request opened by mail and acknowledged; an internal note too
    setup = intake()
    ticket = _new_request(setup, message_id="<open.7@customer.example>")
    outbound_send_due()
    [(_to, ack)] = smtp_server.received
    agent = setup.desk.agent1
    ticket_services.ticket_reply(
        ticket=ticket, author=agent, body="Внутренняя заметка", public=False
    )

    # when an agent replies publicly with a file, and the event scan runs
    ticket_services.ticket_reply(
        ticket=ticket,
        author=agent,
        body="Проверьте, пожалуйста, бумагу в кассе.",
        public=True,
        uploads=[
            ticket_services.Upload(
                name="Инструкция.pdf", content=b"%PDF-1", content_type="application/pdf"
            )
        ],
    )
    scan = outbound_scan_events()
    outbound_send_due()

    # then the requester gets the reply (not the note), threaded under the acknowledgement
    assert (scan.queued, scan.skipped) == (1, 0)
    assert len(smtp_server.received) == 2
    recipients, reply = smtp_server.received[1]
    assert recipients == [REQUESTER]
    assert reply["Subject"] == f"[{ticket.number}] {ticket.subject}"
    text = _text(reply)
    assert "Проверьте, пожалуйста, бумагу в кассе." in text
    assert "Инструкция.pdf" in text
    assert "Внутренняя заметка" not in reply.as_string()
    assert reply["In-Reply-To"] == ack["Message-ID"].strip()
    assert reply["References"] == f"<open.7@customer.example> {ack['Message-ID']}"
    assert reply["Reply-To"] == reply_to(ticket.number)
    assert reply["Auto-Submitted"] is None  # a person's words, not a machine's
    # and a second scan sends nothing again
    assert outbound_scan_events().queued == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        ("ru", "Нужны уточнения по заявке", "Чтобы продолжить работу по заявке"),
        ("en", "We need more information", "To go on with request"),
    ],
)
def test_clarification_is_requested_by_mail_in_the_requesters_language(
    language: str, subject: str, line: str, smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a request opened by mail, the requester reads `language`
    setup = intake()
    _language(REQUESTER, language)
    ticket = _new_request(setup)

    # when the agent moves it to Clarification with a question (R3.7)
    ticket_services.ticket_transition(
        ticket=ticket,
        actor=setup.desk.agent1,
        status="clarification",
        comment="Какая модель кассы?",
    )
    outbound_scan_events()
    outbound_send_due()

    # then the requester is asked, in their language, threaded to the request
    ack, clarification = (m for _r, m in smtp_server.received)
    assert clarification["Subject"] == f"[{ticket.number}] {subject}"
    assert line in _text(clarification)
    assert "Какая модель кассы?" in _text(clarification)
    assert clarification["Auto-Submitted"] == "auto-generated"
    assert clarification["In-Reply-To"] == ack["Message-ID"].strip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject", "resolution"),
    [
        ("ru", "Заявка закрыта: Выполнено", "Резолюция: Решена."),
        ("en", "Request closed: Done", "Resolution: Solved."),
    ],
)
def test_the_closure_notice_goes_to_the_address_in_the_request(
    language: str, subject: str, resolution: str, smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a request opened by mail
    setup = intake()
    _language(REQUESTER, language)
    ticket = _new_request(setup)

    # when the agent closes it with a resolution (R3.8)
    ticket_services.ticket_transition(
        ticket=ticket, actor=setup.desk.agent1, status="done", resolution="solved"
    )
    outbound_scan_events()
    outbound_send_due()

    # then the closure notice goes to the requester's address with the resolution
    # R3.8 «Уведомление о закрытии по электронной почте на адрес, указанный в заявке»
    recipients, closure = smtp_server.received[-1]
    assert recipients == [REQUESTER]
    assert closure["Subject"] == f"[{ticket.number}] {subject}"
    assert resolution in _text(closure)


@pytest.mark.django_db
def test_the_customer_s_watchers_get_replies_questions_and_the_closure_too(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a request opened by mail, watched by the customer admin and by an agent
    setup = intake()
    ticket = _new_request(setup)
    admin = setup.desk.customer_admin
    for watcher in (admin, setup.desk.agent2):
        ticket_services.ticket_watch(ticket=ticket, actor=setup.desk.agent1, watcher=watcher)
    outbound_scan_events()
    outbound_send_due()
    smtp_server.received.clear()  # the acknowledgement: the requester's alone

    # when the agent replies, asks for details, and after the answer closes it
    _agent_reply(ticket, setup.desk.agent1.email, "Проверьте бумагу.")
    ticket_services.ticket_transition(
        ticket=ticket, actor=setup.desk.agent1, status="clarification", comment="Какая касса?"
    )
    ticket_services.ticket_reply(
        ticket=ticket, author=setup.desk.requester, body="Касса №3.", public=True
    )
    ticket_services.ticket_transition(
        ticket=ticket, actor=setup.desk.agent1, status="done", resolution="solved"
    )
    outbound_scan_events()
    outbound_send_due()

    # then each letter goes to the requester and the customer admin, never to staff
    sent = [(recipients, str(message["Subject"])) for recipients, message in smtp_server.received]
    subjects = [
        f"[{ticket.number}] {ticket.subject}",
        f"[{ticket.number}] Нужны уточнения по заявке",
        f"[{ticket.number}] Заявка закрыта: Выполнено",
    ]
    assert sorted(sent) == sorted(
        ([to], subject) for subject in subjects for to in (REQUESTER, admin.email)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("closer", "told"),
    [("requester", [REQUESTER, "admin"]), ("customer_admin", [REQUESTER])],
)
def test_whoever_closes_the_requester_is_told_and_a_watcher_who_closed_is_not(
    closer: str, told: list[str], smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a request opened by mail and watched by the customer admin
    setup = intake()
    ticket = _new_request(setup)
    admin = setup.desk.customer_admin
    ticket_services.ticket_watch(ticket=ticket, actor=admin, watcher=admin)
    outbound_scan_events()
    outbound_send_due()
    smtp_server.received.clear()
    # when the requester, or the watching admin, closes it (R3.8, CERA allows it)
    ticket_services.ticket_close_by_requester(ticket=ticket, actor=getattr(setup.desk, closer))
    outbound_scan_events()
    outbound_send_due()
    # then the requester gets the notice at the address in the request, even of their
    # own closing; the admin only when someone else closed it
    expected = [admin.email if who == "admin" else who for who in told]
    assert sorted(r[0] for r, _m in smtp_server.received) == sorted(expected)


@pytest.mark.django_db
def test_a_request_filed_in_the_portal_is_acknowledged_from_the_desk_address(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a desk with a mailbox; the requester files in the portal
    setup = intake()
    ticket = ticket_services.ticket_create(
        actor=setup.desk.requester, subject="Вопрос по отчёту", description=BODY
    )

    # when the event scan runs and mail is sent
    scan = outbound_scan_events()
    outbound_send_due()

    # then an acknowledgement (auto-generated: nobody wrote to us by mail) from the
    # desk's address, replies still threading through the mailbox's token address
    assert scan.queued == 1
    [(recipients, message)] = smtp_server.received
    assert recipients == [REQUESTER]
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Reply-To"] == reply_to(ticket.number)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == f"[{ticket.number}] Заявка зарегистрирована: Вопрос по отчёту"
    assert "SECRET-BODY-MARKER" not in message.as_string()


@pytest.mark.django_db
def test_events_before_outgoing_mail_existed_are_never_mailed(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a request filed, then the cursor placed after it (as the migration does)
    from reglament.mailbox.models import OutboundCursor

    setup = intake()
    ticket_services.ticket_create(actor=setup.desk.requester, subject="Старая заявка")
    last = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert last is not None
    OutboundCursor.objects.update_or_create(
        name="ticket-events", defaults={"last_event_id": last, "floor_event_id": last}
    )

    # when the scan runs
    scan = outbound_scan_events()

    # then nothing is queued
    assert (scan.queued, scan.skipped) == (0, 0)
    assert OutboundMessage.objects.count() == 0


@pytest.mark.django_db
def test_a_late_committed_event_behind_the_mark_is_still_mailed(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given the scan's mark moved past an event it did not see (its transaction
    # committed after a later one)
    from reglament.mailbox.models import OutboundCursor

    setup = intake()
    ticket = ticket_services.ticket_create(actor=setup.desk.requester, subject="Поздняя")
    created = TicketEvent.objects.get(ticket=ticket, kind="created")
    OutboundCursor.objects.update_or_create(
        name="ticket-events", defaults={"last_event_id": created.pk + 5, "floor_event_id": 0}
    )

    # when the scan runs
    scan = outbound_scan_events()

    # then the event is mailed about once
    assert scan.queued == 1
    assert outbound_scan_events().queued == 0


# ------------------------------------------------------------------- SMTP down
def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db
@override_settings(REGLAMENT_MAIL_SEND_ATTEMPTS=3, REGLAMENT_MAIL_SEND_RETRY_SECONDS=60)
def test_smtp_down_queues_retries_with_backoff_then_fails_visibly(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given a request opened by mail while nothing listens on the SMTP port
    setup = intake()
    down = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _closed_port(), "timeout": 5},
        }
    }
    with override_settings(MAILERS=down):
        ticket = _new_request(setup)
        start = timezone.now()

        # when sending is tried now, again before the backoff, then after it
        first = outbound_send_due(now=start)
        early = outbound_send_due(now=start + timedelta(seconds=30))
        second = outbound_send_due(now=start + timedelta(seconds=61))
        row = OutboundMessage.objects.get()
        # then it waits 60 s, then 240 s (four times as long)
        assert row.next_attempt_at == start + timedelta(seconds=61 + 240)
        third = outbound_send_due(now=start + timedelta(seconds=61 + 240))

    # then queued after each failure but the last, failed after the third attempt
    assert (first, early, second) == (
        {"sent": 0, "queued": 1, "failed": 0},
        {"sent": 0, "queued": 0, "failed": 0},
        {"sent": 0, "queued": 1, "failed": 0},
    )
    assert third == {"sent": 0, "queued": 0, "failed": 1}
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 3)
    assert "ConnectionRefusedError" in row.last_error
    # visible: the selectors and the request's event log
    assert [r.pk for r in outbound_failed(ticket_id=ticket.pk)] == [row.pk]
    assert [r.state for r in outbound_for_ticket(ticket_id=ticket.pk)] == ["failed"]
    event = TicketEvent.objects.get(ticket=ticket, kind="mail_failed")
    assert event.public is False
    assert (event.data["mail"], event.data["address"], event.data["attempts"]) == (
        "acknowledgement",
        REQUESTER,
        3,
    )
    assert smtp_server.received == []


@pytest.mark.django_db
def test_the_outbox_command_lists_a_failed_message_and_resend_delivers_it(
    smtp_server: SmtpServer, mail_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an acknowledgement that failed for good while the SMTP port was closed
    setup = intake()
    down = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _closed_port(), "timeout": 5},
        }
    }
    with override_settings(MAILERS=down, REGLAMENT_MAIL_SEND_ATTEMPTS=1):
        ticket = _new_request(setup)
        outbound_send_due(now=timezone.now())
    row = OutboundMessage.objects.get()
    assert row.state == "failed"
    capsys.readouterr()
    # when support lists what failed
    assert main(["mailbox", "outbox", "--failed", "--json"]) == 0
    # then the message, its request and the error
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["state"], listed["ticket"]) == (row.pk, "failed", ticket.number)
    assert "ConnectionRefusedError" in listed["why"]
    # when they send it again once the server is back
    assert main(["mailbox", "resend", str(row.pk)]) == 0
    assert outbound_send_due(now=timezone.now()) == {"sent": 1, "queued": 0, "failed": 0}
    # then it is delivered, and resending a sent message is refused with the reason
    assert len(smtp_server.received) == 1
    capsys.readouterr()
    assert main(["mailbox", "resend", str(row.pk)]) == 2
    assert "only a failed message" in capsys.readouterr().err
    assert main(["mailbox", "outbox", "--ticket", "NOPE-2026-000001"]) == 1


@pytest.mark.django_db
def test_a_letter_that_cannot_be_written_fails_visibly_and_resend_writes_it_again(
    smtp_server: SmtpServer,
    mail_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a request opened by mail and acknowledged, and the reply template broken
    setup = intake()
    ticket = _new_request(setup)
    outbound_scan_events()
    outbound_send_due()
    real = outgoing._render

    def broken(kind: str, language: str, context: dict[str, object]) -> tuple[str, str, str]:
        if kind == "reply":
            raise ValueError("the template mailbox/mail/ru/reply.txt is broken")
        return real(kind, language, context)

    monkeypatch.setattr(outgoing, "_render", broken)

    # when an agent replies and the scan runs
    _agent_reply(ticket, setup.desk.agent1.email, "Проверьте бумагу.")
    scan = outbound_scan_events()
    outbound_send_due()

    # then the reply is a failed row with the reason, recorded on the request, not sent
    row = OutboundMessage.objects.get(kind="reply")
    assert (row.state, row.message_id) == ("failed", "")
    assert "could not be written" in row.last_error
    assert "reply.txt is broken" in row.last_error
    assert TicketEvent.objects.filter(ticket=ticket, kind="mail_failed").count() == 1
    assert scan.queued == 0
    assert len(smtp_server.received) == 1  # the acknowledgement only
    # and a second scan neither writes it twice nor forgets it
    outbound_scan_events()
    assert OutboundMessage.objects.filter(kind="reply").count() == 1

    # when the template is fixed and support resends it
    monkeypatch.undo()
    capsys.readouterr()
    assert main(["mailbox", "resend", str(row.pk)]) == 0
    outbound_send_due()

    # then it is written and delivered to the requester
    recipients, reply = smtp_server.received[-1]
    assert recipients == [REQUESTER]
    assert "Проверьте бумагу." in _text(reply)
    row.refresh_from_db()
    assert (row.state, row.last_error) == ("sent", "")


@pytest.mark.django_db
def test_a_refusing_server_is_retried_and_the_message_goes_out_once_it_accepts(
    smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given the SMTP server answers 451 for now
    setup = intake()
    smtp_server.refuse = True
    _new_request(setup)
    start = timezone.now()
    assert outbound_send_due(now=start) == {"sent": 0, "queued": 1, "failed": 0}

    # when it accepts again and the retry is due
    smtp_server.refuse = False
    result = outbound_send_due(now=start + timedelta(minutes=2))

    # then the acknowledgement is delivered once
    assert result == {"sent": 1, "queued": 0, "failed": 0}
    assert len(smtp_server.received) == 1
    row = OutboundMessage.objects.get()
    assert (row.state, row.attempts) == ("sent", 2)
    assert re.search(r"451", row.last_error) is None  # cleared once sent


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_at_once_send_each_message_once(
    shared_database: str, smtp_server: SmtpServer, mail_dir: Path
) -> None:
    # given 20 acknowledgements queued (20 senders, within the rate limit)
    setup = intake(unknown_sender="triage")
    if connections["default"].vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite runs one writer")
    for n in range(20):
        setup.store(mail(sender=f"customer{n}@else.example"))
    inbound_process_pending()
    assert OutboundMessage.objects.filter(state="queued").count() == 20
    # when two workers send at the same time
    results = in_threads(outbound_send_due, count=2)

    # then each message went out exactly once
    assert results[0]["sent"] + results[1]["sent"] == 20
    recipients = sorted(to for rcpts, _m in smtp_server.received for to in rcpts)
    assert recipients == sorted(f"customer{n}@else.example" for n in range(20))
    assert set(OutboundMessage.objects.values_list("state", "attempts")) == {("sent", 1)}
