"""Mail about a prepaid allowance used up (R4.5): to the customer and their manager.

Recipients: the customer admins of the contract's organisation and the
contract's personal service manager; each gets the message in their own
language (Membership.language). Called by the `allowance_exceeded_notify`
task, never inline.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership
from reglament.core.mail import mail_in_their_languages, reachable
from reglament.usage.models import AllowanceCrossing, AllowanceUnit

logger = logging.getLogger(__name__)


def allowance_crossing_recipients(crossing: AllowanceCrossing) -> list[User]:
    """The organisation's active customer admins, then the service manager; each once."""
    contract = crossing.contract
    people = list(
        User.objects.filter(
            is_active=True,
            membership__role=Membership.Role.CUSTOMER_ADMIN,
            membership__organisation_id=contract.organisation_id,
        ).order_by("username")
    )
    if contract.service_manager is not None:
        people.append(contract.service_manager)
    return reachable(people)


def allowance_exceeded_notify(*, crossing_id: int) -> int:
    """Send the mail of one allowance crossing; returns how many messages went out."""
    crossing = (
        AllowanceCrossing.objects.select_related(
            "contract__organisation",
            "contract__service_manager",
            "contract__tariff",
            "event__ticket",
        )
        .filter(pk=crossing_id)
        .first()
    )
    if crossing is None:
        logger.warning("No allowance crossing %s to notify about", crossing_id)
        return 0
    recipients = allowance_crossing_recipients(crossing)
    return mail_in_their_languages(
        recipients,
        lambda: _render(crossing),
        headers={"X-Reglament-Contract": str(crossing.contract_id)},
    )


def _render(crossing: AllowanceCrossing) -> tuple[str, str]:
    contract = crossing.contract
    data = crossing.event.data
    unit = _("hours") if data.get("unit") == AllowanceUnit.HOURS else _("requests")
    values = {
        "organisation": contract.organisation.name,
        "period": crossing.period,
        "allowance": data.get("allowance"),
        "used": data.get("used"),
        "unit": unit,
    }
    subject = _("[%(organisation)s] Prepaid support for %(period)s is used up") % values
    lines = [
        _(
            "The prepaid allowance of %(allowance)s %(unit)s for %(period)s is used up: "
            "%(used)s %(unit)s are counted so far."
        )
        % values,
        _("Support goes on; what is used beyond the allowance is invoiced per the tariff."),
        "",
        _("Contract: %(contract)d, tariff %(tariff)s")
        % {"contract": contract.pk, "tariff": contract.tariff.code},
        _("Crossed with request: %(number)s") % {"number": crossing.event.ticket.number},
        "",
        f"{settings.REGLAMENT_BASE_URL}/api/v1/contracts/{contract.pk}/usage?period={crossing.period}",
    ]
    return subject, "\n".join(lines) + "\n"
