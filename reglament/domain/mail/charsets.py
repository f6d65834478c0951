"""Bytes and header strings to clean text, for the charsets real Russian mail uses.

Mail declares its charset and is often wrong: ``us-ascii`` on UTF-8 text, ``cp-1251``
spelled four ways, 8-bit bytes in headers with no declaration at all. Nothing here
raises on such input; it tries the declared charset, then UTF-8, then windows-1251
(the one that decodes almost any byte string, and the likeliest truth in Russian mail),
and says which fallback it took so the caller can record a defect.
"""

import codecs
import re

# Names seen in the wild that Python does not know, or knows as something else.
ALIASES = {
    "win-1251": "cp1251",
    "win1251": "cp1251",
    "cp-1251": "cp1251",
    "x-cp1251": "cp1251",
    "windows1251": "cp1251",
    "koi8r": "koi8_r",
    "koi": "koi8_r",
    "x-koi8-r": "koi8_r",
    "x-mac-cyrillic": "mac_cyrillic",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "utf8": "utf-8",
    "ansi_x3.4-1968": "ascii",
}
# Declarations that mean "we do not know".
UNKNOWN = frozenset({"unknown-8bit", "x-unknown", "unknown", "default", "x-user-defined", ""})

_SURROGATES = re.compile("[\ud800-\udfff]")


def codec_for(charset: str | None) -> str | None:
    """The Python codec name for a declared charset, or None if it is unknown or absent."""
    if charset is None:
        return None
    name = charset.strip().strip("\"'").lower()
    if name in UNKNOWN:
        return None
    name = ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """`data` as text, and a defect ("charset …") when the declaration was not used as is.

    The declared charset is tried strictly first; when it is missing, unknown or wrong
    the fallbacks are UTF-8, then windows-1251 with replacement characters.
    """
    codec = codec_for(charset)
    defect: str | None = None
    if codec is not None:
        try:
            return clean_text(data.decode(codec)), None
        except (UnicodeDecodeError, LookupError):
            defect = f"charset {charset!r} does not decode the text"
    elif charset is not None and charset.strip():
        defect = f"unknown charset {charset!r}"
    if data.isascii():
        return clean_text(data.decode("ascii")), defect
    try:
        return clean_text(data.decode("utf-8")), defect
    except UnicodeDecodeError:
        return clean_text(data.decode("cp1251", errors="replace")), defect or (
            "undeclared 8-bit text read as windows-1251"
        )


def clean_text(text: str) -> str:
    """`text` safe to store: no NUL characters, no lone surrogates.

    The standard library keeps undecodable header bytes as surrogate escapes; those are
    decoded again as UTF-8 or windows-1251 rather than dropped.
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not _SURROGATES.search(text):
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251", errors="replace")
