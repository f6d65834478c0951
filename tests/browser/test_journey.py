"""One request's whole life in a real browser, in Russian and again in English.

A CERA customer files a request with two files and sees its priority (R3.1) and
promise; agent1 (line 1) takes it and asks for clarification, which stops the
resolution clock (R3.7); the customer answers in the portal and the clock runs
again; the request moves to line 3 (R3.6), whose agent resolves it with a
resolution code (R3.5); the customer sees it done. A second request the customer
closes themselves (R3.8). A partner files for its client (R2.1), and a Krizhik
customer approves paid work (R4.6).

Labels are looked up in the language under test through the same gettext
catalogue the pages use, and each is checked to really be Russian in the Russian
run, so an untranslated label fails here rather than passing unnoticed.
"""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation
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
LOCALES = {"ru": "ru-RU", "en": "en-US"}
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


class Words:
    """The UI's words in one language, from the project's catalogue."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, msgid: str) -> str:
        with translation.override(self.language):
            text = translation.gettext(msgid)
        if self.language == "ru":
            assert CYRILLIC.search(text), f"{msgid!r} has no Russian translation"
        return text

    def pick(self, ru: str, en: str) -> str:
        """A regulation's own wording (its files carry both languages)."""
        return ru if self.language == "ru" else en


@pytest.fixture
def demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert reglament(["demo", "load"]) == 0
    capsys.readouterr()


@pytest.fixture(params=["ru", "en"])
def words(request: pytest.FixtureRequest) -> Words:
    return Words(request.param)


@pytest.fixture
def contexts(browser: Browser, words: Words) -> Iterator[Callable[[], BrowserContext]]:
    """Separate browsers (cookies) for the customer and each agent, in one language."""
    opened: list[BrowserContext] = []

    def open_context() -> BrowserContext:
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, locale=LOCALES[words.language]
        )
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


def _page(context: BrowserContext, problems: list[str]) -> Page:
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    return page


def _sign_in(page: Page, live_server: LiveServer, login: str, t: Words) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label(t("E-mail or login")).fill(login)
    page.get_by_label(t("Password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Sign in")).click()
    expect(page).to_have_url(f"{live_server.url}/")


def _settled(page: Page) -> None:
    """No htmx request in flight (the test server's SQLite takes one writer at a time)."""
    page.wait_for_function("() => document.querySelector('.htmx-request') === null")


