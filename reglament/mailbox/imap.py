"""Polling a mailbox over IMAP (imap-tools): fetch, store, commit, then acknowledge.

One poll logs in, selects the folder, reads its UIDVALIDITY and takes the UIDs
above the last one acknowledged under it (a new UIDVALIDITY starts over from 1;
the Message-ID keeps messages stored before from becoming requests twice). For
each message, in UID order: its size, then its bytes with BODY.PEEK (reading
does not mark it seen), `inbound_store` and COMMIT. Only after the commit is
the message flagged \\Seen, or moved to the processed folder, and only then
does the cursor pass it. A crash anywhere leaves either no row (the message is
fetched again) or a row with the message not acknowledged (fetched again, found
by (mailbox, UIDVALIDITY, UID), acknowledged): nothing is lost or stored twice.

A server that refuses the login, cannot be reached or has no such folder ends
the poll with ok=False and an error that says what to fix; the error is shown
on the mailbox until a poll succeeds.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from imap_tools import (
    BaseMailBox,
    ImapToolsError,
    MailBox,
    MailboxFolderSelectError,
    MailboxLoginError,
    MailBoxStartTls,
    MailBoxUnencrypted,
    UnexpectedCommandStatusError,
)

from reglament.mailbox import services
from reglament.mailbox.models import InboundMessage, Mailbox

logger = logging.getLogger(__name__)

# Messages fetched, stored and then acknowledged together (one STORE or MOVE).
CHUNK = 25
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapCommandError(ImapToolsError):
    """The server answered NO or BAD to a command the poll sent itself."""


@dataclass(frozen=True)
class PollResult:
    """What one poll of one mailbox did."""

    mailbox: str
    ok: bool
    error: str = ""
    uidvalidity: int | None = None
    # New rows by state, rows found stored before (fetched again after a crash),
    # and the UIDs still waiting beyond this poll's batch.
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    known: int = 0
    left: int = 0
    messages: tuple[int, ...] = field(default=(), repr=False)  # InboundMessage ids

    def summary(self) -> str:
        if not self.ok:
            return _("%(mailbox)s: poll failed: %(error)s") % {
                "mailbox": self.mailbox,
                "error": self.error,
            }
        return _(
            "%(mailbox)s: %(stored)d stored, %(duplicates)d duplicates, %(rejected)d rejected, "
            "%(known)d stored before, %(left)d left for the next poll"
        ) % {
            "mailbox": self.mailbox,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "known": self.known,
            "left": self.left,
        }


@dataclass
class _Tally:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    known: int = 0
    messages: list[int] = field(default_factory=list)

    def add(self, row: InboundMessage) -> None:
        self.messages.append(row.pk)
        if row.state == InboundMessage.State.DUPLICATE:
            self.duplicates += 1
        elif row.state == InboundMessage.State.REJECTED:
            self.rejected += 1
        else:
            self.stored += 1


def mailbox_poll(mailbox: Mailbox, *, batch: int | None = None) -> PollResult:
    """Poll `mailbox` once, storing at most `batch` messages; the outcome is recorded on it.

    Server and network failures are returned (ok=False), never raised; anything
    else (the database, the disk) is raised after recording it.
    """
    batch = batch or settings.REGLAMENT_MAIL_POLL_BATCH
    started = timezone.now()
    tally = _Tally()
    try:
        uidvalidity, left = _poll(mailbox, batch=batch, tally=tally)
    except (ImapToolsError, imaplib.IMAP4.error, OSError, EOFError) as error:
        result = _result(mailbox, tally, ok=False, error=explain(mailbox, error))
    except Exception as error:
        services.mailbox_poll_record(
            mailbox=mailbox,
            at=started,
            ok=False,
            error=_("Internal error while storing mail: %(error)r") % {"error": error},
            stored=tally.stored,
        )
        raise
    else:
        result = _result(mailbox, tally, ok=True, uidvalidity=uidvalidity, left=left)
    services.mailbox_poll_record(
        mailbox=mailbox, at=started, ok=result.ok, error=result.error, stored=result.stored
    )
    return result


def _result(mailbox: Mailbox, tally: _Tally, **outcome: object) -> PollResult:
    return PollResult(
        mailbox=mailbox.name,
        stored=tally.stored,
        duplicates=tally.duplicates,
        rejected=tally.rejected,
        known=tally.known,
        messages=tuple(tally.messages),
        **outcome,  # type: ignore[arg-type]
    )


def _poll(mailbox: Mailbox, *, batch: int, tally: _Tally) -> tuple[int, int]:
    if not mailbox.imap_host:
        raise ImapCommandError(
            _("the mailbox has no IMAP host; it receives mail through 'reglament mailbox listen'.")
        )
    client = connect(mailbox)
    try:
        login(client, mailbox)
        client.folder.set(mailbox.folder)
        uidvalidity = _uidvalidity(client, mailbox.folder)
        after = mailbox.last_uid if uidvalidity == mailbox.uidvalidity else 0
        if after == 0 and mailbox.uidvalidity not in (None, uidvalidity):
            logger.warning(
                "mailbox %s: UIDVALIDITY of %s changed from %s to %s; reading it from the start",
                mailbox.name,
                mailbox.folder,
                mailbox.uidvalidity,
                uidvalidity,
            )
        uids = [uid for uid in _uids_after(client, after) if uid > after]
        todo = uids[:batch]
        capabilities = _capabilities(client)
        for chunk in _chunks(todo, CHUNK):
            if not _take(client, mailbox, uidvalidity, chunk, tally, capabilities):
                break  # a message could not be fetched: the next poll starts from it
        return uidvalidity, len(uids) - len(todo)
    finally:
        _logout(client)


def _take(
    client: BaseMailBox,
    mailbox: Mailbox,
    uidvalidity: int,
    chunk: Sequence[int],
    tally: _Tally,
    capabilities: frozenset[str],
) -> bool:
    """Store a chunk of messages, each committed, then acknowledge those stored; False
    when one of them could not be fetched (the cursor then stops short of it)."""
    sizes = _sizes(client, chunk)
    known = set(
        InboundMessage.objects.filter(
            mailbox=mailbox, uidvalidity=uidvalidity, uid__in=chunk
        ).values_list("uid", flat=True)
    )
    done: list[int] = []
    missed: list[int] = []
    try:
        for uid in chunk:
            if uid in known:
                tally.known += 1
                done.append(uid)
                continue
            size = sizes.get(uid)
            if size is None:  # expunged since the search: nothing to store or acknowledge
                continue
            raw = _fetch(client, uid, header_only=size > mailbox.max_bytes)
            if raw is None:  # listed but not fetched: try it again next poll
                missed.append(uid)
                continue
            # Committed when it returns (its own transaction).
            row = services.inbound_store(
                mailbox=mailbox,
                raw=raw,
                uidvalidity=uidvalidity,
                uid=uid,
                channel=InboundMessage.Channel.IMAP,
                size=size,
            )
            tally.add(row)
            done.append(uid)
    except BaseException:
        # What is committed is acknowledged if the connection still allows it;
        # otherwise the next poll finds those rows and acknowledges them then.
        try:
            _acknowledge(client, mailbox, done, capabilities)
        except Exception:  # noqa: S110 - the first error is the one to report
            pass
        raise
    _acknowledge(client, mailbox, done, capabilities)
    # Every UID of the chunk up to the first one not fetched is now stored and
    # acknowledged, or was expunged; the cursor never passes a message not stored.
    last = min(missed) - 1 if missed else chunk[-1]
    services.mailbox_cursor_advance(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=last)
    return not missed


def _acknowledge(
    client: BaseMailBox, mailbox: Mailbox, uids: Sequence[int], capabilities: frozenset[str]
) -> None:
    """Flag the stored messages \\Seen, or move them to the processed folder."""
    if not uids:
        return
    uid_set = ",".join(str(uid) for uid in uids)
    if not mailbox.processed_folder:
        _check(client.client.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen)"), "STORE")
        return
    target = _quoted(mailbox.processed_folder)
    if "MOVE" in capabilities:
        answer = client.client.uid("MOVE", uid_set, target)
        if answer[0] != "OK" and b"TRYCREATE" in b" ".join(_bytes(d) for d in answer[1]):
            _check(client.client.create(target), "CREATE")
            answer = client.client.uid("MOVE", uid_set, target)
        _check(answer, "MOVE")
        return
    answer = client.client.uid("COPY", uid_set, target)
    if answer[0] != "OK" and b"TRYCREATE" in b" ".join(_bytes(d) for d in answer[1]):
        _check(client.client.create(target), "CREATE")
        answer = client.client.uid("COPY", uid_set, target)
    _check(answer, "COPY")
    _check(client.client.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen \Deleted)"), "STORE")
    if "UIDPLUS" in capabilities:
        _check(client.client.uid("EXPUNGE", uid_set), "EXPUNGE")


# ------------------------------------------------------------------ the connection
def connect(mailbox: Mailbox) -> BaseMailBox:
    """An IMAP connection as the mailbox's security asks (TLS verified by default)."""
    timeout = settings.REGLAMENT_MAIL_TIMEOUT_SECONDS
    host, port = mailbox.imap_host, mailbox.imap_port
    if mailbox.security == Mailbox.Security.SSL:
        return MailBox(host, port, timeout=timeout, ssl_context=tls_context())
    if mailbox.security == Mailbox.Security.STARTTLS:
        return MailBoxStartTls(host, port, timeout=timeout, ssl_context=tls_context())
    if not services.is_loopback(host):  # refused when saved; checked again before sending
        raise ImapCommandError(
            _("plain-text IMAP is allowed only to 127.0.0.1 or localhost, not %(host)s.")
            % {"host": host}
        )
    return MailBoxUnencrypted(host, port, timeout=timeout)


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    extra = settings.REGLAMENT_MAIL_CA_FILE
    if extra:
        context.load_verify_locations(cafile=extra)
    return context


