"""`reglament ticket …` and `reglament sla sweep`: requests from the shell.

    reglament ticket create --as agent1 --requester cera --subject "Камеры не считают" \\
        --type defect --priority critical --channel phone
    CERA-2026-000042 registered 2026-03-03T12:00:00+03:00
      Resolution time: running, 6 h [working], due 2026-03-03T18:00:00+03:00
    reglament ticket transition CERA-2026-000042 in-progress --as agent1

Every command acts as the person `--as` names, through the same services and
selectors the web pages and the API use, so it may see and do exactly what that
person may: a request they may not see is "not found", whether or not it
exists. Exit codes: 0 done; 1 refused by the rules (not found, not allowed, a
status change the regulation does not allow); 2 a wrong argument (an unknown
login, an instant without a UTC offset, a value the regulation does not know).
What was wrong, and how to put it right, is one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reglament.cli import setup_django
from reglament.cli.calendar import UsageError, parse_instant
from reglament.domain.calendar import WorkingDays
from reglament.domain.errors import DomainError
from reglament.domain.regulation import format_target

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from reglament.accounts.models import Organisation
    from reglament.core.errors import AppError
    from reglament.domain.regulation import Regulation, Text
    from reglament.domain.sla import ClockState
    from reglament.sla.models import Clock
    from reglament.tickets.models import Comment, Ticket, TicketEvent

REFUSED = 1
USAGE_ERROR = 2
LIST_LIMIT = 1000
EXIT_CODES = (
    "Exit codes: 0 done, 1 refused by the rules (not found, not allowed), 2 a wrong argument"
)


class HelpFormatter(argparse.HelpFormatter):
    """Wraps one-paragraph texts as usual; keeps a text with line breaks as written
    (the --json key lists in epilogs)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


TICKET_JSON = """\
--json prints one object with stable keys, named as in the API. Instants are
ISO 8601 in the regulation's time zone, durations whole seconds, texts that
are not set "", other values that are not set null:
  number, subject, description, status, status_title {ru, en}, resolution,
  is_open, priority, impact, workaround, type, category, line, channel,
  organisation {id, name}, requester, assignee (logins), tariff, regulation,
  regulation_version, received_at, registered_at, closed_at, next_due_at,
  breached, at_risk, timezone, clocks_at (the instant the clocks are read at),
  clocks: [{metric, title {ru, en}, state,
            target {text {ru, en}, seconds, working_days} (null: does not apply),
            calendar, started_at, stopped_at, stopped_by, due_at, warn_at,
            consumed_seconds, remaining_seconds (negative once breached),
            warned_at, breached_at (the warning and breach recorded)}]
A clock's state is not_applicable, no_promise (consultation only), waiting
(not started), running, paused, met or breached; while paused, due_at is when
it would be due if the pause ended at clocks_at."""

SHOW_JSON = (
    TICKET_JSON
    + """
With --events also events: [{at, kind, actor (a login, null for the system),
public, data}], oldest first, only those the --as person may see."""
)

LIST_JSON = """\
--json prints {"requests": [...]} in queue order; each request has the stable
keys (named as in the API) number, subject, organisation {id, name}, status,
priority, line, assignee (a login or null), is_open, breached, at_risk,
registered_at, next_due_at (ISO 8601 in the regulation's time zone, null when
nothing is due)."""

SWEEP_JSON = """\
--json prints {"at", "tickets", "warnings", "breaches", "left"}: the instant
swept, the requests whose clocks were re-computed, the warnings and breaches
recorded, and the requests still due afterwards (held by another process, or
beyond the sweep's limit; the next sweep takes them)."""


