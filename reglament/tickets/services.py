"""Writes of the tickets app: the whole life of a request.

Every function is keyword-only, runs in one transaction, locks the request row
first (so two changes to one request queue instead of interleaving), checks
what the regulation and the actor's role allow, writes the row, writes a
`TicketEvent` for each change, and finally re-computes the request's clocks
from its events (reglament.sla.services.clocks_sync). `now` is the instant the
change happens; it defaults to the current time and exists so tests and
imports can say exactly when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.selectors import Profile, person_profile
from reglament.core import files
from reglament.domain.errors import DomainError
from reglament.domain.regulation import PRIORITIES, Regulation
from reglament.regulations.models import Contract
from reglament.regulations.selectors import contract_for_organisation
from reglament.tickets.errors import (
    AttachmentInvalidError,
    MilestoneError,
    NoContractError,
    ResolutionRequiredError,
    TicketClosedError,
    TicketInvalidError,
    TicketPermissionError,
    TransitionNotAllowedError,
)
from reglament.tickets.models import (
    Attachment,
    Channel,
    Comment,
    Ticket,
    TicketEvent,
    TicketNumberCounter,
)

Kind = TicketEvent.Kind
Role = Membership.Role


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

# The steps of the defect workflow (R1.6) and of restoring a service, and the
# ticket column each one fills. The clock events of the same names start and
# stop the regulation's metrics (workaround: defect_confirmed → workaround_provided).
MILESTONES: Final[dict[str, str]] = {
    Kind.DEFECT_CONFIRMED: "defect_confirmed_at",
    Kind.WORKAROUND_PROVIDED: "workaround_provided_at",
    Kind.SERVICE_RESTORED: "service_restored_at",
    Kind.FIX_DELIVERED: "fix_delivered_at",
}


# ------------------------------------------------------------------- helpers
def _now(now: datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise TicketInvalidError(
            _("An instant needs a time zone, e.g. 2026-11-23T10:00:00+03:00."),
            details={"value": now.isoformat()},
        )
    return now


def _lock(ticket: Ticket) -> Ticket:
    """The request re-read under a row lock (PostgreSQL; SQLite transactions are exclusive)."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("contract__tariff__version", "version", "organisation")
        # The regulation's text is parsed once per process (RegulationVersion.parsed);
        # it is tens of kilobytes, read twice here at every lock otherwise.
        .defer("version__text", "contract__tariff__version__text")
        .get(pk=ticket.pk)
    )


def regulation_of(ticket: Ticket) -> Regulation:
    return ticket.version.parsed()


def _event(
    ticket: Ticket,
    kind: str,
    *,
    actor: User | None,
    now: datetime,
    public: bool = True,
    **data: Any,
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket, kind=kind, actor=actor, created_at=now, public=public, data=data
    )
    event.save()
    return event


def _sync(ticket: Ticket, now: datetime) -> None:
    from reglament.sla.services import clocks_sync

    clocks_sync(ticket=ticket, now=now)


def _invalid(field: str, message: str, **details: Any) -> TicketInvalidError:
    return TicketInvalidError(message, details={"field": field, **details})


def _require_staff(profile: Profile, what: str) -> None:
    if not profile.staff:
        raise TicketPermissionError(
            _("Only support staff may %(what)s.") % {"what": what},
            details={"action": what, "role": profile.role},
        )


def _require_open(ticket: Ticket) -> None:
    if not ticket.is_open:
        raise TicketClosedError(
            _("The request %(number)s is closed; reopen it first.") % {"number": ticket.number},
            details={"number": ticket.number, "status": ticket.status},
        )


def customer_may_see(profile: Profile, ticket: Ticket) -> bool:
    """Tenancy for customers: own requests; a customer admin's whole organisation (R2.1)."""
    if profile.organisation is None or not profile.customer:
        return False
    if profile.role == Role.CUSTOMER_ADMIN:
        return ticket.organisation_id == profile.organisation.pk or (
            ticket.organisation.partner_id == profile.organisation.pk
        )
    return (
        ticket.requester_id == profile.user.pk
        or ticket.watchers.filter(pk=profile.user.pk).exists()
    )


def _require_access(profile: Profile, ticket: Ticket) -> None:
    if profile.staff or customer_may_see(profile, ticket):
        return
    from reglament.tickets.errors import TicketNotFoundError

    # Not "forbidden": whether another organisation's request exists is not told.
    raise TicketNotFoundError(details={"number": ticket.number})


def _check_choice(field: str, value: str, known: list[str]) -> None:
    if value not in known:
        raise _invalid(
            field,
            _("“%(value)s” is not a %(field)s of this regulation; use one of: %(known)s.")
            % {"value": value, "field": field, "known": ", ".join(known) or "—"},
            value=value,
            known=known,
        )


