"""The tariff summary (R1.1, R2.5, R4.1): rendered from the contract's regulation."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from reglament.tickets.tests.factories import desk

pytestmark = pytest.mark.django_db


def _page(user: User) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.get("/tariff/")
    assert response.status_code == 200
    return response.content.decode()


def test_set_retail_standard_shows_services_and_times_per_priority() -> None:
    # given: R1.1, R1.2 — SET Retail Standard for a chain with 60 registers
    d = desk("set-retail", "standard", attributes={"cash_registers": 60})
    # when
    page = _page(d.requester)
    # then
    assert "Tariff “Standard”" in page
    assert "SET Retail — support tariffs" in page
    # R1.2 Registration within 15 min, around the clock
    targets = page[page.index('id="targets-1"') :]
    assert "Registration" in targets
    assert "15 min" in targets
    assert "counted around the clock" in targets
    excluded = page[page.index('id="excluded-1"') :]
    assert "Personal service manager" in excluded  # ✗ on Standard (premium only)


def test_set_partner_expert_lists_knowledge_sections_and_working_hours() -> None:
    # given: R2.3, R2.5 — the partner Expert tariff
    d = desk("set-partner", "expert")
    # when
    page = _page(d.requester)
    # then: 4 h consultation counted 10–19 Moscow time; the knowledge sections; channels
    assert "4 h" in page
    assert "counted 10:00–19:00 Moscow time on working days" in page
    sections = page[page.index('id="knowledge-1"') :]
    for title in ("Launches", "Functionality", "Maintenance", "Claim Desk"):
        assert title in sections
    channels = page[page.index('id="channels-1"') :]
    assert "sd@crystals.ru" in channels


def test_krizhik_start_says_when_work_becomes_paid() -> None:
    # given: R4.6
    d = desk("krizhik", "start")
    # when
    page = _page(d.requester)
    # then
    assert "further work is paid" in page
    assert "line 3" not in page or "line 3:" in page


def test_the_start_page_links_new_request_my_requests_and_the_tariff() -> None:
    # given
    d = desk("cera", "standard")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(d.requester)
    # when
    page = client.get("/").content.decode()
    # then
    assert 'href="/requests/new/" id="new-request-link"' in page
    assert 'href="/requests/" id="my-requests-link"' in page
    assert 'href="/tariff/" id="tariff-link"' in page
    assert "being built" not in page.split('id="customer-actions"')[1].split("</ul>")[0]
