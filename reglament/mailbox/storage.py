"""The raw bytes of inbound mail on disk, and the keys read from their header.

A message is written whole or not at all: to a unique temporary file in its
final directory, flushed to the disk (fsync), renamed over its name, and the
directory synced, so after a crash a file either is complete or is not there.
Files are named by the SHA-256 of their bytes: storing the same bytes twice
(a message fetched again after a crash) writes nothing new.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from django.conf import settings

# What is kept of a message over its mailbox's size limit: its header, at most this.
REJECTED_HEADER_LIMIT = 64 * 1024
_MESSAGE_ID = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")


def mail_dir() -> Path:
    directory: Path = settings.REGLAMENT_MAIL_DIR
    return directory


def relative_path(digest: str) -> str:
    """Where bytes with this SHA-256 live under the mail directory."""
    return f"{digest[:2]}/{digest[2:4]}/{digest}.eml"


def raw_write(content: bytes) -> tuple[str, str]:
    """Store `content` durably unless it is already there; (relative path, SHA-256)."""
    digest = hashlib.sha256(content).hexdigest()
    relative = relative_path(digest)
    path = mail_dir() / relative
    if path.exists() and path.stat().st_size == len(content):
        return relative, digest
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique temporary name: two processes storing the same message at once
    # each write their own file, and either rename wins with the same bytes.
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{digest[:16]}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return relative, digest


def raw_read(relative: str) -> bytes:
    return (mail_dir() / relative).read_bytes()


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def header_of(content: bytes) -> bytes:
    """The header block of a message (up to the first empty line), at most 64 KiB."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = content.find(separator)
        if end != -1:
            content = content[: end + len(separator)]
            break
    return content[:REJECTED_HEADER_LIMIT]


def message_id_of(content: bytes) -> str:
    """The first Message-ID header as sent (unfolded), or '' when there is none."""
    header = BytesHeaderParser(policy=compat32).parsebytes(header_of(content))
    value = header.get("Message-ID")
    if value is None:
        return ""
    return _WHITESPACE.sub(" ", str(value)).strip()[:998]


def message_id_key(message_id: str) -> str | None:
    """SHA-256 of the normalised Message-ID (the text between the angle brackets,
    without whitespace; case kept, as RFC 5322 compares it); None when empty."""
    found = _MESSAGE_ID.search(message_id)
    normalised = _WHITESPACE.sub("", found.group(1) if found else message_id)
    if not normalised:
        return None
    return hashlib.sha256(normalised.encode("utf-8", "surrogateescape")).hexdigest()
