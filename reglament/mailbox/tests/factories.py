"""Test mail."""

from __future__ import annotations


def message(number: int, *, message_id: str | None = "default", body: str = "") -> bytes:
    """A small mail; Message-ID <n.test@customer.example> unless given (None: no header)."""
    lines = [
        "From: Ivan Petrov <ivan@customer.example>",
        "To: support@vendor.example",
        f"Subject: Request {number}",
        "Date: Mon, 30 Nov 2026 10:00:00 +0300",
    ]
    if message_id == "default":
        message_id = f"<{number}.test@customer.example>"
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    lines += [
        "Content-Type: text/plain; charset=utf-8",
        "",
        body or f"Body of message {number}.",
        "",
    ]
    return "\r\n".join(lines).encode()
