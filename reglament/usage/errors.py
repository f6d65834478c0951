"""Errors of usage accounting, rendered by the API as `{code, message, details}`."""

from django.utils.translation import gettext_lazy as _

from reglament.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)


class UsageInvalidError(InvalidInputError):
    """A field of a time entry, an allowance or a report is wrong; `details.field` names it."""

    code = "usage_invalid"
    default_message = _("The usage data is not valid.")


class UsageNotAccountedError(ConflictError):
    """The contract's tariff counts no usage (its regulation gives it no `usage`)."""

    code = "usage_not_accounted"
    default_message = _("The contract's tariff does not account usage.")


class UsagePermissionError(PermissionDeniedError):
    code = "usage_permission_denied"
    default_message = _("You may not do this with usage.")


class ContractNotFoundError(NotFoundError):
    code = "contract_not_found"
    default_message = _(
        "There is no such contract, or you may not see it: GET /api/v1/contracts "
        "(or `reglament usage contracts`) lists the ones you may."
    )


class TimeEntryNotFoundError(NotFoundError):
    code = "time_entry_not_found"
    default_message = _("There is no such time entry on this request.")


class TimeEntryVoidedError(ConflictError):
    code = "time_entry_voided"
    default_message = _("The time entry is already voided.")
