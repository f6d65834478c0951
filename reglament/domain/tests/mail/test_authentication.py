"""sender_authenticated: a From header alone proves nothing; our receiving server's
Authentication-Results (RFC 8601) must vouch for the address's domain.

Issue 7 "cannot be hijacked": mail claiming to come from an agent must not become a
staff reply to the customer unless the server that received it checked the sender.
"""

import pytest

from reglament.domain.mail import parse_message, sender_address, sender_authenticated

OURS = "mx.vendor.example"


def _mail(*results: str, sender: str = "Ирина <agent1@vendor.example>") -> bytes:
    headers = "".join(f"Authentication-Results: {value}\r\n" for value in results)
    return (
        f"{headers}From: {sender}\r\nTo: support@vendor.example\r\nSubject: Re: [X]\r\n"
        "Message-ID: <a@vendor.example>\r\n\r\nГотово.\r\n"
    ).encode()


def _vouched(raw: bytes, authserv_id: str = OURS) -> bool:
    return sender_authenticated(parse_message(raw, max_bytes=1_000_000), authserv_id=authserv_id)


@pytest.mark.parametrize(
    "result",
    [
        f"{OURS}; dmarc=pass (p=reject) header.from=vendor.example",
        f"{OURS} 1; dkim=pass header.d=vendor.example header.s=mail; spf=fail",
        f"{OURS}; spf=pass smtp.mailfrom=agent1@vendor.example",
        f"{OURS}; dkim=pass header.i=@vendor.example",
    ],
)
def test_our_server_vouching_for_the_from_domain_authenticates(result: str) -> None:
    assert _vouched(_mail(result))


@pytest.mark.parametrize(
    ("results", "why"),
    [
        ((), "no Authentication-Results at all"),
        ((f"{OURS}; dmarc=fail header.from=vendor.example",), "DMARC failed"),
        ((f"{OURS}; dkim=pass header.d=attacker.example",), "signed by another domain"),
        ((f"{OURS}; spf=pass smtp.mailfrom=x@attacker.example",), "SPF for another domain"),
        (("mx.attacker.example; dmarc=pass header.from=vendor.example",), "not our server"),
        ((f"{OURS}; dmarc=none; dkim=neutral",), "nothing passed"),
        (
            (
                f"{OURS}; dmarc=fail header.from=vendor.example",
                f"{OURS}; dmarc=pass header.from=vendor.example",
            ),
            "only the topmost header of our server counts",
        ),
    ],
)
def test_anything_else_does_not(results: tuple[str, ...], why: str) -> None:
    assert not _vouched(_mail(*results)), why


def test_without_a_configured_server_nobody_is_vouched_for() -> None:
    assert not _vouched(_mail(f"{OURS}; dmarc=pass header.from=vendor.example"), authserv_id="")


@pytest.mark.parametrize(
    ("sender", "address"),
    [
        ("Ирина <agent1@vendor.example>", "agent1@vendor.example"),
        ("AGENT1@Vendor.Example", "agent1@vendor.example"),
        # one encoded-word holding "Name <address>" decodes to a quoted display name
        ("=?utf-8?b?0JjRgNC40L3QsCA8aXJpbmFAY3VzdG9tZXIuZXhhbXBsZT4=?=", "irina@customer.example"),
        # a quoted local part that looks like another address is nobody
        ('"<agent1@vendor.example>"@evil.example', None),
        ('"agent1@vendor.example"@evil.example', None),
        ("undisclosed-recipients:;", None),
    ],
)
def test_the_sender_address_is_one_clean_address_or_none(sender: str, address: str | None) -> None:
    raw = f"From: {sender}\r\nTo: s@vendor.example\r\nSubject: x\r\n\r\nhi\r\n".encode()
    assert sender_address(parse_message(raw, max_bytes=1_000_000)) == address


def test_a_look_alike_local_part_is_not_vouched_for_by_its_real_domain() -> None:
    # given: the attacker's own domain passes DMARC; the From's local part imitates an agent
    raw = _mail(
        f"{OURS}; dmarc=pass header.from=evil.example",
        sender='"<agent1@vendor.example>"@evil.example',
    )
    # then: neither an identity nor an authenticated sender
    parsed = parse_message(raw, max_bytes=1_000_000)
    assert sender_address(parsed) is None
    assert not sender_authenticated(parsed, authserv_id=OURS)
