"""Admin of the mailboxes: settings written through the services, mail read-only.

The password or token is never shown back: the form has an empty "new
password or token" field; left empty, the stored one is kept. Polling state
and the messages are shown, never edited here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from reglament.core.admin import ReadOnlyAdminMixin, ServiceAdminMixin, ServiceModelForm
from reglament.mailbox import services
from reglament.mailbox.models import (
    InboundEvent,
    InboundMessage,
    MailAddressFailure,
    Mailbox,
    MailboxEvent,
    OutboundMessage,
)
from reglament.mailbox.selectors import secret_masked

SETTINGS = (
    "address",
    "regulation",
    "imap_host",
    "imap_port",
    "security",
    "username",
    "auth",
    "folder",
    "processed_folder",
    "smtp_listen",
    "unknown_sender",
    "max_bytes",
    "enabled",
)


class MailboxForm(ServiceModelForm):
    new_secret = forms.CharField(
        label=_("new password or token"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored one. It is never shown again."),
    )

    class Meta:
        model = Mailbox
        fields = ("name", *SETTINGS)

    def write(self, data: dict[str, Any]) -> Model:
        values = {field: data[field] for field in SETTINGS}
        values["regulation"] = data["regulation"].pk
        if data.get("new_secret"):
            values["secret"] = data["new_secret"]
        if self.instance.pk is None:
            return services.mailbox_add(name=data["name"], actor=self.actor, **values)
        return services.mailbox_update(mailbox=self.instance, actor=self.actor, **values)


@admin.register(Mailbox)
class MailboxAdmin(ServiceAdminMixin, admin.ModelAdmin[Mailbox]):
    form = MailboxForm
    list_display = ("name", "address", "regulation", "enabled", "last_poll_at", "last_poll_ok")
    list_filter = ("enabled", "regulation", "last_poll_ok")
    search_fields = ("name", "address")
    readonly_fields = (
        "secret_state",
        "uidvalidity",
        "last_uid",
        "last_poll_at",
        "last_poll_ok",
        "last_poll_error",
        "last_poll_stored",
    )

    def get_readonly_fields(self, request: Any, obj: Mailbox | None = None) -> Any:
        fields = self.readonly_fields
        return ("name", *fields) if obj is not None else fields

    def get_fields(self, request: Any, obj: Mailbox | None = None) -> Any:
        return ("name", *SETTINGS, "new_secret", *self.readonly_fields)

    @admin.display(description=_("password or token"))
    def secret_state(self, mailbox: Mailbox) -> str:
        return secret_masked(mailbox.secret)

    def has_delete_permission(self, request: Any, obj: Mailbox | None = None) -> bool:
        return False  # its messages refer to it


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[InboundMessage]):
    list_select_related = ("mailbox", "ticket")
    list_display = (
        "received_at",
        "mailbox",
        "channel",
        "sender",
        "subject",
        "state",
        "outcome",
        "ticket",
        "reply_allowed",
    )
    list_filter = ("state", "outcome", "channel", "mailbox", "reply_allowed")
    search_fields = ("message_id", "sha256", "sender", "subject", "ticket__number")
    # The sanitised HTML is shown as text here, never rendered.
    exclude = ("html",)


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[InboundEvent]):
    list_display = ("created_at", "kind", "message")
    list_filter = ("kind",)


@admin.register(MailAddressFailure)
class MailAddressFailureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[MailAddressFailure]):
    list_display = ("address", "count", "last_status", "first_failed_at", "last_failed_at")
    search_fields = ("address",)


@admin.register(MailboxEvent)
class MailboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[MailboxEvent]):
    list_display = ("created_at", "kind", "mailbox", "actor")
    list_filter = ("kind",)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[OutboundMessage]):
    list_select_related = ("mailbox", "ticket")
    list_display = (
        "created_at",
        "kind",
        "ticket",
        "to_address",
        "state",
        "attempts",
        "sent_at",
        "next_attempt_at",
    )
    list_filter = ("state", "kind", "mailbox")
    search_fields = ("to_address", "message_id", "ticket__number", "subject")
    # The HTML part is shown as text here, never rendered.
    exclude = ("body_html",)
