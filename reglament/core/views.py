"""Server-rendered pages of the core app; thin: call selectors, render a template."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from reglament.accounts.selectors import person_profile
from reglament.core import selectors
from reglament.core.errors import DatabaseUnavailableError, InternalError, NotFoundError
from reglament.regulations.selectors import contract_summaries


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The start page: a signed-in person's own; for visitors, what this is and its health."""
    now = timezone.now()
    if request.user.is_authenticated:
        profile = person_profile(request.user)
        contracts = (
            contract_summaries(
                organisation=profile.organisation,
                day=timezone.localdate(now),
                language=get_language(),
            )
            if profile.organisation is not None and profile.customer
            else []
        )
        return render(request, "core/start.html", {"profile": profile, "contracts": contracts})
    try:
        report = selectors.health_report(now=now, heartbeat=settings.REGLAMENT_WORKER_HEARTBEAT)
    except DatabaseUnavailableError:
        return render(request, "core/home.html", {"report": None, "now": now}, status=503)
    return render(request, "core/home.html", {"report": report, "now": now})


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs)."""
    return redirect(static("core/favicon.svg"), permanent=True)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(NotFoundError().as_body(), status=404)
    return render(request, "core/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(InternalError().as_body(), status=500)
    return render(request, "core/500.html", status=500)
