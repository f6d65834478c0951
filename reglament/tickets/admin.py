"""Read-only admin of requests, their conversation, files, events and clocks.

Requests change only through reglament.tickets.services (rules of the
regulation, an event per change, clocks re-computed), so the admin shows,
filters and searches them; the agent workspace and the API change them.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from reglament.core.admin import ReadOnlyAdminMixin
from reglament.sla.models import Clock
from reglament.tickets.models import Attachment, Comment, Ticket, TicketEvent


class ClockInline(ReadOnlyAdminMixin, admin.TabularInline[Clock, Ticket]):
    model = Clock
    fields = (
        "metric",
        "state",
        "due_at",
        "warn_at",
        "consumed",
        "remaining",
        "warned_at",
        "breached_at",
        "next_check_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


class CommentInline(ReadOnlyAdminMixin, admin.StackedInline[Comment, Ticket]):
    model = Comment
    fields = ("created_at", "author", "public", "channel", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False


class AttachmentInline(ReadOnlyAdminMixin, admin.TabularInline[Attachment, Ticket]):
    model = Attachment
    fields = ("created_at", "name", "content_type", "size", "public", "uploaded_by")
    readonly_fields = fields
    extra = 0
    can_delete = False


class EventInline(ReadOnlyAdminMixin, admin.TabularInline[TicketEvent, Ticket]):
    model = TicketEvent
    fields = ("created_at", "kind", "actor", "public", "data")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")
    verbose_name_plural = _("history")


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Ticket]):
    list_display = (
        "number",
        "subject",
        "organisation",
        "status",
        "priority",
        "line",
        "assignee",
        "next_due_at",
        "breached",
        "registered_at",
    )
    list_filter = ("is_open", "breached", "at_risk", "line", "priority", "channel", "status")
    search_fields = ("number", "subject", "organisation__name", "requester__username")
    list_select_related = ("organisation", "assignee")
    date_hierarchy = "registered_at"
    readonly_fields = tuple(
        field.name for field in Ticket._meta.get_fields() if field.concrete and field.name != "id"
    )
    exclude = ("watchers",)
    inlines = (ClockInline, CommentInline, AttachmentInline, EventInline)


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[TicketEvent]):
    list_display = ("created_at", "ticket", "kind", "actor", "public")
    list_filter = ("kind", "public")
    search_fields = ("ticket__number",)
    list_select_related = ("ticket", "actor")
    date_hierarchy = "created_at"
