"""The agent workspace in a real browser (English UI): the queue with live countdowns and
filters, a request taken, paused for clarification (R3.7), resumed by the customer's reply,
escalated to line 3 (R3.6) and resolved there with a resolution code (R3.5)."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from pytest_django.live_server_helper import LiveServer

from reglament.accounts.selectors import person_find
from reglament.cli import main as reglament
from reglament.regulations.demo import DEMO_PASSWORD
from reglament.tickets import services
from reglament.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def demo(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo data (`reglament demo load`) in the live server's database."""
    assert reglament(["demo", "load"]) == 0
    capsys.readouterr()


@pytest.fixture
def english(browser: Browser) -> Iterator[Page]:
    """A desktop window with an English UI (LocaleMiddleware reads Accept-Language)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if _is_problem(m, page) else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert problems == []


def _is_problem(message: ConsoleMessage, page: Page) -> bool:
    """A console error, except the page's own status (a refused form answers 422)."""
    if message.type != "error":
        return False
    return not (
        message.text.startswith("Failed to load resource")
        and message.location.get("url") == page.url
    )


def _sign_in(page: Page, live_server: LiveServer, login: str) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("E-mail or login").fill(login)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")


def _new_cera_request() -> Ticket:
    customer = person_find(username="cera")
    assert customer is not None
    return services.ticket_create(
        actor=customer, subject="Dashboard shows no visitors since morning", priority="high"
    )


def test_agent_takes_pauses_escalates_and_line_3_resolves(
    demo: None, live_server: LiveServer, english: Page, browser: Browser, screenshot: Screenshot
) -> None:
    page = english
    ticket = _new_cera_request()
    # given: agent1 (line 1) signed in
    _sign_in(page, live_server, "agent1")

    # when: they open the queue
    page.goto(f"{live_server.url}/work/")
    # then: their line's open requests, each with a live countdown
    expect(page.get_by_role("heading", level=1)).to_have_text("Queue")
    expect(page.get_by_label("Line", exact=True)).to_have_value("1")
    row = page.locator("tr", has=page.get_by_role("link", name=ticket.number))
    expect(row).to_be_visible()
    countdown = row.locator(".countdown")
    expect(countdown).to_contain_text("left")
    assert countdown.get_attribute("data-due")
    screenshot(page, "1-queue")

    # when: they filter the unassigned requests
    page.get_by_label("Assignee").select_option("none")
    page.get_by_role("button", name="Apply filters").click()
    # then: the filter is in the URL, the request is listed
    expect(page).to_have_url(re.compile(r"/work/\?line=1&assignee=none"))
    expect(page.get_by_role("link", name=ticket.number)).to_be_visible()
    screenshot(page, "2-queue-unassigned")

    # when: they open it and press `a`
    page.get_by_role("link", name=ticket.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ticket.number)
    page.wait_for_load_state()  # the shortcut keys listen once workspace.js has run
    page.keyboard.press("a")
    # then: assigned to them
    expect(page.get_by_role("status")).to_have_text("The request is assigned to you.")
    expect(page.locator("#assignee")).to_contain_text("Ирина")
    ticket.refresh_from_db()
    assert ticket.assignee is not None
    assert ticket.assignee.get_username() == "agent1"
    screenshot(page, "3-request-assigned")

    # when: they ask the customer for clarification
    page.get_by_label("New status").select_option(label="Clarification")
    page.get_by_role("button", name="Change status").click()
    # then: R3.7 the resolution clock stands still
    expect(page.get_by_role("status")).to_have_text("The status is now “Clarification”.")
    resolution = page.locator("#clock-resolution")
    expect(resolution).to_have_attribute("data-state", "paused")
    expect(resolution.locator(".clock-badge")).to_have_text("paused")
    page.locator("#clock-resolution summary").click()
    expect(resolution.locator(".spans--paused li")).to_have_count(1)
    screenshot(page, "4-request-paused")

    # when: the customer replies (the portal's service)
    customer = person_find(username="cera")
    assert customer is not None
    services.ticket_reply(ticket=ticket, author=customer, body="Cameras 3 and 7, firmware 2.4.1")
    page.reload()
    # then: the clock runs again and the reply is in the conversation
    expect(page.locator("#clock-resolution")).to_have_attribute("data-state", "running")
    expect(page.locator("#comments")).to_contain_text("Cameras 3 and 7")

    # when: they escalate to line 3 with a reason
    page.get_by_label("Move to line").select_option("3")
    page.locator("#line-form").get_by_label("Reason").fill(
        "Needs a developer: analytics service log"
    )
    page.get_by_role("button", name="Move").click()
    # then
    expect(page.get_by_role("status")).to_have_text("The request is now on line 3.")
    expect(page.locator("#line")).to_have_text("3")
    screenshot(page, "5-request-escalated")

    # when: agent3 (line 3) opens their queue and resolves the request with a code
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, live_server, "agent3")
    page.goto(f"{live_server.url}/work/")
    expect(page.get_by_label("Line", exact=True)).to_have_value("3")
    page.get_by_role("link", name=ticket.number).click()
    page.get_by_label("New status").select_option(label="Done")
    page.get_by_role("button", name="Change status").click()
    # then: without a resolution it is refused next to the field
    expect(page.locator("#status-form .field__errors")).to_contain_text("resolution")
    screenshot(page, "6-resolution-required")
    page.get_by_label("Resolution").select_option(label="Solved")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_have_text("The status is now “Done”.")
    expect(page.locator("#status")).to_have_text("Done")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution, ticket.is_open, ticket.line) == (
        "done",
        "solved",
        False,
        3,
    )
    screenshot(page, "7-request-done")