def test_a_request_from_filing_to_resolution(
    demo: None,
    live_server: LiveServer,
    contexts: Callable[[], BrowserContext],
    words: Words,
    screenshot: Screenshot,
) -> None:
    t = words
    problems: list[str] = []
    customer = _page(contexts(), problems)

    # given: the CERA customer signed in
    _sign_in(customer, live_server, "cera", t)
    # when: they file a defect the system's main functions suffer from, with a workaround
    customer.get_by_role("navigation").get_by_role("link", name=t("New request")).click()
    expect(customer.get_by_role("heading", level=1)).to_have_text(t("New request"))
    customer.get_by_label(t.pick("Заявка на дефект", "Defect report")).check()
    customer.get_by_label(
        t.pick(
            "Невозможно использовать основные функции Системы",
            "The system's main functions cannot be used",
        )
    ).check()
    customer.get_by_label(t.pick("Обход есть", "A workaround exists")).check()
    # then: R3.1 the matrix gives High, and the promise shows before filing
    expect(customer.locator("#priority-preview")).to_contain_text(t.pick("Высокий", "High"))
    expect(customer.locator("#promise-preview")).not_to_be_empty()
    customer.get_by_label(t("Subject"), exact=True).fill("Счётчик посетителей показывает ноль")
    customer.get_by_label(t("Description"), exact=True).fill("С утра все камеры зала 2 дают 0.")
    customer.get_by_label(t("Attachments")).set_input_files(
        [
            {"name": "Камера 3.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n3"},
            {"name": "журнал сервиса.txt", "mimeType": "text/plain", "buffer": "сбой".encode()},
        ]
    )
    screenshot(customer, f"{t.language}-1-new-request")
    _settled(customer)
    customer.get_by_role("button", name=t("File the request")).click()
    # then: R3.4 number and registration time, with the files
    expect(customer.locator("#confirmation")).to_be_visible()
    ticket = Ticket.objects.get(subject="Счётчик посетителей показывает ноль")
    zone = ticket.version.parsed().calendars[ticket.version.parsed().default_calendar].timezone
    registered = timezone.localtime(ticket.registered_at, zone).strftime("%d.%m.%Y %H:%M")
    expect(customer.locator("#confirmation")).to_contain_text(ticket.number)
    expect(customer.locator("#confirmation")).to_contain_text(registered)
    expect(customer.locator("#attachments")).to_contain_text("Камера 3.png")
    assert ticket.priority == "high"
    assert Attachment.objects.filter(ticket=ticket).count() == 2
    screenshot(customer, f"{t.language}-2-registered")

    # when: agent1 (line 1) finds it in the queue and takes it with the `a` key
    agent = _page(contexts(), problems)
    _sign_in(agent, live_server, "agent1", t)
    agent.get_by_role("navigation").get_by_role("link", name=t("Queue")).click()
    expect(agent.get_by_role("link", name=ticket.number)).to_be_visible()
    screenshot(agent, f"{t.language}-3-queue")
    agent.get_by_role("link", name=ticket.number).click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text(ticket.number)
    agent.wait_for_load_state()  # the shortcut keys listen once workspace.js has run
    agent.keyboard.press("a")
    expect(agent.get_by_role("status")).to_have_text(t("The request is assigned to you."))
    # and: asks the customer for clarification
    clarification = t.pick("Уточнение", "Clarification")
    agent.get_by_label(t("New status")).select_option(label=clarification)
    agent.get_by_role("button", name=t("Change status")).click()
    # then: R3.7 the resolution clock stands still
    expect(agent.locator("#clock-resolution")).to_have_attribute("data-state", "paused")
    screenshot(agent, f"{t.language}-4-clarification")

    # when: the customer answers in the portal
    customer.get_by_role("navigation").get_by_role("link", name=t("My requests")).click()
    customer.get_by_role("link", name=ticket.number).click()
    expect(customer.locator("#waiting-note")).to_be_visible()
    customer.get_by_label(t("Your reply")).fill("Прошивка камер 2.4.1, сервер перезагружали.")
    customer.get_by_role("button", name=t("Send reply")).click()
    expect(customer.get_by_role("status")).to_have_text(t("Your reply has been sent."))
    # then: the clock runs again, and the agent sees the answer
    agent.reload()
    expect(agent.locator("#clock-resolution")).to_have_attribute("data-state", "running")
    expect(agent.locator("#comments")).to_contain_text("Прошивка камер 2.4.1")

    # when: the agent moves it to line 3 with a reason
    agent.get_by_label(t("Move to line")).select_option("3")
    agent.locator("#line-form").get_by_label(t("Reason")).fill("Нужен разработчик")
    agent.get_by_role("button", name=t("Move")).click()
    expect(agent.locator("#line")).to_have_text("3")

    # and: agent3 resolves it with a resolution code
    third = _page(contexts(), problems)
    _sign_in(third, live_server, "agent3", t)
    third.goto(f"{live_server.url}/work/requests/{ticket.number}/")
    third.get_by_label(t("New status")).select_option(label=t.pick("Выполнено", "Done"))
    third.get_by_label(t("Resolution")).select_option(label=t.pick("Решена", "Solved"))
    third.get_by_role("button", name=t("Change status")).click()
    expect(third.locator("#status")).to_have_text(t.pick("Выполнено", "Done"))
    screenshot(third, f"{t.language}-5-done")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution, ticket.line, ticket.is_open) == (
        "done",
        "solved",
        3,
        False,
    )

    # then: the customer sees it done, and can no longer reply
    customer.reload()
    expect(customer.locator("#status")).to_have_text(t.pick("Выполнено", "Done"))
    expect(customer.locator("#closed-note")).to_be_visible()
    screenshot(customer, f"{t.language}-6-customer-sees-done")
    assert problems == []


