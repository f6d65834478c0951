"""Demo usage (R4.5), so `reglament usage report` has something to show after `make run`.

The Reliable demo contract (ИП Смирнова) gets a prepaid allowance of 10 hours a
month from the current month, and its demo request 50 minutes of consultation
(counted as 1 h: the tariff rounds up to half hours). Created once: a contract
that already has an allowance is left as it is.
"""

from decimal import Decimal

from django.db import transaction

from reglament.accounts.selectors import person_find
from reglament.tickets.models import Ticket
from reglament.usage import selectors, services
from reglament.usage.models import Allowance

DEMO_ORGANISATION = "ИП Смирнова (бухгалтерия)"
DEMO_ALLOWANCE_HOURS = Decimal(10)
DEMO_MINUTES = 50


def demo_usage_create() -> str:
    """Create the demo allowance and time entry if missing; one line for people."""
    agent = person_find(username="agent1")
    manager = person_find(username="manager")
    ticket = Ticket.objects.filter(organisation__name=DEMO_ORGANISATION).order_by("pk").first()
    if agent is None or ticket is None:
        return "Demo usage: no Reliable demo request; nothing created."
    contract = ticket.contract
    if Allowance.objects.filter(contract=contract).exists():
        return "Demo usage: already there; nothing created."
    with transaction.atomic():
        services.allowance_set(
            contract=contract,
            actor=manager,
            amount=DEMO_ALLOWANCE_HOURS,
            unit="hours",
            valid_from=selectors.period_now(contract),
        )
        services.time_log(
            ticket=ticket,
            actor=agent,
            minutes=DEMO_MINUTES,
            activity="consultation",
            note="Разобрали с бухгалтером ошибку выгрузки отчёта.",
        )
    return (
        f"Demo usage: contract {contract.pk} ({DEMO_ORGANISATION}) has "
        f"{DEMO_ALLOWANCE_HOURS} h a month prepaid; {ticket.number} has {DEMO_MINUTES} min "
        "of consultation."
    )
