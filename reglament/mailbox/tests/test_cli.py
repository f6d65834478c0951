"""`reglament mailbox …`: add, list, show, update, poll."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reglament.cli import main
from reglament.mailbox.models import InboundMessage, Mailbox
from reglament.mailbox.tests.dovecot import Dovecot
from reglament.mailbox.tests.factories import message
from reglament.regulations.models import Regulation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cera(db: None) -> Regulation:
    return Regulation.objects.get_or_create(id="cera")[0]


def test_add_reads_the_password_from_the_environment_and_never_prints_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAIL_PASSWORD", "pa55-word")
    code = main(
        [
            "mailbox",
            "add",
            "support",
            "--address",
            "support@vendor.example",
            "--regulation",
            "cera",
            "--imap-host",
            "imap.vendor.example",
            "--username",
            "support",
            "--password-env",
            "MAIL_PASSWORD",
        ]
    )
    assert code == 0
    mailbox = Mailbox.objects.get(name="support")
    assert (mailbox.secret, mailbox.auth, mailbox.security, mailbox.imap_port) == (
        "pa55-word",
        "password",
        "ssl",
        993,
    )
    assert main(["mailbox", "show", "support", "--json"]) == 0
    assert main(["mailbox", "list"]) == 0
    out = capsys.readouterr().out
    assert "pa55-word" not in out
    shown = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert shown["secret"] == "set, 9 characters"
    assert "support" in out.splitlines()[-1]
    assert "not polled yet" in out.splitlines()[-1]


def test_add_reads_a_token_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("ya29.token\n"))
    code = main(
        [
            "mailbox",
            "add",
            "support",
            "--address",
            "support@vendor.example",
            "--regulation",
            "cera",
            "--imap-host",
            "imap.vendor.example",
            "--username",
            "support@vendor.example",
            "--token-stdin",
        ]
    )
    assert code == 0
    mailbox = Mailbox.objects.get()
    assert (mailbox.auth, mailbox.secret) == ("xoauth2", "ya29.token")


def test_add_with_plain_text_to_a_remote_host_says_what_and_how_to_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAIL_PASSWORD", "x")
    code = main(
        [
            "mailbox",
            "add",
            "support",
            "--address",
            "support@vendor.example",
            "--regulation",
            "cera",
            "--imap-host",
            "imap.vendor.example",
            "--security",
            "none",
            "--username",
            "support",
            "--password-env",
            "MAIL_PASSWORD",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("reglament mailbox add: error: security: Without TLS")
    assert "Use ssl (port 993) or starttls (port 143)." in err
    assert not Mailbox.objects.exists()


def test_an_unset_password_variable_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "mailbox",
            "add",
            "support",
            "--address",
            "support@vendor.example",
            "--regulation",
            "cera",
            "--password-env",
            "NO_SUCH_VARIABLE_HERE",
        ]
    )
    assert code == 2
    assert "--password-env NO_SUCH_VARIABLE_HERE: the environment variable is not set" in (
        capsys.readouterr().err
    )


def test_the_password_cannot_be_given_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["mailbox", "add", "x", "--address", "a@b.example", "--regulation", "cera",
              "--password", "secret"])  # fmt: skip
    assert refused.value.code == 2


def test_show_of_an_unknown_mailbox_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mailbox", "show", "nope"]) == 1
    assert "There is no mailbox 'nope'; see the mailboxes with" in capsys.readouterr().err


def test_poll_prints_what_was_stored_and_update_changes_settings(
    dovecot: Dovecot,
    mail_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given: a mailbox added with a wrong password, and two messages waiting
    folder = dovecot.new_folder()
    dovecot.append(folder, message(1), message(2))
    monkeypatch.setenv("MAIL_PASSWORD", "wrong")
    assert main(["mailbox", "add", "support", "--address", "support@vendor.example",
                 "--regulation", "cera", "--imap-host", dovecot.host,
                 "--imap-port", str(dovecot.port), "--security", "none",
                 "--username", "support", "--password-env", "MAIL_PASSWORD",
                 "--folder", folder]) == 0  # fmt: skip

    # when: polled, the password fixed, polled again
    failed = main(["mailbox", "poll", "support"])
    failed_err = capsys.readouterr().err
    monkeypatch.setenv("MAIL_PASSWORD", dovecot.users["support"])
    assert main(["mailbox", "update", "support", "--password-env", "MAIL_PASSWORD"]) == 0
    polled = main(["mailbox", "poll", "support"])
    out = capsys.readouterr().out

    # then: the failure exits 1 and says how to fix it; the second poll stores both
    assert failed == 1
    assert "reglament mailbox poll: error: 127.0.0.1:" in failed_err
    assert "refused the login of 'support'" in failed_err
    assert polled == 0
    assert "support: 2 stored, 0 duplicates, 0 rejected" in out
    assert InboundMessage.objects.count() == 2
