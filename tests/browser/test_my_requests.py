"""The customer portal in a real browser: My requests, one request, a reply (R3.7)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from reglament.cli import main as reglament
from reglament.regulations.demo import DEMO_PASSWORD
from reglament.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def demo(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo data (`reglament demo load`) in the live server's database."""
    assert reglament(["demo", "load"]) == 0
    capsys.readouterr()


def _sign_in(page: Page, live_server: LiveServer, login: str) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Эл. почта или логин").fill(login)
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(f"{live_server.url}/")


def test_customer_opens_their_request_and_replies_to_a_clarification(
    demo: None, live_server: LiveServer, page: Page, screenshot: Screenshot
) -> None:
    # given: CERA's demo request, waiting for the customer's answer
    ticket = Ticket.objects.get(organisation__memberships__user__username="cera")
    assert ticket.version.parsed().status(ticket.status).waiting_for_customer
    _sign_in(page, live_server, "cera")
    # when: they open My requests from the header
    page.get_by_role("navigation").get_by_role("link", name="Мои обращения").click()
    # then: their request, with the regulation's status
    expect(page).to_have_url(f"{live_server.url}/requests/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Мои обращения")
    expect(page.locator("#requests")).to_contain_text(ticket.number)
    expect(page.locator("#requests")).to_contain_text("Камеры в зале не считают посетителей")
    screenshot(page, "1-my-requests")

    # when: they open the request
    page.get_by_role("link", name=ticket.number).click()
    # then: the header and the note that support waits for them
    expect(page).to_have_url(f"{live_server.url}/requests/{ticket.number}/")
    expect(page.locator("#request-facts")).to_contain_text("Europe/Moscow")
    expect(page.locator("#waiting-note")).to_be_visible()
    screenshot(page, "2-request")

    # when: they reply
    page.get_by_label("Ваш ответ").fill("Камеры 3 и 7, прошивка 2.4.1.")
    page.get_by_role("button", name="Отправить ответ").click()
    # then: the reply is in the conversation and the request is back in work (R3.7)
    expect(page.get_by_role("status")).to_have_text("Ваш ответ отправлен.")
    expect(page.locator("#conversation")).to_contain_text("Камеры 3 и 7, прошивка 2.4.1.")
    expect(page.locator("#waiting-note")).to_have_count(0)
    screenshot(page, "3-replied")
    ticket.refresh_from_db()
    assert not ticket.version.parsed().status(ticket.status).waiting_for_customer


def test_request_pages_are_usable_360_pixels_wide(
    demo: None, live_server: LiveServer, browser: Browser, screenshot: Screenshot
) -> None:
    # given: a phone-sized window
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU")
    page = context.new_page()
    try:
        _sign_in(page, live_server, "cera")
        ticket = Ticket.objects.get(organisation__memberships__user__username="cera")
        for step, path in (("1-list", "/requests/"), ("2-request", f"/requests/{ticket.number}/")):
            # when
            page.goto(f"{live_server.url}{path}")
            screenshot(page, step)
            # then: nothing sticks out sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box = page.get_by_role("button", name="Отправить ответ").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 360
    finally:
        context.close()
