"""Writes of the mailbox app: mailbox settings, storing inbound mail, poll bookkeeping.

`inbound_store` is the one way a message enters Reglament, from IMAP and SMTP
alike: bytes to disk first, then one row, deduplicated by the database's own
unique constraints so that two workers storing the same message at once still
leave one row (the loser of the race sees the winner's row and returns it, or
records itself as a duplicate of it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.mailbox import storage
from reglament.mailbox.errors import MailboxInvalidError
from reglament.mailbox.models import InboundMessage, Mailbox, MailboxEvent
from reglament.regulations.models import Regulation

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
DEFAULT_PORTS: dict[str, int] = {"ssl": 993, "starttls": 143, "none": 143}
# The settings a caller may give; the rest (cursor, poll state) belong to polling.
FIELDS = (
    "address",
    "regulation",
    "imap_host",
    "imap_port",
    "security",
    "username",
    "auth",
    "secret",
    "folder",
    "processed_folder",
    "smtp_listen",
    "unknown_sender",
    "max_bytes",
    "enabled",
)
# Changing any of these points the mailbox at another folder: polling starts over there.
_WHERE = frozenset({"imap_host", "imap_port", "username", "folder"})
# How many times a store retries after losing a race on a unique key.
_STORE_ATTEMPTS = 3


# ------------------------------------------------------------------------ mailboxes
def mailbox_add(
    *,
    name: str,
    address: str,
    regulation: str,
    imap_host: str = "",
    imap_port: int | None = None,
    security: str = Mailbox.Security.SSL,
    username: str = "",
    auth: str = Mailbox.Auth.PASSWORD,
    secret: str = "",
    folder: str = "INBOX",
    processed_folder: str = "",
    smtp_listen: str = "",
    unknown_sender: str = Mailbox.UnknownSender.TRIAGE,
    max_bytes: int | None = None,
    enabled: bool = True,
    actor: User | None = None,
) -> Mailbox:
    """Create a mailbox; MailboxInvalidError names every field that cannot work."""
    mailbox = Mailbox(name=name.strip())
    errors: dict[str, str] = {}
    try:
        validate_slug(mailbox.name)
        if len(mailbox.name) > 64:
            raise ValidationError("too long")
    except ValidationError:
        errors["name"] = _(
            "%(name)r is not a mailbox name: use 1 to 64 latin letters, digits, - or _, "
            "e.g. support."
        ) % {"name": name}
    else:
        if Mailbox.objects.filter(name=mailbox.name).exists():
            errors["name"] = _(
                "A mailbox named %(name)r exists already; choose another name or change it."
            ) % {"name": mailbox.name}
    values: dict[str, Any] = {
        "address": address,
        "regulation": regulation,
        "imap_host": imap_host,
        "imap_port": imap_port,
        "security": security,
        "username": username,
        "auth": auth,
        "secret": secret,
        "folder": folder,
        "processed_folder": processed_folder,
        "smtp_listen": smtp_listen,
        "unknown_sender": unknown_sender,
        "max_bytes": max_bytes,
        "enabled": enabled,
    }
    _apply(mailbox, values, errors)
    with transaction.atomic():
        _save(mailbox)
        MailboxEvent.objects.create(
            mailbox=mailbox,
            kind=MailboxEvent.Kind.ADDED,
            actor=actor,
            data={"fields": sorted(k for k, v in values.items() if v not in (None, ""))},
        )
    return mailbox


def mailbox_update(*, mailbox: Mailbox, actor: User | None = None, **changes: Any) -> Mailbox:
    """Change some settings (keywords named as in mailbox_add); the others are kept.

    Pointing the mailbox at another server, account or folder starts polling over
    there (the Message-ID keeps what was stored from coming in twice).
    """
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise TypeError(f"mailbox_update() got unknown settings: {', '.join(unknown)}")
    errors: dict[str, str] = {}
    values = {
        field: getattr(mailbox, "regulation_id" if field == "regulation" else field)
        for field in FIELDS
    }
    before = dict(values)
    moved = [
        field
        for field in ("imap_host", "imap_port", "username")
        if field in changes and changes[field] != before[field]
    ]
    if moved and before["secret"] and changes.get("secret", before["secret"]) == before["secret"]:
        # The stored password or token must never be sent to a server it was not given for.
        raise MailboxInvalidError(
            _(
                "secret: the mailbox now points at another server or account (%(fields)s); "
                "give its password or token again with the change."
            )
            % {"fields": ", ".join(moved)},
            details={
                "errors": [
                    {
                        "field": "secret",
                        "message": _("Give the password or token for the new server or account."),
                    }
                ]
            },
        )
    values.update(changes)
    _apply(mailbox, values, errors)
    changed = sorted(field for field in FIELDS if values[field] != before[field])
    if not changed:
        return mailbox
    if _WHERE.intersection(changed):
        mailbox.uidvalidity = None
        mailbox.last_uid = 0
    with transaction.atomic():
        _save(mailbox)
        MailboxEvent.objects.create(
            mailbox=mailbox, kind=MailboxEvent.Kind.UPDATED, actor=actor, data={"fields": changed}
        )
    return mailbox


def _save(mailbox: Mailbox) -> None:
    """Save; another mailbox saved meanwhile with the same listener is a field error."""
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError:
        if (
            not mailbox.smtp_listen
            or not Mailbox.objects.filter(smtp_listen=mailbox.smtp_listen)
            .exclude(pk=mailbox.pk)
            .exists()
        ):
            raise
        message = _(
            "Another mailbox listens on %(listen)s already; give this one another port."
        ) % {"listen": mailbox.smtp_listen}
        raise MailboxInvalidError(
            f"smtp_listen: {message}",
            details={"errors": [{"field": "smtp_listen", "message": message}]},
        ) from None


def _apply(mailbox: Mailbox, values: dict[str, Any], errors: dict[str, str]) -> None:
    """Check `values` and set them on `mailbox`; raise with every error found."""
    address = str(values["address"] or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        errors["address"] = _(
            "%(address)r is not an e-mail address; give the address customers write to, "
            "e.g. support@vendor.example."
        ) % {"address": address}
    regulation = str(values["regulation"] or "").strip()
    if not Regulation.objects.filter(pk=regulation).exists():
        errors["regulation"] = _(
            "There is no regulation %(id)r; load it first ('reglament regulation load') or give "
            "the id of a loaded one."
        ) % {"id": regulation}
    host = str(values["imap_host"] or "").strip()
    security = str(values["security"] or "")
    auth = str(values["auth"] or "")
    port = values["imap_port"]
    if security not in Mailbox.Security.values:
        errors["security"] = _("The security must be one of ssl, starttls, none.")
    if auth not in Mailbox.Auth.values:
        errors["auth"] = _("The authentication must be password or xoauth2.")
    if port is None or port == "":
        port = DEFAULT_PORTS.get(security, 993)
    elif not isinstance(port, int) or not 1 <= port <= 65535:
        errors["imap_port"] = _("The IMAP port must be a number from 1 to 65535, e.g. 993.")
    if host:
        if security == Mailbox.Security.NONE and not is_loopback(host):
            errors["security"] = _(
                "Without TLS the password would cross the network in clear text: security "
                "'none' is allowed only for 127.0.0.1 or localhost, not %(host)r. Use ssl "
                "(port 993) or starttls (port 143)."
            ) % {"host": host}
        if not str(values["username"] or "").strip():
            errors["username"] = _("The IMAP login is needed to poll %(host)s.") % {"host": host}
        if not values["secret"]:
            errors["secret"] = _(
                "The password or OAuth2 token is needed to poll %(host)s; give it from an "
                "environment variable or standard input."
            ) % {"host": host}
        if not str(values["folder"] or "").strip():
            errors["folder"] = _("The folder to poll is needed, usually INBOX.")
    processed = str(values["processed_folder"] or "").strip()
    if processed and processed == str(values["folder"] or "").strip():
        errors["processed_folder"] = _(
            "The processed folder must differ from the polled folder (or be empty to flag "
            "stored messages as seen)."
        )
    listen = str(values["smtp_listen"] or "").strip()
    if listen:
        try:
            listen = listen_text(*listen_address(listen))
        except ValueError as error:
            errors["smtp_listen"] = str(error)
        else:
            taken = _listener_taken(listen, mailbox)
            if taken is not None:
                errors["smtp_listen"] = _(
                    "The mailbox %(other)s listens on %(listen)s already; give this one "
                    "another port."
                ) % {"other": taken, "listen": listen}
    unknown_sender = values["unknown_sender"]
    if unknown_sender not in Mailbox.UnknownSender.values:
        errors["unknown_sender"] = _("Unknown senders are handled by triage or instructions.")
    max_bytes = values["max_bytes"]
    if max_bytes is None:
        max_bytes = Mailbox._meta.get_field("max_bytes").get_default()
    elif not isinstance(max_bytes, int) or max_bytes < 1024:
        errors["max_bytes"] = _(
            "The largest message must be at least 1024 bytes, e.g. 26214400 for 25 MiB."
        )
    if errors:
        raise MailboxInvalidError(
            " ".join(f"{field}: {message}" for field, message in errors.items()),
            details={"errors": [{"field": f, "message": m} for f, m in errors.items()]},
        )
    mailbox.address = address
    mailbox.regulation_id = regulation
    mailbox.imap_host = host
    mailbox.imap_port = port
    mailbox.security = security
    mailbox.username = str(values["username"] or "").strip()
    mailbox.auth = auth
    mailbox.secret = str(values["secret"] or "")
    mailbox.folder = str(values["folder"] or "").strip() or "INBOX"
    mailbox.processed_folder = processed
    mailbox.smtp_listen = listen
    mailbox.unknown_sender = unknown_sender
    mailbox.max_bytes = max_bytes
    mailbox.enabled = bool(values["enabled"])
    values.update(imap_port=port, max_bytes=max_bytes, smtp_listen=listen)


def _listener_taken(listen: str, mailbox: Mailbox) -> str | None:
    """The other mailbox that listens on `listen` (the same port on the same address,
    localhost and 127.0.0.1 being one), if any."""
    host, port = listen_address(listen)
    others = Mailbox.objects.exclude(pk=mailbox.pk).exclude(smtp_listen="")
    for name, other in others.values_list("name", "smtp_listen"):
        try:
            other_host, other_port = listen_address(other)
        except ValueError:
            continue
        if other_port == port and _same_host(host, other_host):
            return str(name)
    return None


def _same_host(one: str, other: str) -> bool:
    def canonical(host: str) -> str:
        return "127.0.0.1" if host == "localhost" else host

    return canonical(one) == canonical(other)


def listen_address(text: str) -> tuple[str, int]:
    """(host, port) of an SMTP listener written HOST:PORT ([v6]:PORT for IPv6); ValueError
    says what is wrong. The host is an IP address of this machine's interfaces or
    localhost (a listener binds to an address; a name could mean several)."""
    example = _("e.g. 127.0.0.1:2525")
    host, colon, port_text = text.strip().rpartition(":")
    if not colon or not host:
        raise ValueError(
            _("%(value)r is not HOST:PORT; write the address and the port, %(example)s.")
            % {"value": text, "example": example}
        )
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.lower() != "localhost":
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(
                _(
                    "%(host)r is not an IP address; the listener needs one of this "
                    "machine's addresses or localhost, %(example)s."
                )
                % {"host": host, "example": example}
            ) from None
        host = str(address)
        if address.is_unspecified or not is_local_network(host):
            # Mail to the listener is believed as our MTA wrote it (its
            # Authentication-Results): only the MTA may reach it.
            raise ValueError(
                _(
                    "%(host)s would accept mail from anywhere, and the listener has no "
                    "authentication; give a loopback or private address only your mail "
                    "server reaches, %(example)s."
                )
                % {"host": host, "example": example}
            )
    else:
        host = "localhost"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(
            _("The port must be a number from 1 to 65535, %(example)s.") % {"example": example}
        )
    return host, int(port_text)


def listen_text(host: str, port: int) -> str:
    """HOST:PORT as stored (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_local_network(host: str) -> bool:
    """Loopback, private (RFC 1918, fc00::/7) or link-local: an address the public
    Internet cannot reach; False for anything else, names included (but localhost)."""
    if is_loopback(host):
        return True
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_unspecified and (address.is_private or address.is_link_local)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: the only hosts plain-text IMAP may talk to."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------- inbound mail
def inbound_store(
    *,
    mailbox: Mailbox,
    raw: bytes,
    uidvalidity: int | None,
    uid: int | None,
    channel: str,
    size: int | None = None,
) -> InboundMessage:
    """Keep one arrived message: its bytes on disk, then its row; the row.

    `size` is the message's full size when `raw` is less than all of it (IMAP
    fetches only the header of a message over the mailbox's limit). Over the
    limit the row is `rejected` with the reason and only the header is kept.

    Idempotent: the same IMAP message (mailbox, UIDVALIDITY, UID) returns the
    row stored before. A Message-ID stored before, in any mailbox, gives a
    `duplicate` row pointing at the first; so does, for a message without
    Message-ID, the same bytes stored before in this mailbox (an MTA's retry).
    Call inside transaction.atomic() to commit it together with other writes.
    """
    full_size = len(raw) if size is None else size
    rejected = full_size > mailbox.max_bytes
    kept = storage.header_of(raw) if rejected else raw
    message_id = storage.message_id_of(raw)
    key = storage.message_id_key(message_id)
    # The bytes are on disk before any row names them: a crash in between
    # leaves an unreferenced file, which the next attempt writes over (same name).
    relative, digest = storage.raw_write(kept)
    for attempt in range(1, _STORE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _insert(
                    mailbox=mailbox,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    channel=channel,
                    message_id=message_id,
                    key=key,
                    relative=relative,
                    digest=digest,
                    size=full_size,
                    rejected=rejected,
                )
        except IntegrityError:
            # Another worker stored the same message (or Message-ID) between our
            # look-up and our insert; look again, now its row is committed.
            if attempt == _STORE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _insert(
    *,
    mailbox: Mailbox,
    uidvalidity: int | None,
    uid: int | None,
    channel: str,
    message_id: str,
    key: str | None,
    relative: str,
    digest: str,
    size: int,
    rejected: bool,
) -> InboundMessage:
    if uid is not None:
        same = InboundMessage.objects.filter(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid)
        existing = same.first()
        if existing is not None:
            return existing
    if key is not None:
        original = InboundMessage.objects.filter(
            message_id_hash=key, duplicate_of__isnull=True
        ).first()
    else:
        original = InboundMessage.objects.filter(
            mailbox=mailbox, message_id_hash__isnull=True, sha256=digest, duplicate_of__isnull=True
        ).first()
    row = InboundMessage(
        mailbox=mailbox,
        channel=channel,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=message_id,
        message_id_hash=key,
        duplicate_of=original,
        raw_path=relative,
        size=size,
        sha256=digest,
        received_at=timezone.now(),
    )
    if original is not None:
        row.state = InboundMessage.State.DUPLICATE
        row.error = _("The same message arrived before (inbound message %(id)d).") % {
            "id": original.pk
        }
    elif rejected:
        row.state = InboundMessage.State.REJECTED
        row.error = _(
            "The message is %(size)d bytes; this mailbox takes at most %(limit)d bytes. "
            "Only its header is kept; the message itself stays on the mail server."
        ) % {"size": size, "limit": mailbox.max_bytes}
    else:
        row.state = InboundMessage.State.STORED
    row.save(force_insert=True)
    return row


# --------------------------------------------------------------------------- polling
def mailbox_cursor_advance(*, mailbox: Mailbox, uidvalidity: int, last_uid: int) -> None:
    """Remember that every message up to `last_uid` under `uidvalidity` is acknowledged."""
    mailbox.uidvalidity = uidvalidity
    mailbox.last_uid = last_uid
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=last_uid)


def mailbox_poll_record(
    *, mailbox: Mailbox, at: datetime, ok: bool, error: str, stored: int
) -> None:
    """Show the outcome of a poll on the mailbox (an error stays until a poll succeeds)."""
    fields: Mapping[str, Any] = {
        "last_poll_at": at,
        "last_poll_ok": ok,
        "last_poll_error": error,
        "last_poll_stored": stored,
    }
    for name, value in fields.items():
        setattr(mailbox, name, value)
    Mailbox.objects.filter(pk=mailbox.pk).update(**fields)


def mailbox_claim(
    *, now: datetime, lease: timedelta, exclude: frozenset[int] = frozenset()
) -> Mailbox | None:
    """Take the enabled IMAP mailbox polled longest ago that nobody polls now.

    The row is locked with SKIP LOCKED (PostgreSQL) while its lease is written,
    so two workers claiming at once get different mailboxes; the lease keeps
    others away while the poll runs, and lapses if the worker dies.
    """
    with transaction.atomic():
        free = (
            Mailbox.objects.filter(enabled=True)
            .exclude(imap_host="")
            .exclude(pk__in=exclude)
            .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
            .order_by(F("last_poll_at").asc(nulls_first=True), "pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            free = free.select_for_update(skip_locked=True)
        mailbox = free.first()
        if mailbox is None:
            return None
        mailbox.poll_lease_until = now + lease
        Mailbox.objects.filter(pk=mailbox.pk).update(poll_lease_until=mailbox.poll_lease_until)
    return mailbox


def mailbox_release(*, mailbox: Mailbox) -> None:
    mailbox.poll_lease_until = None
    Mailbox.objects.filter(pk=mailbox.pk).update(poll_lease_until=None)
