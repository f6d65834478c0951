"""`reglament usage …`: time on requests, usage reports and prepaid allowances (R4.5).

    reglament usage log KRZ-2026-000042 --minutes 45 --activity consultation --as agent1
    reglament usage void KRZ-2026-000042 17 --reason "logged on the wrong request" --as agent1
    reglament usage contracts --as manager        # the ids the other actions take
    reglament usage report --contract 3 --period 2026-11 --format csv --output nov.csv
    reglament usage allowance set --contract 3 --hours 10 --from 2026-11 --as manager
    reglament usage allowance show --contract 3 --period 2026-11

Writes act as the person `--as` names, through the same services as the API,
with that person's rights. `report` and `allowance show` read as the staff do
(every contract, notes included) unless `--as` names someone else. The rules
are written out in docs/usage.md. Exit codes: 0 done; 1 refused by the rules
(not found, not allowed, already voided); 2 a wrong argument (a bad period,
minutes out of range, xlsx without --output). Nothing is stored on an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reglament.cli.calendar import UsageError
from reglament.cli.ticket import EXIT_CODES, HelpFormatter, guarded, person

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from reglament.regulations.models import Contract

ACTIVITIES = ("consultation", "diagnosis", "remote-work", "development", "other")

REPORT_JSON = """\
--format json prints one object, as GET /api/v1/contracts/{id}/usage returns:
  contract, organisation {id, name}, regulation, tariff, period, timezone,
  unit (hour|request), increment, requests: [{number, subject, status,
  raw_minutes, billable_minutes, non_billable_minutes, billable_hours_raw,
  units, resolved_at, counted_resolutions, entries: [{id, performed_at,
  minutes, activity, billable, author, note, recorded_at}]}] (the last three
  null in a customer's view), totals {requests,
  billable_minutes, non_billable_minutes, units}, allowance {unit, amount,
  valid_from, used, remaining, exceeded, set_at}.
Decimals are exact strings ("1.5"). csv and xlsx have one row per request
(number, subject, status, billable_minutes, non_billable_minutes,
billable_hours_raw, units, unit, entries, resolved_at) and a Total row; xlsx
adds an "entries" sheet."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    usage = subparsers.add_parser(
        "usage",
        help="usage accounting: log and void time, reports for invoicing, allowances",
        description="Usage accounting (R4.5): time recorded on requests, what a contract's "
        "tariff counts in a month, and prepaid allowances. " + EXIT_CODES + ".",
    )
    actions = usage.add_subparsers(title="actions", metavar="ACTION", dest="action")
    actions.required = True
    actor = argparse.ArgumentParser(add_help=False)
    actor.add_argument("--as", dest="actor", required=True, metavar="LOGIN", help="who acts")
    reader = argparse.ArgumentParser(add_help=False)
    reader.add_argument(
        "--as", dest="actor", metavar="LOGIN", help="read as this person (default: as staff)"
    )
    for parser in (actor, reader):
        parser.add_argument("--lang", choices=("ru", "en"), help="language of messages")

    log = actions.add_parser(
        "log",
        parents=[actor],
        help="record time on a request (staff)",
        description="Record minutes of work on a request. Per-hour tariffs count the "
        "billable minutes of each request per month, rounded up to the tariff's increment.",
    )
    log.add_argument("number", metavar="NUMBER")
    log.add_argument("--minutes", type=int, required=True, help="1 to 1440")
    log.add_argument("--activity", required=True, help=", ".join(ACTIVITIES))
    log.add_argument("--not-billable", action="store_true", help="recorded, never counted")
    log.add_argument("--note", default="", metavar="TEXT", help="what was done (staff only)")
    log.add_argument(
        "--at",
        metavar="INSTANT",
        help="when the work was done, ISO 8601 with offset (default: now)",
    )
    log.set_defaults(handler=guarded("usage log", _log))

    void = actions.add_parser(
        "void",
        parents=[actor],
        help="void a time entry (staff); enter the right time anew",
        description="The entry stops counting and is kept with who voided it and why.",
    )
    void.add_argument("number", metavar="NUMBER")
    void.add_argument("entry", type=int, metavar="ENTRY_ID")
    void.add_argument("--reason", required=True, metavar="TEXT")
    void.set_defaults(handler=guarded("usage void", _void))

    report = actions.add_parser(
        "report",
        parents=[reader],
        help="a contract's usage in a month, per request, for invoicing",
        description="Per request: the counted units and the raw time behind them; totals "
        "and the allowance balance.",
        epilog=REPORT_JSON,
        formatter_class=HelpFormatter,
    )
    report.add_argument("--contract", type=int, required=True, metavar="ID")
    report.add_argument("--period", required=True, metavar="YYYY-MM")
    report.add_argument("--format", choices=("text", "json", "csv", "xlsx"), default="text")
    report.add_argument("--output", type=Path, metavar="FILE", help="write here (xlsx needs it)")
    report.set_defaults(handler=guarded("usage report", _report))

    contracts = actions.add_parser(
        "contracts",
        parents=[reader],
        help="the contracts whose usage you may see, with their ids",
        description="Id, organisation, regulation, tariff and how the tariff counts usage.",
    )
    contracts.add_argument("--json", action="store_true", help="one JSON array")
    contracts.set_defaults(handler=guarded("usage contracts", _contracts))

    allowance = actions.add_parser(
        "allowance",
        help="prepaid allowances of contracts: set, show",
        description="A contract's prepaid hours or requests per month.",
    )
    allowance_actions = allowance.add_subparsers(title="actions", metavar="ACTION", dest="what")
    allowance_actions.required = True
    set_ = allowance_actions.add_parser(
        "set",
        parents=[actor],
        help="set the allowance from a month on (staff)",
        description="Adds a row to the contract's allowance history; earlier rows are kept, "
        "the latest row starting at or before a month applies to it.",
    )
    set_.add_argument("--contract", type=int, required=True, metavar="ID")
    amount = set_.add_mutually_exclusive_group(required=True)
    amount.add_argument("--hours", metavar="N", help="prepaid hours per month (hourly tariffs)")
    amount.add_argument("--requests", metavar="N", help="prepaid requests per month")
    amount.add_argument("--none", action="store_true", help="no allowance from this month on")
    set_.add_argument("--from", dest="valid_from", required=True, metavar="YYYY-MM")
    set_.set_defaults(handler=guarded("usage allowance set", _allowance_set))

    show = allowance_actions.add_parser(
        "show",
        parents=[reader],
        help="the allowance in force, what is used and what remains",
    )
    show.add_argument("--contract", type=int, required=True, metavar="ID")
    show.add_argument("--period", metavar="YYYY-MM", help="default: the current month")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=guarded("usage allowance show", _allowance_show))


