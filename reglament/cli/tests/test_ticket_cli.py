"""`reglament ticket …` and `reglament sla sweep`, through main(), on the test database.

Every request here runs under the shipped CERA regulation (R3): statuses
Created → In progress ⇄ Clarification → Done (with a resolution) or Closed by
the user, and resolution targets in working hours (Mon–Fri 10:00–19:00 Moscow).
Monday 3 March 2025 is an ordinary working day.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reglament.cli import main
from reglament.tickets.models import Ticket, TicketEvent
from reglament.tickets.tests.factories import Desk, desk

pytestmark = pytest.mark.django_db

MONDAY_NOON = "2025-03-03T12:00:00+03:00"
NUMBER = "CERA-2025-000001"


def create(d: Desk, *extra: str, at: str = MONDAY_NOON) -> int:
    """agent1 registers a critical defect phoned in by the desk's requester."""
    return main(
        ["ticket", "create", "--as", "agent1", "--requester", d.requester.username,
         "--subject", "Камеры не считают посетителей", "--type", "defect",
         "--priority", "critical", "--channel", "phone", "--at", at, *extra]
    )  # fmt: skip


def transition(status: str, at: str, *extra: str, actor: str = "agent1") -> int:
    return main(["ticket", "transition", NUMBER, status, "--as", actor, "--at", at, *extra])


def as_json(text: str) -> Any:
    return json.loads(text)


# ---------------------------------------------------------------------------- create
def test_create_prints_the_number_the_registration_time_and_the_first_due_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    d = desk("cera", "standard")
    # when
    code = create(d)
    # then
    assert code == 0
    # R3.4 a unique number with the registration time;
    # R3.6 Critical, lines 1–2: 6 working hours → Monday 18:00
    assert capsys.readouterr().out.splitlines() == [
        f"{NUMBER} registered 2025-03-03T12:00:00+03:00",
        "  Resolution time: running, 6 h [working], due 2025-03-03T18:00:00+03:00",
    ]
    ticket = Ticket.objects.get(number=NUMBER)
    assert (ticket.requester, ticket.channel, ticket.type, ticket.status) == (
        d.requester,
        "phone",
        "defect",
        "created",
    )
    created = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.CREATED)
    assert created.actor == d.agent1


def test_create_json_derives_the_priority_from_the_requester_s_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a requester filing for themselves
    d = desk("cera", "standard")
    # when they answer: main functions unusable, a workaround exists
    code = main(
        ["ticket", "create", "--as", d.requester.username, "--subject", "Отчёт пустой",
         "--impact", "main-functions", "--workaround", "exists", "--at", MONDAY_NOON, "--json"]
    )  # fmt: skip
    # then R3.1 "невозможности использования основных функций Системы, но существует
    # возможность Обхода проблемы" is High; R3.6 High, lines 1–2: 15 working hours,
    # Mon 12–19 (7 h) + Tue 10–18 (8 h)
    assert code == 0
    payload = as_json(capsys.readouterr().out)
    assert sorted(payload) == sorted(
        ["number", "subject", "description", "status", "status_title", "resolution",
         "is_open", "priority", "impact", "workaround", "type", "category", "line",
         "channel", "organisation", "requester", "assignee", "tariff", "regulation",
         "regulation_version", "received_at", "registered_at", "closed_at", "next_due_at",
         "breached", "at_risk", "timezone", "clocks_at", "clocks"]
    )  # fmt: skip
    assert {key: payload[key] for key in ("number", "priority", "impact", "workaround")} == {
        "number": NUMBER,
        "priority": "high",
        "impact": "main-functions",
        "workaround": "exists",
    }
    assert payload["status_title"] == {"ru": "Создана", "en": "Created"}
    assert payload["organisation"] == {"id": d.customer.pk, "name": d.customer.name}
    assert (payload["requester"], payload["assignee"], payload["channel"]) == (
        d.requester.username,
        None,
        "portal",
    )
    assert payload["next_due_at"] == "2025-03-04T18:00:00+03:00"
    assert payload["clocks"] == [
        {
            "metric": "resolution",
            "title": {"ru": "Время решения", "en": "Resolution time"},
            "state": "running",
            "target": {
                "text": {"ru": "15 ч", "en": "15 h"},
                "seconds": 54000,
                "working_days": None,
            },
            "calendar": "working",
            "started_at": "2025-03-03T12:00:00+03:00",
            "stopped_at": None,
            "stopped_by": None,
            "due_at": "2025-03-04T18:00:00+03:00",
            # 80 % of 15 h = 12 h: Mon 12–19 (7 h) + Tue 10–15 (5 h)
            "warn_at": "2025-03-04T15:00:00+03:00",
            "consumed_seconds": 0,
            "remaining_seconds": 54000,
            "warned_at": None,
            "breached_at": None,
        }
    ]


