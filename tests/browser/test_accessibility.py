"""WCAG AA on the main pages, measured in the browser: text contrast, labelled fields.

For every visible element carrying text, the colour Chromium computed is compared
with the first opaque background behind it (WCAG 2.x relative luminance): at least
4.5:1, or 3:1 for large text (24 px, or 18.66 px bold). Every form control must
have an accessible name (a <label>, aria-label or aria-labelledby). Each page is
checked at a desktop width and at 360 px, where the layout changes.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from reglament.cli import main as reglament
from reglament.regulations.demo import DEMO_PASSWORD
from reglament.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

Screenshot = Callable[[Page, str], Path]

# Runs in the page: every failure as "text (ratio < needed) colour on background".
CONTRAST = """() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) => {
    const channel = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const blend = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour.a > 0) {
        layers.push(colour);
        if (colour.a >= 1) break;
      }
    }
    let result = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) result = blend(layer, result);
    return result;
  };
  const failures = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (style.visibility === "hidden" || style.display === "none") continue;
    if (box.width === 0 || box.height === 0) continue;
    if (element.closest("[hidden], .visually-hidden, .skip-link, option")) continue;
    const bg = background(element);
    const fg = blend(parse(style.color) || { r: 0, g: 0, b: 0, a: 1 }, bg);
    const [light, dark] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (ratio + 0.005 < needed) {
      failures.push(`${element.tagName.toLowerCase()} "${element.textContent.trim().slice(0, 40)}" `
        + `${ratio.toFixed(2)} < ${needed}: ${style.color} `
        + `on rgb(${bg.r | 0}, ${bg.g | 0}, ${bg.b | 0})`);
    }
  }
  return failures;
}"""

UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((c) => c.type !== "hidden" && c.type !== "submit" && c.type !== "button")
  .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label")
    && !c.getAttribute("aria-labelledby"))
  .map((c) => c.outerHTML.slice(0, 120))"""


@pytest.fixture
def demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert reglament(["demo", "load"]) == 0
    capsys.readouterr()


@pytest.fixture(params=[(1366, 900), (360, 740)], ids=["desktop", "phone"])
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    yield context
    context.close()


def _sign_in(page: Page, live_server: LiveServer, login: str) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Эл. почта или логин").fill(login)
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(f"{live_server.url}/")


def _check(page: Page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state()
    problems = [f"{url}: {failure}" for failure in page.evaluate(CONTRAST)]
    problems += [f"{url}: unlabelled {control}" for control in page.evaluate(UNLABELLED)]
    return problems


def test_customer_pages_meet_contrast_and_label_rules(
    demo: None, live_server: LiveServer, context: BrowserContext
) -> None:
    # given: the CERA customer, with a request of theirs
    page = context.new_page()
    ticket = Ticket.objects.filter(organisation__memberships__user__username="cera").first()
    assert ticket is not None
    problems = _check(page, f"{live_server.url}/sign-in/")
    _sign_in(page, live_server, "cera")
    # when: each of their pages is measured
    for path in ("/", "/requests/", "/requests/new/", f"/requests/{ticket.number}/", "/tariff/"):
        problems += _check(page, f"{live_server.url}{path}")
    # then
    assert problems == []


def test_staff_pages_meet_contrast_and_label_rules(
    demo: None, live_server: LiveServer, context: BrowserContext
) -> None:
    # given: the service manager (sees the queue, requests and the manager view)
    page = context.new_page()
    ticket = Ticket.objects.filter(is_open=True).order_by("id").first()
    assert ticket is not None
    _sign_in(page, live_server, "manager")
    # when
    problems: list[str] = []
    for path in ("/work/", f"/work/requests/{ticket.number}/", "/work/manager/"):
        problems += _check(page, f"{live_server.url}{path}")
    # then
    assert problems == []


FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  return {
    what: element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
      + " " + (element.textContent || element.name || "").trim().slice(0, 30),
    ring,
  };
}"""


@pytest.mark.parametrize(
    ("login", "path"),
    [("cera", "/requests/new/"), ("agent1", "/work/"), ("agent1", "/work/requests/{number}/")],
)
def test_the_keyboard_reaches_everything_with_a_visible_focus_ring(
    demo: None, live_server: LiveServer, browser: Browser, login: str, path: str
) -> None:
    # given: a desktop window, signed in
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = context.new_page()
    try:
        _sign_in(page, live_server, login)
        ticket = Ticket.objects.filter(is_open=True).order_by("id").first()
        assert ticket is not None
        page.goto(f"{live_server.url}{path.format(number=ticket.number)}")
        page.wait_for_load_state()
        # when: Tab walks the page
        stops = []
        for _ in range(40):
            page.keyboard.press("Tab")
            stop = page.evaluate(FOCUSED)
            if stop is None:
                break
            stops.append(stop)
        # then: the skip link comes first, and every stop shows where the focus is
        assert stops, "Tab reached nothing"
        assert stops[0]["what"].startswith("a"), stops[0]
        assert "#main" in (page.locator(".skip-link").get_attribute("href") or "")
        assert [stop["what"] for stop in stops if not stop["ring"]] == []
    finally:
        context.close()
