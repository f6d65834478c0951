"""Files people upload (request and article attachments): one way to store and serve them.

Stored content-addressed (by SHA-256) under a directory, written whole or not
at all. Served so a browser never runs one: raster images (recognised by their
bytes, not by the type the uploader claimed) are shown inline; everything
else, SVG and HTML included, is a download under a sandboxing CSP. Every
answer says `nosniff`, whatever SECURE_CONTENT_TYPE_NOSNIFF is set to.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reglament.core.errors import AppError

_SAFE_NAME = re.compile(r"[^\w.\- ()\[\]№,+«»]+", re.UNICODE)
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")

# The raster formats a browser shows as pictures and never runs; SVG is a document
# with scripts, so it is not one of them.
_RASTER_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)


class FileTooLargeError(AppError):
    code = "attachment_too_large"
    status = 413
    default_message = gettext_lazy("The file is too large.")


def check_size(size: int) -> None:
    """Refuse a file above REGLAMENT_ATTACHMENT_MAX_BYTES, saying the limit (413)."""
    limit: int = settings.REGLAMENT_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise FileTooLargeError(
            _("The file is %(size)d bytes; the limit is %(limit)d bytes (%(mb).0f MB).")
            % {"size": size, "limit": limit, "mb": limit / 1_000_000},
            details={"size": size, "limit": limit},
        )


def clean_name(name: str) -> str:
    """The uploader's file name without folders or characters a header cannot carry."""
    base = Path(name.replace("\\", "/")).name.strip().strip(".")
    return _SAFE_NAME.sub("_", base)[:200] or "file"


def content_type_for(name: str, claimed: str) -> str:
    """The type to record: the claimed one, else guessed from the name, else octet-stream."""
    return (claimed or mimetypes.guess_type(name)[0] or "application/octet-stream")[:127]


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def stored_path(directory: Path, digest: str) -> Path:
    """Where content with this SHA-256 lives under `directory` (one copy per content)."""
    return directory / digest[:2] / digest[2:4] / digest


def store(path: Path, content: bytes) -> None:
    """Write the bytes to `path` unless they are already there; whole or not at all."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(content)
    partial.replace(path)


def raster_image_type(head: bytes) -> str | None:
    """image/png, image/jpeg, image/gif or image/webp when the first bytes say so."""
    for signature, offset, content_type in _RASTER_SIGNATURES:
        if head[offset : offset + len(signature)] == signature and (
            content_type != "image/webp" or head.startswith(b"RIFF")
        ):
            return content_type
    return None


def file_response(handle: BinaryIO, *, name: str, claimed_type: str) -> FileResponse:
    """Serve an uploaded file: an image inline, anything else as a sandboxed download."""
    image = raster_image_type(handle.read(16))
    handle.seek(0)
    claimed = claimed_type.split(";", 1)[0].strip().lower()
    safe = claimed if _CONTENT_TYPE.match(claimed) else "application/octet-stream"
    response = FileResponse(handle, content_type=image or safe)
    disposition = "inline" if image else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    if image is None:
        # Never let a browser run an uploaded file as a page (HTML, SVG, …).
        response["Content-Security-Policy"] = "sandbox"
    return response
