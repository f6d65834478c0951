"""Read-only queries of usage accounting. Every read starts from what the person may see.

Tenancy: support staff see every contract and every time entry; a customer
admin sees their organisation's contracts (a partner's admin also its clients')
with the counted usage and the allowance balance, and the time entries of their
requests without notes or authors; a requester sees neither. Whatever a person
may not see is "not found", as if it did not exist.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership
from reglament.accounts.selectors import Profile, person_profile
from reglament.domain.calendar import WorkCalendar
from reglament.domain.regulation import Regulation
from reglament.domain.regulation.model import Usage
from reglament.domain.usage import (
    Balance,
    Entry,
    Period,
    StatusChange,
    UsageError,
    UsageSummary,
    usage_compute,
)
from reglament.regulations.models import Contract
from reglament.tickets.models import Ticket, TicketEvent
from reglament.usage.errors import (
    ContractNotFoundError,
    UsageInvalidError,
    UsageNotAccountedError,
    UsagePermissionError,
)
from reglament.usage.models import Allowance, AllowanceUnit, TimeEntry

Role = Membership.Role


# ---------------------------------------------------------------------------- tenancy
def contracts_visible_to(profile: Profile) -> QuerySet[Contract]:
    contracts = Contract.objects.select_related(
        "organisation", "tariff__version", "service_manager"
    ).defer("tariff__version__text")
    if profile.staff:
        return contracts
    if profile.role == Role.CUSTOMER_ADMIN and profile.organisation is not None:
        own = profile.organisation.pk
        return contracts.filter(Q(organisation_id=own) | Q(organisation__partner_id=own))
    return contracts.none()


def contract_list(*, user: User) -> list[Contract]:
    """The contracts whose usage `user` may see, by organisation: where the ids come from."""
    visible = contracts_visible_to(person_profile(user))
    return list(visible.order_by("organisation__name", "pk"))


def contract_get(*, user: User, contract_id: int) -> Contract:
    """The contract if `user` may see its usage; otherwise ContractNotFoundError (no hint)."""
    found = contracts_visible_to(person_profile(user)).filter(pk=contract_id).first()
    if found is None:
        raise ContractNotFoundError(details={"contract": contract_id})
    return found


def period_parse(text: str, field: str = "period") -> Period:
    try:
        return Period.parse(text)
    except UsageError:
        raise UsageInvalidError(
            _("“%(value)s” is not a period; write it as YYYY-MM, e.g. 2026-11.") % {"value": text},
            details={"field": field, "value": text},
        ) from None


# ----------------------------------------------------------------------------- usage
@dataclass(frozen=True, slots=True)
class ContractUsage:
    """A contract's usage in one period: the domain's summary and what it is about."""

    contract: Contract
    regulation: Regulation
    usage: Usage
    zone: ZoneInfo
    summary: UsageSummary
    tickets: dict[str, Ticket]  # by number, every request with a line
    balance: AllowanceBalance


@dataclass(frozen=True, slots=True)
class AllowanceBalance:
    period: Period
    unit: str  # AllowanceUnit: hours / requests (what the tariff counts)
    allowance: Allowance | None  # the row in force for the period (None: never set)
    balance: Balance

    @property
    def valid_from(self) -> Period | None:
        row = self.allowance
        if row is None or row.unit == AllowanceUnit.NONE:
            return None
        return Period(row.valid_from.year, row.valid_from.month)


def contract_regulation(contract: Contract) -> tuple[Regulation, Usage, WorkCalendar]:
    """The contract's regulation, its tariff's usage rule and the calendar periods are read in."""
    regulation = contract.tariff.version.parsed()
    usage = regulation.tariff(contract.tariff.code).usage
    if usage is None:
        raise UsageNotAccountedError(
            _(
                "The tariff “%(tariff)s” of contract %(contract)d counts no usage: its "
                "regulation %(regulation)s gives it no “usage”."
            )
            % {
                "tariff": contract.tariff.code,
                "contract": contract.pk,
                "regulation": regulation.id,
            },
            details={"contract": contract.pk, "tariff": contract.tariff.code},
        )
    return regulation, usage, regulation.calendars[regulation.default_calendar]


def contract_usage_rule(contract: Contract) -> Usage | None:
    """How the contract's tariff counts usage (R4.5), or None when it counts none."""
    return contract.tariff.version.parsed().tariff(contract.tariff.code).usage


def allowance_unit(usage: Usage) -> str:
    return AllowanceUnit.HOURS if usage.unit == "hour" else AllowanceUnit.REQUESTS


