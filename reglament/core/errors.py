"""One error vocabulary for the whole API: `{code, message, details}`.

`code` is stable and machine-readable, `message` is for people (translated to
the request's language), `details` carries structured context. Apps subclass
AppError in their own errors.py; services raise them; the handlers installed on
the API render them, together with the framework's own errors (validation,
404, unexpected exceptions), in the same shape.
"""

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError

logger = logging.getLogger(__name__)


class ErrorOut(Schema):
    """The body of every error response of the API."""

    code: str
    message: str
    details: dict[str, Any]


class AppError(Exception):
    """Base of every error that Reglament reports to a client on purpose."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    default_message: ClassVar[str | Promise] = _("The request could not be completed.")

    def __init__(
        self, message: str | Promise | None = None, *, details: Mapping[str, Any] | None = None
    ) -> None:
        self.message: str | Promise = message if message is not None else self.default_message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(str(self.message))

    def as_body(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "details": self.details}


class InvalidInputError(AppError):
    code = "invalid_input"
    status = 422
    default_message = _("The request is not valid.")


class NotAuthenticatedError(AppError):
    code = "not_authenticated"
    status = 401
    default_message = _("Authentication is required.")


class PermissionDeniedError(AppError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class NotFoundError(AppError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class ConflictError(AppError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


class InternalError(AppError):
    code = "internal_error"
    status = 500
    default_message = _("Internal server error.")


class ServiceUnavailableError(AppError):
    code = "service_unavailable"
    status = 503
    default_message = _("The service is temporarily unavailable.")


class DatabaseUnavailableError(ServiceUnavailableError):
    code = "database_unavailable"
    default_message = _("The database is not reachable.")


# Framework errors that carry only an HTTP status get a code from this table.
_CODES_BY_STATUS = {
    400: "bad_request",
    401: NotAuthenticatedError.code,
    403: PermissionDeniedError.code,
    404: NotFoundError.code,
    405: "method_not_allowed",
    409: ConflictError.code,
    422: InvalidInputError.code,
    429: "throttled",
}


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every error `api` returns use the `{code, message, details}` shape."""

    def render(request: HttpRequest, error: AppError) -> HttpResponse:
        return api.create_response(request, error.as_body(), status=error.status)

    @api.exception_handler(AppError)
    def on_app_error(request: HttpRequest, exc: AppError) -> HttpResponse:
        return render(request, exc)

    @api.exception_handler(ValidationError)
    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return render(request, InvalidInputError(details={"errors": exc.errors}))

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        body = {
            "code": _CODES_BY_STATUS.get(exc.status_code, "http_error"),
            "message": str(exc),
            "details": {},
        }
        return api.create_response(request, body, status=exc.status_code)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return render(request, NotFoundError())

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Logged with its traceback for us; the client gets no internals.
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return render(request, InternalError())


# Declared on every operation so OpenAPI documents the error shape.
COMMON_ERROR_RESPONSES: dict[int, type[ErrorOut]] = {422: ErrorOut, 500: ErrorOut}