# ------------------------------------------------------------------------------ parsers
def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ticket = subparsers.add_parser(
        "ticket",
        help="requests: create, show, list, change status, reply, escalate, close",
        description="Work with requests as a person of the desk (--as LOGIN), with exactly "
        "that person's rights. " + EXIT_CODES + ".",
    )
    actions = ticket.add_subparsers(title="actions", metavar="ACTION", dest="action")
    actions.required = True
    person = argparse.ArgumentParser(add_help=False)
    person.add_argument(
        "--as",
        dest="actor",
        required=True,
        metavar="LOGIN",
        help="the person who acts; their rights apply",
    )
    person.add_argument(
        "--lang",
        choices=("ru", "en"),
        help="language of titles and messages (default: the site's, ru)",
    )
    change = argparse.ArgumentParser(add_help=False)
    change.add_argument(
        "--at",
        metavar="INSTANT",
        help="when it happened, ISO 8601 with offset, not in the future (default: now)",
    )

    create = actions.add_parser(
        "create",
        parents=[person, change],
        help="register a request; print its number and first due times",
        description="Register a request (R3.4): the number, the registration time and "
        "the due instant of every clock the regulation starts. A customer files for "
        "themselves (a partner also for its clients); support staff file on behalf of "
        "a customer's --requester.",
        epilog=TICKET_JSON,
        formatter_class=HelpFormatter,
    )
    create.add_argument("--subject", required=True, metavar="TEXT", help="one line")
    description = create.add_mutually_exclusive_group()
    description.add_argument("--description", default="", metavar="TEXT")
    description.add_argument(
        "--description-file", type=Path, metavar="FILE", help="read the description (- for stdin)"
    )
    create.add_argument("--requester", metavar="LOGIN", help="the customer's person (staff only)")
    create.add_argument(
        "--organisation",
        metavar="NAME|ID",
        help="a partner's client the request is for (default: the requester's organisation)",
    )
    create.add_argument("--regulation", metavar="ID", help="whose contract, when there are several")
    create.add_argument("--type", help="request type id of the regulation (defect, consultation…)")
    create.add_argument("--category", help="business-process category id of the regulation")
    create.add_argument("--priority", help="critical, high, medium or low")
    create.add_argument("--impact", help="derive the priority: the impact answer (R3.1)")
    create.add_argument("--workaround", help="derive the priority: the workaround answer")
    create.add_argument(
        "--line", type=int, choices=(1, 2, 3), default=1, help="support line (default: 1)"
    )
    create.add_argument(
        "--channel",
        help="how it came: portal (default), email, phone, telegram, whatsapp, api, monitoring",
    )
    create.add_argument(
        "--received-at",
        metavar="INSTANT",
        help="when the call or message arrived, if before registration (ISO 8601 with offset)",
    )
    create.add_argument("--assignee", metavar="LOGIN", help="an agent to assign (staff only)")
    create.add_argument(
        "--service",
        metavar="ID",
        default="",
        help="a service id of the regulation's catalogue (R4.1, R1.1); one the tariff "
        "excludes is refused unless --accept-paid-work",
    )
    create.add_argument(
        "--accept-paid-work",
        action="store_true",
        help="file a service the tariff excludes as paid work, done after an approved "
        "estimate ('reglament estimate')",
    )
    create.add_argument("--json", action="store_true", help="machine-readable output")
    create.set_defaults(handler=guarded("ticket create", _create))

    show = actions.add_parser(
        "show",
        parents=[person],
        help="a request's facts, clocks and (with --events) history",
        description="Print the request's header, its clocks (metric, state, target, due "
        "instant in the calendar's time zone, business time consumed and remaining) and, "
        "with --events, its history. A request the --as person may not see is not found.",
        epilog=SHOW_JSON,
        formatter_class=HelpFormatter,
    )
    show.add_argument("number", metavar="NUMBER")
    show.add_argument("--events", action="store_true", help="also print the event history")
    show.add_argument(
        "--at", metavar="INSTANT", help="read the clocks as of this instant (default: now)"
    )
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=guarded("ticket show", _show))

    listing = actions.add_parser(
        "list",
        parents=[person],
        help="requests the person may see, most urgent first",
        description="List the requests the --as person may see in queue order: the "
        "earliest next due instant first, requests with nothing due last.",
        epilog=LIST_JSON,
        formatter_class=HelpFormatter,
    )
    listing.add_argument("--status", help="a status id of the regulation")
    listing.add_argument("--priority", help="critical, high, medium or low")
    listing.add_argument("--line", type=int, choices=(1, 2, 3))
    listing.add_argument("--assignee", metavar="LOGIN|none", help="assigned to, or none")
    state = listing.add_mutually_exclusive_group()
    state.add_argument("--open", action="store_true", help="only open requests")
    state.add_argument("--closed", action="store_true", help="only closed requests")
    listing.add_argument("--breached", action="store_true", help="only with a breached clock")
    listing.add_argument(
        "--at-risk", action="store_true", help="only with a clock past its warning"
    )
    listing.add_argument(
        "--limit", type=int, default=50, help="at most this many (default: %(default)s)"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=guarded("ticket list", _list))

    transition = actions.add_parser(
        "transition",
        parents=[person, change],
        help="move a request to another status of its regulation (staff)",
        description="Change the status if the regulation allows it from the current one; "
        "a final status may need a resolution. A refused change prints what is allowed "
        "from here, with exit code 1.",
    )
    transition.add_argument("number", metavar="NUMBER")
    transition.add_argument("status", metavar="STATUS", help="a status id of the regulation")
    transition.add_argument("--resolution", default="", help="a resolution id (final statuses)")
    transition.add_argument(
        "--comment", default="", metavar="TEXT", help="why, kept in the history"
    )
    transition.set_defaults(handler=guarded("ticket transition", _transition))

    reply = actions.add_parser(
        "reply",
        parents=[person, change],
        help="add a public reply or (staff) an internal note",
        description="Add a reply to the conversation. A customer's reply to a request "
        "waiting for them resumes its clocks (R3.7).",
    )
    reply.add_argument("number", metavar="NUMBER")
    reply.add_argument("--body", required=True, metavar="TEXT", help="the text")
    reply.add_argument("--internal", action="store_true", help="an internal note (staff only)")
    reply.add_argument("--channel", help="where the reply came from (default: portal)")
    reply.set_defaults(handler=guarded("ticket reply", _reply))

    escalate = actions.add_parser(
        "escalate",
        parents=[person, change],
        help="move a request to another support line (staff)",
        description="Move the request to support line 1, 2 or 3: the clocks take that "
        "line's targets and keep the business time already consumed (R3.6).",
    )
    escalate.add_argument("number", metavar="NUMBER")
    escalate.add_argument("line", metavar="LINE", type=int, choices=(1, 2, 3))
    escalate.add_argument(
        "--reason", required=True, metavar="TEXT", help="why, kept in the history"
    )
    escalate.set_defaults(handler=guarded("ticket escalate", _escalate))

    close = actions.add_parser(
        "close",
        parents=[person, change],
        help="close a request as its requester (R3.8)",
        description="The requester (or their customer administrator) closes the request "
        "when an answer is no longer needed (R3.8). Support staff change the status "
        "instead.",
    )
    close.add_argument("number", metavar="NUMBER")
    close.add_argument("--comment", default="", metavar="TEXT", help="why, kept in the history")
    close.set_defaults(handler=guarded("ticket close", _close))


