"""Outgoing mail of the e-mail channel: what is sent, to whom, and how it gets out.

Two ways in, both writing `OutboundMessage` rows in the transaction that caused them:

- **The intake** (`outbound_for_inbound`, called by reglament.mailbox.intake when it
  finishes a message): the acknowledgement of a request opened by mail (R3.4), the
  instructions to an unknown sender, the notice about a message too large. These are
  automatic replies: `Auto-Submitted: auto-replied`, never to automatic mail
  (`InboundMessage.reply_allowed`, RFC 3834), rate-limited per sender and per mailbox.
- **The request's event log** (`outbound_scan_events`, run by the worker's mail tick):
  public replies by staff, requests for clarification (R3.7), closure notices (R3.8)
  and the acknowledgement of requests filed in the portal, by API or by an agent. The
  services that write those events stay as they are; the scan reads the events after
  a stored high-water mark (`OutboundCursor`) and re-reads a short window behind it, so
  an event whose transaction committed late is not missed; the unique keys of
  `OutboundMessage` make the re-reading harmless.

Recipients are people's registered addresses (`User.email`), never an address taken from
the incoming mail's Reply-To; an address a delivery report marked failing is skipped.
Each message is rendered when it is queued (templates `mailbox/mail/<lang>/<kind>.*`, in
the recipient's language) and sent after commit by the `outbound_send` task; the row is
also its timer (`next_attempt_at`): a failed attempt is tried again later with backoff,
at most REGLAMENT_MAIL_SEND_ATTEMPTS times, then the row is `failed` and the request
records a `mail_failed` event. See docs/mail.md, "Outgoing mail".
"""

from __future__ import annotations

import email.policy
import logging
import re
import secrets
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership, Organisation
from reglament.domain.mail.threads import message_id_for, reply_address
from reglament.domain.regulation import Regulation
from reglament.mailbox.intake import mail_secret
from reglament.mailbox.models import (
    InboundMessage,
    Mailbox,
    OutboundCursor,
    OutboundMessage,
)
from reglament.mailbox.selectors import address_failing
from reglament.tickets.models import Attachment, Comment, Ticket, TicketEvent

logger = logging.getLogger(__name__)

Kind = OutboundMessage.Kind
State = OutboundMessage.State
EventKind = TicketEvent.Kind

AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"
# Answers to a stored message: automatic replies, rate-limited.
AUTOMATIC_REPLIES = (Kind.ACKNOWLEDGEMENT, Kind.INSTRUCTIONS, Kind.TOO_LARGE)
# Outcomes of the intake that get an answer, and which.
INBOUND_ANSWERS = {
    InboundMessage.Outcome.CREATED: Kind.ACKNOWLEDGEMENT,
    InboundMessage.Outcome.TRIAGE: Kind.ACKNOWLEDGEMENT,
    InboundMessage.Outcome.INSTRUCTIONS: Kind.INSTRUCTIONS,
    InboundMessage.Outcome.REJECTED: Kind.TOO_LARGE,
}
CURSOR = "ticket-events"
# The scan re-reads events this far behind its mark (by id and by age): a transaction
# that took an id earlier but committed after the mark moved is still seen.
SCAN_OVERLAP_IDS = 1000
SCAN_OVERLAP_TIME = timedelta(minutes=10)
# A claimed row is not due again for this long: the sender has that long to send it
# and record the result; a worker killed mid-send lets it fall due again.
SEND_LEASE = timedelta(minutes=10)
LANGUAGES = ("ru", "en")
_REFERENCES_KEPT = 10


# --------------------------------------------------------------------- helpers
def _language(user: User | None) -> str:
    code = settings.LANGUAGE_CODE
    if user is not None:
        if User.membership.is_cached(user):
            # Loaded with the user in this transaction (the intake's sender lookup).
            try:
                language = user.membership.language
            except Membership.DoesNotExist:
                language = None
        else:
            language = (
                Membership.objects.filter(user_id=user.pk)
                .values_list("language", flat=True)
                .first()
            )
        code = language or code
    return "en" if code.startswith("en") else "ru"


