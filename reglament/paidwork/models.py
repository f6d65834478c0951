"""Paid work (R4.6, R4.1): an estimate the customer approves before the work is done.

An ``Estimate`` is an offer: scope, hours × rate = total, valid until a date.
Once proposed its terms never change — a different offer is a new estimate
(the open one withdrawn first), so what the customer approved is exactly what
was offered. Only its state moves: proposed → approved | declined | withdrawn |
expired. A proposal whose ``valid_until`` has passed reads as expired at once
(``state_on``) and is stored so by the expiry sweep (services.estimates_expire).
Every move is also a ``TicketEvent`` of the request, written in the same
transaction by reglament.paidwork.services, the only writer of this table.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reglament.core.models import BaseModel
from reglament.tickets.models import Ticket


class Estimate(BaseModel):
    """One offer of paid work on a request, numbered 1, 2, … within the request."""

    class Reason(models.TextChoices):
        AFTER_TARGET = "after_target", _("the tariff's maximum time has passed (R4.6)")
        SERVICE_NOT_INCLUDED = "service_not_included", _("the tariff does not include the service")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("awaiting approval")
        APPROVED = "approved", _("approved")
        DECLINED = "declined", _("declined")
        WITHDRAWN = "withdrawn", _("withdrawn")
        # Read at once after valid_until (see `state_on`), stored by the expiry sweep.
        EXPIRED = "expired", _("expired")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), on_delete=models.PROTECT, related_name="estimates"
    )
    number = models.PositiveSmallIntegerField(_("number within the request"))
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    scope = models.TextField(_("scope of work"))
    hours = models.DecimalField(_("estimated hours"), max_digits=7, decimal_places=2)
    rate = models.DecimalField(_("rate per hour"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2)
    valid_until = models.DateField(_("valid until"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PROPOSED
    )
    # The request's status before it waited for approval: where approval resumes work.
    status_before = models.CharField(_("status before"), max_length=64, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason given"), blank=True)

    class Meta:
        verbose_name = _("estimate")
        verbose_name_plural = _("estimates")
        ordering = ("ticket", "number")
        constraints = (
            models.UniqueConstraint(fields=("ticket", "number"), name="estimate_number_unique"),
            # At most one open offer per request: a new one needs the old one withdrawn.
            models.UniqueConstraint(
                fields=("ticket",),
                condition=Q(state="proposed"),
                name="estimate_one_open_per_ticket",
            ),
            models.CheckConstraint(condition=Q(hours__gt=0), name="estimate_hours_positive"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="estimate_rate_not_negative"),
        )

    def __str__(self) -> str:
        return f"{self.ticket_id} #{self.number}: {self.total} {self.currency}"

    def state_on(self, today: date) -> str:
        """The state as of `today`: a proposal past its validity reads as expired."""
        if self.state == self.State.PROPOSED and today > self.valid_until:
            return self.State.EXPIRED
        return self.state


def estimate_total(hours: Decimal, rate: Decimal) -> Decimal:
    """hours × rate, to the kopeck (half up, as a price list rounds)."""
    return (hours * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
