"""Read-only admin of estimates: they change only through reglament.paidwork.services."""

from django.contrib import admin

from reglament.core.admin import ReadOnlyAdminMixin
from reglament.paidwork.models import Estimate


@admin.register(Estimate)
class EstimateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Estimate]):
    list_display = ("ticket", "number", "reason", "state", "total", "currency", "valid_until")
    list_filter = ("state", "reason")
    search_fields = ("ticket__number", "scope")
    ordering = ("-proposed_at",)
