"""R3 — regulations/cera.yaml runs the CERA Retail analytics regulation as written.

Seed: ../shared/seeds/002_ca22eacd343a5de4.txt. One test per promise R3.1–R3.9, each
quoting the seed line it proves, then hand-computed clocks.

Date facts used (Russian production calendar, as ``holidays.RU(years=2025)`` has them):
Thu 2025-06-12 is Russia Day and Fri 2025-06-13 is a day off moved from Sat 8 March, so
after Wed 11 June the next working day is Mon 16 June. The simulations use this on
purpose: a resolution clock started on Wednesday afternoon jumps over four days off.
Working hours are the file's ASSUMPTION: Mon–Fri 10:00–19:00 Moscow time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
import pytest

from reglament.domain.regulation import Case, load_regulation_file

FILE = Path(__file__).resolve().parents[3] / "regulations" / "cera.yaml"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def cera():
    return load_regulation_file(FILE)


def resolution(cera, priority: str, line: int, type_: str | None = None):
    return cera.target(
        "resolution", Case(tariff="standard", priority=priority, line=line, type=type_)
    )


def clock(clocks, metric: str):
    return next(c for c in clocks if c.metric == metric)


def test_the_file_loads_with_its_one_tariff_and_request_numbers():
    cera = load_regulation_file(FILE)
    assert cera.id == "cera"
    assert [t.id for t in cera.tariffs] == ["standard"]
    assert cera.number_prefix == "CERA"


# --- R3.1 priorities and the impact × workaround matrix ------------------------------


def test_priorities_carry_the_seeds_definitions(cera):
    # R3.1 «Критический уровень – … (а) Ошибка влечет невозможность использования Комплекса
    # видеоаналитики; или (б) … возможность Обхода проблемы отсутствует.»
    titles = {p.id: p.title.ru for p in cera.priorities}
    assert titles == {
        "critical": "Критический",
        "high": "Высокий",
        "medium": "Средний",
        "low": "Низкий",
    }
    definitions = {p.id: p.definition for p in cera.priorities}
    assert "Ошибка влечет невозможность использования Комплекса видеоаналитики" in (
        definitions["critical"].ru
    )
    assert "существует возможность Обхода проблемы" in definitions["high"].ru
    assert "существует оперативная возможность Обхода проблемы" in definitions["medium"].ru
    assert "существенные недостатки в качестве функционирования Системы" in (
        definitions["medium"].ru
    )
    assert "присутствует недостатки в качестве функционирования Системы" in definitions["low"].ru
    assert all(d.en for d in definitions.values())


@pytest.mark.parametrize(
    ("impact", "workaround", "priority"),
    [
        # R3.1 Критический (а) «Ошибка влечет невозможность использования Комплекса»
        ("unusable", "none", "critical"),
        ("unusable", "exists", "critical"),
        # Критический (б) «…основных функции Системы и возможность Обхода … отсутствует»
        ("main-functions", "none", "critical"),
        # Высокий (а) «…основных функций Системы, но существует возможность Обхода»
        ("main-functions", "exists", "high"),
        # Высокий (б) «…существенно ограничивает функции … и возможность Обхода отсутствует»
        ("limited", "none", "high"),
        # Средний (а) «…существенно ограничивает функции …, но существует оперативная
        # возможность Обхода проблемы»
        ("limited", "exists", "medium"),
        # Средний (б) «…Нарушение работоспособности Системы не происходит, при этом
        # присутствуют существенные недостатки в качестве»
        ("major-quality", "none", "medium"),
        ("major-quality", "exists", "medium"),
        # Низкий «…не происходит, при этом присутствует недостатки в качестве»
        ("minor-quality", "none", "low"),
        ("minor-quality", "exists", "low"),
    ],
)
def test_priority_matrix_reproduces_the_definitions(cera, impact, workaround, priority):
    assert cera.derive_priority(impact=impact, workaround=workaround) == priority


def test_priority_matrix_asks_every_answer_once(cera):
    matrix = cera.priority_matrix
    assert [a.id for a in matrix.impact.answers] == [
        "unusable",
        "main-functions",
        "limited",
        "major-quality",
        "minor-quality",
    ]
    assert [a.id for a in matrix.workaround.answers] == ["none", "exists"]


# --- R3.2 channels --------------------------------------------------------------------


def test_channels_are_email_phone_and_the_customers_messenger_groups(cera):
    # R3.2 «Электронная почта support@ceratech.ru. По телефону 8 (499) 213 32 42.
    # Выделенная группа для конкретного заказчика в приложении Telegram или WhatsApp»
    channels = {c.id: c for c in cera.channels}
    assert list(channels) == ["email", "phone", "telegram", "whatsapp"]
    assert channels["email"].address == "support@ceratech.ru"
    assert channels["phone"].address == "8 (499) 213 32 42"
    assert "Выделенная группа заказчика" in channels["telegram"].title.ru
    assert "Выделенная группа заказчика" in channels["whatsapp"].title.ru


# --- R3.3 request types ---------------------------------------------------------------


def test_request_types_are_defect_reports_and_information_requests(cera):
    # R3.3 «Заявка на дефект – Обращение Пользователя с описание проблемы в работе ПО.
    # Запрос – Запрос информации по работе ПО, не относящийся к дефекту ПО.»
    types = {t.id: t for t in cera.request_types}
    assert list(types) == ["defect", "consultation"]
    assert types["defect"].title.ru == "Заявка на дефект"
    assert (
        types["defect"].definition.ru == "Обращение Пользователя с описание проблемы в работе ПО."
    )
    assert types["consultation"].title.ru == "Запрос"
    assert types["consultation"].definition.ru == (
        "Запрос информации по работе ПО, не относящийся к дефекту ПО."
    )


# --- R3.4 intake ----------------------------------------------------------------------


def test_intake_steps_are_reported_in_the_seeds_order(cera):
    # R3.4 «1) Подтверждение получения запроса Пользователя. 2) Присвоение уникального
    # номера запросу с фиксацией времени. 3) Обработка запроса. 4) Закрытие заявки и
    # уведомление пользователя, в зависимости от типа обращения.»
    text = next(r for r in cera.reported if r.id == "intake-steps").text.ru
    steps = [
        "1) подтверждение получения запроса",
        "2) присвоение уникального номера запросу с фиксацией времени",
        "3) обработка запроса",
        "4) закрытие заявки и уведомление пользователя",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)


# --- R3.5 statuses and resolutions ----------------------------------------------------


def test_statuses_are_created_in_progress_clarification_done(cera):
    # R3.5 «а). Создана … б). В работе … в). Уточнение … г). Выполнено – заявка закрыта с
    # возможными резолюциями»
    titles = [(s.id, s.title.ru) for s in cera.statuses]
    assert titles[:4] == [
        ("created", "Создана"),
        ("in-progress", "В работе"),
        ("clarification", "Уточнение"),
        ("done", "Выполнено"),
    ]
    assert cera.status("created").initial
    done = cera.status("done")
    assert done.final
    assert done.resolution_required


def test_done_requires_one_of_the_four_resolutions(cera):
    # R3.5 «Решена … Не воспроизводится … Ошибка пользователя … Инфраструктура»
    assert [(r.id, r.title.ru) for r in cera.resolutions] == [
        ("solved", "Решена"),
        ("not-reproducible", "Не воспроизводится"),
        ("user-error", "Ошибка пользователя"),
        ("infrastructure", "Инфраструктура"),
    ]


# --- R3.6 resolution time by priority and line ----------------------------------------


@pytest.mark.parametrize(
    ("priority", "lines_1_2", "line_3"),
    [
        ("critical", 6, 12),  # R3.6 «Критический 6 12»
        ("high", 15, 30),  # R3.6 «Высокий 15 30»
        ("medium", 30, 60),  # R3.6 «Средний 30 60»
        ("low", 75, 150),  # R3.6 «Низкий 75 150»
    ],
)
def test_resolution_time_in_working_hours_by_priority_and_line(cera, priority, lines_1_2, line_3):
    # R3.6 «Уровень Ошибки | Время решения (в рабочих часах) 1,2 линии | … 3 линии»
    for line, hours in ((1, lines_1_2), (2, lines_1_2), (3, line_3)):
        for type_ in ("defect", "consultation"):
            target = resolution(cera, priority, line, type_)
            assert target.duration == timedelta(hours=hours)
            assert target.calendar == "working"


def test_working_hours_are_the_assumed_moscow_office_day(cera):
    # ASSUMPTION in the file: Mon–Fri 10:00–19:00 Europe/Moscow, RU production calendar.
    working = cera.calendars["working"]
    assert working.is_open(at("2025-06-11T10:00:00+03:00"))
    assert not working.is_open(at("2025-06-11T19:00:00+03:00"))
    assert not working.is_open(at("2025-06-12T12:00:00+03:00"))  # Russia Day
    assert not working.is_open(at("2025-06-13T12:00:00+03:00"))  # moved day off


# --- R3.7 registration → closure, without the clarification time -----------------------


def test_resolution_runs_from_registration_to_closure_and_pauses_in_clarification(cera):
    # R3.7 «…измерения времени от момента регистрации заявки до момента закрытия заявки, с
    # учетом приоритета заявки, без учета времени уточнения у Пользователя …»
    metric = cera.metric("resolution")
    assert (metric.starts, metric.stops) == ("registered", "closed")
    clarification = cera.status("clarification")
    assert cera.waiting_status == clarification
    assert clarification.pauses == ("resolution",)
    # «…и времени реакции на предоставленные уточнения»: the clock stays stopped until an
    # agent moves the request out of Clarification.
    assert "in-progress" in clarification.next
    assert next(r for r in cera.reported if r.id == "quality-measurement").metric == "resolution"


# --- R3.8 closure ---------------------------------------------------------------------


def test_the_user_may_close_a_request_and_is_notified_by_email(cera):
    # R3.8 «Уведомление о закрытии заявки Пользователя осуществляется по электронной почте,
    # указанной в заявке. Также закрытие запроса может инициировать Пользователь, если
    # надобность в ответе на запрос пропала.»
    closed = cera.status("closed")
    assert closed.final
    assert not closed.resolution_required
    for open_status in ("created", "in-progress", "clarification"):
        assert "closed" in cera.status(open_status).next
    notice = next(r for r in cera.reported if r.id == "closure-notice").text.ru
    assert "по электронной почте, указанной в заявке" in notice
    assert "закрытие запроса может инициировать Пользователь" in notice


# --- R3.9 kinds of works --------------------------------------------------------------


def test_emergency_planned_and_urgent_works_are_defined(cera):
    # R3.9 «Аварийная ситуация – недоступность услуги Специалиста, вызванная
    # неисправностью программных средств.» «Плановые профилактические работы – …»
    # «Срочные работы – комплекс внеплановых работ …»
    texts = {r.id: r.text.ru for r in cera.reported}
    assert texts["emergency"].startswith(
        "Аварийная ситуация – недоступность услуги Специалиста, вызванная неисправностью"
    )
    assert texts["planned-maintenance"].startswith("Плановые профилактические работы – комплекс")
    assert texts["urgent-works"].startswith("Срочные работы – комплекс внеплановых работ")


# --- simulations ----------------------------------------------------------------------


def test_the_simulation_dates_straddle_russia_day_2025():
    production = holidays.RU(years=2025)
    assert date(2025, 6, 12) in production  # Russia Day
    assert date(2025, 6, 13) in production  # day off moved from Sat 8 March
    assert date(2025, 6, 11) not in production
    assert date(2025, 6, 16) not in production


def test_critical_received_wednesday_afternoon_is_due_monday_on_lines_1_2_and_3(cera):
    received = at("2025-06-11T15:00:00+03:00")  # Wed, Moscow
    # Lines 1–2, 6 working hours: Wed 15:00–19:00 = 4 h; Thu 12 (Russia Day), Fri 13 (moved
    # day off), Sat, Sun are off; Mon 16 10:00 + 2 h = Mon 12:00.
    first = clock(
        cera.simulate(Case("standard", "critical", line=1), received=received), "resolution"
    )
    assert first.start == received
    assert first.due == at("2025-06-16T12:00:00+03:00")
    # Line 3, 12 working hours: Wed 4 h; Mon 16 10:00 + 8 h = Mon 18:00.
    third = clock(
        cera.simulate(Case("standard", "critical", line=3), received=received), "resolution"
    )
    assert third.due == at("2025-06-16T18:00:00+03:00")


def test_clarification_moves_the_due_instant_by_the_paused_working_time(cera):
    received = at("2025-06-11T15:00:00+03:00")  # Wed, Moscow
    # In Clarification from Wed 17:00 to Mon 16 June 11:30: paused working time is
    # Wed 17:00–19:00 (2 h) + Mon 10:00–11:30 (1.5 h) = 3.5 h; the days off in between
    # were not working time anyway.
    pauses = [(at("2025-06-11T17:00:00+03:00"), at("2025-06-16T11:30:00+03:00"))]
    # Lines 1–2: Mon 12:00 + 3.5 h = Mon 15:30 (counted: Wed 15–17 = 2 h, Mon 11:30–15:30 = 4 h).
    first = clock(
        cera.simulate(Case("standard", "critical", line=2), received=received, pauses=pauses),
        "resolution",
    )
    assert first.paused
    assert first.due == at("2025-06-16T15:30:00+03:00")
    # Line 3: Mon 18:00 + 3.5 h = Mon 19:00 (1 h) and Tue 17 June 10:00 + 2.5 h = Tue 12:30
    # (counted: Wed 15–17 = 2 h, Mon 11:30–19:00 = 7.5 h, Tue 10:00–12:30 = 2.5 h = 12 h).
    third = clock(
        cera.simulate(Case("standard", "critical", line=3), received=received, pauses=pauses),
        "resolution",
    )
    assert third.due == at("2025-06-17T12:30:00+03:00")
    assert cera.calendars["working"].between(received, third.due, pauses) == timedelta(hours=12)
