"""Paid work through the HTTP API (R4.6, R4.1, R1.1), on the shipped regulations.

Krizhik (regulations/krizhik.yaml) counts in working hours, Mon–Fri 09:00–18:00 Moscow
time; Tue 2025-11-11 is an ordinary working day. The `start` tariff's maximum time to
solve a task is 4 working hours (R4.4 «4 часа*****»), after which, if consultation cannot
solve it, it becomes paid work on an approved estimate (R4.6, footnote *****).
"""

from typing import Any

import pytest

from reglament.paidwork.tests.conftest import Api, Now, clock
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind

OFFER = {
    "scope": "Анализ данных в базе: почему не проводится поступление",
    "hours": "6",
    "rate": "3500",
    "valid_until": "2025-11-20",
}


def file_start_request(d: Desk, now: Now, subject: str = "Не проводится поступление") -> str:
    """A Start request registered Tue 10:00 and taken in work by agent1 at 10:10."""
    now("2025-11-11T10:00:00+03:00")
    response = Api(d.requester).post("/tickets", {"subject": subject})
    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    now("2025-11-11T10:10:00+03:00")
    moved = Api(d.agent1).post(f"/tickets/{number}/transition", {"status": "in-progress"})
    assert moved.status_code == 200, moved.json()
    return str(number)


def kinds(api: Api, number: str) -> list[str]:
    return [e["kind"] for e in api.get(f"/tickets/{number}/events").json()]


def events_of(number: str, *wanted: str) -> list[dict[str, Any]]:
    return [
        {"kind": e.kind, **e.data}
        for e in TicketEvent.objects.filter(ticket__number=number, kind__in=wanted).order_by(
            "created_at", "id"
        )
    ]


def test_a_start_request_past_its_four_hours_becomes_paid_work_the_requester_approves(
    now: Now,
) -> None:
    """R4.6, done when: a Start request past its 4 h maximum becomes paid work that the
    customer approves through the API; waiting for approval stops the clock."""
    # given a Krizhik Start request registered Tue 10:00, in work since 10:10
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    agent, requester = Api(d.agent1), Api(d.requester)
    # R4.4 «4 часа*****»: due at 14:00 the same day
    assert clock(agent, number)["due_at"] == "2025-11-11T14:00:00+03:00"

    # when the 4 h pass and at 14:30 the agent proposes paid work
    now("2025-11-11T14:30:00+03:00")
    assert clock(agent, number)["state"] == "breached"
    proposed = agent.post(f"/tickets/{number}/estimates", OFFER)

    # then the estimate is 6 h × 3500 = 21000 RUB, waiting for the customer
    assert proposed.status_code == 201, proposed.json()
    body = proposed.json()
    assert (body["number"], body["reason"], body["state"]) == (1, "after_target", "proposed")
    assert (body["hours"], body["rate"], body["total"], body["currency"]) == (
        "6.00",
        "3500.00",
        "21000.00",
        "RUB",
    )
    # and the request waits in «Ожидает согласования стоимости», its resolution clock paused
    ticket = requester.get(f"/tickets/{number}").json()
    assert ticket["status"] == "awaiting-cost-approval"
    assert ticket["status_title"]["ru"] == "Ожидает согласования стоимости"
    # 10:00–14:30: 4.5 working hours used, and at 17:00 still: the pause runs from 14:30
    # (the clock stays "breached": it was breached at 14:00)
    assert clock(agent, number)["consumed_seconds"] == 4 * 3600 + 1800
    now("2025-11-11T17:00:00+03:00")
    paused = clock(agent, number)
    assert (paused["state"], paused["consumed_seconds"]) == ("breached", 4 * 3600 + 1800)
    assert [p["start"] for p in paused["explain"]["pauses"]] == ["2025-11-11T11:30:00Z"]

    # when the requester sees the offer the next morning and approves it at 10:00
    now("2025-11-12T10:00:00+03:00")
    assert clock(agent, number)["consumed_seconds"] == 4 * 3600 + 1800  # unchanged overnight
    listed = requester.get(f"/tickets/{number}/estimates").json()["items"]
    assert [(e["number"], e["state"], e["total"]) for e in listed] == [(1, "proposed", "21000.00")]
    approved = requester.post(f"/tickets/{number}/estimates/1/approve")

    # then the estimate is approved by the requester and the request is back in work
    assert approved.status_code == 200, approved.json()
    assert (approved.json()["state"], approved.json()["decided_by"]) == (
        "approved",
        d.requester.username,
    )
    assert requester.get(f"/tickets/{number}").json()["status"] == "in-progress"
    # and the clock counts again from 10:00: at 11:00 one more working hour is used
    now("2025-11-12T11:00:00+03:00")
    running = clock(agent, number)
    assert (running["state"], running["consumed_seconds"]) == ("breached", 5 * 3600 + 1800)
    assert running["explain"]["pauses"] == [
        {"start": "2025-11-11T11:30:00Z", "end": "2025-11-12T07:00:00Z"}
    ]
    # and every step is an event the customer sees, in order
    seen = kinds(requester, number)
    assert seen[-4:] == [
        Kind.PAID_WORK_PROPOSED,
        Kind.STATUS_CHANGED,
        Kind.PAID_WORK_APPROVED,
        Kind.STATUS_CHANGED,
    ]
    steps = events_of(number, Kind.PAID_WORK_PROPOSED, Kind.PAID_WORK_APPROVED)
    assert [(s["kind"], s["estimate"], s["total"]) for s in steps] == [
        (Kind.PAID_WORK_PROPOSED, 1, "21000.00"),
        (Kind.PAID_WORK_APPROVED, 1, "21000.00"),
    ]


