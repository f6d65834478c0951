"""Writes of the paidwork app: propose, approve, decline and withdraw an estimate (R4.6).

Each function is keyword-only and runs in one transaction: it locks the request
row (as every tickets service does, so a change to the estimate and to its
request never interleave), checks what the regulation and the actor's role
allow, writes the estimate, a `TicketEvent` for it, and moves the request
between statuses through the tickets app's own transition code, so the clocks
are re-computed from the events like after any status change. Mail goes out
after commit.

The regulation's `paid_work` of the contract's tariff (docs/paid-work.md)
says after which metric paid work may be proposed, in which status the
request waits for approval (that status's `pauses` stop the clocks), who
approves, and what a declined estimate does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from reglament.accounts.selectors import person_profile
from reglament.domain.regulation import Regulation
from reglament.domain.regulation.model import OnDecline, PaidWork, Status
from reglament.paidwork.errors import (
    EstimateInvalidError,
    EstimateNotOpenError,
    EstimatePermissionError,
    PaidWorkNotAllowedError,
)
from reglament.paidwork.models import Estimate, estimate_total
from reglament.paidwork.notifications import EXPIRED_NOTICE
from reglament.paidwork.selectors import (
    estimate_approvers,
    may_approve,
    paid_work_of,
    service_coverage,
    today_for,
)
from reglament.tickets.models import Ticket, TicketEvent

# The request's own life is the tickets app's: the same lock, event and transition
# code as every status change, so paid work cannot move a request past the rules.
from reglament.tickets.services import (
    _event,
    _lock,
    _now,
    _require_access,
    _require_open,
    _sync,
    _transition,
    regulation_of,
)

Kind = TicketEvent.Kind
Reason = Estimate.Reason
State = Estimate.State

MAX_HOURS = Decimal("10000")
# The largest total the `total` column holds is just below this (max_digits − decimal_places
# integer digits): read from the column, so the check and the column never drift apart.
_TOTAL = Estimate._meta.get_field("total")
MAX_TOTAL = Decimal(10) ** (_TOTAL.max_digits - _TOTAL.decimal_places)


def _lang() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "ru").startswith("en") else "ru"


def _invalid(field: str, message: str, **details: Any) -> EstimateInvalidError:
    return EstimateInvalidError(message, details={"field": field, **details})


def _decimal(field: str, value: Decimal | int | str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(
            field, _("“%(value)s” is not a number.") % {"value": value}, value=str(value)
        ) from None
    if not number.is_finite():
        raise _invalid(field, _("“%(value)s” is not a number.") % {"value": value})
    return number


def _waiting_status(ticket: Ticket, regulation: Regulation) -> str:
    """Where the request waits for approval: its tariff's `paid_work.status`, else (a
    service the tariff excludes, on a tariff without paid_work) the regulation's
    paid-work status of any tariff; "" when the regulation names none."""
    own = paid_work_of(ticket, regulation)
    if own is not None:
        return own.status
    return next((t.paid_work.status for t in regulation.tariffs if t.paid_work), "")


def _resume_status(regulation: Regulation, before: str, waiting: str) -> Status | None:
    """The status work goes on in: the one before waiting, if it is a working one,
    else the first working status the waiting status leads to."""
    working = [
        s
        for s in regulation.statuses
        if not (s.final or s.initial or s.waiting_for_customer) and s.id != waiting
    ]
    ids = [s.id for s in working]
    if before in ids:
        return regulation.status(before)
    following = regulation.status(waiting).next if waiting else ()
    return next((s for s in working if s.id in following), working[0] if working else None)


def _after_target_reached(ticket: Ticket, paid: PaidWork, now: datetime) -> None:
    """R4.6: paid work only once the `after` metric's target has been reached."""
    from reglament.sla.selectors import ticket_clocks

    regulation, states = ticket_clocks(ticket, now=now)
    state = next((s for s in states if s.metric == paid.after), None)
    title = regulation.metric(paid.after).title.get(_lang())
    if state is None or state.target is None:
        raise PaidWorkNotAllowedError(
            _("“%(metric)s” has no target for this request, so it cannot run out.")
            % {"metric": title},
            details={"reason": "no_target", "metric": paid.after},
        )
    reached = state.breached_at is not None or (
        state.remaining is not None and state.remaining <= timedelta(0)
    )
    if not reached:
        remaining = int(state.remaining.total_seconds()) if state.remaining is not None else None
        raise PaidWorkNotAllowedError(
            _(
                "Paid work is proposed only after “%(metric)s” has run out; %(minutes)s "
                "working minutes are left (due %(due)s). Keep consulting until then."
            )
            % {
                "metric": title,
                "minutes": (remaining or 0) // 60,
                "due": state.due.isoformat() if state.due is not None else "—",
            },
            details={
                "reason": "target_not_reached",
                "metric": paid.after,
                "due": state.due.isoformat() if state.due is not None else None,
                "remaining_seconds": remaining,
            },
        )


