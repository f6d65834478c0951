"""Fixtures of the mail intake tests: a real Dovecot for the session, mailboxes, mail.

`dovecot` is one server for the whole session (plain IMAP, IMAPS with a
self-signed certificate, XOAUTH2 against a token server); each test takes
fresh folders from it. When Dovecot is missing the tests fail with the
command that installs it: the intake's promises are only proven against a
real server.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.test import override_settings

from reglament.mailbox import services
from reglament.mailbox.models import Mailbox
from reglament.mailbox.tests.dovecot import DOVECOT, INSTALL_HINT, Dovecot, start_dovecot
from reglament.regulations.models import Regulation
from reglament.sla.tests.conftest import shared_database  # noqa: F401 - a fixture, re-exported
from reglament.sla.tests.workers import free_port

OAUTH_TOKEN = "token-for-support"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not DOVECOT.exists():
        pytest.fail(INSTALL_HINT, pytrace=False)
    # Not under pytest's tmp_path: Dovecot's unprivileged processes must be able
    # to reach the directory, and pytest keeps its tree private (0700).
    root = Path(tempfile.mkdtemp(prefix="reglament-dovecot-"))
    try:
        server = start_dovecot(root / "server", tls=True, oauth_tokens={OAUTH_TOKEN: "support"})
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mail_dir(tmp_path: Path) -> Iterator[Path]:
    """REGLAMENT_MAIL_DIR of this test: a directory of its own."""
    directory = tmp_path / "mail"
    with override_settings(REGLAMENT_MAIL_DIR=directory):
        yield directory


@pytest.fixture
def regulation(db: None) -> Regulation:
    return Regulation.objects.get_or_create(id="cera")[0]


MailboxFactory = Callable[..., Mailbox]


@pytest.fixture
def imap_mailbox(dovecot: Dovecot, regulation: Regulation, mail_dir: Path) -> MailboxFactory:
    """Make a mailbox polling a new folder of the test Dovecot (plain IMAP on loopback)."""
    counter = iter(range(1, 1000))

    def make(**settings: Any) -> Mailbox:
        number = next(counter)
        user = settings.pop("user", "support")
        values: dict[str, Any] = {
            "name": f"box{number}",
            "address": f"box{number}@vendor.example",
            "regulation": regulation.pk,
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "security": "none",
            "username": user,
            "secret": dovecot.users[user],
        }
        if "folder" not in settings:
            values["folder"] = dovecot.new_folder(user=user)
        values.update(settings)
        return services.mailbox_add(**values)

    return make


@dataclass
class Outbox:
    """What the test SMTP server received: (recipients, parsed message) in `received`,
    the bytes as they came over the wire in `raw`; `refuse` makes it answer 451."""

    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    refuse: bool = False


class _Handler:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.outbox.refuse:
            return "451 4.3.0 Mailbox temporarily unavailable"
        content = envelope.original_content or b""
        message = message_from_bytes(content.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.outbox.raw.append(content)
        self.outbox.received.append(([str(to) for to in envelope.rcpt_tos], message))
        return "250 2.0.0 Accepted"


@pytest.fixture
def smtp_server() -> Iterator[Outbox]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), and MAILERS pointing at it."""
    outbox = Outbox(port=free_port())
    controller = Controller(_Handler(outbox), hostname="127.0.0.1", port=outbox.port)
    controller.start()
    mailers = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": outbox.port, "timeout": 10},
        }
    }
    try:
        with override_settings(MAILERS=mailers):
            yield outbox
    finally:
        controller.stop()
