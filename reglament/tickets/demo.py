"""Demo requests, so the queue and the clocks have something to show after `make run`.

Created through the services at the current time (clocks run live), once:
an organisation that already has a request gets none.
"""

from dataclasses import dataclass

from django.db import transaction

from reglament.accounts.selectors import organisation_find, person_find
from reglament.tickets import services
from reglament.tickets.models import Ticket


@dataclass(frozen=True, slots=True)
class DemoRequest:
    requester: str
    subject: str
    priority: str | None = None
    type: str = ""
    organisation: str | None = None  # a partner's client (R2.1)
    clarification_by: str | None = None  # an agent who asks the customer back
    reply_by: str | None = None  # an agent's public reply


REQUESTS = (
    DemoRequest("kolos", "Кассы не пробивают чеки в трёх магазинах", priority="critical"),
    DemoRequest(
        "severny",
        "Не выгружаются отчёты о продажах",
        priority="medium",
        reply_by="agent1",
    ),
    DemoRequest("ugolok", "Как настроить скидку по карте лояльности?", priority="low"),
    DemoRequest(
        "cera",
        "Камеры в зале не считают посетителей",
        priority="high",
        type="defect",
        clarification_by="agent1",
    ),
    DemoRequest("krizhik", "Не формируется отчёт в ФНС", priority="high"),
    DemoRequest("start", "Нужна новая печатная форма счёта", priority="medium"),
    DemoRequest("rusbitech", "Ошибка при обновлении ядра", priority="medium"),
    DemoRequest(
        "partner",
        "Клиент: не печатается этикетка",
        priority="medium",
        organisation="Аптека «Здоровье»",
    ),
)


def demo_tickets_create() -> list[str]:
    """Create the demo requests that are missing; return what was created, for people."""
    created: list[str] = []
    with transaction.atomic():
        for item in REQUESTS:
            requester = person_find(username=item.requester)
            if requester is None:
                continue
            organisation = (
                organisation_find(name=item.organisation)
                if item.organisation
                else requester.membership.organisation
            )
            if organisation is None or Ticket.objects.filter(organisation=organisation).exists():
                continue
            ticket = services.ticket_create(
                actor=requester,
                subject=item.subject,
                organisation=organisation,
                priority=item.priority,
                type=item.type,
                channel="portal",
            )
            if item.reply_by:
                agent = person_find(username=item.reply_by)
                if agent is not None:
                    services.ticket_reply(
                        ticket=ticket, author=agent, body="Приняли в работу, смотрим логи."
                    )
            if item.clarification_by:
                agent = person_find(username=item.clarification_by)
                regulation = services.regulation_of(ticket)
                waiting = regulation.waiting_status
                if agent is not None and waiting is not None:
                    services.ticket_transition(ticket=ticket, actor=agent, status=waiting.id)
            created.append(f"request {ticket.number} ({organisation.name})")
    return created
