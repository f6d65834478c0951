"""The original of a received message, for staff (issue 7: HTML sanitised, remote
images blocked until an agent chooses to load them)."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from reglament.mailbox import storage
from reglament.mailbox.intake import inbound_process
from reglament.mailbox.models import InboundMessage
from reglament.mailbox.tests.factories import GIF, html_message
from reglament.mailbox.tests.intake_support import Intake, intake
from reglament.tickets.models import Ticket
from reglament.workspace import mail as mail_views

pytestmark = pytest.mark.django_db

REQUESTER = "requester@customer.test"
TRACKER = "https://tracker.example/open.gif?id=42&who=ivan"


def html_mail(message_id: str = "<html-1@customer.example>") -> bytes:
    return html_message(sender=f"Иван Петров <{REQUESTER}>", remote=TRACKER, message_id=message_id)


@pytest.fixture
def setup(mail_dir: Path) -> Intake:
    return intake()


@pytest.fixture
def filed(setup: Intake) -> tuple[Ticket, InboundMessage]:
    row = setup.store(html_mail())
    outcome = inbound_process(row)
    assert outcome.outcome == "created"
    row.refresh_from_db()
    return Ticket.objects.get(number=outcome.ticket), row


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def urls(ticket: Ticket, row: InboundMessage) -> dict[str, str]:
    args = [ticket.number, row.pk]
    return {
        "page": reverse("workspace:mail", args=args),
        "body": reverse("workspace:mail_body", args=args),
        "images": reverse("workspace:mail_body_images", args=args),
        "eml": reverse("workspace:mail_eml", args=args),
    }


def test_the_request_page_lists_the_mail_received_with_a_link_to_each(
    setup: Intake, filed: tuple[Ticket, InboundMessage]
) -> None:
    ticket, row = filed
    page = signed_in(setup.desk.agent1).get(reverse("workspace:request", args=[ticket.number]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="received"' in html
    assert urls(ticket, row)["page"] in html


def test_the_original_page_shows_headers_files_and_frames_the_body(
    setup: Intake, filed: tuple[Ticket, InboundMessage]
) -> None:
    ticket, row = filed
    page = signed_in(setup.desk.agent1).get(urls(ticket, row)["page"])
    assert page.status_code == 200
    html = page.content.decode()
    assert REQUESTER in html
    assert "html-1@customer.example" in html
    assert "Акт.pdf" in html
    # the body is a sandboxed frame of its own document; remote images wait for a click
    assert f'src="{urls(ticket, row)["body"]}" sandbox="allow-popups' in html
    assert 'href="?images=1"' in html
    assert TRACKER not in html
    # the plain text keeps the quoted history
    assert "&gt; старая переписка" in html


def test_the_body_blocks_remote_images_and_scripts_until_asked(
    setup: Intake, filed: tuple[Ticket, InboundMessage]
) -> None:
    ticket, row = filed
    client = signed_in(setup.desk.agent1)
    body = client.get(urls(ticket, row)["body"])
    assert body.status_code == 200
    html = body.content.decode()
    policy = body.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "img-src 'self' data:;" in policy or policy.endswith("img-src 'self' data:")
    assert "frame-ancestors 'self'" in policy
    assert "sandbox allow-popups allow-popups-to-escape-sandbox" in policy
    assert body.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "<script" not in html
    assert "onclick" not in html
    assert ' src="https://tracker.example' not in html
    assert "data-remote-src" in html
    # the inline image is written in (the sandboxed frame sends no session cookie)
    assert f'src="data:image/gif;base64,{base64.b64encode(GIF).decode()}"' in html

    loaded = client.get(urls(ticket, row)["images"])
    policy = loaded.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https: http:" in policy
    assert 'src="https://tracker.example/open.gif?id=42&amp;who=ivan"' in loaded.content.decode()


def test_the_eml_is_served_to_staff_as_it_came(
    setup: Intake, filed: tuple[Ticket, InboundMessage]
) -> None:
    ticket, row = filed
    eml = signed_in(setup.desk.agent1).get(urls(ticket, row)["eml"])
    assert eml.headers["Content-Type"] == "message/rfc822"
    assert f'filename="{ticket.number}-{row.pk}.eml"' in eml.headers["Content-Disposition"]
    assert eml.content == storage.raw_read(row.raw_path)


def test_customers_and_other_requests_get_404(
    setup: Intake, filed: tuple[Ticket, InboundMessage]
) -> None:
    ticket, row = filed
    customer = signed_in(setup.desk.requester)
    for url in urls(ticket, row).values():
        assert customer.get(url).status_code == 404, url
    # a message asked for under another request's number
    other = inbound_process(
        setup.store(html_mail().replace(b"<html-1@customer.example>", b"<html-2@customer.example>"))
    )
    agent = signed_in(setup.desk.agent1)
    assert agent.get(reverse("workspace:mail", args=[other.ticket, row.pk])).status_code == 404
    # signed out: to the sign-in page
    assert Client().get(urls(ticket, row)["page"]).status_code == 302


def test_one_inline_image_shown_a_thousand_times_cannot_blow_the_page_up(
    setup: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a mail that shows its inline image 1,000 times, and room for 3 copies
    message = EmailMessage()
    message["From"] = REQUESTER
    message["To"] = "support@vendor.example"
    message["Subject"] = "Много картинок"
    message.set_content("Картинки")
    message.add_alternative('<img src="cid:x@y" alt="x">' * 1000, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(GIF, "image", "gif", cid="<x@y>")
    outcome = inbound_process(setup.store(message.as_bytes()))
    ticket = Ticket.objects.get(number=outcome.ticket)
    row = InboundMessage.objects.get(ticket=ticket)
    one = f"data:image/gif;base64,{base64.b64encode(GIF).decode()}"
    monkeypatch.setattr(mail_views, "MAX_INLINE_TOTAL", 3 * len(one))

    # when an agent opens its body
    body = signed_in(setup.desk.agent1).get(urls(ticket, row)["body"]).content.decode()

    # then three copies are drawn; the other images keep only their text
    assert body.count(one) == 3
    assert body.count('<img alt="x">') == 997
