"""Markdown to safe HTML: markdown-it-py renders, nh3 keeps only harmless tags and attributes.

Authors may write some HTML inside Markdown (a table, a <kbd>); nh3 (ammonia)
removes what could run in a reader's browser: <script>, <style>, every on*
attribute, javascript: links. The plain text (tags removed) is what search
indexes and cuts snippets from.
"""

import html
import re
from collections.abc import Mapping

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul", "mark",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")


# `![Принтер](attachment:printer.png)`: a file of the article, by its name.
_ATTACHMENT_LINK = re.compile(r"\]\(attachment:([^)\s]+)")


def render_html(markdown: str, *, files: Mapping[str, str] | None = None) -> str:
    """The article body as HTML that is safe to insert into a page.

    `files` maps the article's file names to their URLs, so `attachment:NAME`
    links and images point at the download endpoint; an unknown name is left
    as it is (and nh3 drops the link, as `attachment:` is no allowed scheme).
    """
    if files:
        markdown = _ATTACHMENT_LINK.sub(
            lambda m: f"]({files.get(m.group(1), m.group(0)[2:])}", markdown
        )
    return nh3.clean(
        _markdown.render(markdown),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def plain_text(markdown: str) -> str:
    """The body's words without markup: what search indexes and snippets show."""
    text = html.unescape(_TAG.sub(" ", render_html(markdown)))
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
