"""Read-only queries of the knowledge base; every one goes through reglament.knowledge.access.

Lists and search silently leave out what the reader may not read; naming a
section explicitly that the reader's tariff lacks is a 403
`knowledge_not_in_tariff` (a section named without its regulation is looked up
in the one regulation that has it), and a single article the reader may not
know of a 404 worded as for one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.domain.regulation import Text
from reglament.knowledge import search
from reglament.knowledge.access import (
    Reader,
    article_check,
    article_hidden,
    not_in_tariff,
    parsed_regulation,
    require_section,
    section_access,
    visible_filter,
)
from reglament.knowledge.errors import (
    ArticleNotFoundError,
    KnowledgePermissionError,
    SectionAmbiguousError,
    SectionNotFoundError,
    SuggestionNotFoundError,
)
from reglament.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleRevision,
    ArticleTranslation,
    Suggestion,
)
from reglament.regulations.errors import RegulationNotFoundError
from reglament.regulations.models import Regulation

# A suggestion with no outcome this long after it was shown counts as abandoned.
ABANDONED_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class SectionView:
    regulation: str
    id: str
    title: Text
    tariffs: tuple[str, ...]
    accessible: bool
    articles: int  # how many of its articles the reader may read


@dataclass(frozen=True, slots=True)
class ArticleView:
    """An article with the translation shown to the reader (their language, else Russian)."""

    article: Article
    translation: ArticleTranslation
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SearchResult:
    article: Article
    translation: ArticleTranslation
    rank: float
    snippet: str


def _regulation_ids(regulation: str | None) -> list[str]:
    if regulation:
        if not Regulation.objects.filter(pk=regulation).exists():
            raise RegulationNotFoundError(
                _("There is no regulation %(regulation)s.") % {"regulation": regulation},
                details={"regulation": regulation},
            )
        return [regulation]
    return list(Regulation.objects.values_list("id", flat=True))


def _regulation_of_section(reader: Reader, section: str) -> str:
    """The one regulation with the knowledge section `section`, named without a regulation.

    A section is named within its regulation, so the same id may be in several:
    then the reader must say which (422); in none, a 404 listing what to pass.
    """
    sections: dict[str, list[str]] = {}
    for regulation_id in sorted(_regulation_ids(None)):
        parsed = reader.regulation(regulation_id)
        if parsed is not None and parsed.knowledge_sections:
            sections[regulation_id] = [s.id for s in parsed.knowledge_sections]
    having = [regulation_id for regulation_id, ids in sections.items() if section in ids]
    if len(having) == 1:
        return having[0]
    if not having:
        known = "; ".join(f"{r} ({', '.join(ids)})" for r, ids in sections.items())
        raise SectionNotFoundError(
            _(
                "No regulation has a knowledge section “%(section)s”. Pass `regulation` with "
                "one of its sections: %(known)s."
            )
            % {"section": section, "known": known or "—"},
            details={"section": section, "regulations": sections},
        )
    raise SectionAmbiguousError(
        _(
            "The regulations %(regulations)s each have a knowledge section “%(section)s”; "
            "pass `regulation` to say which."
        )
        % {"regulations": ", ".join(having), "section": section},
        details={"section": section, "regulations": having},
    )


def _visible(reader: Reader, *, regulation: str | None, section: str | None) -> QuerySet[Article]:
    """The articles the reader may read; an explicit section the tariff lacks is a 403.

    A section named without a regulation is checked in the regulation that has
    it. The vendor-wide "section" (`""`) is in every regulation: named alone it
    only filters.
    """
    if section and not regulation:
        regulation = _regulation_of_section(reader, section)
    if section is not None and regulation:
        require_section(regulation, section)
        access = section_access(reader, regulation_id=regulation, section=section)
        if not access.allowed:
            raise not_in_tariff(access, language=reader.language)
    articles = Article.objects.filter(
        visible_filter(reader, regulation_ids=_regulation_ids(regulation))
    )
    if section is not None:
        articles = articles.filter(section=section)
    return articles


def _pick(translations: list[ArticleTranslation], language: str) -> ArticleTranslation | None:
    by_language = {t.language: t for t in translations}
    return (
        by_language.get(language) or by_language.get("ru") or next(iter(by_language.values()), None)
    )


def section_list(*, reader: Reader, regulation: str | None = None) -> list[SectionView]:
    """Every knowledge section of the regulations, whether the reader may read it."""
    views: list[SectionView] = []
    for regulation_id in _regulation_ids(regulation):
        parsed = parsed_regulation(regulation_id)
        if parsed is None:
            continue
        counts: dict[str, int] = {}
        visible = Article.objects.filter(visible_filter(reader, regulation_ids=[regulation_id]))
        for section_id in visible.values_list("section", flat=True):
            counts[section_id] = counts.get(section_id, 0) + 1
        for section in parsed.knowledge_sections:
            access = section_access(reader, regulation_id=regulation_id, section=section.id)
            views.append(
                SectionView(
                    regulation=regulation_id,
                    id=section.id,
                    title=section.title,
                    tariffs=section.tariffs,
                    accessible=access.allowed,
                    articles=counts.get(section.id, 0),
                )
            )
    return views


def article_list(
    *,
    reader: Reader,
    regulation: str | None = None,
    section: str | None = None,
    language: str | None = None,
) -> list[ArticleView]:
    """The articles the reader may read, by regulation, section and slug."""
    articles = _visible(reader, regulation=regulation, section=section).prefetch_related(
        "translations"
    )
    wanted = language or reader.language
    views = []
    for article in articles.order_by("regulation_id", "section", "slug"):
        translations = list(article.translations.all())
        chosen = _pick(translations, wanted)
        if chosen is not None:
            views.append(
                ArticleView(article, chosen, tuple(sorted(t.language for t in translations)))
            )
    return views


def article_get(*, reader: Reader, regulation: str, slug: str) -> Article:
    """The article, if the reader may read it (404 for what they may not know of, else 403).

    Only staff are told precisely that a slug does not exist; anyone else gets
    the 404 a draft or an internal article gets.
    """
    article = Article.objects.filter(regulation_id=regulation, slug=slug).first()
    if article is None and not reader.staff:
        raise article_hidden()  # the very answer a draft or an internal article gets
    if article is None:
        raise ArticleNotFoundError(
            _("There is no article “%(slug)s” under the regulation %(regulation)s.")
            % {"slug": slug, "regulation": regulation},
            details={"regulation": regulation, "slug": slug},
        )
    article_check(reader, article)
    return article


def article_view(*, reader: Reader, article: Article, language: str | None = None) -> ArticleView:
    translations = list(article.translations.all())
    chosen = _pick(translations, language or reader.language)
    if chosen is None:  # an article is created with its Russian text; cannot happen
        raise ArticleNotFoundError(
            details={"regulation": article.regulation_id, "slug": article.slug}
        )
    return ArticleView(article, chosen, tuple(sorted(t.language for t in translations)))


def article_attachments(*, reader: Reader, article: Article) -> list[ArticleAttachment]:
    article_check(reader, article)
    return list(article.attachments.all())


def article_attachment_get(
    *, reader: Reader, article: Article, attachment_id: int
) -> ArticleAttachment:
    """A file of the article, through the same check as the article itself."""
    article_check(reader, article)
    found = article.attachments.filter(pk=attachment_id).first()
    if found is None:
        raise ArticleNotFoundError(
            _("The article has no file %(id)d.") % {"id": attachment_id},
            details={
                "regulation": article.regulation_id,
                "slug": article.slug,
                "attachment": attachment_id,
            },
        )
    return found


def article_revisions(*, reader: Reader, article: Article) -> list[ArticleRevision]:
    """The article's history, oldest first: staff only."""
    if not reader.staff:
        article_check(reader, article)  # a 404 for what they may not know of
        raise KnowledgePermissionError(
            _("Only support staff may read an article's revision history."),
            details={"action": "revisions"},
        )
    return list(article.revisions.select_related("author").order_by("number"))


