"""JSON endpoints of the knowledge base; thin: declare schemas, call one selector or service.

Reading needs no login: an anonymous reader sees public articles. A login
(personal token or web session) adds what the person's tariff includes (R2.5),
or everything for support staff. A restricted article or section the tariff
lacks is 403 `knowledge_not_in_tariff`; a draft or internal article is a 404
to anyone but staff, the same answer as a slug that does not exist. Writing is
for staff; suggestions (R5.4) need a login.
"""

import logging
from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import User
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from reglament.core import files
from reglament.core.auth import api_auth, error_responses, request_user
from reglament.core.files import file_response
from reglament.core.schemas import Instant, TextOut
from reglament.knowledge import selectors, services
from reglament.knowledge.access import Reader, reader_for
from reglament.knowledge.errors import ArticleNotFoundError
from reglament.knowledge.models import Article, ArticleAttachment
from reglament.knowledge.rendering import render_html

logger = logging.getLogger(__name__)


class _Anonymous:
    """Lets a request without credentials through as an anonymous reader."""

    def __call__(self, request: HttpRequest) -> object:
        return self

    def __bool__(self) -> bool:
        return True


# A bad token is still a 401 (ApiTokenAuth raises); no credentials at all read as anonymous.
reader_auth: list[Any] = [*api_auth, _Anonymous()]

router = Router(tags=["knowledge"], auth=reader_auth)


def _reader(request: HttpRequest) -> Reader:
    user = getattr(request, "auth", None)
    return reader_for(user if isinstance(user, User) else None)


Language = Literal["ru", "en"]


# ------------------------------------------------------------------- schemas
class KnowledgeSectionOut(Schema):
    regulation: str
    id: str
    title: TextOut
    tariffs: list[str] = Field(description="The tariffs whose contracts read the section.")
    accessible: bool = Field(description="Whether you may read its restricted articles.")
    articles: int = Field(description="How many of its articles you may read.")


class ArticleSummaryOut(Schema):
    regulation: str
    section: str = Field(description="Empty for a vendor-wide article.")
    slug: str
    language: str = Field(description="The language shown: the one asked for, else Russian.")
    languages: list[str]
    title: str
    visibility: str
    state: str
    published_at: datetime | None
    updated_at: datetime


class ArticleAttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    url: str


class ArticleOut(ArticleSummaryOut):
    body: str = Field(description="The Markdown source.")
    html: str = Field(description="The body rendered and sanitised: safe to show.")
    attachments: list[ArticleAttachmentOut]


class KnowledgeSearchHitOut(Schema):
    article: ArticleSummaryOut
    rank: float
    snippet: str = Field(description="HTML: escaped text with matching words in <mark>.")


class KnowledgeSearchOut(Schema):
    query: str
    items: list[KnowledgeSearchHitOut]


class ArticleTextIn(Schema):
    title: str
    body: str = Field(description="Markdown.")


class ArticleIn(Schema):
    regulation: str
    slug: str
    section: str = Field("", description="A knowledge section id; empty: vendor-wide.")
    visibility: Literal["public", "internal", "restricted"] = "restricted"
    state: Literal["draft", "published"] = "draft"
    ru: ArticleTextIn
    en: ArticleTextIn | None = None
    note: str = ""


class ArticlePatchIn(Schema):
    section: str | None = None
    visibility: Literal["public", "internal", "restricted"] | None = None
    ru: ArticleTextIn | None = None
    en: ArticleTextIn | None = None
    note: str = ""


class ArticleRevisionOut(Schema):
    number: int
    language: str
    title: str
    body: str
    author: str | None
    note: str
    created_at: datetime


class KnowledgeSuggestIn(Schema):
    subject: str
    description: str = ""
    regulation: str | None = None


class KnowledgeSuggestionOut(Schema):
    suggestion: int = Field(description="Pass to /opened and /outcome.")
    items: list[KnowledgeSearchHitOut]


class SuggestionOpenedIn(Schema):
    regulation: str
    slug: str


class SuggestionOutcomeIn(Schema):
    filed: str | None = Field(None, description="The number of the request filed.")
    abandoned: bool = False


class SuggestionStateOut(Schema):
    suggestion: int
    opened_at: datetime | None
    outcome: str
    ticket_number: str


class DeflectionStatsOut(Schema):
    shown: int
    opened: int
    filed: int
    abandoned_after_opening: int
    rate: float


class ArticleListQuery(Schema):
    regulation: str | None = None
    section: str | None = Field(None, description="Only this section; `` for vendor-wide.")
    lang: Language | None = None


