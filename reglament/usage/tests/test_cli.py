"""`reglament usage …` from the shell (R4.5): log, void, allowances, and refusals.

Exit codes: 0 done; 1 refused by the rules (not found, not allowed, already voided);
2 a wrong argument. A refused command stores nothing and says on stderr what is
wrong and how to put it right.
"""

from __future__ import annotations

import json

import pytest

from reglament.cli import main
from reglament.tickets.models import TicketEvent
from reglament.usage.models import Allowance, AllowanceCrossing, TimeEntry
from reglament.usage.tests.factories import krizhik_desk, request

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def test_log_and_void_from_the_shell_write_entries_and_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a Reliable request
    d = krizhik_desk("reliable")
    ticket = request(d, "Вопрос", "2026-10-05T10:00:00+03:00")
    # when an agent logs 45 minutes of consultation, not billable, with a note
    code = main(
        [
            "usage", "log", ticket.number, "--minutes", "45", "--activity", "consultation",
            "--not-billable", "--note", "звонок", "--at", "2026-10-05T11:00:00+03:00",
            "--as", "agent1",
        ]
    )  # fmt: skip
    # then the entry and its event are stored
    assert code == 0
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.activity, entry.billable, entry.note, entry.author) == (
        45,
        "consultation",
        False,
        "звонок",
        d.agent1,
    )
    logged = TicketEvent.objects.get(kind=Kind.TIME_LOGGED)
    assert logged.data == {
        "entry": entry.pk,
        "minutes": 45,
        "activity": "consultation",
        "billable": False,
        "performed_at": "2026-10-05T08:00:00+00:00",
    }
    assert f"time entry {entry.pk}, 45 min consultation (not billable)" in capsys.readouterr().out

    # when it is voided
    code = main(
        ["usage", "void", ticket.number, str(entry.pk), "--reason", "ошибка", "--as", "agent1"]
    )
    # then it is kept, voided, with who and why, and a TIME_VOIDED event
    assert code == 0
    entry.refresh_from_db()
    assert (entry.voided_by, entry.void_reason) == (d.agent1, "ошибка")
    voided = TicketEvent.objects.get(kind=Kind.TIME_VOIDED)
    assert (voided.data["entry"], voided.data["minutes"], voided.data["reason"]) == (
        entry.pk,
        45,
        "ошибка",
    )

    # when it is voided a second time
    code = main(
        ["usage", "void", ticket.number, str(entry.pk), "--reason", "ещё раз", "--as", "agent1"]
    )
    # then it is refused (1) and nothing changes
    assert code == 1
    assert "already voided" in capsys.readouterr().err
    assert TicketEvent.objects.filter(kind=Kind.TIME_VOIDED).count() == 1


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["--minutes", "-5"], 2, "is not a number of minutes from 1 to 1440"),
        (["--minutes", "0"], 2, "is not a number of minutes from 1 to 1440"),
        (["--minutes", "2000"], 2, "record longer work as several entries"),
        (["--activity", "coffee"], 2, "is not an activity"),
        (["--at", "2026-10-05T11:00:00"], 2, "--at"),
        (["--at", "2999-01-01T11:00:00+03:00"], 2, "cannot be done in the future"),
        (["--at", "2026-10-05T09:59:00+03:00"], 2, "cannot be done before that"),
        (["--as", "nobody"], 2, "nobody logs in with this name"),
        (["--as", "REQUESTER"], 1, "Only support staff may record time"),
        (["--number", "KRZ-2026-999999"], 1, "There is no such request"),
    ],
)
def test_bad_input_to_log_is_refused_and_stores_nothing(
    argv: list[str], code: int, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a Reliable request
    d = krizhik_desk("reliable")
    ticket = request(d, "Вопрос", "2026-10-05T10:00:00+03:00")
    options = {
        "--minutes": "30",
        "--activity": "consultation",
        "--as": "agent1",
        "--number": ticket.number,
    }
    options.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    if options["--as"] == "REQUESTER":
        options["--as"] = d.requester.get_username()
    number = options.pop("--number")
    # when the command runs with one thing wrong
    result = main(["usage", "log", number, *(x for pair in options.items() for x in pair)])
    # then it exits with the code and says what is wrong; nothing is stored
    assert result == code
    assert says in capsys.readouterr().err
    assert not TimeEntry.objects.exists()
    assert not TicketEvent.objects.filter(kind=Kind.TIME_LOGGED).exists()


def test_report_refusals(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    d = krizhik_desk("reliable")
    contract = str(d.contract.pk)
    # a period that is not a month
    assert main(["usage", "report", "--contract", contract, "--period", "2026-13"]) == 2
    assert "“2026-13” is not a period; write it as YYYY-MM" in capsys.readouterr().err
    # xlsx to the terminal
    code = main(
        ["usage", "report", "--contract", contract, "--period", "2026-11", "--format", "xlsx"]
    )
    assert code == 2
    assert "give --output FILE.xlsx" in capsys.readouterr().err
    # a contract the reader may not see
    code = main(
        [
            "usage",
            "report",
            "--contract",
            contract,
            "--period",
            "2026-11",
            "--as",
            d.requester.username,
        ]
    )
    assert code == 1
    assert "There is no such contract" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_allowance_set_and_show_from_the_shell(capsys: pytest.CaptureFixture[str]) -> None:
    # given a Reliable contract with 60 minutes on one request in October
    d = krizhik_desk("reliable")
    ticket = request(d, "Вопрос", "2026-10-05T10:00:00+03:00")
    contract = str(d.contract.pk)
    # when 0.5 h a month is set from October, then 61 minutes are logged (1.5 h)
    assert (
        main(
            [
                "usage",
                "allowance",
                "set",
                "--contract",
                contract,
                "--hours",
                "0,5",
                "--from",
                "2026-10",
                "--as",
                "manager",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "usage",
                "log",
                ticket.number,
                "--minutes",
                "61",
                "--activity",
                "diagnosis",
                "--at",
                "2026-10-05T11:00:00+03:00",
                "--as",
                "agent1",
            ]
        )
        == 0
    )
    capsys.readouterr()
    # then show reports the balance and the crossing
    assert (
        main(
            ["usage", "allowance", "show", "--contract", contract, "--period", "2026-10", "--json"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out) == {
        "contract": d.contract.pk,
        "period": "2026-10",
        "unit": "hours",
        "amount": "0.5",
        "valid_from": "2026-10",
        "used": "1.5",
        "remaining": "-1",
        "exceeded": True,
    }
    assert AllowanceCrossing.objects.count() == 1
    # and requests are not the unit of an hourly tariff: refused, nothing stored
    assert (
        main(
            [
                "usage",
                "allowance",
                "set",
                "--contract",
                contract,
                "--requests",
                "3",
                "--from",
                "2026-11",
                "--as",
                "manager",
            ]
        )
        == 2
    )
    assert "counts hours, so its allowance is in hours" in capsys.readouterr().err
    assert Allowance.objects.count() == 1


def test_contracts_lists_the_ids_the_other_actions_take(capsys: pytest.CaptureFixture[str]) -> None:
    """R4.5: `reglament usage contracts` — what `--contract` takes, per reader's rights."""
    # given a Reliable customer
    d = krizhik_desk("reliable")
    # when the staff and then its requester list contracts
    staff = main(["usage", "contracts", "--json"])
    rows = json.loads(capsys.readouterr().out)
    customer = main(["usage", "contracts", "--as", d.requester.username])
    out = capsys.readouterr().out
    # then the staff see the contract and how its tariff counts; the requester none
    assert (staff, customer) == (0, 0)
    assert rows == [
        {
            "id": d.contract.pk,
            "organisation": d.contract.organisation.name,
            "regulation": "krizhik",
            "tariff": "reliable",
            "usage_unit": "hour",
            "increment": "0.5",
        }
    ]
    assert out.startswith("No contracts whose usage you may see")