def add_sweep_command(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`reglament sla sweep`, beside `sla simulate` (called by reglament.cli.regulation)."""
    sweep = actions.add_parser(
        "sweep",
        help="record every warning and breach due now, once (what workers do every few seconds)",
        description="Run one SLA sweep: re-compute the clocks of every request with a "
        "warning or a breach due, record each once, and print how many. Safe while "
        "workers run.",
        epilog=SWEEP_JSON,
        formatter_class=HelpFormatter,
    )
    sweep.add_argument(
        "--now",
        metavar="INSTANT",
        help="sweep as of this instant, ISO 8601 with offset, not in the future (default: now)",
    )
    sweep.add_argument("--json", action="store_true", help="machine-readable output")
    sweep.set_defaults(handler=guarded("sla sweep", _sweep))


# ---------------------------------------------------------------------- error handling
def guarded(
    command: str, run: Callable[[argparse.Namespace], None]
) -> Callable[[argparse.Namespace], int]:
    """A handler: set Django up, run, and turn every refusal into one line and an exit code.

    Wrong arguments (UsageError, and the services' invalid-input errors) exit 2;
    everything else the rules refuse (not found, not allowed, no contract) exits 1.
    """

    def handler(args: argparse.Namespace) -> int:
        setup_django()
        from reglament.core.errors import AppError, InvalidInputError
        from reglament.tickets.errors import NoContractError

        try:
            with _language(getattr(args, "lang", None)):
                run(args)
        except UsageError as error:
            return _fail(command, str(error), USAGE_ERROR)
        except InvalidInputError as error:
            # No contract in force is the state of the world, not a mistyped argument.
            code = REFUSED if isinstance(error, NoContractError) else USAGE_ERROR
            return _fail(command, app_message(error), code)
        except AppError as error:
            return _fail(command, app_message(error), REFUSED)
        except DomainError as error:
            return _fail(command, str(error), REFUSED)
        return 0

    return handler


@contextlib.contextmanager
def _language(lang: str | None) -> Iterator[None]:
    if lang is None:  # keep the active language (the site's, or the caller's)
        yield
        return
    from django.utils import translation

    with translation.override(lang):
        yield


def _fail(command: str, message: str, code: int) -> int:
    print(f"reglament {command}: error: {message}", file=sys.stderr)
    return code


def app_message(error: AppError) -> str:
    """The service's own message, with what the CLI can add to say how to fix it."""
    from reglament.tickets.errors import TicketNotFoundError, TransitionNotAllowedError

    message = str(error.message)
    details = error.details
    if isinstance(error, TicketNotFoundError):
        return (
            f"{details.get('number')}: {message} "
            "See the requests you may see with 'reglament ticket list --as LOGIN'."
        )
    if isinstance(error, TransitionNotAllowedError) and details.get("from") == details.get("to"):
        allowed = details.get("allowed") or []
        return f"{message} From here: {', '.join(allowed) or 'none (the status is final)'}."
    return message


def person(login: str, option: str) -> User:
    """The active person who logs in as `login`; a UsageError naming `option` otherwise."""
    from reglament.accounts.selectors import person_find

    user = person_find(username=login.strip())
    if user is None:
        raise UsageError(
            f"{option} {login!r}: nobody logs in with this name; give the login of a person "
            "of the desk (the demo's are printed by 'reglament demo load')."
        )
    if not user.is_active:
        raise UsageError(f"{option} {login!r} is deactivated; give an active person's login.")
    return user


def _change_instant(text: str | None) -> datetime | None:
    """`--at` of a change: an instant with an offset, and not one that has not come yet."""
    if text is None:
        return None
    from django.utils import timezone

    at = parse_instant(text, "--at")
    if at > timezone.now():
        raise UsageError(
            f"--at {text!r} is in the future; a change is recorded when it happens "
            "(leave --at out for now)."
        )
    return at


# ----------------------------------------------------------------------------- handlers
def _create(args: argparse.Namespace) -> None:
    from reglament.sla.selectors import ticket_clocks
    from reglament.tickets.services import ticket_create

    actor = person(args.actor, "--as")
    if args.priority and (args.impact or args.workaround):
        raise UsageError("Give either --priority, or --impact with --workaround, not both.")
    if bool(args.impact) != bool(args.workaround):
        raise UsageError(
            "--impact and --workaround go together: the priority is derived from both answers."
        )
    at = _change_instant(args.at)
    options: dict[str, Any] = {}
    if args.channel:
        options["channel"] = args.channel
    ticket = ticket_create(
        actor=actor,
        subject=args.subject,
        description=_description(args),
        requester=person(args.requester, "--requester") if args.requester else None,
        organisation=_organisation(args.organisation) if args.organisation else None,
        regulation=args.regulation,
        type=args.type or "",
        category=args.category or "",
        priority=args.priority,
        impact=args.impact,
        workaround=args.workaround,
        line=args.line,
        received_at=parse_instant(args.received_at, "--received-at") if args.received_at else None,
        assignee=person(args.assignee, "--assignee") if args.assignee else None,
        service=args.service.strip(),
        accept_paid_work=args.accept_paid_work,
        now=at,
        **options,
    )
    regulation, states = ticket_clocks(ticket, now=ticket.registered_at)
    if args.json:
        _print_json(ticket_json(ticket, regulation, states, clocks_at=ticket.registered_at))
        return
    zone = _zone(regulation)
    print(f"{ticket.number} registered {_shown(ticket.registered_at, zone)}")
    for line in clock_lines(regulation, states):
        print(f"  {line}")


def _show(args: argparse.Namespace) -> None:
    from django.utils import timezone

    from reglament.sla.selectors import ticket_clocks
    from reglament.tickets.selectors import ticket_comments, ticket_events, ticket_get

    actor = person(args.actor, "--as")
    at = parse_instant(args.at, "--at") if args.at else None
    ticket = ticket_get(user=actor, number=args.number.strip())
    if at is not None and at < ticket.received_at:
        arrived = _shown(ticket.received_at, _zone(ticket.version.parsed()))
        raise UsageError(
            f"--at {args.at!r} is before {ticket.number} arrived ({arrived}); "
            "ask for an instant after it."
        )
    clocks_at = at or timezone.now()
    regulation, states = ticket_clocks(ticket, now=clocks_at)
    events = ticket_events(user=actor, ticket=ticket) if args.events else []
    if args.json:
        payload = ticket_json(ticket, regulation, states, clocks_at=clocks_at)
        if args.events:
            payload["events"] = [_event_json(event, _zone(regulation)) for event in events]
        _print_json(payload)
        return
    for line in _header(ticket, regulation):
        print(line)
    if ticket.description.strip():
        print()
        for line in ticket.description.strip().splitlines():
            print(f"  {line}".rstrip())
    zone = _zone(regulation)
    print()
    print(f"Clocks at {_shown(clocks_at, zone)} ({zone.key}):")
    for line in clock_table(regulation, states):
        print(f"  {line}")
    if args.events:
        comments = {c.pk: c for c in ticket_comments(user=actor, ticket=ticket)}
        print()
        print("Events:")
        for line in _event_table(events, comments, zone):
            print(f"  {line}")


def _list(args: argparse.Namespace) -> None:
    from reglament.tickets.selectors import TicketFilter, ticket_list

    actor = person(args.actor, "--as")
    assignee = args.assignee.strip() if args.assignee else None
    if assignee is not None and assignee != "none":
        assignee = person(assignee, "--assignee").get_username()
    if not 1 <= args.limit <= LIST_LIMIT:
        raise UsageError(f"--limit {args.limit} must be between 1 and {LIST_LIMIT}.")
    filters = TicketFilter(
        status=args.status,
        priority=args.priority,
        line=args.line,
        assignee=assignee,
        is_open=True if args.open else False if args.closed else None,
        breached=True if args.breached else None,
        at_risk=True if args.at_risk else None,
    )
    tickets = ticket_list(user=actor, filters=filters, limit=args.limit)
    rows = [_summary_json(ticket) for ticket in tickets]
    if args.json:
        _print_json({"requests": rows})
        return
    if not rows:
        print("No requests match.")
        return
    headers = ["NUMBER", "STATUS", "PRIORITY", "LINE", "ASSIGNEE", "NEXT DUE", "FLAGS"]
    headers += ["ORGANISATION", "SUBJECT"]
    table = [
        [
            row["number"],
            row["status"],
            row["priority"],
            str(row["line"]),
            row["assignee"] or "—",
            _shown(ticket.next_due_at, _zone(ticket.version.parsed())),
            ",".join(
                flag
                for flag, on in (
                    ("closed", not row["is_open"]),
                    ("breached", row["breached"]),
                    ("at-risk", row["at_risk"]),
                )
                if on
            )
            or "—",
            row["organisation"]["name"],
            _shorten(row["subject"], 60),
        ]
        for ticket, row in zip(tickets, rows, strict=True)
    ]
    for line in _table(headers, table):
        print(line)
    if len(rows) == args.limit:
        print(f"(the first {args.limit}; narrow the filters or raise --limit for more)")


def _transition(args: argparse.Namespace) -> None:
    from reglament.tickets.selectors import ticket_get
    from reglament.tickets.services import ticket_transition

    actor = person(args.actor, "--as")
    at = _change_instant(args.at)
    ticket = ticket_get(user=actor, number=args.number.strip())
    before = ticket.status
    ticket = ticket_transition(
        ticket=ticket,
        actor=actor,
        status=args.status.strip(),
        resolution=args.resolution.strip(),
        comment=args.comment,
        now=at,
    )
    resolution = f" ({ticket.resolution})" if ticket.resolution else ""
    _print_change(ticket, f"{before} → {ticket.status}{resolution}", at)


def _reply(args: argparse.Namespace) -> None:
    from reglament.tickets.selectors import ticket_get
    from reglament.tickets.services import ticket_reply

    actor = person(args.actor, "--as")
    at = _change_instant(args.at)
    ticket = ticket_get(user=actor, number=args.number.strip())
    options: dict[str, Any] = {}
    if args.channel:
        options["channel"] = args.channel
    ticket_reply(
        ticket=ticket, author=actor, body=args.body, public=not args.internal, now=at, **options
    )
    after = ticket_get(user=actor, number=ticket.number)
    what = "internal note added" if args.internal else "public reply added"
    if after.status != ticket.status:  # a customer's answer resumed the request (R3.7)
        what += f"; status {ticket.status} → {after.status}"
    _print_change(after, what, at)


def _escalate(args: argparse.Namespace) -> None:
    from reglament.tickets.selectors import ticket_get
    from reglament.tickets.services import ticket_escalate

    actor = person(args.actor, "--as")
    at = _change_instant(args.at)
    ticket = ticket_get(user=actor, number=args.number.strip())
    before = ticket.line
    ticket = ticket_escalate(ticket=ticket, actor=actor, line=args.line, reason=args.reason, now=at)
    _print_change(ticket, f"line {before} → {ticket.line}", at)


def _close(args: argparse.Namespace) -> None:
    from reglament.tickets.selectors import ticket_get
    from reglament.tickets.services import ticket_close_by_requester

    actor = person(args.actor, "--as")
    at = _change_instant(args.at)
    ticket = ticket_get(user=actor, number=args.number.strip())
    before = ticket.status
    ticket = ticket_close_by_requester(ticket=ticket, actor=actor, comment=args.comment, now=at)
    _print_change(ticket, f"{before} → {ticket.status}, closed by the requester", at)


def _sweep(args: argparse.Namespace) -> None:
    from django.utils import timezone

    from reglament.sla.services import sla_sweep

    now = timezone.now()
    at = parse_instant(args.now, "--now") if args.now else now
    if at > now:
        raise UsageError(
            f"--now {args.now!r} is in the future; a sweep records only what is already "
            "due (leave --now out for now)."
        )
    report = sla_sweep(now=at)
    if args.json:
        _print_json(
            {
                "at": at.isoformat(),
                "tickets": report.tickets,
                "warnings": report.warnings,
                "breaches": report.breaches,
                "left": report.left,
            }
        )
        return
    left = (
        f"{report.left} still due (held by another process or beyond the limit; "
        "the next sweep takes them)"
        if report.left
        else "none left due"
    )
    print(
        f"Swept at {at.isoformat(timespec='seconds')}: "
        f"{_count(report.tickets, 'request')} re-computed, "
        f"{_count(report.warnings, 'warning')} and {_count(report.breaches, 'breach')} "
        f"recorded, {left}."
    )


# ------------------------------------------------------------------------------ helpers
def _description(args: argparse.Namespace) -> str:
    path: Path | None = args.description_file
    if path is None:
        return str(args.description)
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--description-file {str(path)!r}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise UsageError(f"--description-file {str(path)!r} is not UTF-8 text.") from None


def _organisation(text: str) -> Organisation:
    from reglament.accounts.models import Organisation
    from reglament.accounts.selectors import organisation_find

    found = organisation_find(name=text.strip())
    if found is None and text.strip().isdigit():
        found = Organisation.objects.filter(pk=int(text)).first()
    if found is None:
        raise UsageError(f"--organisation {text!r}: no organisation has this name or id.")
    return found


def _print_change(ticket: Ticket, what: str, at: datetime | None) -> None:
    """`NUMBER: what changed`, then the clocks as of the change."""
    from django.utils import timezone

    from reglament.sla.selectors import ticket_clocks

    regulation, states = ticket_clocks(ticket, now=at or timezone.now())
    print(f"{ticket.number}: {what}")
    for line in clock_lines(regulation, states):
        print(f"  {line}")


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))


