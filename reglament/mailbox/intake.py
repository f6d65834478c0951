"""Stored mail into requests and replies: who wrote, which request it is about, what it becomes.

`inbound_process(message)` takes one `stored` (or `failed`) InboundMessage and
turns it into exactly one of: a new request, a public reply on a request, an
internal note on a request (automatic mail, a bounce, a writer who takes no part
in the request), or a row that says why nothing was filed (`ignored`,
`instructions`). `inbound_process_pending()` does so for every message waiting,
one transaction per message; the worker runs it after each poll.

Each message is claimed with its row locked (SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL; an optimistic compare-and-set of `attempts` elsewhere), so two
workers never process one message, and a process killed mid-way leaves the row
`stored` (its whole transaction rolls back). An error inside processing rolls
back what it wrote (a savepoint) and marks the row `failed` with the error and
`attempts` + 1; it is tried again, at most REGLAMENT_MAIL_PROCESS_ATTEMPTS
times in all. A reply whose In-Reply-To/References name an earlier message that
still waits (another worker has it, or it failed and waits for its next attempt)
is left for later without using an attempt, so that it joins the request that
message opens. See docs/mail.md, "Processing".

Who files: the intake is the vendor's own machinery, so requests are registered
by a system principal (`intake_actor`, an inactive account with no usable
password) on behalf of the customer who wrote, with the instant the message
reached us as its arrival time (R3.4) — the way an agent registers a mail. Replies
are written as their author (so a customer's reply resumes a waiting request's
clocks, R3.7); notes about automatic mail and bounces are written by the system
principal and never resume anything.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.accounts import services as accounts_services
from reglament.accounts.models import Membership, Organisation
from reglament.accounts.selectors import person_profile
from reglament.core.errors import AppError
from reglament.domain.mail import (
    Bounce,
    ParsedMessage,
    automatic_reason,
    bounce,
    number_from_address,
    number_from_message_id,
    numbers_in_subject,
    parse_message,
    split_reply,
)
from reglament.domain.mail.classify import LOOP, sender_address, sender_authenticated
from reglament.mailbox import storage
from reglament.mailbox.models import (
    InboundEvent,
    InboundMessage,
    MailAddressFailure,
    Mailbox,
    TriageOrganisation,
)
from reglament.regulations import services as regulation_services
from reglament.regulations.selectors import contract_for_organisation, regulation_get_latest
from reglament.tickets import services as ticket_services
from reglament.tickets.models import Channel, Ticket

logger = logging.getLogger(__name__)

State = InboundMessage.State
Result = InboundMessage.Outcome

INTAKE_USERNAME = "reglament-mail"
TRIAGE_NAME = "Не идентифицировано / Not yet identified"
# Automatic mail that threads nowhere is kept as `ignored`; these reasons say why.
OWN_ADDRESS = "own-address"
NO_SENDER = "no-sender"
_MAX_SUBJECT = 300


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: its state and outcome, the request, and why."""

    message: int
    state: str
    outcome: str = ""
    ticket: str | None = None
    reason: str = ""
    # Left for later: it answers this earlier message, still waiting to be processed.
    waits_for: int | None = None

    @property
    def waits(self) -> bool:
        return self.waits_for is not None


# ------------------------------------------------------------- one processing run
@dataclass
class _RunCache:
    """Lookups that stay the same from one message to the next, kept for one processing
    run (one `inbound_process_pending` or `inbound_process` call) and dropped with it:
    a change made between runs is always seen. Dropped too when a message fails, since
    its transaction rolled back what it may have created (the intake actor, say)."""

    secret: bytes | None = None
    own_addresses: frozenset[str] | None = None
    prefixes: dict[str, list[str]] = field(default_factory=dict)
    actor: User | None = None

    def clear(self) -> None:
        self.secret = None
        self.own_addresses = None
        self.prefixes.clear()
        self.actor = None


_run_cache: ContextVar[_RunCache | None] = ContextVar("reglament_mail_run_cache", default=None)


@contextmanager
def _processing_run() -> Iterator[_RunCache]:
    """The run's cache; a run inside a run (a nested call) shares the outer one."""
    current = _run_cache.get()
    if current is not None:
        yield current
        return
    cache = _RunCache()
    token = _run_cache.set(cache)
    try:
        yield cache
    finally:
        _run_cache.reset(token)


# ------------------------------------------------------------------------ secrets
def mail_secret() -> bytes:
    """The key of the request tokens in our addresses and Message-IDs.

    REGLAMENT_MAIL_SECRET when set; otherwise an HMAC of SECRET_KEY under a label of
    its own, so the token key is never SECRET_KEY itself.
    """
    cache = _run_cache.get()
    if cache is not None:
        if cache.secret is None:
            cache.secret = _mail_secret()
        return cache.secret
    return _mail_secret()


def _mail_secret() -> bytes:
    configured: str = settings.REGLAMENT_MAIL_SECRET
    if configured:
        return configured.encode("utf-8")
    return hmac.new(
        settings.SECRET_KEY.encode("utf-8"), b"reglament-mail-thread-secret", hashlib.sha256
    ).digest()


