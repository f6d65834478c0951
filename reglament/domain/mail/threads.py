"""Which request a reply belongs to: signed tokens in our addresses and Message-IDs,
and request numbers in subjects.

Our outgoing mail carries a token ``<number>.<mac>`` twice: in the Reply-To address
(``support+CER-2026-000123.k3v9…@example.com``) and in the Message-ID. The mac is an
HMAC-SHA256 of the number under a server secret, base32 in lower case and cut to 16
characters (80 bits), so it survives mail systems that change the case of addresses,
and nobody can make up a valid token for another request: a reply carrying one is
threaded without further checks (threading step 1 of issue 7).

Request numbers in subjects (``[CER-2026-000123]``) are not signed; the caller may use
them only when the sender already takes part in that request (step 3).
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

MAC_LENGTH = 16
_NUMBER = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")
_UNIQUE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_TOKEN = re.compile(r"^(?P<number>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)\.(?P<mac>[A-Za-z2-7]{16})$")


def _mac(number: str, secret: bytes) -> str:
    digest = hmac.new(secret, b"reglament-thread:" + number.upper().encode("ascii"), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode("ascii").lower()[:MAC_LENGTH]


def _check_number(number: str) -> str:
    if len(number) > 64 or not _NUMBER.match(number):
        raise ValueError(f"{number!r} is not a request number")
    return number.upper()


def token(number: str, *, secret: bytes) -> str:
    """``<NUMBER>.<mac>``: what our addresses and Message-IDs carry for one request."""
    number = _check_number(number)
    return f"{number}.{_mac(number, secret)}"


def number_from_token(value: str, *, secret: bytes) -> str | None:
    """The request number (upper case) of a token, or None if the mac is wrong or absent.

    The comparison takes constant time, so the mac cannot be guessed byte by byte.
    """
    match = _TOKEN.match(value.strip())
    if match is None:
        return None
    number = match.group("number").upper()
    expected = _mac(number, secret)
    if not hmac.compare_digest(expected, match.group("mac").lower()):
        return None
    return number


def reply_address(number: str, *, local: str, domain: str, secret: bytes) -> str:
    """``local+NUMBER.mac@domain``: the Reply-To of mail about request `number`."""
    return f"{local}+{token(number, secret=secret)}@{domain}"


def number_from_address(address: str, *, secret: bytes) -> str | None:
    """The request number a reply address was made for, or None (no or wrong token).

    Accepts a bare address or ``Name <address>``; the part after the first "+" of the
    local part is the token.
    """
    address = address.strip()
    if "<" in address and address.endswith(">"):
        address = address[address.rindex("<") + 1 : -1]
    local, at, _domain = address.rpartition("@")
    if not at:
        return None
    _base, plus, detail = local.partition("+")
    if not plus:
        return None
    return number_from_token(detail, secret=secret)


def message_id_for(number: str, *, domain: str, secret: bytes, unique: str) -> str:
    """A Message-ID (without angle brackets) for our mail about request `number`:
    ``NUMBER.mac.unique@domain``. `unique` must differ between messages (e.g. the
    outgoing message's row id and a random part) and be made of dot-atom characters."""
    if not _UNIQUE.match(unique):
        raise ValueError(f"{unique!r} cannot be part of a Message-ID")
    return f"{token(number, secret=secret)}.{unique}@{domain}"


def number_from_message_id(message_id: str, *, secret: bytes) -> str | None:
    """The request number of one of our Message-IDs (with or without angle brackets),
    or None for any other id."""
    local, at, _domain = message_id.strip().strip("<>").rpartition("@")
    if not at:
        return None
    pieces = local.split(".", 2)
    if len(pieces) < 2:
        return None
    return number_from_token(f"{pieces[0]}.{pieces[1]}", secret=secret)


def numbers_in_subject(subject: str, prefixes: Iterable[str]) -> list[str]:
    """Request numbers in square brackets (``[CER-2026-000123]``) whose prefix is one of
    `prefixes`, upper case, first occurrence first, without repeats."""
    wanted = {prefix.upper() for prefix in prefixes}
    if not wanted:
        return []
    found: dict[str, None] = {}
    for match in re.finditer(r"\[\s*([A-Za-z]{1,16})-(\d{4})-(\d{1,12})\s*\]", subject):
        prefix = match.group(1).upper()
        if prefix in wanted:
            found.setdefault(f"{prefix}-{match.group(2)}-{match.group(3)}", None)
    return list(found)
