"""Mail to staff about a clock: the deadline is near (warning) or has passed (breach).

Recipients: the request's assignee, the agents of the request's support line,
and the contract's personal service manager; each gets the message in their
own language (Membership.language), with the due time in the metric's
calendar time zone. Called by the `clock_event_notify` task, never inline.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext as _

from reglament.accounts.models import Membership, Organisation
from reglament.core.mail import mail_in_their_languages, reachable
from reglament.sla.mappers import ticket_case
from reglament.tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

Kind = TicketEvent.Kind


def clock_event_recipients(ticket: Ticket) -> list[User]:
    """Assignee, the line's agents and the personal service manager; each once, with mail."""
    people: list[User] = []
    if ticket.assignee_id is not None:
        people.append(ticket.assignee)  # type: ignore[arg-type]
    people += list(
        User.objects.filter(
            is_active=True,
            membership__role=Membership.Role.AGENT,
            membership__line=ticket.line,
            membership__organisation__kind=Organisation.Kind.VENDOR,
        ).order_by("username")
    )
    manager = ticket.contract.service_manager
    if manager is not None:
        people.append(manager)
    return reachable(people)


def clock_event_notify(*, event_id: int) -> int:
    """Send the warning/breach mail of one event; returns how many messages went out."""
    event = (
        TicketEvent.objects.select_related(
            "ticket__assignee",
            "ticket__contract__service_manager",
            "ticket__contract__tariff",
            "ticket__version",
            "ticket__organisation",
        )
        .filter(pk=event_id, kind__in=(Kind.CLOCK_WARNING, Kind.CLOCK_BREACHED))
        .first()
    )
    if event is None:
        logger.warning("No clock event %s to notify about", event_id)
        return 0
    ticket = event.ticket
    if not ticket.is_open or ticket.out_of_scope:
        return 0  # closed or out of scope since: nothing to act on
    recipients = clock_event_recipients(ticket)
    return mail_in_their_languages(
        recipients, lambda: _render(event, ticket), headers={"X-Reglament-Ticket": ticket.number}
    )


def _render(event: TicketEvent, ticket: Ticket) -> tuple[str, str]:
    regulation = ticket.version.parsed()
    lang = "en" if translation.get_language() == "en" else "ru"
    metric_id = event.data["metric"]
    metric = regulation.metric(metric_id)
    title = metric.title.get(lang)
    target = regulation.target(metric_id, ticket_case(ticket, regulation))
    zone = regulation.calendars[target.calendar if target is not None else metric.calendar].timezone
    due = datetime.fromisoformat(event.data["due"] or event.data["at"]).astimezone(zone)
    when = due.strftime("%d.%m.%Y %H:%M") + f" ({due.tzname()})"
    if event.kind == Kind.CLOCK_BREACHED:
        subject = _("[%(number)s] Deadline missed: %(metric)s was due %(due)s") % {
            "number": ticket.number,
            "metric": title,
            "due": when,
        }
        headline = _("The deadline for “%(metric)s” passed at %(due)s.") % {
            "metric": title,
            "due": when,
        }
    else:
        subject = _("[%(number)s] Deadline approaching: %(metric)s is due %(due)s") % {
            "number": ticket.number,
            "metric": title,
            "due": when,
        }
        headline = _("“%(metric)s” is due at %(due)s; most of the time is used.") % {
            "metric": title,
            "due": when,
        }
    lines = [
        headline,
        "",
        _("Request: %(number)s — %(subject)s")
        % {"number": ticket.number, "subject": ticket.subject},
        _("Organisation: %(organisation)s") % {"organisation": ticket.organisation.name},
        _("Priority: %(priority)s, line %(line)d")
        % {"priority": ticket.priority, "line": ticket.line},
        _("Assignee: %(assignee)s")
        % {"assignee": ticket.assignee.get_username() if ticket.assignee else _("nobody")},
        "",
        f"{settings.REGLAMENT_BASE_URL}/api/v1/tickets/{ticket.number}",
    ]
    return subject, "\n".join(lines) + "\n"