# ---------------------------------------------------------------------- processing
def inbound_process(message: InboundMessage, *, now: datetime | None = None) -> Outcome:
    """Process one message now (any waiting state, however many attempts it had).

    Returns without doing anything when another worker holds the row or the message
    was processed already.
    """
    with _processing_run(), transaction.atomic():
        rows = InboundMessage.objects.filter(pk=message.pk)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        row = rows.select_related("mailbox").first()
        if row is None:
            return Outcome(message.pk, message.state, reason=_("Another worker is processing it."))
        if not _waiting(row, limit=None):
            return Outcome(row.pk, row.state, row.outcome, _number(row), _("Processed already."))
        return _run(row, now=now)


def inbound_process_pending(
    *,
    mailbox: Mailbox | None = None,
    limit: int | None = None,
    exhausted: bool = False,
    now: datetime | None = None,
) -> list[Outcome]:
    """Process the waiting messages (of one mailbox, or all), oldest first, each in its
    own transaction; at most `limit`. A message that fails is not tried again in the same
    run. `exhausted` also retries failed messages that used up their attempts."""
    done: list[Outcome] = []
    # Rows not to look at again in this run: those that failed (or were held by another
    # worker). Processed and ignored rows never wait again, so the waiting filter leaves
    # them out without a NOT IN list that grows with the run.
    tried: set[int] = set()
    candidates: deque[int] = deque()
    # Replies that wait for the message they answer (being processed by another worker,
    # or failed and to be tried again), by the message they wait for: taken again in
    # this run once that one no longer waits. Each wait counts toward `limit`.
    waiting: dict[int, int] = {}
    waits = 0
    with _processing_run():
        while limit is None or len(done) + waits < limit:
            if not candidates:
                # The next waiting rows, oldest first, read in one query; each is then
                # claimed (and checked to be waiting still) by its primary key.
                candidates.extend(_candidates(mailbox=mailbox, tried=tried, exhausted=exhausted))
                if not candidates and waiting:
                    ready = _answered(waiting)
                    tried.difference_update(ready)
                    candidates.extend(ready)
                if not candidates:
                    break
            pk = candidates.popleft()
            outcome = _process_next(pk=pk, mailbox=mailbox, exhausted=exhausted, now=now)
            if outcome is None:
                # Locked by another worker, or no longer waiting: leave it to them.
                tried.add(pk)
                continue
            if outcome.waits_for is not None:
                tried.add(pk)
                waiting[pk] = outcome.waits_for
                waits += 1
                continue
            if outcome.state not in (State.PROCESSED, State.IGNORED):
                tried.add(outcome.message)
            done.append(outcome)
    return done


def _answered(waiting: dict[int, int]) -> list[int]:
    """The replies in `waiting` whose message no longer waits (filed, or given up on),
    oldest first; taken out of `waiting`."""
    still = set(
        InboundMessage.objects.filter(waiting_filter(), pk__in=set(waiting.values())).values_list(
            "pk", flat=True
        )
    )
    ready = sorted(pk for pk, earlier in waiting.items() if earlier not in still)
    for pk in ready:
        del waiting[pk]
    return ready


def waiting_filter(*, exhausted: bool = False) -> Q:
    """Rows processing still has to look at: stored, failed with attempts left, rejected
    ones not yet looked at."""
    failed = Q(state=State.FAILED)
    if not exhausted:
        failed &= Q(attempts__lt=settings.REGLAMENT_MAIL_PROCESS_ATTEMPTS)
    return Q(state=State.STORED) | failed | Q(state=State.REJECTED, processed_at__isnull=True)


def _waiting(row: InboundMessage, *, limit: int | None) -> bool:
    return _still_waiting(row.state, row.attempts, row.processed_at, limit=limit)


def _still_waiting(
    state: str, attempts: int, processed_at: datetime | None, *, limit: int | None
) -> bool:
    """waiting_filter in Python; `limit` None: failed rows wait however many attempts."""
    if state == State.STORED:
        return True
    if state == State.FAILED:
        return limit is None or attempts < limit
    return state == State.REJECTED and processed_at is None


_CANDIDATES = 100


def _candidates(*, mailbox: Mailbox | None, tried: set[int], exhausted: bool) -> list[int]:
    rows = InboundMessage.objects.filter(waiting_filter(exhausted=exhausted)).exclude(pk__in=tried)
    if mailbox is not None:
        rows = rows.filter(mailbox=mailbox)
    return list(rows.order_by("received_at", "pk").values_list("pk", flat=True)[:_CANDIDATES])


def _process_next(
    *, pk: int, mailbox: Mailbox | None, exhausted: bool, now: datetime | None
) -> Outcome | None:
    with transaction.atomic():
        rows = InboundMessage.objects.filter(waiting_filter(exhausted=exhausted), pk=pk)
        if mailbox is not None:
            rows = rows.filter(mailbox=mailbox)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        row = rows.select_related("mailbox").first()
        if row is None:
            return None
        return _run(row, now=now)


