"""Loading regulation files: a small valid one, and each kind of mistake reported precisely."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reglament.domain.calendar import WorkingDays
from reglament.domain.regulation import Case, RegulationInvalid, load_regulation

VALID = """\
format: 1
id: acme
title: {ru: "Акме", en: "Acme"}
vendor: {ru: "Акме", en: "Acme"}
number_prefix: ACME
calendars:
  working: {schedule: "mon-fri 10:00-19:00", timezone: Europe/Moscow, holidays: RU}
  around-the-clock: {schedule: always, timezone: Europe/Moscow}
default_calendar: working
channels:
  - {id: email, title: {ru: "Почта", en: "Email"}, calendar: around-the-clock}
tariffs:
  - {id: basic, title: {ru: "Базовый", en: "Basic"}}
  - {id: premium, title: {ru: "Премиум", en: "Premium"}, usage: {unit: hour, increment: 0.5}}
services:
  - id: personal-manager
    title: {ru: "Персональный менеджер", en: "Personal manager"}
    tariffs: {basic: false, premium: true}
request_types:
  - {id: defect, title: {ru: "Дефект", en: "Defect"}}
  - {id: consultation, title: {ru: "Консультация", en: "Consultation"}}
priorities:
  - {id: critical, title: {ru: "Критический", en: "Critical"}}
  - {id: high, title: {ru: "Высокий", en: "High"}}
  - {id: medium, title: {ru: "Средний", en: "Medium"}}
  - {id: low, title: {ru: "Низкий", en: "Low"}}
statuses:
  - {id: new, title: {ru: "Новая", en: "New"}, initial: true, next: [clarification, done]}
  - id: clarification
    title: {ru: "Уточнение", en: "Clarification"}
    waiting_for_customer: true
    pauses: [resolution]
    next: [done]
  - {id: done, title: {ru: "Выполнено", en: "Done"}, final: true}
resolutions:
  - {id: solved, title: {ru: "Решена", en: "Solved"}}
metrics:
  - id: registration
    title: {ru: "Регистрация", en: "Registration"}
    starts: received
    stops: registered
    calendar: around-the-clock
    targets:
      - {tariff: basic, target: 30m}
      - {tariff: premium, target: 15m}
  - id: resolution
    title: {ru: "Решение", en: "Resolution"}
    starts: registered
    stops: resolved
    targets:
      - {tariff: basic, target: none}
      - {tariff: premium, target: 8h}
      - {tariff: premium, priority: critical, target: 2h, calendar: around-the-clock}
      - {tariff: premium, priority: critical, attributes: {cash_registers: {min: 50}}, target: 1h,
         calendar: around-the-clock}
      - {tariff: premium, type: defect, priority: [high, medium, low], target: 3wd}
