"""Malformed mail never crashes or hangs the pure layer (issue 7, §5: "no crash, no hang
(bounded time)").

Seed R5.1 accepts email «круглосуточно»: whatever arrives at night must be read, filed
and answered, not stop the worker. Hypothesis feeds random bytes, mutated fixtures,
deep nesting and huge headers; each example must finish within `DEADLINE` and return
a result. The raw bytes themselves are the caller's to store before parsing.
"""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reglament.domain.mail import (
    ParsedMessage,
    automatic_reason,
    bounce,
    html_to_text,
    parse_message,
    sanitise_html,
    split_reply,
    split_reply_html,
)
from reglament.domain.tests.mail.support import LIMIT, LOOP_HEADER, all_fixtures

# Generous for a loaded CI machine; typical examples take a few milliseconds.
DEADLINE = timedelta(seconds=3)
FUZZ = settings(
    deadline=DEADLINE,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIXTURES = [path.read_bytes() for path in all_fixtures()]
SURROGATE = re.compile("[\ud800-\udfff]")


def assert_storable(message: ParsedMessage, raw: bytes) -> None:
    """A result a database can take: no NUL, no lone surrogate, sizes right."""
    assert isinstance(message, ParsedMessage)
    assert message.size == len(raw)
    strings = [message.subject, message.text, message.html or "", *message.defects]
    strings += [value for _, value in message.headers]
    strings += [a.name for a in message.attachments]
    for text in strings:
        assert "\x00" not in text
        assert not SURROGATE.search(text)
    reply = split_reply(message.text)
    assert isinstance(reply.new, str)
    automatic_reason(message, loop_header=LOOP_HEADER)
    bounce(message)


@st.composite
def mutated_fixture(draw):
    data = bytearray(draw(st.sampled_from(FIXTURES)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["flip", "cut", "insert", "repeat", "delete"]))
        if operation == "flip":
            data[at] = draw(st.integers(0, 255))
        elif operation == "cut":
            del data[at:]
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif operation == "repeat":
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end] * draw(st.integers(1, 50))
        else:
            del data[at : at + draw(st.integers(1, 200))]
    return bytes(data)


@st.composite
def nested_mime(draw):
    depth = draw(st.integers(1, 150))
    closed = draw(st.booleans())
    kinds = st.sampled_from(["mixed", "alternative", "related", "report", "digest"])
    head = "".join(
        f"Content-Type: multipart/{draw(kinds)}; boundary=b{i}\r\n\r\n--b{i}\r\n"
        for i in range(depth)
    )
    body = draw(st.sampled_from(["text/plain", "text/html", "message/rfc822", "image/png"]))
    tail = "".join(f"\r\n--b{i}--" for i in reversed(range(depth))) if closed else ""
    return f"From: a@b.example\r\n{head}Content-Type: {body}\r\n\r\n<b>x</b>{tail}".encode()


HEADER_NAMES = st.sampled_from(
    [
        *("To", "From", "Cc", "Subject", "Content-Type", "Content-Disposition", "Date"),
        *("Message-ID", "References", "In-Reply-To", "Reply-To", "Content-Transfer-Encoding"),
    ]
)
HEADER_JUNK = st.sampled_from(
    ["(", '"', "<", "\\", "=?utf-8?q?a?= ", "a@b, ", ";a=", "=?", "\r\n ", "x" * 50, "Ж"]
)


@st.composite
def huge_header(draw):
    name = draw(HEADER_NAMES)
    junk = draw(HEADER_JUNK)
    size = draw(st.integers(1_000, 300_000))
    value = junk * (size // len(junk))
    return f"From: a@b.example\r\n{name}: {value}\r\n\r\nbody".encode()


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(raw):
    assert_storable(parse_message(raw, max_bytes=LIMIT), raw)


@FUZZ
@given(mutated_fixture())
def test_mutated_fixtures(raw):
    assert_storable(parse_message(raw, max_bytes=LIMIT), raw)


@FUZZ
@given(mutated_fixture(), st.integers(0, 20_000))
def test_mutated_fixtures_over_a_small_limit(raw, limit):
    message = parse_message(raw, max_bytes=limit)
    assert message.too_large == (len(raw) > limit)
    assert_storable(message, raw)


@settings(FUZZ, max_examples=60)
@given(nested_mime())
def test_deep_nesting(raw):
    assert_storable(parse_message(raw, max_bytes=LIMIT), raw)


@settings(FUZZ, max_examples=60)
@given(huge_header())
def test_huge_headers(raw):
    assert_storable(parse_message(raw, max_bytes=LIMIT), raw)


HTML_TOKENS = st.sampled_from(
    [
        *("<div>", "</div>", "<p>", "<b>", "<blockquote>", "</blockquote>", "<table><tr><td>"),
        *("<script>alert(1)</script>", '<img src="https://t.example/x" onerror="alert(1)">'),
        *('<a href="javascript:alert(1)">', "</a>", "<!--", "-->", "<![CDATA[", "&amp;"),
        *('<div class="gmail_quote">', '<div id="divRplyFwdMsg">', "<svg><script>", "<style>"),
        *("<", ">", '"', "'", "\x00", "\ud800", "&#0;", "On Mon, A <a@b.c> wrote:", "-- "),
    ]
)


@FUZZ
@given(st.lists(st.one_of(HTML_TOKENS, st.text(max_size=20)), max_size=200))
def test_html_functions_on_broken_html(tokens):
    html = "".join(tokens)
    safe = sanitise_html(html)
    assert "<script" not in safe.html.lower()
    assert not re.search(r"\son\w+\s*=", safe.html, re.IGNORECASE)
    assert "javascript:" not in safe.html.lower()
    for text in (html_to_text(html), html_to_text(safe.html)):
        assert isinstance(text, str)
    reply = split_reply_html(safe.html)
    assert isinstance(reply.new, str)
    split_reply_html(html)


@FUZZ
@given(st.text(max_size=3000))
def test_split_reply_on_any_text(text):
    reply = split_reply(text)
    assert isinstance(reply.new, str)
    assert isinstance(reply.quoted, str)
    assert isinstance(reply.signature, str)
