"""Read-only admin of the knowledge base.

Articles change only through reglament.knowledge.services (a revision per
edited text, an event per change, the search index kept), so the admin shows,
filters and searches them; the API and `reglament kb import` change them.
"""

from django.contrib import admin

from reglament.core.admin import ReadOnlyAdminMixin
from reglament.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleRevision,
    ArticleTranslation,
    KnowledgeEvent,
    Suggestion,
)


class TranslationInline(ReadOnlyAdminMixin, admin.StackedInline[ArticleTranslation, Article]):
    model = ArticleTranslation
    fields = ("language", "title", "body")
    readonly_fields = fields
    extra = 0


class RevisionInline(ReadOnlyAdminMixin, admin.TabularInline[ArticleRevision, Article]):
    model = ArticleRevision
    fields = ("number", "language", "title", "author", "note", "created_at")
    readonly_fields = fields
    extra = 0


class AttachmentInline(ReadOnlyAdminMixin, admin.TabularInline[ArticleAttachment, Article]):
    model = ArticleAttachment
    fields = ("created_at", "name", "content_type", "size", "uploaded_by")
    readonly_fields = fields
    extra = 0


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Article]):
    list_display = ("slug", "regulation", "section", "visibility", "state", "updated_at")
    list_filter = ("regulation", "section", "visibility", "state")
    search_fields = ("slug", "translations__title")
    inlines = (TranslationInline, AttachmentInline, RevisionInline)


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Suggestion]):
    list_display = ("subject", "user", "regulation", "shown", "shown_at", "opened_at", "outcome")
    list_filter = ("regulation", "outcome")


@admin.register(KnowledgeEvent)
class KnowledgeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[KnowledgeEvent]):
    list_display = ("created_at", "kind", "article", "suggestion", "actor")
    list_filter = ("kind",)
