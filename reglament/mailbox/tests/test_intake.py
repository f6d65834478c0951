"""Stored mail into requests and replies (issue 7, "intake processing"), on stored rows."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.cli import main
from reglament.mailbox import intake as intake_module
from reglament.mailbox import services
from reglament.mailbox.intake import inbound_process, inbound_process_pending
from reglament.mailbox.models import (
    InboundEvent,
    InboundMessage,
    MailAddressFailure,
    TriageOrganisation,
)
from reglament.mailbox.selectors import address_failing, inbound_replies_due
from reglament.mailbox.tests.intake_support import (
    DOMAIN,
    Intake,
    fixture,
    intake,
    mail,
    our_message_id,
    reply_to,
    token_of,
)
from reglament.regulations.services import contract_create
from reglament.sla.models import Clock
from reglament.tickets import services as ticket_services
from reglament.tickets.models import Comment, Ticket
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

REQUESTER = "requester@customer.test"


@pytest.fixture
def setup(mail_dir: Path) -> Intake:
    return intake()


def new_request(setup: Intake, **kwargs: object) -> Ticket:
    """A request opened by mail from the desk's requester."""
    row = setup.store(mail(sender=f"Иван <{REQUESTER}>", **kwargs))  # type: ignore[arg-type]
    outcome = inbound_process(row)
    assert outcome.outcome == "created", outcome
    return Ticket.objects.get(number=outcome.ticket)


def public_comments(ticket: Ticket) -> list[str]:
    return list(ticket.comments.filter(public=True).values_list("body", flat=True))


def notes(ticket: Ticket) -> list[str]:
    return list(ticket.comments.filter(public=False).values_list("body", flat=True))


# -------------------------------------------------------------------------- new mail
def test_a_known_customers_mail_opens_a_request_that_arrived_when_the_mail_did(
    setup: Intake,
) -> None:
    # given a stored message from the desk's requester (any case of the address)
    row = setup.store(mail(sender="Иван <Requester@Customer.TEST>", subject="Касса не печатает"))

    # when it is processed
    outcome = inbound_process(row)

    # then R3.4: a request with a number, arriving when the mail reached us, by e-mail
    ticket = Ticket.objects.get()
    assert outcome.outcome == "created"
    assert outcome.ticket == ticket.number
    assert ticket.number.startswith("CERA-")
    assert ticket.requester == setup.desk.requester
    assert ticket.organisation == setup.desk.customer
    assert ticket.contract == setup.desk.contract
    assert ticket.channel == "email"
    assert ticket.subject == "Касса не печатает"
    assert ticket.description == "Здравствуйте! Касса №3 не печатает чеки с утра."
    row.refresh_from_db()
    assert ticket.received_at == row.received_at
    assert ticket.registered_at >= row.received_at
    # ... the row says what became of it, links the request and allows an acknowledgement
    assert (row.state, row.outcome, row.ticket_id, row.reply_allowed) == (
        "processed",
        "created",
        ticket.pk,
        True,
    )
    assert row.sender == "requester@customer.test"
    assert row.attempts == 1
    assert list(row.events.values_list("kind", flat=True)) == ["created"]
    assert list(inbound_replies_due()) == [row]


def test_r5_1_mail_of_saturday_night_is_a_request_from_then_whenever_it_is_processed(
    mail_dir: Path,
) -> None:
    # given a Rusbitech mailbox and its customer's mail that reached us on Saturday
    # 2025-03-15 at 22:00 (R5.1 «По электронной почте – круглосуточно»)
    d = desk("rusbitech", "standard")
    mailbox = services.mailbox_add(
        name="rusbitech", address="support.catalog@vendor.example", regulation="rusbitech"
    )
    row = services.inbound_store(
        mailbox=mailbox,
        raw=mail(sender=d.requester.email, to="support.catalog@vendor.example"),
        uidvalidity=None,
        uid=None,
        channel="smtp",
    )
    saturday = datetime.fromisoformat("2025-03-15T22:00:00+03:00")
    InboundMessage.objects.filter(pk=row.pk).update(received_at=saturday)

    # when the worker gets to it only on Monday 09:00
    outcome = inbound_process(row, now=datetime.fromisoformat("2025-03-17T09:00:00+03:00"))

    # then the request arrived on Saturday night: the e-mail channel takes mail round
    # the clock, and the clocks start from then (R5.3: an ordinary reaction counts
    # working hours, so from Monday 10:00 → 14:00)
    ticket = Ticket.objects.get(number=outcome.ticket)
    assert (ticket.channel, ticket.received_at) == ("email", saturday)
    reaction = Clock.objects.get(ticket=ticket, metric="reaction")
    assert reaction.due_at == datetime.fromisoformat("2025-03-17T14:00:00+03:00")