class KnowledgeSearchQuery(Schema):
    q: str = Field(min_length=1, max_length=500)
    regulation: str | None = None
    section: str | None = None
    lang: Language | None = Field(None, description="Search only texts in this language.")
    limit: int = Field(20, ge=1, le=100)


# ------------------------------------------------------------------ helpers
def _summary(article: Article, view: selectors.ArticleView) -> ArticleSummaryOut:
    return ArticleSummaryOut(
        regulation=article.regulation_id,
        section=article.section,
        slug=article.slug,
        language=view.translation.language,
        languages=list(view.languages),
        title=view.translation.title,
        visibility=article.visibility,
        state=article.state,
        published_at=article.published_at,
        updated_at=article.updated_at,
    )


def _attachment_out(attachment: ArticleAttachment, article: Article) -> ArticleAttachmentOut:
    return ArticleAttachmentOut(
        id=attachment.pk,
        name=attachment.name,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        created_at=attachment.created_at,
        url=f"/api/v1/knowledge/articles/{article.regulation_id}/{article.slug}"
        f"/attachments/{attachment.pk}",
    )


def _article_out(reader: Reader, article: Article, language: str | None) -> ArticleOut:
    view = selectors.article_view(reader=reader, article=article, language=language)
    files = [
        _attachment_out(a, article)
        for a in selectors.article_attachments(reader=reader, article=article)
    ]
    return ArticleOut(
        **_summary(article, view).dict(),
        body=view.translation.body,
        html=render_html(view.translation.body, files={f.name: f.url for f in files}),
        attachments=files,
    )


def _hits(reader: Reader, results: list[selectors.SearchResult]) -> list[KnowledgeSearchHitOut]:
    return [
        KnowledgeSearchHitOut(
            article=_summary(
                result.article,
                selectors.ArticleView(
                    result.article,
                    result.translation,
                    tuple(sorted(result.article.translations.values_list("language", flat=True))),
                ),
            ),
            rank=result.rank,
            snippet=result.snippet,
        )
        for result in results
    ]


# ------------------------------------------------------------------ reading
@router.get(
    "/knowledge/sections",
    response={200: list[KnowledgeSectionOut], **error_responses()},
    summary="Knowledge sections, and whether your tariff includes each (R2.5)",
)
def section_list(request: HttpRequest, regulation: str | None = None) -> list[KnowledgeSectionOut]:
    reader = _reader(request)
    return [
        KnowledgeSectionOut(
            regulation=view.regulation,
            id=view.id,
            title=TextOut(ru=view.title.ru, en=view.title.en or view.title.ru),
            tariffs=list(view.tariffs),
            accessible=view.accessible,
            articles=view.articles,
        )
        for view in selectors.section_list(reader=reader, regulation=regulation)
    ]


@router.get(
    "/knowledge/articles",
    response={200: list[ArticleSummaryOut], **error_responses()},
    summary="The articles you may read",
    description=(
        "Leaves out what you may not read. A `section` your tariff does not include is 403 "
        "`knowledge_not_in_tariff`; named without `regulation`, it is looked up in the one "
        "regulation that has it (none: 404 `section_not_found`, several: 422 "
        "`section_ambiguous`)."
    ),
)
def article_list(request: HttpRequest, filters: Query[ArticleListQuery]) -> list[ArticleSummaryOut]:
    reader = _reader(request)
    views = selectors.article_list(
        reader=reader,
        regulation=filters.regulation,
        section=filters.section,
        language=filters.lang,
    )
    return [_summary(view.article, view) for view in views]


@router.get(
    "/knowledge/search",
    response={200: KnowledgeSearchOut, **error_responses()},
    summary="Full-text search with Russian morphology, ranked, with snippets",
    description=(
        "«касса не печатает чек» finds «Касса перестала печатать чеки». Only what you may "
        "read is searched; a `section` your tariff does not include is 403 "
        "`knowledge_not_in_tariff` (without `regulation`: as for /knowledge/articles)."
    ),
)
def article_search(request: HttpRequest, params: Query[KnowledgeSearchQuery]) -> KnowledgeSearchOut:
    reader = _reader(request)
    results = selectors.article_search(
        reader=reader,
        query=params.q,
        regulation=params.regulation,
        section=params.section,
        language=params.lang,
        limit=params.limit,
    )
    return KnowledgeSearchOut(query=params.q, items=_hits(reader, results))


