"""Krizhik «Старт» and «Крыжик» count requests, not hours (R4.5), with a reopen window.

Seed R4.5 «Учет использования службы поддержки: Обращение**** | Обращение****»,
«Кратность 1 | 1». The rule (docs/usage.md): a request counts one unit in the month
of its resolution; reopened within the regulation's window (ASSUMPTION: 10 working
days of the default calendar) and resolved again, it is the same task and does not
count again; reopened later, it counts again in the month of the new resolution.

Date facts (``holidays.RU(years=2026)``): Wed 4 November is a holiday. Ten working
days after Mon 26 Oct 12:00 is Tue 10 Nov 12:00; after Fri 30 Oct 15:00 it is
Mon 16 Nov 15:00; after Mon 2 Nov 12:00 it is Tue 17 Nov 12:00.
"""

from __future__ import annotations

import pytest

from reglament.usage import services
from reglament.usage.tests.factories import Api, at, krizhik_desk, reopen, request, resolve

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("tariff", ["start", "krizhik"])
def test_requests_count_once_per_task_with_reopenings_inside_and_outside_the_window(
    tariff: str,
) -> None:
    d = krizhik_desk(tariff)
    # given request 1: resolved Mon 2 Nov, reopened Tue 10 Nov (inside its window), resolved
    # again Wed 11 Nov
    r1 = request(d, "Не проводится поступление", "2026-11-02T10:00:00+03:00")
    resolve(d, r1, "2026-11-02T12:00:00+03:00")
    reopen(d, r1, "2026-11-10T10:00:00+03:00")
    resolve(d, r1, "2026-11-11T10:00:00+03:00")
    # and request 2: resolved Mon 26 Oct, reopened Thu 12 Nov (window ended Tue 10 Nov
    # 12:00), resolved again Fri 13 Nov
    r2 = request(d, "Ошибка в отчёте", "2026-10-26T10:00:00+03:00")
    resolve(d, r2, "2026-10-26T12:00:00+03:00", resolution="consulted")
    reopen(d, r2, "2026-11-12T10:00:00+03:00")
    resolve(d, r2, "2026-11-13T10:00:00+03:00")
    # and request 3: resolved Fri 30 Oct, reopened Mon 2 Nov (inside), resolved Tue 3 Nov
    r3 = request(d, "Как закрыть месяц?", "2026-10-30T10:00:00+03:00")
    resolve(d, r3, "2026-10-30T15:00:00+03:00")
    reopen(d, r3, "2026-11-02T10:00:00+03:00")
    resolve(d, r3, "2026-11-03T10:00:00+03:00")
    # and request 4: still open, with 50 minutes of work in November
    r4 = request(d, "Настройка обмена", "2026-11-05T10:00:00+03:00")
    services.time_log(
        ticket=r4,
        actor=d.agent1,
        minutes=50,
        activity="consultation",
        performed_at=at("2026-11-05T11:00:00+03:00"),
        now=at("2026-11-05T12:00:00+03:00"),
    )
    api = Api(d.customer_admin)

    # when the customer admin reads October and November
    october = api.get(f"/contracts/{d.contract.pk}/usage", period="2026-10").json()
    november = api.get(f"/contracts/{d.contract.pk}/usage", period="2026-11").json()

    # then October counts requests 2 and 3 (their first resolutions)
    assert october["unit"] == "request"
    assert [(r["number"], r["units"]) for r in october["requests"]] == [
        (r2.number, "1"),
        (r3.number, "1"),
    ]
    assert october["totals"]["units"] == "2"
    # and November counts request 1 once (its reopening was inside the window) and request 2
    # again (outside); request 3 not again; request 4 shows its time and counts nothing yet
    assert [(r["number"], r["units"], r["billable_minutes"]) for r in november["requests"]] == [
        (r1.number, "1", 0),
        (r2.number, "1", 0),
        (r4.number, "0", 50),
    ]
    assert november["totals"]["units"] == "2"
    second = next(r for r in november["requests"] if r["number"] == r2.number)
    assert second["counted_resolutions"] == ["2026-11-13T10:00:00+03:00"]
    # and the customer admin's report has no notes or authors
    (entry,) = next(r for r in november["requests"] if r["number"] == r4.number)["entries"]
    assert (entry["note"], entry["author"], entry["recorded_at"]) == (None, None, None)


def test_a_reopening_on_the_last_instant_of_the_window_is_still_the_same_task() -> None:
    # given a Krizhik request resolved Mon 2 Nov 12:00 and reopened exactly at the end
    # of its window, Tue 17 Nov 12:00
    d = krizhik_desk("krizhik")
    r1 = request(d, "Сверка с контрагентом", "2026-11-02T10:00:00+03:00")
    resolve(d, r1, "2026-11-02T12:00:00+03:00")
    reopen(d, r1, "2026-11-17T12:00:00+03:00")
    resolve(d, r1, "2026-11-18T10:00:00+03:00")
    # when November is counted
    body = Api(d.manager).get(f"/contracts/{d.contract.pk}/usage", period="2026-11").json()
    # then it counts once
    assert [(r["number"], r["units"]) for r in body["requests"]] == [(r1.number, "1")]
