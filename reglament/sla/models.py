"""Per-request clocks: the last computed state of each metric, and its next timer.

A ``Clock`` row is a cache of what reglament.domain.sla computes from the
request's events, kept so the queue can sort and the sweeper can find what is
due with an index. It is rewritten whole by reglament.sla.services.clocks_sync
and by nothing else. ``next_check_at`` is the timer: the next instant a running
clock changes on its own (its warning share reached, or its due instant), even
when that warning or breach is already recorded for an earlier target, so the
sweeper then refreshes the request's queue columns; it records nothing twice.
NULL when nothing can fire (met, paused, breached past due, closed, merged, out
of scope); a partial index keeps only the pending ones.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reglament.tickets.models import Ticket


class Clock(models.Model):
    class State(models.TextChoices):
        NOT_APPLICABLE = "not_applicable", _("not applicable")
        NO_PROMISE = "no_promise", _("consultation only")
        WAITING = "waiting", _("not started")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        MET = "met", _("met")
        BREACHED = "breached", _("breached")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), on_delete=models.CASCADE, related_name="clocks"
    )
    metric = models.CharField(_("metric"), max_length=64)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    calendar = models.CharField(_("calendar"), max_length=64, blank=True)
    target_seconds = models.BigIntegerField(_("target (business seconds)"), null=True, blank=True)
    target_working_days = models.PositiveIntegerField(
        _("target (working days)"), null=True, blank=True
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warning at"), null=True, blank=True)
    consumed = models.DurationField(_("business time consumed"))
    remaining = models.DurationField(_("business time remaining"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    # Recorded once each, with the instant it happened (the event holds the rest).
    warned_at = models.DateTimeField(_("warning recorded for"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breach recorded for"), null=True, blank=True)
    next_check_at = models.DateTimeField(_("next check at"), null=True, blank=True)

    class Meta:
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        ordering = ("ticket", "id")
        constraints = (
            models.UniqueConstraint(fields=("ticket", "metric"), name="clock_metric_unique"),
        )
        indexes = (
            models.Index(
                fields=("next_check_at",),
                condition=Q(next_check_at__isnull=False),
                name="clock_pending",
            ),
        )

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.metric}: {self.state}"
