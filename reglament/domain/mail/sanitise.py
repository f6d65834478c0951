"""Mail HTML made safe to show in an agent's browser, and plain text derived from it.

Helpdesks have been taken over through mail HTML (Zammad CVE-2018-1000154, OTRS
CVE-2021-21441), so the rules are strict and explicit: the whitelist of ammonia (via
``nh3``) with scripts, styles, frames, objects, forms and inputs removed, no ``on*``
handlers, no ``style`` attribute, only ``http``/``https``/``mailto``/``tel``/``cid`` URLs
(``javascript:``, ``vbscript:`` and ``data:`` are dropped, relative URLs too), and links
opened in a new tab with ``rel="noopener noreferrer nofollow"``.

Remote images are not loaded: they track the reader. Each ``<img src="http…">`` becomes
``<img class="mail-remote-image" data-remote-src="…">`` and its URL is returned, so an
agent can choose to load them. ``cid:`` images stay as references; the caller maps them
to the message's inline attachments (see `parse.ParsedMessage.inline_images`).

A few class names and attribute values that mark quoted history and signatures
(``gmail_quote``, ``moz-cite-prefix``, ``<blockquote type="cite">``, Outlook's
``divRplyFwdMsg`` …) are kept on purpose, so `quotes.split_reply_html` can fold the
sanitised HTML. Kept ``id`` values are prefixed with ``mail-`` so they cannot clash with
ids of the page around them.
"""

import html as html_module
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from reglament.domain.mail.charsets import clean_text

REMOTE_IMAGE_CLASS = "mail-remote-image"
ID_PREFIX = "mail-"

# Ammonia's default tags minus image maps (their <area href> bypasses link rewriting).
TAGS = frozenset(nh3.ALLOWED_TAGS - {"map", "area"})
# Removed with their content, not only their tags.
CONTENT_DROPPED = frozenset(
    {"script", "style", "title", "head", "iframe", "frame", "frameset", "object", "embed"}
    | {"applet", "noscript", "noembed", "noframes", "template", "svg", "math", "select"}
    | {"textarea", "xmp", "plaintext", "canvas", "audio", "video"}
)
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
LINK_REL = "noopener noreferrer nofollow"

# Markers of quoted history and signatures that folding needs (see quotes.py).
QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_attr", "gmail_signature", "gmail_extra", "moz-cite-prefix"}
    | {"moz-signature", "moz-forward-container", "yandex_quote", "mail-quote-collapse"}
    | {"OutlookMessageHeader", "WordSection1", "AppleOriginalContents"}
)
_KEPT_CLASSES = {tag: QUOTE_CLASSES for tag in ("div", "blockquote", "span", "pre", "p")}
_KEPT_VALUES = {
    "blockquote": {"type": frozenset({"cite"})},
    "div": {
        "id": frozenset(
            {
                "divRplyFwdMsg",
                "Signature",
                "appendonsend",
                "mail-editor-reference-message-container",
            }
        )
    },
    "hr": {"id": frozenset({"stopSpelling"})},
}
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES.setdefault("img", set()).update({"title"})
_ATTRIBUTES["a"] = {"href", "title"}
for _tag, _values in _KEPT_VALUES.items():
    for _name in _values:
        _ATTRIBUTES.get(_tag, set()).discard(_name)

_CLEANER = nh3.Cleaner(
    tags=TAGS,
    clean_content_tags=CONTENT_DROPPED,
    attributes=_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel=LINK_REL,
    set_tag_attribute_values={"a": {"target": "_blank"}},
    tag_attribute_values=_KEPT_VALUES,
    allowed_classes=_KEPT_CLASSES,
    url_relative="deny",
    id_prefix=ID_PREFIX,
)

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"')
_IMG_KEPT = ("alt", "title", "width", "height")
_CID = re.compile(r'src="cid:([^"]*)"', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SafeHtml:
    """Sanitised HTML with what it refers to but does not load.

    `remote_images`: URLs of blocked remote images, in order of appearance, repeats
    removed. `cid_references`: Content-IDs of inline images it shows (without ``cid:``).
    """

    html: str
    remote_images: tuple[str, ...] = ()
    cid_references: tuple[str, ...] = ()


# html5ever, under nh3, is quadratic in nesting depth (20,000 nested <div> take a second),
# so tags nested deeper than this are dropped first; their text stays.
MAX_NESTING = 100
MAX_HTML = 1024 * 1024
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
# Void elements, and elements whose end tag is optional (the parser closes them itself).
_NOT_NESTING = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr", "param", "p", "li", "dt", "dd", "tr", "td", "th", "option"}
    | {"thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp", "optgroup"}
)


def limit_nesting(html: str, *, depth: int = MAX_NESTING) -> str:
    """`html` without the start and end tags nested deeper than `depth` (by a simple
    count of open elements; the sanitiser repairs whatever structure remains)."""
    open_tags = 0
    dropped = 0

    def visit(match: re.Match[str]) -> str:
        nonlocal open_tags, dropped
        closing, name = match.group(1), match.group(2).lower()
        if name in _NOT_NESTING or match.group(0).endswith("/>"):
            return match.group(0)
        if closing:
            if dropped:
                dropped -= 1
                return ""
            open_tags = max(0, open_tags - 1)
            return match.group(0)
        if open_tags >= depth:
            dropped += 1
            return ""
        open_tags += 1
        return match.group(0)

    return _TAG.sub(visit, html)