def _check_reason(ticket: Ticket, regulation: Regulation, reason: str, now: datetime) -> None:
    if reason == Reason.AFTER_TARGET:
        paid = paid_work_of(ticket, regulation)
        if paid is None:
            tariff = regulation.tariff(ticket.contract.tariff.code).title.get(_lang())
            raise PaidWorkNotAllowedError(
                _(
                    "The tariff “%(tariff)s” has no paid work after a deadline; its "
                    "targets are simply kept. Propose paid work only for a service the "
                    "tariff does not include (reason “service_not_included”)."
                )
                % {"tariff": tariff},
                details={
                    "reason": "tariff_has_no_paid_work",
                    "tariff": ticket.contract.tariff.code,
                },
            )
        _after_target_reached(ticket, paid, now)
        return
    if not ticket.service:
        raise PaidWorkNotAllowedError(
            _(
                "The request names no service of the catalogue, so no service is excluded. "
                "Propose paid work with the reason “after_target” once the tariff's "
                "maximum time has passed, or ask the customer to file a new request "
                "naming the service."
            ),
            details={"reason": "no_service"},
        )
    coverage = service_coverage(
        regulation, service=ticket.service, tariff=ticket.contract.tariff.code
    )
    if coverage.included:
        raise PaidWorkNotAllowedError(
            _("The tariff includes “%(service)s”: it is done without paid work.")
            % {"service": coverage.service.title.get(_lang())},
            details={"reason": "service_included", "service": ticket.service},
        )


def _open_estimate(ticket: Ticket) -> Estimate | None:
    return Estimate.objects.select_for_update().filter(ticket=ticket, state=State.PROPOSED).first()


def _estimate_data(estimate: Estimate, **extra: Any) -> dict[str, Any]:
    return {
        "estimate": estimate.number,
        "reason": estimate.reason,
        "scope": estimate.scope,
        "hours": str(estimate.hours),
        "rate": str(estimate.rate),
        "currency": estimate.currency,
        "total": str(estimate.total),
        "valid_until": estimate.valid_until.isoformat(),
        **extra,
    }


def _after_commit(estimate: Estimate, kind: str) -> None:
    from reglament.paidwork.tasks import estimate_notify

    estimate_id = estimate.pk
    transaction.on_commit(lambda: estimate_notify.enqueue(estimate_id=estimate_id, kind=kind))


