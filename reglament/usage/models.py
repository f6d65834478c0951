"""Usage accounting (R4.5): time entries on requests, prepaid allowances of contracts.

Time entries are never deleted or edited: a mistake is voided (who, when, why)
and entered anew, and both are request events. Allowances are append-only rows:
setting one adds a row that applies from a period on. Written only by
reglament.usage.services; the rules are in reglament.domain.usage and docs/usage.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reglament.core.models import AppendOnlyModel
from reglament.regulations.models import Contract
from reglament.tickets.models import Ticket, TicketEvent

# One entry is at most a working day and a bit: longer work is logged as several entries,
# so a typo (600 for 60) is less likely to pass unnoticed.
MAX_ENTRY_MINUTES = 24 * 60


class Activity(models.TextChoices):
    CONSULTATION = "consultation", _("consultation")
    DIAGNOSIS = "diagnosis", _("diagnosis")
    REMOTE_WORK = "remote-work", _("remote work in the customer's system")
    DEVELOPMENT = "development", _("development")
    OTHER = "other", _("other")


class TimeEntry(models.Model):
    """Minutes an agent worked on a request, performed at an instant; voided, never edited."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), on_delete=models.PROTECT, related_name="time_entries"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    minutes = models.PositiveIntegerField(_("minutes"))
    activity = models.CharField(_("activity"), max_length=32, choices=Activity.choices)
    billable = models.BooleanField(_("billable"), default=True)
    note = models.TextField(_("note"), blank=True)
    performed_at = models.DateTimeField(_("performed at"))
    created_at = models.DateTimeField(_("recorded at"))
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    void_reason = models.TextField(_("reason for voiding"), blank=True)

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ("performed_at", "id")
        indexes = (
            models.Index(fields=("ticket", "performed_at"), name="time_entry_by_ticket"),
            models.Index(
                fields=("performed_at",),
                condition=Q(voided_at__isnull=True),
                name="time_entry_counted",
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=MAX_ENTRY_MINUTES),
                name="time_entry_minutes_1_to_1440",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, voided_by__isnull=True)
                | Q(voided_at__isnull=False, voided_by__isnull=False),
                name="time_entry_voided_with_who",
            ),
        )

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.minutes} min @ {self.performed_at.isoformat()}"

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


class AllowanceUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    REQUESTS = "requests", _("requests")
    NONE = "none", _("no allowance")


class Allowance(AppendOnlyModel):
    """A contract's prepaid allowance per period, from a period on (until a later row)."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="allowances"
    )
    unit = models.CharField(_("unit"), max_length=16, choices=AllowanceUnit.choices)
    amount = models.DecimalField(
        _("amount per period"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    valid_from = models.DateField(_("from the period starting"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when set from the server's shell."),
    )
    created_at = models.DateTimeField(_("set at"))

    class Meta:
        verbose_name = _("prepaid allowance")
        verbose_name_plural = _("prepaid allowances")
        ordering = ("contract", "valid_from", "id")
        indexes = (models.Index(fields=("contract", "valid_from"), name="allowance_by_contract"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(unit="none", amount__isnull=True)
                | Q(unit__in=["hours", "requests"], amount__gt=0),
                name="allowance_amount_positive_unless_none",
            ),
        )

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.amount} {self.unit} from {self.valid_from:%Y-%m}"


class AllowanceCrossing(AppendOnlyModel):
    """That a contract's usage went over its allowance in a period: recorded once."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("period"), max_length=7)  # YYYY-MM
    event = models.OneToOneField(
        TicketEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("allowance exceeded")
        verbose_name_plural = _("allowances exceeded")
        constraints = (
            models.UniqueConstraint(
                fields=("contract", "period"), name="allowance_crossing_once_per_period"
            ),
        )

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.period}"
