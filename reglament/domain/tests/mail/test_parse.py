"""parse_message reads real-world mail into a ParsedMessage and never raises.

Seeds: R2.6 and R3.2 name email as a channel («Электронная почта support@ceratech.ru»);
R5.1 accepts it around the clock («По электронной почте … – круглосуточно»), so intake
must read whatever arrives, in every charset Russian mail uses, and lose nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from reglament.domain.mail import Address, parse_message
from reglament.domain.tests.mail.support import LIMIT, all_fixtures, parsed, raw

MSK = timezone(timedelta(hours=3))


def test_every_fixture_parses_with_a_subject_and_a_sender():
    # R5.1 «По электронной почте … – круглосуточно»: every message is read.
    for path in all_fixtures():
        message = parse_message(path.read_bytes(), max_bytes=LIMIT)
        assert message.subject, path.name
        assert message.sender is not None, path.name
        assert message.size == path.stat().st_size


def test_gmail_reply_in_russian_has_its_ids_subject_and_both_bodies():
    # given a Gmail reply to one of our messages (R3.2 email channel)
    # when it is parsed
    message = parsed("gmail_reply_ru.eml")
    # then ids are bare, the encoded-word subject spanning two words is decoded
    assert message.message_id == "CAFk2Zk+3vJbXq=9uD8pQe7mZ1@mail.gmail.com"
    assert message.in_reply_to == "CERA-2026-000123.TOKEN.a1b2c3@support.example.com"
    assert message.references == ("CERA-2026-000123.TOKEN.a1b2c3@support.example.com",)
    assert message.subject == "Re: [CERA-2026-000123] Касса не печатает чек"
    # and addresses are lower-cased with decoded names
    assert message.sender == Address("Иван Петров", "ivan.petrov@gmail.com")
    assert message.to == (
        Address("Служба поддержки CERA", "support+cera-2026-000123.token@support.example.com"),
    )
    assert message.date == datetime(2026, 10, 5, 10, 12, 18, tzinfo=MSK)
    # and the text/plain part is the text, the HTML part sanitised
    assert message.text.startswith("Добрый день!\n\nПерезапустили кассу, чек печатается.")
    assert message.html is not None
    assert 'class="gmail_quote"' in message.html
    assert "style=" not in message.html
    assert message.content_type == "multipart/alternative"
    assert message.defects == ()


def test_outlook_web_reply_in_windows_1251_is_decoded():
    message = parsed("outlook_web_reply_ru_cp1251.eml")
    assert message.subject == "RE: [CERA-2026-000125] Не строится отчёт"
    assert message.sender == Address("Сидорова Анна", "a.sidorova@magazin.example")
    assert message.to[0].name == "Служба поддержки CERA"
    assert "Ошибка повторилась сегодня в 9:15" in message.text
    assert message.html is not None
    assert 'id="mail-divRplyFwdMsg"' in message.html
    assert message.header("Thread-Topic") == "[CERA-2026-000125] Не строится отчёт"


def test_the_bat_koi8r_body_and_headers_are_decoded():
    message = parsed("thebat_koi8r.eml")
    assert message.subject == "Re: [RBT-2026-000016] Лицензия"
    assert message.sender == Address("Николай Федоров", "fedorov@zavod.example")
    assert message.reply_to == (Address("Николай Федоров", "fedorov@zavod.example"),)
    assert "Номер лицензии: 4411-2093-7781." in message.text
    assert message.html is None


def test_iso_8859_5_body_and_headers_are_decoded():
    message = parsed("legacy_iso8859_5.eml")
    assert message.subject == "Остатки не совпадают"
    assert message.sender == Address("Склад", "sklad@zavod.example")
    assert message.text == "Остатки в SET и в ERP не совпадают по 12 позициям.\n"


def test_mislabelled_and_unknown_charsets_fall_back_and_say_so():
    # given a body declared us-ascii that is UTF-8, and a part in an unknown charset
    # that is windows-1251, and a sender name in the charset "x-unknown"
    message = parsed("mislabelled_charset.eml")
    # then both texts read correctly and the defects name what was wrong
    assert message.text == "Касса не работает с утра.\n\nМагазин №5, касса 2."
    assert "charset 'us-ascii' does not decode the text" in message.defects
    assert "unknown charset 'x-cyrillic-unknown'" in message.defects
    assert message.sender == Address("тест", "kassir@shop.example")
    assert message.subject == "Kassa не работает"


def test_raw_8bit_windows_1251_headers_are_decoded():
    message = parsed("raw_8bit_headers.eml")
    assert message.subject == "Не проходит выгрузка в 1С"
    assert message.sender == Address("Бухгалтер", "buh@zavod.example")
    assert message.text == "Выгрузка в 1С падает с ошибкой 0x80040154.\n"


def test_cyrillic_attachment_names_in_rfc2231_and_encoded_words():
    # given four attachments named with RFC 2231 (UTF-8, continued, windows-1251)
    # and with an encoded-word inside a quoted filename
    message = parsed("attachments_cyrillic.eml")
    names = [a.name for a in message.attachments]
    assert names == [
        "Счёт на оплату №15.pdf",
        "Акт сверки за сентябрь 2026.xlsx",
        "Договор поставки.docx",
        "Скан письма.jpg",
    ]
    pdf = message.attachments[0]
    assert pdf.content_type == "application/pdf"
    assert pdf.data.startswith(b"%PDF-1.4\n")
    assert pdf.size == len(pdf.data) == 125
    assert not pdf.inline
    assert message.text == "Добрый день! Направляем счёт, акт сверки, договор и скан письма.\n"


def test_inline_image_is_mapped_by_content_id_and_the_tracker_blocked():
    message = parsed("inline_image.eml")
    (image,) = message.attachments
    assert image.name == "image001.png"
    assert image.content_id == "image001.png@01DB1A2B.3C4D5E60"
    assert image.inline
    assert image.data.startswith(b"\x89PNG")
    assert message.inline_images == {"image001.png@01DB1A2B.3C4D5E60": image}
    assert message.html is not None
    assert '<img src="cid:image001.png@01DB1A2B.3C4D5E60"' in message.html
    assert message.remote_images == ("https://mailtrack.example/open?id=8f3a2b&u=42",)
    assert ' src="https://mailtrack.example' not in message.html


def test_winmail_dat_is_kept_as_an_ordinary_attachment():
    message = parsed("winmail_dat.eml")
    (tnef,) = message.attachments
    assert (tnef.name, tnef.content_type, tnef.inline) == (
        "winmail.dat",
        "application/ms-tnef",
        False,
    )
    assert tnef.data.startswith(bytes.fromhex("789f3e22"))
    assert message.text.startswith("The SET server service stops right after start")


def test_message_without_message_id_gets_none_not_an_invented_one():
    message = parsed("no_message_id.eml")
    assert message.message_id is None
    # "-0000": UTC, sender's zone unknown (RFC 5322 §3.3)
    assert message.date == datetime(2026, 10, 8, 10, 0, tzinfo=UTC)
    assert message.sender == Address("", "pos-terminal-7@shop.example")
    assert message.text == "Z-report failed on terminal 7, error 0x2F.\n"


def test_truncated_mime_keeps_what_it_can_and_lists_defects():
    message = parsed("truncated_mime.eml")
    assert message.text == "The report screen is blank, see the screenshot."
    (screen,) = message.attachments
    assert screen.name == "screen.png"
    assert screen.data.startswith(b"\x89PNG")
    assert "CloseBoundaryNotFoundDefect" in message.defects
    assert "InvalidBase64PaddingDefect" in message.defects


def test_html_only_mail_gets_a_text_rendering():
    message = parsed("xss_html.eml")
    assert message.text.splitlines()[0] == (
        "Please review the invoice and pay here <https://pay.example/invoice/77>."
    )
    assert "Thank you." in message.text
    assert "alert" not in message.text
    assert "fetch" not in message.text


def test_oversized_message_keeps_headers_but_not_bodies():
    # given a message larger than the limit
    data = raw("attachments_cyrillic.eml")
    # when parsed with a limit below its size
    message = parse_message(data, max_bytes=1000)
    # then it is flagged, addressed, and has no body or attachments
    assert message.too_large
    assert message.sender == Address("Бухгалтерия ООО «Ромашка»", "buh@romashka.example")
    assert message.subject == "Документы по договору"
    assert message.message_id == "20261006091500.7731@romashka.example"
    assert (message.text, message.html, message.attachments) == ("", None, ())
    assert message.size == len(data)
    assert message.defects == (f"message of {len(data)} bytes is over the limit of 1000",)


def test_thread_ids_are_in_reply_to_then_references_newest_first():
    message = parsed("mailru_reply_ru.eml")
    assert message.thread_ids == (
        "KRZ-2026-000007.TOKEN.x1@support.example.com",
        "KRZ-2026-000007.TOKEN.x0@support.example.com",
    )


def test_headers_are_kept_decoded_and_in_order():
    message = parsed("out_of_office_ru.eml")
    assert message.header("auto-submitted") == "auto-replied"
    assert message.headers_named("X-Auto-Response-Suppress") == ("All",)
    assert message.headers[0][0] == "From"
    assert message.subject == "Автоматический ответ: [CERA-2026-000140] Заявка зарегистрирована"


def test_garbage_bytes_give_a_result_not_an_exception():
    message = parse_message(b"\x00\xff\xfe\r\n\r\n\x00", max_bytes=LIMIT)
    assert message.message_id is None
    assert message.sender is None
    assert "\x00" not in message.text


def test_deep_nesting_beyond_the_parser_still_returns_the_headers():
    # given multiparts nested 3000 deep (the standard parser recurses per level and
    # slows down with each)
    nested = "".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n" for i in range(3000)
    )
    data = f"Subject: deep\r\nMessage-ID: <deep@x.example>\r\n{nested}\r\nx".encode()
    message = parse_message(data, max_bytes=LIMIT)
    assert message.subject == "deep"
    assert message.message_id == "deep@x.example"
    assert message.defects == ("MIME structure not read: 3000 multipart containers",)


def test_a_huge_address_header_is_cut_not_parsed_for_minutes():
    data = b"From: a@b.example\r\nTo: " + b"x@y.example, " * 100_000 + b"\r\n\r\nbody"
    message = parse_message(data, max_bytes=LIMIT)
    assert 1000 < len(message.to) < 1500
    assert message.to[0].address == "x@y.example"
    assert "to header cut to 16384 characters" in message.defects


def test_attachment_names_cannot_climb_directories():
    data = (
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n"
        b'Content-Disposition: attachment; filename="..\\\\..\\\\windows\\\\evil.exe"\r\n\r\nMZ\r\n'
        b"--z\r\nContent-Type: application/octet-stream\r\n\r\nxx\r\n--z--\r\n"
    )
    names = [a.name for a in parse_message(data, max_bytes=LIMIT).attachments]
    assert names == ["evil.exe", "attachment.bin"]
