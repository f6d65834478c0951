"""Writes of usage accounting (R4.5): time entries, their voiding, allowances, crossings.

Every function is keyword-only and runs in one transaction. Writers of one
contract's usage queue on the contract's row lock (taken after the request's,
the order reglament.tickets.services uses), so the allowance check of each
sees the others' committed entries; the unique (contract, period) row of
AllowanceCrossing keeps "exceeded" to one event per period even so. The mail
about a crossing is a task row written in the same transaction as the event
(the queue is a table of the same database, as reglament.sla does), so it
exists exactly when the event does and runs after commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.accounts.selectors import Profile, person_profile
from reglament.domain.usage import Period
from reglament.regulations.models import Contract
from reglament.tickets.models import Ticket, TicketEvent
from reglament.usage.errors import (
    TimeEntryNotFoundError,
    TimeEntryVoidedError,
    UsageInvalidError,
    UsagePermissionError,
)
from reglament.usage.models import (
    MAX_ENTRY_MINUTES,
    Activity,
    Allowance,
    AllowanceCrossing,
    AllowanceUnit,
    TimeEntry,
)
from reglament.usage.selectors import allowance_unit, contract_regulation, contract_usage

Kind = TicketEvent.Kind
MAX_NOTE = 4000


# ------------------------------------------------------------------- helpers
def _now(now: datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise UsageInvalidError(
            _("An instant needs a time zone, e.g. 2026-11-23T10:00:00+03:00."),
            details={"field": "now", "value": now.isoformat()},
        )
    return now


def _require_staff(profile: Profile, what: str) -> None:
    if not profile.staff:
        raise UsagePermissionError(
            _("Only support staff may %(what)s.") % {"what": what},
            details={"action": what, "role": profile.role},
        )


def _invalid(field: str, message: str, **details: Any) -> UsageInvalidError:
    return UsageInvalidError(message, details={"field": field, **details})


def _lock(ticket: Ticket) -> tuple[Ticket, Contract]:
    """The request, then its contract, re-read under row locks (in this order, always)."""
    locked = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
    contract = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("tariff__version", "organisation", "service_manager")
        .get(pk=locked.contract_id)
    )
    return locked, contract


def _event(
    ticket: Ticket, kind: str, *, actor: User | None, now: datetime, **data: Any
) -> TicketEvent:
    # Internal: time and allowances are the vendor's bookkeeping; customers read the
    # usage report, never the request's time log through its history.
    event = TicketEvent(
        ticket=ticket, kind=kind, actor=actor, created_at=now, public=False, data=data
    )
    event.save()
    return event


# ------------------------------------------------------------------- time
@transaction.atomic
def time_log(
    *,
    ticket: Ticket,
    actor: User,
    minutes: int,
    activity: str,
    billable: bool = True,
    note: str = "",
    performed_at: datetime | None = None,
    now: datetime | None = None,
) -> TimeEntry:
    """Record `minutes` of work on a request (staff only); a TIME_LOGGED event says so.

    `performed_at` is when the work was done (default: now; never in the future):
    it decides the period the minutes count in. Crossing the contract's prepaid
    allowance with these minutes records ALLOWANCE_EXCEEDED (once per period).
    """
    now = _now(now)
    _require_staff(person_profile(actor), _("record time on a request"))
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not (1 <= minutes <= MAX_ENTRY_MINUTES)
    ):
        raise _invalid(
            "minutes",
            _(
                "%(value)s is not a number of minutes from 1 to %(max)d; record longer work "
                "as several entries."
            )
            % {"value": minutes, "max": MAX_ENTRY_MINUTES},
            value=minutes,
        )
    if activity not in Activity.values:
        raise _invalid(
            "activity",
            _("“%(value)s” is not an activity; use one of: %(known)s.")
            % {"value": activity, "known": ", ".join(Activity.values)},
            value=activity,
            known=list(Activity.values),
        )
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise _invalid(
            "note",
            _("The note is %(length)d characters long; shorten it to %(max)d.")
            % {"length": len(note), "max": MAX_NOTE},
        )
    performed_at = now if performed_at is None else performed_at
    if timezone.is_naive(performed_at):
        raise _invalid(
            "performed_at",
            _("“performed_at” needs a time zone, e.g. 2026-11-23T10:00:00+03:00."),
            value=performed_at.isoformat(),
        )
    if performed_at > now:
        raise _invalid(
            "performed_at",
            _("The work cannot be done in the future (%(value)s); give the time it was done.")
            % {"value": performed_at.isoformat()},
            value=performed_at.isoformat(),
        )
    ticket, contract = _lock(ticket)
    if performed_at < ticket.received_at:
        raise _invalid(
            "performed_at",
            _(
                "%(number)s arrived at %(received)s; work on it cannot be done before that "
                "(%(value)s)."
            )
            % {
                "number": ticket.number,
                "received": ticket.received_at.isoformat(),
                "value": performed_at.isoformat(),
            },
            value=performed_at.isoformat(),
        )
    if ticket.merged_into_id is not None:
        raise _invalid(
            "number",
            _("%(number)s was merged into another request; record the time there.")
            % {"number": ticket.number},
            number=ticket.number,
        )
    entry = TimeEntry(
        ticket=ticket,
        author=actor,
        minutes=minutes,
        activity=activity,
        billable=billable,
        note=note,
        performed_at=performed_at,
        created_at=now,
    )
    entry.save()
    _event(
        ticket,
        Kind.TIME_LOGGED,
        actor=actor,
        now=now,
        entry=entry.pk,
        minutes=minutes,
        activity=activity,
        billable=billable,
        performed_at=performed_at.astimezone(UTC).isoformat(),
    )
    if billable:
        _crossing_check(contract=contract, ticket=ticket, actor=actor, at=performed_at, now=now)
    return entry


@transaction.atomic
def time_void(
    *,
    ticket: Ticket,
    actor: User,
    entry_id: int,
    reason: str,
    now: datetime | None = None,
) -> TimeEntry:
    """Void a time entry (staff only): it stops counting; a TIME_VOIDED event says who and why.

    Entries are never edited: a wrong one is voided and entered again.
    """
    now = _now(now)
    _require_staff(person_profile(actor), _("void a time entry"))
    reason = reason.strip()
    if not reason:
        raise _invalid("reason", _("Say why the entry is voided (--reason / “reason”)."))
    ticket, _contract = _lock(ticket)
    entry = TimeEntry.objects.select_for_update().filter(pk=entry_id, ticket=ticket).first()
    if entry is None:
        raise TimeEntryNotFoundError(
            _("%(number)s has no time entry %(entry)d.")
            % {"number": ticket.number, "entry": entry_id},
            details={"number": ticket.number, "entry": entry_id},
        )
    if entry.voided_at is not None:
        raise TimeEntryVoidedError(
            _("Time entry %(entry)d was already voided at %(at)s; nothing to do.")
            % {"entry": entry.pk, "at": entry.voided_at.isoformat()},
            details={"number": ticket.number, "entry": entry.pk},
        )
    entry.voided_at = now
    entry.voided_by = actor
    entry.void_reason = reason
    entry.save(update_fields=("voided_at", "voided_by", "void_reason"))
    _event(
        ticket,
        Kind.TIME_VOIDED,
        actor=actor,
        now=now,
        entry=entry.pk,
        minutes=entry.minutes,
        activity=entry.activity,
        billable=entry.billable,
        performed_at=entry.performed_at.astimezone(UTC).isoformat(),
        reason=reason,
    )
    return entry


# ------------------------------------------------------------------- allowances
@transaction.atomic
def allowance_set(
    *,
    contract: Contract,
    actor: User | None,
    amount: Decimal | None,
    unit: str,
    valid_from: Period,
    now: datetime | None = None,
) -> Allowance:
    """Set a contract's prepaid allowance per period from `valid_from` on (staff only).

    `unit` must be what the contract's tariff counts (hours or requests);
    `amount` None (unit "none") ends the allowance from that period. Earlier
    rows stay as history; for a period the latest row starting at or before it
    applies. `actor` None is the server's shell.
    """
    now = _now(now)
    if actor is not None:
        _require_staff(person_profile(actor), _("set a prepaid allowance"))
    _regulation, usage, _calendar = contract_regulation(contract)
    expected = allowance_unit(usage)
    if amount is None:
        unit = AllowanceUnit.NONE
    elif unit != expected:
        raise _invalid(
            "unit",
            _(
                "The tariff “%(tariff)s” counts %(expected)s, so its allowance is in "
                "%(expected)s, not %(unit)s."
            )
            % {"tariff": contract.tariff.code, "expected": expected, "unit": unit},
            value=unit,
            expected=expected,
        )
    if amount is not None:
        if not amount.is_finite() or amount <= 0 or amount >= Decimal("100000000"):
            raise _invalid(
                "amount",
                _("%(value)s is not a positive allowance; give e.g. 10 or 7.5.")
                % {"value": amount},
                value=str(amount),
            )
        if unit == AllowanceUnit.REQUESTS and amount != amount.to_integral_value():
            raise _invalid(
                "amount",
                _("An allowance of requests is a whole number, not %(value)s.") % {"value": amount},
                value=str(amount),
            )
        if amount != amount.quantize(Decimal("0.01")):
            raise _invalid(
                "amount",
                _("Give the allowance to 0.01 at most, not %(value)s.") % {"value": amount},
                value=str(amount),
            )
    Contract.objects.select_for_update(of=("self",)).filter(pk=contract.pk).first()
    row = Allowance(
        contract=contract,
        unit=unit,
        amount=amount,
        valid_from=valid_from.first_day,
        set_by=actor,
        created_at=now,
    )
    row.save()
    return row


# ------------------------------------------------------------------- crossings
def usage_status_changed(*, ticket: Ticket, actor: User | None, now: datetime) -> None:
    """Called by reglament.tickets.services in a status change's transaction.

    A resolution may count a unit on a per-request tariff: check the allowance of
    the period it counts in. Nothing to do for other changes or other tariffs.
    """
    if ticket.is_open or not ticket.resolution:
        return
    tariff = ticket.contract.tariff
    usage = tariff.version.parsed().tariff(tariff.code).usage
    if usage is None or usage.unit != "request":
        return  # no lock taken: most tariffs count no requests
    contract = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("tariff__version", "organisation", "service_manager")
        .get(pk=ticket.contract_id)
    )
    _crossing_check(contract=contract, ticket=ticket, actor=actor, at=now, now=now)


def _crossing_check(
    *, contract: Contract, ticket: Ticket, actor: User | None, at: datetime, now: datetime
) -> AllowanceCrossing | None:
    """Record ALLOWANCE_EXCEEDED on `ticket` if the period of `at` went over its allowance.

    Once per contract and period: a crossing already recorded is not recorded again,
    even when usage fell back under the allowance (a voided entry) and rose again.
    """
    usage = contract.tariff.version.parsed().tariff(contract.tariff.code).usage
    if usage is None:
        return None
    _regulation, _usage, calendar = contract_regulation(contract)
    period = Period.of(at, calendar.timezone)
    if AllowanceCrossing.objects.filter(contract=contract, period=str(period)).exists():
        return None
    report = contract_usage(contract=contract, period=period)
    balance = report.balance.balance
    if not balance.exceeded:
        return None
    try:
        with transaction.atomic():
            event = _event(
                ticket,
                Kind.ALLOWANCE_EXCEEDED,
                actor=actor,
                now=now,
                contract=contract.pk,
                period=str(period),
                unit=report.balance.unit,
                allowance=str(balance.allowance),
                used=str(balance.used),
            )
            crossing = AllowanceCrossing(
                contract=contract, period=str(period), event=event, created_at=now
            )
            crossing.save()
    except IntegrityError:
        return None  # another writer recorded it first
    from reglament.usage.tasks import allowance_exceeded_notify

    allowance_exceeded_notify.enqueue(crossing_id=crossing.pk)
    return crossing
