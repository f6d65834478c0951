"""`reglament estimate …` and `ticket create --service`: paid work from the shell (R4.6)."""

import json

import pytest

from reglament.cli import main
from reglament.paidwork.models import Estimate
from reglament.paidwork.tests.conftest import Now, at
from reglament.tickets import services
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db


def start_request_past_its_target(now: Now) -> tuple[Ticket, Desk]:
    d = desk("krizhik", "start")
    ticket = services.ticket_create(
        actor=d.requester, subject="Не проводится", now=at("2025-11-11T10:00:00+03:00")
    )
    services.ticket_transition(
        ticket=ticket, actor=d.agent1, status="in-progress", now=at("2025-11-11T10:10:00+03:00")
    )
    now("2025-11-11T15:00:00+03:00")  # R4.4: 4 h were due at 14:00
    return ticket, d


def test_an_agent_proposes_and_the_requester_approves_from_the_shell(
    now: Now, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a Start request past its 4 h
    ticket, d = start_request_past_its_target(now)
    # when agent1 proposes 6 h at 3500 from the shell
    code = main(
        [
            "estimate", "propose", ticket.number, "--as", "agent1",
            "--scope", "Анализ данных", "--hours", "6", "--rate", "3500",
            "--valid-until", "2025-12-15",
        ]
    )  # fmt: skip
    # then the offer is printed with its total, and the request waits for approval
    assert code == 0
    assert capsys.readouterr().out == (
        f"{ticket.number} estimate 1 proposed: 6.00 h × 3500.00 = 21000.00 RUB, "
        "valid until 2025-12-15 (after_target)\n"
    )
    assert Ticket.objects.get(pk=ticket.pk).status == "awaiting-cost-approval"
    # when the requester lists and approves it
    requester = d.requester.username
    assert main(["estimate", "list", ticket.number, "--as", requester, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["number"], e["state"], e["total"]) for e in listed["estimates"]] == [
        (1, "proposed", "21000.00")
    ]
    assert main(["estimate", "approve", ticket.number, "1", "--as", requester]) == 0
    # then it is approved and the request is back in work
    assert "estimate 1 approved" in capsys.readouterr().out
    assert Ticket.objects.get(pk=ticket.pk).status == "in-progress"


def test_refusals_exit_1_and_wrong_arguments_exit_2(
    now: Now, capsys: pytest.CaptureFixture[str]
) -> None:
    ticket, d = start_request_past_its_target(now)
    base = ["estimate", "propose", ticket.number, "--scope", "Анализ", "--hours", "6"]
    # a customer may not propose: refused by the rules
    requester = d.requester.username
    code = main([*base, "--rate", "3500", "--valid-until", "2025-12-15", "--as", requester])
    assert code == 1
    assert "Only support staff propose paid work" in capsys.readouterr().err
    # a date that is not one: a wrong argument, saying how to write it
    code = main([*base, "--rate", "3500", "--valid-until", "15.12.2025", "--as", "agent1"])
    assert code == 2
    assert "write it like 2026-12-15" in capsys.readouterr().err
    # a rate that is not a number: the field is named
    code = main([*base, "--rate", "много", "--valid-until", "2025-12-15", "--as", "agent1"])
    assert code == 2
    assert "“много” is not a number." in capsys.readouterr().err
    # deciding an estimate that does not exist: not found
    assert main(["estimate", "decline", ticket.number, "7", "--as", requester]) == 1
    assert f"{ticket.number} has no estimate 7." in capsys.readouterr().err
    assert not Estimate.objects.exists()


def test_decline_and_withdraw_from_the_shell(now: Now, capsys: pytest.CaptureFixture[str]) -> None:
    ticket, d = start_request_past_its_target(now)
    propose = [
        "estimate", "propose", ticket.number, "--as", "agent1", "--scope", "Анализ",
        "--hours", "2", "--rate", "3000", "--valid-until", "2025-12-15",
    ]  # fmt: skip
    assert main(propose) == 0
    assert main(["estimate", "withdraw", ticket.number, "1", "--as", "agent1"]) == 0
    assert main(propose) == 0
    admin = d.customer_admin.username
    assert (
        main(["estimate", "decline", ticket.number, "2", "--as", admin, "--reason", "дорого"]) == 0
    )
    assert [(e.number, e.state) for e in Estimate.objects.order_by("number")] == [
        (1, "withdrawn"),
        (2, "declined"),
    ]
    assert Ticket.objects.get(pk=ticket.pk).resolution == "consulted"


def test_ticket_create_refuses_an_excluded_service_unless_paid_work_is_accepted(
    now: Now, capsys: pytest.CaptureFixture[str]
) -> None:
    """R4.1: Start does not include «Установка ЭЦП, криптопровайдера»."""
    d = desk("krizhik", "start")
    now("2025-11-11T10:00:00+03:00")
    requester = d.requester.username
    args = ["ticket", "create", "--as", requester, "--subject", "Поставьте ЭЦП"]
    assert main([*args, "--service", "e-signature"]) == 1
    assert "does not include" in capsys.readouterr().err
    assert not Ticket.objects.exists()
    assert main([*args, "--service", "e-signature", "--accept-paid-work"]) == 0
    assert Ticket.objects.get().service == "e-signature"
