"""The e-mail channel's pure layer: reading, cleaning, folding, classifying, threading.

No Django, no database, no network (an import-linter contract keeps it so): the mailbox
app, the IMAP/SMTP intake and the outgoing-mail tasks are built on top of these
functions. Everything takes and returns plain values and frozen dataclasses.

Modules
-------
`parse`
    ``parse_message(raw, max_bytes=…) -> ParsedMessage``. Never raises on malformed
    mail; what went wrong is in ``defects``. Over ``max_bytes`` only the headers are read
    and ``too_large`` is set, so a bounce-safe notice can still be addressed.
`charsets`
    Decoding with fallbacks for the charsets Russian mail uses (utf-8, windows-1251,
    koi8-r, iso-8859-5) and the ones it mislabels; ``clean_text`` strips NULs and
    lone surrogates so every string can be stored.
`sanitise`
    ``sanitise_html(html) -> SafeHtml`` (nh3: no scripts, handlers, forms, frames,
    ``javascript:``/``data:`` URLs; remote images turned into placeholders whose URLs are
    returned; ``cid:`` references listed) and ``html_to_text(html)``.
`quotes`
    ``split_reply(text)`` and ``split_reply_html(html)`` ``-> Reply(new, quoted,
    signature)``: quoted history and signatures folded away for Gmail, Outlook, Yandex
    Mail, Mail.ru, Thunderbird and Apple Mail in Russian and English; nothing is lost.
`classify`
    ``automatic_reason(message, loop_header=…)`` (RFC 3834: do not auto-reply) and
    ``bounce(message) -> Bounce | None`` (RFC 3464 delivery reports, plus plain-text ones),
    ``sender_address(message)`` (the one From address identity and authentication both
    use) and ``sender_authenticated(message, authserv_id=…)`` (our mail server's RFC 8601
    Authentication-Results vouch for the From address: DMARC, aligned DKIM or SPF).
`threads`
    Signed tokens for our Reply-To addresses and Message-IDs (``reply_address``,
    ``number_from_address``, ``message_id_for``, ``number_from_message_id``) and request
    numbers in subjects (``numbers_in_subject``).

What callers must do
--------------------
* Store the raw message before parsing (the parse can be redone from it) and
  deduplicate by ``message_id`` when present, otherwise by a hash of the raw bytes:
  ``parse_message`` never invents a Message-ID.
* Treat ``sender``, ``reply_to`` and subject numbers as claims. Only a token accepted
  by ``number_from_address``/``number_from_message_id`` proves a reply belongs to a
  request; a number from ``numbers_in_subject`` may be used only when the sender
  already takes part in that request (issue 7, threading step 3).
* Show only ``ParsedMessage.html`` (already sanitised) or ``text``, never the raw
  parts; map ``cid:`` images through ``inline_images`` and load ``remote_images`` only
  when an agent asks. Attachment names are base names, but still store attachments
  under generated keys, not under their names.
* Check ``automatic_reason`` before sending any automatic reply, and ``bounce`` before
  opening a request: a bounce marks addresses as failing and opens nothing. Our own
  automatic mail must carry ``Auto-Submitted: auto-replied`` and the loop header.
* Show ``split_reply(_html)`` parts with ``quoted`` and ``signature`` folded but
  available.
"""

from reglament.domain.mail.classify import (
    Bounce,
    BouncedRecipient,
    automatic_reason,
    bounce,
    sender_address,
    sender_authenticated,
)
from reglament.domain.mail.parse import Address, Attachment, ParsedMessage, parse_message
from reglament.domain.mail.quotes import Reply, split_reply, split_reply_html
from reglament.domain.mail.sanitise import SafeHtml, html_to_text, images_shown, sanitise_html
from reglament.domain.mail.threads import (
    message_id_for,
    number_from_address,
    number_from_message_id,
    numbers_in_subject,
    reply_address,
)

__all__ = [
    "Address",
    "Attachment",
    "Bounce",
    "BouncedRecipient",
    "ParsedMessage",
    "Reply",
    "SafeHtml",
    "automatic_reason",
    "bounce",
    "html_to_text",
    "images_shown",
    "message_id_for",
    "number_from_address",
    "number_from_message_id",
    "numbers_in_subject",
    "parse_message",
    "reply_address",
    "sanitise_html",
    "sender_address",
    "sender_authenticated",
    "split_reply",
    "split_reply_html",
]
