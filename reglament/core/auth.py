"""Who is calling the JSON API: a personal token (scripts) or the web session (browsers).

Two ways in, tried in this order:

- ``Authorization: Bearer rgl_…`` — a personal API token
  (reglament.accounts.services.token_create). A header is never sent by a
  browser on its own, so no CSRF check is needed; a token that is unknown,
  revoked or expired is refused outright (401) rather than quietly falling
  back to a session.
- The Django session cookie of someone logged in to the web UI. A browser
  attaches cookies to any site's request, so unsafe methods must carry the CSRF
  token (``X-CSRFToken`` header), as Django's own forms do.

Nobody authenticated is a 401 ``not_authenticated`` in the API's error shape,
with a ``WWW-Authenticate`` challenge; a failed CSRF check is a 403
``csrf_failed``.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from reglament.accounts.services import token_authenticate
from reglament.core.errors import (
    COMMON_ERROR_RESPONSES,
    ErrorOut,
    NotAuthenticatedError,
    PermissionDeniedError,
)


class CsrfFailedError(PermissionDeniedError):
    code = "csrf_failed"
    default_message = _(
        "The CSRF check failed: a logged-in browser must send the X-CSRFToken header "
        "with every change."
    )


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer rgl_<prefix>_<secret>``: a person's API token."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = token_authenticate(token.strip())
        if user is None:
            raise NotAuthenticatedError(
                _("The API token is unknown, revoked or expired."),
                details={"scheme": "bearer"},
            )
        return user


class SessionAuth(APIKeyCookie):
    """The web UI's Django session; unsafe methods need the CSRF token."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            # Nobody is logged in: that is a 401, not a complaint about CSRF.
            return None
        csrf_exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not csrf_exempt and check_csrf(request) is not None:
            raise CsrfFailedError(details={"header": "X-CSRFToken"})
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.is_authenticated and user.is_active:
            return user
        return None


# The token first: a script that sends one never depends on a stray session cookie.
api_auth: list[Any] = [ApiTokenAuth(), SessionAuth()]

# Declared on every operation that needs a login: 401 without one, 403 when a
# session's CSRF check fails (and for what the person's role does not allow).
AUTH_ERROR_RESPONSES: dict[int, type[ErrorOut]] = {401: ErrorOut, 403: ErrorOut}


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers of an operation that needs a login: always 401/403/404/422/500,
    plus these (400 when it reads a JSON body, 409 for a state conflict, …)."""
    return {
        **AUTH_ERROR_RESPONSES,
        404: ErrorOut,
        **{status: ErrorOut for status in statuses},
        **COMMON_ERROR_RESPONSES,
    }


def request_user(request: HttpRequest) -> User:
    """The person an authenticated operation runs for (set by one of `api_auth`)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise NotAuthenticatedError()
    return user


def install_auth_error_handlers(api: NinjaAPI) -> None:
    """Render "nobody authenticated" as 401 `not_authenticated` with a challenge."""

    @api.exception_handler(AuthenticationError)
    @api.exception_handler(NotAuthenticatedError)
    def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        error = (
            exc
            if isinstance(exc, NotAuthenticatedError)
            else NotAuthenticatedError(
                _("Log in, or send a personal API token as “Authorization: Bearer rgl_…”."),
                details={"schemes": ["bearer", "session"]},
            )
        )
        response = api.create_response(request, error.as_body(), status=error.status)
        response["WWW-Authenticate"] = 'Bearer realm="reglament"'
        return response
