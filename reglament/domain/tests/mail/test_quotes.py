"""split_reply and split_reply_html fold quoted history and signatures, losing nothing.

Seed R3.7 counts the reaction to a clarification: the agent must see what the customer
wrote *now*, not the whole history again. Fixtures are real clients' reply formats.
"""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from reglament.domain.mail import Reply, html_to_text, split_reply, split_reply_html
from reglament.domain.tests.mail.support import parsed

REPLIES = [
    "gmail_reply_ru.eml",
    "outlook_reply_en.eml",
    "outlook_web_reply_ru_cp1251.eml",
    "yandex_reply_ru.eml",
    "mailru_reply_ru.eml",
    "thunderbird_reply_ru.eml",
    "thunderbird_plain_en.eml",
    "apple_mail_reply_ru.eml",
    "thebat_koi8r.eml",
]


def lines(text: str) -> Counter[str]:
    return Counter(line for line in text.replace("\r\n", "\n").split("\n") if line.strip())


def words(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text))


def assert_nothing_lost(text: str, reply: Reply) -> None:
    assert lines(reply.new) + lines(reply.quoted) + lines(reply.signature) == lines(text)


def assert_nothing_lost_html(html: str, reply: Reply) -> None:
    parts = [html_to_text(reply.new), html_to_text(reply.quoted), html_to_text(reply.signature)]
    assert sum((words(part) for part in parts), Counter()) == words(html_to_text(html))


# --- plain text, per client --------------------------------------------------------


def test_gmail_russian_reply_folds_attribution_quote_and_closing():
    text = parsed("gmail_reply_ru.eml").text
    reply = split_reply(text)
    assert reply.new == "Добрый день!\n\nПерезапустили кассу, чек печатается. Спасибо за помощь."
    assert reply.signature == "С уважением,\nИван Петров\nООО «Ромашка», +7 495 123-45-67"
    assert reply.quoted.startswith("пн, 5 окт. 2026 г. в 10:00, Служба поддержки CERA <")
    assert reply.quoted.endswith("> Служба поддержки CERA\n>")
    assert_nothing_lost(text, reply)


def test_outlook_english_reply_folds_the_from_sent_block_and_all_after():
    text = parsed("outlook_reply_en.eml").text
    reply = split_reply(text)
    assert reply.new == (
        "Hi team,\n\nThe report still shows yesterday's numbers after the update. "
        "Can you check the import job?"
    )
    assert reply.signature == "Best regards,\nJohn Smith\nHead of IT | Retail Analytics Ltd."
    assert reply.quoted.startswith("From: CERA Support <support+CERA-2026-000124")
    assert reply.quoted.endswith("We have restarted the import. Please check again.")
    assert_nothing_lost(text, reply)


def test_outlook_russian_reply_takes_the_underscore_separator_with_the_history():
    text = parsed("outlook_web_reply_ru_cp1251.eml").text
    reply = split_reply(text)
    assert reply.new == (
        "Добрый день.\n\nОшибка повторилась сегодня в 9:15, лог во вложении не нужен — "
        "всё видно на экране."
    )
    assert reply.quoted.startswith("________________________________\nОт: Служба поддержки")
    assert "Отправлено: 5 октября 2026 г. 9:40" in reply.quoted
    assert reply.signature == ""
    assert_nothing_lost(text, reply)


def test_yandex_reply_folds_date_time_address_attribution_and_dash_signature():
    text = parsed("yandex_reply_ru.eml").text
    reply = split_reply(text)
    assert reply.new == (
        "Здравствуйте!\n\nОбновление установили, но модуль лояльности по-прежнему не видит "
        "карты.\nВерсия кассы 10.4.2."
    )
    assert reply.signature == "-- \nОльга Кузнецова\nАдминистратор магазина №12"
    assert reply.quoted.startswith('05.10.2026, 10:00, "Служба поддержки SET Retail" <')
    assert_nothing_lost(text, reply)


def test_mailru_reply_folds_the_ot_attribution_and_the_mobile_signature():
    text = parsed("mailru_reply_ru.eml").text
    reply = split_reply(text)
    assert reply.new == "Касса снова зависла на закрытии смены, фото экрана прислать не могу."
    assert reply.signature == "Отправлено из мобильной Почты Mail.ru"
    assert reply.quoted.startswith("Понедельник, 5 октября 2026, 10:00 +03:00 от Служба")
    assert_nothing_lost(text, reply)


