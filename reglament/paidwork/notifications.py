"""Mail about paid work (R4.6): an estimate to approve, and the customer's decision.

A proposal goes to the people who may approve it — the requester and the
customer administrators of the request's organisation, as the regulation's
`approved_by` says; a decision (approved, declined) goes to the request's
assignee, or to whoever proposed the estimate when nobody is assigned. Each
gets the message in their own language (Membership.language). Called by the
`estimate_notify` task, queued after the change commits, never inline.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership
from reglament.core.mail import mail_in_their_languages, reachable
from reglament.domain.regulation.loader import APPROVERS
from reglament.paidwork.models import Estimate
from reglament.tickets.models import TicketEvent

logger = logging.getLogger(__name__)

Kind = TicketEvent.Kind
# The kind of the mail about an offer that expired unanswered (services.estimates_expire).
EXPIRED_NOTICE = "paid_work_expired"


def estimate_recipients(estimate: Estimate, kind: str) -> list[User]:
    """Who hears of this step: approvers of a proposal; staff of a decision."""
    ticket = estimate.ticket
    people: list[User] = []
    if kind == Kind.PAID_WORK_PROPOSED:
        paid = ticket.version.parsed().tariff(ticket.contract.tariff.code).paid_work
        approvers = paid.approved_by if paid is not None else APPROVERS
        if "requester" in approvers:
            people.append(ticket.requester)
        if "customer_admin" in approvers:
            people += list(
                User.objects.filter(
                    membership__role=Membership.Role.CUSTOMER_ADMIN,
                    membership__organisation_id__in=[
                        pk for pk in (ticket.organisation_id, ticket.organisation.partner_id) if pk
                    ],
                ).order_by("username")
            )
    elif kind == EXPIRED_NOTICE:
        # Support must know the request is back in work: its assignee and the proposer.
        people += [p for p in (ticket.assignee, estimate.proposed_by) if p is not None]
    else:
        people.append(ticket.assignee or estimate.proposed_by)
    return reachable(people)


def estimate_notify(*, estimate_id: int, kind: str) -> int:
    """Send the mail of one step of an estimate; returns how many messages went out."""
    estimate = (
        Estimate.objects.select_related(
            "ticket__requester",
            "ticket__assignee",
            "ticket__organisation",
            "ticket__contract__tariff",
            "ticket__version",
            "proposed_by",
            "decided_by",
        )
        .filter(pk=estimate_id)
        .first()
    )
    if estimate is None:
        logger.warning("No estimate %s to notify about", estimate_id)
        return 0
    recipients = estimate_recipients(estimate, kind)
    return mail_in_their_languages(
        recipients,
        lambda: _render(estimate, kind),
        headers={"X-Reglament-Ticket": estimate.ticket.number},
    )


def _render(estimate: Estimate, kind: str) -> tuple[str, str]:
    ticket = estimate.ticket
    names = {
        "number": ticket.number,
        "estimate": estimate.number,
        "total": estimate.total,
        "currency": estimate.currency,
    }
    if kind == Kind.PAID_WORK_PROPOSED:
        subject = _("[%(number)s] Paid work to approve: %(total)s %(currency)s") % names
        headline = _(
            "Support proposes paid work on your request. It starts only after you approve the cost."
        )
    elif kind == Kind.PAID_WORK_APPROVED:
        subject = _("[%(number)s] Estimate %(estimate)d approved") % names
        headline = _("The customer approved the estimate; the paid work can go on.")
    elif kind == EXPIRED_NOTICE:
        subject = _("[%(number)s] Estimate %(estimate)d expired") % names
        headline = _(
            "The customer did not answer the estimate before it expired; the request is "
            "back in work. Propose a new estimate if the paid work is still needed."
        )
    else:
        subject = _("[%(number)s] Estimate %(estimate)d declined") % names
        headline = _("The customer declined the estimate.")
    lines = [
        headline,
        "",
        _("Request: %(number)s — %(subject)s")
        % {"number": ticket.number, "subject": ticket.subject},
        _("Scope: %(scope)s") % {"scope": estimate.scope},
        _("%(hours)s h × %(rate)s = %(total)s %(currency)s")
        % {
            "hours": estimate.hours,
            "rate": estimate.rate,
            "total": estimate.total,
            "currency": estimate.currency,
        },
        _("Valid until: %(date)s") % {"date": estimate.valid_until.strftime("%d.%m.%Y")},
    ]
    if estimate.decision_reason:
        lines.append(_("Reason: %(reason)s") % {"reason": estimate.decision_reason})
    lines += [
        "",
        f"{settings.REGLAMENT_BASE_URL}/api/v1/tickets/{ticket.number}/estimates",
    ]
    return subject, "\n".join(lines) + "\n"
