"""An agent reads a customer's HTML mail in the browser: the sanitised body in a
sandboxed frame, its inline image shown, the remote image blocked until asked for
(issue 7, "remote images blocked until an agent chooses to load them")."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from reglament.accounts.selectors import person_find
from reglament.cli import main as reglament
from reglament.mailbox import services
from reglament.mailbox.intake import inbound_process
from reglament.mailbox.tests.factories import html_message
from reglament.regulations.demo import DEMO_PASSWORD
from reglament.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def mail_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(REGLAMENT_MAIL_DIR=tmp_path / "mail"):
        yield tmp_path / "mail"


def test_an_agent_reads_the_mail_and_loads_its_remote_image_only_on_request(
    live_server: LiveServer,
    page: Page,
    mail_dir: Path,
    screenshot: Screenshot,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given the demo, a mailbox, and an HTML mail from the demo's CERA customer whose
    # "remote" image is served by the live server (so loading it can be seen)
    assert reglament(["demo", "load"]) == 0
    capsys.readouterr()
    customer = person_find(username="cera")
    assert customer is not None
    mailbox = services.mailbox_add(
        name="support", address="support@vendor.example", regulation="cera"
    )
    remote = f"{live_server.url}/static/core/favicon.svg"
    row = services.inbound_store(
        mailbox=mailbox,
        raw=html_message(sender=f"CERA <{customer.email}>", remote=remote),
        uidvalidity=None,
        uid=None,
        channel="smtp",
    )
    outcome = inbound_process(row)
    ticket = Ticket.objects.get(number=outcome.ticket)

    # when agent1 opens the request and the message it came with
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Эл. почта или логин").fill("agent1")
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/work/requests/{ticket.number}/")
    page.locator("#received a").first.click()

    # then the body shows in its frame, the inline image drawn, the remote one not
    body = page.frame_locator("#mail-frame")
    expect(body.locator("body")).to_contain_text("не печатает чеки")
    inline = body.locator('img[alt="Снимок экрана"]')
    expect(inline).to_have_attribute("src", re.compile(r"^data:image/gif;base64,R0lGOD"))
    assert inline.evaluate("image => image.complete && image.naturalWidth") == 1
    blocked = body.locator('img[alt="logo"]')
    expect(blocked).not_to_have_attribute("src", remote)
    assert page.title() != "hacked"
    expect(page.locator("#remote-images")).to_be_visible()
    screenshot(page, "blocked")

    # when they choose to load remote images
    page.locator("#load-images").click()

    # then the image comes from its server, and nothing ran
    loaded = page.frame_locator("#mail-frame").locator('img[alt="logo"]')
    expect(loaded).to_have_attribute("src", remote)
    assert loaded.evaluate("image => image.decode().then(() => image.naturalWidth)") > 0
    assert page.title() != "hacked"
    screenshot(page, "loaded")
