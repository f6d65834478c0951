"""`reglament calendar`: the engine's answers, printed for a person or a script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reglament.cli import main

MOSCOW = ["--schedule", "mon-fri 10:00-19:00", "--timezone", "Europe/Moscow", "--country", "RU"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["calendar", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_deadline_over_the_working_saturday_2024_12_28(capsys):
    code, out, _ = run(
        capsys, "deadline", *MOSCOW, "--from", "2024-12-27T18:00:00+03:00", "--hours", "4"
    )
    assert (code, out) == (0, "2024-12-28T13:00:00+03:00\n")


def test_deadline_in_minutes_and_in_working_days(capsys):
    _, minutes, _ = run(
        capsys, "deadline", *MOSCOW, "--from", "2024-12-27T18:00:00+03:00", "--minutes", "90"
    )
    _, days, _ = run(
        capsys, "deadline", *MOSCOW, "--from", "2025-06-10T15:00:00+03:00", "--days", "3"
    )
    assert minutes == "2024-12-28T10:30:00+03:00\n"
    assert days == "2025-06-17T15:00:00+03:00\n"  # Russia Day and the moved day off skipped


def test_deadline_json_carries_provisional_and_the_counted_intervals(capsys):
    _, out, _ = run(
        capsys, "deadline", *MOSCOW, "--from", "2024-12-27T18:00:00+03:00", "--hours", "4", "--json"
    )
    payload = json.loads(out)
    assert payload["due"] == "2024-12-28T13:00:00+03:00"
    assert payload["business_seconds"] == 14_400
    assert payload["provisional"] is False
    assert payload["counted"] == [
        {"start": "2024-12-27T18:00:00+03:00", "end": "2024-12-27T19:00:00+03:00"},
        {"start": "2024-12-28T10:00:00+03:00", "end": "2024-12-28T13:00:00+03:00"},
    ]
    assert payload["calendar"]["holidays"] == "RU"


def test_elapsed_with_a_pause_prints_hours_minutes_seconds(capsys):
    code, out, _ = run(
        capsys,
        "elapsed",
        *MOSCOW,
        "--from", "2024-12-27T10:00:00+03:00",
        "--to", "2024-12-28T19:00:00+03:00",
        "--pause", "2024-12-27T15:00:00+03:00/2024-12-28T12:00:00+03:00",
    )  # fmt: skip
    assert (code, out) == (0, "12:00:00\n")


def test_elapsed_in_hours_and_in_working_days(capsys):
    span = ["--from", "2025-06-10T15:00:00+03:00", "--to", "2025-06-17T17:30:00+03:00"]
    _, hours, _ = run(capsys, "elapsed", *MOSCOW, *span, "--hours")
    _, days, _ = run(capsys, "elapsed", *MOSCOW, *span, "--days")
    assert hours == "29.5\n"  # Tue 4 h + Wed 9 h + Mon 9 h + Tue 7.5 h
    assert days == "3 working days + 2:30:00\n"


def test_elapsed_around_the_clock_marks_provisional_years(capsys):
    code, out, _ = run(
        capsys, "elapsed", "--schedule", "mon-fri 10:00-19:00", "--country", "RU",
        "--from", "2030-03-04T10:00:00+03:00", "--to", "2030-03-05T10:00:00+03:00", "--json",
    )  # fmt: skip
    payload = json.loads(out)
    assert (code, payload["elapsed"], payload["provisional"]) == (0, "9:00:00", True)


def test_days_lists_holidays_and_working_saturdays(capsys):
    _, out, _ = run(
        capsys,
        "days",
        "--schedule",
        "mon-fri 10:00-19:00",
        "--from",
        "2024-12-28",
        "--to",
        "2024-12-30",
    )
    lines = out.splitlines()
    assert lines[0].startswith("2024-12-28 Sat  10:00-19:00")
    assert "working weekend day" in lines[0]
    assert lines[1] == "2024-12-29 Sun  off"
    assert lines[2].startswith("2024-12-30 Mon  off")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2024-12-27T18:00:00", "--hours", "4"], "has no UTC offset"),
        (["--from", "yesterday", "--hours", "4"], "not an ISO 8601 instant"),
        (["--from", "2024-12-27T18:00:00-19:36", "--hours", "4"], "offsets run from -12:00"),
        (["--from", "2024-12-27T18:00:00+03:00", "--hours", "four"], "not a number"),
        (["--from", "2024-12-27T18:00:00+03:00", "--days", "1.5"], "whole number"),
        (["--from", "2024-12-27T18:00:00+03:00", "--hours", "4", "--pause", "x"], "joined by '/'"),
    ],
)
def test_bad_arguments_say_what_is_wrong_and_show_an_example(capsys, argv, message):
    code, out, err = run(capsys, "deadline", *MOSCOW, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert "example: reglament calendar deadline --schedule" in err


def test_bad_calendar_definitions_exit_2_with_the_reason(capsys):
    code, _, err = run(
        capsys,
        "deadline",
        "--schedule",
        "mon-fry 10:00-19:00",
        "--from",
        "2024-12-27T18:00:00+03:00",
        "--hours",
        "1",
    )
    assert code == 2
    assert "'fry' is not a day of the week" in err
    code, _, err = run(
        capsys,
        "deadline",
        "--schedule",
        "always",
        "--timezone",
        "Moscow",
        "--from",
        "2024-12-27T18:00:00+03:00",
        "--hours",
        "1",
    )
    assert code == 2
    assert "not a known time zone" in err


def test_the_console_command_exits_2_on_a_missing_duration():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reglament.cli",
            "calendar",
            "deadline",
            *MOSCOW,
            "--from",
            "2024-12-27T18:00:00+03:00",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "one of the arguments --minutes --hours --days is required" in result.stderr