def _lang() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "ru").startswith("en") else "ru"


def _zone(regulation: Regulation, calendar: str | None = None) -> ZoneInfo:
    return regulation.calendars[calendar or regulation.default_calendar].timezone


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """For JSON: exact."""
    return None if moment is None else moment.astimezone(zone).isoformat()


def _shown(moment: datetime | None, zone: ZoneInfo) -> str:
    """For people: to the second."""
    return "—" if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


def _hms(value: timedelta) -> str:
    """H:MM:SS to the nearest second, negative once past due."""
    sign = "-" if value < timedelta(0) else ""
    hours, rest = divmod(round(abs(value) / timedelta(seconds=1)), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]


# ------------------------------------------------------------------------------- clocks
def _target_text(state: ClockState, lang: str) -> str:
    if state.target is None:
        return "—"
    if state.target.duration is None:
        return format_target(None, lang)
    return f"{format_target(state.target.duration, lang)} [{state.target.calendar}]"


def clock_lines(regulation: Regulation, states: tuple[ClockState, ...]) -> list[str]:
    """One line per clock that applies: `Title: state, target [calendar], due …`."""
    lang = _lang()
    lines = []
    for state in states:
        metric = regulation.metric(state.metric)
        title = metric.title.get(lang)
        if state.state == "not_applicable":
            continue
        if state.state == "no_promise":
            lines.append(f"{title}: {format_target(None, lang)}")
            continue
        text = f"{title}: {state.state}, {_target_text(state, lang)}"
        zone = _zone(regulation, state.target.calendar if state.target else None)
        if state.state == "waiting":
            text += f", starts on {metric.starts}"
        elif state.state == "paused":
            text += f", {_hms(state.remaining or timedelta(0))} left when it resumes"
        elif state.due is not None:
            text += f", due {_shown(state.due, zone)}"
        lines.append(text)
    return lines


