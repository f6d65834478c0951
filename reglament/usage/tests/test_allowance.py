"""Prepaid allowances (R4.5): the balance, and crossing it recorded and mailed once.

The rule (docs/usage.md): a contract may have a prepaid allowance per month in the
unit its tariff counts; balance = allowance − counted units. The first change that
takes the counted units *above* the allowance records ALLOWANCE_EXCEEDED on the request
it happened on, once per contract and month, and queues one mail to the customer admins
of the contract's organisation and its personal service manager.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from reglament.domain.usage import Period
from reglament.tickets.models import TicketEvent
from reglament.usage import services
from reglament.usage.errors import UsageInvalidError, UsagePermissionError
from reglament.usage.models import Allowance, AllowanceCrossing
from reglament.usage.tasks import allowance_exceeded_notify
from reglament.usage.tests.factories import (
    Api,
    at,
    krizhik_desk,
    queued_crossings,
    request,
    resolve,
)

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def log(d, ticket, minutes: int, when: str) -> None:
    services.time_log(
        ticket=ticket,
        actor=d.agent1,
        minutes=minutes,
        activity="consultation",
        performed_at=at(when),
        now=at(when),
    )


def test_crossing_an_hourly_allowance_is_recorded_and_mailed_exactly_once() -> None:
    # given a Reliable contract with 1 prepaid hour a month from October 2026
    d = krizhik_desk("reliable")
    response = Api(d.manager).put(
        f"/contracts/{d.contract.pk}/allowance",
        {"amount": "1", "unit": "hours", "valid_from": "2026-10"},
    )
    assert response.status_code == 200, response.json()
    r1 = request(d, "Вопрос 1", "2026-10-05T10:00:00+03:00")
    r2 = request(d, "Вопрос 2", "2026-10-06T10:00:00+03:00")
    # when 20 + 10 min on request 1 (30 min → 0.5 h) and 30 min on request 2 (0.5 h)
    log(d, r1, 20, "2026-10-05T11:00:00+03:00")
    log(d, r1, 10, "2026-10-05T12:00:00+03:00")
    log(d, r2, 30, "2026-10-06T11:00:00+03:00")
    # then exactly the allowance is used: 1.0 of 1 h, not exceeded, nothing recorded
    assert not TicketEvent.objects.filter(kind=Kind.ALLOWANCE_EXCEEDED).exists()
    balance = (
        Api(d.customer_admin).get(f"/contracts/{d.contract.pk}/allowance", period="2026-10").json()
    )
    assert (balance["amount"], balance["used"], balance["remaining"], balance["exceeded"]) == (
        "1",
        "1",
        "0",
        False,
    )

    # when one more minute on request 2 (31 min → 1.0 h; total 1.5 h) and then two more
    # entries that are beyond the allowance too
    log(d, r2, 1, "2026-10-07T11:00:00+03:00")
    log(d, r1, 45, "2026-10-08T11:00:00+03:00")
    log(d, r2, 60, "2026-10-09T11:00:00+03:00")

    # then one ALLOWANCE_EXCEEDED, on request 2, with the figures at that moment
    (event,) = TicketEvent.objects.filter(kind=Kind.ALLOWANCE_EXCEEDED)
    assert event.ticket == r2
    assert event.public is False
    assert event.data == {
        "contract": d.contract.pk,
        "period": "2026-10",
        "unit": "hours",
        "allowance": "1.00",
        "used": "1.5",
    }
    (crossing,) = AllowanceCrossing.objects.all()
    assert (crossing.period, crossing.event) == ("2026-10", event)
    # and one mail queued, which goes to the customer's admin
    assert queued_crossings() == [crossing.pk]
    assert allowance_exceeded_notify.call(crossing_id=crossing.pk) == 1
    (message,) = mail.outbox
    assert message.to == ["admin@customer.test"]
    assert d.customer.name in message.subject
    assert "2026-10" in message.subject
    # and the balance shows it: request 1 75 min → 1.5 h, request 2 91 min → 2.0 h
    balance = (
        Api(d.customer_admin).get(f"/contracts/{d.contract.pk}/allowance", period="2026-10").json()
    )
    assert (balance["used"], balance["remaining"], balance["exceeded"]) == ("3.5", "-2.5", True)


def test_falling_back_under_and_crossing_again_records_nothing_new() -> None:
    # given a crossing recorded in October
    d = krizhik_desk("reliable")
    services.allowance_set(
        contract=d.contract,
        actor=d.manager,
        amount=Decimal("0.5"),
        unit="hours",
        valid_from=Period(2026, 10),
    )
    r1 = request(d, "Вопрос", "2026-10-05T10:00:00+03:00")
    log(d, r1, 40, "2026-10-05T11:00:00+03:00")
    entry = r1.time_entries.get()
    assert AllowanceCrossing.objects.count() == 1
    # when the entry is voided (back under) and time is logged over the allowance again
    services.time_void(ticket=r1, actor=d.agent1, entry_id=entry.pk, reason="не та заявка")
    log(d, r1, 45, "2026-10-06T11:00:00+03:00")
    # then still one crossing for the month; November's would be its own
    assert TicketEvent.objects.filter(kind=Kind.ALLOWANCE_EXCEEDED).count() == 1
    assert len(queued_crossings()) == 1


def test_the_database_refuses_a_second_crossing_of_a_month() -> None:
    # the guarantee under concurrent writers: a unique (contract, period) row
    d = krizhik_desk("reliable")
    services.allowance_set(
        contract=d.contract,
        actor=d.manager,
        amount=Decimal(1),
        unit="hours",
        valid_from=Period(2026, 10),
    )
    r1 = request(d, "Вопрос", "2026-10-05T10:00:00+03:00")
    log(d, r1, 90, "2026-10-05T11:00:00+03:00")
    first = AllowanceCrossing.objects.get()
    second = TicketEvent.objects.create(
        ticket=r1, kind=Kind.ALLOWANCE_EXCEEDED, public=False, created_at=first.created_at
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AllowanceCrossing.objects.create(
            contract=d.contract, period="2026-10", event=second, created_at=first.created_at
        )


def test_resolving_requests_beyond_a_request_allowance_is_a_crossing() -> None:
    # given a Krizhik contract with 1 prepaid request a month from November
    d = krizhik_desk("krizhik")
    services.allowance_set(
        contract=d.contract,
        actor=d.manager,
        amount=Decimal(1),
        unit="requests",
        valid_from=Period(2026, 11),
    )
    r1 = request(d, "Вопрос 1", "2026-11-02T10:00:00+03:00")
    r2 = request(d, "Вопрос 2", "2026-11-02T11:00:00+03:00")
    # when the first is resolved: 1 of 1, not exceeded
    resolve(d, r1, "2026-11-02T12:00:00+03:00")
    assert not AllowanceCrossing.objects.exists()
    # when the second is resolved (in the ticket's own transaction)
    resolve(d, r2, "2026-11-03T12:00:00+03:00")
    # then the crossing is recorded on it
    (event,) = TicketEvent.objects.filter(kind=Kind.ALLOWANCE_EXCEEDED)
    assert (event.ticket, event.data["used"], event.data["allowance"]) == (r2, "2", "1.00")


def test_allowance_history_is_kept_and_the_latest_applicable_row_wins() -> None:
    d = krizhik_desk("reliable")
    api = Api(d.manager)
    path = f"/contracts/{d.contract.pk}/allowance"
    assert api.put(path, {"amount": "10", "valid_from": "2026-09"}).status_code == 200
    assert api.put(path, {"amount": "7.5", "valid_from": "2026-11"}).status_code == 200
    assert api.put(path, {"amount": None, "valid_from": "2027-01"}).status_code == 200
    # then each month reads the row in force for it
    assert api.get(path, period="2026-10").json()["amount"] == "10"
    november = api.get(path, period="2026-11").json()
    assert (november["amount"], november["valid_from"]) == ("7.5", "2026-11")
    assert api.get(path, period="2027-02").json()["amount"] is None
    assert [(r["valid_from"], r["amount"]) for r in november["history"]] == [
        ("2026-09", "10"),
        ("2026-11", "7.5"),
        ("2027-01", None),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "10", "unit": "requests", "valid_from": "2026-11"}, "unit"),
        ({"amount": "-1", "valid_from": "2026-11"}, "amount"),
        ({"amount": "0", "valid_from": "2026-11"}, "amount"),
        ({"amount": "10", "valid_from": "2026-13"}, "valid_from"),
    ],
)
def test_a_wrong_allowance_is_refused_and_stores_nothing(body: dict, field: str) -> None:
    d = krizhik_desk("reliable")
    response = Api(d.manager).put(f"/contracts/{d.contract.pk}/allowance", body)
    assert response.status_code == 422
    assert response.json()["code"] == "usage_invalid"
    assert response.json()["details"]["field"] == field
    assert not Allowance.objects.exists()


def test_only_staff_set_allowances() -> None:
    d = krizhik_desk("reliable")
    with pytest.raises(UsagePermissionError):
        services.allowance_set(
            contract=d.contract,
            actor=d.customer_admin,
            amount=Decimal(5),
            unit="hours",
            valid_from=Period(2026, 11),
        )
    with pytest.raises(UsageInvalidError):
        services.allowance_set(
            contract=d.contract,
            actor=d.manager,
            amount=Decimal("0.001"),
            unit="hours",
            valid_from=Period(2026, 11),
        )
    assert not Allowance.objects.exists()
