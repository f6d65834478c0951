"""R4 — regulations/krizhik.yaml runs the «Крыжик» support terms as written.

Seed: ../shared/seeds/003_28d09ec53ea4644b.txt. One test per promise R4.1–R4.7, each
quoting the seed line it proves, then hand-computed clocks.

Working hours are the file's ASSUMPTION: Mon–Fri 09:00–18:00 Moscow time on the Russian
production calendar. Date facts used (``holidays.RU(years=2025)``): Tue 2025-03-04 is an
ordinary working day; Sat 2025-11-01 is a working Saturday (its day off moved to Mon 3
November), so a request from Friday evening 31 October runs on into Saturday morning —
used on purpose.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import holidays
import pytest

from reglament.domain.regulation import Case, Text, load_regulation_file

FILE = Path(__file__).resolve().parents[3] / "regulations" / "krizhik.yaml"
TARIFFS = ("start", "krizhik", "reliable", "reliable-management")
DASH = Text(ru="-", en="-")
PAID = Text(ru="платные работы по согласованной стоимости", en="paid work at an agreed cost")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def krizhik():
    return load_regulation_file(FILE)


def target(regulation, metric: str, tariff: str, priority: str = "medium"):
    return regulation.target(metric, Case(tariff=tariff, priority=priority))


def clocks_by_metric(clocks):
    return {c.metric: c for c in clocks}


def test_the_four_tariffs_cheapest_first():
    # «Описание / Тарифы: Старт, Крыжик-Базовый | Крыжик | Надежный | Надежный управленческий»
    krizhik = load_regulation_file(FILE)
    assert [(t.id, t.title.ru) for t in krizhik.tariffs] == [
        ("start", "Старт, Крыжик-Базовый"),
        ("krizhik", "Крыжик"),
        ("reliable", "Надежный"),
        ("reliable-management", "Надежный управленческий"),
    ]


# --- R4.1 the services matrix ---------------------------------------------------------


def test_services_matrix_row_by_row(krizhik):
    # R4.1 the seed's rows in order; the ✓/✗ icons were lost in the flattened page, the
    # file's ASSUMPTION reads them; «-» is kept as written (read as Start's cell).
    rows = [(s.title.ru, tuple(s.tariffs[t] for t in TARIFFS)) for s in krizhik.services]
    visual = Text(
        ru="только визуальный анализ программы, без выполнения действий в ней*",
        en="only looking at the program, without doing anything in it*",
    )
    assert rows == [
        ("Консультации по работе сервисов", (True, True, True, True)),
        ("Консультации по вопросам ведения учета в программе*", (True, True, True, True)),
        (
            "Решение вопроса специалистом поддержки по учету в программе**",
            (False, True, True, True),
        ),
        (
            "Массовая корректировка объектов в базе при решении задачи***",
            (False, False, True, True),
        ),
        ("Установка/обновление платформы или сервера 1С", (DASH, True, True, True)),
        ("Обновление программы по запросу клиента", (DASH, True, True, True)),
        (
            "Подключение к базе, анализ данных для решения задачи специалистом",
            (visual, True, True, True),
        ),
        ("Проверка заполнения регламентированной отчетности", (True, True, True, True)),
        ("Решение вопросов заполнения регламентированной отчетности", (False, True, True, True)),
        ("Установка ЭЦП, криптопровайдера", (False, True, True, True)),
        ("Написание кода, программирование", (PAID, PAID, PAID, PAID)),
    ]


def test_footnotes_are_notes_on_their_rows(krizhik):
    # R4.1 «*- консультация это выдача письменной или устной рекомендации …»,
    # «**- решение вопроса это работа специалиста непосредственно в базе клиента …»,
    # «***-массовая корректировка это когда … исправить более 1 однотипного объекта …»,
    # «****-одно обращение включает в себя решение одной задачи.»
    assert krizhik.service("accounting-consultations").note.ru.startswith(
        "*- консультация это выдача письменной или устной рекомендации"
    )
    assert krizhik.service("specialist-resolution").note.ru.startswith(
        "**- решение вопроса это работа специалиста непосредственно в базе клиента"
    )
    assert "более 1 однотипного объекта в базе" in krizhik.service("mass-correction").note.ru
    (request,) = krizhik.request_types
    assert request.definition.ru == "****-одно обращение включает в себя решение одной задачи."


# --- R4.2 reaction --------------------------------------------------------------------


@pytest.mark.parametrize("tariff", TARIFFS)
def test_reaction_is_thirty_minutes_from_registration_on_every_tariff(krizhik, tariff):
    # R4.2 «Время реакции для начала работы с обращением после регистрации 30 минут
    # 30 минут 30 минут 30 минут»
    metric = krizhik.metric("reaction")
    assert (metric.starts, metric.stops) == ("registered", "work_started")
    for priority in ("critical", "high", "medium", "low"):
        reaction = target(krizhik, "reaction", tariff, priority)
        assert reaction.duration == timedelta(minutes=30)
        assert reaction.calendar == "working"


# --- R4.3 offer of an answer ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tariff", "minutes"),
    [("start", 30), ("krizhik", None), ("reliable", None), ("reliable-management", None)],
)
def test_an_answer_is_offered_thirty_minutes_after_work_starts_on_start_only(
    krizhik, tariff, minutes
):
    # R4.3 «Время для предоставления варианта ответа клиенту (после начала работы)
    # 30 минут - - -»
    metric = krizhik.metric("answer-offer")
    assert (metric.starts, metric.stops) == ("work_started", "first_public_reply")
    offer = target(krizhik, "answer-offer", tariff)
    if minutes is None:
        assert offer.duration is None
        assert not offer.promise
    else:
        assert offer.duration == timedelta(minutes=minutes)


# --- R4.4 maximum resolution ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tariff", "hours"),
    [("start", 4), ("krizhik", 2), ("reliable", 1), ("reliable-management", 1)],
)
def test_maximum_resolution_time_per_tariff(krizhik, tariff, hours):
    # R4.4 «Максимальное время решения задачи клиента 4 часа***** 2 часа 1 час 1 час»
    for priority in ("critical", "high", "medium", "low"):
        assert target(krizhik, "resolution", tariff, priority).duration == timedelta(hours=hours)


# --- R4.5 usage accounting ------------------------------------------------------------


@pytest.mark.parametrize(
    ("tariff", "unit", "increment"),
    [
        ("start", "request", Decimal(1)),
        ("krizhik", "request", Decimal(1)),
        ("reliable", "hour", Decimal("0.5")),
        ("reliable-management", "hour", Decimal("0.5")),
    ],
)
def test_usage_is_counted_per_request_or_per_half_hour(krizhik, tariff, unit, increment):
    # R4.5 «Учет использования службы поддержки Обращение**** Обращение**** Час Час»
    # «Кратность использования услуги 1 1 0,5 0,5»
    usage = krizhik.tariff(tariff).usage
    assert (usage.unit, usage.increment) == (unit, increment)


# --- R4.6 paid work -------------------------------------------------------------------


def test_start_turns_into_paid_work_after_its_four_hours(krizhik):
    # R4.6 «*****-по истечению данного времени, если консультациями решить задачу клиента
    # не предоставляется возможным, будет переведено на платные работы … после согласования
    # стоимости данных работ.»
    paid = krizhik.tariff("start").paid_work
    assert paid.after == "resolution"
    assert paid.approved_by == ("requester", "customer_admin")
    assert [t.id for t in krizhik.tariffs if t.paid_work is not None] == ["start"]
    note = target(krizhik, "resolution", "start").note
    assert note.ru.startswith("*****-по истечению данного времени")
    assert "после согласования стоимости" in note.ru


def test_programming_is_offered_only_as_paid_work(krizhik):
    # R4.6/R4.1 «Написание кода, программирование»
    programming = krizhik.service("paid-services")
    assert programming.title.ru == "Написание кода, программирование"
    assert all(programming.tariffs[t] == PAID for t in TARIFFS)


# --- R4.7 remote connection on the consultation tariff --------------------------------


def test_consultation_tariff_connects_to_the_database_only_to_look(krizhik):
    # R4.7 «Специалист службы поддержки может подключиться к базе клиента удаленно только с
    # целью визуального анализа программы, без выполнения действий в ней.»
    connection = krizhik.service("database-connection").tariffs
    assert connection["start"].ru.startswith("только визуальный анализ программы")
    assert all(connection[t] is True for t in TARIFFS[1:])
    assert "только с целью визуального анализа программы" in (
        krizhik.service("accounting-consultations").note.ru
    )


# --- simulations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tariff", "resolution_due"),
    [
        # Registered Tue 12:00; the maximum resolution counts from registration:
        ("start", "2025-03-04T16:00:00+03:00"),  # 12:00 + 4 h
        ("krizhik", "2025-03-04T14:00:00+03:00"),  # 12:00 + 2 h
        ("reliable", "2025-03-04T13:00:00+03:00"),  # 12:00 + 1 h
        ("reliable-management", "2025-03-04T13:00:00+03:00"),  # 12:00 + 1 h
    ],
)
def test_request_in_the_middle_of_a_working_day(krizhik, tariff, resolution_due):
    received = at("2025-03-04T12:00:00+03:00")  # Tue, an ordinary working day
    clocks = clocks_by_metric(krizhik.simulate(Case(tariff, "medium"), received=received))
    # Reaction: 12:00 + 30 min = 12:30 on every tariff.
    assert clocks["reaction"].due == at("2025-03-04T12:30:00+03:00")
    assert clocks["resolution"].due == at(resolution_due)
    # The answer-offer clock starts when work starts, which has not happened yet.
    assert clocks["answer-offer"].start is None
    assert clocks["answer-offer"].due is None


def test_the_simulation_uses_the_working_saturday_of_1_november_2025():
    production = holidays.RU(years=2025)
    assert date(2025, 11, 1) in production.weekend_workdays
    assert date(2025, 11, 3) in production  # the day off it was swapped with


@pytest.mark.parametrize(
    ("tariff", "resolution_due"),
    [
        # Fri 17:45–18:00 counts 15 min; Sat 1 Nov is a working day from 09:00 (it works
        # Monday 3 November's hours):
        ("start", "2025-11-01T12:45:00+03:00"),  # 4 h − 15 min = 3 h 45 min → 12:45
        ("krizhik", "2025-11-01T10:45:00+03:00"),  # 2 h − 15 min = 1 h 45 min → 10:45
        ("reliable", "2025-11-01T09:45:00+03:00"),  # 1 h − 15 min = 45 min → 09:45
        ("reliable-management", "2025-11-01T09:45:00+03:00"),
    ],
)
def test_request_from_friday_evening_runs_on_into_the_working_saturday(
    krizhik, tariff, resolution_due
):
    received = at("2025-10-31T17:45:00+03:00")  # Fri, 15 min before closing
    started = at("2025-11-01T09:10:00+03:00")  # an agent takes it on Saturday morning
    clocks = clocks_by_metric(
        krizhik.simulate(
            Case(tariff, "medium"), received=received, events={"work_started": started}
        )
    )
    # Reaction 30 min: Fri 17:45–18:00 = 15 min, Sat 09:00 + 15 min = 09:15.
    assert clocks["reaction"].due == at("2025-11-01T09:15:00+03:00")
    assert clocks["resolution"].due == at(resolution_due)
    # Answer offer (Start only): from work start Sat 09:10 + 30 min = 09:40.
    offer = clocks["answer-offer"]
    assert offer.start == started
    if tariff == "start":
        assert offer.due == at("2025-11-01T09:40:00+03:00")
    else:
        assert not offer.promise
        assert offer.due is None