def derive_priority(
    regulation: Regulation,
    *,
    priority: str | None,
    impact: str | None,
    workaround: str | None,
    category: str | None,
) -> str:
    """R3.1: the priority given, else the impact × workaround matrix, else defaults."""
    if priority:
        _check_choice("priority", priority, list(PRIORITIES))
        return priority
    if impact or workaround:
        if not (impact and workaround):
            missing = "workaround" if impact else "impact"
            raise _invalid(
                missing,
                _("The priority is derived from both answers: impact and workaround."),
            )
        matrix = regulation.priority_matrix
        if matrix is not None:
            # Name the answer that is wrong, not always `impact`.
            _check_choice("impact", impact, [a.id for a in matrix.impact.answers])
            _check_choice("workaround", workaround, [a.id for a in matrix.workaround.answers])
        try:
            return regulation.derive_priority(impact=impact, workaround=workaround)
        except DomainError as error:
            raise _invalid("impact", str(error), hint=error.hint) from None
    if category:
        default = regulation.category(category).default_priority
        if default:
            return default
    return regulation.default_priority


# Reglament's own ways in: open under every regulation, whatever channels it lists.
_OWN_CHANNELS: Final = (Channel.PORTAL, Channel.API, Channel.MONITORING)


def _check_channel(regulation: Regulation, channel: str) -> None:
    """A request comes by a channel its regulation lists (R2.6, R3.2, R5.1) or by our own.

    A regulation that lists no channels takes every channel.
    """
    if not regulation.channels:
        return
    known = [str(c) for c in _OWN_CHANNELS] + [
        c.id for c in regulation.channels if c.id not in _OWN_CHANNELS
    ]
    _check_choice("channel", channel, known)


def _validate_facts(
    regulation: Regulation, *, type: str, category: str, out_of_scope: str, line: int
) -> None:
    if type:
        _check_choice("type", type, [t.id for t in regulation.request_types])
    if category:
        _check_choice("category", category, [c.id for c in regulation.categories])
    if out_of_scope:
        _check_choice("out_of_scope", out_of_scope, [o.id for o in regulation.out_of_scope])
    if line not in (1, 2, 3):
        raise _invalid("line", _("The support line is 1, 2 or 3."), value=line)


def _next_number(prefix: str, year: int) -> str:
    counter, _created = TicketNumberCounter.objects.select_for_update().get_or_create(
        prefix=prefix, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}-{year}-{counter.last:06d}"


def _contract(organisation: Organisation, *, regulation_id: str | None, on: datetime) -> Contract:
    """The organisation's contract in force; for a partner's client without one of its
    own, the partner's (R2.1: the partner's tariff covers the clients it serves)."""
    contract = contract_for_organisation(organisation, at=on, regulation_id=regulation_id)
    if contract is None and organisation.partner is not None:
        contract = contract_for_organisation(
            organisation.partner, at=on, regulation_id=regulation_id
        )
    if contract is None:
        raise NoContractError(
            _("%(organisation)s has no support contract in force on %(date)s%(under)s.")
            % {
                "organisation": organisation.name,
                "date": on.isoformat(timespec="minutes"),
                "under": (
                    _(" under the regulation %(regulation)s") % {"regulation": regulation_id}
                    if regulation_id
                    else ""
                ),
            },
            details={"organisation": organisation.name, "regulation": regulation_id},
        )
    return contract


def _filing_organisation(
    profile: Profile, requester: User, organisation: Organisation | None
) -> Organisation:
    """Whom the request is for: the requester's organisation, or a partner's client (R2.1)."""
    requester_profile = profile if profile.user.pk == requester.pk else person_profile(requester)
    own = requester_profile.organisation
    if own is None or not requester_profile.customer:
        raise _invalid(
            "requester",
            _("%(user)s is not a customer's person; requests are filed for customers.")
            % {"user": requester.get_username()},
        )
    if organisation is None or organisation.pk == own.pk:
        return own
    if own.kind == Organisation.Kind.PARTNER and organisation.partner_id == own.pk:
        return organisation
    raise _invalid(
        "organisation",
        _("%(user)s may file requests only for %(own)s%(clients)s.")
        % {
            "user": requester.get_username(),
            "own": own.name,
            "clients": _(" and its clients") if own.kind == Organisation.Kind.PARTNER else "",
        },
        # The id the caller gave, not the name: a customer must not learn other
        # customers' names by trying ids.
        value=organisation.pk,
    )


@dataclass(frozen=True, slots=True)
class Upload:
    """A file that comes with a new request or a reply (read from a form or a mail)."""

    name: str
    content: bytes
    content_type: str = ""


def _attach_all(
    ticket: Ticket,
    uploads: Sequence[Upload],
    *,
    uploader: User,
    public: bool = True,
    comment: Comment | None = None,
    now: datetime,
) -> None:
    for upload in uploads:
        attachment_add(
            ticket=ticket,
            uploader=uploader,
            name=upload.name or "file",
            content=upload.content,
            content_type=upload.content_type,
            public=public,
            comment=comment,
            now=now,
        )


