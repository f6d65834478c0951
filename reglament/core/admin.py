from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from reglament.core.models import WorkerHeartbeat


class ReadOnlyAdminMixin:
    """Show rows, never change them here.

    For history (events, regulation versions) and for rows whose writes must
    go through a service, which validates them and records an event.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin[WorkerHeartbeat]):
    list_display = ("worker_id", "last_seen")
    ordering = ("-last_seen",)

    # Written only by workers: a hand-edited beat would make health lie.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: WorkerHeartbeat | None = None
    ) -> bool:
        return False
