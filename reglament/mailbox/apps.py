from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailboxConfig(AppConfig):
    """The e-mail channel: mailboxes, the raw messages they deliver, intake into requests."""

    name = "reglament.mailbox"
    label = "mailbox"
    verbose_name = _("Mail")
