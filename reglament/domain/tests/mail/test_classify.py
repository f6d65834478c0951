"""automatic_reason keeps automatic acknowledgements from answering machines (RFC 3834);
bounce reads delivery reports so they mark addresses as failing instead of opening
requests.

Seed R3.4 «1) Подтверждение получения запроса Пользователя» makes every request get an
acknowledgement by mail; without these checks two auto-responders answer each other
forever. R3.8 «Уведомление о закрытии заявки … по электронной почте, указанной в
заявке»: when that address bounces, the request must show it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from reglament.domain.mail import Address, Bounce, BouncedRecipient, automatic_reason, bounce
from reglament.domain.mail.classify import (
    AUTO_RESPONSE_SUPPRESS,
    AUTO_SUBMITTED,
    AUTOMATIC_SENDER,
    LIST,
    LOOP,
    NULL_RETURN_PATH,
    PRECEDENCE,
)
from reglament.domain.tests.mail.support import LOOP_HEADER, parsed

HUMAN_REPLIES = [
    "gmail_reply_ru.eml",
    "outlook_reply_en.eml",
    "outlook_web_reply_ru_cp1251.eml",
    "yandex_reply_ru.eml",
    "mailru_reply_ru.eml",
    "thunderbird_reply_ru.eml",
    "apple_mail_reply_ru.eml",
    "thebat_koi8r.eml",
    "attachments_cyrillic.eml",
    "winmail_dat.eml",
    "no_message_id.eml",
]


@pytest.mark.parametrize("name", HUMAN_REPLIES)
def test_mail_from_people_may_be_acknowledged(name):
    # R3.4 «Подтверждение получения запроса Пользователя»
    message = parsed(name)
    assert automatic_reason(message, loop_header=LOOP_HEADER) is None
    assert bounce(message) is None


def test_out_of_office_reply_gets_no_acknowledgement():
    message = parsed("out_of_office_ru.eml")
    assert automatic_reason(message, loop_header=LOOP_HEADER) == AUTO_SUBMITTED
    assert bounce(message) is None


def test_x_auto_response_suppress_alone_is_enough():
    message = parsed("out_of_office_ru.eml")
    headers = tuple(h for h in message.headers if h[0] != "Auto-Submitted")
    assert automatic_reason(replace(message, headers=headers), loop_header=LOOP_HEADER) == (
        AUTO_RESPONSE_SUPPRESS
    )


def test_auto_submitted_no_is_a_person():
    message = parsed("gmail_reply_ru.eml")
    marked = replace(message, headers=(*message.headers, ("Auto-Submitted", "No")))
    assert automatic_reason(marked, loop_header=LOOP_HEADER) is None


def test_mailing_list_message_gets_no_acknowledgement():
    message = parsed("mailing_list.eml")
    assert automatic_reason(message, loop_header=LOOP_HEADER) == PRECEDENCE
    without_precedence = replace(
        message, headers=tuple(h for h in message.headers if h[0] != "Precedence")
    )
    assert automatic_reason(without_precedence, loop_header=LOOP_HEADER) == LIST


def test_our_own_loop_header_wins():
    message = parsed("our_loop.eml")
    assert automatic_reason(message, loop_header=LOOP_HEADER) == LOOP
    # the header name is the caller's: another installation's header is not ours
    assert automatic_reason(message, loop_header="X-Other-Loop") is None


def test_no_reply_senders_get_no_acknowledgement():
    message = parsed("noreply_notification.eml")
    assert automatic_reason(message, loop_header=LOOP_HEADER) == AUTOMATIC_SENDER
    for address in (
        "noreply@bank.example",
        "do-not-reply@shop.example",
        "donotreply+abc@x.example",
        "no_reply@x.example",
        "postmaster@x.example",
        "MAILER-DAEMON@x.example".lower(),
    ):
        sender = Address("", address)
        assert automatic_reason(replace(message, sender=sender), loop_header=LOOP_HEADER) == (
            AUTOMATIC_SENDER
        ), address
    assert (
        automatic_reason(
            replace(message, sender=Address("", "noreen@x.example")), loop_header=LOOP_HEADER
        )
        is None
    )


def test_dsn_bounce_lists_failed_and_delayed_recipients_and_the_original_id():
    # R3.8: the notice to the address in the request bounced
    message = parsed("dsn_bounce.eml")
    assert automatic_reason(message, loop_header=LOOP_HEADER) == AUTO_SUBMITTED
    report = bounce(message)
    assert report == Bounce(
        recipients=(
            BouncedRecipient(
                address="ivan.ivanov@closed-shop.example",
                action="failed",
                status="5.1.1",
                diagnostic=(
                    "550 5.1.1 <ivan.ivanov@closed-shop.example>: Recipient address rejected: "
                    "User unknown in virtual mailbox table"
                ),
            ),
            BouncedRecipient(
                address="manager@closed-shop.example",
                action="delayed",
                status="4.4.1",
                diagnostic=(
                    "connect to mx2.closed-shop.example[203.0.113.6]:25: Connection timed out"
                ),
            ),
        ),
        original_message_id="CERA-2026-000123.TOKEN.ack1@support.example.com",
        reporting_mta="mx.support.example.com",
        standard=True,
    )
    assert report.failed == ("ivan.ivanov@closed-shop.example",)


def test_plain_text_bounce_in_russian_is_recognised():
    message = parsed("bounce_plain_ru.eml")
    assert automatic_reason(message, loop_header=LOOP_HEADER) == NULL_RETURN_PATH
    assert bounce(message) == Bounce(
        recipients=(BouncedRecipient("buhgalter@old-firm.example", "failed", "5.2.1"),),
        original_message_id="KRZ-2026-000007.TOKEN.close@support.example.com",
        standard=False,
    )


def test_a_person_writing_about_undelivered_mail_is_not_a_bounce():
    message = parsed("gmail_reply_ru.eml")
    assert bounce(replace(message, subject="Недоставленное сообщение")) is None