# ------------------------------------------------------------------ creation
@transaction.atomic
def ticket_create(
    *,
    actor: User,
    subject: str,
    description: str = "",
    requester: User | None = None,
    organisation: Organisation | None = None,
    regulation: str | None = None,
    channel: str = Channel.PORTAL,
    type: str = "",
    category: str = "",
    priority: str | None = None,
    impact: str | None = None,
    workaround: str | None = None,
    line: int = 1,
    received_at: datetime | None = None,
    assignee: User | None = None,
    service: str = "",
    accept_paid_work: bool = False,
    uploads: Sequence[Upload] = (),
    now: datetime | None = None,
) -> Ticket:
    """Register a request: number and timestamp (R3.4), contract, priority, first clocks.

    The `uploads` are stored with it, all or none: a refused file (too large,
    empty) refuses the whole request, so nothing is half-filed.

    A customer files for themselves (a partner also for its clients, R2.1);
    staff register a call or a message on behalf of a customer's `requester`.
    A `service` of the regulation's catalogue the contract's tariff excludes
    (R4.1, R1.1) is refused (`service_not_included`) unless the customer
    `accept_paid_work`: then it is filed, and support proposes an estimate.
    """
    now = _now(now)
    profile = person_profile(actor)
    if requester is None:
        requester = actor
    elif requester.pk != actor.pk:
        _require_staff(profile, _("file a request on someone else's behalf"))
    subject = subject.strip()
    if not subject:
        raise _invalid("subject", _("A request needs a subject."))
    if len(subject) > 300:
        raise _invalid("subject", _("The subject is longer than 300 characters."))
    _check_choice("channel", channel, list(Channel.values))
    if received_at is not None:
        # A customer's request arrives when they file it: backdating it would start
        # (and breach) the vendor's clocks early. Staff record calls and mail late.
        _require_staff(profile, _("say when a request arrived"))
    received_at = _now(received_at) if received_at is not None else now
    if received_at > now:
        raise _invalid(
            "received_at",
            _("A request cannot arrive after it is registered (%(now)s).")
            % {"now": now.isoformat()},
            value=received_at.isoformat(),
        )
    organisation = _filing_organisation(profile, requester, organisation)
    contract = _contract(organisation, regulation_id=regulation, on=now)
    version = contract.tariff.version
    parsed = version.parsed()
    _validate_facts(parsed, type=type, category=category, out_of_scope="", line=line)
    _check_channel(parsed, channel)
    if service:
        from reglament.paidwork.selectors import service_check

        service_check(
            parsed,
            service=service,
            tariff=contract.tariff.code,
            accept_paid_work=accept_paid_work,
        )
    priority = derive_priority(
        parsed, priority=priority, impact=impact, workaround=workaround, category=category
    )
    if assignee is not None:
        _require_staff(profile, _("assign requests"))
        _require_assignable(assignee)
    initial = next(s for s in parsed.statuses if s.initial)
    zone = _zone(parsed)
    ticket = Ticket(
        number=_next_number(parsed.number_prefix, now.astimezone(zone).year),
        contract=contract,
        version=version,
        organisation=organisation,
        requester=requester,
        subject=subject,
        description=description,
        channel=channel,
        type=type,
        priority=priority,
        impact=impact or "",
        workaround=workaround or "",
        category=category,
        service=service,
        line=line,
        status=initial.id,
        assignee=assignee,
        received_at=received_at,
        registered_at=now,
    )
    ticket.save()
    created = _event(
        ticket,
        Kind.CREATED,
        actor=actor,
        now=now,
        number=ticket.number,
        status=initial.id,
        priority=priority,
        impact=ticket.impact,
        workaround=ticket.workaround,
        type=type,
        category=category,
        service=service,
        paid_work_accepted=bool(service) and accept_paid_work,
        line=line,
        channel=channel,
        received_at=received_at.astimezone(zone).isoformat(),
        contract=contract.pk,
        tariff=contract.tariff.code,
        regulation=version.regulation_id,
        version=version.number,
    )
    from reglament.sla.services import clocks_sync_created

    clocks_sync_created(ticket=ticket, created=created, now=now)
    _attach_all(ticket, uploads, uploader=actor, now=now)
    return ticket


def _zone(regulation: Regulation) -> ZoneInfo:
    """The time zone of the regulation's default calendar: the one people read times in."""
    return regulation.calendars[regulation.default_calendar].timezone


def _require_assignable(user: User) -> None:
    if not person_profile(user).staff:
        raise _invalid(
            "assignee",
            _("%(user)s is not support staff and cannot be assigned a request.")
            % {"user": user.get_username()},
        )


