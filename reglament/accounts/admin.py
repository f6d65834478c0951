"""Read-only admin of organisations and people.

Organisations and memberships are created through reglament.accounts.services
(which check roles against the organisation's kind and record an event), so
the admin shows them and does not edit them. Django's own user admin stays
editable for passwords and activation; it shows the person's membership.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from reglament.accounts.models import AccountEvent, ApiToken, Membership, Organisation
from reglament.core.admin import ReadOnlyAdminMixin


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
class OrganisationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Organisation]):
    list_display = ("name", "kind", "partner", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    fields = ("name", "kind", "partner", "created_at", "updated_at")
    readonly_fields = fields
    inlines = (MembershipInline, ClientInline)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Membership]):
    list_display = ("user", "organisation", "role", "line")
    list_filter = ("role", "line", "organisation__kind")
    search_fields = ("user__username", "user__email", "organisation__name")
    list_select_related = ("user", "organisation")


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
