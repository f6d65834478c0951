"""An SMTP listener (aiosmtpd) an MTA delivers one mailbox's mail into.

Each message (DATA) is stored with `inbound_store` (channel smtp) and answered
250 only after the commit; if storing fails the answer is 451, so the MTA keeps
the message and tries again later. A message over the mailbox's size limit is
refused with 552 during DATA (and announced in EHLO SIZE), so the MTA returns
it to the sender. There is no authentication: listen on 127.0.0.1 (the
default) or a private address the MTA alone can reach.

`reglament worker` runs the listeners of the mailboxes that name one
(`Mailbox.smtp_listen`, HOST:PORT) through `SmtpListeners`: every
REGLAMENT_MAIL_LISTEN_CHECK_SECONDS it starts the ones added or changed and
stops the ones removed or disabled. With several workers the first to bind a
port serves it; the others find it taken, say so once, and try again at each
check, so one of them takes over within a check after that worker stops.
`reglament mailbox listen` runs one listener on its own.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections, connections

from reglament.mailbox import services
from reglament.mailbox.models import InboundMessage, Mailbox

logger = logging.getLogger(__name__)

# How long a stopping listener waits for a message being stored to get its answer.
STOP_GRACE = 10.0


class IntakeHandler:
    """aiosmtpd handler: store every message for one mailbox, answer after the commit."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox_id = mailbox.pk
        # One thread does the database work, in arrival order, on one connection:
        # the ORM is synchronous and must not run on the event loop.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-intake")
        self.in_flight = 0  # messages being stored now (read when stopping)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # Only an MTA on this machine or the private network may deliver: the intake
        # trusts the Authentication-Results our MTA writes, which a client talking to
        # the listener directly could forge.
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        if not services.is_local_network(peer):
            logger.warning("SMTP intake: refused mail from %s (not a local address)", peer)
            return "550 5.7.1 Mail is accepted only from the local network"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        try:
            row = await loop.run_in_executor(self.executor, self.store, raw)
        except Exception:
            logger.exception("SMTP intake: storing a message of %d bytes failed", len(raw))
            return "451 4.3.0 Message not stored, try again later"
        finally:
            self.in_flight -= 1
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


def _probe(host: str, port: int) -> None:
    """OSError unless (host, port) can be bound now, as the listener will bind it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


@dataclass(slots=True)
class _Running:
    listen: str
    max_bytes: int
    address: str
    controller: Controller
    handler: IntakeHandler

    def stop(self) -> None:
        """Stop accepting connections, let a message being stored get its answer (at
        most STOP_GRACE seconds; else the MTA resends it and the Message-ID keeps it
        from being stored twice), then stop."""
        server = self.controller.server
        if server is not None:
            self.controller.loop.call_soon_threadsafe(server.close)
            deadline = time.monotonic() + STOP_GRACE
            while self.handler.in_flight and time.monotonic() < deadline:
                time.sleep(0.05)
        self.controller.stop()
        self.handler.close()


class SmtpListeners:
    """The SMTP listeners of the enabled mailboxes that name one, kept in step with the
    database by `sync` (which `run` calls every `interval` seconds until stopped)."""

    def __init__(self) -> None:
        self.running: dict[int, _Running] = {}
        # Why a mailbox's listener could not start, as last said (said again only
        # when it changes, not at every check).
        self.refused: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # sync (on the checking thread) and stop (on the worker's) never overlap.
        self._lock = threading.Lock()

    def sync(self) -> dict[str, int]:
        """Start the listeners the mailboxes ask for and stop the others; what runs."""
        try:
            wanted = {
                mailbox.pk: mailbox
                for mailbox in Mailbox.objects.filter(enabled=True).exclude(smtp_listen="")
            }
        finally:
            close_old_connections()
        with self._lock:
            if self._stop.is_set():
                return {"listening": 0, "started": 0, "stopped": 0, "waiting": len(wanted)}
            return self._sync(wanted)

    def _sync(self, wanted: dict[int, Mailbox]) -> dict[str, int]:
        stopped = started = 0
        for pk, running in list(self.running.items()):
            mailbox = wanted.get(pk)
            if mailbox is None or (running.listen, running.max_bytes, running.address) != (
                mailbox.smtp_listen,
                mailbox.max_bytes,
                mailbox.address,
            ):
                running.stop()
                del self.running[pk]
                stopped += 1
                logger.info("mailbox %s: SMTP listener on %s stopped", pk, running.listen)
        for pk in set(self.refused) - set(wanted):
            del self.refused[pk]
        for pk, mailbox in wanted.items():
            if pk in self.running:
                continue
            started += self._start(mailbox)
        return {
            "listening": len(self.running),
            "started": started,
            "stopped": stopped,
            "waiting": len(wanted) - len(self.running),
        }

    def _start(self, mailbox: Mailbox) -> int:
        try:
            host, port = services.listen_address(mailbox.smtp_listen)
            # Taken (by another worker, most often): said at once, where the controller
            # would wait its whole start-up timeout to report it.
            _probe(host, port)
            controller, handler = listener(mailbox, host=host, port=port)
            try:
                controller.start()
            except BaseException:
                handler.close()
                if not controller.loop.is_running():
                    controller.loop.close()  # its selector and self-pipe, else leaked
                raise
        except (OSError, RuntimeError, ValueError) as error:
            reason = f"{type(error).__name__}: {error}"
            if self.refused.get(mailbox.pk) != reason:
                self.refused[mailbox.pk] = reason
                logger.warning(
                    "mailbox %s: cannot listen for SMTP on %s (%s); another worker may serve "
                    "it. Trying again at each check.",
                    mailbox.name,
                    mailbox.smtp_listen,
                    reason,
                )
            return 0
        self.refused.pop(mailbox.pk, None)
        self.running[mailbox.pk] = _Running(
            mailbox.smtp_listen, mailbox.max_bytes, mailbox.address, controller, handler
        )
        logger.info("mailbox %s: SMTP listener on %s", mailbox.name, mailbox.smtp_listen)
        return 1

    def start(self, *, interval: float) -> None:
        """Sync now and then every `interval` seconds on a thread of its own."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="smtp-listeners", daemon=True
        )
        self._thread.start()

    def _run(self, interval: float) -> None:
        try:
            while True:
                try:
                    self.sync()
                except Exception:
                    # The database may be away for a moment; the listeners stay up.
                    logger.exception("SMTP listeners: the check failed; trying again later")
                    close_old_connections()
                if self._stop.wait(interval):
                    return
        finally:
            connections.close_all()  # this thread's own connection

    def stop(self) -> None:
        """Stop checking and stop every listener (each lets the message it is storing
        get its answer first)."""
        self._stop.set()
        with self._lock:  # waits for a check under way; none starts after this
            for running in self.running.values():
                running.stop()
            self.running.clear()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