# ------------------------------------------------------------------- changes
@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: Any
    new: Any


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: User,
    priority: str | _Unset = UNSET,
    impact: str | _Unset = UNSET,
    workaround: str | _Unset = UNSET,
    category: str | _Unset = UNSET,
    type: str | _Unset = UNSET,
    subject: str | _Unset = UNSET,
    assignee: User | _Unset | None = UNSET,
    contract: Contract | _Unset = UNSET,
    received_at: datetime | _Unset = UNSET,
    reason: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Change the request's facts (staff only); the clocks are re-computed from the events.

    Priority may be set directly or re-derived from new impact × workaround
    answers (R3.1). A corrected `received_at` moves the clocks that start on
    arrival; it needs a reason.
    """
    now = _now(now)
    profile = person_profile(actor)
    _require_staff(profile, _("change a request"))
    ticket = _lock(ticket)
    regulation = regulation_of(ticket)
    changes: list[Change] = []

    def change(field: str, new: Any) -> None:
        old = getattr(ticket, field)
        if old != new:
            changes.append(Change(field, old, new))
            setattr(ticket, field, new)

    if not isinstance(contract, _Unset) and contract.pk != ticket.contract_id:
        if contract.organisation_id not in (
            ticket.organisation_id,
            ticket.organisation.partner_id,
        ):
            raise _invalid(
                "contract",
                _("The contract belongs to neither the request's organisation nor its partner."),
                value=contract.pk,
            )
        changes.append(Change("contract", ticket.contract_id, contract.pk))
        ticket.contract = contract
        ticket.version = contract.tariff.version
        regulation = ticket.version.parsed()
        if ticket.status not in [s.id for s in regulation.statuses]:
            raise _invalid(
                "contract",
                _("The contract's regulation has no status “%(status)s” for this request.")
                % {"status": ticket.status},
            )
    if not isinstance(subject, _Unset):
        subject = subject.strip()
        if not subject:
            raise _invalid("subject", _("A request needs a subject."))
        change("subject", subject)
    if not isinstance(type, _Unset):
        _validate_facts(regulation, type=type, category="", out_of_scope="", line=ticket.line)
        change("type", type)
    if not isinstance(category, _Unset):
        _validate_facts(regulation, type="", category=category, out_of_scope="", line=ticket.line)
        change("category", category)
    answers_given = not isinstance(impact, _Unset) or not isinstance(workaround, _Unset)
    if answers_given:
        new_impact = impact if not isinstance(impact, _Unset) else ticket.impact
        new_workaround = workaround if not isinstance(workaround, _Unset) else ticket.workaround
        derived = derive_priority(
            regulation,
            priority=None,
            impact=new_impact or None,
            workaround=new_workaround or None,
            category=None,
        )
        change("impact", new_impact)
        change("workaround", new_workaround)
        if isinstance(priority, _Unset):
            change("priority", derived)
    if not isinstance(priority, _Unset):
        _check_choice("priority", priority, list(PRIORITIES))
        change("priority", priority)
    if not isinstance(assignee, _Unset):
        if assignee is not None:
            _require_assignable(assignee)
        old_assignee = ticket.assignee
        if (old_assignee.pk if old_assignee else None) != (assignee.pk if assignee else None):
            changes.append(
                Change(
                    "assignee",
                    old_assignee.get_username() if old_assignee else None,
                    assignee.get_username() if assignee else None,
                )
            )
            ticket.assignee = assignee
    corrected = False
    if not isinstance(received_at, _Unset):
        received_at = _now(received_at)
        if received_at != ticket.received_at:
            if not reason.strip():
                raise _invalid("reason", _("Correcting when a request arrived needs a reason."))
            if received_at > ticket.registered_at:
                raise _invalid(
                    "received_at",
                    _("A request cannot arrive after it was registered (%(registered)s).")
                    % {"registered": ticket.registered_at.isoformat()},
                    value=received_at.isoformat(),
                )
            _event(
                ticket,
                Kind.RECEIVED_CORRECTED,
                actor=actor,
                now=now,
                public=False,
                # Both in the regulation's time zone, as every instant in the log.
                old=ticket.received_at.astimezone(_zone(regulation)).isoformat(),
                new=received_at.astimezone(_zone(regulation)).isoformat(),
                reason=reason.strip(),
            )
            ticket.received_at = received_at
            corrected = True
    if not changes and not corrected:
        return ticket
    regulation.check_case(_case_probe(ticket, regulation))
    ticket.save()
    for item in changes:
        _event(
            ticket,
            Kind.CHANGED,
            actor=actor,
            now=now,
            public=item.field in ("priority", "subject", "type", "category"),
            field=item.field,
            old=item.old,
            new=item.new,
            reason=reason.strip(),
        )
    _sync(ticket, now)
    return ticket


def _case_probe(ticket: Ticket, regulation: Regulation) -> Any:
    from reglament.sla.mappers import ticket_case

    try:
        return ticket_case(ticket, regulation)
    except DomainError as error:
        raise _invalid("ticket", str(error), hint=error.hint) from None


@transaction.atomic
def ticket_escalate(
    *,
    ticket: Ticket,
    actor: User,
    line: int,
    reason: str,
    now: datetime | None = None,
) -> Ticket:
    """Move the request to another support line (R3.6): new targets, consumed time kept."""
    now = _now(now)
    _require_staff(person_profile(actor), _("move a request between lines"))
    ticket = _lock(ticket)
    _require_open(ticket)
    if line not in (1, 2, 3):
        raise _invalid("line", _("The support line is 1, 2 or 3."), value=line)
    if line == ticket.line:
        raise _invalid(
            "line",
            _("The request is already on line %(line)d.") % {"line": line},
            value=line,
        )
    if not reason.strip():
        raise _invalid("reason", _("Moving a request between lines needs a reason."))
    old = ticket.line
    ticket.line = line
    ticket.save()
    _event(ticket, Kind.ESCALATED, actor=actor, now=now, old=old, new=line, reason=reason.strip())
    _sync(ticket, now)
    return ticket


@transaction.atomic
def ticket_set_out_of_scope(
    *,
    ticket: Ticket,
    actor: User,
    item: str,
    reason: str = "",
    now: datetime | None = None,
) -> Ticket:
    """R1.7: classify the request as out of scope (`item` from the regulation), or clear it.

    Out of scope, the resolution metrics become "consultation only" and no
    warning or breach is recorded for the request.
    """
    now = _now(now)
    _require_staff(person_profile(actor), _("classify a request as out of scope"))
    ticket = _lock(ticket)
    regulation = regulation_of(ticket)
    if item:
        _validate_facts(regulation, type="", category="", out_of_scope=item, line=ticket.line)
    if item == ticket.out_of_scope:
        return ticket
    old = ticket.out_of_scope
    ticket.out_of_scope = item
    ticket.save()
    _event(
        ticket,
        Kind.CHANGED,
        actor=actor,
        now=now,
        field="out_of_scope",
        old=old,
        new=item,
        reason=reason.strip(),
    )
    _sync(ticket, now)
    return ticket


# ------------------------------------------------------------------ statuses
@transaction.atomic
def ticket_transition(
    *,
    ticket: Ticket,
    actor: User,
    status: str,
    resolution: str = "",
    comment: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Move the request to `status` if the regulation allows it from the current one (R3.5).

    Staff move requests along the regulation's `next` lists; a final status
    with `resolution_required` needs one of the regulation's resolutions;
    leaving a final status reopens the request. Customers use
    :func:`ticket_close_by_requester` and replies instead.
    """
    now = _now(now)
    _require_staff(person_profile(actor), _("change the status of a request"))
    ticket = _lock(ticket)
    _refuse_paid_work_status(ticket, status)
    return _transition(
        ticket, actor=actor, status=status, resolution=resolution, comment=comment, now=now
    )