def test_processing_twice_changes_nothing(setup: Intake) -> None:
    # given a processed message
    row = setup.store(mail(sender=REQUESTER))
    inbound_process(row)
    # when it is processed again (directly and in a batch)
    again = inbound_process(row)
    batch = inbound_process_pending()
    # then nothing more was filed
    assert again.outcome == "created"
    assert batch == []
    assert Ticket.objects.count() == 1
    assert InboundEvent.objects.count() == 1


def test_the_xss_fixture_leaves_no_script_in_the_request_or_the_stored_html(
    setup: Intake,
) -> None:
    # given a customer whose address is the fixture's sender
    PersonFactory.create(
        organisation=setup.desk.customer,
        role=Membership.Role.REQUESTER,
        email="billing@attacker.example",
    )
    row = setup.store(fixture("xss_html.eml"))

    # when it is processed
    outcome = inbound_process(row)

    # then the request's text has no markup at all, and the stored HTML is sanitised
    ticket = Ticket.objects.get(number=outcome.ticket)
    assert "Please review the invoice" in ticket.description
    for text in (ticket.description.lower(), ticket.subject.lower()):
        assert "<script" not in text
        assert "javascript:" not in text
    row.refresh_from_db()
    html = row.html.lower()
    assert "pay.example/invoice/77" in html
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<form", "<svg"):
        assert bad not in html
    # remote images stay blocked (a placeholder, not a src)
    assert ' src="https://tracker.example' not in html
    assert 'data-remote-src="https://tracker.example' in html
    assert "mail-remote-image" in html


def test_a_message_over_the_limit_stays_rejected_and_may_get_a_notice(mail_dir: Path) -> None:
    # given a mailbox taking at most 2 KiB and a bigger message
    setup = intake(max_bytes=2048)
    row = setup.store(mail(sender=REQUESTER, body="x" * 5000))
    assert row.state == "rejected"

    # when processing runs
    [outcome] = inbound_process_pending()

    # then it stays rejected, opens nothing, and the outgoing step may send a notice
    row.refresh_from_db()
    assert (outcome.state, row.state, row.outcome, row.reply_allowed) == (
        "rejected",
        "rejected",
        "rejected",
        True,
    )
    assert row.processed_at is not None
    assert Ticket.objects.count() == 0
    assert inbound_process_pending() == []


# ------------------------------------------------------------------------- threading
def test_a_reply_with_the_token_is_a_public_reply_with_only_the_new_text(setup: Intake) -> None:
    # given a request opened by mail
    ticket = new_request(setup)
    # when the requester answers our mail at its reply address, quoting it
    body = (
        "Перезагрузили кассу, не помогло.\n\n"
        "пн, 30 нояб. 2026 г. в 10:00, Поддержка <support@vendor.example>:\n"
        "> Попробуйте перезагрузить кассу.\n"
    )
    row = setup.store(
        mail(sender=REQUESTER, to=reply_to(ticket.number), subject="Re: касса", body=body)
    )
    outcome = inbound_process(row)

    # then one public reply by the requester over e-mail holding only the new text
    assert (outcome.outcome, outcome.ticket) == ("replied", ticket.number)
    comment = Comment.objects.get(ticket=ticket, public=True)
    assert comment.body == "Перезагрузили кассу, не помогло."
    assert (comment.author, comment.channel) == (setup.desk.requester, "email")
    row.refresh_from_db()
    assert (row.ticket_id, row.comment_id) == (ticket.pk, comment.pk)
    assert Ticket.objects.count() == 1


