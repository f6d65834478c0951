"""Writes of the knowledge base: articles, their revisions and files, and suggestions.

Keyword-only, one transaction each; every change writes a `KnowledgeEvent` in
the same transaction, every edit of a text an `ArticleRevision`, and keeps the
search index (reglament.knowledge.search) up to date. `actor=None` is the
system (the demo, an import run by an administrator's command).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from reglament.accounts.selectors import person_profile
from reglament.core import files
from reglament.knowledge import search
from reglament.knowledge.access import Reader, article_check, reader_for, require_section
from reglament.knowledge.errors import (
    ArticleAttachmentInvalidError,
    ArticleExistsError,
    ArticleInvalidError,
    KnowledgePermissionError,
    SuggestionInvalidError,
    SuggestionOutcomeRecordedError,
)
from reglament.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleRevision,
    ArticleTranslation,
    KnowledgeEvent,
    Suggestion,
)
from reglament.knowledge.rendering import plain_text
from reglament.regulations.models import Regulation

if TYPE_CHECKING:
    from reglament.knowledge.selectors import SearchResult

Kind = KnowledgeEvent.Kind
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE_CODES = ("ru", "en")
SUGGESTIONS = 5


@dataclass(frozen=True, slots=True)
class TextIn:
    """One language's title and Markdown body."""

    title: str
    body: str


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _event(kind: str, *, actor: User | None, now: datetime, **rows: Any) -> None:
    data = rows.pop("data", {})
    KnowledgeEvent(kind=kind, actor=actor, created_at=now, data=data, **rows).save()


def require_staff(actor: User | None, what: str) -> None:
    """Refuse (403) unless `actor` is support staff or the system (None)."""
    if actor is None:
        return  # the system
    profile = person_profile(actor)
    if not profile.staff:
        raise KnowledgePermissionError(
            _("Only support staff may %(what)s; your role is %(role)s.")
            % {"what": what, "role": profile.role or "—"},
            details={"action": what, "role": profile.role},
        )


def _invalid(field: str, message: str, **details: Any) -> ArticleInvalidError:
    return ArticleInvalidError(message, details={"field": field, **details})


def _check_choice(field: str, value: str, known: list[str]) -> None:
    if value not in known:
        raise _invalid(
            field,
            _("“%(value)s” is not a valid %(field)s; use one of: %(known)s.")
            % {"value": value, "field": field, "known": ", ".join(known)},
            value=value,
            known=known,
        )


def _check_texts(texts: Mapping[str, TextIn], *, creating: bool) -> None:
    for language, text in texts.items():
        _check_choice("language", language, list(LANGUAGE_CODES))
        if not text.title.strip():
            raise _invalid(
                f"translations.{language}.title",
                _("The %(language)s title is empty; give the article a title.")
                % {"language": language},
            )
        if len(text.title) > 300:
            raise _invalid(
                f"translations.{language}.title",
                _("The title is %(length)d characters long; the limit is 300.")
                % {"length": len(text.title)},
            )
        if not text.body.strip():
            raise _invalid(
                f"translations.{language}.body",
                _("The %(language)s text is empty; write the article's text in Markdown.")
                % {"language": language},
            )
    if creating and "ru" not in texts:
        raise _invalid(
            "translations.ru",
            _("An article needs a Russian version; the English one is optional."),
        )


def _write_texts(
    article: Article, texts: Mapping[str, TextIn], *, actor: User | None, note: str, now: datetime
) -> list[str]:
    """Save the changed translations, each with a revision; the languages changed."""
    changed: list[str] = []
    number = (article.revisions.aggregate(last=Max("number"))["last"] or 0) + 1
    for language in LANGUAGE_CODES:
        text = texts.get(language)
        if text is None:
            continue
        title, body = text.title.strip(), text.body.strip() + "\n"
        translation = ArticleTranslation.objects.filter(article=article, language=language).first()
        if translation is not None and (translation.title, translation.body) == (title, body):
            continue
        if translation is None:
            translation = ArticleTranslation(article=article, language=language)
        translation.title, translation.body = title, body
        translation.body_text = plain_text(body)
        translation.save()
        search.index_translation(translation)
        ArticleRevision(
            article=article,
            number=number,
            language=language,
            title=title,
            body=body,
            author=actor,
            note=note[:300],
            created_at=now,
        ).save()
        number += 1
        changed.append(language)
    return changed


def _lock(article: Article) -> Article:
    return Article.objects.select_for_update().get(pk=article.pk)