def article_search(
    *,
    reader: Reader,
    query: str,
    regulation: str | None = None,
    section: str | None = None,
    language: str | None = None,
    limit: int = 20,
    explicit_section: bool = True,
) -> list[SearchResult]:
    """The articles the reader may read that match `query`, best first, with snippets.

    Each article appears once, in its best-matching translation; with
    `language`, only that language's texts are searched.
    """
    articles = _visible(
        reader, regulation=regulation, section=section if explicit_section else None
    )
    translations = ArticleTranslation.objects.filter(article__in=articles)
    if language:
        translations = translations.filter(language=language)
    hits = search.search(query, translations=translations, limit=limit * 2)
    found = {
        t.pk: t
        for t in ArticleTranslation.objects.filter(
            pk__in=[h.translation_id for h in hits]
        ).select_related("article")
    }
    results: list[SearchResult] = []
    seen: set[int] = set()
    for hit in hits:
        translation = found.get(hit.translation_id)
        if translation is None or translation.article_id in seen:
            continue
        seen.add(translation.article_id)
        results.append(SearchResult(translation.article, translation, hit.rank, hit.snippet))
    return results[:limit]


def suggestion_get(*, user: User, suggestion_id: int) -> Suggestion:
    """The person's own suggestion."""
    found = Suggestion.objects.filter(pk=suggestion_id, user=user).first()
    if found is None:
        raise SuggestionNotFoundError(details={"suggestion": suggestion_id})
    return found


@dataclass(frozen=True, slots=True)
class DeflectionStats:
    """R5.4: how often suggested articles kept a request from being filed."""

    shown: int  # suggestions that showed at least one article
    opened: int  # … of which the person opened one
    filed: int  # … of which a request was filed afterwards
    abandoned_after_opening: int  # opened, then no request (said so, or silent for a day)
    rate: float  # abandoned_after_opening / shown; 0 when nothing was shown


def deflection_stats(
    *, regulation: str | None, since: datetime, until: datetime, now: datetime | None = None
) -> DeflectionStats:
    """Suggestions shown between `since` and `until` and what followed them.

    A suggestion whose outcome was never recorded counts as abandoned once
    ABANDONED_AFTER (24 h) has passed since it was shown.
    """
    now = now or timezone.now()
    shown = Suggestion.objects.filter(shown_at__gte=since, shown_at__lt=until, shown__gt=0)
    if regulation:
        shown = shown.filter(regulation_id=regulation)
    opened = shown.filter(opened_at__isnull=False)
    silent = Q(outcome="", shown_at__lt=now - ABANDONED_AFTER)
    abandoned = opened.filter(Q(outcome=Suggestion.Outcome.ABANDONED) | silent).count()
    total = shown.count()
    return DeflectionStats(
        shown=total,
        opened=opened.count(),
        filed=opened.filter(outcome=Suggestion.Outcome.FILED).count(),
        abandoned_after_opening=abandoned,
        rate=round(abandoned / total, 4) if total else 0.0,
    )


def articles_for_export(*, regulation: str, section: str) -> list[Article]:
    """Every article of a section (drafts and internal ones too): for staff's export."""
    require_section(regulation, section)
    return list(
        Article.objects.filter(regulation_id=regulation, section=section)
        .prefetch_related("translations")
        .order_by("slug")
    )