def test_shortcuts_list_and_note_key(
    demo: None, live_server: LiveServer, english: Page, screenshot: Screenshot
) -> None:
    # given
    page = english
    ticket = _new_cera_request()
    _sign_in(page, live_server, "agent1")
    page.goto(f"{live_server.url}/work/requests/{ticket.number}/")
    # when: `?` shows the list
    page.keyboard.press("?")
    # then
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("dialog")).to_contain_text("Write an internal note")
    screenshot(page, "shortcuts")
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    # when: `n` — then the note is chosen and the text field has the focus
    page.keyboard.press("n")
    expect(page.get_by_label("Internal note")).to_be_checked()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    # and: typing `a` in the field types, it does not assign
    page.keyboard.type("a")
    expect(page.get_by_label("Message", exact=True)).to_have_value("a")
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_workspace_pages_are_usable_360_pixels_wide(
    demo: None, live_server: LiveServer, browser: Browser, screenshot: Screenshot
) -> None:
    # given: a phone-sized window
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    try:
        ticket = _new_cera_request()
        _sign_in(page, live_server, "agent1")
        for step, path in (
            ("1-queue", "/work/"),
            ("2-request", f"/work/requests/{ticket.number}/"),
        ):
            # when
            page.goto(f"{live_server.url}{path}")
            screenshot(page, step)
            # then: nothing sticks out sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box = page.get_by_role("button", name="Send").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 360
    finally:
        context.close()


def test_queue_refreshes_itself_without_a_reload(
    demo: None, live_server: LiveServer, english: Page
) -> None:
    # given: agent1's queue is open
    page = english
    _sign_in(page, live_server, "agent1")
    page.goto(f"{live_server.url}/work/")
    expect(page.locator("#queue")).to_be_visible()
    page.evaluate("window.beforeRefresh = true")
    # when: a customer files a request and the table's refresh comes (every 30 s; sent now)
    ticket = _new_cera_request()
    page.evaluate("htmx.trigger(document.getElementById('queue-results'), 'queue-refresh')")
    # then: the new request is in the table, the page itself was not reloaded
    expect(page.get_by_role("link", name=ticket.number)).to_be_visible()
    assert page.evaluate("window.beforeRefresh") is True
    expect(page.locator(f"tr[data-number='{ticket.number}'] .countdown")).to_contain_text("left")
