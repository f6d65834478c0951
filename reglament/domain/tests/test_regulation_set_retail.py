"""regulations/set-retail.yaml runs seed R1 (SET Retail client tariffs) exactly.

Seed: /work/shared/seeds/000_272b4385d04ebd43.txt; the columns, cheapest first, are
`basic`, `standard`, `premium`. One test per promise R1.1–R1.7, each quoting the seed
line it proves, then hand-computed what-if clocks.

Calendars of the file: every hour target counts `around-the-clock` («Круглосуточная
поддержка ✓ ✓ ✓»); the R1.6 working days count on `working`, Mon–Fri 10:00–19:00
Moscow time on the Russian production calendar. Date facts used below:
- 1–8 Jan 2025 are the New Year holidays; Thu 9 Jan 2025 is the first working day.
- Thu 12 Jun 2025 is Russia Day, Fri 13 Jun 2025 a transferred day off.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reglament.domain.calendar import WorkingDays
from reglament.domain.regulation import Case, Regulation, Text, load_regulation_file

FILE = Path(__file__).resolve().parents[3] / "regulations" / "set-retail.yaml"
TARIFFS = ("basic", "standard", "premium")
SOLVED_BY_SPECIALISTS = Text(
    ru="проблемы решаются нашими специалистами", en="problems are solved by our specialists"
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture(scope="module")
def regulation() -> Regulation:
    return load_regulation_file(FILE)


def duration(regulation: Regulation, metric: str, **case: object) -> object:
    resolved = regulation.target(metric, Case(**case))  # type: ignore[arg-type]
    assert resolved is not None, f"{metric} does not apply to {case}"
    return resolved.duration


def clocks_by_metric(clocks):
    return {clock.metric: clock for clock in clocks}


# --- the file ------------------------------------------------------------------------


def test_file_loads_with_the_three_tariffs_cheapest_first(regulation):
    assert regulation.id == "set-retail"
    assert [t.id for t in regulation.tariffs] == list(TARIFFS)
    assert regulation.number_prefix == "SETR"


def test_hour_targets_count_around_the_clock_and_working_days_on_moscow_office_hours(regulation):
    # R1.1 «Круглосуточная поддержка ✓ ✓ ✓»; R1.6 «в течение 3 рабочих дней».
    specs = regulation.calendar_specs
    assert specs["around-the-clock"].schedule == "always"
    assert specs["working"].timezone == "Europe/Moscow"
    assert specs["working"].holidays == "RU"
    calendar_of = {metric.id: metric.calendar for metric in regulation.metrics}
    assert calendar_of == {
        "registration": "around-the-clock",
        "consultation": "around-the-clock",
        "restoration": "around-the-clock",
        "processing": "around-the-clock",
        "workaround": "working",
    }
    # A working day is 10:00–19:00: 1 h from Fri 18:00 closes at 19:00.
    working = regulation.calendars["working"]
    assert working.add(at("2025-06-06T18:00:00+03:00"), hours(1)) == at("2025-06-06T19:00:00+03:00")


# --- R1.1 services ------------------------------------------------------------------------


def test_r1_1_service_catalogue_reproduces_the_seed_tables_row_by_row(regulation):
    # The seed's rows in order: «Типы поддержки» … «Доступ к базе знаний SET», then
    # «Время обработки заявок».
    assert [s.id for s in regulation.services] == [
        "support-type",
        "round-the-clock-support",
        "guaranteed-restoration",
        "critical-consultation",
        "remote-monitoring",
        "personal-manager",
        "updates-installed-by-vendor",
        "registration",
        "consultation",
        "defect-consultation",
        "new-versions",
        "knowledge-base",
        "processing-registers-stopped",
        "processing-transport-stopped",
        "processing-server-restoration",
        "processing-new-server-setup",
        "processing-remote-store-launch",
        "processing-register-operations",
        "processing-loyalty",
        "processing-goods-prices-exchange",
        "processing-erp-discrepancy",
    ]


@pytest.mark.parametrize(
    ("service", "title", "marks"),
    [
        # «Круглосуточная поддержка | ✓ | ✓ | ✓»
        ("round-the-clock-support", "Круглосуточная поддержка", (True, True, True)),
        # «Система удаленного мониторинга | ✗ | ✗ | ✓»
        ("remote-monitoring", "Система удаленного мониторинга", (False, False, True)),
        # «Персональный сервис-менеджер | ✗ | ✗ | ✓»
        ("personal-manager", "Персональный сервис-менеджер", (False, False, True)),
        # «Установка обновлений нашими силами | ✗ | ✗ | ✓»
        ("updates-installed-by-vendor", "Установка обновлений нашими силами", (False, False, True)),
        # «Доступ к новым версиям и обновлениям SET | ✗ | ✓ | ✓»
        ("new-versions", "Доступ к новым версиям и обновлениям SET", (False, True, True)),
        # «Доступ к базе знаний SET | ✓ | ✓ | ✓»
        ("knowledge-base", "Доступ к базе знаний SET", (True, True, True)),
    ],
)
def test_r1_1_included_services_are_ticked_as_in_the_seed(regulation, service, title, marks):
    row = regulation.service(service)
    assert row.title.ru == title
    assert row.title.en
    assert tuple(row.tariffs[t] for t in TARIFFS) == marks


def test_r1_1_texts_of_the_comparison_table_are_the_seeds(regulation):
    def cells(service_id):
        return tuple(regulation.service(service_id).tariffs[t].ru for t in TARIFFS)

    # «Типы поддержки»: consultations / remote resolution / resolution and updates.
    basic, standard, premium = cells("support-type")
    assert basic == "Консультации по телефону и электронной почте."
    assert standard.startswith("Удаленное решение проблем нашими специалистами.")
    assert premium.startswith("Удаленное решение проблем и установка обновлений")
    assert premium.endswith("Консультации персонального менеджера.")
    # «Гарантированное восстановление работы системы … только консультации | до 6 ч. (до 4 ч.)
    # до 4 ч. (до 2 ч.)»
    assert cells("guaranteed-restoration") == (
        "только консультации",
        "до 6 ч. (до 4 ч.)",
        "до 4 ч. (до 2 ч.)",
    )
    assert "50-ти касс" in regulation.service("guaranteed-restoration").note.ru
    # «Вы получите консультацию (если остановились критичные бизнес-процессы) | до 8 ч. (до 4 ч.)
    # до 6 ч. (проблемы решаются нашими специалистами) | до 4 ч. (…)»
    assert cells("critical-consultation") == (
        "до 8 ч. (до 4 ч.)",
        "до 6 ч. (проблемы решаются нашими специалистами)",
        "до 4 ч. (проблемы решаются нашими специалистами)",
    )
    # «Регистрация заявки | 30 мин. | 15 мин. | 15 мин.»
    assert cells("registration") == ("30 мин.", "15 мин.", "15 мин.")
    # «Консультация по SET | 8 ч. | 6 ч. | 4 ч.»
    assert cells("consultation") == ("8 ч.", "6 ч.", "4 ч.")
    # «Консультация при обнаружении ошибки в SET | 8 ч. | проблемы решаются нашими
    # специалистами | проблемы решаются нашими специалистами»
    assert cells("defect-consultation") == (
        "8 ч.",
        "проблемы решаются нашими специалистами",
        "проблемы решаются нашими специалистами",
    )
    # «Устранение расхождения на сервере SET и EPR | консультация | 36 ч. | 36 ч.»
    assert cells("processing-erp-discrepancy") == ("консультация", "36 ч.", "36 ч.")


# --- R1.2 registration ----------------------------------------------------------------------


@pytest.mark.parametrize(("tariff", "minutes"), [("basic", 30), ("standard", 15), ("premium", 15)])
@pytest.mark.parametrize("kind", ["defect", "consultation", "service-request"])
def test_r1_2_registration_within_30_15_15_minutes(regulation, tariff, minutes, kind):
    # R1.2 «Регистрация заявки | 30 мин. | 15 мин. | 15 мин.»
    for priority in ("critical", "low"):
        got = duration(regulation, "registration", tariff=tariff, priority=priority, type=kind)
        assert got == timedelta(minutes=minutes)


# --- R1.3 consultation ----------------------------------------------------------------------


@pytest.mark.parametrize(("tariff", "n"), [("basic", 8), ("standard", 6), ("premium", 4)])
def test_r1_3_consultation_on_set_within_8_6_4_hours(regulation, tariff, n):
    # R1.3 «Консультация по SET | 8 ч. | 6 ч. | 4 ч.»
    for priority in ("critical", "high", "medium", "low"):
        got = duration(
            regulation, "consultation", tariff=tariff, priority=priority, type="consultation"
        )
        assert got == hours(n)


def test_r1_3_consultation_on_a_defect_8h_on_basic_solved_by_specialists_otherwise(regulation):
    # R1.3 «Консультация при обнаружении ошибки в SET | 8 ч. | проблемы решаются нашими
    # специалистами | проблемы решаются нашими специалистами»
    basic = regulation.target(
        "consultation", Case(tariff="basic", priority="medium", type="defect")
    )
    assert basic.duration == hours(8)
    for tariff in ("standard", "premium"):
        got = regulation.target(
            "consultation", Case(tariff=tariff, priority="medium", type="defect")
        )
        assert got.duration is None
        assert not got.promise
        assert got.note == SOLVED_BY_SPECIALISTS


def test_r1_3_critical_defect_still_gets_its_consultation_time(regulation):
    # R1.1 «Вы получите консультацию (если остановились критичные бизнес-процессы) … до 6 ч.
    # (проблемы решаются нашими специалистами) | до 4 ч. (проблемы решаются нашими специалистами)»
    standard = regulation.target(
        "consultation", Case(tariff="standard", priority="critical", type="defect")
    )
    premium = regulation.target(
        "consultation", Case(tariff="premium", priority="critical", type="defect")
    )
    assert (standard.duration, standard.note) == (hours(6), SOLVED_BY_SPECIALISTS)
    assert (premium.duration, premium.note) == (hours(4), SOLVED_BY_SPECIALISTS)


def test_r1_3_service_requests_have_no_consultation_clock(regulation):
    # ASSUMPTION in the file: consultation times are for questions and defects.
    case = Case(tariff="premium", priority="medium", type="service-request")
    assert regulation.target("consultation", case) is None


# --- R1.4 restoration and the 50-register brackets -------------------------------------------


def test_r1_4_restoration_when_critical_processes_stop(regulation):
    # R1.4 «Гарантированное восстановление работы системы (если остановились критичные
    # бизнес-процессы) | только консультации | до 6 ч. (до 4 ч.) | до 4 ч. (до 2 ч.)»
    basic = regulation.target("restoration", Case(tariff="basic", priority="critical"))
    assert basic.duration is None
    assert not basic.promise  # `none` is shown as «только консультация»
    # R1.4 standard: «до 6 ч. (до 4 ч.)»
    assert duration(regulation, "restoration", tariff="standard", priority="critical") == hours(6)
    # R1.4 premium: «до 4 ч. (до 2 ч.)»
    assert duration(regulation, "restoration", tariff="premium", priority="critical") == hours(4)


def test_r1_4_bracketed_values_apply_from_50_cash_registers(regulation):
    # «*для клиентов от 50-ти касс»: 50 counts, 49 does not.
    def restoration(tariff, registers):
        return duration(
            regulation,
            "restoration",
            tariff=tariff,
            priority="critical",
            attributes={"cash_registers": registers},
        )

    # R1.4 standard, 50+ registers: «до 6 ч. (до 4 ч.)»
    assert restoration("standard", 49) == hours(6)
    assert restoration("standard", 50) == hours(4)
    # R1.4 premium, 50+ registers: «до 4 ч. (до 2 ч.)»
    assert restoration("premium", 49) == hours(4)
    assert restoration("premium", 60) == hours(2)
    # R1.4 basic: «только консультации» whatever the size.
    assert restoration("basic", 500) is None


def test_r1_4_basic_critical_consultation_is_4_hours_from_50_registers(regulation):
    # R1.4 basic, consultation: «до 8 ч. (до 4 ч.)»
    def consultation(priority, registers):
        case = Case(
            tariff="basic",
            priority=priority,
            type="consultation",
            attributes={"cash_registers": registers},
        )
        return regulation.target("consultation", case).duration

    assert consultation("critical", 10) == hours(8)
    assert consultation("critical", 50) == hours(4)
    # The bracket is in the critical row only: a non-critical question stays 8 h.
    assert consultation("medium", 50) == hours(8)


def test_r1_4_no_restoration_promise_unless_critical(regulation):
    for tariff in TARIFFS:
        for priority in ("high", "medium", "low"):
            case = Case(tariff=tariff, priority=priority, attributes={"cash_registers": 60})
            assert regulation.target("restoration", case).duration is None


# --- R1.5 categories ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "group", "standard", "premium"),
    [
        # «Устранение неисправности при остановке работы более 50% касс | консультация |
        # 4 ч. | 2 ч.»
        ("registers-stopped", "critical", 4, 2),
        # «Устранение неисправности при остановке транспорта | консультация | 4 ч. | 2 ч.»
        ("transport-stopped", "critical", 4, 2),
        # «Восстановление работы сервера Set Retail | консультация | 4 ч. | 3 ч.»
        ("server-restoration", "important", 4, 3),
        # «Решение проблем при настройке нового сервера Set Retail | консультация | 4 ч. | 3 ч.»
        ("new-server-setup", "important", 4, 3),
        # «Мы удаленно запустим магазин, если ваши инженеры на объекте не справились с задачей
        # консультация | 4 ч. | 3 ч.»
        ("remote-store-launch", "important", 4, 3),
        # «Устранение проблем в работе типовых операций на кассе | консультация | 5 ч. | 4 ч.»
        ("register-operations", "other", 5, 4),
        # «Устранение проблем с модулем лояльности | консультация | 6 ч. | 4 ч.»
        ("loyalty", "other", 6, 4),
        # «Устранение проблем с экспортом/импортом данных о товарах и ценах | консультация |
        # 6 ч. | 4 ч.»
        ("goods-prices-exchange", "other", 6, 4),
        # «Устранение расхождения на сервере SET и EPR | консультация | 36 ч. | 36 ч.»
        ("erp-discrepancy", "other", 36, 36),
    ],
)
def test_r1_5_processing_time_per_business_process_category(
    regulation, category, group, standard, premium
):
    assert regulation.category(category).group == group
    priority = regulation.category(category).default_priority
    basic = regulation.target(
        "processing", Case(tariff="basic", priority=priority, category=category)
    )
    assert basic.duration is None
    assert not basic.promise
    assert regulation.service(f"processing-{category}").tariffs["basic"].ru == "консультация"
    assert duration(
        regulation, "processing", tariff="standard", priority=priority, category=category
    ) == hours(standard)
    assert duration(
        regulation, "processing", tariff="premium", priority=priority, category=category
    ) == hours(premium)


def test_r1_5_category_groups_and_default_priorities(regulation):
    # «Критичные бизнес-процессы», «Важные бизнес-процессы», «Остальные бизнес-процессы»
    assert [(g.id, g.title.ru) for g in regulation.category_groups] == [
        ("critical", "Критичные бизнес-процессы"),
        ("important", "Важные бизнес-процессы"),
        ("other", "Остальные бизнес-процессы"),
    ]
    defaults = {c.id: c.default_priority for c in regulation.categories}
    assert defaults == {
        "registers-stopped": "critical",
        "transport-stopped": "critical",
        "server-restoration": "high",
        "new-server-setup": "high",
        "remote-store-launch": "high",
        "register-operations": "medium",
        "loyalty": "medium",
        "goods-prices-exchange": "medium",
        "erp-discrepancy": "medium",
    }


def test_r1_5_a_request_without_a_category_has_no_processing_time(regulation):
    assert duration(regulation, "processing", tariff="premium", priority="critical") is None


# --- R1.6 confirmed defect ------------------------------------------------------------------


def test_r1_6_workaround_within_3_working_days_and_the_fix_date_is_reported(regulation):
    # R1.6 «Если в ходе диагностики будет выявлена ошибка в работе SET, в течение 3 рабочих
    # дней вы получите обходное решение, а также сроки исправления ошибки.»
    metric = regulation.metric("workaround")
    assert (metric.starts, metric.stops) == ("defect_confirmed", "workaround_provided")
    for tariff in TARIFFS:
        got = regulation.target("workaround", Case(tariff=tariff, priority="low", type="defect"))
        assert got.duration == WorkingDays(3)
        assert got.calendar == "working"
    assert (
        regulation.target("workaround", Case(tariff="basic", priority="low", type="consultation"))
        is None
    )
    fix_date = {r.id: r for r in regulation.reported}["fix-date"]
    assert fix_date.metric == "workaround"
    assert "сроки исправления" in fix_date.text.ru


def test_r1_6_defect_workflow_diagnose_reproduce_hand_to_development(regulation):
    # «проводим диагностику…; "наигрываем" ошибку на тестовом стенде…; фиксируем ошибку и
    # передаем ее в нашу разработку; информируем о сроках устранения.»
    statuses = {s.id: s for s in regulation.statuses}
    assert [s.id for s in regulation.statuses if s.initial] == ["new"]
    assert "reproducing" in statuses["in-progress"].next
    assert "in-development" in statuses["reproducing"].next
    assert statuses["done"].final
    assert statuses["done"].resolution_required
    waiting = regulation.waiting_status
    assert waiting.id == "clarification"
    assert not waiting.pauses_metric("registration")
    for metric in ("consultation", "restoration", "processing", "workaround"):
        assert waiting.pauses_metric(metric)


# --- R1.7 out of scope ----------------------------------------------------------------------


def test_r1_7_out_of_scope_problems_get_consultation_only(regulation):
    # R1.7 «проблемы связанные с работой оборудования, ОС, БД…; проблемы, связанные с
    # интеграцией; проблемы в каналах связи. В подобных случаях мы помогаем путем
    # предоставления консультаций…»
    assert [c.id for c in regulation.out_of_scope] == [
        "hardware-os-dbms",
        "integration",
        "communication-channels",
    ]
    flagged = Case(
        tariff="premium",
        priority="critical",
        type="defect",
        category="registers-stopped",
        attributes={"cash_registers": 60},
        out_of_scope=True,
    )
    for metric in ("restoration", "processing", "workaround"):
        assert regulation.target(metric, flagged).duration is None, metric
    # …but the request is registered and consulted in time.
    assert regulation.target("registration", flagged).duration == timedelta(minutes=15)
    assert regulation.target("consultation", flagged).duration == hours(4)


# --- what-if clocks, computed by hand ---------------------------------------------------------


def test_standard_critical_restoration_over_a_new_year_holiday_night(regulation):
    # R1.4 standard: «до 6 ч. (до 4 ч.)», counted around the clock («Круглосуточная
    # поддержка»): the holiday and the night do not stop it.
    # Received Sat 2025-01-04 22:00 MSK (a Saturday inside the 1–8 Jan holidays):
    #   registration 15 min  → Sat 22:15;
    #   restoration 6 h      → 22:00 + 2 h to midnight + 4 h = Sun 2025-01-05 04:00;
    #   consultation 6 h     → Sun 04:00 as well.
    # On the office calendar the same 6 h would only be due Thu 2025-01-09 16:00 (first
    # working day 10:00 + 6 h): that is what «круглосуточная» rules out.
    received = at("2025-01-04T22:00:00+03:00")
    case = Case(tariff="standard", priority="critical", type="defect")
    clocks = clocks_by_metric(regulation.simulate(case, received=received))
    assert clocks["registration"].due == at("2025-01-04T22:15:00+03:00")
    assert clocks["restoration"].start == received
    assert clocks["restoration"].due == at("2025-01-05T04:00:00+03:00")
    assert clocks["consultation"].due == at("2025-01-05T04:00:00+03:00")
    assert not clocks["processing"].promise  # no category chosen
    assert clocks["workaround"].start is None  # no defect confirmed yet
    assert clocks["workaround"].due is None
    working = regulation.calendars["working"]
    assert working.add(received, hours(6)) == at("2025-01-09T16:00:00+03:00")


def test_standard_critical_restoration_with_60_cash_registers_takes_the_bracketed_4_hours(
    regulation,
):
    # R1.4 standard, 50+ registers: «до 6 ч. (до 4 ч.)».
    # Received Sat 2025-01-04 22:00 MSK, 4 h around the clock:
    #   22:00 + 2 h to midnight + 2 h = Sun 2025-01-05 02:00.
    # Consultation has no bracket on standard: still 6 h → Sun 04:00.
    received = at("2025-01-04T22:00:00+03:00")
    case = Case(
        tariff="standard",
        priority="critical",
        type="defect",
        attributes={"cash_registers": 60},
    )
    clocks = clocks_by_metric(regulation.simulate(case, received=received))
    assert clocks["restoration"].due == at("2025-01-05T02:00:00+03:00")
    assert clocks["consultation"].due == at("2025-01-05T04:00:00+03:00")
    assert clocks["registration"].due == at("2025-01-04T22:15:00+03:00")


def test_clarification_pauses_restoration_but_not_registration(regulation):
    # Same request (standard, critical, 60 registers, received Sat 2025-01-04 22:00 MSK);
    # it waits for the customer 22:05–23:35 (1 h 30 min):
    #   registration is not paused: still Sat 22:15;
    #   restoration 4 h: 22:00–22:05 counts 5 min, then from 23:35 the remaining 3 h 55 min
    #   → Sun 2025-01-05 03:30 (= 02:00 + 1 h 30 min).
    received = at("2025-01-04T22:00:00+03:00")
    pause = (at("2025-01-04T22:05:00+03:00"), at("2025-01-04T23:35:00+03:00"))
    case = Case(tariff="standard", priority="critical", attributes={"cash_registers": 60})
    clocks = clocks_by_metric(regulation.simulate(case, received=received, pauses=[pause]))
    assert clocks["registration"].due == at("2025-01-04T22:15:00+03:00")
    assert clocks["restoration"].due == at("2025-01-05T03:30:00+03:00")


def test_premium_registers_stopped_processing_is_2_hours_around_the_clock(regulation):
    # R1.5 premium: «Устранение неисправности при остановке работы более 50% касс … 2 ч.»
    # Received Sun 2025-06-08 23:30 MSK → Mon 2025-06-09 01:30.
    received = at("2025-06-08T23:30:00+03:00")
    case = Case(tariff="premium", priority="critical", category="registers-stopped")
    clocks = clocks_by_metric(regulation.simulate(case, received=received))
    assert clocks["processing"].due == at("2025-06-09T01:30:00+03:00")
    assert clocks["restoration"].due == at("2025-06-09T03:30:00+03:00")  # 4 h


def test_workaround_due_3_working_days_after_confirmation_across_russia_day(regulation):
    # R1.6 «в течение 3 рабочих дней вы получите обходное решение».
    # Defect confirmed Tue 2025-06-10 15:00 MSK (5 h into the 10:00–19:00 day). Working days
    # after Tuesday: Wed 11 Jun (1); Thu 12 Jun Russia Day and Fri 13 Jun (transferred day
    # off) and the weekend are off; Mon 16 Jun (2); Tue 17 Jun (3) → same position, 15:00.
    received = at("2025-06-10T11:00:00+03:00")
    confirmed = at("2025-06-10T15:00:00+03:00")
    case = Case(tariff="basic", priority="medium", type="defect")
    clocks = clocks_by_metric(
        regulation.simulate(case, received=received, events={"defect_confirmed": confirmed})
    )
    assert clocks["workaround"].start == confirmed
    assert clocks["workaround"].due == at("2025-06-17T15:00:00+03:00")
    # basic: «только консультации» — no restoration clock; consultation 8 h → 19:00.
    assert not clocks["restoration"].promise
    assert clocks["consultation"].due == at("2025-06-10T19:00:00+03:00")