@transaction.atomic
def article_create(
    *,
    actor: User | None,
    regulation: str,
    slug: str,
    translations: Mapping[str, TextIn],
    section: str = "",
    visibility: str = Article.Visibility.RESTRICTED,
    state: str = Article.State.DRAFT,
    note: str = "",
    now: datetime | None = None,
) -> Article:
    """A new article under `regulation` (in `section`, or vendor-wide when empty)."""
    now = _now(now)
    require_staff(actor, _("write knowledge-base articles"))
    if not Regulation.objects.filter(pk=regulation).exists():
        raise _invalid(
            "regulation",
            _("There is no regulation %(regulation)s; load its file first.")
            % {"regulation": regulation},
            value=regulation,
        )
    require_section(regulation, section)
    if not SLUG.match(slug) or len(slug) > 120:
        raise _invalid(
            "slug",
            _(
                "The slug “%(slug)s” must be lower-case latin letters, digits and hyphens, "
                "e.g. register-does-not-print."
            )
            % {"slug": slug},
            value=slug,
        )
    _check_choice("visibility", visibility, list(Article.Visibility.values))
    _check_choice("state", state, list(Article.State.values))
    _check_texts(translations, creating=True)
    if Article.objects.filter(regulation_id=regulation, slug=slug).exists():
        raise ArticleExistsError(
            _(
                "The regulation %(regulation)s already has an article “%(slug)s”; "
                "change that one or choose another slug."
            )
            % {"regulation": regulation, "slug": slug},
            details={"regulation": regulation, "slug": slug},
        )
    article = Article(
        regulation_id=regulation,
        section=section,
        slug=slug,
        visibility=visibility,
        state=state,
        published_at=now if state == Article.State.PUBLISHED else None,
        created_by=actor,
        updated_by=actor,
    )
    article.save()
    _write_texts(article, translations, actor=actor, note=note, now=now)
    _event(
        Kind.CREATED,
        actor=actor,
        now=now,
        article=article,
        data={"slug": slug, "section": section, "visibility": visibility, "state": state},
    )
    return article