def test_create_with_a_priority_and_impact_answers_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    d = desk("cera", "standard")
    # when
    code = create(d, "--impact", "unusable", "--workaround", "none")
    # then
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "reglament ticket create: error: Give either --priority, or --impact with "
        "--workaround, not both."
    ]
    assert not Ticket.objects.exists()


def test_create_refuses_a_priority_the_regulation_does_not_know(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    d = desk("cera", "standard")
    # when
    code = main(
        ["ticket", "create", "--as", d.requester.username, "--subject", "Вопрос",
         "--priority", "urgent"]
    )  # fmt: skip
    # then the service's own message, with what is known
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "reglament ticket create: error: “urgent” is not a priority of this regulation; "
        "use one of: critical, high, medium, low."
    ]


def test_create_under_a_regulation_the_customer_has_no_contract_for_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a CERA customer
    d = desk("cera", "standard")
    # when a request is filed under Krizhik
    code = main(
        ["ticket", "create", "--as", d.requester.username, "--subject", "Отчёт в ФНС",
         "--regulation", "krizhik", "--at", MONDAY_NOON]
    )  # fmt: skip
    # then
    assert code == 1
    assert capsys.readouterr().err == (
        f"reglament ticket create: error: {d.customer.name} has no support contract in force "
        "on 2025-03-03T12:00+03:00 under the regulation krizhik.\n"
    )
    assert not Ticket.objects.exists()


# ------------------------------------------------------------------------------ show
def test_show_prints_the_header_and_the_clocks_in_the_calendar_s_time_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a request with a description read from a file
    d = desk("cera", "standard")
    description = tmp_path / "call.txt"
    description.write_text("Звонок из магазина.\nКамеры 3 и 4 не считают с утра.\n", "utf-8")
    create(d, "--description-file", str(description), "--assignee", "agent1")
    capsys.readouterr()
    # when the clocks are read an hour later, asked for in UTC
    code = main(["ticket", "show", NUMBER, "--as", "agent1", "--at", "2025-03-03T10:00:00Z"])
    # then instants are in Moscow time, the regulation's calendar
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{NUMBER}  Камеры не считают посетителей",
        f"  Organisation:  {d.customer.name}",
        "  Tariff:        Standard regulation (cera v1, standard)",
        "  Status:        Created (created)",
        "  Priority:      critical",
        "  Line:          1",
        "  Type:          defect",
        "  Category:      —",
        "  Channel:       phone",
        f"  Requester:     {d.requester.username}",
        "  Assignee:      agent1",
        "  Received:      2025-03-03T12:00:00+03:00",
        "  Registered:    2025-03-03T12:00:00+03:00",
        "",
        "  Звонок из магазина.",
        "  Камеры 3 и 4 не считают с утра.",
        "",
        "Clocks at 2025-03-03T13:00:00+03:00 (Europe/Moscow):",
        "  METRIC           STATE    TARGET         DUE                        CONSUMED  REMAINING",
        "  Resolution time  running  6 h [working]  2025-03-03T18:00:00+03:00  1:00:00   5:00:00",
    ]


