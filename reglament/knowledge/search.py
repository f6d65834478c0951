"""Full-text search of article translations, on PostgreSQL and on SQLite alike.

PostgreSQL: `ArticleTranslation.search_vector` holds the title (weight A) and
the plain body (weight B) under the `russian` (or `english`) configuration,
kept by `index_translation` on every save and served by a GIN index (migration
0002). A query is its words OR-ed (each a `plainto_tsquery`), ranked by
`ts_rank`, with `ts_headline` snippets marked with <mark>.

SQLite: the FTS5 table `knowledge_fts` (migration 0002) holds each
translation's title and body already stemmed by Snowball in Python
(reglament.domain.search); a query is stemmed the same way, its stems OR-ed,
ranked by bm25 with the title weighted 10 : 1; the snippet is cut from the
original text, words whose stem matches marked.

Both return `Hit`s best first; callers filter to what the reader may read
before asking (`translation_ids`), so no invisible article is ever ranked.
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, QuerySet, Value

from reglament.domain import search as words
from reglament.knowledge.models import ArticleTranslation

CONFIGS = {"ru": "russian", "en": "english"}
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0


@dataclass(frozen=True, slots=True)
class Hit:
    translation_id: int
    rank: float  # higher is better
    snippet: str  # safe HTML with <mark>


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def index_translation(translation: ArticleTranslation) -> None:
    """Bring the search index of one translation up to date (call after saving it)."""
    if _postgres():
        config = CONFIGS.get(translation.language, "russian")
        ArticleTranslation.objects.filter(pk=translation.pk).update(
            search_vector=SearchVector(Value(translation.title), weight="A", config=config)
            + SearchVector(Value(translation.body_text), weight="B", config=config)
        )
        return
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM knowledge_fts WHERE rowid = %s", [translation.pk])
            cursor.execute(
                "INSERT INTO knowledge_fts (rowid, language, title, body) VALUES (%s, %s, %s, %s)",
                [
                    translation.pk,
                    translation.language,
                    words.stemmed(translation.title, translation.language),
                    words.stemmed(translation.body_text, translation.language),
                ],
            )


def unindex_translation(translation_id: int) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM knowledge_fts WHERE rowid = %s", [translation_id])


def search(query: str, *, translations: QuerySet[ArticleTranslation], limit: int = 20) -> list[Hit]:
    """The translations among `translations` that match `query`, best first."""
    hits: list[Hit] = []
    for language in ("ru", "en"):
        within = translations.filter(language=language)
        if _postgres():
            hits += _search_postgres(query, language, within, limit)
        else:
            hits += _search_sqlite(query, language, within, limit)
    hits.sort(key=lambda hit: (-hit.rank, hit.translation_id))
    return hits[:limit]


def _search_postgres(
    query: str, language: str, within: QuerySet[ArticleTranslation], limit: int
) -> list[Hit]:
    config = CONFIGS[language]
    terms = words.query_terms(query, language)
    if not terms:
        return []
    # OR of the words: a long request description still finds the article that
    # shares most of its words, ranked first (websearch AND would find none).
    tsquery: SearchQuery | None = None
    for word in query.split():
        if not words.terms(word, language):
            continue  # a stop word: to_tsquery would make it empty
        part = SearchQuery(word, config=config, search_type="plain")
        tsquery = part if tsquery is None else tsquery | part
    if tsquery is None:
        return []
    rows = (
        within.annotate(
            rank=SearchRank(F("search_vector"), tsquery),
            headline=SearchHeadline(
                "body_text",
                tsquery,
                config=config,
                start_sel="<mark>",
                stop_sel="</mark>",
                max_words=30,
                min_words=12,
            ),
        )
        .filter(search_vector=tsquery)
        .order_by("-rank", "id")
        .values_list("id", "rank", "headline")[:limit]
    )
    # ts_headline copies the text as it is: keep only the <mark> it added.
    return [
        Hit(
            translation_id=pk,
            rank=float(rank),
            snippet=" ".join(nh3.clean(headline, tags={"mark"}).split()),
        )
        for pk, rank, headline in rows
    ]


def _search_sqlite(
    query: str, language: str, within: QuerySet[ArticleTranslation], limit: int
) -> list[Hit]:
    terms = words.query_terms(query, language)
    if not terms:
        return []
    match = " OR ".join('"' + term.replace('"', "") + '"' for term in terms)
    allowed = set(within.values_list("id", flat=True))
    if not allowed:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid, bm25(knowledge_fts, 0.0, %s, %s) AS score FROM knowledge_fts "
            "WHERE knowledge_fts MATCH %s AND language = %s ORDER BY score, rowid",
            [TITLE_WEIGHT, BODY_WEIGHT, match, language],
        )
        ranked = [(pk, -score) for pk, score in cursor.fetchall() if pk in allowed][:limit]
    texts = dict(
        ArticleTranslation.objects.filter(pk__in=[pk for pk, _rank in ranked]).values_list(
            "id", "body_text"
        )
    )
    return [
        Hit(
            translation_id=pk,
            rank=rank,
            snippet=words.snippet(texts.get(pk, ""), terms, language).html,
        )
        for pk, rank in ranked
    ]