def test_a_declined_estimate_closes_the_start_request_as_consulted(now: Now) -> None:
    """R4.6: the customer declines; krizhik.yaml's on_decline closes the request as
    «Дана консультация» (consultation could not solve it and paid work was refused)."""
    # given a second Start request past its 4 h, with an estimate proposed at 14:30
    d = desk("krizhik", "start")
    number = file_start_request(d, now, subject="Не сходится НДС")
    now("2025-11-11T14:30:00+03:00")
    assert Api(d.agent1).post(f"/tickets/{number}/estimates", OFFER).status_code == 201
    # when the customer admin declines it at 15:00 with a reason
    now("2025-11-11T15:00:00+03:00")
    declined = Api(d.customer_admin).post(
        f"/tickets/{number}/estimates/1/decline", {"reason": "Разберёмся сами"}
    )
    # then it is declined, and the request is closed with the resolution «consulted»
    assert declined.status_code == 200, declined.json()
    assert (declined.json()["state"], declined.json()["decision_reason"]) == (
        "declined",
        "Разберёмся сами",
    )
    ticket = Ticket.objects.get(number=number)
    assert (ticket.status, ticket.resolution, ticket.is_open) == ("done", "consulted", False)
    (event,) = events_of(number, Kind.PAID_WORK_DECLINED)
    assert (event["estimate"], event["decline_reason"]) == (1, "Разберёмся сами")
    # and the resolution clock stopped when the request was closed
    assert clock(Api(d.agent1), number)["stopped_at"] == "2025-11-11T12:00:00Z"


def test_paid_work_is_refused_before_the_maximum_time_has_passed(now: Now) -> None:
    """R4.6 «по истечению данного времени»: not before the 4 h have run out."""
    # given a Start request registered at 10:00
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    # when the agent proposes paid work at 13:00, an hour before the 14:00 deadline
    now("2025-11-11T13:00:00+03:00")
    refused = Api(d.agent1).post(f"/tickets/{number}/estimates", OFFER)
    # then it is a conflict that says why and when it becomes possible
    assert refused.status_code == 409
    body = refused.json()
    assert (body["code"], body["details"]["reason"]) == (
        "paid_work_not_allowed",
        "target_not_reached",
    )
    assert body["details"]["remaining_seconds"] == 3600
    assert body["details"]["due"] == "2025-11-11T14:00:00+03:00"
    assert Ticket.objects.get(number=number).status == "in-progress"
    assert not Api(d.agent1).get(f"/tickets/{number}/estimates").json()["items"]


def test_a_tariff_without_paid_work_refuses_an_after_target_estimate(now: Now) -> None:
    """R4.6: the footnote ***** is on Start only; Krizhik's 2 h are simply kept."""
    d = desk("krizhik", "krizhik")
    now("2025-11-11T10:00:00+03:00")
    number = Api(d.requester).post("/tickets", {"subject": "Вопрос"}).json()["number"]
    now("2025-11-11T17:00:00+03:00")
    refused = Api(d.agent1).post(f"/tickets/{number}/estimates", OFFER)
    assert refused.status_code == 409
    assert refused.json()["details"]["reason"] == "tariff_has_no_paid_work"


