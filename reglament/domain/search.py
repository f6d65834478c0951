"""Words of a text as search terms: stems by the Snowball stemmer, and highlighted snippets.

PostgreSQL's `russian` text-search configuration stems with Snowball too; this
module gives SQLite's FTS5 index the same stems (computed here, in Python), so
«касса не печатает чек» finds «Касса перестала печатать чеки» on both
databases: «печатает» and «печатать» both become «печата», «чек» and «чеки»
«чек». Stop words («не», «и», «the» …) are dropped as PostgreSQL drops them.
"""

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import snowballstemmer

WORD = re.compile(r"\w+", re.UNICODE)
SPACE = re.compile(r"\s+")

# The languages articles are written in, and the Snowball stemmer of each.
STEMMERS = {"ru": "russian", "en": "english"}

# The short, frequent words PostgreSQL's `russian` and `english` dictionaries drop.
STOP_WORDS = {
    "ru": frozenset(
        "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по "
        "только ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли "
        "если уже или ни быть был него до вас нибудь опять уж вам ведь там потом себя "
        "ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без "
        "будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой "
        "совсем ним здесь этом один почти мой тем чтобы нее неё сейчас были куда зачем всех "
        "никогда можно при наконец два об другой хоть после над больше тот через эти нас "
        "про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда "
        "лучше чуть том нельзя такой им более всегда конечно всю между это".split()
    ),
    "en": frozenset(
        "a an and are as at be but by for if in into is it no not of on or such that the "
        "their then there these they this to was will with i me my we our you your he she "
        "him her his its do does did has have had so than too very can just".split()
    ),
}


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(STEMMERS.get(language, "russian"))


def normalise(word: str) -> str:
    """Lower case, «ё» read as «е» (people type either)."""
    return word.lower().replace("ё", "е")


def stem(word: str, language: str) -> str:
    """The Snowball stem of one word in `language` ("ru" or "en")."""
    return str(_stemmer(language).stemWord(normalise(word)))


def terms(text: str, language: str) -> list[str]:
    """The stems of `text`'s words, in order, without stop words (repeats kept)."""
    stop = STOP_WORDS.get(language, frozenset())
    return [stem(w, language) for w in WORD.findall(text) if normalise(w) not in stop]


def stemmed(text: str, language: str) -> str:
    """`text` as its stems separated by spaces: what the SQLite index stores."""
    return " ".join(terms(text, language))


def query_terms(query: str, language: str, *, limit: int = 32) -> list[str]:
    """The distinct stems of a query, first occurrence first (at most `limit`)."""
    seen: dict[str, None] = {}
    for term in terms(query, language):
        seen.setdefault(term, None)
    return list(seen)[:limit]


@dataclass(frozen=True, slots=True)
class Snippet:
    """A piece of text around the first matching word, as safe HTML with <mark>."""

    html: str
    matched: int  # how many words of the piece matched


def snippet(text: str, stems: Iterable[str], language: str, *, width: int = 30) -> Snippet:
    """About `width` words of `text` around its first word whose stem is in `stems`.

    Every word whose stem matches is wrapped in <mark>; everything else is
    HTML-escaped, so the result is safe to show as HTML.
    """
    wanted = set(stems)
    words = list(WORD.finditer(text))
    hits = [i for i, m in enumerate(words) if stem(m.group(), language) in wanted]
    if not words:
        return Snippet(html="", matched=0)
    first = hits[0] if hits else 0
    start = max(0, first - width // 3)
    end = min(len(words), start + width)
    pieces: list[str] = []
    cursor = words[start].start()
    for i in range(start, end):
        match = words[i]
        between = text[cursor : match.start()]
        pieces.append(html.escape(SPACE.sub(" ", between) if i > start else ""))
        word = html.escape(match.group())
        pieces.append(f"<mark>{word}</mark>" if i in hits else word)
        cursor = match.end()
    tail = SPACE.sub(" ", text[cursor:]) if end == len(words) else ""
    body = ("".join(pieces) + html.escape(tail)).strip()
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(words) else ""
    return Snippet(html=f"{prefix}{body}{suffix}", matched=sum(1 for i in hits if start <= i < end))