def login(client: BaseMailBox, mailbox: Mailbox) -> None:
    if mailbox.username.isascii() and mailbox.secret.isascii() and mailbox.auth == "password":
        client.login(mailbox.username, mailbox.secret, initial_folder=None)
        return
    # AUTHENTICATE (XOAUTH2, or PLAIN for a non-ASCII password): imaplib raises
    # on NO instead of returning it; made the same error as a refused LOGIN.
    try:
        if mailbox.auth == Mailbox.Auth.XOAUTH2:
            client.xoauth2(mailbox.username, mailbox.secret, initial_folder=None)
        else:
            client.login_utf8(mailbox.username, mailbox.secret, initial_folder=None)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as error:
        raise MailboxLoginError(
            command_result=("NO", [str(error).encode()]), expected="OK"
        ) from None


def _logout(client: BaseMailBox) -> None:
    try:
        client.logout()
    except Exception:  # noqa: S110 - the connection may already be gone; nothing to keep
        pass


def explain(mailbox: Mailbox, error: BaseException) -> str:
    """The error in words: what failed, where, and how to fix it."""
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    if isinstance(error, MailboxLoginError):
        return _(
            "%(where)s refused the login of %(user)r (%(answer)s). Check the username and the "
            "%(secret)s: reglament mailbox update %(name)s --username … --%(option)s-env VAR."
        ) % {
            "where": where,
            "user": mailbox.username,
            "answer": _server_text(error),
            "secret": _("token") if mailbox.auth == Mailbox.Auth.XOAUTH2 else _("password"),
            "option": "token" if mailbox.auth == Mailbox.Auth.XOAUTH2 else "password",
            "name": mailbox.name,
        }
    if isinstance(error, MailboxFolderSelectError):
        return _(
            "%(where)s has no folder %(folder)r for %(user)r (%(answer)s). Check the folder: "
            "reglament mailbox update %(name)s --folder NAME."
        ) % {
            "where": where,
            "folder": mailbox.folder,
            "user": mailbox.username,
            "answer": _server_text(error),
            "name": mailbox.name,
        }
    if isinstance(error, ssl.SSLError):
        return _(
            "TLS with %(where)s failed (%(error)s). Check the security setting (ssl on port 993, "
            "starttls on 143) and that the certificate is trusted (REGLAMENT_MAIL_CA_FILE for "
            "a company CA)."
        ) % {"where": where, "error": error}
    if isinstance(error, OSError | EOFError):
        return _(
            "Cannot talk to %(where)s (%(error)s). Check the host, the port and the security "
            "setting, and that the server is up."
        ) % {"where": where, "error": error or type(error).__name__}
    return _("%(where)s: %(error)s") % {"where": where, "error": _server_text(error)}


