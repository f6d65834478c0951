"""Fixtures: the test database shared with other threads and processes; a real SMTP server."""

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import connection, connections
from django.test import override_settings

from reglament.sla.tests.workers import free_port


@pytest.fixture
def shared_database(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """The test database, reachable from other threads and processes; yields its DATABASE_URL.

    On PostgreSQL that is simply the test database. SQLite's test database is
    in memory with a shared cache, where a second writer fails at once with
    "database table is locked" instead of waiting as Reglament's WAL file
    with busy_timeout does; so for these tests it is copied to a file
    (``VACUUM INTO``) and every connection is pointed there until the end.
    """
    settings = connection.settings_dict
    if connection.vendor != "sqlite":
        yield (
            f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:"
            f"{settings['PORT']}/{settings['NAME']}"
        )
        return
    memory = str(settings["NAME"])
    path = tmp_path / "reglament.sqlite3"
    # Holds the in-memory database open while no Django connection does.
    keeper = sqlite3.connect(memory, uri=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])
        settings["NAME"] = str(path)
        connection.close()  # a real close now: NAME is no longer the memory database
        yield f"sqlite:///{path}"
    finally:
        connections.close_all()
        settings["NAME"] = memory
        connection.ensure_connection()  # on the memory database again, before the keeper goes
        keeper.close()


@dataclass
class Mailbox:
    """What the test SMTP server received; set `refuse` to make it reject every message."""

    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: bool = False

    def by_recipient(self) -> dict[str, EmailMessage]:
        return {to: message for recipients, message in self.received for to in recipients}


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.mailbox.refuse:
            return "451 4.3.0 Mailbox temporarily unavailable"
        # As a mail client stores it: SMTP's CRLF line ends become the platform's.
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mailbox.received.append(([str(to) for to in envelope.rcpt_tos], message))
        return "250 2.0.0 Accepted"


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1, and MAILERS pointing the SMTP backend at it."""
    mailbox = Mailbox(port=free_port())
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    mailers = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": mailbox.port, "timeout": 10},
        }
    }
    try:
        with override_settings(MAILERS=mailers):
            yield mailbox
    finally:
        controller.stop()
