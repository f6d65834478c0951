"""Requests (tickets): the row people see, its conversation, files and event log.

The ``Ticket`` row holds the request's current facts. Every change to it is
also an append-only ``TicketEvent`` written in the same transaction; clocks
(reglament.sla) are computed from those events, never from the row's history
in memory. Written only by reglament.tickets.services.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reglament.accounts.models import Organisation
from reglament.core.models import AppendOnlyModel, BaseModel, EventModel
from reglament.regulations.models import Contract, RegulationVersion


class Channel(models.TextChoices):
    PORTAL = "portal", _("portal")
    EMAIL = "email", _("email")
    PHONE = "phone", _("phone")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    API = "api", _("API")
    MONITORING = "monitoring", _("monitoring")


class TicketNumberCounter(models.Model):
    """The last number given under a prefix in a year: `CERA-2026-000123`."""

    prefix = models.CharField(_("prefix"), max_length=32)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("request number counter")
        verbose_name_plural = _("request number counters")
        constraints = (
            models.UniqueConstraint(fields=("prefix", "year"), name="ticket_counter_unique"),
        )

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class Ticket(BaseModel):
    """A request for support, under one contract (and so one regulation version)."""

    number = models.CharField(_("number"), max_length=48, unique=True)
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="tickets"
    )
    # The contract's version when the request was registered or its contract changed:
    # the regulation whose statuses and targets this request follows.
    version = models.ForeignKey(
        RegulationVersion,
        verbose_name=_("regulation version"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="tickets",
        help_text=_("The customer the request is for (a partner's client, R2.1)."),
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="requested_tickets",
    )
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    type = models.CharField(_("type"), max_length=64, blank=True)
    priority = models.CharField(_("priority"), max_length=16)
    # R3.1: the answers the priority was derived from, when it was.
    impact = models.CharField(_("impact"), max_length=64, blank=True)
    workaround = models.CharField(_("workaround"), max_length=64, blank=True)
    category = models.CharField(_("category"), max_length=64, blank=True)
    # R1.1, R4.1: the service of the regulation's catalogue asked for, when one is named.
    service = models.CharField(_("service"), max_length=64, blank=True)
    line = models.PositiveSmallIntegerField(_("support line"), default=1)
    status = models.CharField(_("status"), max_length=64)
    resolution = models.CharField(_("resolution"), max_length=64, blank=True)
    is_open = models.BooleanField(_("open"), default=True)
    out_of_scope = models.CharField(
        _("out of scope"),
        max_length=64,
        blank=True,
        help_text=_("The regulation's out-of-scope item (R1.7); empty when in scope."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("watchers"),
        blank=True,
        related_name="watched_tickets",
    )
    received_at = models.DateTimeField(_("received at"))
    registered_at = models.DateTimeField(_("registered at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # R1.6, the defect workflow.
    defect_confirmed_at = models.DateTimeField(_("defect confirmed at"), null=True, blank=True)
    development_reference = models.CharField(_("development reference"), max_length=200, blank=True)
    fix_promised_on = models.DateField(_("fix promised for"), null=True, blank=True)
    workaround_provided_at = models.DateTimeField(
        _("workaround provided at"), null=True, blank=True
    )
    service_restored_at = models.DateTimeField(_("service restored at"), null=True, blank=True)
    fix_delivered_at = models.DateTimeField(_("fix delivered at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged",
        help_text=_("A duplicate is closed and continues in this request."),
    )
    # Kept by reglament.sla from the clocks, for the queue: the earliest due
    # instant of a running clock, and whether any clock is breached / at risk.
    next_due_at = models.DateTimeField(_("next due at"), null=True, blank=True)
    breached = models.BooleanField(_("breached"), default=False)
    at_risk = models.BooleanField(_("at risk"), default=False)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ("-registered_at", "-id")
        indexes = (
            # The agent queue: open requests of a line, most urgent first.
            models.Index(
                fields=("line", "next_due_at", "id"),
                condition=Q(is_open=True),
                name="ticket_open_queue",
            ),
            models.Index(
                fields=("next_due_at", "id"),
                condition=Q(is_open=True),
                name="ticket_open_by_due",
            ),
            models.Index(fields=("organisation", "-registered_at"), name="ticket_by_organisation"),
        )
        constraints = (
            models.CheckConstraint(condition=Q(line__in=[1, 2, 3]), name="ticket_line_1_to_3"),
            models.CheckConstraint(
                condition=Q(registered_at__gte=models.F("received_at")),
                name="ticket_registered_after_received",
            ),
        )

    def __str__(self) -> str:
        return self.number


class Comment(AppendOnlyModel):
    """A public reply or an internal note; notes never reach customers."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), on_delete=models.PROTECT, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    public = models.BooleanField(_("public"))
    body = models.TextField(_("text"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.ticket_id} @ {self.created_at.isoformat()}"


class Attachment(AppendOnlyModel):
    """A file on a request, stored under REGLAMENT_ATTACHMENTS_DIR by content digest."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), on_delete=models.PROTECT, related_name="attachments"
    )
    comment = models.ForeignKey(
        Comment,
        verbose_name=_("comment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=127)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.name


class TicketEvent(EventModel):
    """Everything that happened to a request: who, when, what, old → new.

    ``public`` events are shown to the customer; internal notes and staff-only
    changes are not.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("registered")
        RECEIVED_CORRECTED = "received_corrected", _("arrival time corrected")
        CHANGED = "changed", _("changed")
        STATUS_CHANGED = "status_changed", _("status changed")
        ESCALATED = "escalated", _("line changed")
        REPLIED = "replied", _("public reply")
        NOTED = "noted", _("internal note")
        ATTACHED = "attached", _("file attached")
        DEFECT_CONFIRMED = "defect_confirmed", _("defect confirmed")
        DEVELOPMENT_RECORDED = "development_recorded", _("development reference recorded")
        WORKAROUND_PROVIDED = "workaround_provided", _("workaround provided")
        SERVICE_RESTORED = "service_restored", _("service restored")
        FIX_DELIVERED = "fix_delivered", _("fix delivered")
        MERGED = "merged", _("merged into another request")
        MERGED_FROM = "merged_from", _("a duplicate was merged in")
        TIME_LOGGED = "time_logged", _("time recorded")
        TIME_VOIDED = "time_voided", _("time entry cancelled")
        ALLOWANCE_EXCEEDED = "allowance_exceeded", _("prepaid allowance used up")
        PAID_WORK_PROPOSED = "paid_work_proposed", _("paid work proposed")
        PAID_WORK_APPROVED = "paid_work_approved", _("paid work approved")
        PAID_WORK_DECLINED = "paid_work_declined", _("paid work declined")
        PAID_WORK_WITHDRAWN = "paid_work_withdrawn", _("paid work estimate withdrawn")
        CLOCK_WARNING = "clock_warning", _("deadline approaching")
        CLOCK_BREACHED = "clock_breached", _("deadline breached")
        MAIL_FAILED = "mail_failed", _("mail could not be sent")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), on_delete=models.PROTECT, related_name="events"
    )
    public = models.BooleanField(_("visible to the customer"), default=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ("created_at", "id")
        indexes = (models.Index(fields=("ticket", "created_at", "id"), name="ticket_event_log"),)

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()} @ {self.created_at.isoformat()}"