def test_thunderbird_bottom_posted_reply_keeps_the_answers_between_quotes():
    text = parsed("thunderbird_reply_ru.eml").text
    reply = split_reply(text)
    assert reply.new == "Astra Linux 1.7.5, ядро 6.1.\n\nЖурнал приложить не могу, он пустой."
    assert reply.quoted == (
        "05.10.2026 10:00, Служба поддержки Русбитех пишет:\n"
        "> Уточните, пожалуйста, версию ОС.\n> И приложите журнал."
    )
    assert reply.signature == "-- \nАлексей Волков\nГБУ «Центр ИТ»"
    assert_nothing_lost(text, reply)


def test_thunderbird_original_message_separator_folds_all_after():
    text = parsed("thunderbird_plain_en.eml").text
    reply = split_reply(text)
    assert reply.new == "Thursday 10:00 works for us, remote please."
    assert reply.signature == "Regards,\nMaria"
    assert reply.quoted.startswith("-------- Original Message --------\nSubject:")
    assert_nothing_lost(text, reply)


def test_apple_mail_reply_folds_napisal_a_and_sent_from_iphone():
    text = parsed("apple_mail_reply_ru.eml").text
    reply = split_reply(text)
    assert reply.new == "Да, можно закрывать заявку."
    assert reply.signature == "Отправлено с iPhone"
    assert reply.quoted.startswith("> 5 окт. 2026 г., в 10:00, Служба поддержки CERA")
    assert_nothing_lost(text, reply)


def test_the_bat_vy_pisali_attribution_is_folded():
    text = parsed("thebat_koi8r.eml").text
    reply = split_reply(text)
    assert reply.new == "Здравствуйте, Служба.\n\nНомер лицензии: 4411-2093-7781."
    assert reply.quoted == (
        "Вы писали 5 октября 2026 г., 10:00:\n\n> Пришлите, пожалуйста, номер лицензии."
    )
    assert reply.signature.startswith("-- \nС уважением,\n Николай Федоров")
    assert_nothing_lost(text, reply)


# --- plain text, what must not be folded ---------------------------------------------


def test_a_program_that_pishet_is_not_an_attribution():
    text = "При закрытии смены касса пишет:\nОшибка ФН 235\n\nЧто делать?"
    assert split_reply(text) == Reply(new=text)


def test_closing_words_early_in_a_long_message_are_not_a_signature():
    body = "\n".join(f"Строка {n} описания проблемы." for n in range(12))
    text = f"Здравствуйте.\nС уважением относимся к вашей работе, но:\n{body}"
    assert split_reply(text) == Reply(new=text)


def test_the_original_message_marker_in_russian():
    text = "Согласен.\n\n-------- Исходное сообщение --------\nТема: Обновление\nТекст"
    reply = split_reply(text)
    assert reply.new == "Согласен."
    assert reply.quoted == "-------- Исходное сообщение --------\nТема: Обновление\nТекст"


def test_english_on_wrote_wrapped_over_two_lines():
    text = (
        "Yes, twice.\n\nOn Mon, Oct 5, 2026 at 10:00 AM Support <\nsupport@example.com> wrote:\n"
        "> Have you tried restarting?"
    )
    reply = split_reply(text)
    assert reply.new == "Yes, twice."
    assert reply.quoted.startswith("On Mon, Oct 5, 2026 at 10:00 AM Support <\nsupport@")


def test_empty_text_gives_an_empty_reply():
    assert split_reply("") == Reply(new="")


# --- HTML ---------------------------------------------------------------------------


def html_of(name: str) -> str:
    html = parsed(name).html
    assert html is not None
    return html


def test_gmail_html_quote_and_signature_are_folded_by_their_classes():
    html = html_of("gmail_reply_ru.eml")
    reply = split_reply_html(html)
    assert html_to_text(reply.new) == (
        "Добрый день!\n\nПерезапустили кассу, чек печатается. Спасибо за помощь."
    )
    assert reply.signature.startswith('<div><div><div class="gmail_signature">')
    assert html_to_text(reply.signature) == (
        "С уважением,\nИван Петров\nООО «Ромашка», +7 495 123-45-67"
    )
    assert reply.quoted.startswith('<div class="gmail_quote"><div class="gmail_attr">')
    assert_nothing_lost_html(html, reply)


def test_outlook_desktop_html_folds_from_the_from_sent_block():
    html = html_of("outlook_reply_en.eml")
    reply = split_reply_html(html)
    assert html_to_text(reply.new) == (
        "Hi team,\n\nThe report still shows yesterday’s numbers after the update. "
        "Can you check the import job?"
    )
    assert html_to_text(reply.signature) == (
        "Best regards,\nJohn Smith\nHead of IT | Retail Analytics Ltd."
    )
    assert html_to_text(reply.quoted).startswith("From: CERA Support <support+CERA")
    assert_nothing_lost_html(html, reply)


