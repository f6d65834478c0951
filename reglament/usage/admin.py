"""Read-only admin of time entries, allowances and crossings.

They change only through reglament.usage.services (an event per change, the
allowance checked), so the admin shows, filters and searches them.
"""

from django.contrib import admin

from reglament.core.admin import ReadOnlyAdminMixin
from reglament.usage.models import Allowance, AllowanceCrossing, TimeEntry


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[TimeEntry]):
    list_display = (
        "ticket",
        "performed_at",
        "minutes",
        "activity",
        "billable",
        "author",
        "voided_at",
    )
    list_filter = ("activity", "billable", ("voided_at", admin.EmptyFieldListFilter))
    search_fields = ("ticket__number", "note", "author__username")
    date_hierarchy = "performed_at"
    list_select_related = ("ticket", "author")


@admin.register(Allowance)
class AllowanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Allowance]):
    list_display = ("contract", "valid_from", "amount", "unit", "set_by", "created_at")
    search_fields = ("contract__organisation__name",)
    list_select_related = ("contract__organisation", "set_by")


@admin.register(AllowanceCrossing)
class AllowanceCrossingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[AllowanceCrossing]):
    list_display = ("contract", "period", "event", "created_at")
    search_fields = ("contract__organisation__name", "period")
    list_select_related = ("contract__organisation", "event__ticket")
