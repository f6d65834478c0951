"""Mail about paid work (R4.6): the offer to the people who approve, the decision to staff."""

from typing import Any

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from reglament.paidwork import notifications
from reglament.paidwork.services import estimate_approve, estimate_propose
from reglament.paidwork.tasks import estimate_notify
from reglament.paidwork.tests.conftest import at
from reglament.tickets import services
from reglament.tickets.models import TicketEvent
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db

Kind = TicketEvent.Kind


def test_the_offer_is_mailed_to_approvers_and_the_decision_to_the_assignee(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a Start request assigned to agent2, past its 4 h
    d = desk("krizhik", "start")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Не проводится",
        assignee=None,
        now=at("2025-11-11T10:00:00+03:00"),
    )
    services.ticket_update(
        ticket=ticket, actor=d.agent1, assignee=d.agent2, now=at("2025-11-11T10:05:00+03:00")
    )
    # when agent1 proposes paid work
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        estimate = estimate_propose(
            ticket=ticket,
            actor=d.agent1,
            scope="Анализ данных",
            hours="6",
            rate="3500",
            valid_until=at("2025-11-20T00:00:00+03:00").date(),
            now=at("2025-11-11T15:00:00+03:00"),
        )
    # then a notification task is queued only after commit, none inline
    assert len(callbacks) == 1
    assert len(mail.outbox) == 0
    queued = DBTaskResult.objects.filter(task_path=estimate_notify.module_path)
    assert [row.args_kwargs["kwargs"] for row in queued] == [
        {"estimate_id": estimate.pk, "kind": Kind.PAID_WORK_PROPOSED}
    ]
    # and the task mails the requester and the customer admin
    assert notifications.estimate_notify(estimate_id=estimate.pk, kind=Kind.PAID_WORK_PROPOSED) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "admin@customer.test",
        "requester@customer.test",
    ]
    assert "21000.00 RUB" in mail.outbox[0].subject
    assert mail.outbox[0].extra_headers["X-Reglament-Ticket"] == ticket.number
    # when the requester approves, the assignee hears of it
    mail.outbox.clear()
    estimate_approve(estimate=estimate, actor=d.requester, now=at("2025-11-11T16:00:00+03:00"))
    assert notifications.estimate_notify(estimate_id=estimate.pk, kind=Kind.PAID_WORK_APPROVED) == 1
    assert [m.to for m in mail.outbox] == [["agent2@vendor.test"]]
