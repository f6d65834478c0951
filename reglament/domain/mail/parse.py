"""A raw RFC 5322 message (bytes) as a `ParsedMessage`: what intake needs, never an error.

The standard library's ``email`` package with ``policy.default`` does the MIME work;
this module adds what mail from the wild needs on top: every header read defensively
(a malformed address or date becomes a defect, not an exception), charsets with
fallbacks (see `charsets`), body selection across ``multipart/alternative``,
``multipart/related`` and ``multipart/mixed``, HTML sanitised (see `sanitise`), and
attachments with their decoded names (RFC 2231 and encoded-words, Cyrillic included).

Callers must store the raw bytes before calling this (the parse is a view of them and
can be redone), and must not trust anything here for authorisation: the sender address
is whatever the message says.
"""

import email
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache
from typing import Any

from reglament.domain.mail.charsets import clean_text, decode_bytes
from reglament.domain.mail.sanitise import MAX_HTML, html_to_text, sanitise_html

# Exact parsing of an address header is quadratic in CPython: only short ones get it.
EXACT_ADDRESS_HEADER = 2 * 1024
MAX_ADDRESS_HEADER = 16 * 1024
MAX_HEADERS = 500
MAX_HEADER_VALUE = 8 * 1024
MAX_MIME_HEADER = 2 * 1024
MAX_DEPTH = 30
MAX_MULTIPARTS = 100
MAX_PARTS = 1000
MAX_REFERENCES = 100

_ANGLE_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")
_MULTIPART = re.compile(rb"multipart/", re.IGNORECASE)
_BOUNDARY = re.compile(rb"""boundary\s*=\s*"?([^";\r\n]{1,200})""", re.IGNORECASE)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([-\w:.]+)""", re.IGNORECASE)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


class _BoundedPolicy(EmailPolicy):
    """``policy.default``, except that a header value is cut (Content-* to
    `MAX_MIME_HEADER`, others to `MAX_HEADER_VALUE`) before the structured parser sees
    it: that parser is quadratic on some input (a Content-Type of 8 KB of '"' takes
    seconds), and the MIME parser reads the Content-* headers of every part, several
    times, through the policy."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name"):  # already a header object
            return value
        limit = MAX_MIME_HEADER if name.lower().startswith("content-") else MAX_HEADER_VALUE
        return _fetch_parse(name, value[:limit])


@lru_cache(maxsize=512)
def _fetch_parse(name: str, value: str) -> str:
    """Header objects are immutable: the MIME parser asks for each part's Content-Type
    several times, and parsing it is most of the parse time."""
    return policy.default.header_fetch_parse(name, value)  # type: ignore[no-any-return]