def clock_table(regulation: Regulation, states: tuple[ClockState, ...]) -> list[str]:
    lang = _lang()
    rows = []
    for state in states:
        zone = _zone(regulation, state.target.calendar if state.target else None)
        rows.append(
            [
                regulation.metric(state.metric).title.get(lang),
                state.state,
                _target_text(state, lang),
                _shown(state.due, zone),
                _hms(state.consumed),
                "—" if state.remaining is None else _hms(state.remaining),
            ]
        )
    headers = ["METRIC", "STATE", "TARGET", "DUE", "CONSUMED", "REMAINING"]
    return _table(headers, rows)


def _clock_json(regulation: Regulation, state: ClockState, row: Clock | None) -> dict[str, Any]:
    """A clock as the API's ClockOut has it (without the explanation)."""
    target = state.target
    duration = target.duration if target is not None else None
    zone = _zone(regulation, target.calendar if target else None)
    return {
        "metric": state.metric,
        "title": _text(regulation.metric(state.metric).title),
        "state": state.state,
        "target": None
        if target is None
        else {
            "text": {"ru": format_target(duration, "ru"), "en": format_target(duration, "en")},
            "seconds": _seconds(duration) if isinstance(duration, timedelta) else None,
            "working_days": duration.count if isinstance(duration, WorkingDays) else None,
        },
        "calendar": None if target is None else target.calendar,
        "started_at": _local(state.start, zone),
        "stopped_at": _local(state.stop, zone),
        "stopped_by": state.stopped_by,
        "due_at": _local(state.due, zone),
        "warn_at": _local(state.warn_at, zone),
        "consumed_seconds": _seconds(state.consumed),
        "remaining_seconds": _seconds(state.remaining),
        "warned_at": _local(row.warned_at if row else None, zone),
        "breached_at": _local(row.breached_at if row else None, zone),
    }