def test_outlook_web_html_folds_from_div_rply_fwd_msg_with_its_rule():
    html = html_of("outlook_web_reply_ru_cp1251.eml")
    reply = split_reply_html(html)
    assert html_to_text(reply.new) == (
        "Добрый день.\n\nОшибка повторилась сегодня в 9:15, лог во вложении не нужен — "
        "всё видно на экране."
    )
    assert reply.quoted.startswith('<div id="mail-appendonsend"></div><hr><div id="mail-divRply')
    assert_nothing_lost_html(html, reply)


def test_yandex_and_mailru_html_fold_the_attribution_and_blockquote():
    for name, new, signature in [
        (
            "yandex_reply_ru.eml",
            "Здравствуйте!\nОбновление установили, но модуль лояльности по-прежнему не видит "
            "карты.\nВерсия кассы 10.4.2.",
            "--\nОльга Кузнецова\nАдминистратор магазина №12",
        ),
        (
            "mailru_reply_ru.eml",
            "Касса снова зависла на закрытии смены, фото экрана прислать не могу.",
            "Отправлено из мобильной Почты Mail.ru",
        ),
    ]:
        html = html_of(name)
        reply = split_reply_html(html)
        assert html_to_text(reply.new) == new, name
        assert html_to_text(reply.signature) == signature, name
        assert "<blockquote>" in reply.quoted, name
        assert_nothing_lost_html(html, reply)


def test_thunderbird_html_bottom_post_keeps_answers_after_cited_blocks():
    html = html_of("thunderbird_reply_ru.eml")
    reply = split_reply_html(html)
    assert html_to_text(reply.new) == (
        "Astra Linux 1.7.5, ядро 6.1.\nЖурнал приложить не могу, он пустой."
    )
    assert reply.quoted.startswith('<div class="moz-cite-prefix">05.10.2026 10:00, Служба')
    assert reply.signature.startswith('<pre class="moz-signature">-- \nАлексей Волков')
    assert_nothing_lost_html(html, reply)


def test_apple_mail_html_folds_cite_blockquotes():
    html = html_of("apple_mail_reply_ru.eml")
    reply = split_reply_html(html)
    assert html_to_text(reply.new) == "Да, можно закрывать заявку."
    assert html_to_text(reply.signature) == "Отправлено с iPhone"
    assert reply.quoted.count('<blockquote type="cite">') == 2
    assert_nothing_lost_html(html, reply)


def test_html_without_history_is_all_new():
    html = "<p>Касса не печатает чек.</p><p>Магазин №3.</p>"
    assert split_reply_html(html) == Reply(new=html)


# --- nothing is ever lost -------------------------------------------------------------

LINE_KINDS = st.sampled_from(
    [
        "> quoted line",
        ">",
        "",
        "-- ",
        "С уважением,",
        "Best regards,",
        "Sent from my iPhone",
        "-----Original Message-----",
        "From: Someone <a@b.example>",
        "Sent: Monday",
        "От: Кто-то",
        "Отправлено: понедельник",
        "On Mon, 5 Oct 2026 at 10:00, A <a@b.example> wrote:",
        '05.10.2026, 10:00, "A" <a@b.example>:',
        "________________________________",
        "Текст сообщения.",
        "Plain words here",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(LINE_KINDS, st.text(max_size=40)), max_size=30))
def test_split_reply_never_loses_a_line(pieces):
    text = "\n".join(pieces)
    reply = split_reply(text)
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    assert lines(reply.new) + lines(reply.quoted) + lines(reply.signature) == lines(normalised)


HTML_PIECES = st.sampled_from(
    [
        "<p>Ответ клиента</p>",
        "<br>",
        '<div class="gmail_quote">old <b>text</b></div>',
        '<blockquote type="cite">cited</blockquote>',
        "<blockquote>q<blockquote>qq</blockquote></blockquote>",
        '<div id="mail-divRplyFwdMsg"><b>From:</b> A<br><b>Sent:</b> B</div>',
        '<div class="gmail_signature">Ivan</div>',
        "<div>-- </div>",
        "<div>С уважением,</div>",
        "<div>On Mon, 5 Oct 2026 at 10:00, A &lt;a@b.example&gt; wrote:</div>",
        "<hr>",
        "<p>Plain words &amp; more</p>",
        "<div><span>nested <i>words</i></span></div>",
        "</div>",
        "<div>",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(HTML_PIECES, max_size=20))
def test_split_reply_html_never_loses_a_word(pieces):
    html = "".join(pieces)
    assert_nothing_lost_html(html, split_reply_html(html))
