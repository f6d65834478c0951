"""The SMTP listener: 250 only once stored, 451 when storing fails, 552 over the size limit."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import Envelope, Session

from reglament.mailbox import services, storage
from reglament.mailbox.models import InboundMessage, Mailbox
from reglament.mailbox.smtp import IntakeHandler, SmtpListeners, listener
from reglament.mailbox.tests.dovecot import free_port
from reglament.mailbox.tests.factories import message
from reglament.regulations.models import Regulation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp_mailbox(shared_database: str, mail_dir: Path) -> Mailbox:
    Regulation.objects.get_or_create(id="cera")
    return services.mailbox_add(
        name="support", address="support@vendor.example", regulation="cera", max_bytes=4096
    )


@pytest.fixture
def smtp_port(smtp_mailbox: Mailbox) -> Iterator[int]:
    port = free_port()
    controller, handler = listener(smtp_mailbox, host="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
        handler.close()


def test_a_delivered_message_is_stored_then_answered_250(
    smtp_mailbox: Mailbox, smtp_port: int
) -> None:
    raw = message(1)
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail("ivan@customer.example")
        client.rcpt("support@vendor.example")
        code, answer = client.data(raw)

    row = InboundMessage.objects.get()
    assert (code, answer) == (250, f"2.0.0 Stored as {row.pk}".encode())
    assert (row.mailbox_id, row.channel, row.uid, row.state) == (
        smtp_mailbox.pk,
        "smtp",
        None,
        "stored",
    )
    assert row.message_id == "<1.test@customer.example>"
    # SMTP's dot-stuffing and line ends undone: the bytes as the sender wrote them
    assert storage.raw_read(row.raw_path) == raw


def test_a_message_over_the_limit_is_refused_with_552(
    smtp_mailbox: Mailbox, smtp_port: int
) -> None:
    big = message(1, body="z" * 70 + ("\r\n" + "z" * 70) * 150)
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        # the limit is announced, and a client that says the size is refused at once
        assert client.ehlo()[0] == 250
        assert client.esmtp_features["size"] == "4096"
        with pytest.raises(smtplib.SMTPSenderRefused) as at_mail:
            client.sendmail("ivan@customer.example", ["support@vendor.example"], big)
        assert at_mail.value.smtp_code == 552
        # ... and one that does not is refused at the end of DATA
        client.rset()
        client.mail("ivan@customer.example")
        client.rcpt("support@vendor.example")
        code, _answer = client.data(big)
    assert code == 552
    assert not InboundMessage.objects.exists()


def test_a_failure_to_store_answers_451_so_the_mta_retries(
    smtp_mailbox: Mailbox, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> InboundMessage:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(services, "inbound_store", broken)
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail("ivan@customer.example")
        client.rcpt("support@vendor.example")
        code, _answer = client.data(message(1))
    assert code == 451
    assert not InboundMessage.objects.exists()

    # when: the MTA retries once storing works again
    monkeypatch.undo()
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        refused = client.sendmail("ivan@customer.example", ["support@vendor.example"], message(1))
    assert refused == {}
    assert InboundMessage.objects.get().state == "stored"


# ------------------------------------------------- the listeners `reglament worker` runs
def _deliver(port: int, raw: bytes) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail("ivan@customer.example", ["support@vendor.example"], raw)


def test_the_worker_s_listeners_follow_the_mailbox_settings(
    smtp_mailbox: Mailbox, tmp_path: Path
) -> None:
    # given a worker's listeners and the mailbox told to listen on a free port
    port = free_port()
    services.mailbox_update(mailbox=smtp_mailbox, smtp_listen=f"127.0.0.1:{port}")
    listeners = SmtpListeners()
    try:
        # when they check: the mailbox's listener starts and stores what is delivered
        assert listeners.sync() == {"listening": 1, "started": 1, "stopped": 0, "waiting": 0}
        assert _deliver(port, message(1)) == {}
        assert InboundMessage.objects.get().channel == "smtp"
        # a check with nothing changed changes nothing
        assert listeners.sync()["started"] == 0

        # when the mailbox moves to another port: the old one closes, the new one opens
        moved = free_port()
        services.mailbox_update(mailbox=smtp_mailbox, smtp_listen=f"127.0.0.1:{moved}")
        assert listeners.sync() == {"listening": 1, "started": 1, "stopped": 1, "waiting": 0}
        with pytest.raises(ConnectionRefusedError):
            _deliver(port, message(2))
        assert _deliver(moved, message(2)) == {}

        # when the mailbox is disabled: nothing listens
        services.mailbox_update(mailbox=smtp_mailbox, enabled=False)
        assert listeners.sync()["listening"] == 0
        with pytest.raises(ConnectionRefusedError):
            _deliver(moved, message(3))
    finally:
        listeners.stop()
    assert InboundMessage.objects.count() == 2


def test_a_second_worker_takes_the_port_over_when_the_first_stops(
    smtp_mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    # given two workers' listeners and one mailbox with a listener
    port = free_port()
    services.mailbox_update(mailbox=smtp_mailbox, smtp_listen=f"127.0.0.1:{port}")
    first, second = SmtpListeners(), SmtpListeners()
    try:
        assert first.sync()["listening"] == 1
        # when the second checks: the port is taken; it says so once and waits
        assert second.sync() == {"listening": 0, "started": 0, "stopped": 0, "waiting": 1}
        assert second.sync()["waiting"] == 1
        said = [r.getMessage() for r in caplog.records if "cannot listen" in r.getMessage()]
        assert len(said) == 1
        assert f"127.0.0.1:{port}" in said[0]
        # when the first worker stops: the second's next check takes the port
        first.stop()
        assert second.sync()["started"] == 1
        assert _deliver(port, message(1)) == {}
    finally:
        first.stop()
        second.stop()
    assert InboundMessage.objects.get().state == "stored"


@pytest.mark.parametrize(
    ("peer", "answer"),
    [("127.0.0.1", "250 OK"), ("10.1.2.3", "250 OK"), ("93.184.216.34", "550 5.7.1")],
)
def test_only_the_local_network_may_deliver(smtp_mailbox: Mailbox, peer: str, answer: str) -> None:
    # a client reaching the listener directly could forge the Authentication-Results
    # our MTA writes; only addresses the Internet cannot reach may hand over mail
    handler = IntakeHandler(smtp_mailbox)
    try:
        session = Session(loop=asyncio.new_event_loop())
        session.peer = (peer, 40000)  # type: ignore[assignment]
        envelope = Envelope()
        said = asyncio.run(
            handler.handle_MAIL(None, session, envelope, "ivan@customer.example", [])  # type: ignore[arg-type]
        )
    finally:
        session.loop.close()
        handler.close()
    assert said.startswith(answer)
    assert (envelope.mail_from == "ivan@customer.example") == said.startswith("250")
