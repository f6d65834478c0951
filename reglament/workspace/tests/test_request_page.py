"""The agent's request page: header, clocks with explanations, conversation with internal
notes, history, and every action (a form calling one service, POST/redirect/GET; a refused
one shows the service's message next to its field with the input kept)."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reglament.paidwork.models import Estimate
from reglament.sla.selectors import ticket_clocks
from reglament.tickets import services
from reglament.tickets.models import Attachment, Comment, Ticket, TicketEvent
from reglament.tickets.tests.factories import Desk, desk
from reglament.usage.models import TimeEntry

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _file(d: Desk, subject: str = "Камеры не считают посетителей", **kwargs: Any) -> Ticket:
    kwargs.setdefault("priority", "high")
    return services.ticket_create(actor=d.requester, subject=subject, **kwargs)


def _url(ticket: Ticket, action: str = "") -> str:
    return f"/work/requests/{ticket.number}/" + (f"actions/{action}/" if action else "")


def _clock(ticket: Ticket, metric: str) -> str:
    _regulation, states = ticket_clocks(ticket)
    return next(s.state for s in states if s.metric == metric)


# ------------------------------------------------------------------ permissions
def test_anonymous_visitor_is_sent_to_sign_in() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    response = Client().get(_url(ticket))
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_customer_gets_404_even_for_their_own_request_and_cannot_act() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    client = _client(d.requester)
    # when / then
    assert client.get(_url(ticket)).status_code == 404
    response = client.post(_url(ticket, "reply"), {"reply-kind": "internal", "reply-body": "x"})
    assert response.status_code == 404
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_unknown_request_or_action_is_404() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    client = _client(d.agent1)
    assert client.get("/work/requests/CERA-1999-000001/").status_code == 404
    assert client.post(_url(ticket, "explode"), {}).status_code == 404


# ----------------------------------------------------------------------- header
def test_header_shows_tariff_contract_attributes_and_service_manager() -> None:
    # given: R1.4 a Premium contract with 120 cash registers and a personal service manager
    d = desk("set-retail", "premium", attributes={"cash_registers": 120}, service_manager=True)
    ticket = _file(d, "Кассы не пробивают чеки", priority="critical")
    # when
    response = _client(d.agent1).get(_url(ticket))
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert ticket.number in page
    assert d.customer.name in page
    assert "cash_registers" in page
    assert "120" in page
    manager = d.manager.get_full_name() or d.manager.get_username()
    assert manager in page
    assert "Assign to me" in page


def test_clarification_pause_is_listed_in_the_explanation() -> None:
    # given: R3.7 the resolution clock stands still while the request waits for the user
    d = desk("cera", "standard")
    start = timezone.now() - timedelta(hours=3)
    ticket = _file(d, now=start)
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="clarification", now=start + timedelta(hours=1)
    )
    services.ticket_reply(
        ticket=ticket, author=d.requester, body="ответ", now=start + timedelta(hours=2)
    )
    # when
    response = _client(d.agent1).get(_url(ticket))
    # then: the resolution clock's explanation has one pause and counted intervals
    clocks = {c.metric: c for c in response.context["page"].clocks}
    assert len(clocks["resolution"].pauses) == 1
    assert clocks["resolution"].pauses[0].length == "1 h 00 min"
    page = response.content.decode()
    assert "Explain" in page
    assert "Pauses" in page


def test_internal_notes_are_shown_apart_from_public_replies() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    services.ticket_reply(ticket=ticket, author=d.agent1, body="Публичный ответ")
    note = services.ticket_reply(
        ticket=ticket, author=d.agent1, body="Только для нас", public=False
    )
    # when
    page = _client(d.agent1).get(_url(ticket)).content.decode()
    # then
    assert "Публичный ответ" in page
    assert f'class="comment comment--internal" id="comment-{note.pk}"' in page
    # and: the history reads in words
    assert "Internal note" in page
    assert "Registered" in page


# ----------------------------------------------------------------------- actions
def test_public_reply_with_an_attachment_then_redirect_with_a_message() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    upload = SimpleUploadedFile("log.txt", b"trace", content_type="text/plain")
    # when
    response = _client(d.agent1).post(
        _url(ticket, "reply"),
        {"reply-kind": "public", "reply-body": "Посмотрите лог", "reply-attachments": [upload]},
        follow=True,
    )
    # then
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.public, comment.body) == (True, "Посмотрите лог")
    attachment = Attachment.objects.get(ticket=ticket)
    assert (attachment.name, attachment.comment_id, attachment.public) == (
        "log.txt",
        comment.pk,
        True,
    )
    assert response.redirect_chain[-1][0] == _url(ticket) + "#conversation"
    assert "Your reply has been sent." in response.content.decode()


def test_internal_note_is_not_public() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    _client(d.agent1).post(
        _url(ticket, "reply"), {"reply-kind": "internal", "reply-body": "заметка"}
    )
    assert Comment.objects.get(ticket=ticket).public is False


def test_empty_reply_is_refused_next_to_the_field_keeping_the_choice() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    response = _client(d.agent1).post(
        _url(ticket, "reply"), {"reply-kind": "internal", "reply-body": "   "}
    )
    assert response.status_code == 422
    form = response.context["forms"]["reply"]
    assert form.errors["body"]
    assert 'value="internal" id="id_reply-kind_1" required checked' in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_status_change_to_clarification_pauses_the_resolution_clock() -> None:
    # given: R3.5 Created → Clarification
    d = desk("cera", "standard")
    ticket = _file(d)
    # when
    response = _client(d.agent1).post(_url(ticket, "status"), {"status-status": "clarification"})
    # then: R3.7 the resolution clock stands still
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "clarification"
    assert _clock(ticket, "resolution") == "paused"


def test_the_message_with_a_status_change_is_the_customer_s_to_read() -> None:
    # given: an agent asks for clarification with a message (it is mailed, R3.7)
    d = desk("cera", "standard")
    ticket = _file(d)
    page = _client(d.agent1).get(_url(ticket)).content.decode()
    assert "Message to the customer" in page
    # when
    _client(d.agent1).post(
        _url(ticket, "status"),
        {"status-status": "clarification", "status-comment": "Пришлите номера камер."},
    )
    # then: the customer reads it in their request's history too
    portal = _client(d.requester).get(f"/requests/{ticket.number}/").content.decode()
    assert "Пришлите номера камер." in portal


def test_done_without_resolution_is_refused_with_the_comment_kept() -> None:
    # given: R3.5 Done needs one of the resolutions
    d = desk("cera", "standard")
    ticket = _file(d)
    # when
    response = _client(d.agent1).post(
        _url(ticket, "status"), {"status-status": "done", "status-comment": "Готово"}
    )
    # then
    assert response.status_code == 422
    form = response.context["forms"]["status"]
    assert "resolution" in form.errors
    assert 'value="Готово"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "created"


def test_done_with_resolution_closes_the_request() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    _client(d.agent1).post(
        _url(ticket, "status"), {"status-status": "done", "status-resolution": "solved"}
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution, ticket.is_open) == ("done", "solved", False)


def test_a_status_the_regulation_does_not_allow_is_refused() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    response = _client(d.agent1).post(_url(ticket, "status"), {"status-status": "created"})
    assert response.status_code == 422
    assert response.context["forms"]["status"].errors["status"]


def test_classify_changes_priority_category_and_type() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    _client(d.agent1).post(
        _url(ticket, "classify"),
        {"classify-priority": "critical", "classify-category": "", "classify-type": "defect"},
    )
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.type) == ("critical", "defect")


def test_classify_with_an_unknown_priority_is_refused() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    response = _client(d.agent1).post(
        _url(ticket, "classify"), {"classify-priority": "urgent", "classify-type": "defect"}
    )
    assert response.status_code == 422
    assert response.context["forms"]["classify"].errors["priority"]
    ticket.refresh_from_db()
    assert ticket.priority == "high"


def test_escalate_to_line_3_with_a_reason() -> None:
    # given: R3.6 line 3 has its own resolution targets
    d = desk("cera", "standard")
    ticket = _file(d)
    # when
    _client(d.agent1).post(
        _url(ticket, "line"), {"line-line": "3", "line-reason": "нужен разработчик"}
    )
    # then
    ticket.refresh_from_db()
    assert ticket.line == 3
    event = TicketEvent.objects.get(ticket=ticket, kind=Kind.ESCALATED)
    assert event.data["reason"] == "нужен разработчик"


def test_escalate_without_a_reason_is_refused_keeping_the_line() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    response = _client(d.agent1).post(_url(ticket, "line"), {"line-line": "3", "line-reason": ""})
    assert response.status_code == 422
    assert response.context["forms"]["line"].errors["reason"]
    assert '<option value="3" selected>' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.line == 1


def test_assign_to_me_and_to_nobody() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    client = _client(d.agent1)
    response = client.post(_url(ticket, "assign"), {"assign-assignee": "agent1"}, follow=True)
    ticket.refresh_from_db()
    assert ticket.assignee == d.agent1
    assert "The request is assigned to you." in response.content.decode()
    client.post(_url(ticket, "assign"), {"assign-assignee": ""})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_assigning_a_customer_is_refused() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    response = _client(d.agent1).post(
        _url(ticket, "assign"), {"assign-assignee": d.requester.get_username()}
    )
    assert response.status_code == 422
    assert response.context["forms"]["assign"].errors["assignee"]


def test_defect_workflow_confirm_record_development_and_workaround() -> None:
    # given: R1.6 a confirmed defect gets a workaround and a fix date
    d = desk("set-retail", "standard", attributes={"cash_registers": 60})
    ticket = _file(d, "Дефект", type="defect")
    client = _client(d.agent1)
    # when
    client.post(_url(ticket, "milestone"), {"milestone-milestone": "defect_confirmed"})
    client.post(
        _url(ticket, "development"),
        {"development-reference": "SET-1234", "development-fix_promised_on": "2026-12-20"},
    )
    client.post(_url(ticket, "milestone"), {"milestone-milestone": "workaround_provided"})
    # then
    ticket.refresh_from_db()
    assert ticket.defect_confirmed_at is not None
    assert ticket.development_reference == "SET-1234"
    assert ticket.fix_promised_on == date(2026, 12, 20)
    assert ticket.workaround_provided_at is not None


def test_workaround_before_confirming_the_defect_is_refused() -> None:
    d = desk("set-retail", "standard", attributes={"cash_registers": 60})
    ticket = _file(d, "Дефект", type="defect")
    response = _client(d.agent1).post(
        _url(ticket, "milestone"),
        {"milestone-milestone": "workaround_provided", "milestone-note": "перезапуск"},
    )
    assert response.status_code == 422
    assert response.context["forms"]["milestone"].non_field_errors()
    assert 'value="перезапуск"' in response.content.decode()


def test_development_details_before_confirming_are_refused() -> None:
    d = desk("set-retail", "standard", attributes={"cash_registers": 60})
    ticket = _file(d, "Дефект", type="defect")
    response = _client(d.agent1).post(
        _url(ticket, "development"), {"development-reference": "SET-1"}
    )
    assert response.status_code == 422
    assert response.context["forms"]["development"].non_field_errors()


def test_out_of_scope_flag_and_clearing_it() -> None:
    # given: R1.7 hardware, OS and DBMS problems are out of scope
    d = desk("set-retail", "standard", attributes={"cash_registers": 60})
    ticket = _file(d, "Сломался сервер")
    client = _client(d.agent1)
    client.post(_url(ticket, "scope"), {"scope-item": "hardware-os-dbms", "scope-reason": "железо"})
    ticket.refresh_from_db()
    assert ticket.out_of_scope == "hardware-os-dbms"
    client.post(_url(ticket, "scope"), {"scope-item": ""})
    ticket.refresh_from_db()
    assert ticket.out_of_scope == ""


def test_unknown_out_of_scope_item_is_refused() -> None:
    d = desk("set-retail", "standard", attributes={"cash_registers": 60})
    ticket = _file(d, "Сломался сервер")
    response = _client(d.agent1).post(_url(ticket, "scope"), {"scope-item": "weather"})
    assert response.status_code == 422
    assert response.context["forms"]["scope"].errors["item"]


def test_time_is_logged_with_an_activity() -> None:
    # given: R4.5 hours are accounted per request
    d = desk("krizhik", "reliable")
    ticket = _file(d, "Отчёт в ФНС")
    _client(d.agent1).post(
        _url(ticket, "time"),
        {"time-minutes": "45", "time-activity": "consultation", "time-billable": "on"},
    )
    entry = TimeEntry.objects.get(ticket=ticket)
    assert (entry.minutes, entry.activity, entry.billable) == (45, "consultation", True)


def test_time_over_a_day_is_refused_with_the_note_kept() -> None:
    d = desk("krizhik", "reliable")
    ticket = _file(d, "Отчёт в ФНС")
    response = _client(d.agent1).post(
        _url(ticket, "time"),
        {"time-minutes": "5000", "time-activity": "consultation", "time-note": "созвон"},
    )
    assert response.status_code == 422
    assert response.context["forms"]["time"].errors["minutes"]
    assert "созвон" in response.content.decode()
    assert not TimeEntry.objects.filter(ticket=ticket).exists()


def test_paid_work_is_proposed_after_the_maximum_time() -> None:
    # given: R4.6 Start's 4 h resolution has run out
    d = desk("krizhik", "start")
    ticket = _file(d, "Печатная форма", now=timezone.now() - timedelta(days=10))
    # when
    response = _client(d.agent1).post(
        _url(ticket, "estimate"),
        {
            "estimate-scope": "Доработать печатную форму",
            "estimate-hours": "3",
            "estimate-rate": "2500",
            "estimate-currency": "RUB",
            "estimate-valid_until": (timezone.now() + timedelta(days=7)).date().isoformat(),
        },
    )
    # then
    assert response.status_code == 302
    estimate = Estimate.objects.get(ticket=ticket)
    assert (estimate.hours, estimate.total) == (3, 7500)


def test_paid_work_with_a_past_validity_is_refused_next_to_the_date() -> None:
    d = desk("krizhik", "start")
    ticket = _file(d, "Печатная форма", now=timezone.now() - timedelta(days=10))
    response = _client(d.agent1).post(
        _url(ticket, "estimate"),
        {
            "estimate-scope": "Доработать печатную форму",
            "estimate-hours": "3",
            "estimate-rate": "2500",
            "estimate-currency": "RUB",
            "estimate-valid_until": "2020-01-01",
        },
    )
    assert response.status_code == 422
    assert response.context["forms"]["estimate"].errors["valid_until"]
    assert "Доработать печатную форму" in response.content.decode()


def test_paid_work_form_is_absent_without_paid_work_in_the_regulation() -> None:
    d = desk("cera", "standard")
    ticket = _file(d)
    assert 'id="estimate-form"' not in _client(d.agent1).get(_url(ticket)).content.decode()


# ------------------------------------------------------------------ query count
def _page_queries(client: Client, ticket: Ticket) -> int:
    client.get(_url(ticket))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(_url(ticket))
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_request_page_query_count_does_not_grow_with_comments_events_and_requests() -> None:
    # given: a request with 2 comments, then with 20 more, an attachment each, and more requests
    d = desk("krizhik", "reliable")
    ticket = _file(d, "Отчёт в ФНС")
    client = _client(d.agent1)

    def talk(count: int) -> None:
        for i in range(count):
            comment = services.ticket_reply(ticket=ticket, author=d.agent1, body=f"ответ {i}")
            services.attachment_add(
                ticket=ticket, uploader=d.agent1, name=f"f{i}.txt", content=b"x", comment=comment
            )
            services.ticket_reply(ticket=ticket, author=d.agent2, body=f"note {i}", public=False)

    talk(2)
    few = _page_queries(client, ticket)
    talk(10)
    for i in range(5):
        _file(d, f"Другая {i}")
    # when
    many = _page_queries(client, ticket)
    # then
    assert many == few
    assert few <= 20


def test_the_request_page_lists_the_mail_sent_about_it_and_why_some_was_not(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: a request filed in the portal, whose requester has no e-mail address, so the
    # R3.4 acknowledgement the outgoing-mail scan queues is skipped with the reason
    from reglament.mailbox.models import OutboundMessage
    from reglament.mailbox.outgoing import outbound_scan_events

    d = desk("cera", "standard")
    d.requester.email = ""
    d.requester.save()
    ticket = _file(d)
    with django_capture_on_commit_callbacks(execute=False):
        outbound_scan_events()
    message = OutboundMessage.objects.get(ticket=ticket)
    assert message.state == OutboundMessage.State.SKIPPED
    # when: an agent opens the request
    page = _client(d.agent1).get(_url(ticket)).content.decode()
    # then: the mail section says what was not sent, and why
    assert 'id="mail"' in page
    assert str(message.get_kind_display()).capitalize() in page
    assert "No e-mail address to send to." in page
