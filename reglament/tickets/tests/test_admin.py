from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from reglament.accounts.services import token_create
from reglament.accounts.tests.factories import PersonFactory
from reglament.tickets import services
from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db


def test_the_admin_shows_a_request_with_its_clocks_history_and_conversation(
    client: Client,
) -> None:
    # given a request with a reply, and an administrator
    d = desk("cera", "standard")
    ticket = services.ticket_create(
        actor=d.requester,
        subject="Не работает отчёт",
        now=datetime.fromisoformat("2025-03-03T12:00:00+03:00"),
    )
    services.ticket_reply(
        ticket=ticket,
        author=d.agent1,
        body="Смотрим",
        now=datetime.fromisoformat("2025-03-03T12:05:00+03:00"),
    )
    token_create(user=d.agent1, name="скрипт")
    client.force_login(
        PersonFactory.create(username="root", role="administrator", organisation=d.vendor)
    )
    # when
    pages = {
        "list": client.get(reverse("admin:tickets_ticket_changelist")),
        "change": client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])),
        "events": client.get(reverse("admin:tickets_ticketevent_changelist")),
        "tokens": client.get(reverse("admin:accounts_apitoken_changelist")),
    }
    # then every page opens, read-only, and shows what it is for
    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    change = pages["change"].content.decode()
    assert "CERA-2025-000001" in change
    assert "resolution" in change  # the clock inline
    assert "Смотрим" in change  # the conversation
    assert "скрипт" in pages["tokens"].content.decode()
    assert 'name="_save"' not in change