def test_a_reply_in_clarification_resumes_the_resolution_clock(setup: Intake) -> None:
    # given a request an agent put into Clarification (R3.7: the resolution clock pauses)
    ticket = new_request(setup)
    ticket_services.ticket_transition(
        ticket=ticket, actor=setup.desk.agent1, status="clarification"
    )
    assert Clock.objects.get(ticket=ticket, metric="resolution").state == "paused"

    # when the customer answers by mail, threaded by our Message-ID in In-Reply-To
    row = setup.store(
        mail(sender=REQUESTER, subject="Re: вопрос", in_reply_to=our_message_id(ticket.number))
    )
    outcome = inbound_process(row)

    # then R3.7: the request leaves Clarification (for the first status it may go back
    # to, «В работе») and the clock runs again
    assert outcome.outcome == "replied"
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    assert Clock.objects.get(ticket=ticket, metric="resolution").state == "running"


def test_in_reply_to_a_stored_message_threads_to_its_request(setup: Intake) -> None:
    # given a request opened by the message <first@customer.example>
    ticket = new_request(setup, message_id="<first@customer.example>")
    # when the requester writes again "in reply to" it, another subject, no token
    row = setup.store(
        mail(
            sender=REQUESTER,
            subject="Ещё",
            body="Дополнение",
            in_reply_to="<first@customer.example>",
        )
    )
    outcome = inbound_process(row)
    # then it is a reply on that request
    assert (outcome.outcome, outcome.ticket) == ("replied", ticket.number)
    assert public_comments(ticket) == ["Дополнение"]
    assert Ticket.objects.count() == 1