def _refuse_paid_work_status(ticket: Ticket, status: str) -> None:
    """R4.6: a request waits for cost approval only with an estimate to approve;
    the paidwork services move it there (docs/paid-work.md), never a status change."""
    regulation = regulation_of(ticket)
    waiting = {t.paid_work.status for t in regulation.tariffs if t.paid_work}
    target = next((known for known in regulation.statuses if known.id == status), None)
    if target is None:
        return  # not a status at all: _transition says so, with the ones there are
    if ticket.status in waiting and status != ticket.status and not target.final:
        from reglament.paidwork.selectors import estimate_open

        open_estimate = estimate_open(ticket=ticket)
        if open_estimate is not None:
            # Back to work only through the customer's decision or a withdrawal,
            # so no offer is left open on a request that is being worked on.
            raise TransitionNotAllowedError(
                _(
                    "%(number)s waits for the customer to approve estimate %(estimate)d; "
                    "withdraw it first (reglament estimate withdraw, or POST "
                    "/tickets/%(number)s/estimates/%(estimate)d/withdraw)."
                )
                % {"number": ticket.number, "estimate": open_estimate.number},
                details={"from": ticket.status, "to": status, "estimate": open_estimate.number},
            )
    if status not in waiting or status == ticket.status:
        return
    current = regulation.status(ticket.status)
    raise TransitionNotAllowedError(
        _(
            "A request enters “%(to)s” only when paid work is proposed; propose an "
            "estimate instead (POST /tickets/%(number)s/estimates, "
            "reglament estimate propose)."
        )
        % {"to": regulation.status(status).title.get(_lang()), "number": ticket.number},
        details={
            "from": current.id,
            "to": status,
            "allowed": [s for s in current.next if s not in waiting],
            "hint": "estimate_propose",
        },
    )