def _zone(regulation: Regulation) -> ZoneInfo:
    return regulation.calendars[regulation.default_calendar].timezone


def _when(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return local.strftime("%d.%m.%Y %H:%M") + f" ({local.tzname()})"


def _angle(message_id: str) -> str:
    message_id = message_id.strip()
    if not message_id:
        return ""
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _split(address: str) -> tuple[str, str]:
    local, _at, domain = address.rpartition("@")
    return local.partition("+")[0], domain


def ticket_mailbox(ticket: Ticket) -> Mailbox | None:
    """The mailbox mail about the request goes out from: the one its first message came
    through, else an enabled mailbox of its regulation (so replies can come back by mail)."""
    first = (
        InboundMessage.objects.filter(ticket=ticket)
        .select_related("mailbox")
        .order_by("received_at", "pk")
        .first()
    )
    if first is not None:
        return first.mailbox
    return (
        Mailbox.objects.filter(regulation_id=ticket.version.regulation_id, enabled=True)
        .order_by("pk")
        .first()
    )


@dataclass(frozen=True, slots=True)
class _Envelope:
    """Who the message is from, where replies go, and the domain of our Message-IDs."""

    from_address: str
    reply_to: str
    domain: str


def _envelope(ticket: Ticket | None, mailbox: Mailbox | None) -> _Envelope:
    by_mail = ticket is None or ticket.channel == "email"
    if mailbox is not None:
        local, domain = _split(mailbox.address)
        from_address = mailbox.address if by_mail else settings.DEFAULT_FROM_EMAIL
        reply = (
            reply_address(ticket.number, local=local, domain=domain, secret=mail_secret())
            if ticket is not None
            else ""
        )
        return _Envelope(from_address, reply, domain)
    _local, domain = _split(settings.DEFAULT_FROM_EMAIL)
    return _Envelope(settings.DEFAULT_FROM_EMAIL, "", domain or "localhost")


# Short, so our ids fit on one header line more often (they are folded, never encoded).
_ID_KIND: dict[str, str] = {
    Kind.ACKNOWLEDGEMENT: "ack",
    Kind.REPLY: "re",
    Kind.CLARIFICATION: "ask",
    Kind.CLOSURE: "done",
    Kind.INSTRUCTIONS: "help",
    Kind.TOO_LARGE: "big",
}


def _new_message_id(ticket: Ticket | None, kind: str, domain: str) -> str:
    unique = f"{_ID_KIND.get(kind, 'm')}.{secrets.token_hex(5)}"
    if ticket is None:
        return f"{unique}@{domain}"
    return message_id_for(ticket.number, domain=domain, secret=mail_secret(), unique=unique)


def _thread(ticket: Ticket | None, first: str = "", *, earlier: bool = True) -> tuple[str, str]:
    """(In-Reply-To, References) of our next message about `ticket`: the customer's first
    message, then our earlier messages about it (so clients show one conversation).
    `earlier=False`: there are none to look for (the answer to the message that opened
    the request, in the transaction that opened it)."""
    chain: list[str] = []
    if first:
        chain.append(_angle(first))
    if ticket is not None and earlier:
        if not first:
            opening = (
                InboundMessage.objects.filter(ticket=ticket)
                .exclude(message_id="")
                .order_by("received_at", "pk")
                .values_list("message_id", flat=True)
                .first()
            )
            if opening:
                chain.append(_angle(opening))
        ours = (
            OutboundMessage.objects.filter(ticket=ticket)
            .exclude(message_id="")
            .exclude(state=State.SKIPPED)
            .order_by("-created_at", "-pk")
            .values_list("message_id", flat=True)[:_REFERENCES_KEPT]
        )
        chain += [_angle(mid) for mid in reversed(list(ours))]
    chain = list(dict.fromkeys(c for c in chain if c))
    if not chain:
        return "", ""
    return chain[-1], " ".join(chain)


# ------------------------------------------------------------------- rendering
def _render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one message, in `language` (ru/en); instructions
    and the too-large notice go to people we do not know, in both languages."""
    if kind in (Kind.INSTRUCTIONS, Kind.TOO_LARGE):
        parts = [_render_one(kind, lang, {**context, "fragment": True}) for lang in LANGUAGES]
        subject = " / ".join(p[0] for p in parts)
        text = "\n\n— — —\n\n".join(p[1].rstrip() for p in parts) + "\n"
        html = render_to_string("mailbox/mail/bilingual.html", {"parts": [p[2] for p in parts]})
        return subject, text, html
    return _render_one(kind, language, context)


_BLANK_LINES = re.compile(r"\n{3,}")


def _render_one(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str, str]:
    regulation: Regulation | None = context.get("regulation")
    context = {
        **context,
        "language": language,
        "regulation_title": regulation.title.get(language) if regulation else "",
        "vendor": regulation.vendor.get(language) if regulation else "",
    }
    with translation.override(language):
        base = f"mailbox/mail/{language}/{kind}"
        subject = " ".join(render_to_string(f"{base}.subject.txt", context).split())
        text = _BLANK_LINES.sub("\n\n", render_to_string(f"{base}.txt", context)).strip() + "\n"
        html = render_to_string(f"{base}.html", context)
    return subject, text, html


def _common(ticket: Ticket | None, mailbox: Mailbox | None) -> dict[str, Any]:
    regulation: Regulation | None = None
    if ticket is not None:
        regulation = ticket.version.parsed()
    elif mailbox is not None:
        from reglament.regulations.selectors import regulation_get_latest

        version = regulation_get_latest(mailbox.regulation_id)
        regulation = version.parsed() if version is not None else None
    return {
        "ticket": ticket,
        "number": ticket.number if ticket else "",
        "portal": settings.REGLAMENT_BASE_URL,
        "url": f"{settings.REGLAMENT_BASE_URL}/requests/{ticket.number}/" if ticket else "",
        "regulation": regulation,
        "mailbox": mailbox.address if mailbox else "",
    }


def _promises(ticket: Ticket, language: str, now: datetime) -> list[dict[str, str]]:
    """The promised times of the request's running clocks, as the portal words them."""
    from reglament.sla.selectors import calendar_hours, ticket_clocks

    regulation, states = ticket_clocks(ticket, now=now)
    zone = _zone(regulation)
    rows = []
    with translation.override(language):
        for state in states:
            if state.target is None or not state.target.promise or state.due is None:
                continue
            rows.append(
                {
                    "title": regulation.metric(state.metric).title.get(language),
                    "due": _when(state.due, zone),
                    "hours": calendar_hours(regulation, state.target.calendar),
                    "note": state.target.note.get(language) if state.target.note else "",
                }
            )
    return rows


def _context(
    kind: str,
    *,
    language: str,
    ticket: Ticket | None,
    mailbox: Mailbox | None,
    inbound: InboundMessage | None,
    event: TicketEvent | None,
    now: datetime,
) -> dict[str, Any]:
    context = _common(ticket, mailbox)
    if ticket is not None:
        regulation = ticket.version.parsed()
        zone = _zone(regulation)
        context["status"] = regulation.status(ticket.status).title.get(language)
        context["registered"] = _when(ticket.registered_at, zone)
        if abs(ticket.registered_at - ticket.received_at) >= timedelta(minutes=1):
            context["received"] = _when(ticket.received_at, zone)
    if kind == Kind.ACKNOWLEDGEMENT and ticket is not None:
        context["promises"] = _promises(ticket, language, now)
        # Mail from outside is never echoed (no spam relay): only the number.
        context["echo_subject"] = inbound is None
    elif kind == Kind.REPLY and event is not None and ticket is not None:
        comment = Comment.objects.select_related("author").get(pk=event.data["comment"])
        context["author"] = comment.author.get_full_name() or _support_name(language)
        context["body"] = comment.body
        context["files"] = [
            {"name": a.name, "size": _size(a.size)}
            for a in Attachment.objects.filter(comment=comment, public=True).order_by("pk")
        ]
    elif kind == Kind.CLARIFICATION and event is not None and ticket is not None:
        context["body"] = event.data.get("comment", "") or _last_staff_reply(ticket, event)
    elif kind == Kind.CLOSURE and event is not None and ticket is not None:
        regulation = ticket.version.parsed()
        resolution = event.data.get("resolution", "")
        context["resolution"] = (
            next((r.title.get(language) for r in regulation.resolutions if r.id == resolution), "")
            if resolution
            else ""
        )
        context["closed"] = _when(event.created_at, _zone(regulation))
        context["body"] = event.data.get("comment", "")
        context["by_requester"] = bool(event.data.get("by_requester"))
    elif kind == Kind.TOO_LARGE and inbound is not None:
        context["size"] = _size(inbound.size)
        context["limit"] = _size(inbound.mailbox.max_bytes)
    return context


def _support_name(language: str) -> str:
    return "Support" if language == "en" else "Поддержка"


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size} B"


