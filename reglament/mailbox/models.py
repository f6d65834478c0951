"""Mailboxes and the raw messages they deliver.

A message is stored first (its bytes under REGLAMENT_MAIL_DIR, then a row),
and only then acknowledged to its source (flagged \\Seen or moved on IMAP, 250
on SMTP). Two keys make re-delivery harmless: (mailbox, UIDVALIDITY, UID) for
an IMAP message fetched again, and the hash of the Message-ID across every
mailbox. A message whose Message-ID is already stored is kept as a row with
state `duplicate` pointing at the first one (`duplicate_of`); only rows in state
`stored` go on to become requests, replies or notes (reglament.mailbox.intake),
which records on the row what became of it (`outcome`, `reason`, `ticket`,
`comment`, `reply_allowed`) and an `InboundEvent`. See docs/mail.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reglament.core.models import BaseModel, EventModel


def default_max_bytes() -> int:
    limit: int = settings.REGLAMENT_MAIL_MAX_BYTES
    return limit


class Mailbox(BaseModel):
    """One address whose mail becomes requests under one regulation."""

    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS (port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")
        NONE = "none", _("none (loopback only)")

    class Auth(models.TextChoices):
        PASSWORD = "password", _("password")
        XOAUTH2 = "xoauth2", _("OAuth 2.0 token (XOAUTH2)")

    class UnknownSender(models.TextChoices):
        TRIAGE = "triage", _("open a request for triage")
        INSTRUCTIONS = "instructions", _("reply with instructions")

    name = models.SlugField(_("name"), max_length=64, unique=True)
    address = models.EmailField(_("address"))
    regulation = models.ForeignKey(
        "regulations.Regulation",
        verbose_name=_("regulation"),
        on_delete=models.PROTECT,
        related_name="mailboxes",
    )
    imap_host = models.CharField(
        _("IMAP host"),
        max_length=255,
        blank=True,
        help_text=_("Empty for a mailbox that only receives through the SMTP listener."),
    )
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    security = models.CharField(
        _("security"), max_length=16, choices=Security.choices, default=Security.SSL
    )
    username = models.CharField(_("username"), max_length=255, blank=True)
    auth = models.CharField(_("authentication"), max_length=16, choices=Auth.choices)
    # Kept as given: the IMAP server needs it back. Never shown in full (see selectors).
    secret = models.TextField(_("password or token"), blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    processed_folder = models.CharField(
        _("processed folder"),
        max_length=255,
        blank=True,
        help_text=_("Stored messages are moved here; when empty they are flagged as seen."),
    )
    smtp_listen = models.CharField(
        _("SMTP listener"),
        max_length=300,
        blank=True,
        help_text=_(
            "HOST:PORT on which `reglament worker` accepts this mailbox's mail from your "
            "MTA, e.g. 127.0.0.1:2525; empty for none. No authentication: a loopback or "
            "private address only your MTA reaches."
        ),
    )
    unknown_sender = models.CharField(
        _("unknown senders"),
        max_length=16,
        choices=UnknownSender.choices,
        default=UnknownSender.TRIAGE,
    )
    max_bytes = models.PositiveBigIntegerField(
        _("largest message, bytes"), default=default_max_bytes
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    # Where polling stands: the folder's UIDVALIDITY and the highest UID stored
    # and acknowledged under it. A new UIDVALIDITY starts over from UID 1.
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    last_uid = models.BigIntegerField(_("last UID"), default=0)
    # One poll at a time: a worker claims the mailbox (SKIP LOCKED) and holds it
    # until this instant; a worker killed mid-poll lets it lapse.
    poll_lease_until = models.DateTimeField(_("polled until"), null=True, blank=True)
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_poll_ok = models.BooleanField(_("last poll succeeded"), null=True, blank=True)
    last_poll_error = models.TextField(_("last poll error"), blank=True)
    last_poll_stored = models.PositiveIntegerField(_("stored by the last poll"), default=0)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ("name",)
        constraints = (
            # One listener per address: two saves at once cannot both take it.
            models.UniqueConstraint(
                fields=["smtp_listen"],
                condition=~models.Q(smtp_listen=""),
                name="mailbox_smtp_listen_unique",
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class InboundMessage(models.Model):
    """One message as it arrived: where from, where its bytes are, what became of it."""

    class State(models.TextChoices):
        STORED = "stored", _("stored, waiting to be processed")
        PROCESSED = "processed", _("processed")
        DUPLICATE = "duplicate", _("duplicate of a stored message")
        REJECTED = "rejected", _("rejected")
        FAILED = "failed", _("processing failed")
        IGNORED = "ignored", _("ignored")

    class Outcome(models.TextChoices):
        """What processing made of the message (reglament.mailbox.intake)."""

        CREATED = "created", _("a request was opened")
        TRIAGE = "triage", _("a request was opened for triage")
        REPLIED = "replied", _("a reply was added to a request")
        RECORDED = "recorded", _("recorded on a request as an internal note")
        BOUNCE = "bounce", _("a delivery failure report")
        IGNORED = "ignored", _("ignored")
        INSTRUCTIONS = "instructions", _("unknown sender: to be answered with instructions")
        REJECTED = "rejected", _("too large: to be answered with a notice")

    class Channel(models.TextChoices):
        IMAP = "imap", _("IMAP")
        SMTP = "smtp", _("SMTP")

    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), on_delete=models.PROTECT, related_name="messages"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # The IMAP folder's UIDVALIDITY and the message's UID; NULL for SMTP.
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    uid = models.BigIntegerField(_("UID"), null=True, blank=True)
    message_id = models.TextField(_("Message-ID"), blank=True)
    # SHA-256 of the normalised Message-ID; NULL (not "") when the message has
    # none, so that messages without one never collide on the unique key.
    message_id_hash = models.CharField(  # noqa: DJ001
        _("Message-ID hash"), max_length=64, null=True, blank=True, db_index=True
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    # Relative to REGLAMENT_MAIL_DIR; the file is named by the SHA-256 of its bytes.
    raw_path = models.CharField(_("raw file"), max_length=255)
    size = models.PositiveBigIntegerField(_("size, bytes"))
    sha256 = models.CharField(_("SHA-256 of the stored bytes"), max_length=64)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("processing attempts"), default=0)

    # Filled by processing (reglament.mailbox.intake); empty until then.
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    reason = models.TextField(
        _("reason"), blank=True, help_text=_("Why the message was handled as it was.")
    )
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    # The HTML body as nh3 left it (no scripts, handlers, forms; remote images
    # turned into placeholders); empty for plain-text mail. The raw file stays.
    html = models.TextField(_("sanitised HTML"), blank=True)
    # Why no automatic reply may go to this message (RFC 3834: auto-submitted,
    # list, bounce, our own loop header, an automatic sender), empty when none.
    automatic = models.CharField(_("automatic mail"), max_length=32, blank=True)
    # Whether the outgoing step may answer automatically (acknowledgement, the
    # instructions, the too-large notice). None until processed.
    reply_allowed = models.BooleanField(_("automatic reply allowed"), null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    comment = models.ForeignKey(
        "tickets.Comment",
        verbose_name=_("comment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ("-received_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["mailbox", "uidvalidity", "uid"], name="mailbox_inbound_imap_uid"
            ),
            # One first arrival per Message-ID across all mailboxes; later ones
            # are rows with duplicate_of set.
            models.UniqueConstraint(
                fields=["message_id_hash"],
                condition=Q(duplicate_of__isnull=True),
                name="mailbox_inbound_message_id",
            ),
        )
        indexes = (
            # The later step claims what waits to be processed.
            models.Index(
                fields=["received_at"],
                condition=Q(state="stored"),
                name="mailbox_inbound_waiting",
            ),
            # Failed rows retried, rejected rows not yet looked at.
            models.Index(
                fields=["received_at"],
                condition=Q(state="failed") | Q(state="rejected", processed_at__isnull=True),
                name="mailbox_inbound_retry",
            ),
        )

    def __str__(self) -> str:
        return f"{self.mailbox_id}:{self.pk} {self.message_id or self.sha256[:12]}"


class MailboxEvent(EventModel):
    """What happened to a mailbox's settings (never the secret itself)."""

    class Kind(models.TextChoices):
        ADDED = "added", _("mailbox added")
        UPDATED = "updated", _("mailbox changed")

    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)

    class Meta(EventModel.Meta):
        verbose_name = _("mailbox event")
        verbose_name_plural = _("mailbox events")


