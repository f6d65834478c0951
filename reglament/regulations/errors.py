"""Errors of the regulations app, rendered by the API as `{code, message, details}`."""

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reglament.core.errors import ConflictError, InvalidInputError, NotFoundError
from reglament.domain.regulation import Problem


class RegulationInvalidError(InvalidInputError):
    """A regulation file has problems; `details.problems` lists every one, with its line."""

    code = "regulation_invalid"
    default_message = _("The regulation file has problems.")

    def __init__(self, problems: Sequence[Problem]) -> None:
        count = len(problems)
        super().__init__(
            ngettext(
                "The regulation has %(count)d problem.",
                "The regulation has %(count)d problems.",
                count,
            )
            % {"count": count},
            details={"problems": [problem_as_dict(problem) for problem in problems]},
        )
        self.problems = list(problems)


def problem_as_dict(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "path": problem.path,
        "message": problem.message,
        "hint": problem.hint,
    }


class RegulationNotFoundError(NotFoundError):
    code = "regulation_not_found"
    default_message = _("There is no such regulation.")


class RegulationVersionNotFoundError(NotFoundError):
    code = "regulation_version_not_found"
    default_message = _("The regulation has no such version.")


class UnknownTariffError(InvalidInputError):
    code = "unknown_tariff"
    default_message = _("The regulation version has no such tariff.")


class UnknownPriorityError(InvalidInputError):
    code = "unknown_priority"
    default_message = _("There is no such priority.")


class UnknownCategoryError(InvalidInputError):
    code = "unknown_category"
    default_message = _("The regulation has no such category.")


class UnknownRequestTypeError(InvalidInputError):
    code = "unknown_request_type"
    default_message = _("The regulation has no such request type.")


class UnknownEventError(InvalidInputError):
    code = "unknown_event"
    default_message = _("There is no such event.")


class SimulationInvalidError(InvalidInputError):
    """The regulation refused the request's facts (e.g. an event before it was received)."""

    code = "simulation_invalid"
    default_message = _("The regulation cannot simulate this request.")


class ContractInvalidError(InvalidInputError):
    code = "contract_invalid"
    default_message = _("The contract is not valid.")


class ContractOverlapError(ConflictError):
    code = "contract_overlap"
    default_message = _(
        "The organisation already has a contract under this regulation for these dates."
    )


class ServiceManagerNotIncludedError(InvalidInputError):
    code = "service_manager_not_included"
    default_message = _("The tariff does not include a personal service manager.")


class ContractNotFoundError(NotFoundError):
    code = "contract_not_found"
    default_message = _("There is no such contract.")


class ContractAmbiguousError(InvalidInputError):
    code = "contract_ambiguous"
    default_message = _(
        "The organisation has contracts under several regulations; name the regulation."
    )
