"""Admin of organisations and people.

Organisations and people (a login with its organisation and role) are added
here through reglament.accounts.services, which check roles against the
organisation's kind and record an event; a refusal shows next to its field.
Once added they are shown, not edited (there is no service to change them).
Django's own user admin stays editable for passwords and activation; it shows
the person's membership.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from reglament.accounts.models import AccountEvent, ApiToken, Membership, Organisation
from reglament.accounts.services import organisation_create, person_create
from reglament.core.admin import ReadOnlyAdminMixin, ServiceAdminMixin, ServiceModelForm


class AddOnlyAdminMixin(ServiceAdminMixin):
    """Added through a service; afterwards shown, not changed or deleted."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrganisationForm(ServiceModelForm):
    class Meta:
        model = Organisation
        fields = ("name", "kind", "partner")

    def write(self, data: dict[str, Any]) -> Organisation:
        return organisation_create(
            name=data["name"], kind=data["kind"], partner=data["partner"], actor=self.actor
        )


class PersonForm(ServiceModelForm):
    """A new person: their login and their place (organisation, role, line)."""

    username = forms.CharField(
        label=_("login"), max_length=150, help_text=_("What the person signs in with.")
    )
    email = forms.EmailField(label=_("e-mail"), required=False)
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Empty: the person cannot sign in until a password is set."),
    )

    class Meta:
        model = Membership
        fields = ("organisation", "role", "line", "language")

    def clean_password(self) -> str | None:
        password: str = self.cleaned_data.get("password") or ""
        if not password:
            return None
        validate_password(password)
        return password

    def write(self, data: dict[str, Any]) -> Membership:
        person = person_create(
            username=data["username"],
            password=data["password"],
            organisation=data["organisation"],
            role=data["role"],
            line=data["line"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            language=data["language"] or settings.LANGUAGE_CODE,
            actor=self.actor,
        )
        return person.membership


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline[Membership, Organisation]):
    model = Membership
    fields = ("user", "role", "line")
    readonly_fields = fields
    extra = 0
    can_delete = False


class ClientInline(ReadOnlyAdminMixin, admin.TabularInline[Organisation, Organisation]):
    model = Organisation
    fk_name = "partner"
    fields = ("name", "kind")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("clients")


@admin.register(Organisation)
class OrganisationAdmin(AddOnlyAdminMixin, admin.ModelAdmin[Organisation]):
    form = OrganisationForm
    list_display = ("name", "kind", "partner", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    inlines = (MembershipInline, ClientInline)

    def get_fields(self, request: HttpRequest, obj: Organisation | None = None) -> Any:
        if obj is None:
            return ("name", "kind", "partner")
        return ("name", "kind", "partner", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Organisation | None = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def get_inlines(self, request: HttpRequest, obj: Organisation | None = None) -> Any:
        return self.inlines if obj is not None else ()


@admin.register(Membership)
class MembershipAdmin(AddOnlyAdminMixin, admin.ModelAdmin[Membership]):
    """People and roles. "Add" creates a person: a login with an organisation and a role."""

    form = PersonForm
    list_display = ("user", "organisation", "role", "line", "language")
    list_filter = ("role", "line", "organisation__kind")
    search_fields = ("user__username", "user__email", "organisation__name")
    list_select_related = ("user", "organisation")
    add_fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "password",
        "organisation",
        "role",
        "line",
        "language",
    )

    def get_fields(self, request: HttpRequest, obj: Membership | None = None) -> Any:
        if obj is None:
            return self.add_fields
        return ("user", "organisation", "role", "line", "language", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[AccountEvent]):
    list_display = ("created_at", "kind", "organisation", "person", "actor")
    list_filter = ("kind",)
    search_fields = ("organisation__name", "person__username")
    list_select_related = ("organisation", "person", "actor")
    date_hierarchy = "created_at"


class PersonMembershipInline(ReadOnlyAdminMixin, admin.StackedInline[Membership, User]):
    model = Membership
    fields = ("organisation", "role", "line")
    readonly_fields = fields
    can_delete = False


class PersonAdmin(UserAdmin):
    inlines = (PersonMembershipInline,)
    list_display = ("username", "email", "membership", "is_active", "is_staff")
    list_select_related = ("membership__organisation",)
    list_filter = ("membership__role", "membership__organisation__kind", "is_active", "is_staff")


admin.site.unregister(User)
admin.site.register(User, PersonAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ApiToken]):
    """Tokens are shown (never their keys: only a digest is stored) and revoked by their owner."""

    list_display = (
        "user",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "name", "prefix")
    list_select_related = ("user",)
    exclude = ("digest",)