def _last_staff_reply(ticket: Ticket, event: TicketEvent) -> str:
    """The question: staff's latest public reply up to the status change."""
    staff = set(
        Membership.objects.filter(organisation__kind=Organisation.Kind.VENDOR).values_list(
            "user_id", flat=True
        )
    )
    for comment in Comment.objects.filter(
        ticket=ticket, public=True, created_at__lte=event.created_at
    ).order_by("-created_at", "-pk")[:10]:
        if comment.author_id in staff:
            return comment.body
    return ""


# --------------------------------------------------------------------- queuing
def _rate_limited(*, to_address: str, mailbox: Mailbox | None, now: datetime) -> str:
    """Why one more automatic reply may not go out now, or ""."""
    since = now - timedelta(hours=1)
    recent = OutboundMessage.objects.filter(
        kind__in=AUTOMATIC_REPLIES,
        inbound__isnull=False,
        created_at__gte=since,
        state__in=(State.QUEUED, State.SENT, State.FAILED),
    )
    # Both counts in one query.
    wanted = {"sender": Count("pk", filter=Q(to_address=to_address))}
    if mailbox is not None:
        wanted["mailbox"] = Count("pk", filter=Q(mailbox=mailbox))
    counts = recent.aggregate(**wanted)
    per_sender: int = settings.REGLAMENT_MAIL_AUTO_REPLY_PER_SENDER_HOUR
    if counts["sender"] >= per_sender:
        return _(
            "Rate limit: %(count)d automatic replies to %(address)s within an hour already."
        ) % {"count": per_sender, "address": to_address}
    per_mailbox: int = settings.REGLAMENT_MAIL_AUTO_REPLY_PER_MAILBOX_HOUR
    if mailbox is not None and counts["mailbox"] >= per_mailbox:
        return _(
            "Rate limit: %(count)d automatic replies from %(mailbox)s within an hour already."
        ) % {"count": per_mailbox, "mailbox": mailbox.address}
    return ""


