"""The customer portal's request pages: who sees which request, the conversation, the clocks.

The pages reuse the API's tenancy (tickets_visible_to / ticket_get): a requester
sees their own requests, a customer admin their organisation's, a partner's
admin also its clients' (R2.1); anyone else gets a 404, never a 403.
"""

from datetime import date

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import DjangoAssertNumQueries

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.regulations.services import contract_create
from reglament.sla.selectors import ticket_clocks
from reglament.tickets import services
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

Role = Membership.Role


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _file(d: Desk, subject: str = "Камеры не считают посетителей") -> Ticket:
    return services.ticket_create(actor=d.requester, subject=subject, priority="high")


def test_requester_sees_their_request_with_status_registered_time_and_promises() -> None:
    # given: a CERA requester's request
    d = desk("cera", "standard")
    ticket = _file(d)
    regulation = ticket.version.parsed()
    zone = regulation.calendars[regulation.default_calendar].timezone
    # when
    response = _client(d.requester).get("/requests/")
    # then: number, subject, the regulation's status title, time in the regulation's zone
    assert response.status_code == 200
    page = response.content.decode()
    assert ticket.number in page
    assert "Камеры не считают посетителей" in page
    assert regulation.status(ticket.status).title.get("en") in page
    # R3.4: the registration instant, in the regulation's time zone
    registered = timezone.localtime(ticket.registered_at, zone).strftime("%d.%m.%Y %H:%M")
    assert registered in page
    assert zone.key in page
    assert "Resolution time" in page


def test_another_customer_neither_lists_nor_opens_the_request() -> None:
    # given: two customers of the same vendor
    a = desk("cera", "standard")
    b = desk("cera", "standard")
    ticket = _file(a)
    client = _client(b.requester)
    # when
    listing = client.get("/requests/")
    detail = client.get(f"/requests/{ticket.number}/")
    # then: not told the request exists
    assert ticket.number not in listing.content.decode()
    assert detail.status_code == 404


def test_another_requester_of_the_same_organisation_gets_404() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    colleague = PersonFactory.create(organisation=d.customer, role=Role.REQUESTER)
    # when
    response = _client(colleague).get(f"/requests/{ticket.number}/")
    # then
    assert response.status_code == 404


def test_customer_admin_sees_their_organisations_requests() -> None:
    # given: a request filed by the admin's colleague
    d = desk("cera", "standard")
    ticket = _file(d)
    client = _client(d.customer_admin)
    # when
    listing = client.get("/requests/")
    detail = client.get(f"/requests/{ticket.number}/")
    # then
    assert ticket.number in listing.content.decode()
    assert detail.status_code == 200


def test_partner_admin_sees_a_request_of_its_client() -> None:
    # given: R2.1 — a partner files a request for its client
    d = desk("cera", "standard")
    partner = OrganisationFactory.create(name="Партнёр", kind=Organisation.Kind.PARTNER)
    contract_create(
        organisation=partner, version=d.version, tariff="standard", valid_from=date(2024, 1, 1)
    )
    client_org = OrganisationFactory.create(name="Клиент партнёра", partner=partner)
    partner_requester = PersonFactory.create(organisation=partner, role=Role.REQUESTER)
    partner_admin = PersonFactory.create(organisation=partner, role=Role.CUSTOMER_ADMIN)
    ticket = services.ticket_create(
        actor=partner_requester, subject="Этикетка клиента", organisation=client_org
    )
    # when
    listing = _client(partner_admin).get("/requests/")
    detail = _client(partner_admin).get(f"/requests/{ticket.number}/")
    # then: listed with the client's name, and opened
    assert ticket.number in listing.content.decode()
    assert "Клиент партнёра" in listing.content.decode()
    assert detail.status_code == 200
    # and the customer itself does not see the partner's client request
    assert _client(d.customer_admin).get(f"/requests/{ticket.number}/").status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    # when
    listing = Client().get("/requests/")
    detail = Client().get(f"/requests/{ticket.number}/")
    # then
    assert listing.status_code == 302
    assert listing["Location"] == "/sign-in/?next=/requests/"
    assert detail.status_code == 302
    assert detail["Location"].startswith("/sign-in/?next=")


def test_staff_get_the_list_with_a_note_that_the_workspace_comes_later() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    # when
    response = _client(d.agent1).get("/requests/")
    # then
    assert response.status_code == 200
    assert 'id="staff-note"' in response.content.decode()
    assert ticket.number in response.content.decode()


