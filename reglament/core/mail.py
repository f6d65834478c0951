"""Mail to people, each in their own language: the one way notifications are sent.

Callers (the sla, usage and paidwork notification modules) pick the people and
render the subject and body; this module keeps each person once, skips those
who cannot receive mail, renders under each recipient's language
(Membership.language) and sends everything over one SMTP connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage, mailers
from django.utils import translation

from reglament.accounts.models import Membership


def reachable(people: Iterable[User]) -> list[User]:
    """The people in order, each once, leaving out the inactive and those without mail."""
    seen: set[int] = set()
    unique: list[User] = []
    for person in people:
        if person.pk in seen or not person.is_active or not person.email:
            continue
        seen.add(person.pk)
        unique.append(person)
    return unique


def mail_in_their_languages(
    recipients: list[User],
    render: Callable[[], tuple[str, str]],
    *,
    headers: dict[str, str],
) -> int:
    """Send `render()`'s (subject, body) to each, rendered in their language; messages sent.

    Marked `Auto-Submitted: auto-generated` so mail systems do not answer it.
    An SMTP error propagates: the task that called this fails and keeps the traceback.
    """
    languages = dict(
        Membership.objects.filter(user__in=recipients).values_list("user_id", "language")
    )
    messages = []
    for person in recipients:
        with translation.override(languages.get(person.pk, settings.LANGUAGE_CODE)):
            subject, body = render()
        messages.append(
            EmailMessage(
                subject=subject,
                body=body,
                to=[person.email],
                headers={"Auto-Submitted": "auto-generated", **headers},
            )
        )
    if not messages:
        return 0
    with mailers.default as connection:
        return int(connection.send_messages(messages) or 0)
