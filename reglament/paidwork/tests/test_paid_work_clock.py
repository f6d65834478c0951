"""A paid-work clock (`paid_work.metric`, R4.6) starts when the customer approves the estimate."""

from datetime import date

import pytest

from reglament.accounts.models import Membership
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory
from reglament.paidwork.services import estimate_approve, estimate_propose
from reglament.paidwork.tests.conftest import at
from reglament.paidwork.tests.test_regulation import KRIZHIK, SHIPPED, with_paid_work
from reglament.regulations.services import contract_create, regulation_load
from reglament.sla.models import Clock
from reglament.tickets import services
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

PAID_ANALYSIS = """\
  - id: paid-analysis
    title: {ru: "Платный анализ данных", en: "Paid data analysis"}
    starts: paid_work_approved
    stops: resolved
    targets:
      - {tariff: start, target: 8h}
      - {tariff: [krizhik, reliable, reliable-management], target: none}
"""


def test_approval_starts_the_paid_work_clock_the_regulation_defines() -> None:
    # given Krizhik with an 8 h paid-analysis metric for Start, and a customer under it
    d = desk("krizhik", "start")
    text = with_paid_work(SHIPPED + "      metric: paid-analysis\n") + PAID_ANALYSIS
    assert text != KRIZHIK
    version, _created = regulation_load(data=text.encode(), name="krizhik.yaml")
    customer = OrganisationFactory.create()
    contract_create(
        organisation=customer, version=version, tariff="start", valid_from=date(2024, 1, 1)
    )
    requester = PersonFactory.create(organisation=customer, role=Membership.Role.REQUESTER)
    ticket = services.ticket_create(
        actor=requester, subject="Не проводится", now=at("2025-11-11T10:00:00+03:00")
    )
    estimate = estimate_propose(
        ticket=ticket,
        actor=d.agent1,
        scope="Анализ данных",
        hours="8",
        rate="3000",
        valid_until=date(2025, 11, 30),
        now=at("2025-11-11T14:30:00+03:00"),
    )
    # the paid-work clock waits for the approval
    assert Clock.objects.get(ticket=ticket, metric="paid-analysis").state == "waiting"
    # when the requester approves on Wed 12th at 10:00
    estimate_approve(estimate=estimate, actor=requester, now=at("2025-11-12T10:00:00+03:00"))
    # then it runs from 10:00: 8 working hours, 10:00–18:00 the same day
    paid = Clock.objects.get(ticket=ticket, metric="paid-analysis")
    assert paid.state == "running"
    assert paid.due_at == at("2025-11-12T18:00:00+03:00")
