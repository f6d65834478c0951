"""Read-only queries of the paidwork app: estimates, and what a tariff includes (R4.1, R1.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.accounts.selectors import person_profile
from reglament.domain.regulation import Regulation, Service, Text
from reglament.domain.regulation.loader import APPROVERS
from reglament.domain.regulation.model import PaidWork
from reglament.paidwork.errors import (
    EstimateNotFoundError,
    ServiceNotIncludedError,
    UnknownServiceError,
)
from reglament.paidwork.models import Estimate
from reglament.tickets.models import Ticket

# docs/regulations.md: the catalogue row of services offered only as paid work.
PAID_SERVICES = "paid-services"

Coverage = Literal["included", "limited", "not_included", "paid_only"]


@dataclass(frozen=True, slots=True)
class ServiceCoverage:
    """What a tariff's cell of the service matrix says about one service."""

    service: Service
    tariff: str
    coverage: Coverage
    note: Text | None  # the cell's text, for `limited` and `paid_only`

    @property
    def included(self) -> bool:
        return self.coverage in ("included", "limited")


def service_coverage(regulation: Regulation, *, service: str, tariff: str) -> ServiceCoverage:
    """✓ included, a text: included within that limit, ✗ not included; the
    `paid-services` row is paid work whatever its cells say."""
    known = [s.id for s in regulation.services]
    if service not in known:
        raise UnknownServiceError(
            _(
                "“%(service)s” is not a service of the regulation %(regulation)s; "
                "use one of: %(known)s."
            )
            % {"service": service, "regulation": regulation.id, "known": ", ".join(known) or "—"},
            details={"field": "service", "value": service, "known": known},
        )
    row = regulation.service(service)
    cell = row.tariffs.get(tariff, False)
    note = cell if isinstance(cell, Text) else None
    coverage: Coverage
    if row.id == PAID_SERVICES:
        coverage = "paid_only"
    elif cell is True:
        coverage = "included"
    elif cell is False:
        coverage = "not_included"
    else:
        coverage = "limited"
    return ServiceCoverage(row, tariff, coverage, note)


def _lang() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "ru").startswith("en") else "ru"


def service_check(
    regulation: Regulation, *, service: str, tariff: str, accept_paid_work: bool
) -> ServiceCoverage:
    """A new request for `service` under `tariff`: refused unless included or paid work accepted.

    A service the tariff excludes is never silently accepted (R4.1, R1.1): the
    refusal names the service and the tariff and says how to ask for it as paid work.
    """
    coverage = service_coverage(regulation, service=service, tariff=tariff)
    if coverage.included or accept_paid_work:
        return coverage
    lang = _lang()
    names = {
        "service": coverage.service.title.get(lang),
        "tariff": regulation.tariff(tariff).title.get(lang),
    }
    message = (
        _("“%(service)s” is offered only as paid work, under every tariff.")
        if coverage.coverage == "paid_only"
        else _("The tariff “%(tariff)s” does not include “%(service)s”.")
    ) % names
    raise ServiceNotIncludedError(
        message
        + " "
        + _(
            "To ask for it as paid work, file the request again accepting paid work "
            "(“accept_paid_work”: true in the API, --accept-paid-work on the command line); "
            "support will send an estimate to approve first."
        ),
        details={
            "service": service,
            "tariff": tariff,
            "coverage": coverage.coverage,
            "paid_work": {"accept_paid_work": True, "reason": "service_not_included"},
        },
    )


def today_for(ticket: Ticket, now: datetime | None = None) -> date:
    """The date in the regulation's default calendar: what `valid_until` is compared with."""
    regulation = ticket.version.parsed()
    zone = regulation.calendars[regulation.default_calendar].timezone
    return (now or timezone.now()).astimezone(zone).date()


def estimate_list(*, user: User, ticket: Ticket) -> list[Estimate]:
    """Every estimate of a request the caller may see (the caller's access is checked
    by tickets.selectors.ticket_get), oldest first."""
    del user  # estimates are as visible as the request: customers must see the offer
    return list(
        Estimate.objects.filter(ticket=ticket)
        .select_related("proposed_by", "decided_by")
        .order_by("number")
    )


def estimate_open(*, ticket: Ticket) -> Estimate | None:
    """The proposal the customer has not decided yet (at most one, a constraint says)."""
    return Estimate.objects.filter(ticket=ticket, state=Estimate.State.PROPOSED).first()


def estimate_get(*, user: User, ticket: Ticket, number: int) -> Estimate:
    for estimate in estimate_list(user=user, ticket=ticket):
        if estimate.number == number:
            return estimate
    raise EstimateNotFoundError(
        _("%(ticket)s has no estimate %(number)d.") % {"ticket": ticket.number, "number": number},
        details={"number": ticket.number, "estimate": number},
    )


def paid_work_of(ticket: Ticket, regulation: Regulation) -> PaidWork | None:
    """The contract tariff's `paid_work`, if the regulation gives the tariff one."""
    return regulation.tariff(ticket.contract.tariff.code).paid_work


def estimate_approvers(ticket: Ticket, regulation: Regulation) -> tuple[str, ...]:
    """R4.6: who may approve the request's estimates (the tariff's `paid_work.approved_by`)."""
    paid = paid_work_of(ticket, regulation)
    return paid.approved_by if paid is not None else APPROVERS


def may_approve(user: User, ticket: Ticket, approved_by: tuple[str, ...]) -> bool:
    """R4.6: the regulation's approvers — the request's requester, the organisation's
    customer admin (a partner's admin for its clients, R2.1)."""
    profile = person_profile(user)
    if not profile.customer or profile.organisation is None:
        return False
    if "requester" in approved_by and ticket.requester_id == user.pk:
        return True
    return (
        "customer_admin" in approved_by
        and profile.role == "customer_admin"
        and profile.organisation.pk in (ticket.organisation_id, ticket.organisation.partner_id)
    )


@dataclass(frozen=True, slots=True)
class EstimateView:
    """An estimate as the request's customer reads it: its state today, and whether
    the reader may approve or decline it (R4.6)."""

    estimate: Estimate
    state: str
    state_label: str
    may_decide: bool


def estimate_views(
    *, user: User, ticket: Ticket, now: datetime | None = None
) -> list[EstimateView]:
    """Every estimate of a request the caller may see, newest first (one query)."""
    regulation = ticket.version.parsed()
    approvers = estimate_approvers(ticket, regulation)
    today = today_for(ticket, now)
    estimates = estimate_list(user=user, ticket=ticket)
    deciding = bool(estimates) and may_approve(user, ticket, approvers)
    views = []
    for estimate in reversed(estimates):
        state = estimate.state_on(today)
        views.append(
            EstimateView(
                estimate=estimate,
                state=state,
                state_label=str(Estimate.State(state).label),
                may_decide=deciding and state == Estimate.State.PROPOSED,
            )
        )
    return views