# ----------------------------------------------------------------------------- handlers
def _log(args: argparse.Namespace) -> None:
    from reglament.cli.calendar import parse_instant
    from reglament.tickets.selectors import ticket_get
    from reglament.usage import services

    actor = person(args.actor, "--as")
    performed_at = parse_instant(args.at, "--at") if args.at is not None else None
    entry = services.time_log(
        ticket=ticket_get(user=actor, number=args.number),
        actor=actor,
        minutes=args.minutes,
        activity=args.activity,
        billable=not args.not_billable,
        note=args.note,
        performed_at=performed_at,
    )
    billable = "billable" if entry.billable else "not billable"
    print(
        f"{args.number}: time entry {entry.pk}, {entry.minutes} min {entry.activity} "
        f"({billable}) at {entry.performed_at.isoformat()}"
    )


def _void(args: argparse.Namespace) -> None:
    from reglament.tickets.selectors import ticket_get
    from reglament.usage import services

    actor = person(args.actor, "--as")
    entry = services.time_void(
        ticket=ticket_get(user=actor, number=args.number),
        actor=actor,
        entry_id=args.entry,
        reason=args.reason,
    )
    print(f"{args.number}: time entry {entry.pk} ({entry.minutes} min) voided")


def _report(args: argparse.Namespace) -> None:
    from reglament.usage import exports, selectors

    if args.format == "xlsx" and args.output is None:
        raise UsageError("--format xlsx writes a workbook: give --output FILE.xlsx.")
    user = _reader(args.actor)
    contract = _contract(user, args.contract)
    period = selectors.period_parse(args.period)
    report = selectors.usage_report(user=user, contract=contract, period=period)
    if args.format == "xlsx":
        _write(args.output, exports.report_xlsx(report))
        return
    if args.format == "csv":
        _write(args.output, exports.report_csv(report))
        return
    data = exports.report_data(report)
    text = (
        json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if args.format == "json"
        else _report_text(data)
    )
    _write(args.output, text.encode())


