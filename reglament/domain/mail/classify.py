"""Mail that must not be answered automatically, and delivery failure reports.

`automatic_reason` follows RFC 3834 §2 and the practice around it: no automatic reply
(acknowledgement, "request created" notice) to mail that is itself automatic, sent to a
list, or from an address nobody reads; otherwise two auto-responders answer each other
forever. It only decides about *automatic replies*: the caller still files the message.

`bounce` reads delivery status notifications (RFC 3464 ``multipart/report``) and, when
easy, the plain-text reports of mailers that do not send them. The standard library is
enough for both; a bounce never opens a request, it marks an address as failing.
"""

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser

from reglament.domain.mail.parse import ParsedMessage, message_ids

# Reasons `automatic_reason` gives, most specific first.
LOOP = "loop"
AUTO_SUBMITTED = "auto-submitted"
AUTO_RESPONSE_SUPPRESS = "auto-response-suppress"
AUTOREPLY_HEADER = "autoreply-header"
PRECEDENCE = "precedence"
LIST = "list"
REPORT = "delivery-report"
NULL_RETURN_PATH = "null-return-path"
AUTOMATIC_SENDER = "automatic-sender"

_AUTOMATIC_LOCAL_PART = re.compile(
    r"^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)([-+._].*)?$"
)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster)([-+._].*)?$")
_BOUNCE_SUBJECT = re.compile(
    r"undelivered mail returned to sender|delivery status notification \(failure\)"
    r"|mail delivery failed|undeliverable|delivery failure|failure notice|returned mail"
    r"|недоставленное сообщение|не удалось доставить|сообщение не доставлено|mail failure",
    re.I,
)
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_CODE = re.compile(r"\b([45])\d\d[ -]")
_EMAIL = re.compile(r"<?([\w.+'=-]+@[\w-]+(?:\.[\w-]+)+)>?")
# Where the copy of the original message starts in a plain-text bounce.
_ORIGINAL_SECTION = re.compile(
    r"^(-+ ?(this is a copy|original message|below this line|исходное сообщение)"
    r"|received:|return-path:|message-id:)",
    re.I | re.M,
)