def _queue(
    kind: str,
    *,
    to_address: str,
    recipient: User | None,
    ticket: Ticket | None,
    mailbox: Mailbox | None,
    inbound: InboundMessage | None = None,
    event: TicketEvent | None = None,
    now: datetime,
    skip: str = "",
) -> OutboundMessage:
    """Write one outgoing message (queued, or skipped with the reason) and have it sent
    after commit. An event's message is written inside a savepoint: a row that exists
    already (a second scan, a second worker) is returned as it is."""
    to_address = to_address.strip()
    automatic = inbound is not None and kind in AUTOMATIC_REPLIES
    row = OutboundMessage(
        kind=kind,
        ticket=ticket,
        mailbox=mailbox,
        inbound=inbound,
        event=event,
        recipient=recipient,
        to_address=to_address[:320],
        created_at=now,
        auto_submitted=AUTO_REPLIED
        if automatic
        else (AUTO_GENERATED if kind != Kind.REPLY else ""),
    )
    if not skip and not to_address:
        skip = _("No e-mail address to send to.")
    if not skip and address_failing(to_address):
        skip = _("Mail to %(address)s failed before (a delivery report); not sent.") % {
            "address": to_address
        }
    if not skip and automatic and inbound is not None and inbound.reply_allowed is not True:
        skip = _("No automatic reply to automatic mail (%(reason)s).") % {
            "reason": inbound.automatic or _("not answerable")
        }
    if not skip and automatic:
        skip = _rate_limited(to_address=row.to_address, mailbox=mailbox, now=now)
    unwritten = ""
    if skip:
        row.state = State.SKIPPED
        row.skip_reason = skip
    else:
        unwritten = _write(row, now=now, intake=inbound is not None)
    if inbound is not None:
        # The intake's answer, in the transaction that claimed the message: no other
        # row for it can exist (one committed earlier would have left the message
        # processed), so no savepoint is needed to survive a duplicate.
        row.save()
    else:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            existing = _existing(row)
            if existing is None:
                raise
            return existing
    if row.state == State.QUEUED:
        _send_after_commit(row.pk, at=None)
    if unwritten:
        _record_on_request(row, unwritten, now=now)
    return row