@router.get(
    "/knowledge/articles/{regulation}/{slug}",
    response={200: ArticleOut, **error_responses()},
    summary="One article, rendered",
)
def article_detail(
    request: HttpRequest, regulation: str, slug: str, lang: Language | None = None
) -> ArticleOut:
    reader = _reader(request)
    article = selectors.article_get(reader=reader, regulation=regulation, slug=slug)
    return _article_out(reader, article, lang)


@router.get(
    "/knowledge/articles/{regulation}/{slug}/attachments/{attachment_id}",
    response=error_responses(),
    summary="Download a file of an article (the article's access rules apply)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def attachment_download(
    request: HttpRequest, regulation: str, slug: str, attachment_id: int
) -> FileResponse:
    reader = _reader(request)
    article = selectors.article_get(reader=reader, regulation=regulation, slug=slug)
    attachment = selectors.article_attachment_get(
        reader=reader, article=article, attachment_id=attachment_id
    )
    path = services.attachment_path(attachment)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        logger.error("Knowledge file %s is missing at %s", attachment.pk, path)
        raise ArticleNotFoundError(details={"attachment": attachment.pk}) from None
    return file_response(handle, name=attachment.name, claimed_type=attachment.content_type)


@router.get(
    "/knowledge/articles/{regulation}/{slug}/revisions",
    response={200: list[ArticleRevisionOut], **error_responses()},
    summary="An article's revision history (staff)",
)
def revision_list(request: HttpRequest, regulation: str, slug: str) -> list[ArticleRevisionOut]:
    reader = _reader(request)
    article = selectors.article_get(reader=reader, regulation=regulation, slug=slug)
    return [
        ArticleRevisionOut(
            number=r.number,
            language=r.language,
            title=r.title,
            body=r.body,
            author=r.author.get_username() if r.author else None,
            note=r.note,
            created_at=r.created_at,
        )
        for r in selectors.article_revisions(reader=reader, article=article)
    ]


# ------------------------------------------------------------------ writing (staff)
def _texts(ru: ArticleTextIn | None, en: ArticleTextIn | None) -> dict[str, services.TextIn]:
    texts = {}
    for language, text in (("ru", ru), ("en", en)):
        if text is not None:
            texts[language] = services.TextIn(title=text.title, body=text.body)
    return texts


@router.post(
    "/knowledge/articles",
    auth=api_auth,
    response={201: ArticleOut, **error_responses(400, 409)},
    summary="Write an article (staff)",
)
def article_create(request: HttpRequest, payload: ArticleIn) -> Status[ArticleOut]:
    actor = request_user(request)
    article = services.article_create(
        actor=actor,
        regulation=payload.regulation,
        slug=payload.slug,
        section=payload.section,
        visibility=payload.visibility,
        state=payload.state,
        translations=_texts(payload.ru, payload.en),
        note=payload.note,
    )
    return Status(201, _article_out(reader_for(actor), article, None))


@router.patch(
    "/knowledge/articles/{regulation}/{slug}",
    auth=api_auth,
    response={200: ArticleOut, **error_responses(400)},
    summary="Change an article (staff); each changed text becomes a revision",
)
def article_update(
    request: HttpRequest, regulation: str, slug: str, payload: ArticlePatchIn
) -> ArticleOut:
    actor = request_user(request)
    reader = reader_for(actor)
    article = selectors.article_get(reader=reader, regulation=regulation, slug=slug)
    article = services.article_update(
        actor=actor,
        article=article,
        translations=_texts(payload.ru, payload.en),
        section=payload.section,
        visibility=payload.visibility,
        note=payload.note,
    )
    return _article_out(reader, article, None)


@router.post(
    "/knowledge/articles/{regulation}/{slug}/publish",
    auth=api_auth,
    response={200: ArticleOut, **error_responses()},
    summary="Publish an article (staff)",
)
def article_publish(request: HttpRequest, regulation: str, slug: str) -> ArticleOut:
    actor = request_user(request)
    reader = reader_for(actor)
    article = selectors.article_get(reader=reader, regulation=regulation, slug=slug)
    return _article_out(reader, services.article_publish(actor=actor, article=article), None)


@router.post(
    "/knowledge/articles/{regulation}/{slug}/unpublish",
    auth=api_auth,
    response={200: ArticleOut, **error_responses()},
    summary="Return an article to draft (staff)",
)
def article_unpublish(request: HttpRequest, regulation: str, slug: str) -> ArticleOut:
    actor = request_user(request)
    reader = reader_for(actor)
    article = selectors.article_get(reader=reader, regulation=regulation, slug=slug)
    return _article_out(reader, services.article_unpublish(actor=actor, article=article), None)


