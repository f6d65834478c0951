"""Errors of the paidwork app, rendered by the API as `{code, message, details}`."""

from django.utils.translation import gettext_lazy as _

from reglament.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)


class EstimateNotFoundError(NotFoundError):
    code = "estimate_not_found"
    default_message = _("The request has no estimate with this number.")


class EstimateInvalidError(InvalidInputError):
    """A field of a new estimate is not valid; `details.field` names it."""

    code = "estimate_invalid"
    default_message = _("The estimate is not valid.")


class PaidWorkNotAllowedError(ConflictError):
    """Paid work cannot be proposed for this request now; `details.reason` says why."""

    code = "paid_work_not_allowed"
    default_message = _("Paid work cannot be proposed for this request now.")


class EstimateNotOpenError(ConflictError):
    """The estimate was already decided, withdrawn, or has expired."""

    code = "estimate_not_open"
    default_message = _("The estimate is no longer open.")


class EstimatePermissionError(PermissionDeniedError):
    code = "estimate_permission_denied"
    default_message = _("You may not do this with this estimate.")


class ServiceNotIncludedError(ConflictError):
    """R4.1, R1.1: the contract's tariff does not include the service asked for.

    `details.paid_work` says how to ask for it as paid work instead.
    """

    code = "service_not_included"
    default_message = _("The tariff does not include this service.")


class UnknownServiceError(InvalidInputError):
    code = "service_unknown"
    default_message = _("The regulation's service catalogue has no such service.")