def contract_usage(*, contract: Contract, period: Period) -> ContractUsage:
    """Usage of a contract the caller has already been allowed to see (contract_get)."""
    regulation, usage, calendar = contract_regulation(contract)
    zone = calendar.timezone
    start, end = period.start(zone), period.end(zone)
    rows = TimeEntry.objects.filter(
        ticket__contract=contract,
        voided_at__isnull=True,
        performed_at__gte=start,
        performed_at__lt=end,
    ).values_list("ticket_id", "minutes", "performed_at", "billable")
    entries = list(rows)
    status_events = TicketEvent.objects.filter(
        ticket__contract=contract, kind=TicketEvent.Kind.STATUS_CHANGED
    )
    resolved_here = set(
        status_events.filter(created_at__gte=start, created_at__lt=end, data__final=True)
        .values_list("ticket_id", flat=True)
        .distinct()
    )
    ticket_ids = {row[0] for row in entries} | resolved_here
    tickets = {
        t.pk: t
        for t in Ticket.objects.filter(pk__in=ticket_ids).only("id", "number", "subject", "status")
    }
    changes: dict[str, list[StatusChange]] = defaultdict(list)
    for ticket_id, at, data in (
        status_events.filter(ticket_id__in=ticket_ids, created_at__lt=end)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "created_at", "data")
    ):
        changes[tickets[ticket_id].number].append(
            StatusChange(at, bool(data.get("final")), str(data.get("resolution") or ""))
        )
    summary = usage_compute(
        usage=usage,
        period=period,
        calendar=calendar,
        entries=[
            Entry(tickets[ticket_id].number, minutes, performed_at, billable)
            for ticket_id, minutes, performed_at, billable in entries
        ],
        status_changes=changes,
    )
    return ContractUsage(
        contract=contract,
        regulation=regulation,
        usage=usage,
        zone=zone,
        summary=summary,
        tickets={t.number: t for t in tickets.values()},
        balance=_balance(contract, period, usage, summary.units),
    )


def allowance_in_force(*, contract: Contract, period: Period) -> Allowance | None:
    """The latest allowance row that applies from `period` or earlier."""
    return (
        Allowance.objects.filter(contract=contract, valid_from__lte=period.first_day)
        .order_by("-valid_from", "-id")
        .first()
    )


def _balance(contract: Contract, period: Period, usage: Usage, used: Decimal) -> AllowanceBalance:
    row = allowance_in_force(contract=contract, period=period)
    amount = row.amount if row is not None and row.unit != AllowanceUnit.NONE else None
    return AllowanceBalance(
        period=period,
        unit=allowance_unit(usage),
        allowance=row,
        balance=Balance(allowance=amount, used=used),
    )


def allowance_balance(*, contract: Contract, period: Period) -> AllowanceBalance:
    return contract_usage(contract=contract, period=period).balance


def allowance_history(*, contract_id: int) -> list[Allowance]:
    """Every allowance row of the contract, as set: by the period it starts, then in order set."""
    return list(
        Allowance.objects.filter(contract_id=contract_id)
        .select_related("set_by")
        .order_by("valid_from", "id")
    )


def period_now(contract: Contract, now: datetime | None = None) -> Period:
    """The current month on the wall clocks of the contract's regulation."""
    _regulation, _usage, calendar = contract_regulation(contract)
    return Period.of(now or timezone.now(), calendar.timezone)


# ----------------------------------------------------------------------- time entries
@dataclass(frozen=True, slots=True)
class TimeList:
    ticket: Ticket
    entries: list[TimeEntry]
    full: bool  # False: a customer's view (no notes, authors or voided entries)


def time_entries(*, user: User, ticket: Ticket) -> TimeList:
    """The time entries of a request the caller can see (tickets.selectors.ticket_get).

    Staff get every entry with its note; a customer admin the counted entries
    without notes or authors (what the invoice rests on); a requester is refused.
    """
    profile = person_profile(user)
    entries = TimeEntry.objects.filter(ticket=ticket).select_related("author", "voided_by")
    if profile.staff:
        return TimeList(ticket, list(entries.order_by("performed_at", "id")), full=True)
    if profile.role == Role.CUSTOMER_ADMIN:
        counted = entries.filter(voided_at__isnull=True).order_by("performed_at", "id")
        return TimeList(ticket, list(counted), full=False)
    raise UsagePermissionError(
        _("Only support staff and the customer's administrators see the time on a request."),
        details={"number": ticket.number, "role": profile.role},
    )


# ----------------------------------------------------------------------- the report
@dataclass(frozen=True, slots=True)
class UsageReport:
    """What an invoice rests on: the contract's usage of a period, with the entries behind it.

    `full` is the staff's view (notes and authors of entries); a customer admin's
    report has neither.
    """

    usage: ContractUsage
    entries: dict[str, list[TimeEntry]]  # by request number, counted entries of the period
    full: bool


def usage_report(*, user: User, contract: Contract, period: Period) -> UsageReport:
    """The usage of a contract `user` may see (contract_get), with its entries."""
    report = contract_usage(contract=contract, period=period)
    zone = report.zone
    rows = (
        TimeEntry.objects.filter(
            ticket__contract=contract,
            voided_at__isnull=True,
            performed_at__gte=period.start(zone),
            performed_at__lt=period.end(zone),
        )
        .select_related("ticket", "author")
        .order_by("performed_at", "id")
    )
    entries: dict[str, list[TimeEntry]] = defaultdict(list)
    for entry in rows:
        entries[entry.ticket.number].append(entry)
    return UsageReport(usage=report, entries=dict(entries), full=person_profile(user).staff)