def test_a_reply_waits_for_the_message_it_answers_when_that_one_failed(
    setup: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a message and a reply "in reply to" it, and ticket_create failing once
    first = setup.store(mail(sender=REQUESTER, message_id="<first@customer.example>"))
    second = setup.store(
        mail(sender=REQUESTER, body="Дополнение", in_reply_to="<first@customer.example>")
    )
    real = ticket_services.ticket_create
    calls = {"n": 0}

    def failing_once(**kwargs: object) -> Ticket:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database restarted")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ticket_services, "ticket_create", failing_once)

    # when a run processes them: the first fails
    outcomes = inbound_process_pending()

    # then the reply was not filed as a request of its own: it waits, using no attempt
    assert [(o.message, o.state) for o in outcomes] == [(first.pk, "failed")]
    second.refresh_from_db()
    assert (second.state, second.attempts, second.ticket_id) == ("stored", 0, None)
    assert Ticket.objects.count() == 0
    # and processing it alone says why it waits
    waiting = inbound_process(second)
    assert waiting.waits
    assert str(first.pk) in waiting.reason

    # when the next run comes
    again = inbound_process_pending()

    # then the first opens the request and the reply joins it
    assert [o.outcome for o in again] == ["created", "replied"]
    ticket = Ticket.objects.get()
    assert public_comments(ticket) == ["Дополнение"]
    second.refresh_from_db()
    assert (second.ticket_id, second.attempts) == (ticket.pk, 1)


def test_a_message_naming_a_later_waiting_one_does_not_wait_for_it(setup: Intake) -> None:
    # given two stored messages that name each other (a forgery: a real reply comes
    # after what it answers)
    first = setup.store(
        mail(sender=REQUESTER, message_id="<a@customer.example>", in_reply_to="<b@x.example>")
    )
    setup.store(
        mail(sender=REQUESTER, message_id="<b@x.example>", in_reply_to="<a@customer.example>")
    )
    # when a run processes them
    outcomes = inbound_process_pending()
    # then neither waits for ever: the earlier opens a request, the later replies on it
    assert [o.outcome for o in outcomes] == ["created", "replied"]
    assert Ticket.objects.get().pk == InboundMessage.objects.get(pk=first.pk).ticket_id


def test_the_subject_number_gives_a_plain_colleague_no_access_to_the_request(
    setup: Intake,
) -> None:
    # given a request of the customer, and a colleague of its requester (a requester too,
    # who cannot open that request in the portal)
    ticket = new_request(setup)
    PersonFactory.create(
        organisation=setup.desk.customer,
        role=Membership.Role.REQUESTER,
        email="colleague@customer.test",
    )
    # when the colleague writes with the number in the subject
    row = setup.store(
        mail(sender="colleague@customer.test", subject=f"Re: [{ticket.number}] касса", body="Жду")
    )
    outcome = inbound_process(row)
    # then a new request of theirs that says why; the first one is unchanged, unwatched
    assert outcome.outcome == "created"
    assert outcome.ticket != ticket.number
    assert public_comments(ticket) == []
    assert not ticket.watchers.exists()


def test_the_subject_number_threads_mail_from_the_organisation_s_customer_admin(
    setup: Intake,
) -> None:
    # given a request, and the customer admin of its organisation (sees it in the portal)
    ticket = new_request(setup)
    admin = PersonFactory.create(
        organisation=setup.desk.customer,
        role=Membership.Role.CUSTOMER_ADMIN,
        email="boss@customer.test",
    )
    # when they write with the number in the subject
    row = setup.store(
        mail(sender="boss@customer.test", subject=f"Re: [{ticket.number}] касса", body="Жду")
    )
    outcome = inbound_process(row)
    # then it is their public reply on that request
    assert (outcome.outcome, outcome.ticket) == ("replied", ticket.number)
    assert Comment.objects.get(ticket=ticket, public=True).author == admin


def test_the_subject_number_from_a_stranger_opens_a_new_request_that_says_why(
    setup: Intake,
) -> None:
    # given a request of one customer and a person of another customer
    ticket = new_request(setup)
    other = OrganisationFactory.create()
    contract_create(
        organisation=other,
        version=setup.desk.version,
        tariff="standard",
        valid_from=setup.desk.contract.valid_from,
    )
    PersonFactory.create(
        organisation=other, role=Membership.Role.REQUESTER, email="stranger@other.test"
    )
    # when that person writes with the first request's number in the subject
    row = setup.store(
        mail(sender="stranger@other.test", subject=f"Re: [{ticket.number}] касса", body="Моё")
    )
    outcome = inbound_process(row)

    # then nothing is added to the first request; a new one is opened, saying why
    assert outcome.outcome == "created"
    assert outcome.ticket != ticket.number
    assert ticket.comments.count() == 0
    new = Ticket.objects.get(number=outcome.ticket)
    assert new.organisation == other
    [note] = notes(new)
    assert ticket.number in note
    assert "takes no part" in note


def test_a_forged_token_threads_nothing(setup: Intake) -> None:
    # given a request
    ticket = new_request(setup)
    forged = token_of(ticket.number)[:-4] + "aaaa"
    # when mail arrives at a reply address with a wrong mac, and no number in the subject
    row = setup.store(
        mail(
            sender=REQUESTER,
            to=f"support+{forged}@vendor.example",
            subject="Новая проблема",
            body="Другое",
        )
    )
    outcome = inbound_process(row)
    # then it is a new request, not a reply
    assert outcome.outcome == "created"
    assert outcome.ticket != ticket.number
    assert ticket.comments.count() == 0
    assert Ticket.objects.count() == 2


def test_a_stranger_with_a_valid_token_is_recorded_as_a_note_not_a_reply(
    setup: Intake,
) -> None:
    # given a request, and mail from an unknown address at its reply address
    ticket = new_request(setup)
    row = setup.store(
        mail(sender="someone@elsewhere.example", to=reply_to(ticket.number), body="Привет")
    )
    # when it is processed
    outcome = inbound_process(row)
    # then agents see it as an internal note; the customer's conversation is unchanged
    assert (outcome.outcome, outcome.ticket) == ("recorded", ticket.number)
    assert public_comments(ticket) == []
    [note] = notes(ticket)
    assert "someone@elsewhere.example" in note
    assert "Привет" in note


def test_an_agent_writing_from_their_mailbox_adds_a_staff_public_reply(
    setup: Intake, settings: Any
) -> None:
    # given a request, and our receiving server named as the one whose checks count
    settings.REGLAMENT_MAIL_AUTHSERV_ID = "mx.vendor.test"
    ticket = new_request(setup)
    # when agent 1 replies by mail to our Message-ID, DMARC passed at our server
    row = setup.store(
        mail(
            sender="agent1@vendor.test",
            body="Обновите прошивку.",
            in_reply_to=our_message_id(ticket.number),
            headers={
                "Authentication-Results": "mx.vendor.test; dmarc=pass header.from=vendor.test"
            },
        )
    )
    outcome = inbound_process(row)
    # then the agent's public reply
    assert outcome.outcome == "replied"
    comment = Comment.objects.get(ticket=ticket, public=True)
    assert (comment.author, comment.body) == (setup.desk.agent1, "Обновите прошивку.")


@pytest.mark.parametrize(
    "results",
    [None, "mx.vendor.test; dmarc=fail header.from=vendor.test", "mx.evil.test; dmarc=pass"],
)
def test_mail_forged_in_an_agent_s_name_never_reaches_the_customer(
    setup: Intake, settings: Any, results: str | None
) -> None:
    # given a request; someone who knows its reply address writes From an agent
    settings.REGLAMENT_MAIL_AUTHSERV_ID = "mx.vendor.test"
    ticket = new_request(setup)
    row = setup.store(
        mail(
            sender="agent1@vendor.test",
            to=reply_to(ticket.number),
            body="Переведите оплату на новый счёт.",
            headers={"Authentication-Results": results} if results else None,
        )
    )
    # when it is processed
    outcome = inbound_process(row)
    # then: no public reply in the agent's name; agents see an internal note saying why
    assert (outcome.outcome, outcome.ticket) == ("recorded", ticket.number)
    assert public_comments(ticket) == []
    [note] = notes(ticket)
    assert "did not verify" in note or "не подтвердил" in note
    assert "Переведите оплату на новый счёт." in note


def test_a_look_alike_from_is_nobody_even_when_its_own_domain_passes_dmarc(
    setup: Intake, settings: Any
) -> None:
    # given: our server vouches for the attacker's domain; the local part imitates agent 1
    settings.REGLAMENT_MAIL_AUTHSERV_ID = "mx.vendor.test"
    ticket = new_request(setup)
    row = setup.store(
        mail(
            sender='"<agent1@vendor.test>"@evil.example',
            subject=f"Re: [{ticket.number}] Касса",
            body="Оплатите счёт по ссылке.",
            headers={
                "Authentication-Results": "mx.vendor.test; dmarc=pass header.from=evil.example"
            },
        )
    )
    # when it is processed
    outcome = inbound_process(row)
    # then: no staff reply on the request; the mail is an unknown sender's, filed apart
    assert outcome.outcome != "replied"
    assert outcome.ticket != ticket.number
    assert public_comments(ticket) == []


@pytest.mark.parametrize(
    ("results", "threaded"),
    [
        ("mx.vendor.test; dmarc=pass header.from=customer.test", True),
        ("mx.vendor.test; dmarc=fail header.from=customer.test", False),
        (None, False),
    ],
)
def test_with_our_server_named_a_subject_number_needs_a_verified_sender(
    setup: Intake, settings: Any, results: str | None, threaded: bool
) -> None:
    # given our receiving server named, and the requester's request
    settings.REGLAMENT_MAIL_AUTHSERV_ID = "mx.vendor.test"
    ticket = new_request(setup)
    # when mail From the requester names it in the subject, with or without a pass
    row = setup.store(
        mail(
            sender=REQUESTER,
            subject=f"Re: [{ticket.number}] Касса",
            body="Касса снова работает.",
            headers={"Authentication-Results": results} if results else None,
        )
    )
    outcome = inbound_process(row)
    # then only a verified sender's mail is a reply on it (and may resume its clocks)
    if threaded:
        assert (outcome.outcome, outcome.ticket) == ("replied", ticket.number)
    else:
        assert outcome.outcome == "created"
        assert outcome.ticket != ticket.number
        assert public_comments(ticket) == []
        new = Ticket.objects.get(number=outcome.ticket)
        assert any("did not verify" in note for note in notes(new))


@pytest.mark.parametrize("command", ["Закрыть", "закройте обращение.", "Close", "#close"])
def test_a_reply_that_says_close_closes_the_request_r3_8(setup: Intake, command: str) -> None:
    # given the requester's request (CERA: the user may close a request themselves)
    ticket = new_request(setup)
    # when they reply to our mail with the command on the first line
    row = setup.store(
        mail(sender=REQUESTER, to=reply_to(ticket.number), body=f"{command}\n\nВсё работает.")
    )
    outcome = inbound_process(row)
    # then their reply is on the request and it is closed, as the portal's button does
    assert (outcome.outcome, outcome.ticket) == ("replied", ticket.number)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.is_open) == ("closed", False)
    assert "closed it" in outcome.reason


