"""The manager view: breaches and risks, load per line and agent, today's first responses.

Clocks are put in known states by registering requests at chosen instants
(the services' `now=`) and reading the view as of a fixed instant.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import PersonFactory
from reglament.sla.models import Clock
from reglament.tickets import services
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import Desk, desk
from reglament.workspace.manager_selectors import (
    ManagerFilter,
    ManagerOverview,
    duration_words,
    manager_overview,
)

pytestmark = pytest.mark.django_db

Role = Membership.Role
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=MSK)  # a Wednesday


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _file(d: Desk, at: datetime, subject: str = "Кассы не пробивают чеки", **kw: Any) -> Ticket:
    return services.ticket_create(
        actor=d.requester, subject=subject, priority="medium", now=at, **kw
    )


def _overview(**filters: object) -> ManagerOverview:
    return manager_overview(filters=ManagerFilter(**filters), now=NOW, lang="en")  # type: ignore[arg-type]


# ---------------------------------------------------------------- permissions
@pytest.mark.parametrize("role", [Role.SERVICE_MANAGER, Role.ADMINISTRATOR])
def test_service_managers_and_administrators_open_the_manager_view(role: str) -> None:
    # given
    d = desk("set-retail", "standard")
    person = PersonFactory.create(organisation=d.vendor, role=role)
    # when
    response = _client(person).get("/work/manager/")
    # then
    assert response.status_code == 200
    assert "Manager view" in response.content.decode()


@pytest.mark.parametrize("who", ["agent1", "requester", "customer_admin"])
def test_agents_and_customers_get_404(who: str) -> None:
    # given
    d = desk("set-retail", "standard")
    # when
    response = _client(getattr(d, who)).get("/work/manager/")
    # then: the page is not advertised
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    # when
    response = Client().get("/work/manager/")
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


# ------------------------------------------------------ breached and at risk
def test_a_running_clock_past_due_is_breached_and_one_past_its_warning_is_at_risk() -> None:
    # given: SET Retail, Standard: consultation within 6 h around the clock (R1.3)
    d = desk("set-retail", "standard")
    late = _file(d, NOW - timedelta(hours=7), subject="Не печатаются чеки")  # due 11:00
    close = _file(d, NOW - timedelta(hours=5, minutes=30))  # due 12:30, warned at 10:48
    fine = _file(d, NOW - timedelta(hours=1))  # due 17:00
    services.ticket_update(
        ticket=late, actor=d.agent1, assignee=d.agent1, now=NOW - timedelta(hours=6)
    )
    # when
    page = _overview()
    # then: the late one overdue by 1 h, worst first; the close one with 30 min left
    assert [row.ticket.number for row in page.breached] == [late.number]
    row = page.breached[0]
    assert row.metric_title == "Consultation"
    assert row.due_at == NOW - timedelta(hours=1)
    assert row.span == timedelta(hours=1)
    assert row.span_text == "1 h"
    assert not row.stopped
    assert row.ticket.assignee == d.agent1
    assert row.tariff_title == d.contract.tariff.title_en
    assert row.ticket.organisation == d.customer
    assert [row.ticket.number for row in page.at_risk] == [close.number]
    assert page.at_risk[0].span == timedelta(minutes=30)
    assert fine.number not in {r.ticket.number for r in page.breached + page.at_risk}
    assert (page.breached_total, page.at_risk_total, page.open_total) == (1, 1, 3)


def test_breached_requests_come_worst_first_and_a_breached_one_is_not_also_at_risk() -> None:
    # given: two overdue consultations (2 h and 1 h over); the worse one is also running
    d = desk("set-retail", "standard")
    one_hour = _file(d, NOW - timedelta(hours=7))
    two_hours = _file(d, NOW - timedelta(hours=8))
    # when
    page = _overview()
    # then
    assert [r.ticket.number for r in page.breached] == [two_hours.number, one_hour.number]
    assert [r.span for r in page.breached] == [timedelta(hours=2), timedelta(hours=1)]
    assert page.at_risk == []


def test_a_registration_missed_and_stopped_is_listed_after_the_running_breaches() -> None:
    # given: R1.2 Standard registers within 15 min; a call registered 40 min after it came in
    d = desk("set-retail", "standard")
    registered_late = services.ticket_create(
        actor=d.agent1,
        requester=d.requester,
        subject="Звонок: не работает весовой товар",
        priority="medium",
        channel="phone",
        received_at=NOW - timedelta(minutes=70),
        now=NOW - timedelta(minutes=30),
    )
    overdue = _file(d, NOW - timedelta(hours=6, minutes=10))
    # when
    page = _overview()
    # then: the running breach first; the registration "missed by 25 min"
    assert [r.ticket.number for r in page.breached] == [overdue.number, registered_late.number]
    missed = page.breached[1]
    assert missed.metric_title == "Registration"
    assert missed.stopped
    assert missed.span == timedelta(minutes=25)


def test_closed_requests_are_not_listed() -> None:
    # given: an overdue request that was then closed
    d = desk("set-retail", "standard")
    ticket = _file(d, NOW - timedelta(hours=8))
    services.ticket_transition(
        ticket=ticket,
        actor=d.agent1,
        status="done",
        resolution=_resolution(ticket),
        now=NOW - timedelta(minutes=5),
    )
    # when
    page = _overview()
    # then
    assert page.breached == []
    assert page.open_total == 0


def _resolution(ticket: Ticket) -> str:
    return ticket.version.parsed().resolutions[0].id


# ---------------------------------------------------------------------- load
def test_load_per_line_and_per_agent_counts_open_unassigned_at_risk_and_breached() -> None:
    # given: line 1 has a breached request assigned to agent1 and an unassigned one at risk;
    # line 3 (escalated) has a quiet one assigned to agent3
    d = desk("set-retail", "standard")
    breached = _file(d, NOW - timedelta(hours=7))
    at_risk = _file(d, NOW - timedelta(hours=5, minutes=30))
    quiet = _file(d, NOW - timedelta(hours=1))
    before = NOW - timedelta(minutes=50)
    services.ticket_update(ticket=breached, actor=d.agent1, assignee=d.agent1, now=before)
    services.ticket_escalate(
        ticket=quiet, actor=d.agent1, line=3, reason="Нужен разработчик", now=before
    )
    services.ticket_update(ticket=quiet, actor=d.agent3, assignee=d.agent3, now=before)
    # when
    page = _overview()
    # then
    lines = {
        load.line: (load.open, load.unassigned, load.at_risk, load.breached) for load in page.lines
    }
    assert lines == {1: (2, 1, 1, 1), 2: (0, 0, 0, 0), 3: (1, 0, 0, 0)}
    agents = {a.person.username: (a.open, a.at_risk, a.breached) for a in page.agents}
    assert agents == {"agent1": (1, 0, 1), "agent2": (0, 0, 0), "agent3": (1, 0, 0)}
    assert page.agents[0].person == d.agent1  # the busiest first
    assert at_risk.assignee is None


def test_the_line_filter_shows_only_that_lines_requests_and_agents() -> None:
    # given
    d = desk("set-retail", "standard")
    line1 = _file(d, NOW - timedelta(hours=7))
    line3 = _file(d, NOW - timedelta(hours=8))
    services.ticket_escalate(
        ticket=line3,
        actor=d.agent1,
        line=3,
        reason="Нужен разработчик",
        now=NOW - timedelta(hours=2),
    )
    # when
    page = _overview(line=3)
    # then
    assert [r.ticket.number for r in page.breached] == [line3.number]
    assert [load.line for load in page.lines] == [3]
    assert [a.person.username for a in page.agents] == ["agent3"]
    assert line1.number not in {r.ticket.number for r in page.breached}


def test_the_regulation_filter_leaves_out_other_regulations() -> None:
    # given: an overdue SET Retail consultation and a CERA request
    retail = desk("set-retail", "standard")
    cera = desk("cera", "standard")
    overdue = _file(retail, NOW - timedelta(hours=7))
    services.ticket_create(
        actor=cera.requester, subject="Камеры", priority="high", now=NOW - timedelta(hours=1)
    )
    # when
    only_cera = _overview(regulation="cera")
    only_retail = _overview(regulation="set-retail")
    # then
    assert only_cera.breached == []
    assert only_cera.open_total == 1
    assert [r.ticket.number for r in only_retail.breached] == [overdue.number]
    assert only_retail.open_total == 1
    assert [m.regulation.id for m in only_cera.daily] == []  # CERA times only resolution (R3.6)


# -------------------------------------------------------------- today's figures
def test_todays_registrations_and_consultations_against_targets() -> None:
    # given: three portal requests today (registered at once: met), a call registered
    # 40 min late (R1.2 Standard: 15 min, missed), one consultation answered in time,
    # and a request from yesterday, which does not count
    d = desk("set-retail", "standard")
    _file(d, NOW - timedelta(hours=3))
    _file(d, NOW - timedelta(hours=2))
    answered = _file(d, NOW - timedelta(hours=1))
    services.ticket_create(
        actor=d.agent1,
        requester=d.requester,
        subject="Звонок",
        priority="medium",
        channel="phone",
        received_at=NOW - timedelta(minutes=70),
        now=NOW - timedelta(minutes=30),
    )
    services.ticket_reply(
        ticket=answered,
        author=d.agent1,
        body="Перезагрузите кассу.",
        now=NOW - timedelta(minutes=20),
    )
    _file(d, NOW - timedelta(days=1))
    # when
    daily = {m.metric_id: m for m in _overview(regulation="set-retail").daily}
    # then
    registration = daily["registration"]
    assert (registration.stopped, registration.met, registration.missed) == (4, 3, 1)
    assert registration.share_met == 75
    assert registration.targets == ("15 min",)
    assert registration.day == NOW.date()
    consultation = daily["consultation"]
    assert (consultation.stopped, consultation.met, consultation.missed) == (1, 1, 0)
    assert consultation.share_met == 100
    assert consultation.targets == ("6 h",)
    assert set(daily) == {"registration", "consultation"}


def test_a_metric_with_nothing_stopped_today_shows_the_regulations_targets() -> None:
    # given: Krizhik's reaction (R4.2: 30 min on every tariff), nothing today
    desk("krizhik", "reliable")
    # when
    daily = {m.metric_id: m for m in _overview(regulation="krizhik").daily}
    # then
    reaction = daily["reaction"]
    assert (reaction.stopped, reaction.share_met) == (0, None)
    assert reaction.targets == ("30 min",)


def test_durations_read_as_words() -> None:
    assert duration_words(timedelta(seconds=30)) == "under a minute"
    assert duration_words(timedelta(minutes=5)) == "5 min"
    assert duration_words(timedelta(hours=2, minutes=3)) == "2 h 3 min"
    assert duration_words(timedelta(hours=2)) == "2 h"
    assert duration_words(timedelta(days=2, hours=3, minutes=59)) == "2 d 3 h"
    assert duration_words(timedelta(days=1, minutes=5)) == "1 d"


# -------------------------------------------------------------------- the page
def test_the_page_lists_breached_requests_with_their_clock_and_links() -> None:
    # given: a request filed 7 hours ago (its 6 h consultation is 1 h overdue now)
    d = desk("set-retail", "standard")
    now = timezone.now()
    ticket = _file(d, now - timedelta(hours=7), subject="Не печатаются чеки")
    # when
    response = _client(d.manager).get("/work/manager/")
    # then
    page = response.content.decode()
    assert f'href="/work/requests/{ticket.number}/"' in page
    row = page[page.index(f'id="row-{ticket.number}"') :]
    assert row[: row.index("</tr>")].count("1 h") == 1
    assert d.customer.name in page
    assert "Consultation" in page


def test_an_unknown_filter_value_is_shown_next_to_the_field_and_ignored() -> None:
    # given
    d = desk("set-retail", "standard")
    _file(d, timezone.now() - timedelta(hours=7))
    # when
    response = _client(d.manager).get("/work/manager/?regulation=nope&line=7")
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("Select a valid choice.") == 2
    assert 'id="breached"' in page  # the unfiltered view still shows


def test_the_page_reads_a_fixed_number_of_queries_for_3_or_30_requests() -> None:
    # given
    d = desk("set-retail", "standard")
    client = _client(d.manager)
    now = timezone.now()

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/work/manager/")
        assert response.status_code == 200
        return len(queries)

    for hours in (7, 5.5, 1):
        _file(d, now - timedelta(hours=hours))
    few = count()
    for n in range(27):
        ticket = _file(d, now - timedelta(hours=6 + n / 10))
        if n % 2:
            services.ticket_update(
                ticket=ticket, actor=d.agent1, assignee=d.agent1 if n % 4 == 1 else d.agent2
            )
    # when
    many = count()
    # then
    assert Clock.objects.filter(ticket__is_open=True).count() > 60
    assert many == few
