"""From a real Dovecot to requests: IMAP APPEND, poll, process (issue 7, intake processing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import PersonFactory
from reglament.mailbox.imap import mailbox_poll
from reglament.mailbox.intake import inbound_process_pending
from reglament.mailbox.models import InboundMessage
from reglament.mailbox.tasks import mail_poll_tick
from reglament.mailbox.tests.conftest import MailboxFactory
from reglament.mailbox.tests.dovecot import Dovecot
from reglament.mailbox.tests.intake_support import (
    cp1251_mail_with_attachment,
    fixture,
    intake,
    mail,
    reply_to,
)
from reglament.sla.tests.workers import in_threads
from reglament.tickets.models import Attachment, Comment, Ticket
from reglament.tickets.services import attachment_path
from reglament.tickets.tests.factories import desk

REQUESTER = "requester@customer.test"
PDF = b"%PDF-1.4 invoice 15\n"


@pytest.mark.django_db
def test_mail_from_dovecot_becomes_a_request_and_its_answer_a_reply(
    dovecot: Dovecot, imap_mailbox: MailboxFactory, mail_dir: Path
) -> None:
    # given a desk and a mailbox polling a Dovecot folder; the requester's windows-1251
    # mail with a Cyrillic file name waits in it
    d = desk("cera", "standard")
    mailbox = imap_mailbox()
    dovecot.append(
        mailbox.folder,
        cp1251_mail_with_attachment(
            sender=f"Иван <{REQUESTER}>", attachment_name="Счёт на оплату.pdf", data=PDF
        ),
    )

    # when the mailbox is polled and the stored mail processed
    assert mailbox_poll(mailbox).stored == 1
    [outcome] = inbound_process_pending(mailbox=mailbox)

    # then a request with its number, arriving when the mail was stored, with the file
    ticket = Ticket.objects.get(number=outcome.ticket)
    row = InboundMessage.objects.get(mailbox=mailbox)
    assert (ticket.requester, ticket.channel) == (d.requester, "email")
    assert ticket.received_at == row.received_at
    assert ticket.description == "Добрый день! Касса №3 не печатает чеки."
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.name == "Счёт на оплату.pdf"
    assert attachment_path(attachment).read_bytes() == PDF

    # when the requester answers at the request's reply address, quoting our mail
    dovecot.append(
        mailbox.folder,
        mail(
            sender=REQUESTER,
            to=f"Поддержка <{reply_to(ticket.number)}>",
            subject=f"Re: [{ticket.number}] Не работает касса",
            body="Чек напечатался.\n\n-----Original Message-----\nFrom: Поддержка\n"
            "Sent: Monday\n\nПроверьте бумагу.\n",
        ),
    )
    mailbox.refresh_from_db()
    assert mailbox_poll(mailbox).stored == 1
    [answer] = inbound_process_pending(mailbox=mailbox)

    # then one public reply holding only the new text; the original stays on disk
    assert (answer.outcome, answer.ticket) == ("replied", ticket.number)
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.body, comment.public, comment.channel) == ("Чек напечатался.", True, "email")
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_the_worker_tick_polls_then_processes_the_cyrillic_attachments_fixture(
    dovecot: Dovecot, imap_mailbox: MailboxFactory, mail_dir: Path
) -> None:
    # given the fixture's sender is a customer's person, and the fixture in the folder
    d = desk("cera", "standard")
    PersonFactory.create(
        organisation=d.customer, role=Membership.Role.REQUESTER, email="buh@romashka.example"
    )
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, fixture("attachments_cyrillic.eml"))

    # when the worker's tick runs
    report = mail_poll_tick.call()

    # then the message was stored and processed into a request with every file
    assert (report["stored"], report["processed"], report["processing_failed"]) == (1, 1, 0)
    ticket = Ticket.objects.get()
    names = sorted(Attachment.objects.filter(ticket=ticket).values_list("name", flat=True))
    assert "Счёт на оплату №15.pdf" in names
    assert "Скан письма.jpg" in names
    assert len(names) == 4
    assert InboundMessage.objects.get().state == "processed"


@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_at_once_file_each_message_once(
    shared_database: str, mail_dir: Path
) -> None:
    # given 30 stored messages from the requester
    setup = intake()
    if connections["default"].vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite runs one writer")
    rows = [setup.store(mail(sender=REQUESTER, subject=f"Заявка {n}")) for n in range(30)]

    # when two workers process at the same time
    results = in_threads(_outcomes, count=2)

    # then every message became exactly one request, and both workers had a share
    assert sorted(results[0] + results[1]) == ["created"] * 30
    assert Ticket.objects.count() == 30
    assert InboundMessage.objects.filter(state="processed").count() == 30
    tickets = set(InboundMessage.objects.values_list("ticket_id", flat=True))
    assert len(tickets) == 30
    assert all(results), results
    assert {r.pk for r in rows} == set(InboundMessage.objects.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_workers_thread_each_reply_to_the_request_its_opening_message_opened(
    shared_database: str, mail_dir: Path
) -> None:
    # given 20 new messages, each followed by a reply "in reply to" it
    setup = intake()
    if connections["default"].vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite runs one writer")
    for n in range(20):
        setup.store(
            mail(sender=REQUESTER, subject=f"Заявка {n}", message_id=f"<open{n}@customer.test>")
        )
        setup.store(
            mail(
                sender=REQUESTER,
                subject=f"Дополнение {n}",
                body=f"Дополнение к заявке {n}",
                in_reply_to=f"<open{n}@customer.test>",
            )
        )

    # when two workers process at the same time (one may take a reply while the other
    # still files the message it answers)
    results = in_threads(_outcomes, count=2)

    # then 20 requests, each with its own reply: none became a request of its own
    assert sorted(results[0] + results[1]) == ["created"] * 20 + ["replied"] * 20
    assert Ticket.objects.count() == 20
    for ticket in Ticket.objects.all():
        which = ticket.subject.removeprefix("Заявка ")
        bodies = list(ticket.comments.values_list("body", flat=True))
        assert bodies == [f"Дополнение к заявке {which}"]


def _outcomes() -> list[str]:
    """One worker's processing run (in_threads gives it a connection of its own)."""
    return [o.outcome for o in inbound_process_pending()]