def test_close_is_a_command_only_on_the_first_line(setup: Intake) -> None:
    # given
    ticket = new_request(setup)
    # when the word comes later in the text
    row = setup.store(
        mail(
            sender=REQUESTER,
            to=reply_to(ticket.number),
            body="Касса снова не печатает.\nНе закрывайте, пожалуйста.\nЗакрыть",
        )
    )
    inbound_process(row)
    # then it is just a reply
    ticket.refresh_from_db()
    assert ticket.is_open


# ------------------------------------------------------------------ automatic mail
def test_an_out_of_office_reply_is_recorded_and_the_clock_stays_paused(setup: Intake) -> None:
    # given a request waiting in Clarification, its resolution clock paused (R3.7)
    ticket = new_request(setup)
    ticket_services.ticket_transition(
        ticket=ticket, actor=setup.desk.agent1, status="clarification"
    )
    # when the requester's out-of-office answer to our mail arrives (the fixture, from them)
    raw = fixture(
        "out_of_office_ru.eml",
        {
            "CERA-2026-000140.TOKEN": token_of(ticket.number),
            "e.morozova@corp.example": REQUESTER,
            "support.example.com": "vendor.example",
        },
    )
    row = setup.store(raw)
    outcome = inbound_process(row)

    # then it is an internal note on the request, no request is opened, no clock moves
    assert (outcome.outcome, outcome.ticket) == ("recorded", ticket.number)
    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == "clarification"
    assert Clock.objects.get(ticket=ticket, metric="resolution").state == "paused"
    assert public_comments(ticket) == []
    [note] = notes(ticket)
    assert "auto-submitted" in note
    row.refresh_from_db()
    assert (row.reply_allowed, row.automatic) == (False, "auto-submitted")


