"""sanitise_html makes mail HTML safe to show agents; html_to_text renders it as text.

Helpdesks were taken over through mail HTML (Zammad CVE-2018-1000154, OTRS
CVE-2021-21441); the attack fixture carries the usual tricks at once.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from reglament.domain.mail import html_to_text, images_shown, sanitise_html
from reglament.domain.tests.mail.support import parsed


def xss_html() -> str:
    message = parsed("xss_html.eml")
    assert message.html is not None
    return message.html


def test_scripts_styles_frames_objects_and_forms_are_gone_with_their_content():
    html = xss_html()
    for tag in ("script", "style", "iframe", "object", "embed", "form", "input", "button"):
        assert f"<{tag}" not in html, tag
    for tag in ("svg", "meta", "title", "head", "body"):
        assert f"<{tag}" not in html, tag
    assert "document.cookie" not in html
    assert "frame text" not in html
    assert "hunter2" not in html


def test_no_event_handler_or_style_attribute_survives():
    html = xss_html()
    assert not re.search(r"\son\w+\s*=", html, re.IGNORECASE)
    assert "style=" not in html
    assert "alert" not in html


def test_script_urls_and_data_urls_are_dropped_and_links_open_safely():
    html = xss_html()
    assert "javascript:" not in html.lower()
    assert "vbscript:" not in html.lower()
    assert "data:" not in html
    assert (
        '<a href="https://pay.example/invoice/77" target="_blank" '
        'rel="noopener noreferrer nofollow">pay here</a>'
    ) in html
    # the link whose URL was removed keeps its words, without an href
    assert '<a target="_blank" rel="noopener noreferrer nofollow">invoice</a>' in html


def test_remote_images_become_placeholders_with_their_url_returned():
    result = sanitise_html('<p>Hi<img src="https://t.example/p.gif?a=1&amp;b=2" alt="logo"></p>')
    assert result.html == (
        '<p>Hi<img class="mail-remote-image" '
        'data-remote-src="https://t.example/p.gif?a=1&amp;b=2" alt="logo"></p>'
    )
    assert result.remote_images == ("https://t.example/p.gif?a=1&b=2",)
    assert result.cid_references == ()


def test_cid_images_are_kept_as_references():
    result = sanitise_html('<img src="cid:logo@x.example"><img src="cid:logo@x.example">')
    assert result.html == '<img src="cid:logo@x.example"><img src="cid:logo@x.example">'
    assert result.cid_references == ("logo@x.example",)


def test_quote_markers_are_kept_for_folding_other_classes_and_ids_are_not():
    result = sanitise_html(
        '<div class="gmail_quote evil" id="divRplyFwdMsg">q</div>'
        '<div id="login" class="btn">x</div><blockquote type="cite" cite="mid:1">c</blockquote>'
    )
    assert result.html == (
        '<div class="gmail_quote" id="mail-divRplyFwdMsg">q</div>'
        '<div>x</div><blockquote type="cite" cite="mid:1">c</blockquote>'
    )


def test_html_to_text_keeps_lines_links_and_quotes():
    text = html_to_text(
        "<p>Hello <b>Anna</b>,</p><p>see <a href='https://kb.example/42'>the article</a>"
        "<br>and reply.</p><blockquote><div>old &amp; quoted</div></blockquote>"
        "<ul><li>one</li><li>two</li></ul><script>x()</script>"
    )
    assert text == (
        "Hello Anna,\nsee the article <https://kb.example/42>\nand reply.\n"
        "> old & quoted\n- one\n- two"
    )


def test_sanitising_twice_changes_nothing():
    once = sanitise_html(xss_html()).html
    assert sanitise_html(once).html == once


# --- showing the sanitised HTML ---------------------------------------------------------


def _shown(html: str, *, remote: bool) -> str:
    urls = {"logo@x": "/mail/7/cid/logo%40x/"}
    return images_shown(sanitise_html(html).html, remote=remote, cid_url=urls.get)


def test_remote_images_stay_blocked_until_asked_for():
    html = '<p>Hi</p><img src="https://tracker.example/p.gif?u=1&amp;k=2" alt="pixel">'
    blocked = _shown(html, remote=False)
    assert " src=" not in blocked
    assert 'data-remote-src="https://tracker.example/p.gif?u=1&amp;k=2"' in blocked
    loaded = _shown(html, remote=True)
    assert (
        '<img src="https://tracker.example/p.gif?u=1&amp;k=2" alt="pixel" '
        'referrerpolicy="no-referrer">'
    ) in loaded
    assert "data-remote-src" not in loaded


def test_inline_images_point_at_our_url_and_unknown_ones_lose_their_source():
    html = '<img src="cid:logo@x" alt="Логотип"><img src="cid:missing@x" alt="другое">'
    shown = _shown(html, remote=True)
    assert '<img src="/mail/7/cid/logo%40x/" alt="Логотип">' in shown
    assert '<img alt="другое">' in shown
    assert "cid:" not in shown


def test_showing_images_cannot_smuggle_a_script_url_or_an_attribute():
    # a "remote" source that is not http(s), or quotes in it, never become markup
    html = (
        '<img src="https://x.example/a.png&quot; onerror=&quot;alert(1)">'
        '<img src="javascript:alert(1)"><img src="data:image/png;base64,AAAA">'
    )
    shown = _shown(html, remote=True)
    assert "javascript:" not in shown
    assert "data:" not in shown
    images = _img_attributes(shown)
    assert len(images) == 3
    for attributes in images:
        assert set(attributes) <= {"src", "alt", "referrerpolicy"}
        assert (attributes.get("src") or "https://").startswith("https://")


def _img_attributes(html: str) -> list[dict[str, str | None]]:
    """The attributes of each <img>, as a browser's parser reads them."""
    found: list[dict[str, str | None]] = []

    class Images(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "img":
                found.append(dict(attrs))

    Images().feed(html)
    return found