@transaction.atomic
def article_update(
    *,
    actor: User | None,
    article: Article,
    translations: Mapping[str, TextIn] | None = None,
    section: str | None = None,
    visibility: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Article:
    """Change an article's texts, section or visibility; each changed text is a revision."""
    now = _now(now)
    require_staff(actor, _("change knowledge-base articles"))
    article = _lock(article)
    changes: dict[str, Any] = {}
    if section is not None and section != article.section:
        require_section(article.regulation_id, section)
        changes["section"] = [article.section, section]
        article.section = section
    if visibility is not None and visibility != article.visibility:
        _check_choice("visibility", visibility, list(Article.Visibility.values))
        changes["visibility"] = [article.visibility, visibility]
        article.visibility = visibility
    texts = translations or {}
    _check_texts(texts, creating=False)
    languages = _write_texts(article, texts, actor=actor, note=note, now=now)
    if languages:
        changes["languages"] = languages
    if changes:
        article.updated_by = actor
        article.save()
        _event(Kind.UPDATED, actor=actor, now=now, article=article, data=changes)
    return article


def _set_state(
    *, actor: User | None, article: Article, state: str, now: datetime | None
) -> Article:
    now = _now(now)
    require_staff(actor, _("publish knowledge-base articles"))
    article = _lock(article)
    if article.state == state:
        return article
    article.state = state
    if state == Article.State.PUBLISHED:
        article.published_at = now
    article.updated_by = actor
    article.save()
    kind = Kind.PUBLISHED if state == Article.State.PUBLISHED else Kind.UNPUBLISHED
    _event(kind, actor=actor, now=now, article=article)
    return article


@transaction.atomic
def article_publish(
    *, actor: User | None, article: Article, now: datetime | None = None
) -> Article:
    """Make a draft readable by those its visibility allows."""
    return _set_state(actor=actor, article=article, state=Article.State.PUBLISHED, now=now)


@transaction.atomic
def article_unpublish(
    *, actor: User | None, article: Article, now: datetime | None = None
) -> Article:
    """Return an article to draft: only staff see it until it is published again."""
    return _set_state(actor=actor, article=article, state=Article.State.DRAFT, now=now)


# ------------------------------------------------------------------- files
def attachments_dir() -> Path:
    return Path(settings.REGLAMENT_ATTACHMENTS_DIR) / "knowledge"


def attachment_path(attachment: ArticleAttachment) -> Path:
    """Where the bytes are: content-addressed, so one file is stored once."""
    return files.stored_path(attachments_dir(), attachment.sha256)


@transaction.atomic
def article_attachment_add(
    *,
    actor: User | None,
    article: Article,
    name: str,
    content: bytes,
    content_type: str = "",
    now: datetime | None = None,
) -> ArticleAttachment:
    """Store an image or file of the article (size limit REGLAMENT_ATTACHMENT_MAX_BYTES)."""
    now = _now(now)
    require_staff(actor, _("attach files to knowledge-base articles"))
    files.check_size(len(content))
    if not content:
        raise ArticleAttachmentInvalidError(_("The file is empty."), details={"name": name})
    clean = files.clean_name(name)
    attachment = ArticleAttachment(
        article=article,
        name=clean,
        content_type=files.content_type_for(clean, content_type),
        size=len(content),
        sha256=files.digest_of(content),
        uploaded_by=actor,
        created_at=now,
    )
    files.store(attachment_path(attachment), content)
    attachment.save()
    _event(
        Kind.ATTACHED,
        actor=actor,
        now=now,
        article=article,
        data={"attachment": attachment.pk, "name": clean, "size": len(content)},
    )
    return attachment


# ------------------------------------------------------------- suggestions
@transaction.atomic
def suggestion_create(
    *,
    user: User,
    subject: str,
    description: str = "",
    regulation: str | None = None,
    now: datetime | None = None,
) -> tuple[Suggestion, list[SearchResult]]:
    """R5.4: the articles the person may read before filing a request about `subject`.

    The articles are the best `SUGGESTIONS` search hits among what the person
    may read; the suggestion is recorded even when none is found (shown = 0).
    Returns the suggestion and the hits, best first.
    """
    from reglament.knowledge.selectors import article_search

    now = _now(now)
    if not subject.strip():
        raise SuggestionInvalidError(
            _("The subject is empty; give the subject of the request you are about to file."),
            details={"field": "subject"},
        )
    reader = reader_for(user, now=now)
    results = article_search(
        reader=reader,
        query=f"{subject}\n{description}"[:2000],
        regulation=regulation,
        limit=SUGGESTIONS,
        explicit_section=False,
    )
    suggestion = Suggestion(
        user=user,
        regulation_id=regulation if regulation else None,
        subject=subject.strip()[:300],
        shown=len(results),
        shown_at=now,
    )
    suggestion.save()
    suggestion.articles.set([result.article for result in results])
    _event(
        Kind.SUGGESTED,
        actor=user,
        now=now,
        suggestion=suggestion,
        data={"articles": [result.article.pk for result in results]},
    )
    return suggestion, results


@transaction.atomic
def suggestion_open(
    *, user: User, suggestion: Suggestion, article: Article, now: datetime | None = None
) -> Suggestion:
    """Record that the person opened one of the suggested articles."""
    now = _now(now)
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if not suggestion.articles.filter(pk=article.pk).exists():
        raise SuggestionInvalidError(
            _("The article %(article)s was not among the suggested ones.")
            % {"article": str(article)},
            details={"field": "article", "article": str(article)},
        )
    article_check(Reader(user=user, profile=person_profile(user), now=now), article)
    if suggestion.opened_at is None:
        suggestion.opened_at = now
        suggestion.save()
    _event(Kind.OPENED, actor=user, now=now, suggestion=suggestion, article=article, data={})
    return suggestion


@transaction.atomic
def suggestion_outcome_record(
    *,
    user: User,
    suggestion: Suggestion,
    filed: str | None = None,
    abandoned: bool = False,
    now: datetime | None = None,
) -> Suggestion:
    """Record what the person did after the suggestion: filed request `filed`, or gave up."""
    now = _now(now)
    if bool(filed) == bool(abandoned):
        raise SuggestionInvalidError(
            _("Say either the number of the request filed (“filed”) or “abandoned”: true."),
            details={"field": "outcome"},
        )
    if filed:
        from reglament.tickets.selectors import ticket_get

        # The request must exist and be one the person may see: no invented numbers.
        filed = ticket_get(user=user, number=filed.strip()).number
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.outcome:
        raise SuggestionOutcomeRecordedError(
            _("The outcome of this suggestion is already recorded: %(outcome)s.")
            % {"outcome": suggestion.get_outcome_display()},
            details={"outcome": suggestion.outcome},
        )
    suggestion.outcome = Suggestion.Outcome.FILED if filed else Suggestion.Outcome.ABANDONED
    suggestion.ticket_number = (filed or "")[:48]
    suggestion.outcome_at = now
    suggestion.save()
    _event(
        Kind.OUTCOME,
        actor=user,
        now=now,
        suggestion=suggestion,
        data={"outcome": suggestion.outcome, "ticket": suggestion.ticket_number},
    )
    return suggestion
