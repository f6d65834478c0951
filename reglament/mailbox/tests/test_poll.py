"""Polling a real Dovecot: every message stored once, acknowledged only after the commit."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from reglament.mailbox import imap, services, storage
from reglament.mailbox.imap import mailbox_poll
from reglament.mailbox.models import InboundMessage, Mailbox
from reglament.mailbox.tests.conftest import OAUTH_TOKEN, MailboxFactory
from reglament.mailbox.tests.dovecot import Dovecot
from reglament.mailbox.tests.factories import message

pytestmark = pytest.mark.django_db

SEEN = r"\Seen"


def rows(mailbox: Mailbox) -> list[InboundMessage]:
    return list(InboundMessage.objects.filter(mailbox=mailbox).order_by("uid", "pk"))


def raw_files(mail_dir: Path) -> list[Path]:
    return sorted(p for p in mail_dir.rglob("*.eml"))


def test_poll_stores_every_message_once_then_flags_it_seen(
    dovecot: Dovecot, imap_mailbox: MailboxFactory, mail_dir: Path
) -> None:
    # given: three unseen messages in the mailbox's folder
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, message(1), message(2), message(3))
    # ... and a look at the flags at the moment each message is committed
    flags_at_commit: list[set[str]] = []
    store = services.inbound_store

    def watching_store(**kwargs: object) -> InboundMessage:
        row = store(**kwargs)  # type: ignore[arg-type]
        flags_at_commit.append(dovecot.flags(mailbox.folder)[row.uid])  # type: ignore[index]
        return row

    # when: one poll
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "inbound_store", watching_store)
        result = mailbox_poll(mailbox)

    # then: three rows, in UID order, with their bytes on disk exactly as sent
    stored = rows(mailbox)
    assert [(r.uid, r.state, r.channel) for r in stored] == [
        (1, "stored", "imap"),
        (2, "stored", "imap"),
        (3, "stored", "imap"),
    ]
    assert [r.message_id for r in stored] == [f"<{n}.test@customer.example>" for n in (1, 2, 3)]
    assert [storage.raw_read(r.raw_path) for r in stored] == [message(n) for n in (1, 2, 3)]
    assert len(raw_files(mail_dir)) == 3
    # ... no message was seen while it was being stored; all are seen after
    assert all(SEEN not in flags for flags in flags_at_commit)
    assert len(flags_at_commit) == 3
    assert all(SEEN in flags for flags in dovecot.flags(mailbox.folder).values())
    # ... the mailbox remembers where it stands and how the poll went
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity == dovecot.uidvalidity(mailbox.folder)
    assert mailbox.last_uid == 3
    assert (mailbox.last_poll_ok, mailbox.last_poll_error, mailbox.last_poll_stored) == (
        True,
        "",
        3,
    )
    assert (result.ok, result.stored, result.duplicates, result.left) == (True, 3, 0, 0)


def test_a_second_poll_stores_nothing_new_and_a_new_message_once(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: a mailbox polled once
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, message(1), message(2))
    mailbox_poll(mailbox)

    # when: polled again, then a message arrives and it is polled once more
    again = mailbox_poll(mailbox)
    dovecot.append(mailbox.folder, message(3))
    later = mailbox_poll(mailbox)

    # then: nothing new the second time, the new message alone the third
    assert (again.ok, again.stored, again.known) == (True, 0, 0)
    assert (later.stored, later.known) == (1, 0)
    assert [r.uid for r in rows(mailbox)] == [1, 2, 3]


def test_batch_takes_the_lowest_uids_and_says_how_many_are_left(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, *(message(n) for n in range(1, 6)))

    first = mailbox_poll(mailbox, batch=2)
    second = mailbox_poll(mailbox, batch=10)

    assert (first.stored, first.left) == (2, 3)
    assert (second.stored, second.left) == (3, 0)
    assert [r.uid for r in rows(mailbox)] == [1, 2, 3, 4, 5]
    flags = dovecot.flags(mailbox.folder)
    assert sorted(uid for uid, f in flags.items() if SEEN in f) == [1, 2, 3, 4, 5]


def test_crash_after_commit_before_flagging_refetches_and_deduplicates(
    dovecot: Dovecot, imap_mailbox: MailboxFactory, mail_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: two messages, and a worker that dies right after committing them,
    # before it could flag them
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, message(1), message(2))

    class Killed(BaseException):
        pass

    def die(*args: object) -> None:
        raise Killed

    monkeypatch.setattr(imap, "_acknowledge", die)
    with pytest.raises(Killed):
        mailbox_poll(mailbox)
    monkeypatch.undo()
    assert [r.uid for r in rows(mailbox)] == [1, 2]
    assert all(SEEN not in f for f in dovecot.flags(mailbox.folder).values())

    # when: the next poll runs
    result = mailbox_poll(mailbox)

    # then: no second row, no lost message, both flagged now
    assert (result.stored, result.known) == (0, 2)
    assert [r.uid for r in rows(mailbox)] == [1, 2]
    assert len(raw_files(mail_dir)) == 2
    assert all(SEEN in f for f in dovecot.flags(mailbox.folder).values())


def test_a_message_the_server_lists_but_does_not_return_is_fetched_again_next_poll(
    dovecot: Dovecot, imap_mailbox: MailboxFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: three messages, and a server that answers the FETCH of the second empty once
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, message(1), message(2), message(3))
    fetch = imap._fetch

    def flaky(client: object, uid: int, *, header_only: bool) -> bytes | None:
        return None if uid == 2 else fetch(client, uid, header_only=header_only)  # type: ignore[arg-type]

    monkeypatch.setattr(imap, "_fetch", flaky)
    mailbox_poll(mailbox)
    monkeypatch.undo()
    mailbox.refresh_from_db()
    # then: the cursor stops short of it, so nothing is skipped for good
    assert mailbox.last_uid == 1
    assert [r.uid for r in rows(mailbox)] == [1, 3]
    # when: the next poll runs
    mailbox_poll(mailbox)
    # then: all three stored, once each
    assert [r.uid for r in rows(mailbox)] == [1, 2, 3]


def test_crash_before_commit_leaves_no_row_and_the_next_poll_stores_it_once(
    dovecot: Dovecot, imap_mailbox: MailboxFactory, mail_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a worker that dies after writing the raw file, before the row is inserted
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, message(1))
    save = InboundMessage.save

    def die(self: InboundMessage, *args: object, **kwargs: object) -> None:
        raise RuntimeError("killed between the file and the row")

    monkeypatch.setattr(InboundMessage, "save", die)
    with pytest.raises(RuntimeError):
        mailbox_poll(mailbox)
    monkeypatch.setattr(InboundMessage, "save", save)
    assert rows(mailbox) == []
    assert len(raw_files(mail_dir)) == 1  # the file may stay: it is named by its bytes
    assert SEEN not in dovecot.flags(mailbox.folder)[1]
    mailbox.refresh_from_db()
    assert mailbox.last_poll_ok is False
    assert "killed between the file and the row" in mailbox.last_poll_error

    # when: the next poll
    result = mailbox_poll(mailbox)

    # then: stored once, the same file, flagged
    assert result.stored == 1
    assert [r.uid for r in rows(mailbox)] == [1]
    assert len(raw_files(mail_dir)) == 1
    assert SEEN in dovecot.flags(mailbox.folder)[1]


def test_a_new_uidvalidity_starts_over_without_duplicate_requests(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: two messages polled; then the server rebuilds the folder (new
    # UIDVALIDITY) with the same two messages, unseen, and a new one
    mailbox = imap_mailbox()
    dovecot.append(mailbox.folder, message(1), message(2))
    mailbox_poll(mailbox)
    old_validity = dovecot.uidvalidity(mailbox.folder)
    dovecot.recreate(mailbox.folder)
    dovecot.append(mailbox.folder, message(1), message(2), message(3))
    assert dovecot.uidvalidity(mailbox.folder) != old_validity

    # when: polled
    result = mailbox_poll(mailbox)

    # then: the two known messages are duplicates of the first rows; one new request-worthy row
    assert (result.stored, result.duplicates) == (1, 2)
    waiting = InboundMessage.objects.filter(mailbox=mailbox, state="stored")
    assert sorted(r.message_id for r in waiting) == [
        "<1.test@customer.example>",
        "<2.test@customer.example>",
        "<3.test@customer.example>",
    ]
    duplicates = InboundMessage.objects.filter(mailbox=mailbox, state="duplicate")
    assert sorted((d.uid, d.duplicate_of.uid) for d in duplicates) == [(1, 1), (2, 2)]  # type: ignore[union-attr]
    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (dovecot.uidvalidity(mailbox.folder), 3)


def test_the_same_message_in_two_mailboxes_makes_one_request_worthy_row(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: one mail sent to support@ and sales@ (two accounts, same Message-ID)
    support = imap_mailbox()
    sales = imap_mailbox(user="sales")
    shared = message(7, message_id="<same@customer.example>")
    dovecot.append(support.folder, shared)
    dovecot.append(sales.folder, shared, user="sales")

    # when: both are polled
    mailbox_poll(support)
    result = mailbox_poll(sales)

    # then: one stored row; the second is a duplicate pointing at it, and seen too
    first = InboundMessage.objects.get(state="stored", message_id="<same@customer.example>")
    second = InboundMessage.objects.get(mailbox=sales)
    assert first.mailbox == support
    assert (second.state, second.duplicate_of) == ("duplicate", first)
    assert result.duplicates == 1
    assert SEEN in dovecot.flags(sales.folder, user="sales")[1]


def test_an_oversized_message_is_rejected_with_its_header_kept(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: a mailbox taking at most 2 KiB, and a 10 KB message
    mailbox = imap_mailbox(max_bytes=2048)
    big = message(1, body="x" * 10_000)
    dovecot.append(mailbox.folder, big, message(2))

    # when: polled
    result = mailbox_poll(mailbox)

    # then: rejected with the reason, only its header on disk; the small one stored
    rejected, small = rows(mailbox)
    assert (rejected.state, rejected.size) == ("rejected", len(big))
    assert f"is {len(big)} bytes" in rejected.error
    assert "at most 2048 bytes" in rejected.error
    assert storage.raw_read(rejected.raw_path) == big.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert small.state == "stored"
    assert (result.stored, result.rejected) == (1, 1)
    assert all(SEEN in f for f in dovecot.flags(mailbox.folder).values())


def test_a_wrong_password_shows_on_the_mailbox_and_in_the_result(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: a mailbox with a wrong password and a message waiting
    mailbox = imap_mailbox(secret="not-the-password")
    dovecot.append(mailbox.folder, message(1))

    # when: polled
    result = mailbox_poll(mailbox)

    # then: not ok, the error says who was refused where and how to fix it
    assert result.ok is False
    assert f"{dovecot.host}:{dovecot.port} refused the login of 'support'" in result.error
    assert "AUTHENTICATIONFAILED" in result.error
    assert f"reglament mailbox update {mailbox.name}" in result.error
    mailbox.refresh_from_db()
    assert (mailbox.last_poll_ok, mailbox.last_poll_error) == (False, result.error)
    assert rows(mailbox) == []
    assert SEEN not in dovecot.flags(mailbox.folder)[1]


def test_an_unreachable_server_and_a_missing_folder_are_errors_not_crashes(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    from reglament.mailbox.tests.dovecot import free_port

    closed = imap_mailbox(imap_port=free_port())
    missing = imap_mailbox(folder="No-Such-Folder")

    down = mailbox_poll(closed)
    no_folder = mailbox_poll(missing)

    assert down.ok is False
    assert "Cannot talk to 127.0.0.1" in down.error
    assert no_folder.ok is False
    assert "has no folder 'No-Such-Folder'" in no_folder.error


def test_stored_messages_are_moved_to_the_processed_folder(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: a mailbox that moves what it stored to a folder not yet created
    processed = f"Processed-{dovecot.new_folder()}"
    mailbox = imap_mailbox(processed_folder=processed)
    dovecot.append(mailbox.folder, message(1), message(2))

    # when: polled twice
    mailbox_poll(mailbox)
    again = mailbox_poll(mailbox)

    # then: the folder is empty, the messages wait in the processed folder, stored once
    assert dovecot.flags(mailbox.folder) == {}
    assert len(dovecot.flags(processed)) == 2
    assert [r.uid for r in rows(mailbox)] == [1, 2]
    assert again.stored == 0


def test_xoauth2_logs_in_with_a_token(dovecot: Dovecot, imap_mailbox: MailboxFactory) -> None:
    # given: a mailbox authenticating with an OAuth2 token (checked by Dovecot
    # against the test token server), and one with a token that is not valid
    good = imap_mailbox(auth="xoauth2", secret=OAUTH_TOKEN)
    bad = imap_mailbox(auth="xoauth2", secret="expired-token")
    dovecot.append(good.folder, message(1))

    # when: both are polled
    ok = mailbox_poll(good)
    refused = mailbox_poll(bad)

    # then: the first stores the message; the second says to check the token
    assert (ok.ok, ok.stored) == (True, 1)
    assert refused.ok is False
    assert "Check the username and the token" in refused.error
    assert "--token-env VAR" in refused.error


def test_imaps_with_a_trusted_certificate_and_refused_without(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: a mailbox on the IMAPS port of the test server (a self-signed certificate)
    mailbox = imap_mailbox(security="ssl", imap_port=dovecot.tls_port)
    dovecot.append(mailbox.folder, message(1))

    # when: polled without trusting the certificate, then trusting it
    untrusted = mailbox_poll(mailbox)
    with override_settings(REGLAMENT_MAIL_CA_FILE=str(dovecot.ca_file)):
        trusted = mailbox_poll(mailbox)

    # then: refused with a hint at the CA setting, then stored
    assert untrusted.ok is False
    assert "TLS with 127.0.0.1" in untrusted.error
    assert "REGLAMENT_MAIL_CA_FILE" in untrusted.error
    assert (trusted.ok, trusted.stored) == (True, 1)


def test_a_message_without_message_id_refetched_after_uidvalidity_change_is_not_new(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: a message with no Message-ID, polled; the folder is rebuilt with it again
    mailbox = imap_mailbox()
    bare = message(1, message_id=None)
    dovecot.append(mailbox.folder, bare)
    mailbox_poll(mailbox)
    dovecot.recreate(mailbox.folder)
    dovecot.append(mailbox.folder, bare)

    # when: polled again
    result = mailbox_poll(mailbox)

    # then: the same bytes in the same mailbox are recognised: a duplicate, not a new request
    assert (result.stored, result.duplicates) == (0, 1)
    assert InboundMessage.objects.filter(mailbox=mailbox, state="stored").count() == 1
