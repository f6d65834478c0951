"""Storing inbound mail and mailbox settings, without a mail server."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from reglament.mailbox import services, storage
from reglament.mailbox.errors import MailboxInvalidError
from reglament.mailbox.models import InboundMessage, Mailbox, MailboxEvent
from reglament.mailbox.selectors import secret_masked
from reglament.mailbox.tests.factories import message
from reglament.regulations.models import Regulation
from reglament.sla.tests.workers import in_parallel


def smtp_box(name: str = "support", **settings: object) -> Mailbox:
    Regulation.objects.get_or_create(id="cera")
    return services.mailbox_add(
        name=name,
        address=f"{name}@vendor.example",
        regulation="cera",
        **settings,  # type: ignore[arg-type]
    )


def store(mailbox: Mailbox, raw: bytes, uid: int | None = None) -> InboundMessage:
    return services.inbound_store(
        mailbox=mailbox,
        raw=raw,
        uidvalidity=None if uid is None else 7,
        uid=uid,
        channel="imap" if uid is not None else "smtp",
    )


# ----------------------------------------------------------------------- storage
def test_message_id_key_ignores_brackets_and_folding_but_not_case() -> None:
    key = storage.message_id_key("<abc.123@Example.COM>")
    assert key == hashlib.sha256(b"abc.123@Example.COM").hexdigest()
    assert storage.message_id_key("  <abc.123@Example.COM>\r\n ") == key
    assert storage.message_id_key("abc.123@Example.COM") == key
    assert storage.message_id_key("<abc.123@example.com>") != key
    assert storage.message_id_key("") is None
    assert storage.message_id_key("<>") is None


def test_message_id_of_reads_the_first_header_unfolded() -> None:
    raw = b"Subject: x\r\nMessage-ID:\r\n <folded@example.com>\r\nMessage-ID: <second@x>\r\n\r\nb"
    assert storage.message_id_of(raw) == "<folded@example.com>"
    assert storage.message_id_of(b"Subject: none\r\n\r\nbody") == ""


def test_raw_write_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    with override_settings(REGLAMENT_MAIL_DIR=tmp_path):
        first = storage.raw_write(b"hello")
        second = storage.raw_write(b"hello")
    digest = hashlib.sha256(b"hello").hexdigest()
    assert first == second == (f"{digest[:2]}/{digest[2:4]}/{digest}.eml", digest)
    assert (tmp_path / first[0]).read_bytes() == b"hello"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{digest}.eml"]


def test_raw_write_replaces_a_truncated_file(tmp_path: Path) -> None:
    # given: a file cut short (a disk full before the rename is impossible, but a
    # copy restored from a damaged backup is not)
    digest = hashlib.sha256(b"complete bytes").hexdigest()
    path = tmp_path / storage.relative_path(digest)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"compl")
    with override_settings(REGLAMENT_MAIL_DIR=tmp_path):
        storage.raw_write(b"complete bytes")
    assert path.read_bytes() == b"complete bytes"


# ------------------------------------------------------------------ mailbox_add
@pytest.mark.django_db
def test_plain_text_imap_is_refused_for_a_remote_host() -> None:
    with pytest.raises(MailboxInvalidError) as refused:
        smtp_box(imap_host="imap.vendor.example", security="none", username="u", secret="p")
    [problem] = refused.value.details["errors"]
    assert problem["field"] == "security"
    assert "allowed only for 127.0.0.1 or localhost" in problem["message"]
    assert not Mailbox.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_plain_text_imap_is_allowed_on_loopback(host: str) -> None:
    mailbox = smtp_box(imap_host=host, security="none", username="u", secret="p")
    assert (mailbox.security, mailbox.imap_port) == ("none", 143)


@pytest.mark.django_db
def test_mailbox_add_names_every_wrong_field() -> None:
    Regulation.objects.create(id="cera")
    with pytest.raises(MailboxInvalidError) as refused:
        services.mailbox_add(
            name="bad name!",
            address="not-an-address",
            regulation="nope",
            imap_host="imap.vendor.example",
            security="ssl",
            folder="INBOX",
            processed_folder="INBOX",
            max_bytes=10,
        )
    assert sorted(p["field"] for p in refused.value.details["errors"]) == [
        "address",
        "max_bytes",
        "name",
        "processed_folder",
        "regulation",
        "secret",
        "username",
    ]


@pytest.mark.django_db
def test_mailbox_add_sets_defaults_and_records_an_event_without_the_secret() -> None:
    mailbox = smtp_box(imap_host="imap.vendor.example", username="support", secret="s3cret")
    assert (mailbox.security, mailbox.imap_port, mailbox.folder, mailbox.auth) == (
        "ssl",
        993,
        "INBOX",
        "password",
    )
    assert mailbox.max_bytes == 25 * 1024 * 1024
    event = MailboxEvent.objects.get(mailbox=mailbox)
    assert event.kind == "added"
    assert "secret" in event.data["fields"]
    assert "s3cret" not in str(event.data)
    assert secret_masked(mailbox.secret) == "set, 6 characters"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("127.0.0.1:2525", "127.0.0.1:2525"),
        (" 10.0.0.5:25 ", "10.0.0.5:25"),
        ("[::1]:2525", "[::1]:2525"),
        ("LocalHost:2526", "localhost:2526"),
    ],
)
def test_an_smtp_listener_address_is_stored_as_host_and_port(given: str, stored: str) -> None:
    assert smtp_box(smtp_listen=given).smtp_listen == stored


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("2525", "is not HOST:PORT"),
        ("mail.vendor.example:2525", "is not an IP address"),
        ("127.0.0.1:0", "from 1 to 65535"),
        ("127.0.0.1:smtp", "from 1 to 65535"),
        ("0.0.0.0:2525", "would accept mail from anywhere"),
        ("[::]:2525", "would accept mail from anywhere"),
        ("93.184.216.34:2525", "would accept mail from anywhere"),
    ],
)
def test_a_wrong_smtp_listener_address_says_how_to_write_it(given: str, says: str) -> None:
    with pytest.raises(MailboxInvalidError) as refused:
        smtp_box(smtp_listen=given)
    [problem] = refused.value.details["errors"]
    assert problem["field"] == "smtp_listen"
    assert says in problem["message"]
    assert "127.0.0.1:2525" in problem["message"]  # the example
    assert not Mailbox.objects.exists()


@pytest.mark.django_db
def test_two_mailboxes_cannot_listen_on_one_port() -> None:
    smtp_box("support", smtp_listen="127.0.0.1:2525")
    other = smtp_box("sales")
    with pytest.raises(MailboxInvalidError) as refused:
        services.mailbox_update(mailbox=other, smtp_listen="127.0.0.1:2525")
    assert "The mailbox support listens on 127.0.0.1:2525 already" in str(refused.value)
    other.refresh_from_db()
    assert other.smtp_listen == ""
    # localhost is 127.0.0.1: the same port there is taken too
    with pytest.raises(MailboxInvalidError):
        services.mailbox_update(mailbox=other, smtp_listen="localhost:2525")
    # the same mailbox keeping its own port is no conflict
    support = Mailbox.objects.get(name="support")
    services.mailbox_update(mailbox=support, smtp_listen="127.0.0.1:2525", max_bytes=4096)


@pytest.mark.django_db
def test_a_second_mailbox_with_the_same_name_is_refused() -> None:
    smtp_box()
    with pytest.raises(MailboxInvalidError) as refused:
        smtp_box()
    assert refused.value.details["errors"][0]["field"] == "name"
    assert "exists already" in refused.value.details["errors"][0]["message"]


@pytest.mark.django_db
def test_pointing_a_mailbox_at_another_folder_starts_polling_over() -> None:
    mailbox = smtp_box(imap_host="imap.vendor.example", username="support", secret="s")
    services.mailbox_cursor_advance(mailbox=mailbox, uidvalidity=9, last_uid=40)

    services.mailbox_update(mailbox=mailbox, folder="Support")
    services.mailbox_update(mailbox=mailbox, folder="Support")  # no change: no event

    mailbox.refresh_from_db()
    assert (mailbox.folder, mailbox.uidvalidity, mailbox.last_uid) == ("Support", None, 0)
    assert mailbox.secret == "s"  # kept
    events = MailboxEvent.objects.filter(mailbox=mailbox).order_by("pk")
    assert [(e.kind, e.data["fields"]) for e in events][1:] == [("updated", ["folder"])]
    assert [e.kind for e in events] == ["added", "updated"]


@pytest.mark.django_db
def test_pointing_a_mailbox_at_another_server_needs_the_secret_given_again() -> None:
    # given: a mailbox with its password stored
    mailbox = smtp_box(imap_host="imap.vendor.example", username="support", secret="s3cret")
    # when: someone points it at another server without giving a password
    with pytest.raises(MailboxInvalidError) as refused:
        services.mailbox_update(mailbox=mailbox, imap_host="imap.attacker.example")
    # then: refused on the secret, nothing changed, so the password never goes there
    assert refused.value.details["errors"][0]["field"] == "secret"
    mailbox.refresh_from_db()
    assert (mailbox.imap_host, mailbox.secret) == ("imap.vendor.example", "s3cret")
    # and: with the new server's password it is accepted
    services.mailbox_update(mailbox=mailbox, imap_host="imap2.vendor.example", secret="other")
    mailbox.refresh_from_db()
    assert (mailbox.imap_host, mailbox.secret) == ("imap2.vendor.example", "other")


# ---------------------------------------------------------------- inbound_store
@pytest.mark.django_db
def test_the_same_imap_uid_stored_twice_is_one_row(mail_dir: Path) -> None:
    mailbox = smtp_box()
    first = store(mailbox, message(1), uid=5)
    again = store(mailbox, message(1), uid=5)
    assert again.pk == first.pk
    assert InboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_known_message_id_in_another_mailbox_is_a_duplicate_row(mail_dir: Path) -> None:
    support, sales = smtp_box("support"), smtp_box("sales")
    first = store(support, message(1))
    second = store(sales, message(1) + b"(forwarded copy)\r\n")
    assert (first.state, first.duplicate_of) == ("stored", None)
    assert (second.state, second.duplicate_of_id) == ("duplicate", first.pk)
    assert second.message_id_hash == first.message_id_hash
    assert InboundMessage.objects.filter(state="stored").count() == 1


@pytest.mark.django_db
def test_an_smtp_retry_of_a_message_without_message_id_is_a_duplicate(mail_dir: Path) -> None:
    mailbox = smtp_box()
    raw = message(1, message_id=None)
    first = store(mailbox, raw)
    retry = store(mailbox, raw)
    other = store(mailbox, message(2, message_id=None))
    assert (first.state, first.message_id_hash) == ("stored", None)
    assert (retry.state, retry.duplicate_of_id) == ("duplicate", first.pk)
    assert other.state == "stored"


@pytest.mark.django_db
def test_an_oversized_message_keeps_its_header_and_the_reason(mail_dir: Path) -> None:
    mailbox = smtp_box(max_bytes=1024)
    raw = message(1, body="y" * 5000)
    row = store(mailbox, raw)
    assert (row.state, row.size) == ("rejected", len(raw))
    assert storage.raw_read(row.raw_path) == raw.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert row.sha256 == hashlib.sha256(storage.raw_read(row.raw_path)).hexdigest()
    assert "at most 1024 bytes" in row.error


@pytest.mark.django_db(transaction=True)
def test_two_workers_storing_the_same_message_at_once_leave_one_row(
    shared_database: str, tmp_path: Path
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: SQLite lets one IMMEDIATE transaction write at a time")
    # given: one mailbox; two workers that fetched the same IMAP message (same
    # UID) and another message with the same Message-ID, all at the same instant
    mailbox = smtp_box()
    other = smtp_box("sales")
    gate = threading.Barrier(4)
    save = InboundMessage.save
    waited = threading.local()

    def save_together(self: InboundMessage, *args: object, **kwargs: object) -> None:
        if not getattr(waited, "done", False):
            waited.done = True
            gate.wait(10)  # every thread has looked and found nothing; now all insert
        save(self, *args, **kwargs)  # type: ignore[arg-type]

    with override_settings(REGLAMENT_MAIL_DIR=tmp_path / "mail"), pytest.MonkeyPatch.context() as p:
        p.setattr(InboundMessage, "save", save_together)
        rows = in_parallel(
            [
                lambda: store(mailbox, message(1), uid=1),
                lambda: store(mailbox, message(1), uid=1),
                lambda: store(other, message(1), uid=1),
                lambda: store(other, message(1), uid=1),
            ]
        )

    # then: one row per (mailbox, uid), one of them stored and the other its duplicate
    # (three of the four lost a race on a unique key, looked again and found the winner)
    assert InboundMessage.objects.count() == 2
    states = sorted(InboundMessage.objects.values_list("state", flat=True))
    assert states == ["duplicate", "stored"]
    assert len({row.pk for row in rows}) == 2  # type: ignore[attr-defined]