def _server_text(error: BaseException) -> str:
    if isinstance(error, UnexpectedCommandStatusError):
        lines = [_bytes(item).decode("utf-8", "replace") for item in error.command_result[1]]
        text = " ".join(line for line in lines if line)
        if text:
            return text
    return str(error)


# --------------------------------------------------------------- IMAP, by hand
# imap-tools' fetch() and flag() are not used: fetch parses every message and
# flag() also EXPUNGEs the whole folder (deleting what anybody marked \Deleted).
def _uidvalidity(client: BaseMailBox, folder: str) -> int:
    _, data = client.client.response("UIDVALIDITY")
    if data and data[0]:
        return int(data[0])
    return int(client.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])


def _uids_after(client: BaseMailBox, after: int) -> list[int]:
    # "n:*" always includes the highest UID, even below n: filtered by the caller.
    answer = client.client.uid("SEARCH", f"UID {after + 1}:*")
    _check(answer, "SEARCH")
    found = answer[1][0] if answer[1] else b""
    return sorted(int(uid) for uid in _bytes(found).split())


def _capabilities(client: BaseMailBox) -> frozenset[str]:
    # Asked again after login: many servers announce MOVE and UIDPLUS only then.
    answer = client.client.capability()
    _check(answer, "CAPABILITY")
    words = b" ".join(_bytes(item) for item in answer[1]).decode("ascii", "replace")
    return frozenset(words.upper().split())


