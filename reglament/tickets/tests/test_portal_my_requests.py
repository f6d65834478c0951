"""My requests: filters as URL parameters, pagination, whose requests, bounded queries."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import DjangoAssertNumQueries

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.regulations.services import contract_create
from reglament.tickets import services
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

Role = Membership.Role


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _numbers(page: str) -> list[str]:
    return re.findall(r'class="request-card__number" href="/requests/([^/]+)/"', page)


def _file(d: Desk, subject: str, user: User | None = None) -> Ticket:
    return services.ticket_create(actor=user or d.requester, subject=subject, priority="high")


def test_open_closed_and_all_and_a_text_search_are_url_parameters() -> None:
    # given: two open requests and one the requester closed (R3.8)
    d = desk("cera", "standard")
    printer = _file(d, "Принтер чеков")
    camera = _file(d, "Камера 7")
    closed = _file(d, "Старый вопрос")
    services.ticket_close_by_requester(ticket=closed, actor=d.requester)
    client = _client(d.requester)
    # when / then: open by default, newest first
    assert _numbers(client.get("/requests/").content.decode()) == [camera.number, printer.number]
    assert _numbers(client.get("/requests/?state=closed").content.decode()) == [closed.number]
    assert len(_numbers(client.get("/requests/?state=all").content.decode())) == 3
    # the text is looked for in the subject and in the number
    found = client.get("/requests/", {"state": "all", "q": "Принтер"}).content.decode()
    assert _numbers(found) == [printer.number]
    by_number = client.get(f"/requests/?state=all&q={camera.number[-6:]}")
    assert _numbers(by_number.content.decode()) == [camera.number]
    assert 'value="Принтер"' in found


def test_fifty_per_page_and_the_pages_keep_the_filters() -> None:
    # given: 52 open requests
    d = desk("cera", "standard")
    for n in range(52):
        _file(d, f"Заявка {n}")
    client = _client(d.requester)
    # when
    first = client.get("/requests/", {"state": "open", "q": "Заявка"}).content.decode()
    second = client.get(
        "/requests/", {"state": "open", "q": "Заявка", "page": "2"}
    ).content.decode()
    # then
    assert len(_numbers(first)) == 50
    assert len(_numbers(second)) == 2
    assert "Page 1 of 2" in first
    assert 'href="?state=open&amp;q=%D0%97%D0%B0%D1%8F%D0%B2%D0%BA%D0%B0&amp;page=2"' in first
    assert "52 requests" in first


def test_a_customer_admin_switches_between_mine_and_the_organisations() -> None:
    # given: one request of the admin, one of a colleague
    d = desk("cera", "standard")
    own = _file(d, "Моя", user=d.customer_admin)
    colleague = _file(d, "Коллеги")
    client = _client(d.customer_admin)
    # when / then: the organisation's by default, only their own on "mine"
    everything = client.get("/requests/").content.decode()
    assert sorted(_numbers(everything)) == sorted([own.number, colleague.number])
    assert _numbers(client.get("/requests/?scope=mine").content.decode()) == [own.number]
    assert 'name="scope"' in everything
    # and a requester has no such switch, and cannot widen the list by the URL
    requester = _client(d.requester).get("/requests/?scope=organisation").content.decode()
    assert 'name="scope"' not in requester
    assert _numbers(requester) == [colleague.number]


def test_a_partner_admin_may_list_only_its_clients_requests() -> None:
    # given: R2.1 — a partner with a client; one request each
    d = desk("cera", "standard")
    partner = OrganisationFactory.create(kind=Organisation.Kind.PARTNER)
    contract_create(
        organisation=partner, version=d.version, tariff="standard", valid_from=date(2024, 1, 1)
    )
    client_org = OrganisationFactory.create(name="Клиент", partner=partner)
    engineer = PersonFactory.create(organisation=partner, role=Role.REQUESTER)
    admin = PersonFactory.create(organisation=partner, role=Role.CUSTOMER_ADMIN)
    own = services.ticket_create(actor=engineer, subject="Своя")
    theirs = services.ticket_create(actor=engineer, subject="Клиента", organisation=client_org)
    client = _client(admin)
    # when / then
    assert sorted(_numbers(client.get("/requests/").content.decode())) == sorted(
        [own.number, theirs.number]
    )
    assert _numbers(client.get("/requests/?scope=clients").content.decode()) == [theirs.number]


def test_the_list_shows_customer_status_labels_promised_times_and_whether_met() -> None:
    # given: a request whose first reply came in time
    d = desk("cera", "standard")
    ticket = _file(d, "Камера")
    services.ticket_transition(ticket=ticket, actor=d.agent1, status="in-progress")
    # when
    page = _client(d.requester).get("/requests/").content.decode()
    # then: the regulation's status title and the clock states
    regulation = ticket.version.parsed()
    assert regulation.status("in-progress").title.get("en") in page
    assert "Resolution time" in page
    assert 'class="clock-state clock-state--running">in progress<' in page


@pytest.mark.parametrize("count", [3, 30])
def test_the_query_count_does_not_grow_with_the_requests(
    count: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    d = desk("cera", "standard")
    for n in range(count):
        services.ticket_reply(ticket=_file(d, f"Заявка {n}"), author=d.agent1, body="Смотрим.")
    client = _client(d.customer_admin)
    client.get("/requests/")  # the parsed regulation is cached per process
    # when / then: session, user, memberships, count, page, events, header
    with django_assert_max_num_queries(10):
        response = client.get("/requests/?state=all&q=Заявка")
    assert response.content.decode().count('class="card request-card"') == count