def _text(text: Text) -> dict[str, str]:
    return {"ru": text.ru, "en": text.get("en")}


# ------------------------------------------------------------------------------ tickets
def ticket_json(
    ticket: Ticket,
    regulation: Regulation,
    states: tuple[ClockState, ...],
    *,
    clocks_at: datetime,
) -> dict[str, Any]:
    """The stable JSON of `ticket create --json` and `ticket show --json` (TICKET_JSON)."""
    from reglament.sla.selectors import clock_rows

    zone = _zone(regulation)
    rows = clock_rows(ticket)
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "status_title": _text(regulation.status(ticket.status).title),
        "resolution": ticket.resolution,
        "is_open": ticket.is_open,
        "priority": ticket.priority,
        "impact": ticket.impact,
        "workaround": ticket.workaround,
        "type": ticket.type,
        "category": ticket.category,
        "line": ticket.line,
        "channel": ticket.channel,
        "organisation": {"id": ticket.organisation.pk, "name": ticket.organisation.name},
        "requester": ticket.requester.get_username(),
        "assignee": ticket.assignee.get_username() if ticket.assignee else None,
        "tariff": ticket.contract.tariff.code,
        "regulation": regulation.id,
        "regulation_version": ticket.version.number,
        "received_at": _local(ticket.received_at, zone),
        "registered_at": _local(ticket.registered_at, zone),
        "closed_at": _local(ticket.closed_at, zone),
        "next_due_at": _local(ticket.next_due_at, zone),
        "breached": ticket.breached,
        "at_risk": ticket.at_risk,
        "timezone": zone.key,
        "clocks_at": _local(clocks_at, zone),
        "clocks": [_clock_json(regulation, state, rows.get(state.metric)) for state in states],
    }