def test_automatic_mail_that_threads_nowhere_is_ignored_with_its_reason(setup: Intake) -> None:
    # given the mailing-list fixture
    row = setup.store(fixture("mailing_list.eml"))
    # when it is processed
    outcome = inbound_process(row)
    # then no request; the row says it was ignored and why
    assert Ticket.objects.count() == 0
    row.refresh_from_db()
    assert (row.state, row.outcome, row.reply_allowed) == ("ignored", "ignored", False)
    assert row.automatic in ("precedence", "list")
    assert "belongs to no request" in row.reason
    assert outcome.state == "ignored"


def test_a_delivery_report_marks_the_address_failing_and_notes_the_request(
    setup: Intake,
) -> None:
    # given a request and a DSN saying our mail about it did not reach one address
    ticket = new_request(setup)
    raw = fixture(
        "dsn_bounce.eml",
        {
            "CERA-2026-000123.TOKEN": token_of(ticket.number),
            "support.example.com": "vendor.example",
        },
    )
    row = setup.store(raw)

    # when it is processed
    outcome = inbound_process(row)

    # then no request is opened; the request has a note; the failed address is failing
    assert (outcome.outcome, outcome.ticket) == ("bounce", ticket.number)
    assert Ticket.objects.count() == 1
    [note] = notes(ticket)
    assert "ivan.ivanov@closed-shop.example: failed 5.1.1" in note
    failure = MailAddressFailure.objects.get()
    assert (failure.address, failure.count, failure.last_status) == (
        "ivan.ivanov@closed-shop.example",
        1,
        "5.1.1",
    )
    assert address_failing("Ivan.Ivanov@closed-shop.example")
    assert not address_failing("manager@closed-shop.example")  # only delayed
    row.refresh_from_db()
    assert row.reply_allowed is False


# ------------------------------------------------------------------ unknown senders
def test_an_unknown_sender_under_triage_gets_a_request_in_not_yet_identified(
    setup: Intake,
) -> None:
    # given mail from an address nobody has
    row = setup.store(mail(sender="Пётр <petr@unknown.example>", subject="Помогите"))

    # when it is processed
    outcome = inbound_process(row)

    # then a request of the regulation's "not yet identified" customer, by a person
    # created for the address who cannot sign in; a note tells the agents
    assert outcome.outcome == "triage"
    ticket = Ticket.objects.get(number=outcome.ticket)
    triage = TriageOrganisation.objects.get(regulation_id="cera").organisation
    assert ticket.organisation == triage
    assert triage.name == "Не идентифицировано / Not yet identified (cera)"
    assert ticket.requester.email == "petr@unknown.example"
    assert not ticket.requester.has_usable_password()
    assert "Nobody with the address petr@unknown.example" in notes(ticket)[0]

    # when the same address writes again, the same person files again (no new person)
    inbound_process(setup.store(mail(sender="petr@unknown.example", subject="Ещё")))
    assert User.objects.filter(email="petr@unknown.example").count() == 1
    assert Ticket.objects.filter(organisation=triage).count() == 2