def _transition(
    ticket: Ticket,
    *,
    actor: User | None,
    status: str,
    resolution: str,
    comment: str,
    now: datetime,
    check_next: bool = True,
    by_requester: bool = False,
) -> Ticket:
    if ticket.merged_into_id is not None:
        raise TicketClosedError(
            _("%(number)s was merged into %(into)s; continue there.")
            % {"number": ticket.number, "into": ticket.merged_into.number},  # type: ignore[union-attr]
            details={"number": ticket.number, "merged_into": ticket.merged_into.number},  # type: ignore[union-attr]
        )
    regulation = regulation_of(ticket)
    known = [s.id for s in regulation.statuses]
    _check_choice("status", status, known)
    current = regulation.status(ticket.status)
    target = regulation.status(status)
    if status == current.id:
        raise TransitionNotAllowedError(
            _("The request is already “%(status)s”.") % {"status": target.title.get(_lang())},
            details={"from": current.id, "to": status, "allowed": list(current.next)},
        )
    if check_next and status not in current.next:
        allowed = ", ".join(current.next) or _("none (the status is final)")
        raise TransitionNotAllowedError(
            _("The regulation does not allow “%(from)s” → “%(to)s”; from here: %(allowed)s.")
            % {
                "from": current.title.get(_lang()),
                "to": target.title.get(_lang()),
                "allowed": allowed,
            },
            details={"from": current.id, "to": status, "allowed": list(current.next)},
        )
    if target.final and target.resolution_required and not resolution:
        raise ResolutionRequiredError(
            _("“%(status)s” needs a resolution: %(known)s.")
            % {
                "status": target.title.get(_lang()),
                "known": ", ".join(r.id for r in regulation.resolutions),
            },
            details={"field": "resolution", "known": [r.id for r in regulation.resolutions]},
        )
    if resolution:
        if not target.final:
            raise _invalid(
                "resolution",
                _("Only a final status takes a resolution."),
                value=resolution,
            )
        _check_choice("resolution", resolution, [r.id for r in regulation.resolutions])
    old_status, old_resolution = ticket.status, ticket.resolution
    ticket.status = status
    ticket.resolution = resolution if target.final else ""
    reopened = not ticket.is_open and not target.final
    ticket.is_open = not target.final
    if target.final and ticket.closed_at is None:
        ticket.closed_at = now
    if not target.final:
        ticket.closed_at = None
    ticket.save()
    _event(
        ticket,
        Kind.STATUS_CHANGED,
        actor=actor,
        now=now,
        old=old_status,
        new=status,
        old_resolution=old_resolution,
        resolution=ticket.resolution,
        final=target.final,
        reopened=reopened,
        by_requester=by_requester,
        comment=comment.strip(),
    )
    from reglament.usage.services import usage_status_changed  # R4.5: allowance of requests

    usage_status_changed(ticket=ticket, actor=actor, now=now)
    if target.final:
        from reglament.paidwork.services import estimate_withdraw_on_close  # R4.6

        estimate_withdraw_on_close(ticket=ticket, actor=actor, now=now)
    _sync(ticket, now)
    return ticket


def _lang() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "ru").startswith("en") else "ru"


@transaction.atomic
def ticket_close_by_requester(
    *, ticket: Ticket, actor: User, comment: str = "", now: datetime | None = None
) -> Ticket:
    """R3.8: the requester (or their customer admin) closes the request themselves.

    The request goes to the regulation's final status that needs no
    resolution (CERA: «Закрыт»), from whatever status it is in.
    """
    now = _now(now)
    profile = person_profile(actor)
    ticket = _lock(ticket)
    _require_access(profile, ticket)
    if not profile.customer:
        raise TicketPermissionError(
            _("Staff close requests by changing their status."),
            details={"action": "close", "role": profile.role},
        )
    _require_open(ticket)
    regulation = regulation_of(ticket)
    final = next((s for s in regulation.statuses if s.final and not s.resolution_required), None)
    if final is None:
        raise TransitionNotAllowedError(
            _(
                "The regulation %(regulation)s has no status for a request its requester "
                "closes; ask support to close it with a resolution."
            )
            % {"regulation": regulation.id},
            details={"regulation": regulation.id},
        )
    return _transition(
        ticket,
        actor=actor,
        status=final.id,
        resolution="",
        comment=comment,
        now=now,
        check_next=False,
        by_requester=True,
    )


# ------------------------------------------------------------ conversation
@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    public: bool = True,
    channel: str = Channel.PORTAL,
    uploads: Sequence[Upload] = (),
    now: datetime | None = None,
) -> Comment:
    """A public reply or (staff only) an internal note, with its files (all or none).

    A customer's reply while the request waits for them (R3.7) resumes the
    clocks: the request returns to the status it was in before waiting (or
    the first the regulation allows).
    """
    now = _now(now)
    profile = person_profile(author)
    ticket = _lock(ticket)
    _require_access(profile, ticket)
    body = body.strip()
    if not body:
        raise _invalid("body", _("A reply needs some text."))
    if not public and not profile.staff:
        raise TicketPermissionError(
            _("Only support staff write internal notes."),
            details={"action": "note", "role": profile.role},
        )
    _check_choice("channel", channel, list(Channel.values))
    if not ticket.is_open and not profile.staff:
        raise TicketClosedError(
            _("The request %(number)s is closed; file a new request.") % {"number": ticket.number},
            details={"number": ticket.number},
        )
    comment = Comment(
        ticket=ticket, author=author, public=public, body=body, channel=channel, created_at=now
    )
    comment.save()
    _event(
        ticket,
        Kind.REPLIED if public else Kind.NOTED,
        actor=author,
        now=now,
        public=public,
        comment=comment.pk,
        staff=profile.staff,
        channel=channel,
    )
    _attach_all(ticket, uploads, uploader=author, public=public, comment=comment, now=now)
    regulation = regulation_of(ticket)
    if (
        profile.customer
        and ticket.is_open
        and regulation.status(ticket.status).waiting_for_customer
    ):
        _resume_after_customer(ticket, author=author, regulation=regulation, now=now)
    else:
        _sync(ticket, now)
    return comment


