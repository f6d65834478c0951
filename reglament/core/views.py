"""Server-rendered pages of the core app; thin: call selectors, render a template."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from reglament.core import selectors
from reglament.core.errors import DatabaseUnavailableError, InternalError, NotFoundError


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The start page: what this is, and whether it is healthy right now."""
    now = timezone.now()
    try:
        report = selectors.health_report(now=now, heartbeat=settings.REGLAMENT_WORKER_HEARTBEAT)
    except DatabaseUnavailableError:
        return render(request, "core/home.html", {"report": None, "now": now}, status=503)
    return render(request, "core/home.html", {"report": report, "now": now})


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