def automatic_reason(message: ParsedMessage, *, loop_header: str) -> str | None:
    """Why `message` must get no automatic reply (one of the constants above), or None.

    `loop_header` is the header our own automatic mail carries (e.g. "X-Reglament-Loop").
    """
    if message.header(loop_header) is not None:
        return LOOP
    auto_submitted = message.header("Auto-Submitted")
    if auto_submitted is not None and auto_submitted.split(";")[0].strip().lower() != "no":
        return AUTO_SUBMITTED
    if message.header("X-Auto-Response-Suppress") is not None:
        return AUTO_RESPONSE_SUPPRESS
    if any(message.header(name) is not None for name in ("X-Autoreply", "X-Autorespond")):
        return AUTOREPLY_HEADER
    precedence = (message.header("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return PRECEDENCE
    if any(message.header(name) is not None for name in ("List-Id", "List-Unsubscribe")):
        return LIST
    if message.content_type == "multipart/report":
        return REPORT
    return_path = message.header("Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return NULL_RETURN_PATH
    if message.sender is not None:
        local_part = message.sender.address.rsplit("@", 1)[0]
        if _AUTOMATIC_LOCAL_PART.match(local_part):
            return AUTOMATIC_SENDER
    return None


@dataclass(frozen=True, slots=True)
class BouncedRecipient:
    """One recipient of a delivery report: address (lower case), Action ("failed",
    "delayed", "delivered", "relayed", "expanded"), Status ("5.1.1") and the remote
    server's words, if any."""

    address: str
    action: str
    status: str
    diagnostic: str = ""

    @property
    def failed(self) -> bool:
        return self.action == "failed"


@dataclass(frozen=True, slots=True)
class Bounce:
    """A delivery report. `original_message_id` names the message it reports on (to
    find the request), when the report includes its headers. `standard` is false for
    reports read from free text, whose recipients are a best guess."""

    recipients: tuple[BouncedRecipient, ...]
    original_message_id: str | None = None
    reporting_mta: str | None = None
    standard: bool = True

    @property
    def failed(self) -> tuple[str, ...]:
        """Addresses that will not receive the message: mark them as failing."""
        return tuple(r.address for r in self.recipients if r.failed)


def bounce(message: ParsedMessage) -> Bounce | None:
    """The delivery report `message` is, or None for any other message."""
    if message.content_type == "multipart/report":
        report = _delivery_status(message)
        if report is not None:
            return report
    return _plain_bounce(message)


def _report_type(message: ParsedMessage) -> str:
    header = message.header("Content-Type") or ""
    try:
        content_type = policy.default.header_factory("content-type", header)
        return str(content_type.params.get("report-type", "")).lower()
    except Exception:
        return ""


def _delivery_status(message: ParsedMessage) -> Bounce | None:
    status = next(
        (
            a
            for a in message.attachments
            if a.content_type in ("message/delivery-status", "message/global-delivery-status")
        ),
        None,
    )
    if status is None or _report_type(message) not in ("delivery-status", ""):
        return None
    blocks = _field_blocks(status.data.decode("utf-8", "replace"))
    if not blocks:
        return None
    per_message, per_recipient = blocks[0], blocks[1:]
    recipients = []
    for fields in per_recipient:
        address = _typed_address(fields.get("final-recipient") or fields.get("original-recipient"))
        if not address:
            continue
        code = (fields.get("status") or "").strip()
        match = _STATUS.search(code)
        code = match.group(1) if match else code
        action = (fields.get("action") or "").strip().lower()
        if not action:
            action = "failed" if code.startswith("5") else "delayed" if code.startswith("4") else ""
        diagnostic = (fields.get("diagnostic-code") or "").partition(";")[2].strip()
        recipients.append(BouncedRecipient(address, action, code, diagnostic))
    if not recipients:
        return None
    return Bounce(
        recipients=tuple(recipients),
        original_message_id=_original_message_id(message),
        reporting_mta=(per_message.get("reporting-mta") or "").partition(";")[2].strip() or None,
    )


def _field_blocks(text: str) -> list[dict[str, str]]:
    blocks = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text.strip()):
        if not chunk.strip():
            continue
        parsed: Message = HeaderParser(policy=policy.compat32).parsestr(chunk + "\n")
        blocks.append(
            {name.lower(): " ".join(str(value).split()) for name, value in parsed.items()}
        )
    return blocks


def _typed_address(value: str | None) -> str:
    """ "rfc822; Ivan@Example.com" → "ivan@example.com"."""
    if not value:
        return ""
    address = value.partition(";")[2] if ";" in value else value
    return address.strip().strip("<>").lower()


def _original_message_id(message: ParsedMessage) -> str | None:
    for attachment in message.attachments:
        if attachment.content_type in ("message/rfc822", "text/rfc822-headers"):
            try:
                headers = BytesHeaderParser(policy=policy.compat32).parsebytes(attachment.data)
            except Exception:  # noqa: S112 — an unreadable copy tells us nothing
                continue
            found = message_ids(str(headers.get("Message-ID", "") or ""))
            if found:
                return found[0]
    return None


def _plain_bounce(message: ParsedMessage) -> Bounce | None:
    """The free-text reports of Exim, qmail and others: sender and subject decide."""
    sender = message.sender.address if message.sender else ""
    if not _BOUNCE_SENDER.match(sender.rsplit("@", 1)[0]):
        return None
    if not _BOUNCE_SUBJECT.search(message.subject):
        return None
    text = message.text
    cut = _ORIGINAL_SECTION.search(text)
    report, original = (text[: cut.start()], text[cut.start() :]) if cut else (text, "")
    status_match = _STATUS.search(report)
    code_match = _SMTP_CODE.search(report)
    status = (
        status_match.group(1)
        if status_match
        else f"{code_match.group(1)}.0.0"
        if code_match
        else "5.0.0"
    )
    ours = {sender, *(a.address for a in message.to)}
    addresses = dict.fromkeys(
        found.lower() for found in _EMAIL.findall(report) if found.lower() not in ours
    )
    addresses = {a: None for a in addresses if not _BOUNCE_SENDER.match(a.rsplit("@", 1)[0])}
    if not addresses:
        return None
    original_id = _original_message_id(message)
    if original_id is None:
        found = re.search(r"^message-id:\s*(.+)$", original, re.I | re.M)
        ids = message_ids(found.group(1)) if found else ()
        original_id = ids[0] if ids else None
    action = "failed" if status.startswith("5") else "delayed"
    return Bounce(
        recipients=tuple(BouncedRecipient(a, action, status) for a in addresses),
        original_message_id=original_id,
        standard=False,
    )


# ------------------------------------------------------------ sender authentication
_COMMENT = re.compile(r"\([^()]*\)")
_PLAIN_ADDRESS = re.compile(r"^[^\s<>@\"()\[\],;:\\]+@[a-z0-9.-]+\.[a-z0-9-]+$")
# A From whose single encoded-word held "Name <address>": it decodes into a quoted
# display name with no address of its own; the one bracketed address is the sender.
_WHOLE_ENCODED = re.compile(r'^"?[^<>@"]*<([^\s<>@"]+@[a-z0-9.-]+\.[a-z0-9-]+)>"?$')


def sender_address(message: ParsedMessage) -> str | None:
    """The one address the message is from, or None when From names none cleanly.

    Identity (who wrote) and authentication (whose domain vouched) must read the same
    address: a local part with quotes, brackets or a second "@" — e.g.
    ``"<agent@vendor.example>"@evil.example`` — is refused rather than guessed at.
    """
    if message.sender is None:
        return None
    address = message.sender.address.strip().lower()
    if _PLAIN_ADDRESS.match(address):
        return address
    whole = _WHOLE_ENCODED.match(address)
    return whole.group(1) if whole else None


def sender_authenticated(message: ParsedMessage, *, authserv_id: str) -> bool:
    """Whether our own mail server vouches for the From address (RFC 8601).

    Only the topmost ``Authentication-Results`` header written by `authserv_id` (our
    receiving server, which must remove headers claiming its name from outside) is
    read, about the address `sender_address` gives (the one identity is taken from).
    The sender counts as authenticated when it reports ``dmarc=pass``, or
    ``dkim=pass`` signed by the From address's domain, or ``spf=pass`` for a
    MAIL FROM in that domain. An empty `authserv_id` vouches for nobody: a From
    header alone proves nothing.
    """
    wanted = authserv_id.strip().lower()
    address = sender_address(message)
    if not wanted or address is None:
        return False
    domain = address.rsplit("@", 1)[1]
    for value in message.headers_named("Authentication-Results"):
        parts = [part.strip() for part in _COMMENT.sub(" ", value).split(";")]
        if not parts or not parts[0] or parts[0].split()[0].lower() != wanted:
            continue
        return any(_vouches(result, domain) for result in parts[1:])
    return False


def _vouches(result: str, domain: str) -> bool:
    words = result.split()
    if not words or "=" not in words[0]:
        return False
    method, outcome = (side.lower() for side in words[0].split("=", 1))
    if outcome != "pass":
        return False
    props = {
        key.lower(): value.strip('"').lower()
        for key, _sep, value in (word.partition("=") for word in words[1:])
    }
    if method == "dmarc":
        return props.get("header.from", domain) == domain
    if method == "dkim":
        signer = props.get("header.d") or props.get("header.i", "").rsplit("@", 1)[-1]
        return signer == domain
    if method == "spf":
        mail_from = props.get("smtp.mailfrom", "")
        return mail_from.rsplit("@", 1)[-1] == domain
    return False