def test_an_address_several_people_share_is_filed_for_triage(setup: Intake) -> None:
    # given two people of the customer with one address
    for _ in range(2):
        PersonFactory.create(
            organisation=setup.desk.customer,
            role=Membership.Role.REQUESTER,
            email="shared@customer.test",
        )
    # when they write
    outcome = inbound_process(setup.store(mail(sender="shared@customer.test")))
    # then it is filed for triage, saying the address is ambiguous
    assert outcome.outcome == "triage"
    assert "Several people have the address" in outcome.reason


def test_an_unknown_sender_under_instructions_opens_nothing_and_is_marked(
    mail_dir: Path,
) -> None:
    # given a mailbox that answers strangers with instructions
    setup = intake(unknown_sender="instructions")
    row = setup.store(mail(sender="petr@unknown.example"))
    # when it is processed
    outcome = inbound_process(row)
    # then no request; the row says instructions are due
    assert Ticket.objects.count() == 0
    row.refresh_from_db()
    assert (row.state, row.outcome, row.reply_allowed) == ("processed", "instructions", True)
    assert "petr@unknown.example" in row.reason
    assert outcome.outcome == "instructions"
    assert list(inbound_replies_due()) == [row]


# ------------------------------------------------------------------------- failures
def test_a_failure_marks_the_message_failed_and_a_later_run_files_it_once(
    setup: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given five stored messages and ticket_create failing after the second request
    rows = [setup.store(mail(sender=REQUESTER, subject=f"Заявка {n}")) for n in range(5)]
    real = ticket_services.ticket_create
    calls = {"n": 0}

    def crashing(**kwargs: object) -> Ticket:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("disk full")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ticket_services, "ticket_create", crashing)

    # when a run processes them
    outcomes = inbound_process_pending()

    # then two requests, three failed rows with the error and one attempt each
    assert [o.state for o in outcomes] == ["processed"] * 2 + ["failed"] * 3
    assert Ticket.objects.count() == 2
    failed = InboundMessage.objects.filter(state="failed").order_by("pk")
    assert [(r.attempts, "disk full" in r.error) for r in failed] == [(1, True)] * 3
    assert InboundEvent.objects.filter(kind="failed").count() == 3

    # when the fault is gone and the next run comes
    monkeypatch.setattr(ticket_services, "ticket_create", real)
    again = inbound_process_pending()

    # then each failed message is filed once; no message has two requests
    assert [o.outcome for o in again] == ["created"] * 3
    assert Ticket.objects.count() == 5
    for row in rows:
        row.refresh_from_db()
        assert row.state == "processed"
        assert row.ticket is not None
    assert len({r.ticket_id for r in rows}) == 5


def test_a_message_that_keeps_failing_stops_after_the_attempts_allowed(
    setup: Intake, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # given at most 2 attempts and a message whose processing always fails
    settings.REGLAMENT_MAIL_PROCESS_ATTEMPTS = 2
    row = setup.store(mail(sender=REQUESTER))

    def broken(**kwargs: object) -> Ticket:
        raise RuntimeError("broken")

    monkeypatch.setattr(ticket_services, "ticket_create", broken)
    # when three runs come
    runs = [len(inbound_process_pending()) for _ in range(3)]
    # then it was tried twice and is kept, failed, with its error
    assert runs == [1, 1, 0]
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 2)
    assert "broken" in row.error
    # ... until someone asks for it explicitly
    monkeypatch.undo()
    [outcome] = inbound_process_pending(exhausted=True)
    assert outcome.outcome == "created"


def test_the_intake_actor_cannot_sign_in(setup: Intake) -> None:
    # given a processed message
    inbound_process(setup.store(mail(sender=REQUESTER)))
    # then the system principal that registered it is inactive and has no password
    actor = intake_module.intake_actor()
    assert (actor.is_active, actor.has_usable_password()) == (False, False)
    assert Ticket.objects.get().events.get(kind="created").actor == actor