def test_only_the_people_the_regulation_names_approve_or_decline(now: Now) -> None:
    """R4.6 approved_by [requester, customer_admin]: staff and others may not decide."""
    # given a Start request with an open estimate
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")
    assert Api(d.agent1).post(f"/tickets/{number}/estimates", OFFER).status_code == 201
    other = desk("krizhik", "start")  # another customer on the same tariff
    # when an agent, a requester and an admin of another customer try to approve it
    by_agent = Api(d.agent1).post(f"/tickets/{number}/estimates/1/approve")
    by_stranger = Api(other.requester).post(f"/tickets/{number}/estimates/1/approve")
    by_other_admin = Api(other.customer_admin).post(f"/tickets/{number}/estimates/1/decline")
    # then the agent is forbidden, and the others do not even learn the request exists
    assert by_agent.status_code == 403
    assert by_agent.json()["code"] == "estimate_permission_denied"
    assert by_agent.json()["details"]["approved_by"] == ["requester", "customer_admin"]
    assert (by_stranger.status_code, by_other_admin.status_code) == (404, 404)
    # and a customer may not propose or withdraw paid work
    assert Api(d.requester).post(f"/tickets/{number}/estimates", OFFER).status_code == 403
    assert Api(d.customer_admin).post(f"/tickets/{number}/estimates/1/withdraw").status_code == 403
    # and the estimate is still open for the customer admin, who approves it
    approved = Api(d.customer_admin).post(f"/tickets/{number}/estimates/1/approve")
    assert (approved.status_code, approved.json()["decided_by"]) == (
        200,
        d.customer_admin.username,
    )


def test_an_estimate_is_never_edited_a_new_offer_is_a_new_proposal(now: Now) -> None:
    """R4.6 «после согласования стоимости»: what was approved is what was offered."""
    # given a Start request past its 4 h with estimate 1 proposed
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")
    agent = Api(d.agent1)
    assert agent.post(f"/tickets/{number}/estimates", OFFER).status_code == 201
    # when the agent tries to change it: there is no such operation
    for method in ("PATCH", "PUT"):
        changed = agent.send(method, f"/tickets/{number}/estimates/1", {"hours": "2"})
        assert changed.status_code in (404, 405)
    # and a second offer beside the open one is refused
    second = agent.post(f"/tickets/{number}/estimates", {**OFFER, "hours": "4"})
    assert (second.status_code, second.json()["details"]["reason"]) == (409, "open_estimate")
    # when the agent withdraws it and proposes 4 h instead
    now("2025-11-11T15:00:00+03:00")
    withdrawn = agent.post(f"/tickets/{number}/estimates/1/withdraw", {"reason": "меньше работы"})
    assert withdrawn.json()["state"] == "withdrawn"
    assert Ticket.objects.get(number=number).status == "in-progress"
    again = agent.post(f"/tickets/{number}/estimates", {**OFFER, "hours": "4"})
    assert (again.status_code, again.json()["number"], again.json()["total"]) == (
        201,
        2,
        "14000.00",
    )
    # and once approved, it cannot be withdrawn, approved or declined again
    assert Api(d.requester).post(f"/tickets/{number}/estimates/2/approve").status_code == 200
    for action, person in (("withdraw", d.agent1), ("approve", d.requester)):
        late = Api(person).post(f"/tickets/{number}/estimates/2/{action}")
        assert (late.status_code, late.json()["code"]) == (409, "estimate_not_open")
    estimates = Api(d.requester).get(f"/tickets/{number}/estimates").json()["items"]
    assert [(e["number"], e["state"], e["hours"]) for e in estimates] == [
        (1, "withdrawn", "6.00"),
        (2, "approved", "4.00"),
    ]


def test_an_estimate_past_its_validity_cannot_be_approved(now: Now) -> None:
    # given an estimate valid until Thu 2025-11-13
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")
    offer = {**OFFER, "valid_until": "2025-11-13"}
    assert Api(d.agent1).post(f"/tickets/{number}/estimates", offer).status_code == 201
    # when the requester approves it on Fri 14th
    now("2025-11-14T10:00:00+03:00")
    late = Api(d.requester).post(f"/tickets/{number}/estimates/1/approve")
    # then it has expired: support has to make a new offer, which replaces the old one
    assert (late.status_code, late.json()["details"]["state"]) == (409, "expired")
    listed = Api(d.requester).get(f"/tickets/{number}/estimates").json()["items"]
    assert [e["state"] for e in listed] == ["expired"]
    renewed = Api(d.agent1).post(f"/tickets/{number}/estimates", OFFER)
    assert (renewed.status_code, renewed.json()["number"]) == (201, 2)
    assert Ticket.objects.get(number=number).status == "awaiting-cost-approval"