@router.post(
    "/knowledge/articles/{regulation}/{slug}/attachments",
    auth=api_auth,
    response={201: ArticleAttachmentOut, **error_responses(413)},
    summary="Attach an image or file to an article (staff, multipart `file`)",
)
def attachment_create(
    request: HttpRequest, regulation: str, slug: str, file: File[UploadedFile]
) -> Status[ArticleAttachmentOut]:
    actor = request_user(request)
    article = selectors.article_get(reader=reader_for(actor), regulation=regulation, slug=slug)
    if file.size is not None:  # refused before it is read into memory
        files.check_size(file.size)
    attachment = services.article_attachment_add(
        actor=actor,
        article=article,
        name=file.name or "",
        content=file.read(),
        content_type=file.content_type or "",
    )
    return Status(201, _attachment_out(attachment, article))


# ------------------------------------------------------------------ suggestions (R5.4)
@router.post(
    "/knowledge/suggest",
    auth=api_auth,
    response={200: KnowledgeSuggestionOut, **error_responses(400)},
    summary="Articles to read before filing a request (R5.4)",
    description=(
        "Give the subject and description of the request about to be filed; the answer is "
        "the best five articles you may read and a suggestion id. Report an opened article "
        "with /opened and what happened next with /outcome: the deflection figures count them."
    ),
)
def suggest(request: HttpRequest, payload: KnowledgeSuggestIn) -> KnowledgeSuggestionOut:
    user = request_user(request)
    suggestion, results = services.suggestion_create(
        user=user,
        subject=payload.subject,
        description=payload.description,
        regulation=payload.regulation,
    )
    return KnowledgeSuggestionOut(suggestion=suggestion.pk, items=_hits(reader_for(user), results))


def _state(suggestion: Any) -> SuggestionStateOut:
    return SuggestionStateOut(
        suggestion=suggestion.pk,
        opened_at=suggestion.opened_at,
        outcome=suggestion.outcome,
        ticket_number=suggestion.ticket_number,
    )


@router.post(
    "/knowledge/suggestions/{suggestion_id}/opened",
    auth=api_auth,
    response={200: SuggestionStateOut, **error_responses(400)},
    summary="Record that a suggested article was opened",
)
def suggestion_opened(
    request: HttpRequest, suggestion_id: int, payload: SuggestionOpenedIn
) -> SuggestionStateOut:
    user = request_user(request)
    suggestion = selectors.suggestion_get(user=user, suggestion_id=suggestion_id)
    article = selectors.article_get(
        reader=reader_for(user), regulation=payload.regulation, slug=payload.slug
    )
    return _state(services.suggestion_open(user=user, suggestion=suggestion, article=article))


@router.post(
    "/knowledge/suggestions/{suggestion_id}/outcome",
    auth=api_auth,
    response={200: SuggestionStateOut, **error_responses(400, 409)},
    summary="Record whether a request was filed after the suggestion, or abandoned",
    description="The outcome is recorded once: a second one is 409 `suggestion_outcome_recorded`.",
)
def suggestion_outcome(
    request: HttpRequest, suggestion_id: int, payload: SuggestionOutcomeIn
) -> SuggestionStateOut:
    user = request_user(request)
    suggestion = selectors.suggestion_get(user=user, suggestion_id=suggestion_id)
    return _state(
        services.suggestion_outcome_record(
            user=user, suggestion=suggestion, filed=payload.filed, abandoned=payload.abandoned
        )
    )


@router.get(
    "/knowledge/deflection",
    auth=api_auth,
    response={200: DeflectionStatsOut, **error_responses()},
    summary="Suggestions shown and requests they deflected (staff)",
    description=(
        "A suggestion whose outcome was never recorded counts as abandoned 24 hours after "
        "it was shown."
    ),
)
def deflection(
    request: HttpRequest, since: Instant, until: Instant, regulation: str | None = None
) -> DeflectionStatsOut:
    reader = reader_for(request_user(request))
    if not reader.staff:
        from reglament.knowledge.errors import KnowledgePermissionError

        raise KnowledgePermissionError(
            _("Only support staff may read the deflection figures."),
            details={"action": "deflection"},
        )
    stats = selectors.deflection_stats(regulation=regulation, since=since, until=until)
    return DeflectionStatsOut(
        shown=stats.shown,
        opened=stats.opened,
        filed=stats.filed,
        abandoned_after_opening=stats.abandoned_after_opening,
        rate=stats.rate,
    )
