"""The `paid_work` of a regulation file (R4.6): read as written, mistakes named with their line."""

from pathlib import Path

import pytest
from django.conf import settings

from reglament.domain.regulation import RegulationInvalid, load_regulation
from reglament.domain.regulation.model import OnDecline, PaidWork

KRIZHIK = (Path(settings.BASE_DIR) / "regulations" / "krizhik.yaml").read_text(encoding="utf-8")
SHIPPED = """\
    paid_work:
      after: resolution
      status: awaiting-cost-approval
      approved_by: [requester, customer_admin]
      on_decline: {status: done, resolution: consulted}
"""


def with_paid_work(block: str) -> str:
    assert SHIPPED in KRIZHIK
    return KRIZHIK.replace(SHIPPED, block)


def problems_of(text: str) -> list[str]:
    with pytest.raises(RegulationInvalid) as raised:
        load_regulation(text, name="krizhik.yaml")
    return [str(p) for p in raised.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_krizhik_start_waits_for_cost_approval_with_the_resolution_clock_paused():
    """R4.6 «Работы … будут проведены после согласования стоимости данных работ.»"""
    regulation = load_regulation(KRIZHIK, name="krizhik.yaml")
    assert regulation.tariff("start").paid_work == PaidWork(
        after="resolution",
        approved_by=("requester", "customer_admin"),
        status="awaiting-cost-approval",
        on_decline=OnDecline(status="done", resolution="consulted"),
        metric="",
    )
    waiting = regulation.status("awaiting-cost-approval")
    assert waiting.title.ru == "Ожидает согласования стоимости"
    assert waiting.pauses_metric("resolution")
    assert not waiting.final
    assert not waiting.waiting_for_customer
    # the footnote ***** is on Start's «4 часа» only
    assert [t.id for t in regulation.tariffs if t.paid_work is not None] == ["start"]


def test_a_paid_work_block_naming_unknown_ids_is_refused_line_by_line():
    text = with_paid_work(
        """\
    paid_work:
      after: resolution
      status: awaiting-approval
      on_decline: {status: closed, resolution: refused}
      metric: paid-analysis
"""
    )
    line = line_of(text, "status: awaiting-approval")
    problems = problems_of(text)
    assert any(
        p.startswith(f"krizhik.yaml:{line}: ") and "Unknown status 'awaiting-approval'" in p
        for p in problems
    ), problems
    assert any("Unknown status 'closed'" in p for p in problems), problems
    assert any("Unknown resolution 'refused'" in p for p in problems), problems
    assert any("Unknown metric 'paid-analysis'" in p for p in problems), problems


def test_declining_into_a_final_status_needs_its_resolution():
    text = with_paid_work(
        """\
    paid_work:
      after: resolution
      status: awaiting-cost-approval
      on_decline: {status: done}
"""
    )
    problems = problems_of(text)
    assert any("The status 'done' needs a resolution." in p for p in problems), problems


def test_waiting_for_approval_in_a_final_status_and_an_odd_decline_are_refused():
    text = with_paid_work(
        """\
    paid_work:
      after: resolution
      status: done
      approved_by: []
      on_decline: close
"""
    )
    problems = problems_of(text)
    assert any("The status 'done' is final" in p for p in problems), problems
    assert any("Nobody may approve an estimate." in p for p in problems), problems
    assert any("'close' is not what a declined estimate does." in p for p in problems), problems


def test_a_paid_work_metric_starts_when_an_estimate_is_approved():
    metric = """\
  - id: paid-analysis
    title: {ru: "Платный анализ", en: "Paid analysis"}
    starts: paid_work_approved
    stops: resolved
    targets:
      - {tariff: start, target: 8h}
      - {tariff: [krizhik, reliable, reliable-management], target: none}
"""
    block = SHIPPED + "      metric: paid-analysis\n"
    regulation = load_regulation(with_paid_work(block) + metric, name="krizhik.yaml")
    assert regulation.tariff("start").paid_work.metric == "paid-analysis"  # type: ignore[union-attr]
    wrong = with_paid_work(block) + metric.replace("paid_work_approved", "registered")
    assert any("starts on 'registered'" in p for p in problems_of(wrong))
