"""R5 — regulations/rusbitech.yaml runs Rusbitech's product support terms as written.

Seed: ../shared/seeds/004_4b9c63a07a4957ff.txt. One test per promise R5.1–R5.5, each
quoting the seed line it proves, then hand-computed clocks.

The reaction figure is the file's ASSUMPTION (the seed gives none): 4 working hours, and
4 hours around the clock for high criticality (priorities critical and high).
Date facts used (``holidays.RU(years=2025)``): Fri 2025-06-06 and the week after it up
to Wed 11 June are ordinary working days, so the reaction clocks avoid holidays; the
10-working-day processing clock deliberately crosses Thu 12 June (Russia Day) and Fri
13 June (a day off moved from Sat 8 March).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
import pytest

from reglament.domain.calendar import WorkingDays
from reglament.domain.regulation import Case, load_regulation_file

FILE = Path(__file__).resolve().parents[3] / "regulations" / "rusbitech.yaml"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def rusbitech():
    return load_regulation_file(FILE)


def target(regulation, metric: str, priority: str, **case):
    return regulation.target(metric, Case(tariff="standard", priority=priority, **case))


def clocks_by_metric(clocks):
    return {c.metric: c for c in clocks}


def test_the_file_loads_with_its_one_tariff():
    rusbitech = load_regulation_file(FILE)
    assert rusbitech.id == "rusbitech"
    assert [t.id for t in rusbitech.tariffs] == ["standard"]


# --- R5.1 channels and their hours ----------------------------------------------------


def test_email_is_taken_around_the_clock_and_the_phone_on_working_days_10_to_18(rusbitech):
    # R5.1 «По электронной почте (support.catalog@rusbitech.ru) – круглосуточно; По телефону
    # (тел. 8 (495) 648-06-40 (доб. 1263): по рабочим дням с 10:00 до 18:00 (по МСК).»
    channels = {c.id: c for c in rusbitech.channels}
    assert channels["email"].address == "support.catalog@rusbitech.ru"
    assert channels["phone"].address == "8 (495) 648-06-40 (доб. 1263)"
    email = rusbitech.calendars[channels["email"].calendar]
    phone = rusbitech.calendars[channels["phone"].calendar]
    sunday_night = at("2025-06-08T03:00:00+03:00")
    russia_day = at("2025-06-12T12:00:00+03:00")
    assert email.is_open(sunday_night)
    assert email.is_open(russia_day)
    assert not phone.is_open(sunday_night)
    assert not phone.is_open(russia_day)
    assert not phone.is_open(at("2025-06-09T09:59:00+03:00"))
    assert phone.is_open(at("2025-06-09T10:00:00+03:00"))
    assert phone.is_open(at("2025-06-09T17:59:00+03:00"))
    assert not phone.is_open(at("2025-06-09T18:00:00+03:00"))
    assert phone.timezone.key == "Europe/Moscow"


# --- R5.2 processing time -------------------------------------------------------------


@pytest.mark.parametrize("priority", ["critical", "high", "medium", "low"])
def test_processing_takes_at_most_ten_working_days(rusbitech, priority):
    # R5.2 «Срок обработки обращения с момента его поступления: 5-10 рабочих дней с 10:00
    # до 18:00 (по МСК).»
    metric = rusbitech.metric("resolution")
    assert (metric.starts, metric.stops) == ("received", "resolved")
    processing = target(rusbitech, "resolution", priority)
    assert processing.duration == WorkingDays(10)
    assert processing.calendar == "working"
    assert processing.note.ru.startswith("5-10 рабочих дней с 10:00 до 18:00 (по МСК)")


def test_average_processing_of_two_to_three_working_days_is_reported(rusbitech):
    # R5.2 «Среднее время обработки обращения составляет 2-3 рабочих дня.»
    average = next(r for r in rusbitech.reported if r.id == "average-processing")
    assert average.text.ru == "Среднее время обработки обращения составляет 2-3 рабочих дня."
    assert average.metric == "resolution"
    assert average.target == WorkingDays(3)


# --- R5.3 reaction: working hours, except high criticality ----------------------------


@pytest.mark.parametrize(
    ("priority", "calendar"),
    [
        ("critical", "around-the-clock"),
        ("high", "around-the-clock"),
        ("medium", "working"),
        ("low", "working"),
    ],
)
def test_reaction_counts_working_hours_except_for_high_criticality(rusbitech, priority, calendar):
    # R5.3 «Время реакции на обращения включает в себя только рабочее время (за исключением
    # работы сотрудников техподдержки по обращениям с высоким уровнем критичности).»
    reaction = target(rusbitech, "reaction", priority)
    assert reaction.duration == timedelta(hours=4)  # ASSUMPTION: the seed has no figure
    assert reaction.calendar == calendar


def test_restoring_services_or_account_access_is_high_criticality(rusbitech):
    # R5.3 «К таким обращениям могут быть отнесены вопросы восстановления работоспособности
    # критически важных сервисов Продукта или восстановление доступа к учетной записи
    # пользователя.»
    services = rusbitech.category("critical-services-restoration")
    access = rusbitech.category("account-access-restoration")
    assert (services.group, services.default_priority) == ("high-criticality", "critical")
    assert (access.group, access.default_priority) == ("high-criticality", "high")
    for category in (services, access):
        reaction = target(rusbitech, "reaction", category.default_priority, category=category.id)
        assert reaction.calendar == "around-the-clock"
    out_of_turn = next(r for r in rusbitech.reported if r.id == "out-of-turn")
    assert out_of_turn.text.ru.startswith("Вне очереди могут обрабатываться обращения")


# --- R5.4 operator manuals ------------------------------------------------------------


def test_customers_are_sent_to_the_operator_manuals_first(rusbitech):
    # R5.4 «Перед подачей обращения в службу технической поддержки необходимо изучить
    # доступную информацию в руководствах оператора Продукта»
    (manuals,) = rusbitech.documentation
    assert manuals.title.ru == "Руководства оператора ПТКА СКПС ВС РФ"
    assert manuals.url.startswith("https://")
    reminder = next(r for r in rusbitech.reported if r.id == "read-manuals-first")
    assert "руководствах оператора Продукта" in reminder.text.ru


# --- R5.5 services --------------------------------------------------------------------


def test_the_five_services_of_product_support(rusbitech):
    # R5.5 «Перечень услуг по сопровождению эксплуатации Продукта»
    assert [(s.title.ru, s.tariffs["standard"]) for s in rusbitech.services] == [
        ("Обеспечение работоспособности и функционирования программного обеспечения", True),
        ("Мониторинг и устранение ошибок и сбоев в программном обеспечении", True),
        ("Администрирование программного обеспечения", True),
        (
            "Оказание консультационных услуг и проведение инструктажа по работе программного "
            "обеспечения для работников Покупателя",
            True,
        ),
        ("Обработка информации, сформированной в программном обеспечении", True),
    ]


# --- simulations ----------------------------------------------------------------------


def test_the_simulation_dates():
    production = holidays.RU(years=2025)
    assert all(
        date(2025, 6, day) not in production for day in (6, 9, 10, 11, 16, 17, 18, 19, 20, 23, 24)
    )
    assert date(2025, 6, 12) in production  # Russia Day
    assert date(2025, 6, 13) in production  # day off moved from Sat 8 March


def test_friday_evening_high_criticality_is_answered_the_same_night(rusbitech):
    received = at("2025-06-06T17:00:00+03:00")  # Fri, Moscow
    case = Case("standard", "critical", category="critical-services-restoration")
    clocks = clocks_by_metric(rusbitech.simulate(case, received=received))
    # Around the clock: Fri 17:00 + 4 h = Fri 21:00.
    assert clocks["reaction"].due == at("2025-06-06T21:00:00+03:00")


def test_friday_evening_ordinary_request_is_answered_on_monday(rusbitech):
    received = at("2025-06-06T17:00:00+03:00")  # Fri, Moscow
    clocks = clocks_by_metric(rusbitech.simulate(Case("standard", "medium"), received=received))
    # Working hours 10–18: Fri 17:00–18:00 = 1 h; Mon 9 June 10:00 + 3 h = Mon 13:00.
    assert clocks["reaction"].due == at("2025-06-09T13:00:00+03:00")
    # Processing, 10 working days from Fri 17:00 (7 h into the 8 h day): the working days
    # after Friday are Mon 9, Tue 10, Wed 11, (Thu 12 and Fri 13 off, the weekend) Mon 16,
    # Tue 17, Wed 18, Thu 19, Fri 20, Mon 23, Tue 24 — the 10th, at the same 17:00.
    assert clocks["resolution"].due == at("2025-06-24T17:00:00+03:00")


def test_waiting_for_the_customer_pauses_processing_but_not_reaction(rusbitech):
    # ASSUMPTION in the file: the wait for the customer's answer pauses the processing time.
    received = at("2025-06-06T17:00:00+03:00")  # Fri, Moscow
    # Waiting from Mon 9 June 10:00 to Tue 10 June 10:00: one whole working day (8 h).
    pauses = [(at("2025-06-09T10:00:00+03:00"), at("2025-06-10T10:00:00+03:00"))]
    clocks = clocks_by_metric(
        rusbitech.simulate(Case("standard", "medium"), received=received, pauses=pauses)
    )
    assert not clocks["reaction"].paused
    assert clocks["reaction"].due == at("2025-06-09T13:00:00+03:00")
    # Tue 24 June 17:00 + 8 working hours: Tue 17–18 (1 h), Wed 25 June 10:00 + 7 h = 17:00.
    assert clocks["resolution"].due == at("2025-06-25T17:00:00+03:00")