def sanitise_html(html: str) -> SafeHtml:
    """`html` (any fragment or document, however broken) as safe HTML. Never raises.

    HTML over `MAX_HTML` characters is cut; tags nested deeper than `MAX_NESTING` are
    dropped (their text is kept).
    """
    try:
        cleaned = _CLEANER.clean(limit_nesting(clean_text(html[:MAX_HTML])))
    except BaseException as error:  # nh3 reports Rust panics as a BaseException.
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        return SafeHtml(html=f"<pre>{html_module.escape(clean_text(html))}</pre>")
    remote: dict[str, None] = {}

    def block_remote(match: re.Match[str]) -> str:
        attributes = dict(_ATTRIBUTE.findall(match.group(0)))
        source = html_module.unescape(attributes.get("src", ""))
        if not source.lower().startswith(("http://", "https://")):
            return match.group(0)
        remote.setdefault(source, None)
        kept = [f'class="{REMOTE_IMAGE_CLASS}"', f'data-remote-src="{html_module.escape(source)}"']
        kept += [
            f'{name}="{attributes[name]}"'
            for name in ("alt", "title", "width", "height")
            if name in attributes
        ]
        return f"<img {' '.join(kept)}>"

    cleaned = _IMG.sub(block_remote, cleaned).replace(' class=""', "")
    cids = dict.fromkeys(html_module.unescape(cid).strip("<>") for cid in _CID.findall(cleaned))
    return SafeHtml(html=cleaned, remote_images=tuple(remote), cid_references=tuple(cids))


def images_shown(safe_html: str, *, remote: bool, cid_url: Callable[[str], str | None]) -> str:
    """`safe_html` (from sanitise_html) ready to show: each ``cid:`` image pointed at
    `cid_url(content_id)` (its source dropped where that is None), and with `remote`
    the blocked remote images given their ``http(s)`` source back (fetched without a
    referrer). Only the image tags the sanitiser wrote are touched."""

    def show(match: re.Match[str]) -> str:
        tag = match.group(0)
        attributes = dict(_ATTRIBUTE.findall(tag))
        kept = [f'{name}="{attributes[name]}"' for name in _IMG_KEPT if name in attributes]
        remote_source = html_module.unescape(attributes.get("data-remote-src", ""))
        if remote_source:
            if not remote or not remote_source.lower().startswith(("http://", "https://")):
                return tag
            source = remote_source
            kept.append('referrerpolicy="no-referrer"')
        else:
            source = html_module.unescape(attributes.get("src", ""))
            if not source.lower().startswith("cid:"):
                return tag
            found = cid_url(source[4:].strip().strip("<>"))
            if found is None:
                return f"<img {' '.join(kept)}>"
            source = found
        return f'<img src="{html_module.escape(source)}" {" ".join(kept)}>'.replace(" >", ">")

    return _IMG.sub(show, safe_html)


# --- HTML to plain text ------------------------------------------------------------

_BLOCKS = frozenset(
    {"p", "div", "table", "tr", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5"}
    | {"h6", "pre", "address", "article", "aside", "section", "header", "footer", "nav"}
    | {"figure", "figcaption", "hr", "center", "details", "summary", "form", "fieldset"}
    | {"caption", "body", "html"}
)
_SKIPPED = frozenset({"script", "style", "title", "head", "template", "noscript", "svg"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")


class _TextWriter(HTMLParser):
    """Collects text in lines; blockquote depth becomes a "> " prefix, as mail clients do."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.line_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[str | None] = []
        self.non_breaking = False

    def flush(self, *, blank: bool = False) -> None:
        """End the current line; an empty one is kept only for ``<br>`` (a blank line)."""
        text = "".join(self.current)
        if self.pre_depth == 0:
            text = text.strip()
        # "<p>&nbsp;</p>" is how Outlook writes an empty line
        if text or blank or self.pre_depth or self.non_breaking:
            self.lines.append((self.line_depth, text))
        self.non_breaking = False
        self.current = []
        self.line_depth = self.quote_depth

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip_depth += 1
        elif tag == "br":
            self.flush(blank=True)
        elif tag == "blockquote":
            self.flush()
            self.quote_depth += 1
            self.line_depth = self.quote_depth
        elif tag == "li":
            self.flush()
            self.current.append("- ")
        elif tag in ("td", "th"):
            if self.current and not self.current[-1].endswith(" "):
                self.current.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag in _BLOCKS:
            if tag == "pre":
                self.flush()
                self.pre_depth += 1
            elif self.current:
                self.flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self.flush()
            self.quote_depth = max(0, self.quote_depth - 1)
            self.line_depth = self.quote_depth
        elif tag == "a":
            href = self.links.pop() if self.links else None
            text = "".join(self.current)
            if href and href.startswith(("http://", "https://")) and href not in text:
                self.current.append(f" <{href}>")
        elif tag in _BLOCKS:
            self.flush()
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            for index, piece in enumerate(data.split("\n")):
                if index:
                    self.flush()
                self.current.append(piece)
            return
        if "\xa0" in data and not data.strip():
            self.non_breaking = True
        text = _SPACES.sub(" ", data)
        if not self.current or "".join(self.current).endswith(" "):
            text = text.lstrip(" ")
        self.current.append(text)


def html_to_text(html: str) -> str:
    """A plain-text rendering of `html`: blocks and ``<br>`` become lines, quoted blocks
    get "> " prefixes, links keep their URL in angle brackets, images their alt text.
    Never raises."""
    writer = _TextWriter()
    try:
        writer.feed(clean_text(html))
        writer.close()
    except Exception:  # noqa: S110 — html.parser is lenient; keep what was read so far.
        pass
    writer.flush()
    lines = [("> " * depth + text).rstrip() for depth, text in writer.lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
