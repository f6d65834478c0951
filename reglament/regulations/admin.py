"""Read-only admin of regulations, their versions, tariffs, contracts and events.

Versions are history and never change. Contracts are written by
reglament.regulations.services (overlap, tariff and service-manager checks,
and an event in the same transaction), so here they are shown, filtered and
searched, not edited.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from reglament.core.admin import ReadOnlyAdminMixin
from reglament.regulations.models import (
    Contract,
    Regulation,
    RegulationEvent,
    RegulationVersion,
    Tariff,
)


class VersionInline(ReadOnlyAdminMixin, admin.TabularInline[RegulationVersion, Regulation]):
    model = RegulationVersion
    fields = ("number", "title_ru", "source_name", "digest", "loaded_at", "loaded_by")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False


@admin.register(Regulation)
class RegulationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Regulation]):
    list_display = ("id", "created_at")
    search_fields = ("id",)
    inlines = (VersionInline,)


class TariffInline(ReadOnlyAdminMixin, admin.TabularInline[Tariff, RegulationVersion]):
    model = Tariff
    fields = ("order", "code", "title_ru", "title_en")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(RegulationVersion)
class RegulationVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[RegulationVersion]):
    list_display = ("regulation", "number", "title_ru", "source_name", "loaded_at", "loaded_by")
    list_filter = ("regulation",)
    search_fields = ("regulation__id", "title_ru", "title_en", "digest")
    date_hierarchy = "loaded_at"
    fields = (
        "regulation",
        "number",
        "title_ru",
        "title_en",
        "source_name",
        "digest",
        "loaded_at",
        "loaded_by",
        "file_text",
    )
    readonly_fields = fields
    inlines = (TariffInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RegulationVersion]:
        return super().get_queryset(request).select_related("loaded_by")

    @admin.display(description=_("file text"))
    def file_text(self, version: RegulationVersion) -> SafeString:
        # Escaped by format_html; <pre> keeps the file's lines and indentation.
        return format_html(
            '<pre style="white-space: pre; overflow-x: auto; max-height: 40em">{}</pre>',
            version.text,
        )


@admin.register(Tariff)
class TariffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Tariff]):
    list_display = ("code", "title_ru", "version", "order")
    list_filter = ("version__regulation", "version")
    search_fields = ("code", "title_ru", "title_en")
    list_select_related = ("version",)


class EventInline(ReadOnlyAdminMixin, admin.TabularInline[RegulationEvent, Contract]):
    model = RegulationEvent
    fields = ("created_at", "kind", "version", "actor", "data")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Contract]):
    list_display = (
        "organisation",
        "regulation",
        "version_number",
        "tariff_code",
        "valid_from",
        "valid_to",
        "service_manager",
    )
    list_filter = (
        "tariff__version__regulation",
        "tariff__code",
        "organisation__kind",
        "valid_from",
        ("valid_to", admin.EmptyFieldListFilter),
        ("service_manager", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("organisation__name", "tariff__code", "service_manager__username")
    date_hierarchy = "valid_from"
    list_select_related = ("organisation", "tariff__version", "service_manager")
    fields = (
        "organisation",
        "tariff",
        "valid_from",
        "valid_to",
        "attributes",
        "service_manager",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (EventInline,)

    @admin.display(description=_("regulation"), ordering="tariff__version__regulation")
    def regulation(self, contract: Contract) -> str:
        return contract.regulation_id

    @admin.display(description=_("version"), ordering="tariff__version__number")
    def version_number(self, contract: Contract) -> int:
        return contract.version.number

    @admin.display(description=_("tariff"), ordering="tariff__code")
    def tariff_code(self, contract: Contract) -> str:
        return contract.tariff.code


@admin.register(RegulationEvent)
class RegulationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[RegulationEvent]):
    list_display = ("created_at", "kind", "regulation", "version", "contract", "actor")
    list_filter = ("kind", "regulation")
    search_fields = ("regulation__id", "contract__organisation__name")
    date_hierarchy = "created_at"
    list_select_related = (
        "regulation",
        "version",
        "contract__organisation",
        "contract__tariff__version",
        "actor",
    )
