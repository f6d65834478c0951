"""regulations/set-partner.yaml runs seed R2 (SET partner tariffs Free and Expert) exactly.

Seed: /work/shared/seeds/001_8650e1f41c61c92f.txt; tariffs `free` («Бесплатный») and
`expert` («Экспертный»). One test per promise R2.1–R2.7, each quoting the seed line it
proves, then hand-computed what-if clocks.

Calendars of the file: `working` is Mon–Fri 10:00–19:00 Moscow time on the Russian
production calendar («с 10 до 19 по МСК в рабочие дни»); `around-the-clock` is 24/7.
Date facts used below (Russian production calendar 2024–2025):
- Sat 28 Dec 2024 was a working Saturday (its day off moved to Mon 30 Dec).
- 29 Dec 2024 – 8 Jan 2025 were days off; Thu 9 Jan 2025 was the first working day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reglament.domain.calendar import WorkingDays
from reglament.domain.regulation import Case, Regulation, load_regulation_file

FILE = Path(__file__).resolve().parents[3] / "regulations" / "set-partner.yaml"
TARIFFS = ("free", "expert")
FRIDAY_18 = "2024-12-27T18:00:00+03:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture(scope="module")
def regulation() -> Regulation:
    return load_regulation_file(FILE)


def clocks_by_metric(clocks):
    return {clock.metric: clock for clock in clocks}


def consultation(regulation, tariff, priority, kind="consultation"):
    return regulation.target("consultation", Case(tariff=tariff, priority=priority, type=kind))


# --- R2.1 partners ----------------------------------------------------------------------


def test_r2_1_tariffs_are_for_csi_partners_who_serve_end_clients(regulation):
    # R2.1 «Для партнеров CSI: Дистрибьюторов лицензий ПО SET; Компаний, аккредитованных на
    # обслуживание ФР; Компаний, оказывающих сервисные услуги по договору субподряда»
    assert regulation.id == "set-partner"
    assert [(t.id, t.title.ru) for t in regulation.tariffs] == [
        ("free", "Бесплатный"),
        ("expert", "Экспертный"),
    ]
    expert = regulation.tariff("expert").description.ru
    assert expert.startswith("Для партнеров CSI")
    assert "Дистрибьюторов лицензий ПО SET".lower() in expert.lower()
    assert "аккредитованных на обслуживание ФР" in expert
    assert "по договору субподряда" in expert
    assert "партнеров CSI" in regulation.title.ru
    # «Если у клиента остановятся критичные бизнес-процессы» — the partner's client.
    assert "У клиента" in {p.id: p for p in regulation.priorities}["critical"].definition.ru


# --- R2.2 registration ------------------------------------------------------------------


@pytest.mark.parametrize(("tariff", "minutes"), [("free", 30), ("expert", 15)])
def test_r2_2_registration_around_the_clock_within_30_or_15_minutes(regulation, tariff, minutes):
    # R2.2 «Ваше обращение примут в любое время, 24 часа в сутки семь дней в неделю»;
    # «Круглосуточная регистрация заявки | до 30 мин. | до 15 мин.»
    assert regulation.metric("registration").calendar == "around-the-clock"
    assert regulation.calendar_specs["around-the-clock"].schedule == "always"
    for priority in ("critical", "low"):
        for kind in ("defect", "consultation", "service-request"):
            got = regulation.target(
                "registration", Case(tariff=tariff, priority=priority, type=kind)
            )
            assert got.duration == timedelta(minutes=minutes)
            assert got.calendar == "around-the-clock"
    cell = regulation.service("registration").tariffs[tariff]
    assert cell.ru == f"до {minutes} мин."


def test_r2_2_registration_on_a_sunday_night_is_due_15_minutes_later(regulation):
    # R2.2 expert: «Ваше обращение примут и зарегистрируют в течение 15 минут» — 24/7.
    received = at("2024-12-29T23:50:00+03:00")  # Sunday, a day off
    case = Case(tariff="expert", priority="low", type="consultation")
    clocks = clocks_by_metric(regulation.simulate(case, received=received))
    assert clocks["registration"].due == at("2024-12-30T00:05:00+03:00")


# --- R2.3 expert consultation: two calendars -----------------------------------------------


def test_r2_3_expert_consultation_4_hours_on_moscow_working_days(regulation):
    # R2.3 «Вы получите консультацию эксперта в течение 4 часов (с 10 до 19 по МСК в
    # рабочие дни)»
    spec = regulation.calendar_specs["working"]
    assert (spec.timezone, spec.holidays) == ("Europe/Moscow", "RU")
    assert "10:00-19:00" in spec.schedule
    for priority in ("high", "medium", "low"):
        for kind in ("defect", "consultation"):
            got = consultation(regulation, "expert", priority, kind)
            assert (got.duration, got.calendar) == (hours(4), "working")


def test_r2_3_expert_critical_consultation_2_hours_around_the_clock(regulation):
    # R2.3 «Если у клиента остановятся критичные бизнес-процессы, вы получите консультацию в
    # течение 2 часов»; table: «до 4 ч. с 10 до 19 по МСК (до 2 ч. круглосуточно)»
    for kind in ("defect", "consultation"):
        got = consultation(regulation, "expert", "critical", kind)
        assert (got.duration, got.calendar) == (hours(2), "around-the-clock")
    assert regulation.service("expert-consultation").tariffs["expert"].ru == (
        "до 4 ч. с 10 до 19 по МСК (до 2 ч. круглосуточно)"
    )


def test_r2_3_free_consultation_within_24_hours(regulation):
    # R2.3 free: «Вы получите консультацию эксперта SET (если остановились критичные
    # бизнес-процессы) | до 24 ч.»
    assert regulation.service("expert-consultation").tariffs["free"].ru == "до 24 ч."
    for priority in ("critical", "high", "medium", "low"):
        got = consultation(regulation, "free", priority)
        assert (got.duration, got.calendar) == (hours(24), "working")


def test_r2_3_expert_consultation_friday_18_00_is_due_on_the_working_saturday_13_00(regulation):
    # R2.3 «в течение 4 часов (с 10 до 19 по МСК в рабочие дни)».
    # Received Fri 2024-12-27 18:00 MSK: Fri 18:00–19:00 = 1 h; Sat 2024-12-28 was a working
    # Saturday, open 10:00–19:00: 10:00 + 3 h = Sat 13:00.
    case = Case(tariff="expert", priority="medium", type="consultation")
    clocks = clocks_by_metric(regulation.simulate(case, received=at(FRIDAY_18)))
    assert clocks["consultation"].due == at("2024-12-28T13:00:00+03:00")
    assert clocks["registration"].due == at("2024-12-27T18:15:00+03:00")


def test_r2_3_expert_critical_consultation_friday_18_00_is_due_friday_20_00(regulation):
    # R2.3 «до 2 ч. круглосуточно»: Fri 2024-12-27 18:00 + 2 h, every hour counts = Fri 20:00.
    case = Case(tariff="expert", priority="critical", type="consultation")
    clocks = clocks_by_metric(regulation.simulate(case, received=at(FRIDAY_18)))
    assert clocks["consultation"].due == at("2024-12-27T20:00:00+03:00")
    assert clocks["consultation"].target.calendar == "around-the-clock"


def test_r2_3_free_consultation_friday_18_00_is_due_after_the_new_year_break(regulation):
    # R2.3 free «до 24 ч.», on the working calendar (ASSUMPTION in the file):
    #   Fri 2024-12-27 18:00–19:00              1 h  (total  1 h)
    #   Sat 2024-12-28 (working) 10:00–19:00    9 h  (total 10 h)
    #   29 Dec 2024 – 8 Jan 2025 off
    #   Thu 2025-01-09 10:00–19:00              9 h  (total 19 h)
    #   Fri 2025-01-10 10:00 + 5 h                   (total 24 h) → Fri 2025-01-10 15:00.
    case = Case(tariff="free", priority="critical", type="consultation")
    clocks = clocks_by_metric(regulation.simulate(case, received=at(FRIDAY_18)))
    assert clocks["consultation"].due == at("2025-01-10T15:00:00+03:00")
    assert clocks["registration"].due == at("2024-12-27T18:30:00+03:00")


def test_r2_3_clarification_pauses_the_expert_consultation(regulation):
    # 4 h from Fri 2024-12-27 16:00 MSK, waiting for the partner Fri 18:00 → Sat 11:00:
    # Fri 16–18 counts 2 h; Fri 18–19 and Sat 10–11 are paused; Sat 11:00 + 2 h = Sat 13:00.
    case = Case(tariff="expert", priority="medium", type="consultation")
    pause = (at("2024-12-27T18:00:00+03:00"), at("2024-12-28T11:00:00+03:00"))
    clocks = clocks_by_metric(
        regulation.simulate(case, received=at("2024-12-27T16:00:00+03:00"), pauses=[pause])
    )
    assert clocks["consultation"].due == at("2024-12-28T13:00:00+03:00")
    assert clocks["registration"].due == at("2024-12-27T16:15:00+03:00")  # never paused


# --- R2.4 / R2.5 the comparison table and the knowledge base ---------------------------------


def test_r2_4_staff_training_is_included_in_expert(regulation):
    # R2.4 «Ваш персонал сможет пройти очное или дистанционное обучение»;
    # «Бесплатное обучение персонала | ✗ | ✓»
    training = regulation.service("staff-training")
    assert training.title.ru == "Бесплатное обучение персонала"
    assert (training.tariffs["free"], training.tariffs["expert"]) == (False, True)
    assert training.note.ru == "очное или дистанционное"


def test_r2_4_comparison_table_reproduced_row_by_row(regulation):
    # «ПРЕИМУЩЕСТВА ПАКЕТА «ЭКСПЕРТНЫЙ»», in the seed's order, ✓ = True, ✗ = False.
    def cell(value):
        return value if isinstance(value, bool) else value.ru

    rows = [
        (s.title.ru, cell(s.tariffs["free"]), cell(s.tariffs["expert"]))
        for s in regulation.services[:10]
    ]
    consultations = "Консультации по телефону и электронной почте."
    assert rows == [
        ("Типы поддержки", consultations, consultations),
        (
            "Вы получите консультацию эксперта SET (если остановились критичные бизнес-процессы)",
            "до 24 ч.",
            "до 4 ч. с 10 до 19 по МСК (до 2 ч. круглосуточно)",
        ),
        ("Бесплатное обучение персонала", False, True),
        (
            "Гарантированное восстановление работы системы (если остановились критичные "
            "бизнес-процессы)",
            "только консультации",
            "только консультации",
        ),
        ("Система удаленного мониторинга", False, False),
        ("Персональный сервис-менеджер", False, False),
        ("Установка обновлений нашими силами", False, False),
        ("Круглосуточная регистрация заявки", "до 30 мин.", "до 15 мин."),
        ("Доступ к новым версиям и обновлениям SET", False, True),
        ("Доступ к базе знаний SET", False, True),
    ]
    assert all(s.title.en for s in regulation.services)


def test_r2_5_knowledge_base_sections_are_for_expert_only(regulation):
    # R2.5 «Вы получите доступ к следующим разделам базы знаний: Запуски, Функциональность,
    # Сопровождение, Доступ в Claim Desk»; footnote «*разделы: функциональность, настройки,
    # сопровождение, Claim Desk.»; «Доступ к базе знаний SET | ✗ | ✓»
    sections = [(s.id, s.title.ru, s.tariffs) for s in regulation.knowledge_sections]
    assert sections == [
        ("launches", "Запуски", ("expert",)),
        ("functionality", "Функциональность", ("expert",)),
        ("settings", "Настройки", ("expert",)),
        ("maintenance", "Сопровождение", ("expert",)),
        ("claim-desk", "Claim Desk", ("expert",)),
    ]
    knowledge_base = regulation.service("knowledge-base")
    assert (knowledge_base.tariffs["free"], knowledge_base.tariffs["expert"]) == (False, True)


def test_r2_5_processing_table_promises_consultation_only(regulation):
    # «Время обработки заявок»: «консультация» in every cell but one; «Устранение
    # неисправности при остановке работы более 50% касс | консультация | круглосуточная
    # консультация до 2 ч.»
    cell = regulation.service("processing-registers-stopped").tariffs["expert"]
    assert cell.ru == "круглосуточная консультация до 2 ч."
    for category in regulation.categories:
        for tariff in TARIFFS:
            case = Case(tariff=tariff, priority="critical", category=category.id)
            assert regulation.target("processing", case).duration is None
    # The 2 hours around the clock are the consultation's: registers stopped is critical.
    assert regulation.category("registers-stopped").default_priority == "critical"
    critical = consultation(
        regulation, "expert", regulation.category("registers-stopped").default_priority
    )
    assert (critical.duration, critical.calendar) == (hours(2), "around-the-clock")
    # Item 5: «Критичные бизнес-процессы: остановка более 50% касс магазина; остановка
    # загрузки товаров и цен.»
    assert regulation.category("goods-prices-loading-stopped").default_priority == "critical"
    # «Устранение неисправности при остановке транспорта | консультация | консультация»
    assert regulation.category("transport-stopped").default_priority == "high"


def test_r2_5_restoration_is_consultation_only_on_both_tariffs(regulation):
    # «Гарантированное восстановление работы системы … | только консультации | только консультации»
    for tariff in TARIFFS:
        got = regulation.target("restoration", Case(tariff=tariff, priority="critical"))
        assert got.duration is None
        assert not got.promise  # `none` is shown as «только консультация»
        assert regulation.service("guaranteed-restoration").tariffs[tariff].ru == (
            "только консультации"
        )


# --- R2.6 channels ------------------------------------------------------------------------


def test_r2_6_web_form_phone_and_email_take_requests_around_the_clock(regulation):
    # R2.6 «принимаем заявки на сайте www.crystals.ru/support; принимаем заявки по телефону
    # 8 (800) 333-22-51; оказываем консультации по телефону или электронной почте
    # sd@crystals.ru»
    assert [(c.id, c.address, c.calendar) for c in regulation.channels] == [
        ("portal", "www.crystals.ru/support", "around-the-clock"),
        ("phone", "8 (800) 333-22-51", "around-the-clock"),
        ("email", "sd@crystals.ru", "around-the-clock"),
    ]


# --- R2.7 defects and out of scope -----------------------------------------------------------


def test_r2_7_expert_workaround_within_3_working_days_and_fix_date_reported(regulation):
    # Item 3 «В ходе консультации мы проведем диагностику, зарегистрируем ошибку и в течение
    # 3 рабочих дней предоставим обходное решение, а вы узнаете сроки исправления найденной
    # ошибки.»
    expert = regulation.target("workaround", Case(tariff="expert", priority="low", type="defect"))
    assert (expert.duration, expert.calendar) == (WorkingDays(3), "working")
    free = regulation.target("workaround", Case(tariff="free", priority="low", type="defect"))
    assert free.duration is None
    assert {r.id: r.metric for r in regulation.reported} == {"fix-date": "workaround"}


def test_r2_7_expert_workaround_from_friday_is_due_after_the_new_year_break(regulation):
    # Defect confirmed Fri 2024-12-27 15:00 MSK (5 h into the day). Working days after Friday:
    # Sat 28 Dec (working Saturday) (1); 29 Dec – 8 Jan off; Thu 9 Jan (2); Fri 10 Jan (3)
    # → same position, Fri 2025-01-10 15:00.
    case = Case(tariff="expert", priority="medium", type="defect")
    confirmed = at("2024-12-27T15:00:00+03:00")
    clocks = clocks_by_metric(
        regulation.simulate(
            case, received=at("2024-12-27T11:00:00+03:00"), events={"defect_confirmed": confirmed}
        )
    )
    assert clocks["workaround"].due == at("2025-01-10T15:00:00+03:00")


def test_r2_7_out_of_scope_problems_are_consulted_without_a_workaround_promise(regulation):
    # R2.7 «проблемы, связанные с работой стороннего оборудования, ОС, БД…; проблемы модуля
    # стыковки с ERP; проблемы в каналах связи. В подобных случаях мы помогаем путем
    # предоставления консультаций…»
    assert [c.id for c in regulation.out_of_scope] == [
        "hardware-os-dbms",
        "erp-integration",
        "communication-channels",
    ]
    flagged = Case(tariff="expert", priority="critical", type="defect", out_of_scope=True)
    assert regulation.target("workaround", flagged).duration is None
    assert regulation.target("restoration", flagged).duration is None
    assert regulation.target("processing", flagged).duration is None
    assert regulation.target("consultation", flagged).duration == hours(2)
    assert regulation.target("registration", flagged).duration == timedelta(minutes=15)


def test_r2_7_same_defect_workflow_as_the_client_regulation(regulation):
    # «проводим диагностику ошибки в магазине клиента; "наигрываем" ошибку на тестовом
    # стенде…; фиксируем ошибку и передаем ее в нашу разработку; информируем о сроках»
    assert [s.id for s in regulation.statuses] == [
        "new",
        "in-progress",
        "clarification",
        "reproducing",
        "in-development",
        "done",
        "closed",
    ]
    waiting = regulation.waiting_status
    assert not waiting.pauses_metric("registration")
    assert waiting.pauses_metric("consultation")
