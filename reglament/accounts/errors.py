"""Errors of the accounts app, rendered by the API as `{code, message, details}`."""

from django.utils.translation import gettext_lazy as _

from reglament.core.errors import AppError, ConflictError, InvalidInputError


class OrganisationInvalidError(InvalidInputError):
    code = "organisation_invalid"
    default_message = _("The organisation is not valid.")


class OrganisationExistsError(ConflictError):
    code = "organisation_exists"
    default_message = _("An organisation with this name already exists.")


class PersonInvalidError(InvalidInputError):
    code = "person_invalid"
    default_message = _("The person is not valid.")


class PersonExistsError(ConflictError):
    code = "person_exists"
    default_message = _("A person with this login already exists.")


class TokenInvalidError(InvalidInputError):
    code = "token_invalid"
    default_message = _("The API token is not valid.")


class SignInInvalidError(AppError):
    code = "sign_in_invalid"
    status = 401
    default_message = _("The e-mail or login and password do not match an active account.")


class SignInLockedError(AppError):
    code = "sign_in_locked"
    status = 429
    default_message = _("Too many failed attempts to sign in. Try again later.")
