"""Signed tokens thread replies to requests; subject numbers are only a hint.

Seed R3.4 «2) Присвоение уникального номера запросу с фиксацией времени»: the number is
what customers see and quote; the token proves a reply really answers our mail about it.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reglament.domain.mail import (
    message_id_for,
    number_from_address,
    number_from_message_id,
    numbers_in_subject,
    reply_address,
)
from reglament.domain.tests.mail.support import SECRET, parsed

NUMBER = "CERA-2026-000123"


def test_reply_address_carries_the_number_and_a_short_lower_case_mac():
    address = reply_address(NUMBER, local="support", domain="support.example.com", secret=SECRET)
    assert re.fullmatch(
        r"support\+CERA-2026-000123\.[a-z2-7]{16}@support\.example\.com", address
    ), address
    assert number_from_address(address, secret=SECRET) == NUMBER


def test_the_address_survives_a_mail_system_that_changes_case():
    address = reply_address(NUMBER, local="support", domain="support.example.com", secret=SECRET)
    assert number_from_address(address.lower(), secret=SECRET) == NUMBER
    assert number_from_address(address.upper(), secret=SECRET) == NUMBER
    assert number_from_address(f"Support <{address}>", secret=SECRET) == NUMBER


def test_a_forged_or_missing_mac_is_refused():
    # given a customer who knows how our addresses look
    address = reply_address(NUMBER, local="support", domain="support.example.com", secret=SECRET)
    forged = address.replace("000123", "000124")
    # then changing the number, the secret or dropping the mac gives no number
    assert number_from_address(forged, secret=SECRET) is None
    assert number_from_address(address, secret=b"another-secret") is None
    assert (
        number_from_address("support+CERA-2026-000123@support.example.com", secret=SECRET) is None
    )
    assert number_from_address("support@support.example.com", secret=SECRET) is None
    assert number_from_address("not an address", secret=SECRET) is None


def test_our_message_ids_carry_the_same_token():
    message_id = message_id_for(
        NUMBER, domain="support.example.com", secret=SECRET, unique="m42.k7q"
    )
    token = reply_address(NUMBER, local="x", domain="y", secret=SECRET)[2:-2]
    assert message_id == f"{token}.m42.k7q@support.example.com"
    assert number_from_message_id(message_id, secret=SECRET) == NUMBER
    assert number_from_message_id(f"<{message_id}>", secret=SECRET) == NUMBER
    assert number_from_message_id(message_id.replace("CERA", "CERB"), secret=SECRET) is None
    assert number_from_message_id("CAFk2Zk+3vJbXq@mail.gmail.com", secret=SECRET) is None


def test_a_fixture_reply_is_threaded_by_its_in_reply_to():
    # given our acknowledgement's Message-ID, which the Gmail reply quotes
    ours = message_id_for(NUMBER, domain="support.example.com", secret=SECRET, unique="ack1")
    reply = parsed("gmail_reply_ru.eml")
    # the fixture was written with a placeholder token; threading uses the real one
    assert reply.in_reply_to is not None
    in_reply_to = reply.in_reply_to.replace("TOKEN.a1b2c3", ours.split(".", 1)[1].split("@")[0])
    assert number_from_message_id(in_reply_to, secret=SECRET) == NUMBER
    # and the placeholder itself proves nothing
    assert number_from_message_id(reply.in_reply_to, secret=SECRET) is None


def test_invalid_numbers_and_unique_parts_are_refused():
    with pytest.raises(ValueError, match="not a request number"):
        reply_address("CERA 2026.1", local="s", domain="d", secret=SECRET)
    with pytest.raises(ValueError, match="cannot be part of a Message-ID"):
        message_id_for(NUMBER, domain="d", secret=SECRET, unique="a@b")


def test_numbers_in_subject_only_for_known_prefixes():
    subject = "Re: Fwd: [CERA-2026-000123] и [cera-2026-000123], [KRZ-2026-000007] [XYZ-2026-1]"
    assert numbers_in_subject(subject, ["CERA", "KRZ"]) == ["CERA-2026-000123", "KRZ-2026-000007"]
    assert numbers_in_subject(subject, []) == []
    assert numbers_in_subject("CERA-2026-000123 without brackets", ["CERA"]) == []
    assert numbers_in_subject(parsed("outlook_reply_en.eml").subject, ["CERA"]) == [
        "CERA-2026-000124"
    ]


@settings(max_examples=100, deadline=None)
@given(
    prefix=st.from_regex(r"[A-Z]{2,8}", fullmatch=True),
    year=st.integers(2000, 2100),
    serial=st.integers(1, 10**9),
)
def test_every_number_round_trips_through_address_and_message_id(prefix, year, serial):
    number = f"{prefix}-{year}-{serial:06d}"
    address = reply_address(number, local="support", domain="s.example", secret=SECRET)
    message_id = message_id_for(number, domain="s.example", secret=SECRET, unique="u1")
    assert number_from_address(address, secret=SECRET) == number
    assert number_from_message_id(message_id, secret=SECRET) == number
