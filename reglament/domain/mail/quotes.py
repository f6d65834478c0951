"""Fold quoted history and signatures out of a reply, losing nothing.

`split_reply` (plain text) and `split_reply_html` (HTML, ideally as `sanitise` left it)
cut a message into the new text, the quoted history and the signature. Nothing is
dropped: every line (every text node, in HTML) of the input lands in exactly one of the
three parts, in its original order, so the conversation can show `new` and offer the
rest behind a "show quoted text" toggle.

What is recognised as the start of quoted history:

* ``>``-prefixed lines (and, in HTML, anything inside ``<blockquote>`` or Gmail's
  ``gmail_quote``), wherever they are, so bottom-posted and interleaved replies keep
  their own text;
* attribution lines: "On … wrote:", "… пишет:", "… написал(а):", and the date-time-address
  lines of Gmail (Russian), Yandex Mail and Mail.ru ("05.10.2026, 10:00, "Иван"
  <ivan@yandex.ru>:", "Понедельник, 5 октября 2026, 10:00 +03:00 от Иван <…>:");
  when quoted lines follow, the attribution belongs to them; otherwise everything after
  it is history;
* Outlook: "-----Original Message-----", "-------- Исходное сообщение --------", a
  "From: … / Sent: …" or "От: … / Отправлено: …" header block, and in HTML its
  ``divRplyFwdMsg`` marker: everything after is history (Outlook does not mark quoted
  lines). A separator line (underscores, ``<hr>``) just before goes with it.

The signature is looked for at the end of the last stretch of new text only: the
"-- " separator, Gmail/Thunderbird/Outlook signature markers in HTML, "Sent from my
iPhone"-style lines, and closing words ("С уважением,", "Best regards,") within the last
eight lines — never earlier, since those words also occur inside real text.
"""

import html as html_module
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from reglament.domain.mail.charsets import clean_text

NEW, QUOTED, SIGNATURE = "new", "quoted", "signature"


@dataclass(frozen=True, slots=True)
class Reply:
    """A message cut in three; plain text or HTML fragments, as the input was."""

    new: str
    quoted: str = ""
    signature: str = ""


# --- recognising lines -------------------------------------------------------------