def _write(row: OutboundMessage, *, now: datetime, intake: bool = False) -> str:
    """Fill in the letter (language, subject, bodies, envelope, threading) and queue it;
    when it cannot be written (a template or a regulation that fails), mark the row
    failed and return why, so the failure is as visible as a refused send. A database
    error is raised as it is: the transaction is broken, and trying again may work.
    `intake`: the answer to a message in the transaction that filed it (which opened
    the request, so no earlier letter about it exists)."""
    kind = row.kind
    try:
        language = _language(row.recipient)
        context = _context(
            kind,
            language=language,
            ticket=row.ticket,
            mailbox=row.mailbox,
            inbound=row.inbound,
            event=row.event,
            now=now,
        )
        row.language = "ru+en" if kind in (Kind.INSTRUCTIONS, Kind.TOO_LARGE) else language
        row.subject, row.body_text, row.body_html = _render(kind, language, context)
        row.subject = row.subject[:400]
        envelope = _envelope(row.ticket, row.mailbox)
        row.from_address = envelope.from_address
        row.reply_to = envelope.reply_to
        row.message_id = _new_message_id(row.ticket, kind, envelope.domain)
        row.in_reply_to, row.references = _thread(
            row.ticket,
            first=row.inbound.message_id if row.inbound is not None else "",
            earlier=not intake,
        )
    except DatabaseError:
        raise
    except Exception as error:
        logger.exception("outgoing %s mail to %s could not be written", kind, row.to_address)
        row.state = State.FAILED
        row.next_attempt_at = None
        row.message_id = ""  # "never written": outbound_retry writes it again
        row.last_error = _("The letter could not be written: %(error)s") % {
            "error": f"{type(error).__name__}: {error}"
        }
        row.last_error = row.last_error[:2000]
        return row.last_error
    row.state = State.QUEUED
    row.next_attempt_at = now
    row.last_error = ""
    return ""


def _record_on_request(row: OutboundMessage, error: str, *, now: datetime) -> None:
    """A `mail_failed` event on the message's request (if it has one): it will not go."""
    if row.ticket_id is None:
        return
    from reglament.tickets.services import ticket_record_mail_failure

    ticket_record_mail_failure(
        ticket=Ticket.objects.get(pk=row.ticket_id),
        kind=row.kind,
        address=row.to_address,
        error=error,
        attempts=row.attempts,
        outbound=row.pk,
        now=now,
    )


def _existing(row: OutboundMessage) -> OutboundMessage | None:
    return OutboundMessage.objects.filter(
        event_id=row.event_id, kind=row.kind, to_address=row.to_address
    ).first()


def _send_after_commit(pk: int, *, at: datetime | None) -> None:
    def enqueue() -> None:
        from reglament.mailbox.tasks import outbound_send

        task = outbound_send if at is None else outbound_send.using(run_after=at)
        task.enqueue(outbound_id=pk)

    transaction.on_commit(enqueue)


