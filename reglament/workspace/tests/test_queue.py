"""The agent queue: staff only, ordered by the next due instant, filtered by URL parameters,
keyset pages, a self-refreshing fragment, and a query count that does not grow."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import DjangoAssertNumQueries

from reglament.accounts.selectors import person_profile
from reglament.tickets import services
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import Desk, desk
from reglament.workspace import selectors
from reglament.workspace.selectors import QueueFilters, countdown

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _file(d: Desk, subject: str, priority: str = "medium", **kwargs: Any) -> Ticket:
    return services.ticket_create(actor=d.requester, subject=subject, priority=priority, **kwargs)


def test_anonymous_visitor_is_sent_to_sign_in() -> None:
    # when
    response = Client().get("/work/")
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_customer_gets_404_for_the_queue_and_its_fragment() -> None:
    # given
    d = desk("cera", "standard")
    _file(d, "Камеры не считают посетителей")
    client = _client(d.requester)
    # when / then
    assert client.get("/work/").status_code == 404
    assert client.get("/work/queue/rows/").status_code == 404
    assert _client(d.customer_admin).get("/work/").status_code == 404


def test_agent_sees_open_requests_of_their_line_most_urgent_first() -> None:
    # given: CERA standard (R3.6): a critical request is due long before a low one
    d = desk("cera", "standard")
    low = _file(d, "Низкий приоритет", priority="low")
    critical = _file(d, "Критичный сбой", priority="critical")
    on_line_3 = _file(d, "Третья линия", priority="critical")
    services.ticket_escalate(ticket=on_line_3, actor=d.agent1, line=3, reason="код")
    # when: agent1 (line 1) opens the queue without filters
    response = _client(d.agent1).get("/work/")
    # then: their line by default, critical before low, line 3 left out
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index(critical.number) < page.index(low.number)
    assert on_line_3.number not in page
    assert [row.ticket.pk for row in response.context["page"].rows] == [critical.pk, low.pk]
    # and: each row shows its organisation, tariff, priority, status and a countdown
    assert d.customer.name in page
    assert "Standard" in page or d.contract.tariff.title_ru in page
    assert "Critical" in page
    assert "Created" in page
    assert 'data-due="' in page
    assert " left" in page


def test_choosing_all_lines_shows_every_line() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d, "Третья линия", priority="critical")
    services.ticket_escalate(ticket=ticket, actor=d.agent1, line=3, reason="код")
    # when: the line filter is sent empty (all lines)
    page = _client(d.agent1).get("/work/?line=").content.decode()
    # then
    assert ticket.number in page


def test_filters_unassigned_assigned_to_me_priority_and_text() -> None:
    # given
    d = desk("cera", "standard")
    mine = _file(d, "Моя заявка", priority="high")
    services.ticket_update(ticket=mine, actor=d.agent1, assignee=d.agent1)
    free = _file(d, "Свободная заявка", priority="low")
    client = _client(d.agent1)

    def numbers(query: str) -> list[str]:
        response = client.get(f"/work/?{query}")
        assert response.status_code == 200
        return [row.ticket.number for row in response.context["page"].rows]

    # when / then
    assert numbers("assignee=none") == [free.number]
    assert numbers("assignee=me") == [mine.number]
    assert numbers("priority=low") == [free.number]
    assert numbers("q=Свободная") == [free.number]
    assert numbers(f"q={mine.number}") == [mine.number]
    assert numbers(f"organisation={d.customer.pk}") == [mine.number, free.number]
    assert numbers("tariff=cera:standard") == [mine.number, free.number]
    # a value the form does not offer is dropped, the other filters still apply
    assert numbers("tariff=cera:nonexistent&priority=low") == [free.number]
    assert numbers("breached=on") == []


def test_tariff_and_category_filters_tell_regulations_apart() -> None:
    # given: SET Retail customers on Basic and on Premium (R1.2), one with a category (R1.5)
    basic = desk("set-retail", "basic")
    premium = desk("set-retail", "premium", attributes={"cash_registers": 120})
    on_basic = _file(basic, "Касса на Basic", priority="low")
    on_premium = _file(premium, "Касса на Premium", priority="low", category="loyalty")
    client = _client(basic.agent1)

    def numbers(query: str) -> list[str]:
        return [row.ticket.number for row in client.get(f"/work/?{query}").context["page"].rows]

    # when / then
    assert numbers("tariff=set-retail:basic") == [on_basic.number]
    assert numbers("tariff=set-retail:premium") == [on_premium.number]
    assert numbers("category=set-retail:loyalty") == [on_premium.number]
    assert numbers("category=set-retail:register-operations") == []


def test_at_risk_and_breached_filters_follow_the_request_columns() -> None:
    # given: a request registered long ago, so its clocks are past due
    d = desk("cera", "standard")
    now = timezone.now()
    late = services.ticket_create(
        actor=d.requester, subject="Давняя", priority="critical", now=now - timedelta(days=20)
    )
    fresh = _file(d, "Свежая", priority="low")
    services.ticket_reply(ticket=late, author=d.agent1, body="смотрим", public=False)
    late.refresh_from_db()
    assert late.breached
    client = _client(d.agent1)
    # when
    breached = client.get("/work/?breached=on").context["page"].rows
    # then: only the late one, shown overdue in red words
    assert [row.ticket.pk for row in breached] == [late.pk]
    assert breached[0].clock is not None
    assert breached[0].clock.level == "bad"
    assert breached[0].clock.text.startswith("overdue by")
    assert fresh.pk not in [row.ticket.pk for row in breached]


def test_closed_requests_are_not_in_the_queue() -> None:
    # given
    d = desk("cera", "standard")
    done = _file(d, "Решена")
    services.ticket_transition(ticket=done, actor=d.agent1, status="done", resolution="solved")
    # when
    page = _client(d.agent1).get("/work/?line=").content.decode()
    # then
    assert done.number not in page
    assert "No open requests match these filters." in page


def test_keyset_pages_cover_every_request_once() -> None:
    # given: 7 requests, some without a running clock (clarification pauses R3.7)
    d = desk("cera", "standard")
    tickets = [_file(d, f"Заявка {i}", priority="high") for i in range(7)]
    for ticket in tickets[:2]:
        services.ticket_transition(ticket=ticket, actor=d.agent1, status="clarification")
    filters = QueueFilters(line=1)
    profile = person_profile(d.agent1)
    seen: list[int] = []
    after = None
    # when: pages of 3
    for _page in range(5):
        page = selectors.queue_page(profile=profile, filters=filters, after=after, limit=3)
        seen += [row.ticket.pk for row in page.rows]
        if page.next_cursor is None:
            break
        after = selectors.cursor_decode(page.next_cursor)
    # then: all seven, each once, dated before undated
    assert sorted(seen) == sorted(t.pk for t in tickets)
    assert len(seen) == 7
    dated = [t for t in Ticket.objects.filter(pk__in=seen) if t.next_due_at is not None]
    assert seen[: len(dated)] == [t.pk for t in sorted(dated, key=lambda t: (t.next_due_at, t.pk))]


def test_next_page_link_keeps_the_filters() -> None:
    # given
    d = desk("cera", "standard")
    for i in range(3):
        _file(d, f"Заявка {i}", priority="low")
    client = _client(d.agent1)
    # when
    response = client.get("/work/?priority=low")
    page = response.context["page"]
    # then: a single page here; the fragment URL carries the same parameters
    assert page.next_cursor is None
    body = response.content.decode()
    assert 'hx-get="/work/queue/rows/?line=1&amp;priority=low"' in body


def test_refresh_fragment_renders_only_the_table() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d, "Камеры")
    # when
    response = _client(d.agent1).get("/work/queue/rows/?line=1")
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="queue-results"')
    assert ticket.number in body
    assert "<html" not in body


def test_a_malformed_cursor_shows_the_first_page() -> None:
    # given
    d = desk("cera", "standard")
    ticket = _file(d, "Камеры")
    # when
    response = _client(d.agent1).get("/work/?after=garbage")
    # then
    assert ticket.number in response.content.decode()


def test_countdown_turns_amber_at_the_warning_share_and_red_when_due() -> None:
    # given: a clock due at 12:00 whose warning share is reached at 11:00
    now = timezone.now()
    due, warn = now + timedelta(minutes=59, seconds=30), now - timedelta(minutes=1)
    # when / then
    assert (
        countdown(title="", state="running", due=due, warn=warn + timedelta(hours=2), now=now).level
        == "ok"
    )
    amber = countdown(title="", state="running", due=due, warn=warn, now=now)
    assert (amber.level, amber.text) == ("warn", "at risk: 59 min left")
    red = countdown(
        title="", state="running", due=now - timedelta(hours=2, minutes=5), warn=warn, now=now
    )
    assert (red.level, red.text) == ("bad", "overdue by 2 h 05 min")
    assert countdown(title="", state="paused", due=due, warn=warn, now=now).level == "paused"


def _queue_queries(client: Client, django_assert_max_num_queries: DjangoAssertNumQueries) -> int:
    client.get("/work/?line=")  # warm caches (parsed regulations)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/work/?line=")
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_queue_query_count_does_not_grow_with_the_number_of_requests(
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    # given: 3 requests, then 30 (each with a reply, an assignee and a category)
    d = desk("cera", "standard")
    client = _client(d.agent1)

    def add(count: int) -> None:
        for i in range(count):
            ticket = _file(d, f"Заявка {i}", priority="high")
            services.ticket_update(ticket=ticket, actor=d.agent1, assignee=d.agent2)
            services.ticket_reply(ticket=ticket, author=d.agent1, body="ок")

    add(3)
    few = _queue_queries(client, django_assert_max_num_queries)
    add(27)
    # when
    many = _queue_queries(client, django_assert_max_num_queries)
    # then
    assert many == few
    assert few <= 12
