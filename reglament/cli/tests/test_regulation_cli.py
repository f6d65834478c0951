"""`reglament regulation check|show` and `reglament sla simulate` on the shipped files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from reglament.cli import main

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted((ROOT / "regulations").glob("*.yaml"))
NAMES = [path.stem for path in SHIPPED]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_all_five_shipped_regulations_pass_the_check(capsys):
    assert NAMES == ["cera", "krizhik", "rusbitech", "set-partner", "set-retail"]
    code, out, err = run(capsys, "regulation", "check", *map(str, SHIPPED))
    assert (code, err) == (0, "")
    assert out.count(": ok — ") == 5


@pytest.mark.parametrize("path", SHIPPED, ids=NAMES)
def test_a_misspelt_event_is_reported_at_its_line(capsys, tmp_path, path):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if re.match(r"^\s+starts: \w+", line))
    lines[index] = re.sub(r"starts: \w+", "starts: recieved", lines[index])
    broken = tmp_path / path.name
    broken.write_text("".join(lines), encoding="utf-8")

    code, _, err = run(capsys, "regulation", "check", str(broken))

    assert code == 1
    assert f"{broken}:{index + 1}: metrics[0].starts: Unknown event 'recieved'." in err
    assert "Did you mean 'received'?" in err


@pytest.mark.parametrize("path", SHIPPED, ids=NAMES)
def test_a_duration_without_a_unit_is_reported_at_its_line(capsys, tmp_path, path):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(
        i for i, line in enumerate(lines) if re.search(r"target: \d+(\.\d+)?(m|h|wd)\b", line)
    )
    lines[index] = re.sub(r"target: \d+(\.\d+)?(m|h|wd)\b", "target: 4 hours", lines[index])
    broken = tmp_path / path.name
    broken.write_text("".join(lines), encoding="utf-8")

    code, _, err = run(capsys, "regulation", "check", str(broken))

    assert code == 1
    assert re.search(
        rf"{re.escape(str(broken))}:{index + 1}: metrics\[\d+\]\.targets\[\d+\]\.target: "
        r"'4 hours' is not a duration\. Write it with a unit",
        err,
    )


@pytest.mark.parametrize("path", SHIPPED, ids=NAMES)
def test_a_priority_left_without_targets_is_reported(capsys, tmp_path, path):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    metric = document["metrics"][0]
    metric["targets"] = [
        rule
        for rule in metric["targets"]
        if "critical" not in _as_list(rule.get("priority", "critical"))
    ]
    broken = tmp_path / path.name
    broken.write_text(
        yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )

    code, _, err = run(capsys, "regulation", "check", str(broken))

    assert code == 1
    assert re.search(
        rf"Metric '{metric['id']}' has no target for tariff=[\w-]+, priority=critical", err
    )
    assert "use 'target: none' where nothing is promised" in err


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_an_invalid_file_among_valid_ones_fails_the_whole_check(capsys, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: 1\nid: Broken\n", encoding="utf-8")
    code, out, err = run(capsys, "regulation", "check", str(SHIPPED[0]), str(broken))
    assert code == 1
    assert out.count(": ok — ") == 1
    assert f"{broken}:2: id: 'Broken' is not a valid id." in err
    assert "1 of 2 files have problems." in err


def test_show_reproduces_the_set_retail_comparison_table(capsys):
    code, out, _ = run(capsys, "regulation", "show", str(ROOT / "regulations/set-retail.yaml"))
    assert code == 0
    # R1.1 "Персональный сервис-менеджер ✗ ✗ ✓"; R1.2 registration 30 / 15 / 15 min.
    assert re.search(r"Персональный сервис-менеджер\s+✗\s+✗\s+✓", out)
    assert re.search(r"Регистрация заявки\s+30 мин\.\s+15 мин\.\s+15 мин\.", out)
    # R1.5 "Устранение расхождения на сервере SET и ERP — консультация / 36 ч. / 36 ч."
    assert re.search(
        r"Устранение расхождения на сервере SET и ERP\s+консультация\s+36 ч\.\s+36 ч\.", out
    )


def test_show_in_english_markdown_and_html(capsys):
    path = str(ROOT / "regulations/krizhik.yaml")
    _, markdown, _ = run(capsys, "regulation", "show", path, "--lang", "en", "--format", "markdown")
    _, page, _ = run(capsys, "regulation", "show", path, "--format", "html")
    assert markdown.startswith("# ")
    assert "| --- |" in markdown
    assert "<table class='tariff-comparison'>" in page
    assert "<script" not in page


def test_simulate_prints_every_metric_with_its_due_instant(capsys):
    code, out, _ = run(
        capsys, "sla", "simulate", "--regulation", str(ROOT / "regulations/krizhik.yaml"),
        "--tariff", "reliable", "--priority", "high", "--received", "2025-03-04T12:00:00+03:00",
        "--json",
    )  # fmt: skip
    assert code == 0
    clocks = {c["metric"]: c for c in json.loads(out)["clocks"]}
    assert set(clocks) >= {"reaction"}
    assert all({"due", "target", "counted", "promise"} <= set(c) for c in clocks.values())


def test_simulate_refuses_an_unknown_tariff_with_the_known_ones(capsys):
    code, _, err = run(
        capsys, "sla", "simulate", "--regulation", str(ROOT / "regulations/cera.yaml"),
        "--tariff", "gold", "--priority", "high", "--received", "2025-03-04T12:00:00+03:00",
    )  # fmt: skip
    assert code == 2
    assert "There is no tariff 'gold'. Known: standard." in err
    assert "example: reglament sla simulate" in err


def test_show_tells_cera_lines_apart(capsys):
    _, out, _ = run(
        capsys, "regulation", "show", str(ROOT / "regulations/cera.yaml"), "--lang", "en"
    )
    # R3.6 "Критический 6 / 12, Высокий 15 / 30, Средний 30 / 60, Низкий 75 / 150"
    flat = " ".join(out.split())
    assert "line 1, 2: critical: 6 h; high: 15 h; medium: 30 h; low: 75 h" in flat
    assert "line 3: critical: 12 h; high: 30 h; medium: 60 h; low: 150 h" in flat