class InboundEvent(EventModel):
    """What processing did with one inbound message (written in its transaction)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("request opened")
        TRIAGE = "triage", _("request opened for triage")
        REPLIED = "replied", _("reply added")
        RECORDED = "recorded", _("recorded on a request")
        BOUNCE = "bounce", _("delivery failure recorded")
        IGNORED = "ignored", _("ignored")
        INSTRUCTIONS = "instructions", _("unknown sender, instructions due")
        REJECTED = "rejected", _("too large, notice due")
        FAILED = "failed", _("processing failed")

    message = models.ForeignKey(
        InboundMessage,
        verbose_name=_("inbound message"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)

    class Meta(EventModel.Meta):
        verbose_name = _("inbound message event")
        verbose_name_plural = _("inbound message events")


class MailAddressFailure(models.Model):
    """An address mail to which failed (a delivery report said so): outgoing mail skips it."""

    address = models.CharField(_("address"), max_length=320, unique=True)
    first_failed_at = models.DateTimeField(_("first failed at"))
    last_failed_at = models.DateTimeField(_("last failed at"))
    count = models.PositiveIntegerField(_("failures"), default=1)
    last_status = models.CharField(_("last status"), max_length=32, blank=True)
    last_diagnostic = models.TextField(_("last diagnostic"), blank=True)
    last_message = models.ForeignKey(
        InboundMessage,
        verbose_name=_("last report"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("failing mail address")
        verbose_name_plural = _("failing mail addresses")
        ordering = ("-last_failed_at",)

    def __str__(self) -> str:
        return f"{self.address} ({self.count}× {self.last_status})"


class TriageOrganisation(models.Model):
    """The per-regulation customer "Не идентифицировано / Not yet identified" that holds
    requests from senders nobody recognised, until an agent finds out who they are."""

    regulation = models.OneToOneField(
        "regulations.Regulation",
        verbose_name=_("regulation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation = models.OneToOneField(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("organisation for unidentified senders")
        verbose_name_plural = _("organisations for unidentified senders")

    def __str__(self) -> str:
        return f"{self.regulation_id}: {self.organisation_id}"


class OutboundMessage(models.Model):
    """One message we send (or decided not to send) to one address.

    Rendered when it is queued, so every attempt sends the same bytes; the row is
    also the send timer (`next_attempt_at` on queued rows, a partial index) and the
    record staff read when mail did not go out (`state`, `skip_reason`,
    `last_error`). Written only by reglament.mailbox.outgoing.
    """

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", _("acknowledgement of a new request")
        REPLY = "reply", _("public reply from support")
        CLARIFICATION = "clarification", _("request for clarification")
        CLOSURE = "closure", _("closure notice")
        INSTRUCTIONS = "instructions", _("instructions to an unknown sender")
        TOO_LARGE = "too_large", _("notice of a message too large")

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )
    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )
    # What it answers: the inbound message (acknowledgement, instructions, too-large
    # notice) or the request's event (reply, clarification, closure, portal acknowledgement).
    inbound = models.ForeignKey(
        InboundMessage,
        verbose_name=_("answers"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answers",
    )
    event = models.ForeignKey(
        "tickets.TicketEvent",
        verbose_name=_("request event"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_address = models.CharField(_("to"), max_length=320, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    from_address = models.CharField(_("from"), max_length=320, blank=True)
    reply_to = models.CharField(_("reply to"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=400, blank=True)
    body_text = models.TextField(_("plain text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    # Ours, without angle brackets; In-Reply-To and References as sent (with brackets).
    message_id = models.CharField(_("Message-ID"), max_length=400, blank=True, db_index=True)
    in_reply_to = models.TextField(_("In-Reply-To"), blank=True)
    references = models.TextField(_("References"), blank=True)
    auto_submitted = models.CharField(_("Auto-Submitted"), max_length=32, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    skip_reason = models.TextField(_("why not sent"), blank=True)
    attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ("created_at", "id")
        constraints = (
            # One answer of each kind per inbound message, one per event and address:
            # a second worker, or a rescan, finds the row and sends nothing twice.
            models.UniqueConstraint(
                fields=["inbound", "kind"],
                condition=Q(inbound__isnull=False),
                name="mailbox_outbound_per_inbound",
            ),
            models.UniqueConstraint(
                fields=["event", "kind", "to_address"],
                condition=Q(event__isnull=False),
                name="mailbox_outbound_per_event",
            ),
        )
        indexes = (
            # The send timer: queued rows by when they are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="queued"),
                name="mailbox_outbound_due",
            ),
            models.Index(fields=["ticket", "created_at"], name="mailbox_outbound_ticket"),
            models.Index(fields=["to_address", "created_at"], name="mailbox_outbound_to"),
        )

    def __str__(self) -> str:
        return f"{self.kind} → {self.to_address or '—'} ({self.state})"


class OutboundCursor(models.Model):
    """How far the outgoing step has read a log: the request events (a row, so it
    survives restarts). Events at or below `floor_event_id` happened before outgoing
    mail existed and are never mailed about."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    last_event_id = models.BigIntegerField(_("last event read"), default=0)
    floor_event_id = models.BigIntegerField(_("first event to read after"), default=0)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing mail cursor")
        verbose_name_plural = _("outgoing mail cursors")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_event_id}"
