"""An SMTP listener (aiosmtpd) an MTA delivers one mailbox's mail into.

Each message (DATA) is stored with `inbound_store` (channel smtp) and answered
250 only after the commit; if storing fails the answer is 451, so the MTA keeps
the message and tries again later. A message over the mailbox's size limit is
refused with 552 during DATA (and announced in EHLO SIZE), so the MTA returns
it to the sender. There is no authentication: listen on 127.0.0.1 (the
default) or a private address the MTA alone can reach.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections, connections

from reglament.mailbox import services
from reglament.mailbox.models import InboundMessage, Mailbox

logger = logging.getLogger(__name__)


class IntakeHandler:
    """aiosmtpd handler: store every message for one mailbox, answer after the commit."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox_id = mailbox.pk
        # One thread does the database work, in arrival order, on one connection:
        # the ORM is synchronous and must not run on the event loop.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-intake")

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            row = await loop.run_in_executor(self.executor, self.store, raw)
        except Exception:
            logger.exception("SMTP intake: storing a message of %d bytes failed", len(raw))
            return "451 4.3.0 Message not stored, try again later"
        return f"250 2.0.0 Stored as {row.pk}"

    def store(self, raw: bytes) -> InboundMessage:
        close_old_connections()
        try:
            mailbox = Mailbox.objects.get(pk=self.mailbox_id)
            return services.inbound_store(
                mailbox=mailbox,
                raw=raw,
                uidvalidity=None,
                uid=None,
                channel=InboundMessage.Channel.SMTP,
            )
        finally:
            close_old_connections()

    def close(self) -> None:
        """Wait for the message being stored, then close the thread's connection."""
        self.executor.submit(connections.close_all).result()
        self.executor.shutdown(wait=True)


def listener(mailbox: Mailbox, *, host: str, port: int) -> tuple[Controller, IntakeHandler]:
    """A started-on-demand SMTP server for `mailbox` (call .start() and .stop())."""
    handler = IntakeHandler(mailbox)
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=int(mailbox.max_bytes),
        server_hostname=mailbox.address.rsplit("@", 1)[-1] or None,
        ident="Reglament",
    )
    return controller, handler
