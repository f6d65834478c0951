"""Errors of the tickets app, rendered by the API as `{code, message, details}`."""

from django.utils.translation import gettext_lazy as _

from reglament.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)


class TicketNotFoundError(NotFoundError):
    code = "ticket_not_found"
    default_message = _("There is no such request, or you may not see it.")


class TicketInvalidError(InvalidInputError):
    """A field of a new or changed request is not valid; `details.field` names it."""

    code = "ticket_invalid"
    default_message = _("The request is not valid.")


class NoContractError(InvalidInputError):
    code = "no_contract"
    default_message = _("The organisation has no support contract in force.")


class TransitionNotAllowedError(ConflictError):
    """The regulation does not allow this status change; `details.allowed` lists what it does."""

    code = "transition_not_allowed"
    default_message = _("The regulation does not allow this status change.")


class ResolutionRequiredError(InvalidInputError):
    code = "resolution_required"
    default_message = _("This status needs a resolution.")


class TicketClosedError(ConflictError):
    code = "ticket_closed"
    default_message = _("The request is closed.")


class MilestoneError(ConflictError):
    code = "milestone_invalid"
    default_message = _("This step of the request's workflow cannot be recorded now.")


class TicketPermissionError(PermissionDeniedError):
    code = "ticket_permission_denied"
    default_message = _("You may not do this with this request.")


class AttachmentInvalidError(InvalidInputError):
    code = "attachment_invalid"
    default_message = _("The file cannot be attached.")
