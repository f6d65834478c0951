"""The mailbox admin writes through the services and never shows the secret back."""

from __future__ import annotations

import pytest
from django.test import Client

from reglament.mailbox.models import Mailbox, MailboxEvent
from reglament.regulations.models import Regulation

pytestmark = pytest.mark.django_db

FORM = {
    "name": "support",
    "address": "support@vendor.example",
    "regulation": "cera",
    "imap_host": "imap.vendor.example",
    "imap_port": "993",
    "security": "ssl",
    "username": "support",
    "auth": "password",
    "folder": "INBOX",
    "processed_folder": "",
    "unknown_sender": "triage",
    "max_bytes": "26214400",
    "enabled": "on",
    "new_secret": "very-secret-password",
}


def test_a_mailbox_added_in_the_admin_keeps_its_secret_out_of_the_page(
    admin_client: Client,
) -> None:
    Regulation.objects.create(id="cera")

    added = admin_client.post("/admin/mailbox/mailbox/add/", FORM)
    mailbox = Mailbox.objects.get()
    page = admin_client.get(f"/admin/mailbox/mailbox/{mailbox.pk}/change/")

    assert added.status_code == 302
    assert mailbox.secret == "very-secret-password"
    assert MailboxEvent.objects.get().kind == "added"
    assert page.status_code == 200
    assert b"very-secret-password" not in page.content


def test_the_admin_shows_the_service_refusal_next_to_the_field(admin_client: Client) -> None:
    Regulation.objects.create(id="cera")

    refused = admin_client.post(
        "/admin/mailbox/mailbox/add/",
        FORM | {"security": "none", "imap_port": "143"},
        headers={"accept-language": "en"},  # the message's English wording is asserted
    )

    assert refused.status_code == 200
    assert "allowed only for 127.0.0.1 or localhost" in refused.content.decode()
    assert not Mailbox.objects.exists()