def _resume_after_customer(
    ticket: Ticket, *, author: User, regulation: Regulation, now: datetime
) -> None:
    current = regulation.status(ticket.status)
    previous = (
        TicketEvent.objects.filter(ticket=ticket, kind=Kind.STATUS_CHANGED, data__new=current.id)
        .order_by("-created_at", "-id")
        .values_list("data__old", flat=True)
        .first()
    )
    candidates = [previous] if previous in current.next else []
    candidates += [s for s in current.next if not regulation.status(s).final and s != current.id]
    if not candidates:
        _sync(ticket, now)
        return
    _transition(
        ticket,
        actor=author,
        status=candidates[0],
        resolution="",
        comment=_("The customer replied."),
        now=now,
        check_next=False,
    )


# --------------------------------------------------------- defect workflow
@transaction.atomic
def ticket_mark(
    *,
    ticket: Ticket,
    actor: User,
    milestone: str,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Record a step: defect confirmed (starts the workaround clock, R1.6), workaround
    provided, service restored, fix delivered. Each is recorded once."""
    now = _now(now)
    _require_staff(person_profile(actor), _("record workflow steps"))
    if milestone not in MILESTONES:
        raise _invalid(
            "milestone",
            _("“%(value)s” is not a step; use one of: %(known)s.")
            % {"value": milestone, "known": ", ".join(MILESTONES)},
            value=milestone,
            known=list(MILESTONES),
        )
    ticket = _lock(ticket)
    _require_open(ticket)
    column = MILESTONES[milestone]
    if getattr(ticket, column) is not None:
        raise MilestoneError(
            _("“%(step)s” was already recorded for %(number)s at %(at)s.")
            % {
                "step": Kind(milestone).label,
                "number": ticket.number,
                "at": getattr(ticket, column).isoformat(),
            },
            details={"milestone": milestone, "at": getattr(ticket, column).isoformat()},
        )
    if milestone in (Kind.WORKAROUND_PROVIDED, Kind.FIX_DELIVERED) and (
        ticket.defect_confirmed_at is None
    ):
        raise MilestoneError(
            _("Confirm the defect before recording “%(step)s”.") % {"step": Kind(milestone).label},
            details={"milestone": milestone, "needs": Kind.DEFECT_CONFIRMED},
        )
    setattr(ticket, column, now)
    ticket.save()
    _event(ticket, milestone, actor=actor, now=now, note=note.strip())
    _sync(ticket, now)
    return ticket


@transaction.atomic
def ticket_record_development(
    *,
    ticket: Ticket,
    actor: User,
    reference: str | _Unset = UNSET,
    fix_promised_on: date | _Unset | None = UNSET,
    now: datetime | None = None,
) -> Ticket:
    """R1.6: the development task's reference and the fix date promised to the customer."""
    now = _now(now)
    _require_staff(person_profile(actor), _("record development details"))
    ticket = _lock(ticket)
    if ticket.defect_confirmed_at is None:
        raise MilestoneError(
            _("Confirm the defect before recording its development details."),
            details={"needs": Kind.DEFECT_CONFIRMED},
        )
    data: dict[str, Any] = {}
    if not isinstance(reference, _Unset) and reference.strip() != ticket.development_reference:
        data["reference"] = {"old": ticket.development_reference, "new": reference.strip()}
        ticket.development_reference = reference.strip()
    if not isinstance(fix_promised_on, _Unset) and fix_promised_on != ticket.fix_promised_on:
        data["fix_promised_on"] = {
            "old": ticket.fix_promised_on.isoformat() if ticket.fix_promised_on else None,
            "new": fix_promised_on.isoformat() if fix_promised_on else None,
        }
        ticket.fix_promised_on = fix_promised_on
    if not data:
        return ticket
    ticket.save()
    _event(ticket, Kind.DEVELOPMENT_RECORDED, actor=actor, now=now, **data)
    return ticket


# ------------------------------------------------------------------ watchers
@transaction.atomic
def ticket_watch(
    *, ticket: Ticket, actor: User, watcher: User, watch: bool = True, now: datetime | None = None
) -> Ticket:
    """Add or remove a watcher; customers may add people of the request's organisation."""
    now = _now(now)
    profile = person_profile(actor)
    ticket = _lock(ticket)
    _require_access(profile, ticket)
    watcher_profile = person_profile(watcher)
    if not profile.staff and watcher.pk != actor.pk and profile.role != Role.CUSTOMER_ADMIN:
        raise TicketPermissionError(
            _("Only support staff and customer administrators add other watchers."),
            details={"action": "watch", "role": profile.role},
        )
    organisation = watcher_profile.organisation
    if not watcher_profile.staff and (
        organisation is None
        or organisation.pk not in (ticket.organisation_id, ticket.organisation.partner_id)
    ):
        raise _invalid(
            "watcher",
            _("%(user)s is neither support staff nor a person of %(organisation)s.")
            % {"user": watcher.get_username(), "organisation": ticket.organisation.name},
        )
    present = ticket.watchers.filter(pk=watcher.pk).exists()
    if present == watch:
        return ticket
    (ticket.watchers.add if watch else ticket.watchers.remove)(watcher)
    _event(
        ticket,
        Kind.CHANGED,
        actor=actor,
        now=now,
        public=False,
        field="watchers",
        old=None if watch else watcher.get_username(),
        new=watcher.get_username() if watch else None,
    )
    return ticket


# --------------------------------------------------------------- attachments


def attachments_dir() -> Path:
    return Path(settings.REGLAMENT_ATTACHMENTS_DIR)


def attachment_path(attachment: Attachment) -> Path:
    """Where the bytes are: content-addressed, so one file is stored once."""
    return files.stored_path(attachments_dir(), attachment.sha256)


@transaction.atomic
def attachment_add(
    *,
    ticket: Ticket,
    uploader: User,
    name: str,
    content: bytes,
    content_type: str = "",
    public: bool = True,
    comment: Comment | None = None,
    now: datetime | None = None,
) -> Attachment:
    """Store a file on the request (size limit REGLAMENT_ATTACHMENT_MAX_BYTES)."""
    now = _now(now)
    profile = person_profile(uploader)
    ticket = _lock(ticket)
    _require_access(profile, ticket)
    if not public and not profile.staff:
        raise TicketPermissionError(
            _("Only support staff attach internal files."),
            details={"action": "attach", "role": profile.role},
        )
    files.check_size(len(content))
    if not content:
        raise AttachmentInvalidError(_("The file is empty."), details={"name": name})
    if comment is not None and comment.ticket_id != ticket.pk:
        raise AttachmentInvalidError(
            _("The comment belongs to another request."), details={"comment": comment.pk}
        )
    clean = files.clean_name(name)
    attachment = Attachment(
        ticket=ticket,
        comment=comment,
        uploaded_by=uploader,
        name=clean,
        content_type=files.content_type_for(clean, content_type),
        size=len(content),
        sha256=files.digest_of(content),
        public=public,
        created_at=now,
    )
    files.store(attachment_path(attachment), content)
    attachment.save()
    _event(
        ticket,
        Kind.ATTACHED,
        actor=uploader,
        now=now,
        public=public,
        attachment=attachment.pk,
        name=clean,
        size=len(content),
    )
    return attachment


# ------------------------------------------------------------------- merging
@transaction.atomic
def ticket_merge(
    *, ticket: Ticket, into: Ticket, actor: User, reason: str = "", now: datetime | None = None
) -> Ticket:
    """Close `ticket` as a duplicate of `into`: its clocks stop, nothing of it fires again.

    Both must be open and of the same organisation; the duplicate's requester
    becomes a watcher of the request that continues.
    """
    now = _now(now)
    _require_staff(person_profile(actor), _("merge requests"))
    if ticket.pk == into.pk:
        raise _invalid("into", _("A request cannot be merged into itself."))
    # Lock both rows in id order so two opposite merges cannot deadlock.
    first, second = sorted((ticket, into), key=lambda t: t.pk)
    locked = {t.pk: _lock(t) for t in (first, second)}
    ticket, into = locked[ticket.pk], locked[into.pk]
    _require_open(ticket)
    _require_open(into)
    if ticket.organisation_id != into.organisation_id:
        raise _invalid(
            "into",
            _("%(number)s belongs to another organisation.") % {"number": into.number},
            value=into.number,
        )
    ticket.merged_into = into
    ticket.is_open = False
    ticket.closed_at = now
    ticket.save()
    _event(ticket, Kind.MERGED, actor=actor, now=now, into=into.number, reason=reason.strip())
    _event(into, Kind.MERGED_FROM, actor=actor, now=now, duplicate=ticket.number)
    if ticket.requester_id != into.requester_id:
        into.watchers.add(ticket.requester)
    _sync(ticket, now)
    _sync(into, now)
    return ticket


# ------------------------------------------------------------- outgoing mail
def ticket_record_mail_failure(
    *,
    ticket: Ticket,
    kind: str,
    address: str,
    error: str,
    attempts: int,
    outbound: int,
    now: datetime | None = None,
) -> TicketEvent:
    """Record on the request that mail about it could not be sent (reglament.mailbox,
    after its last attempt): an internal event agents see in the log. Changes no clock."""
    now = _now(now)
    return _event(
        ticket,
        Kind.MAIL_FAILED,
        actor=None,
        now=now,
        public=False,
        mail=kind,
        address=address,
        error=error[:1000],
        attempts=attempts,
        outbound=outbound,
    )
