"""The manager view and the administration in a real browser, in English."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from pytest_django.live_server_helper import LiveServer

from reglament.accounts.selectors import person_find
from reglament.cli import main as reglament
from reglament.regulations.demo import DEMO_PASSWORD
from reglament.regulations.models import Contract, RegulationVersion
from reglament.tickets import services
from reglament.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def demo(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo data, plus a SET Retail request 7 h old (its 6 h consultation is overdue)
    and one 5½ h old (past the warning share), registered through the services."""
    assert reglament(["demo", "load"]) == 0
    capsys.readouterr()
    kolos = person_find(username="kolos")
    assert kolos is not None
    now = timezone.now()
    for hours, subject in ((7, "Весы не передают вес на кассу"), (5.5, "Не печатается акция")):
        services.ticket_create(
            actor=kolos, subject=subject, priority="medium", now=now - timedelta(hours=hours)
        )


@pytest.fixture
def english(browser: Browser) -> Iterator[Page]:
    """A desktop window whose browser asks for English."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if _is_problem(m, page) else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert problems == []


def _is_problem(message: ConsoleMessage, page: Page) -> bool:
    """An error in the console (a CSP violation, a script error), except the page's own
    status: a refused upload answers 422."""
    if message.type != "error":
        return False
    own_status = message.text.startswith("Failed to load resource") and (
        message.location.get("url") == page.url
    )
    return not own_status


def _sign_in(page: Page, live_server: LiveServer, login: str) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("E-mail or login").fill(login)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")


def test_a_manager_sees_breached_and_at_risk_requests_and_the_load(
    demo: None, live_server: LiveServer, english: Page, screenshot: Screenshot
) -> None:
    # given
    page = english
    overdue = Ticket.objects.get(subject="Весы не передают вес на кассу")
    close = Ticket.objects.get(subject="Не печатается акция")
    _sign_in(page, live_server, "manager")
    # when
    page.goto(f"{live_server.url}/work/manager/")
    # then: the overdue consultation under Breached, the other under At risk
    expect(page.get_by_role("heading", level=1)).to_have_text("Manager view")
    breached = page.locator("#breached")
    expect(breached.get_by_role("link", name=overdue.number)).to_have_attribute(
        "href", f"/work/requests/{overdue.number}/"
    )
    expect(breached.locator(f"#row-{overdue.number}")).to_contain_text("Consultation")
    expect(breached.locator(f"#row-{overdue.number}")).to_contain_text("1 h")
    expect(breached.locator(f"#row-{overdue.number}")).to_contain_text("Standard")
    expect(page.locator("#at-risk")).to_contain_text(close.number)
    expect(page.locator("#line-1")).to_contain_text("Line 1")
    expect(page.locator("#agents")).to_contain_text("line 1")
    expect(page.locator("#daily")).to_contain_text("Registration")
    screenshot(page, "1-manager-view")

    # when: only line 3
    page.get_by_label("Support line").select_option(label="Line 3")
    page.get_by_role("button", name="Show").click()
    # then
    expect(page).to_have_url(f"{live_server.url}/work/manager/?regulation=&line=3")
    expect(page.locator("#no-breached")).to_be_visible()
    screenshot(page, "2-line-3")


def test_the_manager_view_fits_a_phone(
    demo: None, live_server: LiveServer, browser: Browser, screenshot: Screenshot
) -> None:
    # given
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    try:
        _sign_in(page, live_server, "manager")
        # when
        page.goto(f"{live_server.url}/work/manager/")
        whole = screenshot(page, "phone")
        for n in range(3):  # screen by screen too, to look at in full size
            page.evaluate(f"window.scrollTo(0, {n * 700})")
            page.screenshot(path=str(whole.with_name(f"{whole.stem}-{n + 1}.png")))
        # then: nothing sticks out sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


def test_an_administrator_uploads_a_regulation_with_a_problem_and_sees_its_line(
    demo: None, live_server: LiveServer, english: Page, screenshot: Screenshot, tmp_path: Path
) -> None:
    # given: CERA's regulation with a broken number prefix on its known line
    page = english
    text = (Path(settings.BASE_DIR) / "regulations" / "cera.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    line = next(n for n, row in enumerate(lines, start=1) if row.startswith("number_prefix:"))
    lines[line - 1] = "number_prefix: 12 bad"
    broken = tmp_path / "cera-broken.yaml"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = RegulationVersion.objects.count()
    _sign_in(page, live_server, "admin")
    # when: from the versions list, the upload button
    page.goto(f"{live_server.url}/admin/regulations/regulationversion/")
    screenshot(page, "1-versions")
    page.get_by_role("link", name="Upload a regulation file").click()
    page.get_by_label("Regulation file").set_input_files(str(broken))
    page.get_by_role("button", name="Upload and check").click()
    # then: the problem with its file and line; nothing stored
    expect(page.locator("#upload-problems")).to_contain_text(f"cera-broken.yaml:{line}:")
    expect(page.locator("#upload-problems")).to_contain_text("nothing was stored")
    screenshot(page, "2-problems")
    assert RegulationVersion.objects.count() == before

    # when: a version's page, and its calendars
    version = RegulationVersion.objects.filter(regulation_id="set-retail").get()
    page.goto(f"{live_server.url}/admin/regulations/regulationversion/{version.pk}/change/")
    expect(page.locator("#contracts-on-version")).to_contain_text("Гипермаркет «Северный»")
    screenshot(page, "3-version")
    page.get_by_role("link", name="Show the next 14 days' open hours of each calendar").click()
    page.get_by_label("First day").fill("2025-10-30")
    page.get_by_role("button", name="Show").click()
    # then
    expect(page.locator("#calendar-working-2025-11-01")).to_contain_text("Working Saturday")
    expect(page.locator("#calendar-working-2025-11-04")).to_contain_text("Closed")
    screenshot(page, "4-calendars")


def test_an_administrator_adds_a_contract_and_sees_a_refusal_next_to_the_tariff(
    demo: None, live_server: LiveServer, english: Page, screenshot: Screenshot
) -> None:
    # given
    page = english
    _sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/regulations/contract/add/")
    # when: a tariff the version does not have
    page.get_by_label("Organisation").select_option(label="Аптека «Здоровье»")
    page.get_by_label("Regulation version").select_option(label="set-retail v1")
    page.get_by_label("Tariff").fill("gold")
    page.get_by_label("Valid from").fill("2025-01-01")
    page.get_by_role("button", name="Save", exact=True).click()
    # then: the service's refusal next to the tariff, what was typed kept, nothing stored
    expect(page.locator("#id_tariff_error")).to_contain_text("has no tariff gold")
    expect(page.get_by_label("Tariff")).to_have_value("gold")
    screenshot(page, "1-refused")
    assert not Contract.objects.filter(
        organisation__name="Аптека «Здоровье»", tariff__version__regulation_id="set-retail"
    ).exists()

    # when: a tariff it has
    page.get_by_label("Tariff").fill("standard")
    page.get_by_role("button", name="Save", exact=True).click()
    # then
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    screenshot(page, "2-added")
    contract = Contract.objects.get(
        organisation__name="Аптека «Здоровье»", tariff__version__regulation_id="set-retail"
    )
    assert contract.tariff.code == "standard"
