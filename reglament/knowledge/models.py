"""The knowledge base: articles in the sections a regulation defines, and who may read them.

An article belongs to one regulation and, optionally, to one of its
`knowledge_sections` (R2.5); without a section it is vendor-wide. Its text is
one `ArticleTranslation` per language (Russian required, English optional);
every edit also appends an `ArticleRevision`, a full copy, so history is never
lost. Who may read what is decided in reglament.knowledge.access. Written only
by reglament.knowledge.services.
"""

from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reglament.core.models import AppendOnlyModel, BaseModel, EventModel
from reglament.regulations.models import Regulation

LANGUAGES = (("ru", _("Russian")), ("en", _("English")))


class TsVectorField(SearchVectorField):
    """A `tsvector` on PostgreSQL; on other databases an unused text column.

    SearchVectorField itself insists on django.contrib.postgres being
    installed; it only adds lookups and checks this field already inherits.
    """

    def db_type(self, connection: Any) -> str:
        return "tsvector" if connection.vendor == "postgresql" else "text"

    def _check_postgres_installed(self, *args: Any) -> list[Any]:
        return []


class Article(BaseModel):
    """One article; its texts are its translations."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("public")
        INTERNAL = "internal", _("internal (staff only)")
        RESTRICTED = "restricted", _("restricted to the tariffs of its section")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")

    regulation = models.ForeignKey(
        Regulation, verbose_name=_("regulation"), on_delete=models.PROTECT, related_name="articles"
    )
    # The id of one of the regulation's knowledge_sections; empty: vendor-wide.
    section = models.SlugField(_("section"), max_length=64, blank=True)
    slug = models.SlugField(_("slug"), max_length=120)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.RESTRICTED
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ("regulation_id", "section", "slug")
        constraints = (
            models.UniqueConstraint(fields=("regulation", "slug"), name="article_slug_unique"),
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "internal", "restricted"]),
                name="article_visibility_known",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "published"]), name="article_state_known"
            ),
        )
        indexes = (
            models.Index(fields=("regulation", "section", "state"), name="article_by_section"),
        )

    def __str__(self) -> str:
        return f"{self.regulation_id}/{self.slug}"


class ArticleTranslation(BaseModel):
    """An article's title and Markdown body in one language, and what search reads."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGES)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text (Markdown)"))
    # The body as plain text (Markdown rendered, tags removed): snippets come from it.
    body_text = models.TextField(_("plain text"), blank=True)
    # PostgreSQL only: title (weight A) and body (weight B) with the language's
    # configuration, kept by the service on every save; a GIN index serves search.
    search_vector = TsVectorField(_("search vector"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("article translation")
        verbose_name_plural = _("article translations")
        ordering = ("article_id", "language")
        constraints = (
            models.UniqueConstraint(
                fields=("article", "language"), name="article_translation_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.article_id} [{self.language}] {self.title}"


class ArticleRevision(AppendOnlyModel):
    """A full copy of one language's title and body as saved: the article's history."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("revision"))
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGES)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text (Markdown)"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("article revision")
        verbose_name_plural = _("article revisions")
        ordering = ("article_id", "number")
        constraints = (
            models.UniqueConstraint(fields=("article", "number"), name="article_revision_unique"),
        )

    def __str__(self) -> str:
        return f"{self.article_id} r{self.number} [{self.language}]"


class ArticleAttachment(AppendOnlyModel):
    """An image or file of an article, stored under REGLAMENT_ATTACHMENTS_DIR by digest."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="attachments"
    )
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=127)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("article attachment")
        verbose_name_plural = _("article attachments")
        ordering = ("article_id", "created_at", "id")

    def __str__(self) -> str:
        return self.name


class Suggestion(BaseModel):
    """Articles shown to a person about to file a request (R5.4), and what they did next.

    `outcome` is empty until the person files the request (`filed`, with its
    number) or gives up (`abandoned`); an empty outcome older than a day counts
    as abandoned in reglament.knowledge.selectors.deflection_stats.
    """

    class Outcome(models.TextChoices):
        NONE = "", _("not known yet")
        FILED = "filed", _("request filed")
        ABANDONED = "abandoned", _("request abandoned")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="knowledge_suggestions",
    )
    regulation = models.ForeignKey(
        Regulation,
        verbose_name=_("regulation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=300)
    articles = models.ManyToManyField(
        Article, verbose_name=_("articles shown"), blank=True, related_name="+"
    )
    shown = models.PositiveSmallIntegerField(_("articles shown"), default=0)
    shown_at = models.DateTimeField(_("shown at"), default=timezone.now)
    opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, blank=True, default=""
    )
    ticket_number = models.CharField(_("request number"), max_length=48, blank=True)
    outcome_at = models.DateTimeField(_("outcome at"), null=True, blank=True)

    class Meta:
        verbose_name = _("knowledge suggestion")
        verbose_name_plural = _("knowledge suggestions")
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("regulation", "shown_at"), name="suggestion_by_time"),)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.subject}"


class KnowledgeEvent(EventModel):
    """Everything that happened in the knowledge base: edits, publishing, suggestions."""

    class Kind(models.TextChoices):
        CREATED = "created", _("article created")
        UPDATED = "updated", _("article changed")
        PUBLISHED = "published", _("article published")
        UNPUBLISHED = "unpublished", _("article returned to draft")
        ATTACHED = "attached", _("file attached")
        SUGGESTED = "suggested", _("articles suggested")
        OPENED = "opened", _("suggested article opened")
        OUTCOME = "outcome", _("suggestion outcome recorded")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    article = models.ForeignKey(
        Article,
        verbose_name=_("article"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )
    suggestion = models.ForeignKey(
        Suggestion,
        verbose_name=_("suggestion"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
    )

    class Meta:
        verbose_name = _("knowledge event")
        verbose_name_plural = _("knowledge events")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.created_at.isoformat()}"