_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_DATE = re.compile(r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b(19|20)\d{2}\b")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_ADDRESS_LAST = re.compile(r"(<[^<>]*@[^<>]*>|[\w.+'-]+@[\w-]+(\.[\w-]+)+)\)?\s*:\s*$")
_ENDS_WITH_COLON = re.compile(r":\s*$")
_ON_WROTE = re.compile(
    r"^\s*(On|Am|Le|El)\s.{3,300}\s(wrote|schrieb|a écrit|escribió)\s*:\s*$", re.I
)
_RU_WROTE = re.compile(
    r"^.{3,300}\s(пишет|писал|писала|написал|написала|написал\(а\)|пишут)\s*:\s*$", re.I
)
_YOU_WROTE = re.compile(r"^\s*(вы писали|ты писал|you wrote)\b.{0,200}:\s*$", re.I)
_ORIGINAL = re.compile(
    r"^\s*[-_=*]{2,}\s*(original message|исходное сообщение|оригинальное сообщение"
    r"|reply message|ответное сообщение)\s*[-_=*]{2,}\s*$",
    re.I,
)
_FROM = re.compile(r"^\s*\*?\s*(From|От|Von|De|Отправитель)\s*:\s*\*?\s*\S", re.I)
_SENT = re.compile(r"^\s*\*?\s*(Sent|Date|Отправлено|Дата|Gesendet|Envoyé)\s*:\s*\*?\s*\S", re.I)
_SEPARATOR = re.compile(r"^\s*[-_—–=]{5,}\s*$")
_CLOSING = re.compile(
    r"^\s*(с уважением|с наилучшими пожеланиями|всего доброго|всего наилучшего|best regards"
    r"|kind regards|warm regards|regards|best wishes|thanks and regards|many thanks"
    r"|sincerely|yours sincerely|cheers)\b[\s,.!:;—–-]*.{0,60}$",
    re.I,
)
_MOBILE = re.compile(
    r"^\s*(sent from my .{1,40}|sent from (yandex|mail\.ru|outlook|gmail).{0,40}"
    r"|get outlook for .{1,30}|отправлено (с|из) .{1,60})\s*$",
    re.I,
)
_HR_TEXT = "_" * 16  # how an <hr> reads to the separator rule


@dataclass(slots=True)
class _Line:
    text: str
    quoted: bool = False  # ">"-prefixed, or inside a blockquote
    rest_marker: bool = False  # inside an element meaning "history starts here"
    signature_marker: bool = False
    leaves: list[int] = field(default_factory=list)


def _attribution(text: str) -> bool:
    """An "On … wrote:" line in any of the forms the common clients write."""
    if len(text) > 400 or not _ENDS_WITH_COLON.search(text):
        return False
    if _ON_WROTE.match(text) or _YOU_WROTE.match(text):
        return True
    dated = bool(_TIME.search(text) or _DATE.search(text))
    if _RU_WROTE.match(text) and (dated or _EMAIL.search(text)):
        return True
    # Gmail in Russian, Yandex, Mail.ru: "<date>, <time>, <name> <address>:"
    return bool(_TIME.search(text) and _ADDRESS_LAST.search(text))


def _header_at(lines: Sequence[_Line], index: int) -> tuple[int, bool]:
    """(lines the header takes, whether all that follows is history) or (0, False)."""
    text = lines[index].text.strip()
    if not text:
        return 0, False
    if _ORIGINAL.match(text):
        return 1, True
    if _FROM.match(text):
        following = [line.text for line in lines[index + 1 : index + 6] if line.text.strip()]
        if any(_SENT.match(other) for other in following[:3]):
            return 1, True
    joined = text
    for width in (1, 2, 3):
        if width > 1:
            if index + width - 1 >= len(lines):
                break
            extra = lines[index + width - 1].text.strip()
            if not extra or lines[index + width - 1].quoted:
                break
            joined = f"{joined} {extra}"
        if _attribution(joined):
            return width, False
    return 0, False


def _kinds(lines: Sequence[_Line]) -> list[str]:
    count = len(lines)
    kinds = [NEW] * count
    index = 0
    while index < count:
        line = lines[index]
        if line.quoted:
            kinds[index] = QUOTED
            index += 1
            continue
        width, rest = _header_at(lines, index)
        if line.rest_marker:
            width, rest = 1, True
        if width:
            _take_separator(lines, kinds, index)
            after = index + width
            while after < count and not lines[after].text.strip() and not lines[after].quoted:
                after += 1
            if not rest and after < count and lines[after].quoted:
                kinds[index:after] = [QUOTED] * (after - index)
                index = after
                continue
            kinds[index:] = [QUOTED] * (count - index)
            break
        index += 1
    _mark_signature(lines, kinds)
    return kinds


def _take_separator(lines: Sequence[_Line], kinds: list[str], index: int) -> None:
    before = index - 1
    while before >= 0 and kinds[before] == NEW and not lines[before].text.strip():
        before -= 1
    if before >= 0 and kinds[before] == NEW and _SEPARATOR.match(lines[before].text):
        kinds[before:index] = [QUOTED] * (index - before)


def _mark_signature(lines: Sequence[_Line], kinds: list[str]) -> None:
    written = [i for i, kind in enumerate(kinds) if kind == NEW and lines[i].text.strip()]
    if not written:
        return
    last = written[-1]
    start = last
    while start > 0 and kinds[start - 1] == NEW:
        start -= 1
    stretch = [i for i in written if i >= start]
    candidates = []
    marked = next((i for i in range(start, last + 1) if lines[i].signature_marker), None)
    if marked is not None:
        candidates.append(marked)
    for position in range(len(stretch) - 1, -1, -1):
        if lines[stretch[position]].text.rstrip() in ("--", "-- "):
            if len(stretch) - position <= 21:
                candidates.append(stretch[position])
            break
    for i in stretch[-8:]:
        if _CLOSING.match(lines[i].text) and i > written[0]:
            candidates.append(i)
            break
    for i in stretch[-3:]:
        if _MOBILE.match(lines[i].text):
            candidates.append(i)
            break
    if candidates:
        first = min(candidates)
        kinds[first : last + 1] = [SIGNATURE] * (last + 1 - first)


# --- plain text --------------------------------------------------------------------


def split_reply(text: str) -> Reply:
    """Cut a plain-text reply into new text, quoted history and signature."""
    text = clean_text(text).replace("\r\n", "\n").replace("\r", "\n")
    raw = text.split("\n")
    lines = [_Line(text=line, quoted=line.lstrip().startswith(">")) for line in raw]
    kinds = _kinds(lines)
    return Reply(
        new=_join(raw, kinds, NEW),
        quoted=_join(raw, kinds, QUOTED),
        signature=_join(raw, kinds, SIGNATURE),
    )


def _join(raw: Sequence[str], kinds: Sequence[str], kind: str) -> str:
    chosen = [line for line, k in zip(raw, kinds, strict=True) if k == kind]
    while chosen and not chosen[0].strip():
        chosen.pop(0)
    while chosen and not chosen[-1].strip():
        chosen.pop()
    # lines of one kind taken from around other kinds' lines: one blank line between
    return re.sub(r"\n(?:[ \t]*\n)+", "\n\n", "\n".join(chosen))


# --- HTML --------------------------------------------------------------------------

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr", "param"}
)
_BLOCK = frozenset(
    {"p", "div", "blockquote", "table", "tr", "td", "th", "ul", "ol", "li", "dl", "dt", "dd"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "br", "center", "section", "article"}
    | {"header", "footer", "aside", "nav", "figure", "figcaption", "caption", "address"}
    | {"body", "html", "tbody", "thead", "tfoot"}
)
_QUOTE_CLASSES = frozenset({"gmail_quote", "yandex_quote", "mail-quote-collapse"})
_REST_IDS = frozenset({"divRplyFwdMsg", "appendonsend", "stopSpelling"})
_REST_CLASSES = frozenset({"OutlookMessageHeader"})
_SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature"})
_SIGNATURE_IDS = frozenset({"Signature"})
MAX_HTML_DEPTH = 200
MAX_FOLDED_HTML = 256 * 1024


@dataclass(slots=True)
class _Node:
    tag: str | None  # None for a text node
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list["_Node"] = field(default_factory=list)
    text: str = ""


class _TreeBuilder(HTMLParser):
    """A forgiving HTML tree: unknown end tags ignored, unclosed ones closed at the end."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node(tag="#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag=tag, attrs=attrs)
        self.stack[-1].children.append(node)
        if tag not in _VOID and len(self.stack) < MAX_HTML_DEPTH:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag=tag, attrs=attrs))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(_Node(tag=None, text=data))


def _classes(node: _Node) -> set[str]:
    value = dict(node.attrs).get("class") or ""
    return set(value.split())


def _ident(node: _Node) -> str:
    value = dict(node.attrs).get("id") or ""
    return value.removeprefix("mail-")


class _Lines:
    """The tree read as lines of text, each knowing its leaves and its markers."""

    def __init__(self) -> None:
        self.lines: list[_Line] = [_Line(text="")]
        self.leaves: list[_Node] = []

    def new_line(self, *, quoted: bool, rest: bool, signature: bool) -> None:
        self.lines.append(
            _Line(text="", quoted=quoted, rest_marker=rest, signature_marker=signature)
        )

    def walk(self, root: _Node) -> None:
        # (node, quoted, rest, signature, leaving) — iterative, so depth is no concern
        stack: list[tuple[_Node, bool, bool, bool, bool]] = [(root, False, False, False, False)]
        while stack:
            node, quoted, rest, signature, leaving = stack.pop()
            if leaving:
                if node.tag in _BLOCK:
                    self.new_line(quoted=quoted, rest=rest, signature=signature)
                continue
            if node.tag is not None and node.tag != "#root":
                classes, ident = _classes(node), _ident(node)
                quoted = quoted or node.tag == "blockquote" or bool(classes & _QUOTE_CLASSES)
                rest = rest or ident in _REST_IDS or bool(classes & _REST_CLASSES)
                signature = (
                    signature or ident in _SIGNATURE_IDS or bool(classes & _SIGNATURE_CLASSES)
                )
                if node.tag in _BLOCK:
                    self.new_line(quoted=quoted, rest=rest, signature=signature)
            if node.tag is None or not node.children:
                self.add_leaf(node, quoted=quoted, rest=rest, signature=signature)
                continue
            stack.append((node, quoted, rest, signature, True))
            for child in reversed(node.children):
                stack.append((child, quoted, rest, signature, False))

    def add_leaf(self, node: _Node, *, quoted: bool, rest: bool, signature: bool) -> None:
        line = self.lines[-1]
        if not line.leaves and not line.text:
            line.quoted, line.rest_marker, line.signature_marker = quoted, rest, signature
        line.leaves.append(len(self.leaves))
        self.leaves.append(node)
        if node.tag is None:
            line.text += node.text
        elif node.tag == "hr":
            line.text += _HR_TEXT
        line.quoted = line.quoted or quoted
        line.rest_marker = line.rest_marker or rest
        line.signature_marker = line.signature_marker or signature


def split_reply_html(html: str) -> Reply:
    """Cut an HTML reply into new text, quoted history and signature, as HTML fragments.

    Elements that hold text of more than one part (a wrapper ``<div>``) appear, with
    only their own part's content, in each. Give it sanitised HTML: it keeps what it is
    given and makes nothing safe. HTML over `MAX_FOLDED_HTML` characters (newsletters,
    not replies) is returned whole as new text.
    """
    if len(html) > MAX_FOLDED_HTML:
        return Reply(new=html)
    builder = _TreeBuilder()
    try:
        builder.feed(clean_text(html))
        builder.close()
    except Exception:  # noqa: S110 — keep the tree read so far
        pass
    reader = _Lines()
    reader.walk(builder.root)
    lines = []
    for line in reader.lines:
        line.text = re.sub(r"\s+", " ", line.text).strip()
        lines.append(line)
    kinds = _kinds(lines)
    leaf_kind: dict[int, str] = {}
    for line, kind in zip(lines, kinds, strict=True):
        for leaf in line.leaves:
            leaf_kind[id(reader.leaves[leaf])] = kind
    return Reply(
        new=_serialise(builder.root, leaf_kind, NEW).strip(),
        quoted=_serialise(builder.root, leaf_kind, QUOTED).strip(),
        signature=_serialise(builder.root, leaf_kind, SIGNATURE).strip(),
    )


def _serialise(root: _Node, leaf_kind: dict[int, str], kind: str) -> str:
    """The tree with only the leaves of `kind` and the elements around them."""
    keep: dict[int, bool] = {}
    # post-order: an element is kept when any leaf under it is of `kind`
    order: list[_Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    for node in reversed(order):
        if node.tag is None or not node.children:
            keep[id(node)] = leaf_kind.get(id(node), NEW) == kind
        else:
            keep[id(node)] = any(keep[id(child)] for child in node.children)
    out: list[str] = []
    # (node, closing)
    walk: list[tuple[_Node, bool]] = [(child, False) for child in reversed(root.children)]
    while walk:
        node, closing = walk.pop()
        if closing:
            out.append(f"</{node.tag}>")
            continue
        if not keep[id(node)]:
            continue
        if node.tag is None:
            out.append(html_module.escape(node.text, quote=False))
            continue
        out.append(_start_tag(node))
        if node.tag in _VOID:
            continue
        walk.append((node, True))
        walk.extend((child, False) for child in reversed(node.children))
    return "".join(out)


def _start_tag(node: _Node) -> str:
    parts = [str(node.tag)]
    for name, value in node.attrs:
        parts.append(name if value is None else f'{name}="{html_module.escape(value)}"')
    return f"<{' '.join(parts)}>"
