"""The portal's new-request form: R5.4 manuals step, R3.1 priority, the promise preview,
R2.1 partner filing, attachments, and service errors shown next to their field."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.tests.factories import OrganisationFactory
from reglament.knowledge.demo import demo_articles_create
from reglament.knowledge.models import Suggestion
from reglament.regulations.services import contract_create
from reglament.sla.selectors import promise_preview, ticket_clocks
from reglament.tickets.models import Attachment, Ticket
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

Role = Membership.Role


class Now:
    """The instant the views and services believe it is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
        self.value = datetime.fromisoformat(text)
        monkeypatch.setattr(timezone, "now", lambda: self.value)


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _field(page: str, field_id: str) -> str:
    """The HTML of one field's wrapper (`id="<field_id>"` … up to the next field)."""
    start = page.index(f'id="{field_id}"')
    following = re.search(r'<(div|fieldset) class="field[ "]', page[start + 1 :])
    return page[start : start + 1 + (following.start() if following else len(page))]


CERA_ANSWERS = {"type": "defect", "impact": "limited", "workaround": "none"}


# ----------------------------------------------------------- manuals (R5.4)
def test_a_regulation_with_documentation_first_asks_whether_the_manuals_were_checked() -> None:
    # given: R5.4 — Rusbitech's regulation links the operator manuals
    d = desk("rusbitech", "standard")
    client = _client(d.requester)
    # when
    first = client.get("/requests/new/").content.decode()
    after = client.get("/requests/new/?checked=1").content.decode()
    # then: the step links the manuals and continues to the form
    assert 'id="manuals-step"' in first
    assert 'href="https://rusbitech.ru/"' in first
    assert "Operator manuals of PTKA SKPS VS RF" in first
    assert 'href="/requests/new/?checked=1"' in first
    assert 'id="request-form"' not in first
    assert 'id="request-form"' in after


def test_a_regulation_without_documentation_goes_straight_to_the_form() -> None:
    # given: CERA configures no documentation
    d = desk("cera", "standard")
    # when
    page = _client(d.requester).get("/requests/new/").content.decode()
    # then
    assert 'id="manuals-step"' not in page
    assert 'id="request-form"' in page


# ------------------------------------------------------- filing, R3.1, R3.4
def test_cera_request_is_filed_with_the_priority_its_answers_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: R3.1 — "functions substantially limited" and "no workaround" is High in CERA
    Now(monkeypatch, "2026-11-30T14:05:00+03:00")
    d = desk("cera", "standard")
    # when
    response = _client(d.requester).post(
        "/requests/new/",
        {**CERA_ANSWERS, "subject": "Отчёт по посетителям пуст", "description": "С утра."},
    )
    # then: registered with the derived priority, and sent to its page with the confirmation
    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.impact, ticket.workaround, ticket.type) == (
        "high",
        "limited",
        "none",
        "defect",
    )
    assert (ticket.subject, ticket.description, ticket.channel) == (
        "Отчёт по посетителям пуст",
        "С утра.",
        "portal",
    )
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{ticket.number}/?registered=1"
    page = _client(d.requester).get(response["Location"]).content.decode()
    # R3.4: number and timestamp, in the regulation's zone
    assert f"Request {ticket.number} registered at 30.11.2026 14:05 (Europe/Moscow)" in page


def test_the_preview_explains_the_priority_and_promises_the_created_requests_due_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a CERA customer at 10:00 on a working Monday, answers giving High
    Now(monkeypatch, "2026-11-30T10:00:00+03:00")
    d = desk("cera", "standard")
    client = _client(d.requester)
    # when: the form asks for the preview, then the request is filed at the same instant
    preview = client.get("/requests/new/preview/", CERA_ANSWERS).content.decode()
    client.post("/requests/new/", {**CERA_ANSWERS, "subject": "Камеры не считают"})
    # then: the explanation names the answers
    assert "High" in preview
    assert "Because you answered “The system’s functions are substantially limited”" in (
        preview.replace("&#x27;", "’").replace("'", "’")
    )
    # and every promised due instant of the preview is the created request's, exactly
    ticket = Ticket.objects.get()
    now = datetime.fromisoformat("2026-11-30T10:00:00+03:00")
    _regulation, previewed = promise_preview(
        contract=d.contract, priority="high", type="defect", now=now
    )
    _regulation, actual = ticket_clocks(ticket, now=now)
    assert [(s.metric, s.due) for s in previewed] == [(s.metric, s.due) for s in actual]
    promised = [s for s in actual if s.target is not None and s.target.promise and s.due]
    assert promised
    zone = ticket.version.parsed().calendars["working"].timezone
    for state in promised:
        assert state.due is not None
        assert state.due.astimezone(zone).strftime("%H:%M") in preview
    # R3.6 High, lines 1–2: 15 working hours, counted 10:00–19:00 on working days
    resolution = next(s for s in actual if s.metric == "resolution")
    assert resolution.due == datetime.fromisoformat("2026-12-01T16:00:00+03:00")
    assert "counted 10:00–19:00 Moscow time on working days" in preview