def test_show_in_russian_gives_the_regulation_s_own_titles(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when
    code = main(
        ["ticket", "show", NUMBER, "--as", "agent1", "--at", MONDAY_NOON, "--lang", "ru"]
    )  # fmt: skip
    # then
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert "  Status:        Создана (created)" in out
    assert out[-1] == (
        "  Время решения  running  6 ч [working]  2025-03-03T18:00:00+03:00  0:00:00   6:00:00"
    )


def test_a_customer_sees_only_their_own_requests_and_others_are_not_found(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given two customers of the vendor; the other customer's request is filed first,
    # with a low priority, ours half an hour later as critical
    d = desk("cera", "standard")
    other = desk("cera", "standard")
    main(
        ["ticket", "create", "--as", other.requester.username, "--subject", "Вопрос по отчёту",
         "--priority", "low", "--at", MONDAY_NOON]
    )  # fmt: skip
    create(d, at="2025-03-03T12:30:00+03:00")
    capsys.readouterr()
    theirs, ours = "CERA-2025-000001", "CERA-2025-000002"
    # when
    mine = main(["ticket", "list", "--as", d.requester.username, "--json"])
    mine_out = capsys.readouterr().out
    queue = main(["ticket", "list", "--as", "agent1"])
    queue_out = capsys.readouterr().out
    hidden = main(["ticket", "show", theirs, "--as", d.requester.username])
    hidden_err = capsys.readouterr().err
    missing = main(["ticket", "show", "CERA-2025-000999", "--as", d.requester.username])
    missing_err = capsys.readouterr().err
    # then the customer lists only their own request
    assert (mine, queue) == (0, 0)
    assert [row["number"] for row in as_json(mine_out)["requests"]] == [ours]
    # support sees both in queue order: ours is due first (6 h) though filed later (75 h)
    assert [re.split(r"\s{2,}", line) for line in queue_out.splitlines()] == [
        ["NUMBER", "STATUS", "PRIORITY", "LINE", "ASSIGNEE", "NEXT DUE", "FLAGS",
         "ORGANISATION", "SUBJECT"],
        [ours, "created", "critical", "1", "—", "2025-03-03T18:30:00+03:00", "—",
         d.customer.name, "Камеры не считают посетителей"],
        [theirs, "created", "low", "1", "—", "2025-03-13T15:00:00+03:00", "—",
         other.customer.name, "Вопрос по отчёту"],
    ]  # fmt: skip
    # and another customer's request is refused exactly like one that does not exist
    assert (hidden, missing) == (1, 1)
    message = (
        "reglament ticket show: error: {}: There is no such request, or you may not see it. "
        "See the requests you may see with 'reglament ticket list --as LOGIN'.\n"
    )
    assert hidden_err == message.format(theirs)
    assert missing_err == message.format("CERA-2025-000999")


def test_list_filters_by_status_assignee_and_closed(capsys: pytest.CaptureFixture[str]) -> None:
    # given three requests: one assigned, one in progress, one done
    d = desk("cera", "standard")
    create(d, "--assignee", "agent2")
    create(d)
    create(d)
    main(["ticket", "transition", "CERA-2025-000002", "in-progress", "--as", "agent1"])
    main(["ticket", "transition", "CERA-2025-000003", "done", "--resolution", "solved",
          "--as", "agent1"])  # fmt: skip
    capsys.readouterr()

    def numbers(*filters: str) -> list[str]:
        assert main(["ticket", "list", "--as", "manager", "--json", *filters]) == 0
        return [row["number"] for row in as_json(capsys.readouterr().out)["requests"]]

    # then
    assert numbers("--assignee", "agent2") == ["CERA-2025-000001"]
    assert numbers("--assignee", "none", "--open") == ["CERA-2025-000002"]
    assert numbers("--status", "in-progress") == ["CERA-2025-000002"]
    assert numbers("--closed") == ["CERA-2025-000003"]
    assert numbers("--priority", "low") == []


# ------------------------------------------------------------------------ transitions
def test_a_request_goes_through_the_regulation_s_statuses_to_done_with_a_resolution(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when line 1 takes it, asks the customer at 14:00 and goes on Tuesday 11:00
    steps = [
        transition("in-progress", "2025-03-03T13:00:00+03:00"),
        transition("clarification", "2025-03-03T14:00:00+03:00", "--comment", "Нужны логи"),
        transition("in-progress", "2025-03-04T11:00:00+03:00"),
        transition("done", "2025-03-04T12:00:00+03:00", "--resolution", "solved"),
    ]
    # then R3.5 statuses and R3.7: Clarification pauses the resolution clock, so the
    # 4 h left at 14:00 run from Tuesday 11:00 to 15:00
    assert steps == [0, 0, 0, 0]
    assert capsys.readouterr().out.splitlines() == [
        f"{NUMBER}: created → in-progress",
        "  Resolution time: running, 6 h [working], due 2025-03-03T18:00:00+03:00",
        f"{NUMBER}: in-progress → clarification",
        "  Resolution time: paused, 6 h [working], 4:00:00 left when it resumes",
        f"{NUMBER}: clarification → in-progress",
        "  Resolution time: running, 6 h [working], due 2025-03-04T15:00:00+03:00",
        f"{NUMBER}: in-progress → done (solved)",
        "  Resolution time: met, 6 h [working], due 2025-03-04T15:00:00+03:00",
    ]
    ticket = Ticket.objects.get(number=NUMBER)
    assert (ticket.status, ticket.resolution, ticket.is_open) == ("done", "solved", False)
    # and the history says who did what, in Moscow time
    main(["ticket", "show", NUMBER, "--as", "agent1", "--events", "--at", MONDAY_NOON])
    out = capsys.readouterr().out
    events = out[out.index("Events:") :].splitlines()
    assert events == [
        "Events:",
        "  AT                         WHO     WHAT            DETAILS",
        "  2025-03-03T12:00:00+03:00  agent1  registered      "
        "status created, priority critical, line 1, channel phone",
        "  2025-03-03T13:00:00+03:00  agent1  status changed  created → in-progress",
        "  2025-03-03T14:00:00+03:00  agent1  status changed  "
        "in-progress → clarification: Нужны логи",
        "  2025-03-04T11:00:00+03:00  agent1  status changed  clarification → in-progress",
        "  2025-03-04T12:00:00+03:00  agent1  status changed  in-progress → done (solved)",
    ]


def test_a_transition_the_regulation_does_not_allow_exits_1_with_the_allowed_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a request that is done
    d = desk("cera", "standard")
    create(d)
    transition("done", "2025-03-03T13:00:00+03:00", "--resolution", "solved")
    capsys.readouterr()
    # when support tries "Closed by the user", which only follows open statuses
    code = transition("closed", "2025-03-03T14:00:00+03:00")
    # then R3.5 the regulation refuses and says what is allowed from Done
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "reglament ticket transition: error: The regulation does not allow “Done” → "
        "“Closed by the user”; from here: in-progress."
    ]
    assert Ticket.objects.get(number=NUMBER).status == "done"


@pytest.mark.parametrize(
    ("status", "extra", "code", "message"),
    [
        (
            "done",
            [],
            2,
            "“Done” needs a resolution: solved, not-reproducible, user-error, infrastructure.",
        ),
        (
            "finished",
            [],
            2,
            "“finished” is not a status of this regulation; use one of: created, in-progress, "
            "clarification, done, closed.",
        ),
        (
            "created",
            [],
            1,
            "The request is already “Created”. From here: in-progress, clarification, done, "
            "closed.",
        ),
        ("in-progress", ["--resolution", "solved"], 2, "Only a final status takes a resolution."),
    ],
)
def test_a_wrong_transition_says_how_to_put_it_right(
    status: str, extra: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when
    result = transition(status, "2025-03-03T13:00:00+03:00", *extra)
    # then
    assert result == code
    assert capsys.readouterr().err == f"reglament ticket transition: error: {message}\n"
    assert Ticket.objects.get(number=NUMBER).status == "created"


def test_a_requester_may_not_change_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when
    code = transition("in-progress", "2025-03-03T13:00:00+03:00", actor=d.requester.username)
    # then
    assert code == 1
    assert capsys.readouterr().err == (
        "reglament ticket transition: error: Only support staff may change the status "
        "of a request.\n"
    )


# ------------------------------------------------------- replies, escalation, closing
def test_the_customer_s_reply_resumes_a_request_waiting_for_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a request in Clarification since Monday 14:00, with an internal note
    d = desk("cera", "standard")
    create(d)
    transition("clarification", "2025-03-03T14:00:00+03:00")
    note = main(
        ["ticket", "reply", NUMBER, "--as", "agent1", "--internal", "--body",
         "Похоже на сбой сервера", "--at", "2025-03-03T14:05:00+03:00"]
    )  # fmt: skip
    capsys.readouterr()
    # when the requester answers on Tuesday 11:00
    code = main(["ticket", "reply", NUMBER, "--as", d.requester.username,
                 "--body", "Логи во вложении", "--at", "2025-03-04T11:00:00+03:00"])  # fmt: skip
    # then R3.7 the answer resumes the clock: 4 h left from Tuesday 11:00
    assert (note, code) == (0, 0)
    assert capsys.readouterr().out.splitlines() == [
        f"{NUMBER}: public reply added; status clarification → in-progress",
        "  Resolution time: running, 6 h [working], due 2025-03-04T15:00:00+03:00",
    ]
    # and the customer's history has their reply but not the internal note
    main(["ticket", "show", NUMBER, "--as", d.requester.username, "--events", "--json"])
    events = as_json(capsys.readouterr().out)["events"]
    assert [event["kind"] for event in events] == [
        "created",
        "status_changed",
        "replied",
        "status_changed",
    ]
    main(["ticket", "show", NUMBER, "--as", "agent1", "--events", "--json"])
    staff_kinds = [event["kind"] for event in as_json(capsys.readouterr().out)["events"]]
    assert staff_kinds.count("noted") == 1


def test_a_customer_may_not_write_an_internal_note(capsys: pytest.CaptureFixture[str]) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when
    code = main(["ticket", "reply", NUMBER, "--as", d.requester.username, "--internal",
                 "--body", "секрет"])  # fmt: skip
    # then
    assert code == 1
    assert capsys.readouterr().err == (
        "reglament ticket reply: error: Only support staff write internal notes.\n"
    )


def test_escalating_to_line_3_takes_its_target_and_keeps_the_time_consumed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a critical request on line 1 since Monday 12:00
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when line 1 moves it to line 3 at 14:00
    code = main(["ticket", "escalate", NUMBER, "3", "--as", "agent1",
                 "--reason", "Нужен разработчик", "--at", "2025-03-03T14:00:00+03:00"])  # fmt: skip
    # then R3.6 Critical, line 3: 12 working hours from Monday 12:00: Mon 12–19 (7 h)
    # + Tue 10–15 (5 h)
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{NUMBER}: line 1 → 3",
        "  Resolution time: running, 12 h [working], due 2025-03-04T15:00:00+03:00",
    ]
    assert Ticket.objects.get(number=NUMBER).line == 3


def test_escalating_needs_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when
    code = main(["ticket", "escalate", NUMBER, "2", "--as", "agent1", "--reason", " "])
    # then
    assert code == 2
    assert capsys.readouterr().err == (
        "reglament ticket escalate: error: Moving a request between lines needs a reason.\n"
    )


def test_the_requester_closes_their_request_themselves(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when the answer is no longer needed at 13:00
    code = main(["ticket", "close", NUMBER, "--as", d.requester.username,
                 "--comment", "Уже не нужно", "--at", "2025-03-03T13:00:00+03:00"])  # fmt: skip
    # then R3.8 "закрытие запроса может инициировать Пользователь": Closed by the user,
    # and the closed request's clock stops in time
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{NUMBER}: created → closed, closed by the requester",
        "  Resolution time: met, 6 h [working], due 2025-03-03T18:00:00+03:00",
    ]
    ticket = Ticket.objects.get(number=NUMBER)
    assert (ticket.status, ticket.resolution, ticket.is_open) == ("closed", "", False)


def test_support_closes_by_changing_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when
    code = main(["ticket", "close", NUMBER, "--as", "agent1"])
    # then
    assert code == 1
    assert capsys.readouterr().err == (
        "reglament ticket close: error: Staff close requests by changing their status.\n"
    )


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["ticket", "show", NUMBER, "--as", "nobody"],
            "reglament ticket show: error: --as 'nobody': nobody logs in with this name; give "
            "the login of a person of the desk (the demo's are printed by 'reglament demo load').",
        ),
        (
            ["ticket", "transition", NUMBER, "in-progress", "--as", "agent1", "--at", "tomorrow"],
            "reglament ticket transition: error: --at 'tomorrow' is not an ISO 8601 instant; "
            "write it like 2024-12-27T18:00:00+03:00.",
        ),
        (
            ["ticket", "transition", NUMBER, "in-progress", "--as", "agent1",
             "--at", "2025-03-03T13:00:00"],
            "reglament ticket transition: error: --at '2025-03-03T13:00:00' has no UTC offset, "
            "so the instant is ambiguous; write it like 2024-12-27T18:00:00+03:00.",
        ),
        (
            ["ticket", "reply", NUMBER, "--as", "agent1", "--body", "Да",
             "--at", "2999-01-01T00:00:00+03:00"],
            "reglament ticket reply: error: --at '2999-01-01T00:00:00+03:00' is in the future; "
            "a change is recorded when it happens (leave --at out for now).",
        ),
        (
            ["ticket", "list", "--as", "agent1", "--assignee", "agent9"],
            "reglament ticket list: error: --assignee 'agent9': nobody logs in with this name; "
            "give the login of a person of the desk (the demo's are printed by "
            "'reglament demo load').",
        ),
        (
            ["ticket", "show", NUMBER, "--as", "agent1", "--at", "2025-03-03T08:59:59Z"],
            "reglament ticket show: error: --at '2025-03-03T08:59:59Z' is before "
            f"{NUMBER} arrived (2025-03-03T12:00:00+03:00); ask for an instant after it.",
        ),
        (
            ["ticket", "list", "--as", "agent1", "--limit", "0"],
            "reglament ticket list: error: --limit 0 must be between 1 and 1000.",
        ),
    ],
)  # fmt: skip
def test_wrong_arguments_exit_2_with_one_line_saying_what_to_write(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when
    code = main(argv)
    # then
    assert code == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", message + "\n")
    assert Ticket.objects.get(number=NUMBER).status == "created"


# ----------------------------------------------------------------------------- sweep
def test_sla_sweep_records_a_breach_once_and_show_reports_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a critical request due Monday 18:00 (R3.6 Critical, lines 1–2: 6 working
    # hours), warning at 80 % = 16:48, that nobody touched
    d = desk("cera", "standard")
    create(d)
    capsys.readouterr()
    # when the sweep runs at 19:00, and again
    first = main(["sla", "sweep", "--now", "2025-03-03T19:00:00+03:00"])
    first_out = capsys.readouterr().out
    again = main(["sla", "sweep", "--now", "2025-03-03T19:00:00+03:00", "--json"])
    again_out = capsys.readouterr().out
    # then the warning and the breach are recorded once
    assert (first, again) == (0, 0)
    assert first_out == (
        "Swept at 2025-03-03T19:00:00+03:00: 1 request re-computed, 1 warning and 1 breach "
        "recorded, none left due.\n"
    )
    assert as_json(again_out) == {
        "at": "2025-03-03T19:00:00+03:00",
        "tickets": 0,
        "warnings": 0,
        "breaches": 0,
        "left": 0,
    }
    # and the request shows the recorded breach, in its clock and its history
    main(["ticket", "show", NUMBER, "--as", "agent1", "--json", "--events",
          "--at", "2025-03-03T19:00:00+03:00"])  # fmt: skip
    payload = as_json(capsys.readouterr().out)
    assert payload["breached"] is True
    clock = payload["clocks"][0]
    assert (clock["state"], clock["warned_at"], clock["breached_at"]) == (
        "breached",
        "2025-03-03T16:48:00+03:00",
        "2025-03-03T18:00:00+03:00",
    )
    assert clock["remaining_seconds"] == -3600
    assert [(e["kind"], e["actor"], e["data"]["at"]) for e in payload["events"][1:]] == [
        ("clock_warning", None, "2025-03-03T16:48:00+03:00"),
        ("clock_breached", None, "2025-03-03T18:00:00+03:00"),
    ]
    main(["ticket", "show", NUMBER, "--as", "agent1", "--events",
          "--at", "2025-03-03T19:00:00+03:00"])  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        "  2025-03-03T19:00:00+03:00  system  deadline breached     "
        "resolution at 2025-03-03T18:00:00+03:00"
    )
    assert (
        "  Resolution time  breached  6 h [working]  2025-03-03T18:00:00+03:00  7:00:00   -1:00:00"
    ) in out


def test_sla_sweep_refuses_an_instant_that_has_not_come(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # when
    code = main(["sla", "sweep", "--now", "2999-01-01T00:00:00+03:00"])
    # then
    assert code == 2
    assert capsys.readouterr().err == (
        "reglament sla sweep: error: --now '2999-01-01T00:00:00+03:00' is in the future; "
        "a sweep records only what is already due (leave --now out for now).\n"
    )
