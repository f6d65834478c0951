"""Signing in and out in a real browser: Russian first, English on request, narrow screens."""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from reglament.cli import main as reglament
from reglament.regulations.demo import DEMO_PASSWORD
from reglament.regulations.models import Contract

pytestmark = pytest.mark.django_db(transaction=True)

Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def demo(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo data (`reglament demo load`) in the live server's database."""
    assert reglament(["demo", "load"]) == 0
    capsys.readouterr()  # the printed logins are not under test


def _sign_in(page: Page, live_server: LiveServer, login: str, password: str) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Эл. почта или логин").fill(login)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()


def test_customer_signs_in_in_russian_switches_to_english_and_signs_out(
    demo: None, live_server: LiveServer, page: Page, screenshot: Screenshot
) -> None:
    # given: Kolos's requester, on SET Retail's Standard tariff
    tariff = Contract.objects.select_related("tariff").get(organisation__name__contains="Колос")
    # when: they sign in with their e-mail typed in capitals
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Войти").click()
    expect(page).to_have_url(f"{live_server.url}/sign-in/")
    screenshot(page, "1-sign-in")
    _sign_in(page, live_server, "KOLOS@Demo.Reglament.Invalid", DEMO_PASSWORD)
    # then: their own start page, in Russian
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Здравствуйте, Кассир Колоса")
    expect(page.locator("#signed-in-person")).to_contain_text("Сеть супермаркетов «Колос»")
    expect(page.locator("#role")).to_have_text("заявитель")
    expect(page.locator("#contracts .tariff")).to_have_text(tariff.tariff.title_ru)
    screenshot(page, "2-start-ru")

    # when: they switch to English
    page.get_by_role("button", name="English").click()
    # then
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Кассир Колоса")
    expect(page.get_by_role("heading", name="Your support contracts")).to_be_visible()
    expect(page.locator("#contracts .tariff")).to_have_text(tariff.tariff.title_en)
    screenshot(page, "3-start-en")

    # when: they sign out
    page.get_by_role("button", name="Sign out").click()
    # then: back at sign-in, told so, and the start page is the public one again
    expect(page).to_have_url(f"{live_server.url}/sign-in/")
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    screenshot(page, "4-signed-out")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="System status")).to_be_visible()


def test_five_wrong_passwords_lock_the_sixth_attempt_out(
    demo: None, live_server: LiveServer, page: Page, screenshot: Screenshot
) -> None:
    # given: five wrong passwords for one login
    for attempt in range(1, 6):
        _sign_in(page, live_server, "kolos", f"wrong-{attempt}")
        expect(page.get_by_role("alert")).to_have_text(
            "Эл. почта или логин и пароль не подходят ни к одной действующей учётной записи."
        )
    screenshot(page, "1-fifth-failure")
    # when: the sixth attempt, even with the right password
    _sign_in(page, live_server, "kolos", DEMO_PASSWORD)
    # then
    expect(page.get_by_role("alert")).to_have_text(
        "Слишком много неудачных попыток входа. Попробуйте снова через 15 минут."
    )
    expect(page).to_have_url(f"{live_server.url}/sign-in/")
    screenshot(page, "2-locked-out")


def test_start_page_is_usable_360_pixels_wide(
    demo: None, live_server: LiveServer, browser: Browser, screenshot: Screenshot
) -> None:
    # given: a phone-sized window
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU")
    page = context.new_page()
    try:
        # when
        page.goto(f"{live_server.url}/sign-in/")
        screenshot(page, "1-sign-in")
        _sign_in(page, live_server, "severny", DEMO_PASSWORD)
        expect(page).to_have_url(f"{live_server.url}/")
        screenshot(page, "2-start")
        # then: nothing sticks out sideways, and the controls are on screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        for name in ("English", "Выйти"):
            box = page.get_by_role("button", name=name).bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 360
    finally:
        context.close()