def test_a_missing_answer_is_shown_next_to_its_question_and_everything_typed_is_kept() -> None:
    # given
    d = desk("cera", "standard")
    # when: the workaround question is left unanswered
    response = _client(d.requester).post(
        "/requests/new/",
        {"type": "defect", "impact": "limited", "subject": "Камеры <3>", "description": "Текст"},
    )
    # then: refused, the error beside the question, the input kept, nothing stored
    page = response.content.decode()
    assert response.status_code == 422
    assert "Answer this question: it sets the priority." in _field(page, "workaround-field")
    assert 'value="Камеры &lt;3&gt;"' in page
    assert "Текст</textarea>" in page
    assert 'value="limited" id="id_impact_2" required checked' in page
    assert Ticket.objects.count() == 0


def test_a_service_the_tariff_excludes_is_refused_next_to_the_service_field() -> None:
    # given: R4.1 — Start does not include mass correction
    d = desk("krizhik", "start")
    # when
    response = _client(d.requester).post(
        "/requests/new/",
        {"type": "request", "service": "mass-correction", "subject": "Перепровести документы"},
    )
    # then: the service's refusal is beside the service field, the subject kept
    page = response.content.decode()
    assert response.status_code == 422
    assert "does not include" in _field(page, "id_service")
    assert 'value="Перепровести документы"' in page
    assert Ticket.objects.count() == 0


def test_an_excluded_service_accepted_as_paid_work_is_filed() -> None:
    # given
    d = desk("krizhik", "start")
    # when: the customer accepts paid work
    _client(d.requester).post(
        "/requests/new/",
        {
            "type": "request",
            "service": "mass-correction",
            "accept_paid_work": "on",
            "subject": "Перепровести документы",
        },
    )
    # then
    ticket = Ticket.objects.get()
    assert ticket.service == "mass-correction"


# ------------------------------------------------------------ partner, R2.1
def _partner_desk() -> tuple[Desk, Organisation, User]:
    d = desk("set-partner", "expert")
    d.customer.kind = Organisation.Kind.PARTNER
    d.customer.save()
    client_org = OrganisationFactory.create(name="Аптека «Здоровье»", partner=d.customer)
    return d, client_org, d.requester


def test_a_partner_chooses_its_client_and_the_request_belongs_to_the_client() -> None:
    # given: R2.1 — a partner on Expert with a client
    d, client_org, partner = _partner_desk()
    client = _client(partner)
    form = client.get("/requests/new/").content.decode()
    # then: the client select lists the partner and its client, and is required
    assert "For which client" in form
    assert f'<option value="{client_org.pk}"' in form
    assert f'<option value="{d.customer.pk}"' in form
    # when
    client.post(
        "/requests/new/",
        {"organisation": client_org.pk, "type": "consultation", "subject": "Касса не печатает"},
    )
    # then: the client's request under the partner's contract
    ticket = Ticket.objects.get()
    assert ticket.organisation == client_org
    assert ticket.contract == d.contract


def test_a_partner_must_say_for_which_client() -> None:
    # given
    _d, _client_org, partner = _partner_desk()
    # when
    response = _client(partner).post(
        "/requests/new/", {"type": "consultation", "subject": "Касса не печатает"}
    )
    # then
    assert response.status_code == 422
    assert "This field is required." in _field(response.content.decode(), "organisation-field")


def test_a_partner_cannot_file_for_another_partners_client_the_service_refuses() -> None:
    # given: another partner's client
    d, _client_org, partner = _partner_desk()
    other_partner = OrganisationFactory.create(kind=Organisation.Kind.PARTNER)
    contract_create(
        organisation=other_partner, version=d.version, tariff="expert", valid_from=date(2024, 1, 1)
    )
    stranger = OrganisationFactory.create(name="Чужой клиент", partner=other_partner)
    # when: the form is posted with the stranger's id
    response = _client(partner).post(
        "/requests/new/",
        {"organisation": stranger.pk, "type": "consultation", "subject": "Чужая касса"},
    )
    # then: the service's refusal beside the client select; nothing stored
    page = response.content.decode()
    assert response.status_code == 422
    assert "may file requests only for" in _field(page, "organisation-field")
    assert "Чужой клиент" not in page
    assert 'value="Чужая касса"' in page
    assert Ticket.objects.count() == 0


