"""Admin of regulations, their versions, tariffs, contracts and events.

Versions are history and never change: a new one comes from "Upload a
regulation file", which calls the same loading service as `reglament
regulation load` (every problem listed with its line, nothing stored on any
problem). A version's page lists the contracts on it and links to a preview of
its calendars' next 14 days. Contracts are created and changed through
reglament.regulations.services (overlap, tariff and service-manager checks, an
event in the same transaction); their refusals show next to the field.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from reglament.accounts.models import Membership, Organisation
from reglament.core.admin import ReadOnlyAdminMixin, ServiceAdminMixin, ServiceModelForm
from reglament.core.errors import AppError
from reglament.regulations.errors import ContractOverlapError, RegulationInvalidError
from reglament.regulations.models import (
    Contract,
    Regulation,
    RegulationEvent,
    RegulationVersion,
    Tariff,
)
from reglament.regulations.selectors import calendar_preview
from reglament.regulations.services import contract_create, contract_update, regulation_load

UPLOAD_MAX_BYTES = 2 * 1024 * 1024


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


# ------------------------------------------------------------------- upload
class RegulationUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Regulation file"),
        help_text=_("A YAML file in Reglament's regulation format, at most 2 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,text/yaml"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return upload


# --------------------------------------------------------- calendar preview
# ------------------------------------------------------------------ versions
@admin.register(RegulationVersion)
class RegulationVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[RegulationVersion]):
    list_display = (
        "regulation",
        "number",
        "title_ru",
        "loaded_at",
        "loaded_by",
        "contract_count",
    )
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
        "calendars_link",
        "contracts_using",
        "file_text",
    )
    readonly_fields = fields
    inlines = (TariffInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RegulationVersion]:
        return (
            super()
            .get_queryset(request)
            .select_related("loaded_by")
            .annotate(contracts=Count("tariffs__contracts"))
        )

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="regulations_regulationversion_upload",
            ),
            path(
                "<int:pk>/calendars/",
                self.admin_site.admin_view(self.calendars_view),
                name="regulations_regulationversion_calendars",
            ),
        ]
        return own + super().get_urls()

    def has_upload_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("regulations.add_regulationversion")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {**(extra_context or {}), "may_upload": self.has_upload_permission(request)}
        return super().changelist_view(request, extra_context=context)

    @admin.display(description=_("contracts"), ordering="contracts")
    def contract_count(self, version: RegulationVersion) -> int:
        return getattr(version, "contracts", 0)

    @admin.display(description=_("file text"))
    def file_text(self, version: RegulationVersion) -> SafeString:
        # Escaped by format_html; <pre> keeps the file's lines and indentation. Folded,
        # so the contracts and tariffs are not below hundreds of lines.
        lines = version.text.count("\n") + 1
        return format_html(
            '<details><summary>{}</summary><pre class="regulation-text">{}</pre></details>',
            ngettext("Show the file (%(count)d line)", "Show the file (%(count)d lines)", lines)
            % {"count": lines},
            version.text,
        )

    @admin.display(description=_("calendars"))
    def calendars_link(self, version: RegulationVersion) -> SafeString:
        url = reverse("admin:regulations_regulationversion_calendars", args=[version.pk])
        return format_html(
            '<a href="{}">{}</a>',
            url,
            gettext("Show the next 14 days' open hours of each calendar"),
        )

    @admin.display(description=_("contracts on this version"))
    def contracts_using(self, version: RegulationVersion) -> SafeString:
        contracts = list(
            Contract.objects.filter(tariff__version=version)
            .select_related("organisation", "tariff", "service_manager")
            .order_by("organisation__name", "valid_from")
        )
        if not contracts:
            return format_html("<span>{}</span>", gettext("No contract is on this version."))
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:regulations_contract_change", args=[contract.pk]),
                    contract.organisation.name,
                    contract.tariff.code,
                    date_format(contract.valid_from, "SHORT_DATE_FORMAT"),
                    date_format(contract.valid_to, "SHORT_DATE_FORMAT")
                    if contract.valid_to
                    else gettext("open-ended"),
                    contract.service_manager.get_username() if contract.service_manager else "—",
                )
                for contract in contracts
            ),
        )
        return format_html(
            '<table id="contracts-on-version"><thead><tr><th scope="col">{}</th>'
            '<th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th>'
            '<th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
            gettext("Organisation"),
            gettext("Tariff"),
            gettext("Valid from"),
            gettext("Valid to"),
            gettext("Service manager"),
            rows,
        )

    # ------------------------------------------------------------ own pages
    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_upload_permission(request):
            raise PermissionDenied
        form = RegulationUploadForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        status = 200
        if request.method == "POST":
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    version, created = regulation_load(
                        data=upload.read(), name=upload.name, actor=cast(User, request.user)
                    )
                except RegulationInvalidError as invalid:
                    problems = [str(problem) for problem in invalid.problems]
                    form.add_error("file", str(invalid.message))
                else:
                    if created:
                        messages.success(
                            request,
                            gettext("Loaded %(regulation)s version %(number)d.")
                            % {"regulation": version.regulation_id, "number": version.number},
                        )
                    else:
                        messages.info(
                            request,
                            gettext(
                                "This file is already stored as %(regulation)s version "
                                "%(number)d; nothing changed."
                            )
                            % {"regulation": version.regulation_id, "number": version.number},
                        )
                    return HttpResponseRedirect(
                        reverse("admin:regulations_regulationversion_change", args=[version.pk])
                    )
            status = 422
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Upload a regulation file"),
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(
            request, "admin/regulations/regulationversion/upload.html", context, status=status
        )

    def calendars_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = get_object_or_404(RegulationVersion, pk=pk)
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        regulation = version.parsed()
        zone = regulation.calendars[regulation.default_calendar].timezone
        form = CalendarStartForm(request.GET or None)
        start = timezone.now().astimezone(zone).date()
        if form.is_valid() and form.cleaned_data["start"]:
            start = form.cleaned_data["start"]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Open hours of %(version)s") % {"version": version},
            "version": version,
            "form": form,
            "start": start,
            "calendars": calendar_preview(regulation, start=start),
        }
        return TemplateResponse(
            request, "admin/regulations/regulationversion/calendars.html", context
        )


class CalendarStartForm(forms.Form):
    start = forms.DateField(
        label=_("First day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
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


# ----------------------------------------------------------------- contracts
class _ContractForm(ServiceModelForm):
    """Checks only the shape of the input; contract_create / contract_update decide the rest."""

    tariff = forms.SlugField(
        label=_("Tariff"),
        max_length=64,
        help_text=_("The tariff's id in the regulation version, e.g. standard."),
    )

    class Meta:
        model = Contract
        fields = ("organisation", "valid_from", "valid_to", "attributes", "service_manager")

    def clean_attributes(self) -> dict[str, Any]:
        value = self.cleaned_data.get("attributes")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError(
                _('Write the attributes as a JSON object, e.g. {"cash_registers": 60}.')
            )
        return value

    def field_of(self, error: AppError) -> str | None:
        if isinstance(error, ContractOverlapError):  # it is about the dates
            return "valid_from"
        return super().field_of(error)


class ContractAddForm(_ContractForm):
    version = forms.ModelChoiceField(
        label=_("Regulation version"),
        queryset=RegulationVersion.objects.defer("text").order_by("regulation_id", "-number"),
    )

    field_order = ("organisation", "version", "tariff")

    def write(self, data: dict[str, Any]) -> Contract:
        return contract_create(
            organisation=data["organisation"],
            version=data["version"],
            tariff=data["tariff"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            attributes=data["attributes"],
            service_manager=data["service_manager"],
            actor=self.actor,
        )


class ContractChangeForm(_ContractForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            self.initial["tariff"] = self.instance.tariff.code

    def write(self, data: dict[str, Any]) -> Contract:
        return contract_update(
            contract=self.instance,
            tariff=data["tariff"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            attributes=data["attributes"],
            service_manager=data["service_manager"],
            actor=self.actor,
        )


@admin.register(Contract)
class ContractAdmin(ServiceAdminMixin, admin.ModelAdmin[Contract]):
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
    inlines = (EventInline,)
    add_fields = (
        "organisation",
        "version",
        "tariff",
        "valid_from",
        "valid_to",
        "attributes",
        "service_manager",
    )
    change_fields = (
        "organisation",
        "version_link",
        "tariff",
        "valid_from",
        "valid_to",
        "attributes",
        "service_manager",
        "created_at",
        "updated_at",
    )

    def get_fields(self, request: HttpRequest, obj: Contract | None = None) -> Any:
        return self.change_fields if obj is not None else self.add_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Contract | None = None) -> Any:
        if obj is None:
            return ()
        return ("organisation", "version_link", "created_at", "updated_at")

    def get_form(
        self, request: HttpRequest, obj: Contract | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = ContractChangeForm if obj is not None else ContractAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        # A service manager is a person with that role: added under Memberships, not here.
        manager = form.base_fields["service_manager"].widget
        for name in ("can_add_related", "can_change_related", "can_delete_related"):
            setattr(manager, name, False)
        return form

    def get_inlines(self, request: HttpRequest, obj: Contract | None = None) -> Any:
        return self.inlines if obj is not None else ()

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "service_manager":
            kwargs["queryset"] = User.objects.filter(
                membership__role=Membership.Role.SERVICE_MANAGER
            ).order_by("username")
        elif db_field.name == "organisation":
            kwargs["queryset"] = Organisation.objects.exclude(kind=Organisation.Kind.VENDOR)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Contract | None = None) -> bool:
        return False  # requests refer to contracts; a contract ends by its valid-to date

    @admin.display(description=_("regulation"), ordering="tariff__version__regulation")
    def regulation(self, contract: Contract) -> str:
        return contract.regulation_id

    @admin.display(description=_("version"), ordering="tariff__version__number")
    def version_number(self, contract: Contract) -> int:
        return contract.version.number

    @admin.display(description=_("regulation version"))
    def version_link(self, contract: Contract) -> SafeString:
        version = contract.version
        url = reverse("admin:regulations_regulationversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, str(version))

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
