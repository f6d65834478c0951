"""Reads of the mailbox app."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

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