# --------------------------------------------------------------- attachments
def _png(name: str, size: int = 64) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"0" * size, content_type="image/png")


def test_several_files_are_attached_with_their_cyrillic_names() -> None:
    # given
    d = desk("cera", "standard")
    # when
    _client(d.requester).post(
        "/requests/new/",
        {
            **CERA_ANSWERS,
            "subject": "Скриншоты",
            "attachments": [_png("Скриншот кассы.png"), _png("лог ошибки.png", 10)],
        },
    )
    # then: both stored on the request, public, with their names
    ticket = Ticket.objects.get()
    assert sorted((a.name, a.size, a.public) for a in Attachment.objects.filter(ticket=ticket)) == [
        ("Скриншот кассы.png", 72, True),
        ("лог ошибки.png", 18, True),
    ]


@override_settings(REGLAMENT_ATTACHMENT_MAX_BYTES=50)
def test_a_too_large_file_is_refused_beside_the_field_and_nothing_is_stored() -> None:
    # given: a limit of 50 bytes
    d = desk("cera", "standard")
    before = sorted(Path(settings.REGLAMENT_ATTACHMENTS_DIR).rglob("*"))
    # when: one small and one large file
    response = _client(d.requester).post(
        "/requests/new/",
        {
            **CERA_ANSWERS,
            "subject": "Большой файл",
            "attachments": [_png("мал.png", 1), _png("видео.png", 500)],
        },
    )
    # then: the error names the file and the limit, asks to choose files again
    page = response.content.decode()
    errors = page[page.index('id="attachment-errors"') :]
    assert response.status_code == 422
    assert "“видео.png” is 508\xa0bytes; the limit is" in errors
    assert "мал.png" not in errors
    assert "choose them again" in errors
    assert 'value="Большой файл"' in page
    # and nothing is stored: no request, no attachment row, no file written
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert sorted(Path(settings.REGLAMENT_ATTACHMENTS_DIR).rglob("*")) == before


def test_the_form_shows_the_size_limit() -> None:
    # given
    d = desk("cera", "standard")
    # when
    page = _client(d.requester).get("/requests/new/").content.decode()
    # then
    assert "Several files at once; up to 20 MB each." in page
    assert 'data-max-bytes="20000000"' in page


# ------------------------------------------------- knowledge (R5.4, R2.5)
def test_typing_a_subject_suggests_readable_articles_and_the_statistics_follow() -> None:
    # given: a partner on Expert (R2.5: knowledge sections) with the demo articles
    d, _client_org, partner = _partner_desk()
    demo_articles_create()
    client = _client(partner)
    # when: the subject is typed
    response = client.post(
        "/requests/new/suggestions/", {"subject": "Лояльность скидка не применяется"}
    )
    # then: at most five links to articles, and the suggestion recorded
    page = response.content.decode()
    suggestion = Suggestion.objects.get(user=partner)
    links = re.findall(r'href="(/kb/[^"]+)"', page)
    assert 1 <= len(links) <= 5
    assert suggestion.shown == len(links)
    assert f'name="suggestion" value="{suggestion.pk}"' in page
    # when: an article is opened, then the request is filed
    article = client.get(links[0].replace("&amp;", "&"))
    client.post(
        "/requests/new/",
        {
            "organisation": d.customer.pk,
            "type": "consultation",
            "subject": "Лояльность скидка не применяется",
            "suggestion": suggestion.pk,
        },
    )
    # then: the article is shown; the opening and the filing are recorded
    assert article.status_code == 200
    assert 'id="article-body"' in article.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.opened_at is not None
    assert (suggestion.outcome, suggestion.ticket_number) == ("filed", Ticket.objects.get().number)


def test_staff_are_told_that_customers_file_here() -> None:
    # given
    d = desk("cera", "standard")
    # when
    response = _client(d.agent1).get("/requests/new/")
    # then
    assert response.status_code == 403
    assert 'id="filing-unavailable"' in response.content.decode()


def test_a_customer_without_a_contract_in_force_is_told_so() -> None:
    # given
    d = desk("cera", "standard", valid_from=date(2099, 1, 1))
    # when
    page = _client(d.requester).get("/requests/new/").content.decode()
    # then
    assert "no support contract in force today" in page
