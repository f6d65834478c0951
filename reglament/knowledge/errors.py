"""Errors of the knowledge base, rendered by the API as `{code, message, details}`."""

from django.utils.translation import gettext_lazy as _

from reglament.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)


class ArticleNotFoundError(NotFoundError):
    """No such article, or one the reader may not know of (a draft, an internal one).

    To anyone but staff both read alike: the default message and no details
    (reglament.knowledge.access.article_hidden), so the wording tells nothing.
    """

    code = "article_not_found"
    default_message = _("There is no such article, or you may not see it.")


class KnowledgeNotInTariffError(PermissionDeniedError):
    """The section (or the whole knowledge base) is not part of the reader's tariff.

    `details` names the regulation, section, the reader's tariff (null: no
    contract) and `including`, the tariffs that do include it.
    """

    code = "knowledge_not_in_tariff"
    default_message = _("This part of the knowledge base is not included in your tariff.")


class KnowledgePermissionError(PermissionDeniedError):
    code = "knowledge_permission_denied"
    default_message = _("Only support staff may change the knowledge base.")


class ArticleInvalidError(InvalidInputError):
    """A field of an article is not valid; `details.field` names it."""

    code = "article_invalid"
    default_message = _("The article is not valid.")


class ArticleExistsError(ConflictError):
    code = "article_exists"
    default_message = _("An article with this slug already exists under the regulation.")


class SectionNotFoundError(NotFoundError):
    code = "section_not_found"
    default_message = _("The regulation has no such knowledge section.")


class SectionAmbiguousError(InvalidInputError):
    """A section named without a regulation is in several; `details.regulations` names them."""

    code = "section_ambiguous"
    default_message = _("Several regulations have this knowledge section; name the regulation.")


class SuggestionNotFoundError(NotFoundError):
    code = "suggestion_not_found"
    default_message = _("There is no such suggestion, or it is not yours.")


class SuggestionInvalidError(InvalidInputError):
    code = "suggestion_invalid"
    default_message = _("The suggestion cannot be updated this way.")


class SuggestionOutcomeRecordedError(ConflictError):
    """The suggestion's outcome is already recorded; `details.outcome` says which."""

    code = "suggestion_outcome_recorded"
    default_message = _("The outcome of this suggestion is already recorded.")


class ArticleAttachmentInvalidError(InvalidInputError):
    code = "attachment_invalid"
    default_message = _("The file cannot be attached.")


class ImportInvalidError(InvalidInputError):
    """Files to import have problems; `details.problems` lists `file:line: message`."""

    code = "knowledge_import_invalid"
    default_message = _("The files cannot be imported; nothing was imported.")
