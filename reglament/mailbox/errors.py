"""Errors of the mailbox app (codes for the API and the CLI)."""

from django.utils.translation import gettext_lazy as _

from reglament.core.errors import AppError, InvalidInputError, NotFoundError


class MailboxInvalidError(InvalidInputError):
    """Mailbox settings that cannot work; `details["errors"]`: [{field, message}, …]."""

    code = "mailbox_invalid"
    default_message = _("The mailbox settings are not valid.")


class MailboxNotFoundError(NotFoundError):
    code = "mailbox_not_found"
    default_message = _("There is no mailbox with this name.")


class MailPollFailedError(AppError):
    """The IMAP server refused or could not be reached; the message says what to fix."""

    code = "mail_poll_failed"
    status = 502
    default_message = _("The mailbox could not be polled.")


class MailProcessFailedError(AppError):
    """Some stored messages could not be processed; each keeps its error and is retried."""

    code = "mail_process_failed"
    status = 500
    default_message = _("Some messages could not be processed.")
