"""`reglament estimate …`: paid work (R4.6, R4.1) from the shell.

    reglament estimate propose KRZ-2026-000001 --as agent1 \\
        --scope "Анализ данных в базе" --hours 6 --rate 3500 --valid-until 2026-12-15
    KRZ-2026-000001 estimate 1 proposed: 6 h × 3500 = 21000.00 RUB, valid until 2026-12-15
    reglament estimate approve KRZ-2026-000001 1 --as requester

Every command acts as the person `--as` names, through the same services and
selectors as the API: staff propose and withdraw, the customer people the
regulation names approve or decline. Exit codes as `reglament ticket`: 0 done;
1 refused by the rules (not found, not allowed, not yet past the target, the
estimate no longer open); 2 a wrong argument.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from reglament.cli.calendar import UsageError
from reglament.cli.ticket import EXIT_CODES, guarded, person

if TYPE_CHECKING:
    from reglament.paidwork.models import Estimate


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    estimate = subparsers.add_parser(
        "estimate",
        help="paid work: propose, list, approve, decline, withdraw estimates",
        description="Paid work on an approved estimate (R4.6, R4.1), as a person of the desk "
        "(--as LOGIN) with exactly that person's rights. An estimate is never changed: "
        "withdraw it and propose a new one. " + EXIT_CODES + ".",
    )
    actions = estimate.add_subparsers(title="actions", metavar="ACTION", dest="action")
    actions.required = True
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--as", dest="actor", required=True, metavar="LOGIN", help="the person who acts"
    )
    common.add_argument("--lang", choices=("ru", "en"), help="language of messages")
    common.add_argument("number", metavar="NUMBER", help="the request's number")

    propose = actions.add_parser(
        "propose",
        parents=[common],
        help="offer paid work on a request (staff)",
        description="Offer paid work: the request waits for the customer's approval in the "
        "regulation's paid-work status. after_target only once the tariff's paid_work.after "
        "metric has run out; service_not_included only for a service the tariff excludes.",
    )
    propose.add_argument("--scope", required=True, metavar="TEXT", help="the work offered")
    propose.add_argument("--hours", required=True, metavar="H", help="estimated hours, e.g. 6")
    propose.add_argument("--rate", required=True, metavar="AMOUNT", help="rate per hour")
    propose.add_argument("--currency", default="RUB", help="ISO 4217 (default: %(default)s)")
    propose.add_argument(
        "--valid-until", required=True, metavar="DATE", help="last day to approve, YYYY-MM-DD"
    )
    propose.add_argument(
        "--reason",
        choices=("after_target", "service_not_included"),
        default="after_target",
        help="why paid work (default: %(default)s)",
    )
    propose.add_argument("--json", action="store_true", help="machine-readable output")
    propose.set_defaults(handler=guarded("estimate propose", _propose))

    listing = actions.add_parser(
        "list", parents=[common], help="the request's estimates, oldest first"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=guarded("estimate list", _list))

    for action, help_text in (
        ("approve", "approve the cost (the customer)"),
        ("decline", "decline the cost (the customer)"),
        ("withdraw", "take an open estimate back (staff)"),
    ):
        parser = actions.add_parser(action, parents=[common], help=help_text)
        parser.add_argument("estimate", type=int, metavar="N", help="the estimate's number")
        if action != "approve":
            parser.add_argument("--reason", default="", metavar="TEXT", help="why")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.set_defaults(handler=guarded(f"estimate {action}", _decide), decision=action)


def _valid_until(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--valid-until {text!r} is not a date; write it like 2026-12-15."
        ) from None


def _json(estimate: Estimate) -> dict[str, Any]:
    from reglament.paidwork.selectors import today_for

    return {
        "ticket": estimate.ticket.number,
        "number": estimate.number,
        "reason": estimate.reason,
        "scope": estimate.scope,
        "hours": str(estimate.hours),
        "rate": str(estimate.rate),
        "currency": estimate.currency,
        "total": str(estimate.total),
        "valid_until": estimate.valid_until.isoformat(),
        "state": estimate.state_on(today_for(estimate.ticket)),
        "proposed_by": estimate.proposed_by.get_username(),
        "decided_by": estimate.decided_by.get_username() if estimate.decided_by else None,
        "decision_reason": estimate.decision_reason,
    }


def _line(estimate: Estimate) -> str:
    data = _json(estimate)
    return (
        f"{data['ticket']} estimate {data['number']} {data['state']}: "
        f"{data['hours']} h × {data['rate']} = {data['total']} {data['currency']}, "
        f"valid until {data['valid_until']} ({data['reason']})"
    )


def _print(estimate: Estimate, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_json(estimate), ensure_ascii=False, sort_keys=True))
    else:
        print(_line(estimate))


def _propose(args: argparse.Namespace) -> None:
    from reglament.paidwork.services import estimate_propose
    from reglament.tickets.selectors import ticket_get

    actor = person(args.actor, "--as")
    ticket = ticket_get(user=actor, number=args.number.strip())
    estimate = estimate_propose(
        ticket=ticket,
        actor=actor,
        scope=args.scope,
        hours=args.hours,
        rate=args.rate,
        currency=args.currency,
        valid_until=_valid_until(args.valid_until),
        reason=args.reason,
    )
    _print(estimate, args.json)


def _list(args: argparse.Namespace) -> None:
    from reglament.paidwork.selectors import estimate_list
    from reglament.tickets.selectors import ticket_get

    actor = person(args.actor, "--as")
    ticket = ticket_get(user=actor, number=args.number.strip())
    estimates = estimate_list(user=actor, ticket=ticket)
    if args.json:
        print(
            json.dumps(
                {"ticket": ticket.number, "estimates": [_json(e) for e in estimates]},
                ensure_ascii=False,
                sort_keys=True,
            )
        )
        return
    if not estimates:
        print(f"{ticket.number}: no estimates")
    for estimate in estimates:
        print(_line(estimate))


def _decide(args: argparse.Namespace) -> None:
    from reglament.paidwork import services
    from reglament.paidwork.selectors import estimate_get
    from reglament.tickets.selectors import ticket_get

    actor = person(args.actor, "--as")
    ticket = ticket_get(user=actor, number=args.number.strip())
    estimate = estimate_get(user=actor, ticket=ticket, number=args.estimate)
    if args.decision == "approve":
        estimate = services.estimate_approve(estimate=estimate, actor=actor)
    elif args.decision == "decline":
        estimate = services.estimate_decline(estimate=estimate, actor=actor, reason=args.reason)
    else:
        estimate = services.estimate_withdraw(estimate=estimate, actor=actor, reason=args.reason)
    _print(estimate, args.json)
