"""Browser tests: Debian's Chromium driven by Playwright, against pytest-django's live server.

No browser is downloaded (`playwright install` is never run): the tests launch
/usr/bin/chromium (`apt-get install chromium`; .ci/run does it), or the path in
REGLAMENT_CHROMIUM. Every test saves a screenshot of each page it visits to
var/screenshots/<test>-<step>.png, to look at.

Playwright's synchronous API keeps an asyncio loop running on the main thread
while the browser is open, and Django refuses ORM calls from a thread with a
running loop. The ORM calls here (test data, assertions) are plain synchronous
code, so the browser tests allow them, and they run last so that no other test
shares the session with the open browser.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM = os.environ.get("REGLAMENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    browser = [item for item in items if BROWSER_DIR in Path(str(item.path)).parents]
    others = [item for item in items if item not in browser]
    items[:] = others + browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or set REGLAMENT_CHROMIUM)")
    with sync_playwright() as playwright:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
        finally:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) with a desktop window, in Russian."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    # A Content-Security-Policy violation or a script error shows in the console.
    page.on(
        "console",
        lambda message: problems.append(message.text) if _is_problem(message, page) else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert problems == []


def _is_problem(message: ConsoleMessage, page: Page) -> bool:
    """An error in the console, except the page's own status (a refused sign-in is a 429)."""
    if message.type != "error":
        return False
    own_status = message.text.startswith("Failed to load resource") and (
        message.location.get("url") == page.url
    )
    return not own_status


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save the page as var/screenshots/<test>-<step>.png (the whole page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w.-]+", "_", request.node.name)

    def take(page: Page, step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
