from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Common columns for Reglament's own tables. Timestamps are UTC (USE_TZ)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(RuntimeError):
    """Code tried to change a row of an append-only model (a bug, not user input)."""


class AppendOnlyModel(models.Model):
    """A row written once and never changed: history (events, regulation versions).

    `save()` refuses to update an existing row; the admin shows such models
    read-only. (A queryset's `update()` bypasses this; services never use it here.)
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)


class EventModel(AppendOnlyModel):
    """An append-only event: when it happened, who did it, and what changed.

    Each app's event model adds its own ``kind`` choices and the rows it is about.
    """

    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system did it (a command, the demo)."),
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ("-created_at", "-id")


class WorkerHeartbeat(models.Model):
    """The last time each worker process ran the heartbeat task.

    Health reads this row instead of asking a process: the truth lives in the
    database, where every web process can see it and a restart forgets nothing.
    """

    worker_id = models.CharField(_("worker id"), max_length=64, unique=True)
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.last_seen.isoformat()}"