def _run(row: InboundMessage, *, now: datetime | None) -> Outcome:
    """Process a claimed row inside the caller's transaction."""
    # Compare-and-set: where rows cannot be locked (SQLite), a second worker that read
    # the same row finds `attempts` moved on and leaves it.
    claimed = InboundMessage.objects.filter(
        pk=row.pk, state=row.state, attempts=row.attempts
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return Outcome(row.pk, row.state, reason=_("Another worker is processing it."))
    row.attempts += 1
    try:
        with transaction.atomic():
            return _handle(row, now=now or timezone.now())
    except _WaitsError as waits:
        # Not an attempt: the message is fine, the one it answers comes first. The
        # reason is kept on the row, where `mailbox show` and the admin show it.
        InboundMessage.objects.filter(pk=row.pk).update(
            attempts=F("attempts") - 1, error=waits.reason
        )
        row.attempts -= 1
        row.error = waits.reason
        return Outcome(row.pk, row.state, reason=waits.reason, waits_for=waits.earlier)
    except Exception as error:
        logger.exception("inbound message %s: processing failed", row.pk)
        return _fail(row, error)


class _WaitsError(Exception):
    """The message answers an earlier one that is still waiting to be processed: it is
    left for later, so that it joins the request that one opens (several workers take
    messages side by side; one alone takes them oldest first and never waits)."""

    def __init__(self, earlier: int) -> None:
        self.earlier = earlier
        self.reason = _(
            "It answers message %(earlier)d, which is not processed yet; it waits for it."
        ) % {"earlier": earlier}
        super().__init__(self.reason)


def _fail(row: InboundMessage, error: Exception) -> Outcome:
    # What the failed message looked up or created was rolled back: look it up again.
    if (cache := _run_cache.get()) is not None:
        cache.clear()
    message = str(error) or type(error).__name__
    row.state = State.FAILED
    row.error = _("Attempt %(attempt)d of %(limit)d failed: %(error)s") % {
        "attempt": row.attempts,
        "limit": settings.REGLAMENT_MAIL_PROCESS_ATTEMPTS,
        "error": f"{type(error).__name__}: {message}",
    }
    row.save(update_fields=["state", "error"])
    InboundEvent(
        message=row,
        kind=InboundEvent.Kind.FAILED,
        data={"attempt": row.attempts, "error": type(error).__name__, "message": message[:1000]},
    ).save()
    return Outcome(row.pk, row.state, reason=row.error)


# ----------------------------------------------------------------------- the rules
@dataclass
class _Mail:
    """One message as the rules see it."""

    row: InboundMessage
    parsed: ParsedMessage
    sender: str
    automatic: str | None
    bounce: Bounce | None
    now: datetime


@dataclass(frozen=True, slots=True)
class _Who:
    """The sender: one known person, nobody (`unknown`) or several (`ambiguous`)."""

    user: User | None
    kind: str  # "person", "unknown", "ambiguous"
    others: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Thread:
    ticket: Ticket | None = None
    via: str = ""  # "token", "message-id", "subject"
    refused: str = ""  # why a request the message names was not used


def _handle(row: InboundMessage, *, now: datetime) -> Outcome:
    raw = storage.raw_read(row.raw_path)
    parsed = parse_message(raw, max_bytes=row.mailbox.max_bytes)
    sender = _sender_address(parsed)
    automatic = automatic_reason(parsed, loop_header=settings.REGLAMENT_MAIL_LOOP_HEADER)
    report = bounce(parsed) if not parsed.too_large else None
    if automatic is None and not sender:
        automatic = NO_SENDER
    if automatic is None and _our_address(sender):
        automatic = OWN_ADDRESS
    if automatic is None and report is not None:
        automatic = "delivery-report"
    row.sender = sender[:320]
    row.subject = parsed.subject[:_MAX_SUBJECT]
    row.html = parsed.html or ""
    row.automatic = automatic or ""
    row.reply_allowed = automatic is None
    row.processed_at = now
    row.error = "" if row.state != State.REJECTED else row.error
    mail = _Mail(row, parsed, sender, automatic, report, now)
    if row.state == State.REJECTED:
        # Kept as rejected; the outgoing step answers it (reply_allowed) with a notice.
        return _finish(mail, State.REJECTED, Result.REJECTED, row.error)
    if report is not None:
        return _bounce(mail, report)
    who = _who(sender, regulation_id=row.mailbox.regulation_id)
    thread = _thread(mail, who)
    if automatic is not None:
        return _automatic(mail, thread)
    if thread.ticket is not None:
        return _reply(mail, who, thread)
    return _new_request(mail, who, thread)


def _finish(
    mail: _Mail,
    state: str,
    outcome: str,
    reason: str,
    *,
    ticket: Ticket | None = None,
    comment_id: int | None = None,
    **data: object,
) -> Outcome:
    row = mail.row
    row.state = state
    row.outcome = outcome
    row.reason = reason
    row.ticket = ticket
    row.comment_id = comment_id
    row.save()
    InboundEvent(
        message=row,
        kind=outcome,
        created_at=mail.now,
        data={
            "ticket": ticket.number if ticket else None,
            "comment": comment_id,
            "sender": mail.sender,
            "automatic": mail.automatic,
            "reply_allowed": row.reply_allowed,
            "reason": reason,
            **data,
        },
    ).save()
    # The automatic answer (acknowledgement, instructions, too-large notice) is queued
    # in the same transaction: processed without its answer decided is impossible.
    from reglament.mailbox.outgoing import outbound_for_inbound

    outbound_for_inbound(row=row, now=mail.now)
    return Outcome(row.pk, state, outcome, ticket.number if ticket else None, reason)


def _sender_address(parsed: ParsedMessage) -> str:
    """The From address (domain.mail.sender_address: the same one authentication
    reads), or "" when there is none that is an address."""
    address = sender_address(parsed)
    if address is None:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


def _our_address(address: str) -> bool:
    """Mail from one of our own mailboxes (or their +token forms) is never answered."""
    if not address:
        return False
    local, _at, domain = address.rpartition("@")
    plain = f"{local.partition('+')[0]}@{domain}"
    cache = _run_cache.get()
    if cache is None:
        return Mailbox.objects.filter(
            Q(address__iexact=address) | Q(address__iexact=plain)
        ).exists()
    if cache.own_addresses is None:
        cache.own_addresses = frozenset(
            a.lower() for a in Mailbox.objects.values_list("address", flat=True)
        )
    return address.lower() in cache.own_addresses or plain.lower() in cache.own_addresses


# ------------------------------------------------------------------------------ who
def _who(address: str, *, regulation_id: str) -> _Who:
    """The person the address belongs to: User.email (any case) with a membership.

    People of the not-yet-identified organisations count only when nobody else has
    the address; two or more others make the sender ambiguous.
    """
    if not address:
        return _Who(None, "unknown")
    # Whether each one's organisation is a not-yet-identified one, in the same query.
    people = list(
        User.objects.filter(email__iexact=address, is_active=True, membership__isnull=False)
        .select_related("membership__organisation")
        .annotate(
            in_triage=Exists(
                TriageOrganisation.objects.filter(
                    organisation_id=OuterRef("membership__organisation_id")
                )
            )
        )
        .order_by("pk")
    )
    known = [p for p in people if not p.in_triage]
    if len(known) == 1:
        return _Who(known[0], "person")
    if len(known) > 1:
        return _Who(None, "ambiguous", tuple(p.get_username() for p in known))
    unidentified = [p for p in people if p.in_triage]
    if not unidentified:
        return _Who(None, "unknown")
    mine = TriageOrganisation.objects.filter(regulation_id=regulation_id).first()
    for person in unidentified:
        if mine is not None and person.membership.organisation_id == mine.organisation_id:
            return _Who(person, "person")
    return _Who(None, "unknown")


def _participant(user: User, ticket: Ticket) -> bool:
    """Staff, the requester, a watcher, or a customer admin of the request's organisation
    or its partner — exactly who reads the request in the portal (never anyone of a
    not-yet-identified organisation: those people are strangers to each other)."""
    profile = person_profile(user)
    if profile.staff:
        return True
    if not profile.customer or profile.organisation is None:
        return False
    if ticket.requester_id == user.pk or ticket.watchers.filter(pk=user.pk).exists():
        return True
    organisation = profile.organisation.pk
    if TriageOrganisation.objects.filter(organisation_id=organisation).exists():
        return False
    # The organisation's (or its partner's) customer admins see all its requests in
    # the portal (tickets.services.customer_may_see); a plain colleague does not, and
    # mailing a request's number must not give them more than the portal would.
    return profile.role == Membership.Role.CUSTOMER_ADMIN and organisation in (
        ticket.organisation_id,
        ticket.organisation.partner_id,
    )


# ------------------------------------------------------------------------ threading
def _vouched(mail: _Mail) -> bool:
    """Steps 2 and 3 trust the From address. With our receiving server named
    (REGLAMENT_MAIL_AUTHSERV_ID) they also need its checks to have passed; without it,
    From is taken at its word (the token of step 1 needs no such trust)."""
    if not settings.REGLAMENT_MAIL_AUTHSERV_ID:
        return True
    return sender_authenticated(mail.parsed, authserv_id=settings.REGLAMENT_MAIL_AUTHSERV_ID)


def _unverified(mail: _Mail, ticket: Ticket) -> str:
    if _vouched(mail):
        return ""
    return _(
        "The message names %(number)s, but our mail server did not verify its sender "
        "%(sender)s (no passing DMARC, DKIM or SPF), so it was filed as a new request."
    ) % {"number": ticket.number, "sender": mail.sender or _("the sender")}


def _ticket(number: str) -> Ticket | None:
    ticket = Ticket.objects.select_related("organisation").filter(number=number).first()
    seen: set[int] = set()
    # A merged duplicate continues in the request it was merged into.
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.select_related("organisation").get(pk=ticket.merged_into_id)
    return ticket


def _recipients(parsed: ParsedMessage) -> Iterable[str]:
    for address in (*parsed.to, *parsed.cc):
        yield address.address
    for name in ("Delivered-To", "X-Original-To", "Envelope-To"):
        yield from parsed.headers_named(name)


def _thread(mail: _Mail, who: _Who) -> _Thread:
    """Which request the message continues (issue 7, threading).

    1. a valid token in a recipient address or in one of our Message-IDs it answers:
       proof enough;
    2. In-Reply-To/References naming a message already filed on a request;
    3. a request number in the subject.
    2 and 3 are claims anybody can make: they count only when the sender takes part
    in that request; otherwise the message opens a new request that says why.
    """
    secret = mail_secret()
    parsed = mail.parsed
    for address in _recipients(parsed):
        number = number_from_address(address, secret=secret)
        ticket = _ticket(number) if number else None
        if ticket is not None:
            return _Thread(ticket, "token")
    for message_id in parsed.thread_ids:
        number = number_from_message_id(message_id, secret=secret)
        ticket = _ticket(number) if number else None
        if ticket is not None:
            return _Thread(ticket, "token")
    refused = ""
    keys = [
        key
        for key in (storage.message_id_key(f"<{mid}>") for mid in parsed.thread_ids)
        if key is not None
    ]
    if keys:
        earlier = _filed_earlier(mail.row, keys)
        ticket = _ticket(earlier) if earlier else None
        if ticket is not None:
            if who.user is not None and _participant(who.user, ticket) and _vouched(mail):
                return _Thread(ticket, "message-id")
            refused = _unverified(mail, ticket) or _(
                "The message answers a message of %(number)s, but %(sender)s takes no part "
                "in that request, so it was filed as a new request."
            ) % {"number": ticket.number, "sender": mail.sender or _("the sender")}
    prefixes = _number_prefixes(mail.row.mailbox)
    for number in numbers_in_subject(parsed.subject, prefixes):
        ticket = _ticket(number)
        if ticket is None:
            continue
        if who.user is not None and _participant(who.user, ticket) and _vouched(mail):
            return _Thread(ticket, "subject")
        refused = (
            refused
            or _unverified(mail, ticket)
            or _(
                "The subject names %(number)s, but %(sender)s takes no part in that request, "
                "so it was filed as a new request."
            )
            % {"number": number, "sender": mail.sender or _("the sender")}
        )
    return _Thread(refused=refused)


def _filed_earlier(row: InboundMessage, keys: Sequence[str]) -> str | None:
    """The number of the request the newest message named by `keys` was filed on.

    None when none was; but when one that arrived before the row still waits to be
    processed, _WaitsError (only earlier ones wait: two messages naming each other
    cannot both wait). One query, so that a message another worker commits meanwhile
    is seen either waiting or filed, never neither.
    """
    named = (
        InboundMessage.objects.filter(message_id_hash__in=keys)
        .exclude(pk=row.pk)
        .order_by("-received_at", "-pk")
        .values_list("pk", "ticket__number", "state", "attempts", "processed_at", "received_at")
    )
    limit: int = settings.REGLAMENT_MAIL_PROCESS_ATTEMPTS
    waiting: int | None = None
    for pk, number, state, attempts, processed_at, received_at in named:
        if number:
            return str(number)
        if (
            waiting is None
            and (received_at, pk) < (row.received_at, row.pk)
            and _still_waiting(state, attempts, processed_at, limit=limit)
        ):
            waiting = pk
    if waiting is not None:
        raise _WaitsError(waiting)
    return None


def _number_prefixes(mailbox: Mailbox) -> list[str]:
    cache = _run_cache.get()
    if cache is not None and (known := cache.prefixes.get(mailbox.regulation_id)) is not None:
        return known
    version = regulation_get_latest(mailbox.regulation_id)
    prefixes = [version.parsed().number_prefix] if version is not None else []
    if cache is not None:
        cache.prefixes[mailbox.regulation_id] = prefixes
    return prefixes


# -------------------------------------------------------------------------- bodies
def _new_text(parsed: ParsedMessage) -> str:
    """The new part of the message (quoted history and signature folded away); the
    whole text when nothing new is left; a placeholder for files without text."""
    new = split_reply(parsed.text).new.strip()
    if not new:
        new = parsed.text.strip()
    return new or _("(no text; see the attached files)")


def _uploads(parsed: ParsedMessage) -> tuple[list[ticket_services.Upload], list[str]]:
    """The attachments (inline images too) as uploads; those that cannot be stored
    (empty, over REGLAMENT_ATTACHMENT_MAX_BYTES) by name, to say so in a note."""
    limit: int = settings.REGLAMENT_ATTACHMENT_MAX_BYTES
    uploads, skipped = [], []
    for attachment in parsed.attachments:
        if not attachment.data or attachment.size > limit:
            skipped.append(f"{attachment.name} ({attachment.size} B)")
            continue
        uploads.append(
            ticket_services.Upload(
                name=attachment.name, content=attachment.data, content_type=attachment.content_type
            )
        )
    return uploads, skipped


def _skipped_note(skipped: Sequence[str]) -> str:
    if not skipped:
        return ""
    return _(
        "Files not attached (empty or over the size limit; they stay in the original "
        "message): %(files)s."
    ) % {"files": ", ".join(skipped)}


def _note(ticket: Ticket, text: str, *, now: datetime) -> int:
    """An internal note by the intake: seen by agents, resumes no clock."""
    comment = ticket_services.ticket_reply(
        ticket=ticket,
        author=intake_actor(),
        body=text,
        public=False,
        channel=Channel.EMAIL,
        now=now,
    )
    return comment.pk


# ---------------------------------------------------------------------- the outcomes
def _reply(mail: _Mail, who: _Who, thread: _Thread) -> Outcome:
    ticket = thread.ticket
    if ticket is None:
        raise ValueError("a reply needs the request it threads to")
    user = who.user
    body = _new_text(mail.parsed)
    uploads, skipped = _uploads(mail.parsed)
    if user is None or not _participant(user, ticket):
        # Only a token gets here for a stranger (2 and 3 need a participant): the message
        # belongs to the request, but its writer may not speak in it.
        text = _(
            "A message from %(sender)s, who takes no part in this request, arrived at its "
            "reply address (subject: %(subject)s). Its new text:\n\n%(body)s"
        ) % {"sender": mail.sender, "subject": mail.parsed.subject, "body": body}
        if skipped or uploads:
            text += "\n\n" + _("Its files stay in the original message: %(files)s.") % {
                "files": ", ".join(u.name for u in uploads)
                + (", " if skipped else "")
                + ", ".join(skipped)
            }
        note = _note(ticket, text, now=mail.now)
        return _finish(
            mail,
            State.PROCESSED,
            Result.RECORDED,
            _("The writer is not a participant of %(number)s; recorded as an internal note.")
            % {"number": ticket.number},
            ticket=ticket,
            comment_id=note,
            via=thread.via,
        )
    profile = person_profile(user)
    if profile.staff and not sender_authenticated(
        mail.parsed, authserv_id=settings.REGLAMENT_MAIL_AUTHSERV_ID
    ):
        # Anyone can write an agent's address in From; only our mail server's checks
        # (DMARC, aligned DKIM or SPF) make it a staff reply the customer reads.
        text = _(
            "A message From %(sender)s, a support address, that our mail server did not "
            "verify (no passing DMARC, DKIM or SPF for its domain); it was not sent to the "
            "customer. Subject: %(subject)s. Its new text:\n\n%(body)s"
        ) % {"sender": mail.sender, "subject": mail.parsed.subject, "body": body}
        note = _note(ticket, text, now=mail.now)
        return _finish(
            mail,
            State.PROCESSED,
            Result.RECORDED,
            _(
                "An unverified message in the name of staff on %(number)s; "
                "recorded as an internal note."
            )
            % {"number": ticket.number},
            ticket=ticket,
            comment_id=note,
            via=thread.via,
        )
    if not ticket.is_open and not profile.staff:
        closed = _(
            "The message answers %(number)s, which is closed; it was filed as a new request."
        ) % {"number": ticket.number}
        return _new_request(mail, who, _Thread(refused=closed))
    comment = ticket_services.ticket_reply(
        ticket=ticket,
        author=user,
        body=body,
        public=True,
        channel=Channel.EMAIL,
        uploads=uploads,
        now=mail.now,
    )
    if skipped:
        _note(ticket, _skipped_note(skipped), now=mail.now)
    reason = _("A reply on %(number)s (threaded by %(via)s).") % {
        "number": ticket.number,
        "via": thread.via,
    }
    if profile.customer and _asks_to_close(body):
        reason += " " + _close_by_mail(ticket, user, now=mail.now)
    return _finish(
        mail,
        State.PROCESSED,
        Result.REPLIED,
        reason,
        ticket=ticket,
        comment_id=comment.pk,
        via=thread.via,
        staff=profile.staff,
    )


# R3.8 by mail: a reply whose first line is one of these closes the request.
CLOSE_COMMANDS = frozenset(
    {
        "close",
        "close it",
        "close the request",
        "закрыть",
        "закройте",
        "закрыть обращение",
        "закройте обращение",
        "закройте заявку",
        "закрыть заявку",
    }
)


def _asks_to_close(body: str) -> bool:
    """Whether the new text starts with a close command ("Закрыть", "Close", "#close")."""
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return first.lower().strip("#!.,;: ").strip() in CLOSE_COMMANDS


def _close_by_mail(ticket: Ticket, user: User, *, now: datetime) -> str:
    """Close the request as its requester asked (the regulation's closing status, as in
    the portal); when the regulation or the person's role does not allow it, say so on
    the request for support to answer."""
    try:
        ticket_services.ticket_close_by_requester(
            ticket=ticket, actor=user, comment=_("Closed by the customer's e-mail."), now=now
        )
    except AppError as refused:
        _note(
            ticket,
            _("The customer asked by e-mail to close the request, but: %(why)s")
            % {"why": refused.message},
            now=now,
        )
        return _("They asked to close it; refused: %(why)s") % {"why": refused.message}
    return _("They closed it (R3.8).")


def _new_request(mail: _Mail, who: _Who, thread: _Thread) -> Outcome:
    mailbox = mail.row.mailbox
    user = who.user
    notes: list[str] = [thread.refused] if thread.refused else []
    outcome = Result.CREATED
    if user is not None and person_profile(user).staff:
        return _finish(
            mail,
            State.IGNORED,
            Result.IGNORED,
            _(
                "A message from support staff (%(sender)s) that belongs to no request; staff "
                "file requests in the desk."
            )
            % {"sender": mail.sender},
        )
    if user is None:
        if not mail.sender:
            return _finish(mail, State.IGNORED, Result.IGNORED, _("The message has no sender."))
        why = (
            _("Several people have the address %(sender)s (%(people)s).")
            % {"sender": mail.sender, "people": ", ".join(who.others)}
            if who.kind == "ambiguous"
            else _("Nobody with the address %(sender)s is known.") % {"sender": mail.sender}
        )
        if mailbox.unknown_sender == Mailbox.UnknownSender.INSTRUCTIONS:
            return _finish(
                mail,
                State.PROCESSED,
                Result.INSTRUCTIONS,
                why + " " + _("No request was opened; the sender is to get instructions."),
            )
        user = _triage_person(mail, regulation_id=mailbox.regulation_id)
        notes.insert(0, why + " " + _("Filed for triage: find out who wrote and move it."))
        outcome = Result.TRIAGE
    subject = " ".join(mail.parsed.subject.split())[:_MAX_SUBJECT] or _("(no subject)")
    uploads, skipped = _uploads(mail.parsed)
    ticket = ticket_services.ticket_create(
        actor=intake_actor(),
        requester=user,
        regulation=mailbox.regulation_id,
        subject=subject,
        description=_new_text(mail.parsed),
        channel=Channel.EMAIL,
        received_at=mail.row.received_at,
        uploads=uploads,
        now=mail.now,
    )
    if skipped:
        notes.append(_skipped_note(skipped))
    for text in notes:
        _note(ticket, text, now=mail.now)
    return _finish(
        mail,
        State.PROCESSED,
        outcome,
        " ".join(notes) or _("A new request %(number)s.") % {"number": ticket.number},
        ticket=ticket,
    )


def _automatic(mail: _Mail, thread: _Thread) -> Outcome:
    """Automatic mail opens nothing; on a request it is an internal note (no clock moves)."""
    reason = mail.automatic or ""
    if reason in (LOOP, OWN_ADDRESS):
        # Our own mail come back (copied to the mailbox, or a forwarding loop): its
        # content is on the request already; a note would only repeat it.
        return _finish(
            mail,
            State.IGNORED,
            Result.IGNORED,
            _("Our own mail (%(reason)s); nothing to record.") % {"reason": reason},
            ticket=thread.ticket,
        )
    if thread.ticket is None:
        return _finish(
            mail,
            State.IGNORED,
            Result.IGNORED,
            _("Automatic mail (%(reason)s) that belongs to no request.") % {"reason": reason},
        )
    text = _("Automatic mail (%(reason)s) from %(sender)s, subject: %(subject)s\n\n%(body)s") % {
        "reason": reason,
        "sender": mail.sender or "—",
        "subject": mail.parsed.subject,
        "body": _new_text(mail.parsed),
    }
    comment = _note(thread.ticket, text, now=mail.now)
    return _finish(
        mail,
        State.PROCESSED,
        Result.RECORDED,
        _("Automatic mail (%(reason)s) recorded on %(number)s; its clocks were not touched.")
        % {"reason": reason, "number": thread.ticket.number},
        ticket=thread.ticket,
        comment_id=comment,
        via=thread.via,
    )


def _bounce(mail: _Mail, report: Bounce) -> Outcome:
    """A delivery report: the failed addresses are marked, the request (if it names one)
    gets an internal note; no request is ever opened."""
    for recipient in report.recipients:
        if recipient.failed:
            _address_failed(
                recipient.address,
                status=recipient.status,
                diagnostic=recipient.diagnostic,
                mail=mail,
            )
    ticket = _bounced_ticket(mail, report)
    lines = [
        f"{r.address}: {r.action or '?'} {r.status}"
        + (f" ({r.diagnostic})" if r.diagnostic else "")
        for r in report.recipients
    ]
    reason = _("Delivery report: %(lines)s.") % {"lines": "; ".join(lines)}
    if ticket is None:
        return _finish(
            mail,
            State.PROCESSED,
            Result.BOUNCE,
            reason + " " + _("It names no request."),
            failed=list(report.failed),
        )
    text = _("Mail about this request could not be delivered:\n%(lines)s") % {
        "lines": "\n".join(lines)
    }
    comment = _note(ticket, text, now=mail.now)
    return _finish(
        mail,
        State.PROCESSED,
        Result.BOUNCE,
        reason,
        ticket=ticket,
        comment_id=comment,
        failed=list(report.failed),
    )


def _bounced_ticket(mail: _Mail, report: Bounce) -> Ticket | None:
    secret = mail_secret()
    if report.original_message_id:
        number = number_from_message_id(report.original_message_id, secret=secret)
        if number and (ticket := _ticket(number)) is not None:
            return ticket
        key = storage.message_id_key(f"<{report.original_message_id}>")
        earlier = (
            InboundMessage.objects.filter(message_id_hash=key, ticket__isnull=False)
            .values_list("ticket__number", flat=True)
            .first()
        )
        if earlier and (ticket := _ticket(earlier)) is not None:
            return ticket
    for address in _recipients(mail.parsed):
        number = number_from_address(address, secret=secret)
        if number and (ticket := _ticket(number)) is not None:
            return ticket
    return None


def _address_failed(address: str, *, status: str, diagnostic: str, mail: _Mail) -> None:
    address = address.strip().lower()[:320]
    failing = MailAddressFailure.objects.select_for_update().filter(address=address)
    failure = failing.first()
    if failure is None:
        try:
            # A savepoint: another worker may be recording the same address right now.
            with transaction.atomic():
                MailAddressFailure(
                    address=address,
                    first_failed_at=mail.now,
                    last_failed_at=mail.now,
                    count=1,
                    last_status=status[:32],
                    last_diagnostic=diagnostic,
                    last_message=mail.row,
                ).save()
            return
        except IntegrityError:
            failure = failing.get()
    failure.last_failed_at = max(failure.last_failed_at, mail.now)
    failure.count += 1
    failure.last_status = status[:32]
    failure.last_diagnostic = diagnostic
    failure.last_message = mail.row
    failure.save()


# ------------------------------------------------------- the intake's own accounts
def intake_actor() -> User:
    """The system principal the intake registers requests and writes notes as.

    An inactive superuser with no usable password: nobody can sign in as it, and
    it may register a request on a customer's behalf with the instant the mail
    arrived, as an agent may. Created on first use.
    """
    cache = _run_cache.get()
    if cache is not None and cache.actor is not None:
        return cache.actor
    # get_or_create: two workers creating it at once both end with the same row.
    # With its (absent) membership read too, so person_profile asks nothing more.
    user, created = User.objects.select_related("membership").get_or_create(
        username=INTAKE_USERNAME,
        defaults={
            "first_name": _("Mail intake"),
            "is_active": False,
            "is_staff": False,
            "is_superuser": True,
            "password": make_password(None),  # unusable
        },
    )
    if cache is not None and not created:
        # Kept only when it existed before: one created now is not committed yet.
        cache.actor = user
    return user


def triage_organisation(*, regulation_id: str, now: datetime) -> Organisation:
    """The regulation's customer "Не идентифицировано / Not yet identified", with a
    contract on the first tariff of the regulation's newest version; created on first use
    through the accounts and regulations services."""
    link = (
        TriageOrganisation.objects.select_related("organisation")
        .filter(regulation_id=regulation_id)
        .first()
    )
    if link is not None:
        organisation = link.organisation
    else:
        organisation = accounts_services.organisation_create(
            name=f"{TRIAGE_NAME} ({regulation_id})", kind=Organisation.Kind.CUSTOMER
        )
        TriageOrganisation(regulation_id=regulation_id, organisation=organisation).save()
    if contract_for_organisation(organisation, at=now, regulation_id=regulation_id) is None:
        version = regulation_get_latest(regulation_id)
        tariff = version.tariffs.order_by("order").first() if version is not None else None
        if version is None or tariff is None:
            raise ValueError(f"regulation {regulation_id!r} has no version with a tariff")
        regulation_services.contract_create(
            organisation=organisation,
            version=version,
            tariff=tariff.code,
            # A day early: the contract is judged in the regulation's time zone.
            valid_from=(now - timedelta(days=1)).date(),
        )
    return organisation


def _triage_person(mail: _Mail, *, regulation_id: str) -> User:
    """The sender as a requester of the not-yet-identified organisation (no usable
    password: they sign in only once an agent has found out who they are)."""
    organisation = triage_organisation(regulation_id=regulation_id, now=mail.now)
    existing = (
        User.objects.filter(email__iexact=mail.sender, membership__organisation=organisation)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing
    username = mail.sender[:150]
    suffix = 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"{mail.sender[:140]}-{suffix}"
    name = mail.parsed.sender.name if mail.parsed.sender else ""
    return accounts_services.person_create(
        username=username,
        password=None,
        organisation=organisation,
        role=Membership.Role.REQUESTER,
        email=mail.sender,
        first_name=name[:150],
        actor=intake_actor(),
    )


def _number(row: InboundMessage) -> str | None:
    return row.ticket.number if row.ticket_id and row.ticket else None
