"""A poll process killed mid-batch and started again: every message once, none lost."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reglament.mailbox.models import InboundMessage
from reglament.mailbox.tests.conftest import MailboxFactory
from reglament.mailbox.tests.dovecot import Dovecot
from reglament.mailbox.tests.factories import message
from reglament.sla.tests.workers import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 50


def killed_after(stored: int, name: str, env: dict[str, str]) -> list[str]:
    """Run a poll of `name` and SIGKILL it once it has committed `stored` messages."""
    process = subprocess.Popen(
        [sys.executable, "-m", "reglament.mailbox.tests.slow_poll", name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        while len(lines) < stored:
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else "no output"
            lines.append(line.strip())
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return lines


def test_a_poll_killed_twice_mid_batch_stores_every_message_exactly_once(
    shared_database: str,
    tmp_path: Path,
    dovecot: Dovecot,
    imap_mailbox: MailboxFactory,
) -> None:
    # given: 50 messages waiting in the mailbox's folder
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, *(message(n) for n in range(1, MESSAGES + 1)))
    env = subprocess_env(shared_database, tmp_path) | {"REGLAMENT_MAIL_DIR": str(tmp_path / "mail")}

    # when: a poll is killed after 12 commits (none flagged yet: the first
    # chunk of 25 is acknowledged together), another after 20 more
    first = killed_after(12, mailbox.name, env)
    second = killed_after(20, mailbox.name, env)
    # ... and a third poll runs to the end
    third = subprocess.run(
        [sys.executable, "-m", "reglament.cli", "mailbox", "poll", mailbox.name],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # then: each process stored where the previous one had stopped
    assert first == [f"stored {uid}" for uid in range(1, 13)]
    assert second == [f"stored {uid}" for uid in range(13, 33)]
    assert third.returncode == 0, third.stderr
    # ... exactly 50 rows, 50 raw files, every message flagged seen
    rows = InboundMessage.objects.filter(mailbox=mailbox)
    assert list(rows.order_by("uid").values_list("uid", flat=True)) == list(range(1, MESSAGES + 1))
    assert set(rows.values_list("state", flat=True)) == {"stored"}
    files = sorted(p.name for p in (tmp_path / "mail").rglob("*.eml"))
    assert len(files) == MESSAGES
    assert sorted(f"{sha}.eml" for sha in rows.values_list("sha256", flat=True)) == files
    flags = dovecot.flags(mailbox.folder)
    assert len(flags) == MESSAGES
    assert all(r"\Seen" in f for f in flags.values())
    mailbox.refresh_from_db()
    assert (mailbox.last_uid, mailbox.last_poll_ok) == (MESSAGES, True)
    # ... the third found 26-32 stored but not flagged (the second died there)
    # and stored the 18 others
    # (the summary is in the site's language: compare its figures, in their order)
    name, _colon, figures = third.stdout.partition(": ")
    assert name == mailbox.name
    assert re.findall(r"\d+", figures)[:4] == ["18", "0", "0", "7"]