def test_internal_notes_never_reach_the_customer() -> None:
    # given: a public reply and an internal note by an agent
    d = desk("cera", "standard")
    ticket = _file(d)
    services.ticket_reply(ticket=ticket, author=d.agent1, body="Смотрим логи камер.")
    services.ticket_reply(
        ticket=ticket, author=d.agent1, body="Клиент опять без прошивки", public=False
    )
    services.attachment_add(
        ticket=ticket, uploader=d.agent1, name="internal.txt", content=b"x", public=False
    )
    services.attachment_add(
        ticket=ticket, uploader=d.agent1, name="howto.txt", content=b"y", public=True
    )
    # when
    page = _client(d.requester).get(f"/requests/{ticket.number}/").content.decode()
    # then
    assert "Смотрим логи камер." in page
    assert "Клиент опять без прошивки" not in page
    assert "internal.txt" not in page
    assert "howto.txt" in page


def test_customer_reply_resumes_the_paused_resolution_clock() -> None:
    # given: R3.7 — support asks the customer back, the clock stands still
    d = desk("cera", "standard")
    ticket = _file(d)
    services.ticket_transition(ticket=ticket, actor=d.agent1, status="in-progress")
    services.ticket_transition(ticket=ticket, actor=d.agent1, status="clarification")
    _regulation, states = ticket_clocks(Ticket.objects.get(pk=ticket.pk))
    assert {s.metric: s.state for s in states}["resolution"] == "paused"
    client = _client(d.requester)
    assert 'id="waiting-note"' in client.get(f"/requests/{ticket.number}/").content.decode()
    # when: the requester replies through the portal
    response = client.post(f"/requests/{ticket.number}/", {"body": "Прошивка 2.4.1"})
    # then: the reply is shown, the request is back in work, the clock runs again
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Прошивка 2.4.1" in page
    assert "Your reply has been sent." in page
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    _regulation, states = ticket_clocks(ticket)
    assert {s.metric: s.state for s in states}["resolution"] == "running"
    assert ticket.comments.get().channel == "portal"


def test_an_empty_reply_is_refused_next_to_the_field() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    # when
    response = _client(d.requester).post(f"/requests/{ticket.number}/", {"body": "   "})
    # then
    assert response.status_code == 422
    assert "Write a reply first." in response.content.decode()
    assert not ticket.comments.exists()


def test_a_too_long_reply_keeps_what_was_typed() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    body = "Длинный журнал " * 1500
    # when
    response = _client(d.requester).post(f"/requests/{ticket.number}/", {"body": body})
    # then
    assert response.status_code == 422
    page = response.content.decode()
    assert "Ensure this value has at most 20000 characters" in page
    assert body.strip()[:200] in page


def test_requester_closes_their_request() -> None:
    # given: R3.8 — CERA has a final status without a resolution (Closed)
    d = desk("cera", "standard")
    ticket = _file(d)
    client = _client(d.requester)
    assert 'id="close-form"' in client.get(f"/requests/{ticket.number}/").content.decode()
    # when
    response = client.post(f"/requests/{ticket.number}/close/")
    # then
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert not ticket.is_open
    page = client.get(f"/requests/{ticket.number}/").content.decode()
    assert 'id="close-form"' not in page
    assert 'id="reply-form"' not in page


def test_closing_a_closed_request_shows_the_services_error() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    services.ticket_close_by_requester(ticket=ticket, actor=d.requester)
    client = _client(d.requester)
    # when
    response = client.post(f"/requests/{ticket.number}/close/", follow=True)
    # then
    assert f"The request {ticket.number} is closed; reopen it first." in (response.content.decode())


def test_staff_see_no_close_button() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d)
    # when
    page = _client(d.agent1).get(f"/requests/{ticket.number}/").content.decode()
    # then
    assert 'id="close-form"' not in page


@pytest.mark.parametrize("count", [1, 20])
def test_my_requests_query_count_does_not_grow_with_the_requests(
    count: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    d = desk("cera", "standard")
    for n in range(count):
        services.ticket_reply(ticket=_file(d, f"Заявка {n}"), author=d.agent1, body="Смотрим.")
    client = _client(d.requester)
    client.get("/requests/")  # the parsed regulation is cached per process
    # session, user, membership (view, selector, header), requests, their events, …
    # when / then
    with django_assert_max_num_queries(10):
        response = client.get("/requests/")
    assert response.content.decode().count('class="card request-card"') == count
