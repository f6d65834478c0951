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
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from reglament.mailbox import services
from reglament.mailbox.models import Mailbox
from reglament.mailbox.tests.dovecot import DOVECOT, INSTALL_HINT, Dovecot, start_dovecot
from reglament.regulations.models import Regulation
from reglament.sla.tests.conftest import shared_database  # noqa: F401 - a fixture, re-exported

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
