"""What paid work (R4.6) must never allow: a pause with nothing to approve, an offer that
outlives its request, a total the books cannot hold, a misleading refusal, a decision
recorded under the wrong person.

Krizhik (regulations/krizhik.yaml), Start tariff: 4 working hours to solve a task
(R4.4 «4 часа*****»), then paid work on an approved estimate (R4.6).
"""

from datetime import date
from decimal import Decimal

import pytest

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.domain.regulation import load_regulation
from reglament.paidwork.models import Estimate
from reglament.paidwork.services import MAX_TOTAL, estimate_propose
from reglament.paidwork.tests.conftest import Api, Now, at
from reglament.paidwork.tests.test_api import OFFER, events_of, file_start_request
from reglament.paidwork.tests.test_regulation import KRIZHIK, line_of, problems_of
from reglament.regulations.services import contract_create, regulation_load
from reglament.tickets import services
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind

IN_PROGRESS_NEXT = "    next: [waiting-for-customer, done]\n"


# ------------------------------------------------ 1. no pause without an estimate
def test_an_agent_cannot_pause_the_clock_by_moving_to_awaiting_cost_approval(now: Now) -> None:
    """R4.6 «после согласования стоимости»: there is a cost to agree only with an estimate."""
    # given a Start request in work
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    # when the agent moves it to «Ожидает согласования стоимости» with no estimate
    now("2025-11-11T11:00:00+03:00")
    refused = Api(d.agent1).post(
        f"/tickets/{number}/transition", {"status": "awaiting-cost-approval"}
    )
    # then it is refused like any move the regulation does not allow, saying what to do
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "transition_not_allowed"
    assert "propose an estimate instead" in body["message"]
    assert (body["details"]["from"], body["details"]["to"]) == (
        "in-progress",
        "awaiting-cost-approval",
    )
    assert "awaiting-cost-approval" not in body["details"]["allowed"]
    assert Ticket.objects.get(number=number).status == "in-progress"


def test_a_waiting_status_in_a_next_list_is_a_problem_with_its_line() -> None:
    # given Krizhik's `in-progress` listing the paid-work status in its `next`
    assert KRIZHIK.count(IN_PROGRESS_NEXT) == 1
    text = KRIZHIK.replace(
        IN_PROGRESS_NEXT, "    next: [waiting-for-customer, awaiting-cost-approval, done]\n"
    )
    # when it is loaded
    problems = problems_of(text)
    # then the problem names the file, the line and how to fix it
    line = line_of(text, "next: [waiting-for-customer, awaiting-cost-approval, done]")
    (found,) = [p for p in problems if "awaiting-cost-approval" in p]
    assert found.startswith(f"krizhik.yaml:{line}: "), found
    assert "Remove 'awaiting-cost-approval' from `next`" in found
    # and the shipped file, without it, loads
    assert load_regulation(KRIZHIK, name="krizhik.yaml").status("in-progress").next == (
        "waiting-for-customer",
        "done",
    )


# ------------------------------------------------ 3. closing withdraws the open offer
def test_staff_closing_the_request_withdraws_its_open_estimate(now: Now) -> None:
    # given a Start request waiting for approval of estimate 1
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")
    assert Api(d.agent1).post(f"/tickets/{number}/estimates", OFFER).status_code == 201
    # when the agent closes it as consulted at 15:00
    now("2025-11-11T15:00:00+03:00")
    closed = Api(d.agent1).post(
        f"/tickets/{number}/transition", {"status": "done", "resolution": "consulted"}
    )
    # then the request is closed and its offer withdrawn, saying why
    assert closed.status_code == 200, closed.json()
    estimate = Estimate.objects.get(ticket__number=number)
    assert (estimate.state, estimate.decided_by_id) == ("withdrawn", d.agent1.pk)
    (event,) = events_of(number, Kind.PAID_WORK_WITHDRAWN)
    assert (event["estimate"], event["request_closed"], event["status"]) == (1, True, "done")
    # and it can no longer be approved
    late = Api(d.requester).post(f"/tickets/{number}/estimates/1/approve")
    assert late.status_code == 409


CLOSED = """\
  - id: closed
    title: {ru: "Закрыт", en: "Closed"}
    final: true
"""