def _summary_json(ticket: Ticket) -> dict[str, Any]:
    zone = _zone(ticket.version.parsed())
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "organisation": {"id": ticket.organisation.pk, "name": ticket.organisation.name},
        "status": ticket.status,
        "priority": ticket.priority,
        "line": ticket.line,
        "assignee": ticket.assignee.get_username() if ticket.assignee else None,
        "is_open": ticket.is_open,
        "breached": ticket.breached,
        "at_risk": ticket.at_risk,
        "registered_at": _local(ticket.registered_at, zone),
        "next_due_at": _local(ticket.next_due_at, zone),
    }


def _header(ticket: Ticket, regulation: Regulation) -> list[str]:
    lang = _lang()
    zone = _zone(regulation)
    status = f"{regulation.status(ticket.status).title.get(lang)} ({ticket.status})"
    if ticket.resolution:
        resolution = next((r for r in regulation.resolutions if r.id == ticket.resolution), None)
        title = resolution.title.get(lang) if resolution else ticket.resolution
        status += f", resolution {title} ({ticket.resolution})"
    tariff = ticket.contract.tariff.code
    facts = [
        ("Organisation", ticket.organisation.name),
        (
            "Tariff",
            f"{regulation.tariff(tariff).title.get(lang)} "
            f"({regulation.id} v{ticket.version.number}, {tariff})",
        ),
        ("Status", status),
        ("Priority", ticket.priority),
        ("Line", str(ticket.line)),
        ("Type", ticket.type or "—"),
        ("Category", ticket.category or "—"),
        ("Channel", ticket.channel),
        ("Requester", ticket.requester.get_username()),
        ("Assignee", ticket.assignee.get_username() if ticket.assignee else "—"),
        ("Received", _shown(ticket.received_at, zone)),
        ("Registered", _shown(ticket.registered_at, zone)),
    ]
    if ticket.closed_at is not None:
        facts.append(("Closed", _shown(ticket.closed_at, zone)))
    width = max(len(name) for name, _value in facts) + 1
    return [
        f"{ticket.number}  {ticket.subject}",
        *(f"  {(name + ':').ljust(width)}  {value}" for name, value in facts),
    ]