def test_a_from_header_encoded_whole_still_names_its_sender(setup: Intake) -> None:
    # given a From whose encoded-word holds the name and the address together
    word = base64.b64encode(f"Иван <{REQUESTER}>".encode()).decode()
    raw = mail(sender="placeholder@example.invalid").replace(
        b"placeholder@example.invalid", f"=?utf-8?b?{word}?=".encode()
    )
    # when it is processed
    outcome = inbound_process(setup.store(raw))
    # then the address inside is the sender: the requester's request
    assert outcome.outcome == "created"
    assert Ticket.objects.get().requester == setup.desk.requester


def test_the_process_command_files_stored_mail_and_prints_the_outcomes(
    setup: Intake, capsys: pytest.CaptureFixture[str]
) -> None:
    # given two stored messages: the requester's, and a mailing list's
    setup.store(mail(sender=REQUESTER, subject="Касса"))
    setup.store(fixture("mailing_list.eml"))
    # when `reglament mailbox process --mailbox support --json` runs
    code = main(["mailbox", "process", "--mailbox", "support", "--json"])
    # then it exits 0 and prints what became of each
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(o["state"], o["outcome"]) for o in printed] == [
        ("processed", "created"),
        ("ignored", "ignored"),
    ]
    assert printed[0]["ticket"] == Ticket.objects.get().number


def test_the_process_command_exits_1_when_a_message_failed(
    setup: Intake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a stored message whose processing fails
    setup.store(mail(sender=REQUESTER))

    def broken(**kwargs: object) -> Ticket:
        raise RuntimeError("broken")

    monkeypatch.setattr(ticket_services, "ticket_create", broken)
    # when the command runs, then it exits 1 and says so
    assert main(["mailbox", "process"]) == 1
    assert "1 of 1 messages failed" in capsys.readouterr().err
    assert InboundMessage.objects.get().state == "failed"


def test_a_reply_to_a_closed_request_opens_a_new_one_that_names_it(setup: Intake) -> None:
    # given a request its requester closed (R3.8)
    ticket = new_request(setup)
    ticket_services.ticket_close_by_requester(ticket=ticket, actor=setup.desk.requester)
    # when they answer our mail about it
    outcome = inbound_process(
        setup.store(mail(sender=REQUESTER, to=reply_to(ticket.number), body="Снова сломалось"))
    )
    # then a new request, whose note names the closed one
    assert outcome.outcome == "created"
    new = Ticket.objects.get(number=outcome.ticket)
    assert new.pk != ticket.pk
    assert new.description == "Снова сломалось"
    assert ticket.number in notes(new)[0]


def test_our_own_mail_coming_back_is_ignored_even_on_its_request(setup: Intake) -> None:
    # given a request, and our own notification about it delivered back to the mailbox
    ticket = new_request(setup)
    raw = mail(
        sender=f"support@{DOMAIN}",
        to=reply_to(ticket.number),
        subject=f"[{ticket.number}] Заявка зарегистрирована",
        headers={"X-Reglament-Loop": DOMAIN, "Auto-Submitted": "auto-replied"},
    )
    # when it is processed
    outcome = inbound_process(setup.store(raw))
    # then nothing is added to the request and no reply may go to it
    assert (outcome.state, outcome.outcome) == ("ignored", "ignored")
    assert ticket.comments.count() == 0
    row = InboundMessage.objects.get(pk=outcome.message)
    assert (row.automatic, row.reply_allowed) == ("loop", False)


def test_inline_images_become_files_of_the_request(setup: Intake) -> None:
    # given the fixture's sender is a customer's person, and its HTML shows a cid: image
    PersonFactory.create(
        organisation=setup.desk.customer,
        role=Membership.Role.REQUESTER,
        email="m.lebedeva@shop.example",
    )
    # when the inline-image fixture is processed
    outcome = inbound_process(setup.store(fixture("inline_image.eml")))
    # then the image is a file of the request, and the stored HTML keeps its cid: reference
    ticket = Ticket.objects.get(number=outcome.ticket)
    assert list(ticket.attachments.values_list("name", "content_type")) == [
        ("image001.png", "image/png")
    ]
    row = InboundMessage.objects.get(pk=outcome.message)
    assert "cid:" in row.html
