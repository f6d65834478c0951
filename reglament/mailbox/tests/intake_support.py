"""Helpers of the intake-processing tests: a desk with a mailbox, mail to store, tokens."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path

from django.utils import timezone

from reglament.domain.mail.threads import reply_address, token
from reglament.mailbox import services
from reglament.mailbox.intake import mail_secret
from reglament.mailbox.models import InboundMessage, Mailbox
from reglament.tickets.tests.factories import Desk, desk

MAIL_FIXTURES = Path(__file__).resolve().parents[2] / "domain" / "tests" / "mail" / "fixtures"
DOMAIN = "vendor.example"


@dataclass
class Intake:
    desk: Desk
    mailbox: Mailbox

    def store(self, raw: bytes) -> InboundMessage:
        """The message as the SMTP listener would store it."""
        return services.inbound_store(
            mailbox=self.mailbox, raw=raw, uidvalidity=None, uid=None, channel="smtp"
        )


def intake(*, unknown_sender: str = "triage", **mailbox: object) -> Intake:
    d = desk("cera", "standard")
    box = services.mailbox_add(
        name=str(mailbox.pop("name", "support")),
        address=f"support@{DOMAIN}",
        regulation="cera",
        unknown_sender=unknown_sender,
        **mailbox,  # type: ignore[arg-type]
    )
    return Intake(d, box)


def token_of(number: str) -> str:
    return token(number, secret=mail_secret())


def reply_to(number: str) -> str:
    return reply_address(number, local="support", domain=DOMAIN, secret=mail_secret())


def our_message_id(number: str, unique: str = "ack1") -> str:
    return f"<{token_of(number)}.{unique}@{DOMAIN}>"


_counter = iter(range(1, 1_000_000))


def mail(
    *,
    sender: str,
    subject: str = "Касса не печатает чеки",
    body: str = "Здравствуйте! Касса №3 не печатает чеки с утра.",
    to: str = f"support@{DOMAIN}",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain UTF-8 message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or f"<m{next(_counter)}.test@customer.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def cp1251_mail_with_attachment(*, sender: str, attachment_name: str, data: bytes) -> bytes:
    """Outlook-style: a windows-1251 body and an attachment whose name is Cyrillic
    (RFC 2231), as Russian mail clients send them."""
    message = MIMEMultipart()
    message["From"] = formataddr(parseaddr(sender))
    message["To"] = f"support@{DOMAIN}"
    message["Subject"] = "Не работает касса"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = f"<cp1251.{next(_counter)}@customer.example>"
    message.attach(MIMEText("Добрый день! Касса №3 не печатает чеки.", "plain", "windows-1251"))
    part = MIMEApplication(data, "pdf")
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", attachment_name))
    message.attach(part)
    return message.as_bytes()


def fixture(name: str, replace: dict[str, str] | None = None) -> bytes:
    """A fixture mail of the parser's tests (read-only), with placeholders replaced."""
    raw = (MAIL_FIXTURES / name).read_bytes()
    for old, new in (replace or {}).items():
        raw = raw.replace(old.encode(), new.encode())
    return raw