# ------------------------------------------------------------------ proposing
@transaction.atomic
def estimate_propose(
    *,
    ticket: Ticket,
    actor: User,
    scope: str,
    hours: Decimal | int | str,
    rate: Decimal | int | str,
    valid_until: date,
    reason: str = Reason.AFTER_TARGET,
    currency: str = "RUB",
    now: datetime | None = None,
) -> Estimate:
    """Offer paid work (staff): the request waits for the customer's approval.

    `after_target` (R4.6) only once the tariff's `paid_work.after` metric has
    run out on this request; `service_not_included` (R4.1, R1.1) only for a
    service the tariff excludes. At most one open estimate per request: a
    changed offer is the old one withdrawn and a new one proposed.
    """
    now = _now(now)
    profile = person_profile(actor)
    if not profile.staff:
        raise EstimatePermissionError(
            _("Only support staff propose paid work; customers approve or decline it."),
            details={"action": "propose", "role": profile.role},
        )
    ticket = _lock(ticket)
    _require_open(ticket)
    regulation = regulation_of(ticket)
    if reason not in Reason.values:
        raise _invalid(
            "reason",
            _("“%(value)s” is not a reason for paid work; use one of: %(known)s.")
            % {"value": reason, "known": ", ".join(Reason.values)},
            value=reason,
            known=list(Reason.values),
        )
    scope = scope.strip()
    if not scope:
        raise _invalid("scope", _("Describe the work the estimate is for."))
    hours = _decimal("hours", hours)
    rate = _decimal("rate", rate)
    if not Decimal(0) < hours <= MAX_HOURS or hours != hours.quantize(Decimal("0.01")):
        raise _invalid(
            "hours",
            _("The hours are more than 0 and at most %(max)s, to 0.01 h.") % {"max": MAX_HOURS},
            value=str(hours),
        )
    if rate < 0 or rate != rate.quantize(Decimal("0.01")) or rate >= Decimal("1e10"):
        raise _invalid(
            "rate",
            _("The rate is an amount per hour of 0 or more, to 0.01."),
            value=str(rate),
        )
    hours, rate = hours.quantize(Decimal("0.01")), rate.quantize(Decimal("0.01"))
    if estimate_total(hours, rate) >= MAX_TOTAL:
        raise EstimateInvalidError(
            _("The total %(hours)s h × %(rate)s is %(max)s or more, more than an estimate holds.")
            % {"hours": hours, "rate": rate, "max": MAX_TOTAL},
            details={
                "field": "rate",
                "value": str(rate),
                "max_total": str(MAX_TOTAL),
                "hint": _("Lower the rate or the hours, or split the work into several estimates."),
            },
        )
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise _invalid(
            "currency",
            _("The currency is a three-letter ISO 4217 code, e.g. RUB."),
            value=currency,
        )
    today = today_for(ticket, now)
    if valid_until < today:
        raise _invalid(
            "valid_until",
            _("The estimate would already have expired: valid until %(until)s, today is %(today)s.")
            % {"until": valid_until.isoformat(), "today": today.isoformat()},
            value=valid_until.isoformat(),
        )
    _check_reason(ticket, regulation, reason, now)

    status_before = ticket.status
    previous = _open_estimate(ticket)
    if previous is not None:
        if previous.state_on(today) != State.EXPIRED:
            raise PaidWorkNotAllowedError(
                _(
                    "Estimate %(number)d of %(ticket)s still waits for the customer; "
                    "withdraw it before proposing another."
                )
                % {"number": previous.number, "ticket": ticket.number},
                details={"reason": "open_estimate", "estimate": previous.number},
            )
        # An offer past its validity gives way to the new one.
        previous.state = State.EXPIRED
        previous.save()
        status_before = previous.status_before
        _event(
            ticket,
            Kind.PAID_WORK_WITHDRAWN,
            actor=actor,
            now=now,
            **_estimate_data(previous, expired=True, replaced=True),
        )
    last = Estimate.objects.filter(ticket=ticket).aggregate(last=Max("number"))["last"] or 0
    estimate = Estimate(
        ticket=ticket,
        number=last + 1,
        reason=reason,
        scope=scope,
        hours=hours,
        rate=rate,
        currency=currency,
        total=estimate_total(hours, rate),
        valid_until=valid_until,
        status_before=status_before,
        proposed_by=actor,
        proposed_at=now,
    )
    estimate.save()
    _event(ticket, Kind.PAID_WORK_PROPOSED, actor=actor, now=now, **_estimate_data(estimate))
    waiting = _waiting_status(ticket, regulation)
    if waiting and ticket.status != waiting:
        _transition(
            ticket,
            actor=actor,
            status=waiting,
            resolution="",
            comment="",  # the paid-work event says it, in the reader's language
            now=now,
            check_next=False,
        )
    else:
        _sync(ticket, now)
    _after_commit(estimate, Kind.PAID_WORK_PROPOSED)
    return estimate


# ------------------------------------------------------------------ deciding
def _locked_open(estimate: Estimate, ticket: Ticket, now: datetime) -> Estimate:
    estimate = Estimate.objects.select_for_update().get(pk=estimate.pk)
    state = estimate.state_on(today_for(ticket, now))
    if state != State.PROPOSED:
        raise EstimateNotOpenError(
            _("Estimate %(number)d of %(ticket)s is %(state)s; %(hint)s")
            % {
                "number": estimate.number,
                "ticket": ticket.number,
                "state": State(state).label,
                "hint": (
                    _("ask support for a new estimate.")
                    if state == State.EXPIRED
                    else _("it can no longer be decided.")
                ),
            },
            details={"estimate": estimate.number, "state": state},
        )
    return estimate


def _decide(
    estimate: Estimate, *, actor: User, state: str, action: str, reason: str, now: datetime
) -> tuple[Ticket, Regulation, Estimate]:
    """Record the customer's decision on an open estimate, with the request locked."""
    ticket = _lock(estimate.ticket)
    regulation = regulation_of(ticket)
    _require_approver(actor, ticket, regulation, action)
    _require_open(ticket)
    estimate = _locked_open(estimate, ticket, now)
    estimate.state = state
    estimate.decided_by = actor
    estimate.decided_at = now
    estimate.decision_reason = reason.strip()
    estimate.save()
    return ticket, regulation, estimate