POLICY = _BoundedPolicy()


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox: display name (decoded, may be empty) and address (lower case)."""

    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True, slots=True)
class Attachment:
    """One non-body part.

    `name` is a safe base name (no directories, no control characters); parts without
    a name get ``attachment`` plus an extension for their type. `content_id` is without
    angle brackets. `inline` is true for parts meant to show inside the body (Content-
    Disposition inline, or a Content-ID inside ``multipart/related``). TNEF
    (``winmail.dat``), forwarded messages (``message/rfc822``) and delivery reports are
    attachments like any other.
    """

    name: str
    content_type: str
    data: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """Everything intake reads from one message.

    Ids (`message_id`, `in_reply_to`, `references`) are without angle brackets; a
    missing Message-ID stays None (none is made up: the caller deduplicates by a hash of
    the raw bytes instead). `text` is always set (from the text/plain part, or derived
    from the HTML); `html` is sanitised, or None. `headers` holds every header, decoded
    and unfolded, in order. A message over `max_bytes` has `too_large` set, its headers
    read and no body or attachments. `defects` lists what was wrong with the message,
    in words, for the log; an empty tuple means none was noticed.
    """

    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str = ""
    sender: Address | None = None
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    date: datetime | None = None
    text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    remote_images: tuple[str, ...] = ()
    cid_references: tuple[str, ...] = ()
    content_type: str = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()
    size: int = 0
    too_large: bool = False
    defects: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """The first header called `name` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def headers_named(self, name: str) -> tuple[str, ...]:
        """Every header called `name` (any case), in order."""
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)

    @property
    def inline_images(self) -> dict[str, Attachment]:
        """The attachments the HTML shows by ``cid:``, by Content-ID."""
        by_id = {a.content_id: a for a in self.attachments if a.content_id}
        return {cid: by_id[cid] for cid in self.cid_references if cid in by_id}

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """In-Reply-To then References newest first, without repeats: the ids to look up
        when threading a reply to something we sent or stored."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += reversed(self.references)
        return tuple(dict.fromkeys(ids))


def parse_message(raw: bytes, *, max_bytes: int) -> ParsedMessage:
    """Parse `raw`; never raises on malformed input.

    Over `max_bytes`, only the header block is read (so a bounce-safe notice can still
    be addressed) and the result has `too_large` set.
    """
    defects: list[str] = []
    if len(raw) > max_bytes:
        defects.append(f"message of {len(raw)} bytes is over the limit of {max_bytes}")
        return _headers_only(raw, defects, too_large=True)
    # The standard parser slows down with every nested boundary (0.4 s for 300) and
    # takes ~0.2 ms a part: mail beyond these limits is not read past its headers.
    containers = len(_MULTIPART.findall(raw))
    if containers > MAX_MULTIPARTS:
        defects.append(f"MIME structure not read: {containers} multipart containers")
        return _headers_only(raw, defects, too_large=False)
    delimiters = _delimiters(raw)
    if delimiters > MAX_PARTS:
        defects.append(f"MIME structure not read: {delimiters} part boundaries")
        return _headers_only(raw, defects, too_large=False)
    try:
        message = email.message_from_bytes(raw, policy=POLICY)
    except Exception as error:  # deep nesting ends in RecursionError, for one
        defects.append(f"MIME structure not readable ({type(error).__name__})")
        return _headers_only(raw, defects, too_large=False)
    try:
        return _parse(message, raw, defects)
    except Exception as error:
        defects.append(f"MIME structure not readable ({type(error).__name__})")
        return _headers_only(raw, defects, too_large=False)


def _delimiters(raw: bytes) -> int:
    """How many lines of `raw` start a MIME part, counting the boundaries it declares."""
    boundaries = {b.strip() for b in _BOUNDARY.findall(raw, 0, len(raw))[:MAX_MULTIPARTS]}
    boundaries.discard(b"")
    if not boundaries:
        return 0
    alternatives = b"|".join(re.escape(b) for b in sorted(boundaries))
    return len(re.findall(rb"^--(?:" + alternatives + rb")", raw, re.MULTILINE))


def _headers_only(raw: bytes, defects: list[str], *, too_large: bool) -> ParsedMessage:
    match = _BLANK_LINE.search(raw, 0, 1024 * 1024)
    head = raw[: match.start() + 2] if match else raw[: 1024 * 1024]
    try:
        message = BytesHeaderParser(policy=POLICY).parsebytes(head)
        envelope = _envelope(message, defects)
    except Exception as error:
        defects.append(f"headers not readable ({type(error).__name__})")
        envelope = {}
    return ParsedMessage(size=len(raw), too_large=too_large, defects=tuple(defects), **envelope)


def _parse(message: Message, raw: bytes, defects: list[str]) -> ParsedMessage:
    envelope = _envelope(message, defects)
    body = _Body(defects)
    body.collect(message, depth=0, related=False)
    for defect in message.defects:
        defects.append(_describe(defect))
    plain = "\n\n".join(piece for piece in body.plain if piece.strip())
    html_source = "\n".join(body.html) if body.html else None
    if html_source is not None and len(html_source) > MAX_HTML:
        defects.append(f"HTML body of {len(html_source)} characters cut to {MAX_HTML}")
    safe = sanitise_html(html_source) if html_source is not None else None
    text = plain if plain.strip() or safe is None else html_to_text(safe.html)
    return ParsedMessage(
        **envelope,
        text=text,
        html=safe.html if safe else None,
        attachments=tuple(body.attachments),
        remote_images=safe.remote_images if safe else (),
        cid_references=safe.cid_references if safe else (),
        size=len(raw),
        defects=tuple(dict.fromkeys(defects)),
    )


def _describe(defect: object) -> str:
    name = type(defect).__name__
    detail = str(defect)
    return clean_text(f"{name}: {detail}" if detail and detail != name else name)


# --- headers ---------------------------------------------------------------------


def _raw_headers(message: Message) -> list[tuple[str, str]]:
    result = []
    for index, (name, value) in enumerate(message.raw_items()):
        if index >= MAX_HEADERS:
            break
        # Raw 8-bit header bytes (no encoded-words) arrive as surrogate escapes: decode
        # them now, as UTF-8 or windows-1251, before the header parser replaces them.
        result.append((clean_text(str(name)), clean_text(str(value))))
    return result


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])|\r?\n", "", value)


def _decoded(name: str, value: str, defects: list[str]) -> str:
    """An unstructured reading of one header value: encoded-words decoded, unfolded."""
    value = _unfold(value)[:MAX_HEADER_VALUE]
    if "=?" not in value:  # nothing encoded: spare the parser
        return clean_text(value).strip()
    try:
        return clean_text(str(policy.default.header_factory("x-unstructured", value))).strip()
    except Exception as error:
        defects.append(f"{name} header not decodable ({type(error).__name__})")
        return clean_text(value).strip()


def _addresses(name: str, value: str | None, defects: list[str]) -> tuple[Address, ...]:
    if value is None:
        return ()
    value = _unfold(value)
    if len(value) > MAX_ADDRESS_HEADER:
        defects.append(f"{name} header cut to {MAX_ADDRESS_HEADER} characters")
        value = value[:MAX_ADDRESS_HEADER].rsplit(",", 1)[0]
    pairs: list[tuple[str, str]] = []
    try:
        if len(value) <= EXACT_ADDRESS_HEADER:
            for item in policy.default.header_factory(name, value).addresses:
                pairs.append((item.display_name, item.addr_spec))
        else:  # the exact parser is quadratic; the older one is linear and good enough
            pairs = [
                (_decoded(name, shown, []) if "=?" in shown else shown, spec)
                for shown, spec in getaddresses([value])
            ]
    except Exception as error:
        defects.append(f"{name} header not readable ({type(error).__name__})")
    result = []
    for shown, spec in pairs:
        address = clean_text(spec).strip().lower()
        if address and address != "<>":
            result.append(Address(name=clean_text(shown).strip(), address=address))
    return tuple(result)


def message_ids(value: str | None) -> tuple[str, ...]:
    """The ids in a Message-ID, In-Reply-To or References value, without angle brackets.

    Bracketless ids (some clients send them) are taken word by word.
    """
    if not value:
        return ()
    value = clean_text(_unfold(value))
    found = _ANGLE_ID.findall(value)
    if not found:
        found = [word for word in value.split() if "@" in word]
    return tuple(dict.fromkeys(found))


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(_unfold(value).strip())
    except Exception:
        defects.append(f"Date header not readable: {clean_text(value)[:100]!r}")
        return None
    # "-0000" means UTC with the sender's zone unknown (RFC 5322 §3.3).
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _envelope(message: Message, defects: list[str]) -> dict[str, Any]:
    raw = _raw_headers(message)
    first: dict[str, str] = {}
    for name, value in raw:
        first.setdefault(name.lower(), value)
    headers = tuple((name, _decoded(name, value, defects)) for name, value in raw)
    message_id = message_ids(first.get("message-id"))
    references = message_ids(first.get("references"))
    if len(references) > MAX_REFERENCES:  # keep the thread's root and the newest ones
        references = (references[0], *references[-(MAX_REFERENCES - 1) :])
    in_reply_to = message_ids(first.get("in-reply-to"))
    senders = _addresses("from", first.get("from"), defects)
    if "from" in first and not senders:
        defects.append("no readable From address")
    try:
        content_type = message.get_content_type()
    except Exception:
        content_type = "text/plain"
    return {
        "message_id": message_id[0] if message_id else None,
        "in_reply_to": in_reply_to[0] if in_reply_to else None,
        "references": references,
        "subject": _decoded("subject", first.get("subject", ""), defects),
        "sender": senders[0] if senders else None,
        "reply_to": _addresses("reply-to", first.get("reply-to"), defects),
        "to": _addresses("to", first.get("to"), defects),
        "cc": _addresses("cc", first.get("cc"), defects),
        "date": _date(first.get("date"), defects),
        "content_type": content_type,
        "headers": headers,
    }


# --- bodies and attachments --------------------------------------------------------


class _Body:
    """Walks the MIME tree once, collecting body texts and attachments."""

    def __init__(self, defects: list[str]) -> None:
        self.defects = defects
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self.parts = 0

    def collect(self, part: Message, *, depth: int, related: bool) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            if self.parts == MAX_PARTS + 1:
                self.defects.append(f"more than {MAX_PARTS} MIME parts; the rest ignored")
            return
        if depth > MAX_DEPTH:
            self.defects.append(f"MIME parts nested deeper than {MAX_DEPTH}; ignored")
            return
        content_type = part.get_content_type()
        try:
            self.collect_part(part, content_type, depth=depth, related=related)
        finally:
            if depth:  # the message's own defects are read once, by the caller
                self.defects.extend(_describe(defect) for defect in part.defects)

    def collect_part(self, part: Message, content_type: str, *, depth: int, related: bool) -> None:
        if part.is_multipart() and content_type.startswith("multipart/"):
            children = _children(part)
            if content_type == "multipart/alternative":
                self.alternative(children, depth=depth)
            else:
                for child in children:
                    self.collect(
                        child, depth=depth + 1, related=content_type == "multipart/related"
                    )
            return
        disposition = _disposition(part)
        filename = _filename(part)
        if (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and filename is None
        ):
            text = self.text_of(part)
            (self.plain if content_type == "text/plain" else self.html).append(text)
            return
        self.attachments.append(self.attachment(part, content_type, filename, related))

    def alternative(self, children: list[Message], *, depth: int) -> None:
        """The richest alternative for HTML and the plain one for text (RFC 2046 §5.1.4)."""
        collected = []
        for child in children:
            branch = _Body(self.defects)
            branch.parts = self.parts
            branch.collect(child, depth=depth + 1, related=False)
            self.parts = branch.parts
            collected.append(branch)
        plain = next((b.plain for b in collected if any(p.strip() for p in b.plain)), [])
        html = next((b.html for b in reversed(collected) if b.html), [])
        self.plain += plain
        self.html += html
        for branch in collected:
            self.attachments += branch.attachments

    def text_of(self, part: Message) -> str:
        data = _payload(part)
        charset = part.get_content_charset()
        if charset is None and part.get_content_type() == "text/html":
            meta = _META_CHARSET.search(data[:4096])
            charset = meta.group(1).decode("ascii", "replace") if meta else None
        text, defect = decode_bytes(data, charset)
        if defect:
            self.defects.append(defect)
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def attachment(
        self, part: Message, content_type: str, filename: str | None, related: bool
    ) -> Attachment:
        content_id = message_ids(str(part.get("content-id", "") or ""))
        if not content_id and part.get("content-id"):
            content_id = (clean_text(str(part.get("content-id"))).strip().strip("<>"),)
        disposition = _disposition(part)
        inline = disposition == "inline" or (disposition is None and related and bool(content_id))
        return Attachment(
            name=_safe_name(filename, content_type),
            content_type=content_type,
            data=self.data_of(part, content_type),
            content_id=content_id[0] if content_id else None,
            inline=inline,
        )

    def data_of(self, part: Message, content_type: str) -> bytes:
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            return _delivery_status_text(part)
        if part.is_multipart():  # message/rfc822 and other message/* types
            children = _children(part)
            try:
                return b"".join(child.as_bytes() for child in children)
            except Exception:
                return "".join(str(child) for child in children).encode("utf-8", "replace")
        return _payload(part)


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return (
        [child for child in payload if isinstance(child, Message)]
        if isinstance(payload, list)
        else []
    )


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _delivery_status_text(part: Message) -> bytes:
    """A delivery-status body as text: the parser splits it into header blocks."""
    blocks = []
    for block in _children(part):
        blocks.append(
            "\n".join(f"{name}: {_unfold(str(value))}" for name, value in block.raw_items())
        )
    if not blocks:
        return _payload(part)
    return clean_text("\n\n".join(blocks)).encode("utf-8") + b"\n"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:
        return None
    if isinstance(name, tuple):  # an RFC 2231 triple left undecoded
        name = email.utils.collapse_rfc2231_value(name)
    if not isinstance(name, str) or not name.strip():
        return None
    name = clean_text(name)
    if "=?" in name:  # encoded-words inside a quoted parameter, not decoded by the parser
        name = _decoded("filename", name, [])
    return name


def _safe_name(name: str | None, content_type: str) -> str:
    if name:
        name = _UNSAFE_NAME.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
        name = name.lstrip(".") or name
    if not name:
        extension = (
            ".eml"
            if content_type == "message/rfc822"
            else mimetypes.guess_extension(content_type) or ".bin"
        )
        return f"attachment{extension}"
    return name[:255]
