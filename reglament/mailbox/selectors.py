"""Reads of the mailbox app."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from reglament.domain.mail import ParsedMessage, parse_message, sender_authenticated
from reglament.mailbox import storage
from reglament.mailbox.errors import MailboxNotFoundError
from reglament.mailbox.models import (
    InboundMessage,
    MailAddressFailure,
    Mailbox,
    OutboundMessage,
)


def mailbox_get(*, name: str) -> Mailbox:
    mailbox = Mailbox.objects.filter(name=name.strip()).first()
    if mailbox is None:
        raise MailboxNotFoundError(
            _("There is no mailbox %(name)r; see the mailboxes with 'reglament mailbox list'.")
            % {"name": name},
            details={"name": name},
        )
    return mailbox


def mailbox_list() -> QuerySet[Mailbox]:
    return Mailbox.objects.select_related("regulation").order_by("name")


def secret_masked(secret: str) -> str:
    """How a stored password or token is shown: never in full, only whether there is one."""
    if not secret:
        return _("(none)")
    return _("set, %(count)d characters") % {"count": len(secret)}


def inbound_list(*, mailbox: Mailbox, limit: int = 20) -> list[InboundMessage]:
    """The mailbox's latest messages, newest first."""
    return list(
        InboundMessage.objects.filter(mailbox=mailbox).order_by("-received_at", "-id")[:limit]
    )


def inbound_counts(*, mailbox: Mailbox) -> dict[str, int]:
    """How many of the mailbox's messages are in each state."""
    counts = dict.fromkeys(InboundMessage.State.values, 0)
    for state in InboundMessage.objects.filter(mailbox=mailbox).values_list("state", flat=True):
        counts[state] += 1
    return counts


def address_failing(address: str) -> bool:
    """Whether a delivery report said mail to `address` fails: outgoing mail skips it."""
    return MailAddressFailure.objects.filter(address=address.strip().lower()).exists()


def inbound_for_ticket(*, ticket_id: int) -> list[InboundMessage]:
    """The messages filed on a request, oldest first: their raw files are the originals
    of its e-mail replies (the comments hold only the new part)."""
    return list(InboundMessage.objects.filter(ticket_id=ticket_id).order_by("received_at", "pk"))


@dataclass(frozen=True)
class Original:
    """A message filed on a request, read back from its raw file: what staff see of it.
    Parsed only when asked (the .eml download needs only the bytes)."""

    row: InboundMessage
    raw: bytes

    @cached_property
    def parsed(self) -> ParsedMessage:
        return parse_message(self.raw, max_bytes=self.row.mailbox.max_bytes)

    @cached_property
    def verified(self) -> bool | None:
        """Our receiving server's checks (REGLAMENT_MAIL_AUTHSERV_ID) passed for the
        sender; None when no server is named, so nothing was checked."""
        authserv: str = settings.REGLAMENT_MAIL_AUTHSERV_ID
        return sender_authenticated(self.parsed, authserv_id=authserv) if authserv else None

    @cached_property
    def files(self) -> list[tuple[str, str, int, bool]]:
        """(name, content type, size, shown inline) of each attachment."""
        inline = set(self.parsed.inline_images)
        return [
            (a.name, a.content_type, a.size, a.content_id in inline)
            for a in self.parsed.attachments
        ]


def inbound_original(*, ticket_id: int, message_id: int) -> Original | None:
    """Message `message_id` of request `ticket_id` with its raw original, or None when
    the request has no such message (or its raw file is gone)."""
    row = (
        InboundMessage.objects.select_related("mailbox")
        .filter(pk=message_id, ticket_id=ticket_id)
        .first()
    )
    if row is None:
        return None
    try:
        raw = storage.raw_read(row.raw_path)
    except OSError:
        return None
    return Original(row=row, raw=raw)


def inbound_replies_due() -> QuerySet[InboundMessage]:
    """Processed messages the outgoing step may answer automatically: acknowledgements
    (created, triage), instructions to unknown senders, notices of rejected mail."""
    return InboundMessage.objects.filter(
        reply_allowed=True,
        outcome__in=[
            InboundMessage.Outcome.CREATED,
            InboundMessage.Outcome.TRIAGE,
            InboundMessage.Outcome.INSTRUCTIONS,
            InboundMessage.Outcome.REJECTED,
        ],
    ).order_by("received_at", "pk")


def outbound_for_ticket(*, ticket_id: int) -> list[OutboundMessage]:
    """The mail about a request, oldest first, whatever became of it: sent, still queued
    (with its attempts and last error), failed for good, or skipped with the reason."""
    return list(
        OutboundMessage.objects.filter(ticket_id=ticket_id)
        .select_related("recipient")
        .order_by("created_at", "pk")
    )


def outbound_failed(*, ticket_id: int | None = None) -> QuerySet[OutboundMessage]:
    """Messages that could not be sent after their last attempt (newest first)."""
    rows = OutboundMessage.objects.filter(state=OutboundMessage.State.FAILED)
    if ticket_id is not None:
        rows = rows.filter(ticket_id=ticket_id)
    return rows.order_by("-created_at", "-pk")