def test_a_customer_closes_their_own_request(
    demo: None,
    live_server: LiveServer,
    contexts: Callable[[], BrowserContext],
    words: Words,
    screenshot: Screenshot,
) -> None:
    t = words
    problems: list[str] = []
    page = _page(contexts(), problems)
    # given: CERA's demo request of this customer, still open
    ticket = Ticket.objects.filter(
        organisation__memberships__user__username="cera", is_open=True
    ).first()
    assert ticket is not None
    _sign_in(page, live_server, "cera", t)
    page.goto(f"{live_server.url}/requests/{ticket.number}/")
    # when: R3.8 they close it themselves
    page.get_by_role("button", name=t("Close my request")).click()
    # then: closed, and it says so
    expect(page.locator("#closed-note")).to_be_visible()
    screenshot(page, f"{t.language}-closed-by-customer")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.is_open) == ("closed", False)
    assert problems == []


def test_a_partner_files_for_its_client(
    demo: None,
    live_server: LiveServer,
    contexts: Callable[[], BrowserContext],
    words: Words,
    screenshot: Screenshot,
) -> None:
    t = words
    problems: list[str] = []
    page = _page(contexts(), problems)
    # given: R2.1 the partner's engineer
    _sign_in(page, live_server, "partner", t)
    page.get_by_role("navigation").get_by_role("link", name=t("New request")).click()
    # when: they choose their client and describe the problem
    page.get_by_label(t("For which client")).select_option(label="Аптека «Здоровье»")
    _settled(page)
    page.get_by_label(t.pick("Консультация по SET", "Consultation on SET")).check()
    page.get_by_label(t("Subject"), exact=True).fill("Не загружаются цены в аптеке")
    # then: the partner's Expert promise, counted in Moscow working hours (R2.3)
    expect(page.locator("#promise-preview")).to_contain_text("10:00–19:00")
    screenshot(page, f"{t.language}-partner-form")
    _settled(page)
    page.get_by_role("button", name=t("File the request")).click()
    expect(page.locator("#confirmation")).to_be_visible()
    # then: the request is the client's, filed by the partner
    ticket = Ticket.objects.get(subject="Не загружаются цены в аптеке")
    assert (ticket.organisation.name, ticket.requester.username) == (
        "Аптека «Здоровье»",
        "partner",
    )
    assert problems == []


def test_a_krizhik_customer_approves_paid_work(
    demo: None,
    live_server: LiveServer,
    contexts: Callable[[], BrowserContext],
    words: Words,
    screenshot: Screenshot,
) -> None:
    t = words
    # given: R4.6 a Start request past its 4 working hours, with an estimate proposed
    requester = User.objects.get(username="start")
    agent = User.objects.get(username="agent1")
    filed = timezone.now() - timedelta(days=20)  # more than 4 working hours, holidays or not
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
    problems: list[str] = []
    page = _page(contexts(), problems)
    _sign_in(page, live_server, "start", t)
    # when: they open the request and approve the estimate
    page.get_by_role("navigation").get_by_role("link", name=t("My requests")).click()
    page.get_by_role("link", name=ticket.number).click()
    expect(page.locator("#paid-work")).to_contain_text(re.compile(r"21[\s\u00a0]?000[.,]00"))
    screenshot(page, f"{t.language}-estimate")
    if t.language == "ru":  # the history speaks the reader's language, nothing stored in another
        expect(page.locator("#history")).not_to_contain_text("Paid work")
    page.get_by_role("button", name=t("Approve the estimate")).click()
    # then: approved, and the request is back in work
    expect(page.get_by_role("button", name=t("Approve the estimate"))).to_have_count(0)
    screenshot(page, f"{t.language}-approved")
    assert Estimate.objects.get(ticket=ticket).state == "approved"
    ticket.refresh_from_db()
    assert ticket.status == "in-progress"
    assert problems == []