def _require_approver(actor: User, ticket: Ticket, regulation: Regulation, action: str) -> None:
    profile = person_profile(actor)
    _require_access(profile, ticket)
    approvers = estimate_approvers(ticket, regulation)
    if not may_approve(actor, ticket, approvers):
        who = {
            "requester": _("the request's requester"),
            "customer_admin": _("a customer administrator of the organisation"),
        }
        raise EstimatePermissionError(
            _("Only %(who)s may %(action)s an estimate of this request.")
            % {"who": _(" or ").join(str(who[a]) for a in approvers), "action": action},
            details={"action": action, "role": profile.role, "approved_by": list(approvers)},
        )


def _back_to_work(
    ticket: Ticket,
    *,
    estimate: Estimate,
    regulation: Regulation,
    actor: User | None,
    comment: str,
    now: datetime,
) -> None:
    waiting = _waiting_status(ticket, regulation)
    if not waiting or ticket.status != waiting:
        _sync(ticket, now)
        return
    resume = _resume_status(regulation, estimate.status_before, waiting)
    if resume is None:
        _sync(ticket, now)
        return
    _transition(
        ticket,
        actor=actor,
        status=resume.id,
        resolution="",
        comment=comment,
        now=now,
        check_next=False,
        by_requester=_by_requester(actor, ticket),
    )


def _by_requester(actor: User | None, ticket: Ticket) -> bool:
    """Whether the request's own requester acted (a customer admin is not the requester)."""
    return actor is not None and actor.pk == ticket.requester_id


@transaction.atomic
def estimate_approve(*, estimate: Estimate, actor: User, now: datetime | None = None) -> Estimate:
    """The customer agrees to the cost (R4.6): the work goes on, under the paid-work
    clock if the regulation defines one."""
    now = _now(now)
    ticket, regulation, estimate = _decide(
        estimate, actor=actor, state=State.APPROVED, action=_("approve"), reason="", now=now
    )
    _event(
        ticket,
        Kind.PAID_WORK_APPROVED,
        actor=actor,
        now=now,
        **_estimate_data(estimate, role=person_profile(actor).role),
    )
    _back_to_work(
        ticket,
        estimate=estimate,
        regulation=regulation,
        actor=actor,
        comment="",  # the paid-work event says it, in the reader's language
        now=now,
    )
    _after_commit(estimate, Kind.PAID_WORK_APPROVED)
    return estimate


@transaction.atomic
def estimate_decline(
    *, estimate: Estimate, actor: User, reason: str = "", now: datetime | None = None
) -> Estimate:
    """The customer refuses the cost: the regulation's `on_decline` applies — back to
    consultation, or a status (closed with its resolution)."""
    now = _now(now)
    ticket, regulation, estimate = _decide(
        estimate, actor=actor, state=State.DECLINED, action=_("decline"), reason=reason, now=now
    )
    _event(
        ticket,
        Kind.PAID_WORK_DECLINED,
        actor=actor,
        now=now,
        **_estimate_data(
            estimate, decline_reason=estimate.decision_reason, role=person_profile(actor).role
        ),
    )
    paid = paid_work_of(ticket, regulation)
    on_decline = paid.on_decline if paid is not None else OnDecline()
    comment = _("Estimate %(number)d declined.") % {"number": estimate.number}
    if on_decline.consultation or on_decline.status == ticket.status:
        _back_to_work(
            ticket,
            estimate=estimate,
            regulation=regulation,
            actor=actor,
            comment=comment,
            now=now,
        )
    else:
        _transition(
            ticket,
            actor=actor,
            status=on_decline.status,
            resolution=on_decline.resolution,
            comment=comment,
            now=now,
            check_next=False,
            by_requester=_by_requester(actor, ticket),
        )
    _after_commit(estimate, Kind.PAID_WORK_DECLINED)
    return estimate


@transaction.atomic
def estimate_withdraw(
    *, estimate: Estimate, actor: User, reason: str = "", now: datetime | None = None
) -> Estimate:
    """Support takes an open (or expired) offer back; the request returns to work.

    This is also how an offer is changed: withdraw it, then propose a new one.
    """
    now = _now(now)
    profile = person_profile(actor)
    if not profile.staff:
        raise EstimatePermissionError(
            _("Only support staff withdraw an estimate; a customer declines it."),
            details={"action": "withdraw", "role": profile.role},
        )
    ticket = _lock(estimate.ticket)
    regulation = regulation_of(ticket)
    estimate = Estimate.objects.select_for_update().get(pk=estimate.pk)
    if estimate.state != State.PROPOSED:
        raise EstimateNotOpenError(
            _("Estimate %(number)d of %(ticket)s is already %(state)s.")
            % {
                "number": estimate.number,
                "ticket": ticket.number,
                "state": State(estimate.state).label,
            },
            details={"estimate": estimate.number, "state": estimate.state},
        )
    estimate.state = State.WITHDRAWN
    estimate.decided_by = actor
    estimate.decided_at = now
    estimate.decision_reason = reason.strip()
    estimate.save()
    _event(
        ticket,
        Kind.PAID_WORK_WITHDRAWN,
        actor=actor,
        now=now,
        **_estimate_data(estimate, withdraw_reason=estimate.decision_reason),
    )
    if ticket.is_open:
        _back_to_work(
            ticket,
            estimate=estimate,
            regulation=regulation,
            actor=actor,
            comment="",  # the paid-work event says it, in the reader's language
            now=now,
        )
    return estimate