def outbound_for_inbound(*, row: InboundMessage, now: datetime) -> OutboundMessage | None:
    """The automatic answer to a message the intake just finished, in its transaction:
    the acknowledgement of the request it opened (to the requester's registered address),
    the instructions to an unknown sender, the notice about a message too large (to its
    From, never its Reply-To). None for outcomes that get no answer."""
    kind = INBOUND_ANSWERS.get(row.outcome)  # type: ignore[call-overload]
    if kind is None:
        return None
    ticket = row.ticket
    if kind == Kind.ACKNOWLEDGEMENT:
        if ticket is None:
            return None
        # The requester the intake just filed it for, when the ticket still holds them.
        requester = (
            ticket.requester
            if Ticket.requester.is_cached(ticket)
            else User.objects.get(pk=ticket.requester_id)
        )
        created = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED).first()
        return _queue(
            kind,
            to_address=requester.email if requester.is_active else "",
            recipient=requester,
            ticket=ticket,
            mailbox=row.mailbox,
            inbound=row,
            event=created,
            now=now,
        )
    return _queue(
        kind,
        to_address=row.sender,
        recipient=None,
        ticket=None,
        mailbox=row.mailbox,
        inbound=row,
        now=now,
    )


# ------------------------------------------------------------- the event scan
def _customer_watchers(ticket: Ticket) -> list[User]:
    return list(
        ticket.watchers.filter(is_active=True)
        .exclude(membership__organisation__kind=Organisation.Kind.VENDOR)
        .order_by("pk")
    )


def _not_requester(actor_id: int | None, requester: User) -> int | None:
    """Who to leave out: the one who acted, unless it is the requester (who is told even
    of their own closing: R3.8 sends the notice to the address in the request)."""
    return None if actor_id == requester.pk else actor_id


def _people(people: Iterable[User], *, exclude: int | None = None) -> list[User]:
    seen: set[int] = set()
    result = []
    for person in people:
        if person.pk in seen or person.pk == exclude:
            continue
        seen.add(person.pk)
        result.append(person)
    return result


