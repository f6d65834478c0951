"""The customer portal in a real browser, in English: filing a request with attachments
and its promise (R3.1, R3.4), a partner filing for its client (R2.1), approving paid
work (R4.6), the manuals step (R5.4), and the form at 360 px."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from reglament.cli import main as reglament
from reglament.paidwork.models import Estimate
from reglament.paidwork.services import estimate_propose
from reglament.regulations.demo import DEMO_PASSWORD
from reglament.tickets import services
from reglament.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def demo(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo data (`reglament demo load`) in the live server's database."""
    assert reglament(["demo", "load"]) == 0
    capsys.readouterr()


@pytest.fixture
def english(browser: Browser) -> Iterator[BrowserContext]:
    """A desktop browser that asks for English (LocaleMiddleware reads Accept-Language)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    yield context
    context.close()


def _open(context: BrowserContext) -> tuple[Page, list[str]]:
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.text} @ {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page, problems


def _sign_in(page: Page, live_server: LiveServer, login: str) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("E-mail or login").fill(login)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")


def _settled(page: Page) -> None:
    """Wait until htmx has no request in flight: the test server's SQLite serves one
    writer at a time, and every request saves the session (SESSION_SAVE_EVERY_REQUEST)."""
    page.wait_for_function("() => document.querySelector('.htmx-request') === null")


def _drop(page: Page, name: str, content: str) -> None:
    """Drop a file on the drop zone, as a person dragging it from their desktop."""
    transfer = page.evaluate_handle(
        """([name, content]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([content], name, { type: "text/plain" }));
            return transfer;
        }""",
        [name, content],
    )
    page.locator("[data-dropzone]").dispatch_event("drop", {"dataTransfer": transfer})


def test_a_customer_files_a_request_with_two_files_and_sees_its_promise(
    demo: None, live_server: LiveServer, english: BrowserContext, screenshot: Screenshot
) -> None:
    # given: Kolos (SET Retail Standard, 60 registers) signed in, in English
    page, problems = _open(english)
    _sign_in(page, live_server, "kolos")
    screenshot(page, "0-start")
    # when: they start a new request from the start page
    page.get_by_role("link", name="New request").first.click()
    # then: SET Retail links no manuals (R5.4 step skipped): the form comes at once
    expect(page.get_by_role("heading", level=1)).to_have_text("New request")
    expect(page.locator("#manuals-step")).to_have_count(0)

    # when: a defect in a critical business process (R1.5)
    page.get_by_label("Defect in SET").check()
    page.get_by_label("Business process concerned").select_option(
        label="Over 50% of cash registers stopped"
    )
    # then: the priority and its reason, and the promise, appear without a reload
    expect(page.locator("#priority-preview")).to_contain_text("Critical")
    expect(page.locator("#priority-why")).to_contain_text(
        "Set by the business process “Over 50% of cash registers stopped”"
    )
    expect(page.locator("#promise-preview")).to_contain_text("Registration")
    expect(page.locator("#promise-preview")).to_contain_text("counted around the clock")

    # when: subject, description and two files: one chosen, one dropped
    page.get_by_label("Subject").fill("Кассы магазина №12 не пробивают чеки")
    page.get_by_label("Description").fill("С 9:00 встали 8 из 10 касс.")
    page.get_by_label("Attachments").set_input_files(
        {"name": "Скриншот кассы.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n1"}
    )
    _drop(page, "журнал.txt", "ошибка 42")
    expect(page.locator("#attachment-list li")).to_have_count(2)
    screenshot(page, "1-form")
    _settled(page)
    page.get_by_role("button", name="File the request").click()

    # then: the request page confirms number, timestamp and promises (R3.4)
    expect(page).to_have_url(re.compile(r"/requests/[^/]+/\?registered=1$"))
    ticket = Ticket.objects.get(subject="Кассы магазина №12 не пробивают чеки")
    expect(page).to_have_url(f"{live_server.url}/requests/{ticket.number}/?registered=1")
    zone = ticket.version.parsed().calendars["around-the-clock"].timezone
    registered = timezone.localtime(ticket.registered_at, zone).strftime("%d.%m.%Y %H:%M")
    expect(page.locator("#confirmation")).to_contain_text(
        f"Request {ticket.number} registered at {registered} (Europe/Moscow)"
    )
    expect(page.locator("#confirmation")).to_contain_text("Registration: by")
    expect(page.locator("#attachments")).to_contain_text("Скриншот кассы.png")
    expect(page.locator("#attachments")).to_contain_text("журнал.txt")
    screenshot(page, "2-registered")
    assert (ticket.priority, ticket.category, ticket.type) == (
        "critical",
        "registers-stopped",
        "defect",
    )
    names = set(Attachment.objects.filter(ticket=ticket).values_list("name", flat=True))
    assert names == {"Скриншот кассы.png", "журнал.txt"}

    # when: they open My requests
    page.get_by_role("navigation").get_by_role("link", name="My requests").click()
    expect(page.locator("#requests")).to_contain_text(ticket.number)
    screenshot(page, "3-my-requests")
    assert problems == []


def test_a_partner_files_for_its_client(
    demo: None, live_server: LiveServer, english: BrowserContext, screenshot: Screenshot
) -> None:
    # given: R2.1 — the partner's engineer
    page, problems = _open(english)
    _sign_in(page, live_server, "partner")
    page.goto(f"{live_server.url}/requests/new/")
    # when: they choose their client and describe the problem
    page.get_by_label("For which client").select_option(label="Аптека «Здоровье»")
    _settled(page)
    page.get_by_label("Consultation on SET").check()
    page.get_by_label("Subject").fill("Не загружаются цены в аптеке")
    # then: the promise is the partner's Expert tariff's (R2.3: 4 h, 10–19 Moscow time)
    expect(page.locator("#promise-preview")).to_contain_text(
        "counted 10:00–19:00 Moscow time on working days"
    )
    screenshot(page, "1-form")
    _settled(page)
    page.get_by_role("button", name="File the request").click()
    expect(page).to_have_url(re.compile(r"/requests/[^/]+/\?registered=1$"))
    expect(page.locator("#confirmation")).to_be_visible()
    screenshot(page, "2-registered")
    # then: the request belongs to the client
    ticket = Ticket.objects.get(subject="Не загружаются цены в аптеке")
    assert ticket.organisation.name == "Аптека «Здоровье»"
    assert ticket.requester.username == "partner"
    assert problems == []


def test_a_start_customer_approves_the_paid_work_estimate(
    demo: None, live_server: LiveServer, english: BrowserContext, screenshot: Screenshot
) -> None:
    # given: R4.4/R4.6 — a Start request filed weeks ago, past its 4 h, with an estimate
    requester = User.objects.get(username="start")
    agent = User.objects.get(username="agent1")
    # Twenty days back hold more than 4 working hours whatever the holidays.
    filed = timezone.now() - timedelta(days=20)
    ticket = services.ticket_create(actor=requester, subject="Не проводится поступление", now=filed)
    services.ticket_transition(
        ticket=ticket, actor=agent, status="in-progress", now=filed + timedelta(minutes=10)
    )
    estimate_propose(
        ticket=ticket,
        actor=agent,
        scope="Анализ базы и исправление проводок",
        hours="6",
        rate="3500",
        valid_until=timezone.localdate(timezone.now()) + timedelta(days=14),
        now=timezone.now() - timedelta(minutes=1),
    )
    page, problems = _open(english)
    _sign_in(page, live_server, "start")
    # when: they open the request
    page.goto(f"{live_server.url}/requests/{ticket.number}/")
    paid = page.locator("#paid-work")
    expect(paid).to_contain_text("21000.00 RUB")
    expect(page.locator("#estimate-1-state")).to_have_text("awaiting approval")
    screenshot(page, "1-estimate")
    page.get_by_role("button", name="Approve the estimate").click()
    # then: approved, shown so, and the request is back in work
    expect(page.locator("#estimate-1-state")).to_have_text("approved")
    expect(page.get_by_role("button", name="Approve the estimate")).to_have_count(0)
    expect(page.locator("#history")).to_contain_text("Paid work estimate 1 approved.")
    screenshot(page, "2-approved")
    assert Estimate.objects.get(ticket=ticket).state == "approved"
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    assert problems == []


def test_rusbitech_asks_about_the_manuals_first(
    demo: None, live_server: LiveServer, english: BrowserContext, screenshot: Screenshot
) -> None:
    # given: R5.4 — Rusbitech's regulation links its operator manuals
    page, problems = _open(english)
    _sign_in(page, live_server, "rusbitech")
    # when
    page.goto(f"{live_server.url}/requests/new/")
    # then: the manuals, and a clear way on
    expect(page.get_by_role("heading", name="Have you checked the manuals?")).to_be_visible()
    expect(page.get_by_role("link", name="Operator manuals of PTKA SKPS VS RF")).to_have_attribute(
        "href", "https://rusbitech.ru/"
    )
    screenshot(page, "1-manuals")
    page.get_by_role("link", name="Yes, file a request").click()
    expect(page.locator("#request-form")).to_be_visible()
    _settled(page)
    assert problems == []


def test_the_new_request_form_fits_360_pixels(
    demo: None, live_server: LiveServer, browser: Browser, screenshot: Screenshot
) -> None:
    # given: a phone-sized window
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    try:
        page, problems = _open(context)
        _sign_in(page, live_server, "partner")
        for step, path in (
            ("1-new", "/requests/new/"),
            ("2-list", "/requests/"),
            ("3-tariff", "/tariff/"),
        ):
            # when
            page.goto(f"{live_server.url}{path}")
            if step == "1-new":
                page.get_by_label("Consultation on SET").check()
                expect(page.locator("#promise-preview")).to_be_visible()
                _settled(page)
            screenshot(page, step)
            # then: nothing sticks out sideways
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} is {width} px wide"
        assert problems == []
    finally:
        context.close()


def test_the_tariff_page(
    demo: None, live_server: LiveServer, english: BrowserContext, screenshot: Screenshot
) -> None:
    # given: R1.1 — Kolos on SET Retail Standard
    page, problems = _open(english)
    _sign_in(page, live_server, "kolos")
    # when
    page.get_by_role("link", name="Your tariff").click()
    # then
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What your tariff includes and promises"
    )
    expect(page.locator("#targets-1")).to_contain_text("15 min")
    screenshot(page, "1-tariff")
    assert re.search(r"Tariff “Standard”", page.content())
    assert problems == []