# ------------------------------------------------------------------ closing
def estimate_withdraw_on_close(*, ticket: Ticket, actor: User | None, now: datetime) -> None:
    """The request was closed (staff to a final status, or its requester closed it):
    an open offer dies with it, in the same transaction, so nobody approves work on
    a closed request. Called by tickets.services._transition with the request locked."""
    estimate = _open_estimate(ticket)
    if estimate is None:
        return
    expired = estimate.state_on(today_for(ticket, now)) == State.EXPIRED
    estimate.state = State.WITHDRAWN
    estimate.decided_by = actor
    estimate.decided_at = now
    estimate.decision_reason = _("The request was closed.")
    estimate.save()
    _event(
        ticket,
        Kind.PAID_WORK_WITHDRAWN,
        actor=actor,
        now=now,
        **_estimate_data(
            estimate,
            withdraw_reason=estimate.decision_reason,
            request_closed=True,
            status=ticket.status,
            expired=expired,
        ),
    )


# ------------------------------------------------------------------ expiring
def estimates_expire(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Expire every proposal whose `valid_until` has passed; returns the estimates expired.

    Past its validity (the day after `valid_until` has begun in the regulation's
    time zone) an offer can no longer be approved, so the request must not keep
    waiting with its clocks paused: the estimate is stored as expired, a
    `paid_work_withdrawn` event with `expired: true` is written, and the request
    returns to work exactly as after a withdrawal (the clocks resume from the
    event log); the proposer and the assignee hear of it after commit.

    Each estimate is one transaction that first locks its request, as every
    paid-work service does, skipping a request another process holds
    (``SKIP LOCKED`` on PostgreSQL; on SQLite the IMMEDIATE transaction makes
    one writer at a time). A skipped one stays proposed for the next run, and
    an estimate already decided, withdrawn or expired is left alone, so running
    twice (or in two workers) does nothing more.
    """
    now = _now(now)
    # No time zone is ahead of UTC+14: no offer valid on or after this date has expired
    # anywhere yet. The exact date is judged per request, in its regulation's zone.
    latest_today = (now.astimezone(UTC) + timedelta(hours=14)).date()
    candidates = list(
        Estimate.objects.filter(state=State.PROPOSED, valid_until__lt=latest_today)
        .order_by("valid_until", "pk")
        .values_list("pk", "ticket_id")[:limit]
    )
    skip_locked = connection.features.has_select_for_update_skip_locked
    expired: list[int] = []
    for estimate_id, ticket_id in candidates:
        with transaction.atomic():
            rows = Ticket.objects.filter(pk=ticket_id).select_related(
                "contract__tariff__version", "version", "organisation"
            )
            if skip_locked:
                rows = rows.select_for_update(skip_locked=True, of=("self",))
            ticket = rows.first()
            if ticket is None:
                continue  # another process holds the request: the next run takes it
            estimate = (
                Estimate.objects.select_for_update()
                .filter(pk=estimate_id, state=State.PROPOSED)
                .first()
            )
            if estimate is None or estimate.state_on(today_for(ticket, now)) != State.EXPIRED:
                continue
            _expire(estimate, ticket, now)
            expired.append(estimate.pk)
    return expired


def _expire(estimate: Estimate, ticket: Ticket, now: datetime) -> None:
    estimate.state = State.EXPIRED
    estimate.decided_at = now
    estimate.save()
    _event(
        ticket,
        Kind.PAID_WORK_WITHDRAWN,
        actor=None,
        now=now,
        **_estimate_data(estimate, expired=True),
    )
    if ticket.is_open:
        _back_to_work(
            ticket,
            estimate=estimate,
            regulation=regulation_of(ticket),
            actor=None,
            comment="",  # the paid-work event says it, in the reader's language
            now=now,
        )
    _after_commit(estimate, EXPIRED_NOTICE)