def _event_mail(event: TicketEvent, *, now: datetime) -> list[OutboundMessage]:
    """The messages one request event calls for (none for most events)."""
    ticket = event.ticket
    kind: str | None = None
    people: list[User] = []
    requester = User.objects.get(pk=ticket.requester_id)
    if event.kind == EventKind.CREATED:
        kind, people = Kind.ACKNOWLEDGEMENT, [requester]
    elif event.kind == EventKind.REPLIED and event.public and event.data.get("staff"):
        comment_author = (
            Comment.objects.filter(pk=event.data.get("comment"))
            .values_list("author_id", flat=True)
            .first()
        )
        kind = Kind.REPLY
        people = _people([requester, *_customer_watchers(ticket)], exclude=comment_author)
    elif event.kind == EventKind.STATUS_CHANGED:
        regulation = ticket.version.parsed()
        new = event.data.get("new", "")
        known = {s.id: s for s in regulation.statuses}
        # The requester always (R3.8: the address in the request), and the customer's
        # watchers, who follow the request as closely (but not the one who did it).
        followers = [requester, *_customer_watchers(ticket)]
        if new in known and known[new].waiting_for_customer:
            kind = Kind.CLARIFICATION
            people = _people(followers, exclude=_not_requester(event.actor_id, requester))
        elif event.data.get("final"):
            kind = Kind.CLOSURE
            people = _people(followers, exclude=_not_requester(event.actor_id, requester))
    if kind is None:
        return []
    mailbox = ticket_mailbox(ticket)
    if ticket.merged_into_id is not None and kind != Kind.REPLY:
        return []
    if not people:
        return []
    rows = []
    for person in people:
        rows.append(
            _queue(
                kind,
                to_address=person.email if person.is_active else "",
                recipient=person,
                ticket=ticket,
                mailbox=mailbox,
                event=event,
                now=now,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class ScanReport:
    events: int  # events read
    queued: int
    skipped: int
    left: bool  # more events wait beyond the limit


def outbound_scan_events(*, now: datetime | None = None, limit: int = 500) -> ScanReport:
    """Queue the mail the request events since the last scan call for.

    One scan at a time (the cursor row is locked); each event in a savepoint. A letter
    that cannot be written is kept as a failed row with the reason and a `mail_failed`
    event on the request (`outbound_retry` writes it again once fixed); any other error
    of an event is logged and the others go on (it is tried again while it is inside
    the re-read window).
    """
    now = now or timezone.now()
    queued = skipped = read = 0
    with transaction.atomic():
        OutboundCursor.objects.get_or_create(name=CURSOR)
        cursor = OutboundCursor.objects.select_for_update().get(name=CURSOR)
        start = max(cursor.floor_event_id, cursor.last_event_id - SCAN_OVERLAP_IDS)
        relevant = (EventKind.CREATED, EventKind.REPLIED, EventKind.STATUS_CHANGED)
        fresh = list(
            TicketEvent.objects.filter(pk__gt=cursor.last_event_id, kind__in=relevant)
            .select_related("ticket__version")
            .order_by("pk")[: limit + 1]
        )
        left = len(fresh) > limit
        fresh = fresh[:limit]
        behind = list(
            TicketEvent.objects.filter(
                pk__gt=start,
                pk__lte=cursor.last_event_id,
                kind__in=relevant,
                created_at__gte=now - SCAN_OVERLAP_TIME,
            )
            .select_related("ticket__version")
            .order_by("pk")
        )
        events = behind + fresh
        handled = set(
            OutboundMessage.objects.filter(event_id__in=[e.pk for e in events]).values_list(
                "event_id", flat=True
            )
        )
        for event in events:
            read += 1
            if event.pk in handled:
                continue
            try:
                with transaction.atomic():
                    rows = _event_mail(event, now=now)
            except Exception:
                logger.exception("outgoing mail for request event %s failed", event.pk)
                continue
            queued += sum(1 for r in rows if r.state == State.QUEUED)
            skipped += sum(1 for r in rows if r.state == State.SKIPPED)
        if fresh:
            cursor.last_event_id = max(cursor.last_event_id, fresh[-1].pk)
        elif not left:
            # Nothing relevant: jump past the irrelevant events too.
            newest = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
            cursor.last_event_id = max(cursor.last_event_id, newest or 0)
        cursor.updated_at = now
        cursor.save()
    return ScanReport(read, queued, skipped, left)


# --------------------------------------------------------------------- sending
def _backoff(attempts: int) -> timedelta:
    base: int = settings.REGLAMENT_MAIL_SEND_RETRY_SECONDS
    return timedelta(seconds=base * 4 ** max(attempts - 1, 0))


def _claim(*, pk: int | None, now: datetime) -> OutboundMessage | None:
    """Take one due queued row (this one, or the oldest due) for sending."""
    with transaction.atomic():
        rows = OutboundMessage.objects.filter(state=State.QUEUED, next_attempt_at__lte=now)
        if pk is not None:
            rows = rows.filter(pk=pk)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        row = rows.order_by("next_attempt_at", "pk").first()
        if row is None:
            return None
        # Compare-and-set where rows cannot be locked (SQLite).
        claimed = OutboundMessage.objects.filter(
            pk=row.pk, state=State.QUEUED, attempts=row.attempts
        ).update(attempts=row.attempts + 1, next_attempt_at=now + SEND_LEASE)
        if not claimed:
            return None
        row.attempts += 1
        row.next_attempt_at = now + SEND_LEASE
        return row


class _MessageIds(UnstructuredHeader):
    """In-Reply-To and References folded between ids, never into encoded words: the
    standard policy turns an id longer than a line into ``=?utf-8?q?…?=``, which no mail
    client threads by."""

    def fold(self, *, policy: Any) -> str:
        name: str = self.name  # type: ignore[attr-defined]  # BaseHeader's, mixed in
        linesep: str = policy.linesep
        return f"{name}: " + (linesep + " ").join(str(self).split()) + linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("in-reply-to", _MessageIds)  # type: ignore[arg-type]
_HEADERS.map_to_type("references", _MessageIds)  # type: ignore[arg-type]


class _Mail(EmailMultiAlternatives):
    def message(self, *, policy: Any = email.policy.default) -> EmailMessage:
        return super().message(policy=policy.clone(header_factory=_HEADERS))


def _email(row: OutboundMessage) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": _angle(row.message_id),
        settings.REGLAMENT_MAIL_LOOP_HEADER: "1",
    }
    if row.auto_submitted:
        headers["Auto-Submitted"] = row.auto_submitted
    if row.auto_submitted == AUTO_REPLIED:
        # Exchange's out-of-office and similar stay quiet.
        headers["X-Auto-Response-Suppress"] = "All"
    if row.in_reply_to:
        headers["In-Reply-To"] = row.in_reply_to
    if row.references:
        headers["References"] = row.references
    if row.ticket_id is not None:
        headers["X-Reglament-Ticket"] = Ticket.objects.values_list("number", flat=True).get(
            pk=row.ticket_id
        )
    message = _Mail(
        subject=row.subject,
        body=row.body_text,
        from_email=row.from_address,
        to=[row.to_address],
        reply_to=[row.reply_to] if row.reply_to else None,
        headers=headers,
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    return message


def _permanent(error: Exception) -> bool:
    """A 5xx answer: trying again will not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def outbound_deliver(*, outbound_id: int | None = None, now: datetime | None = None) -> str | None:
    """Send one due message (`outbound_id`, or the oldest due one) and record the result;
    its new state, or None when nothing was due (sent already, not yet due, or being sent
    by another worker)."""
    now = now or timezone.now()
    row = _claim(pk=outbound_id, now=now)
    if row is None:
        return None
    try:
        with mailers.default as smtp:
            smtp.send_messages([_email(row)])
    except Exception as error:
        logger.warning(
            "outgoing mail %s to %s: attempt %d failed: %s",
            row.pk,
            row.to_address,
            row.attempts,
            error,
        )
        return _record_failure(row, error, now=now)
    OutboundMessage.objects.filter(pk=row.pk).update(
        state=State.SENT, sent_at=now, next_attempt_at=None, last_error=""
    )
    return State.SENT


def _record_failure(row: OutboundMessage, error: Exception, *, now: datetime) -> str:
    text = f"{type(error).__name__}: {error}"[:2000]
    limit: int = settings.REGLAMENT_MAIL_SEND_ATTEMPTS
    with transaction.atomic():
        if row.attempts >= limit or _permanent(error):
            OutboundMessage.objects.filter(pk=row.pk).update(
                state=State.FAILED, last_error=text, next_attempt_at=None
            )
            _record_on_request(row, text, now=now)
            return State.FAILED
        at = now + _backoff(row.attempts)
        OutboundMessage.objects.filter(pk=row.pk).update(last_error=text, next_attempt_at=at)
        _send_after_commit(row.pk, at=at)
    return State.QUEUED


def outbound_send_due(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send every message due by `now` (queued rows whose time has come: new ones whose
    task was lost, retries), at most `limit`; counts by resulting state."""
    now = now or timezone.now()
    counts = {State.SENT.value: 0, State.QUEUED.value: 0, State.FAILED.value: 0}
    for _n in range(limit):
        result = outbound_deliver(now=now)
        if result is None:
            break
        counts[result] += 1
    return counts


def outbound_retry(*, outbound: OutboundMessage, now: datetime | None = None) -> OutboundMessage:
    """Queue a failed message once more (after the address, the server or, for a letter
    that could not be written, the template was fixed: it is written again first)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            OutboundMessage.objects.select_for_update()
            .filter(pk=outbound.pk, state=State.FAILED)
            .first()
        )
        if row is not None and not row.message_id:
            # Never written: write it now; if it still cannot be, it stays failed.
            if _write(row, now=now):
                row.save(update_fields=["state", "last_error", "next_attempt_at"])
                outbound.refresh_from_db()
                return outbound
            row.attempts = 0
            row.save()
            _send_after_commit(row.pk, at=None)
        elif row is not None:
            OutboundMessage.objects.filter(pk=row.pk).update(
                state=State.QUEUED, attempts=0, next_attempt_at=now
            )
            _send_after_commit(row.pk, at=None)
    outbound.refresh_from_db()
    return outbound