def _sizes(client: BaseMailBox, uids: Sequence[int]) -> dict[int, int]:
    answer = client.client.uid("FETCH", ",".join(str(uid) for uid in uids), "(UID RFC822.SIZE)")
    _check(answer, "FETCH")
    sizes: dict[int, int] = {}
    for item in answer[1]:
        line = _bytes(item[0] if isinstance(item, tuple) else item)
        uid, size = _UID.search(line), _SIZE.search(line)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _fetch(client: BaseMailBox, uid: int, *, header_only: bool) -> bytes | None:
    """The message's bytes (or header), read with PEEK so it stays unseen."""
    part = "BODY.PEEK[HEADER]" if header_only else "BODY.PEEK[]"
    answer = client.client.uid("FETCH", str(uid), f"(UID {part})")
    _check(answer, "FETCH")
    for item in answer[1]:
        if isinstance(item, tuple) and _UID.search(item[0]):
            return bytes(item[1])
    return None


def _check(answer: tuple[str, list[object]], command: str) -> None:
    if answer[0] != "OK":
        text = " ".join(_bytes(d).decode("utf-8", "replace") for d in answer[1] if d)
        raise ImapCommandError(f"{command}: {answer[0]} {text}".strip())


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, tuple):
        return b" ".join(_bytes(part) for part in value)
    return str(value or "").encode()


def _quoted(folder: str) -> str:
    from imap_tools.imap_utf7 import utf7_encode

    encoded = utf7_encode(folder).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