def test_an_estimate_with_wrong_figures_is_refused_with_the_field(now: Now) -> None:
    d = desk("krizhik", "start")
    number = file_start_request(d, now)
    now("2025-11-11T14:30:00+03:00")
    for change, field in (
        ({"hours": "0"}, "hours"),
        ({"rate": "-1"}, "rate"),
        ({"scope": "  "}, "scope"),
        ({"valid_until": "2025-11-10"}, "valid_until"),
        ({"currency": "рубли"}, "currency"),
        ({"reason": "because"}, "reason"),
    ):
        refused = Api(d.agent1).post(f"/tickets/{number}/estimates", {**OFFER, **change})
        assert refused.status_code == 422, change
        assert refused.json()["details"]["field"] == field


def test_a_service_the_tariff_excludes_is_refused_at_creation_with_the_offer_of_paid_work(
    now: Now,
) -> None:
    """R4.1 (krizhik.yaml's reading): Start does not include «Решение вопроса
    специалистом поддержки по учету в программе**» — refused, never silently accepted."""
    d = desk("krizhik", "start")
    now("2025-11-11T10:00:00+03:00")
    requester = Api(d.requester)
    request = {"subject": "Исправьте проводки", "service": "specialist-resolution"}
    # when the requester files it
    refused = requester.post("/tickets", request)
    # then it is refused, naming the service and the tariff, offering paid work
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "service_not_included"
    # (in the caller's language: these tests ask for English)
    assert "Start / Krizhik Basic" in body["message"]
    assert "Resolution of an accounting question by a support specialist" in body["message"]
    assert body["details"]["paid_work"] == {
        "accept_paid_work": True,
        "reason": "service_not_included",
    }
    assert not Ticket.objects.exists()
    # when they file it again accepting paid work
    filed = requester.post("/tickets", {**request, "accept_paid_work": True})
    # then it is registered with the service, and support prices it as paid work
    assert filed.status_code == 201, filed.json()
    number = filed.json()["number"]
    assert filed.json()["service"] == "specialist-resolution"
    (created,) = events_of(number, Kind.CREATED)
    assert created["paid_work_accepted"] is True
    proposed = Api(d.agent1).post(
        f"/tickets/{number}/estimates", {**OFFER, "reason": "service_not_included"}
    )
    assert proposed.status_code == 201, proposed.json()
    assert Ticket.objects.get(number=number).status == "awaiting-cost-approval"


def test_an_included_or_unknown_service_at_creation(now: Now) -> None:
    """R4.1: consultations are included on Start; an unknown id lists the catalogue."""
    d = desk("krizhik", "start")
    now("2025-11-11T10:00:00+03:00")
    requester = Api(d.requester)
    included = requester.post(
        "/tickets", {"subject": "Как сдать 6-НДФЛ?", "service": "accounting-consultations"}
    )
    assert included.status_code == 201
    number = included.json()["number"]
    unknown = requester.post("/tickets", {"subject": "?", "service": "massage"})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "service_unknown")
    assert "accounting-consultations" in unknown.json()["details"]["known"]
    # and an included service is not paid work on the grounds of the catalogue
    now("2025-11-11T10:30:00+03:00")
    refused = Api(d.agent1).post(
        f"/tickets/{number}/estimates", {**OFFER, "reason": "service_not_included"}
    )
    assert (refused.status_code, refused.json()["details"]["reason"]) == (409, "service_included")


def test_programming_is_paid_work_on_every_krizhik_tariff(now: Now) -> None:
    """R4.1 «Написание кода, программирование»: the paid-services row."""
    d = desk("krizhik", "reliable")
    now("2025-11-11T10:00:00+03:00")
    refused = Api(d.requester).post(
        "/tickets", {"subject": "Доработайте отчёт", "service": "paid-services"}
    )
    assert refused.status_code == 409
    assert refused.json()["details"]["coverage"] == "paid_only"


def test_set_retail_basic_refuses_updates_installed_by_the_vendor(now: Now) -> None:
    """R1.1: «updates installed by the vendor» is ✗ on Basic, ✓ on Premium."""
    basic, premium = desk("set-retail", "basic"), desk("set-retail", "premium")
    now("2025-11-11T10:00:00+03:00")
    request = {"subject": "Установите обновление", "service": "updates-installed-by-vendor"}
    refused = Api(basic.requester).post("/tickets", request)
    assert (refused.status_code, refused.json()["code"]) == (409, "service_not_included")
    assert Api(premium.requester).post("/tickets", request).status_code == 201
