"""The knowledge base's read-only article page; thin: selectors read, rendering makes HTML."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from reglament.core.errors import AppError, NotFoundError
from reglament.knowledge import selectors, services
from reglament.knowledge.access import reader_for, section_title
from reglament.knowledge.rendering import render_html


@login_required
@require_safe
def article_page(request: HttpRequest, regulation: str, slug: str) -> HttpResponse:
    """One article the reader may read; opened from a suggestion, the opening is recorded
    (R5.4: deflection statistics)."""
    reader = reader_for(request.user)
    language = "en" if (get_language() or "ru").startswith("en") else "ru"
    try:
        article = selectors.article_get(reader=reader, regulation=regulation, slug=slug)
    except NotFoundError:
        raise Http404 from None
    except AppError as error:  # a section the tariff does not include: said, not hidden
        return render(request, "knowledge/article_refused.html", {"error": error}, status=403)
    view = selectors.article_view(reader=reader, article=article, language=language)
    suggestion_id = request.GET.get("suggestion", "")
    if suggestion_id.isdigit() and reader.user is not None:
        try:
            suggestion = selectors.suggestion_get(
                user=reader.user, suggestion_id=int(suggestion_id)
            )
            services.suggestion_open(user=reader.user, suggestion=suggestion, article=article)
        except AppError:
            pass  # not the reader's suggestion, or not among its articles: nothing to record
    base = f"/api/v1/knowledge/articles/{article.regulation_id}/{article.slug}/attachments"
    files = {
        a.name: f"{base}/{a.pk}"
        for a in selectors.article_attachments(reader=reader, article=article)
    }
    section = section_title(reader.regulation(article.regulation_id), article.section)
    return render(
        request,
        "knowledge/article.html",
        {
            "view": view,
            "article": article,
            # render_html cleans the Markdown's HTML with nh3: safe to insert.
            "body": mark_safe(render_html(view.translation.body, files=files)),  # noqa: S308
            "section": section.get(language) if section is not None else "",
        },
    )