# ------------------------------------------------------------------------------- events
def _event_json(event: TicketEvent, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "at": _local(event.created_at, zone),
        "kind": event.kind,
        "actor": event.actor.get_username() if event.actor else None,
        "public": event.public,
        "data": event.data,
    }


def _event_table(
    events: list[TicketEvent], comments: dict[int, Comment], zone: ZoneInfo
) -> list[str]:
    if not events:
        return ["(none)"]
    rows = [
        [
            _shown(event.created_at, zone),
            event.actor.get_username() if event.actor else "system",
            _kind_label(event.kind),
            _event_summary(event, comments, zone),
        ]
        for event in events
    ]
    return _table(["AT", "WHO", "WHAT", "DETAILS"], rows)


def _kind_label(kind: str) -> str:
    from reglament.tickets.models import TicketEvent

    try:
        return str(TicketEvent.Kind(kind).label)
    except ValueError:
        return kind


def _event_summary(event: TicketEvent, comments: dict[int, Comment], zone: ZoneInfo) -> str:
    data: dict[str, Any] = event.data
    kind = event.kind
    reason = f": {data['reason']}" if data.get("reason") else ""
    if kind == "created":
        return (
            f"status {data.get('status')}, priority {data.get('priority')}, "
            f"line {data.get('line')}, channel {data.get('channel')}"
        )
    if kind == "status_changed":
        text = f"{data.get('old')} → {data.get('new')}"
        if data.get("resolution"):
            text += f" ({data['resolution']})"
        if data.get("by_requester"):
            text += ", by the requester"
        return text + (f": {data['comment']}" if data.get("comment") else "")
    if kind == "escalated":
        return f"line {data.get('old')} → {data.get('new')}{reason}"
    if kind in ("changed", "received_corrected"):
        field = data.get("field", "received_at")
        return f"{field}: {data.get('old') or '—'} → {data.get('new') or '—'}{reason}"
    if kind in ("replied", "noted"):
        comment = comments.get(data.get("comment", 0))
        return _shorten(comment.body, 60) if comment is not None else ""
    if kind in ("clock_warning", "clock_breached"):
        at = datetime.fromisoformat(data["at"]) if data.get("at") else None
        return f"{data.get('metric')} at {_shown(at, zone)}"
    return ", ".join(f"{key} {value}" for key, value in sorted(data.items()) if value)