"""


def load(text: str = VALID):
    return load_regulation(text, name="acme.yaml")


def problems_of(text: str) -> list[str]:
    with pytest.raises(RegulationInvalid) as raised:
        load(text)
    return [str(p) for p in raised.value.problems]


def test_a_valid_file_loads_with_every_section():
    regulation = load()
    assert regulation.id == "acme"
    assert [t.id for t in regulation.tariffs] == ["basic", "premium"]
    assert regulation.service("personal-manager").tariffs == {"basic": False, "premium": True}
    assert regulation.tariff("premium").usage.increment == 0.5
    assert len(regulation.digest) == 64


def test_the_most_specific_rule_wins():
    regulation = load()
    premium = Case(tariff="premium", priority="critical")
    assert regulation.target("resolution", premium).duration == timedelta(hours=2)
    assert regulation.target("resolution", premium).calendar == "around-the-clock"
    big = Case(tariff="premium", priority="critical", attributes={"cash_registers": 60})
    assert regulation.target("resolution", big).duration == timedelta(hours=1)
    small = Case(tariff="premium", priority="critical", attributes={"cash_registers": 49})
    assert regulation.target("resolution", small).duration == timedelta(hours=2)
    defect = Case(tariff="premium", priority="high", type="defect")
    assert regulation.target("resolution", defect).duration == WorkingDays(3)
    assert regulation.target("resolution", Case(tariff="basic", priority="high")).promise is False


def test_simulate_pauses_only_the_metrics_the_waiting_status_pauses():
    regulation = load()
    received = datetime.fromisoformat("2025-03-04T12:00:00+03:00")
    pause = (received + timedelta(hours=1), received + timedelta(hours=3))
    clocks = {
        c.metric: c
        for c in regulation.simulate(
            Case(tariff="premium", priority="medium", type="consultation"),
            received=received,
            pauses=[pause],
        )
    }
    assert clocks["registration"].due == received + timedelta(minutes=15)  # not paused
    # 8 working hours: Tue 12–13 (1 h), paused 13–15, 15–19 (4 h), Wed 10–13 (3 h).
    assert clocks["resolution"].due == datetime.fromisoformat("2025-03-05T13:00:00+03:00")


# --- each kind of mistake, with file, line, path and a hint ---------------------------


def test_unknown_calendar_is_reported_with_its_line_and_a_suggestion():
    broken = VALID.replace(
        "calendar: around-the-clock\n    targets", "calendar: around-the-clok\n    targets"
    )
    (problem,) = problems_of(broken)
    line = broken.splitlines().index("    calendar: around-the-clok") + 1
    assert problem.startswith(
        f"acme.yaml:{line}: metrics[0].calendar: Unknown calendar 'around-the-clok'."
    )
    assert "Did you mean 'around-the-clock'?" in problem


def test_a_tariff_without_a_target_for_a_priority_is_reported():
    broken = VALID.replace(
        "      - {tariff: basic, target: none}\n",
        "      - {tariff: basic, priority: critical, target: none}\n",
    )
    (problem,) = problems_of(broken)
    assert (
        "metrics[1].targets: Metric 'resolution' has no target for tariff=basic, priority=high"
        in problem
    )
    assert "use 'target: none' where nothing is promised" in problem


def test_overlapping_rules_are_reported():
    broken = VALID.replace(
        "      - {tariff: premium, target: 8h}\n",
        "      - {tariff: premium, target: 8h}\n      - {type: consultation, target: 4h}\n",
    )
    problems = problems_of(broken)
    assert any(
        "overlap: both match a request with tariff=premium, type=consultation" in p
        for p in problems
    )


def test_unknown_event_and_wrong_duration_unit_are_reported_together():
    broken = VALID.replace("stops: registered", "stops: registred").replace(
        "target: 30m", "target: 30 minutes"
    )
    problems = problems_of(broken)
    assert len(problems) == 2
    assert "metrics[0].stops: Unknown event 'registred'. Did you mean 'registered'?" in problems[0]
    assert (
        "metrics[0].targets[0].target: '30 minutes' is not a duration. Write it with a unit"
        in problems[1]
    )


def test_unknown_keys_duplicates_and_missing_values_are_each_reported():
    broken = (
        VALID.replace("number_prefix: ACME", "number_prefix: acme")
        .replace("tariffs: {basic: false, premium: true}", "tariffs: {basic: false}")
        .replace("  - {id: premium, title:", "  - {id: basic, titel: x, title:")
    )
    problems = "\n".join(problems_of(broken))
    assert "number_prefix: 'acme' is not a request-number prefix" in problems
    assert "services[0].tariffs: No value for tariff 'premium'" not in problems  # premium is gone
    assert "tariffs[1].titel: Unknown key 'titel'. Did you mean 'title'?" in problems
    assert "tariffs[1].id: The tariff id 'basic' is used twice." in problems


def test_yaml_syntax_errors_name_the_line():
    (problem,) = problems_of(VALID.replace("format: 1\n", "format: [1\n"))
    assert problem.startswith("acme.yaml:2: YAML syntax:")


def test_duplicate_keys_are_not_silently_overwritten():
    (problem,) = problems_of(
        VALID.replace("number_prefix: ACME\n", "number_prefix: ACME\nnumber_prefix: ACME\n")
    )
    assert "The key 'number_prefix' is given twice." in problem


def test_bad_calendar_definitions_reuse_the_engine_messages():
    (problem,) = problems_of(VALID.replace('"mon-fri 10:00-19:00"', '"mon-fry 10:00-19:00"'))
    assert "calendars.working: 'fry' is not a day of the week." in problem