def _contracts(args: argparse.Namespace) -> None:
    from reglament.usage import selectors
    from reglament.usage.exports import number_text

    rows = []
    for contract in selectors.contract_list(user=_reader(args.actor)):
        rule = selectors.contract_usage_rule(contract)
        rows.append(
            {
                "id": contract.pk,
                "organisation": contract.organisation.name,
                "regulation": contract.regulation_id,
                "tariff": contract.tariff.code,
                "usage_unit": rule.unit if rule else None,
                "increment": number_text(rule.increment) if rule else None,
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        print("No contracts whose usage you may see (staff and customer admins see theirs).")
    for row in rows:
        counted = f"per {row['usage_unit']} ×{row['increment']}" if row["usage_unit"] else "—"
        print(
            f"{row['id']:>4}  {row['regulation']:<12} {row['tariff']:<20} {counted:<16} "
            f"{row['organisation']}"
        )


def _allowance_set(args: argparse.Namespace) -> None:
    from reglament.usage import selectors, services

    actor = person(args.actor, "--as")
    contract = _contract(actor, args.contract)
    valid_from = selectors.period_parse(args.valid_from, "--from")
    if args.none:
        amount, unit = None, "none"
    else:
        text, unit = (
            (args.hours, "hours") if args.hours is not None else (args.requests, "requests")
        )
        amount = _decimal(text, f"--{unit}")
    row = services.allowance_set(
        contract=contract, actor=actor, amount=amount, unit=unit, valid_from=valid_from
    )
    from reglament.usage.exports import number_text

    what = f"{number_text(row.amount)} {row.unit}" if row.amount is not None else "none"
    print(f"contract {contract.pk}: allowance {what} per month from {valid_from}")


def _allowance_show(args: argparse.Namespace) -> None:
    from reglament.usage import selectors
    from reglament.usage.exports import number_text

    user = _reader(args.actor)
    contract = _contract(user, args.contract)
    period = selectors.period_parse(args.period) if args.period else selectors.period_now(contract)
    state = selectors.allowance_balance(contract=contract, period=period)
    balance = state.balance
    data = {
        "contract": contract.pk,
        "period": str(period),
        "unit": state.unit,
        "amount": number_text(balance.allowance),
        "valid_from": str(state.valid_from) if state.valid_from else None,
        "used": number_text(balance.used),
        "remaining": number_text(balance.remaining),
        "exceeded": balance.exceeded,
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    if balance.allowance is None:
        print(f"contract {contract.pk}, {period}: no allowance; used {data['used']} {state.unit}")
        return
    state_text = "EXCEEDED" if balance.exceeded else "within"
    print(
        f"contract {contract.pk}, {period}: allowance {data['amount']} {state.unit} "
        f"(from {data['valid_from']}), used {data['used']}, remaining {data['remaining']} "
        f"— {state_text}"
    )


# ------------------------------------------------------------------------------ helpers
def _reader(login: str | None) -> User:
    """The person a report is read as: `--as`, or a superuser's view for the shell."""
    if login is not None:
        return person(login, "--as")
    from django.contrib.auth.models import User

    # The shell's operator reads as the staff do; nothing is written as this person.
    return User(username="(shell)", is_superuser=True)


def _contract(user: User, contract_id: int) -> Contract:
    from reglament.usage.selectors import contract_get

    return contract_get(user=user, contract_id=contract_id)


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise UsageError(f"{option} {text!r} is not a number; give e.g. 10 or 7.5.") from None
    return value


def _write(output: Path | None, content: bytes) -> None:
    if output is None:  # text, json or csv (the BOM is for spreadsheet programs, not ttys)
        sys.stdout.write(content.decode("utf-8-sig"))
        return
    try:
        output.write_bytes(content)
    except OSError as error:
        raise UsageError(f"--output {output}: cannot write it ({error.strerror}).") from None
    print(f"written {output} ({len(content)} bytes)")


def _report_text(data: dict[str, Any]) -> str:
    unit = "h" if data["unit"] == "hour" else "req"
    lines = [
        f"{data['organisation']['name']} — contract {data['contract']}, tariff "
        f"{data['tariff']} ({data['regulation']}), {data['period']} ({data['timezone']})",
        f"counted per {data['unit']}, increment {data['increment']}",
        "",
    ]
    for request in data["requests"]:
        lines.append(
            f"{request['number']}  {request['units']:>6} {unit}  "
            f"{request['billable_minutes']:>5} min billable  "
            f"{request['non_billable_minutes']:>4} min not  {request['subject']}"
        )
    totals = data["totals"]
    lines += [
        "",
        f"total: {totals['units']} {unit} from {totals['billable_minutes']} billable minutes "
        f"over {totals['requests']} requests",
    ]
    allowance = data["allowance"]
    if allowance["amount"] is not None:
        lines.append(
            f"allowance {allowance['amount']} {allowance['unit']}: used {allowance['used']}, "
            f"remaining {allowance['remaining']}" + (" — EXCEEDED" if allowance["exceeded"] else "")
        )
    return "\n".join(lines) + "\n"
