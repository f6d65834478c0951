"""A request opened, followed, answered and closed entirely by e-mail (issue 7, "done
when"): the customer's mail goes through a real Dovecot, our mail through a real SMTP
server (aiosmtpd), and the worker's mail tick does everything in between."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from reglament.accounts.models import Membership
from reglament.mailbox.models import InboundMessage, OutboundMessage
from reglament.mailbox.tasks import mail_poll_tick
from reglament.mailbox.tests.conftest import MailboxFactory, Outbox
from reglament.mailbox.tests.dovecot import Dovecot
from reglament.mailbox.tests.intake_support import mail
from reglament.sla.selectors import ticket_clocks
from reglament.tickets import services as ticket_services
from reglament.tickets.models import Comment, Ticket
from reglament.tickets.tests.factories import desk

REQUESTER = "requester@customer.test"


def _plain(message: object) -> str:
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "ack", "question", "closed"),
    [
        ("ru", "Заявка зарегистрирована", "Нужны уточнения по заявке", "Заявка закрыта"),
        ("en", "Your request is registered", "We need more information", "Request closed"),
    ],
)
def test_a_customer_opens_follows_answers_and_closes_a_request_by_mail(
    language: str,
    ack: str,
    question: str,
    closed: str,
    dovecot: Dovecot,
    imap_mailbox: MailboxFactory,
    smtp_server: Outbox,
    mail_dir: Path,
) -> None:
    # given a desk whose mailbox polls a Dovecot folder; the requester reads `language`
    d = desk("cera", "standard")
    Membership.objects.filter(user=d.requester).update(language=language)
    mailbox = imap_mailbox()
    agent = d.agent1

    # when the customer writes a new mail and the worker's tick runs
    dovecot.append(
        mailbox.folder,
        mail(
            sender=f"Иван <{REQUESTER}>",
            to=mailbox.address,
            subject="Касса не печатает чеки",
            body="Касса №3 не печатает чеки.",
            message_id="<journey.1@customer.example>",
        ),
    )
    report = mail_poll_tick.call()

    # then a request is opened and acknowledged (R3.4), threaded to their mail
    assert (report["stored"], report["processed"], report["mail_sent"]) == (1, 1, 1)
    ticket = Ticket.objects.get()
    [(recipients, acknowledgement)] = smtp_server.received
    assert recipients == [REQUESTER]
    assert acknowledgement["Subject"] == f"[{ticket.number}] {ack}"
    assert acknowledgement["In-Reply-To"] == "<journey.1@customer.example>"
    assert acknowledgement["From"] == mailbox.address
    assert acknowledgement["Auto-Submitted"] == "auto-replied"
    assert acknowledgement[settings.REGLAMENT_MAIL_LOOP_HEADER] == "1"
    assert "Касса №3" not in _plain(acknowledgement)

    # when the agent takes it and asks for clarification (R3.7)
    ticket_services.ticket_transition(ticket=ticket, actor=agent, status="in-progress")
    ticket_services.ticket_transition(
        ticket=ticket, actor=agent, status="clarification", comment="Какая модель кассы?"
    )
    mail_poll_tick.call()

    # then the customer is asked by mail, in the thread
    assert len(smtp_server.received) == 2
    _to, clarification = smtp_server.received[1]
    assert clarification["Subject"] == f"[{ticket.number}] {question}"
    assert "Какая модель кассы?" in _plain(clarification)
    assert clarification["In-Reply-To"] == acknowledgement["Message-ID"].strip()

    # when the customer answers that mail from their client (to our Reply-To, quoting it)
    dovecot.append(
        mailbox.folder,
        mail(
            sender=REQUESTER,
            to=clarification["Reply-To"],
            subject=f"Re: {clarification['Subject']}",
            body="Модель АТОЛ 30Ф.\n\n> Какая модель кассы?\n",
            in_reply_to=clarification["Message-ID"],
        ),
    )
    mail_poll_tick.call()

    # then the answer is a reply on the same request and the clock resumes (R3.7)
    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1
    assert ticket.status == "in-progress"
    answer = Comment.objects.get(ticket=ticket, author=d.requester)
    assert (answer.body, answer.public, answer.channel) == ("Модель АТОЛ 30Ф.", True, "email")
    _regulation, states = ticket_clocks(ticket)
    resolution = next(s for s in states if s.metric == "resolution")
    assert resolution.state == "running"
    assert len(resolution.pauses) == 1  # R3.7: the wait for the customer is not counted
    assert len(smtp_server.received) == 2  # a customer's own reply is not mailed back

    # when the agent replies and resolves it
    ticket_services.ticket_reply(
        ticket=ticket, author=agent, body="Обновите драйвер ККТ до версии 10.9.", public=True
    )
    ticket_services.ticket_transition(
        ticket=ticket, actor=agent, status="done", resolution="solved"
    )
    mail_poll_tick.call()

    # then the reply and the closure notice (R3.8) reach the customer, in the thread
    assert len(smtp_server.received) == 4
    _to, reply = smtp_server.received[2]
    assert "Обновите драйвер ККТ до версии 10.9." in _plain(reply)
    _to, closure = smtp_server.received[3]
    assert [to for to, _m in smtp_server.received[3:]] == [[REQUESTER]]
    assert closure["Subject"].startswith(f"[{ticket.number}] {closed}")
    assert closure["In-Reply-To"] == reply["Message-ID"].strip()
    references = closure["References"].split()
    assert references[0] == "<journey.1@customer.example>"
    assert references[1:] == [m["Message-ID"].strip() for _to, m in smtp_server.received[:3]]
    # every message threads by the request's token, on the wire without encoded words
    for raw in smtp_server.raw:
        headers = raw.split(b"\r\n\r\n")[0]
        assert b"=?utf-8?q?=3C" not in headers
    assert set(OutboundMessage.objects.values_list("state", flat=True)) == {"sent"}
    assert InboundMessage.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db
def test_a_reply_to_the_acknowledgement_threads_into_the_same_request(
    dovecot: Dovecot, imap_mailbox: MailboxFactory, smtp_server: Outbox, mail_dir: Path
) -> None:
    # given a request opened by mail and acknowledged
    d = desk("cera", "standard")
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, mail(sender=REQUESTER, to=mailbox.address))
    mail_poll_tick.call()
    ticket = Ticket.objects.get()
    [(_to, acknowledgement)] = smtp_server.received

    # when the customer answers the acknowledgement with a new subject and no number in it
    dovecot.append(
        mailbox.folder,
        mail(
            sender=REQUESTER,
            to=acknowledgement["Reply-To"],
            subject="ещё одна касса",
            body="Вторая касса тоже не печатает.",
            in_reply_to=acknowledgement["Message-ID"].strip(),
        ),
    )
    report = mail_poll_tick.call()

    # then it is a public reply on the same request; nothing new is acknowledged
    assert report["processed"] == 1
    assert Ticket.objects.count() == 1
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.author, comment.body) == (d.requester, "Вторая касса тоже не печатает.")
    assert len(smtp_server.received) == 1