def test_the_requester_closing_the_request_withdraws_its_open_estimate() -> None:
    """R3.8: a requester's close is a close too (Krizhik with a status for it)."""
    # given Krizhik with a final status needing no resolution, and a Start customer
    d = desk("krizhik", "start")
    marker = "# ASSUMPTION: the seed's outcomes"
    text = KRIZHIK.replace(marker, CLOSED + "\n" + marker)
    version, _created = regulation_load(data=text.encode(), name="krizhik.yaml")
    customer = OrganisationFactory.create()
    contract_create(
        organisation=customer, version=version, tariff="start", valid_from=date(2024, 1, 1)
    )
    requester = PersonFactory.create(organisation=customer, role=Membership.Role.REQUESTER)
    ticket = services.ticket_create(
        actor=requester, subject="Не проводится", now=at("2025-11-11T10:00:00+03:00")
    )
    estimate = estimate_propose(
        ticket=ticket,
        actor=d.agent1,
        scope="Анализ данных",
        hours="6",
        rate="3500",
        valid_until=date(2025, 11, 20),
        now=at("2025-11-11T14:30:00+03:00"),
    )
    # when the requester closes the request at 15:00
    services.ticket_close_by_requester(
        ticket=ticket, actor=requester, now=at("2025-11-11T15:00:00+03:00")
    )
    # then the offer is withdrawn in the same step, by the requester
    estimate.refresh_from_db()
    assert (estimate.state, estimate.decided_by_id) == ("withdrawn", requester.pk)
    (event,) = TicketEvent.objects.filter(ticket=ticket, kind=Kind.PAID_WORK_WITHDRAWN)
    assert (event.data["request_closed"], event.data["status"]) == (True, "closed")
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


# ------------------------------------------------ 4. the total fits its column
def test_a_total_the_column_cannot_hold_is_refused_on_the_rate(now: Now) -> None:
    # given a Start request past its 4 h
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")
    # the check follows the column: 14 digits, 2 after the point
    assert MAX_TOTAL == Decimal(10) ** 12
    # when 10000 h × 100 000 000 (= 10¹²) is proposed
    refused = Api(d.agent1).post(
        f"/tickets/{number}/estimates", {**OFFER, "hours": "10000", "rate": "100000000"}
    )
    # then it is refused on the rate, with a hint
    assert refused.status_code == 422
    body = refused.json()
    assert (body["code"], body["details"]["field"]) == ("estimate_invalid", "rate")
    assert body["details"]["hint"]
    # and the largest total below it is stored exactly
    taken = Api(d.agent1).post(
        f"/tickets/{number}/estimates", {**OFFER, "hours": "10000", "rate": "99999999.99"}
    )
    assert taken.status_code == 201, taken.json()
    assert Estimate.objects.get(ticket__number=number).total == Decimal("999999999900.00")


# ------------------------------------------------ 5. a refusal says what can be done
def test_no_service_refusal_says_what_is_possible(now: Now) -> None:
    # given a Start request that names no service
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    # when paid work is proposed for a service the tariff excludes
    refused = Api(d.agent1).post(
        f"/tickets/{number}/estimates", {**OFFER, "reason": "service_not_included"}
    )
    # then the refusal says what can actually be done
    assert refused.status_code == 409
    body = refused.json()
    assert body["details"]["reason"] == "no_service"
    assert "set the request's service" not in body["message"]
    assert "after_target" in body["message"]
    assert "new request naming the service" in body["message"]


# ------------------------------------------------ 6. the decision is recorded as made
@pytest.mark.parametrize(("who", "by_requester"), [("customer_admin", False), ("requester", True)])
def test_a_decline_records_who_declined(now: Now, who: str, by_requester: bool) -> None:
    """R4.6 approved_by [requester, customer_admin]: either may decline; the log says which."""
    # given a Start request waiting for approval
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")
    assert Api(d.agent1).post(f"/tickets/{number}/estimates", OFFER).status_code == 201
    # when the customer admin (or the requester) declines it
    now("2025-11-11T15:00:00+03:00")
    actor = getattr(d, who)
    assert Api(actor).post(f"/tickets/{number}/estimates/1/decline").status_code == 200
    # then the decline and the closing status change name them truly
    (declined,) = events_of(number, Kind.PAID_WORK_DECLINED)
    assert declined["role"] == who
    closing = TicketEvent.objects.filter(ticket__number=number, kind=Kind.STATUS_CHANGED).latest(
        "id"
    )
    assert (closing.data["new"], closing.data["by_requester"], closing.actor_id) == (
        "done",
        by_requester,
        actor.pk,
    )


def test_an_open_offer_keeps_the_request_waiting_until_it_is_decided_or_withdrawn(
    now: Now,
) -> None:
    """R4.6: work resumes on the customer's decision or a withdrawal, never past an open offer."""
    # given a Start request past its 4 h, waiting on estimate 1
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")
    agent = Api(d.agent1)
    assert agent.post(f"/tickets/{number}/estimates", OFFER).status_code == 201
    # when the agent moves it back to work with a plain status change
    now("2025-11-11T15:00:00+03:00")
    refused = agent.post(f"/tickets/{number}/transition", {"status": "in-progress"})
    # then it is refused, saying how; after a withdrawal the request is back in work
    assert refused.status_code == 409, refused.json()
    assert refused.json()["code"] == "transition_not_allowed"
    assert "withdraw it first" in refused.json()["message"]
    assert Ticket.objects.get(number=number).status == "awaiting-cost-approval"
    withdrawn = agent.post(f"/tickets/{number}/estimates/1/withdraw", {})
    assert withdrawn.status_code == 200, withdrawn.json()
    assert Ticket.objects.get(number=number).status == "in-progress"
