"""`reglament worker` as a process: its SMTP listener takes an MTA's delivery, the mail
becomes a request, and the customer's acknowledgement goes out through the relay."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest

from reglament.mailbox.models import InboundMessage
from reglament.mailbox.tests.conftest import Outbox
from reglament.mailbox.tests.dovecot import free_port
from reglament.mailbox.tests.intake_support import DOMAIN, intake, mail
from reglament.sla.tests.workers import WorkerProcess, reglament_worker, subprocess_env
from reglament.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTER = "requester@customer.test"
DEADLINE_SECONDS = 60


def _deliver_when_listening(port: int, raw: bytes, worker: WorkerProcess) -> None:
    """Deliver as an MTA would: try again while nothing listens yet (the worker starting)."""
    refused: dict[str, tuple[int, bytes]] | None = None

    def delivered() -> bool:
        nonlocal refused
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                refused = client.sendmail(REQUESTER, [f"support@{DOMAIN}"], raw)
        except ConnectionRefusedError:
            return False
        return True

    assert worker.wait_until(delivered), "the worker never listened"
    assert refused == {}


def test_reglament_worker_listens_files_the_mail_and_acknowledges_it(
    shared_database: str, smtp_server: Outbox, tmp_path: Path
) -> None:
    # given a desk whose mailbox asks for an SMTP listener, and `reglament worker`
    # started on the test database with the test relay for outgoing mail
    port = free_port()
    intake(smtp_listen=f"127.0.0.1:{port}")
    env = subprocess_env(shared_database, tmp_path) | {
        "REGLAMENT_EMAIL_HOST": "127.0.0.1",
        "REGLAMENT_EMAIL_PORT": str(smtp_server.port),
        "REGLAMENT_MAIL_POLL_SECONDS": "1",
        "REGLAMENT_MAIL_LISTEN_CHECK_SECONDS": "1",
    }
    with reglament_worker(env) as worker:
        # when the MTA delivers the customer's message to the listener
        _deliver_when_listening(
            port, mail(sender=f"Иван <{REQUESTER}>", subject="Касса не печатает чеки"), worker
        )
        # ... and the worker has had time to file it and send the acknowledgement
        worker.wait_until(lambda: bool(smtp_server.received))
        code = worker.stop()

    # then the message came in over SMTP and opened one request
    row = InboundMessage.objects.get()
    assert (row.channel, row.state, row.outcome) == ("smtp", "processed", "created")
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.channel) == ("Касса не печатает чеки", "email")
    # and the customer got its acknowledgement with the number
    [(recipients, acknowledgement)] = smtp_server.received
    assert recipients == [REQUESTER]
    assert ticket.number in str(acknowledgement["Subject"])
    # and the worker stopped cleanly, its listener closed with it
    assert code == 0
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", port, timeout=5)
