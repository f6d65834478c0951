"""Test mail."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import format_datetime

from django.utils import timezone


def message(number: int, *, message_id: str | None = "default", body: str = "") -> bytes:
    """A small mail; Message-ID <n.test@customer.example> unless given (None: no header)."""
    lines = [
        "From: Ivan Petrov <ivan@customer.example>",
        "To: support@vendor.example",
        f"Subject: Request {number}",
        "Date: Mon, 30 Nov 2026 10:00:00 +0300",
    ]
    if message_id == "default":
        message_id = f"<{number}.test@customer.example>"
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    lines += [
        "Content-Type: text/plain; charset=utf-8",
        "",
        body or f"Body of message {number}.",
        "",
    ]
    return "\r\n".join(lines).encode()


# A 1×1 transparent GIF, the smallest image a mail can show inline.
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def html_message(
    *, sender: str, remote: str, message_id: str = "<html-1@customer.example>"
) -> bytes:
    """An HTML mail such as mail clients send: a plain-text part, an HTML part with an
    inline image (Content-ID <screen@customer.example>, alt "Снимок экрана"), a remote
    image `remote` (alt "logo"), a script and a handler that must never run, and a PDF."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@vendor.example"
    message["Subject"] = "Касса не печатает чеки"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id
    message.set_content("Касса №3 не печатает чеки.\n\n> старая переписка\n")
    message.add_alternative(
        "<p>Касса №3 не печатает <b>чеки</b>, снимок экрана ниже.</p>"
        '<p><img src="cid:screen@customer.example" alt="Снимок экрана" width="120"'
        ' height="40"></p>'
        f'<p><img src="{html.escape(remote)}" alt="logo" width="32" height="32"></p>'
        "<script>document.title='hacked'</script><p onclick=\"alert('y')\">Спасибо!</p>",
        subtype="html",
    )
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(GIF, "image", "gif", cid="<screen@customer.example>")
    message.add_attachment(
        b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="Акт.pdf"
    )
    return message.as_bytes()
