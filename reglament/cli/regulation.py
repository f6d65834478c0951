"""`reglament regulation …` and `reglament sla simulate`: regulations from the shell.

    reglament regulation check regulations/*.yaml
    reglament regulation show regulations/set-retail.yaml --lang en --format markdown
    reglament sla simulate --regulation regulations/cera.yaml --tariff standard \\
        --priority critical --line 3 --received 2025-03-04T12:00:00+03:00

A regulation is named by its file, or by its id once loaded into the database
(`reglament regulation load`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from reglament.cli.calendar import UsageError, intervals_json, parse_instant, parse_pauses
from reglament.domain.calendar import WorkingDays
from reglament.domain.errors import DomainError
from reglament.domain.regulation import (
    EVENTS,
    Case,
    Clock,
    Regulation,
    RegulationInvalid,
    format_target,
    load_regulation_file,
)
from reglament.domain.regulation.render import RENDERERS, render

USAGE_ERROR = 2
SIMULATE_EXAMPLE = (
    "reglament sla simulate --regulation regulations/cera.yaml --tariff standard "
    "--priority critical --line 3 --received 2025-03-04T12:00:00+03:00"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    regulation = subparsers.add_parser(
        "regulation",
        help="check, load and show regulation files",
        description="Regulation files (docs/regulations.md): check them, load them as "
        "versions, show the tariff comparison a customer sees.",
    )
    actions = regulation.add_subparsers(title="actions", metavar="ACTION", dest="action")
    actions.required = True

    check = actions.add_parser(
        "check",
        help="validate files and print every problem (exit 1 if any)",
        description="Validate regulation files; print every problem as file:line: field: "
        "message and hint. Exit code 1 if any file has a problem.",
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(handler=_check)

    show = actions.add_parser(
        "show",
        help="the tariff comparison table, generated from the regulation",
        description="Print the comparison of a regulation's tariffs: services ✓/✗ and every "
        "promised time, as a customer would see it.",
    )
    show.add_argument("regulation", metavar="FILE_OR_ID", help="a .yaml file or a loaded id")
    show.add_argument("--version", type=int, help="a loaded version number (default: latest)")
    show.add_argument("--lang", choices=("ru", "en"), default="ru")
    show.add_argument("--format", choices=tuple(RENDERERS), default="text")
    show.set_defaults(handler=_show)

    from reglament.cli.regulation_db import add_load_command

    add_load_command(actions)

    sla = subparsers.add_parser(
        "sla",
        help="what-if SLA clocks for a request under a regulation; a manual sweep",
        description="Ask a regulation when things are due.",
    )
    sla_actions = sla.add_subparsers(title="actions", metavar="ACTION", dest="action")
    sla_actions.required = True
    simulate = sla_actions.add_parser(
        "simulate",
        help="every clock a request would run, with targets and due instants",
        description="Print every metric of the regulation for a request: its target, the "
        "calendar it counts on, when it is due, and the counted intervals. Metrics that "
        "promise nothing are listed as such.",
        epilog=f"example: {SIMULATE_EXAMPLE}",
    )
    simulate.add_argument("--regulation", required=True, metavar="FILE_OR_ID")
    simulate.add_argument("--version", type=int, help="a loaded version number (default: latest)")
    simulate.add_argument("--tariff", required=True)
    simulate.add_argument("--priority", help="critical, high, medium or low")
    simulate.add_argument("--impact", help="derive the priority: the impact answer (R3.1)")
    simulate.add_argument("--workaround", help="derive the priority: the workaround answer")
    simulate.add_argument("--line", type=int, default=1, choices=(1, 2, 3))
    simulate.add_argument("--category", help="business-process category id")
    simulate.add_argument("--type", dest="type", help="request type id (defect, consultation…)")
    simulate.add_argument(
        "--attr", action="append", default=[], metavar="NAME=VALUE", help="contract attribute"
    )
    simulate.add_argument("--out-of-scope", action="store_true", help="flagged out of scope (R1.7)")
    simulate.add_argument("--received", required=True, metavar="INSTANT")
    simulate.add_argument(
        "--pause",
        action="append",
        default=[],
        metavar="START/END",
        help="time spent waiting for the customer (repeatable)",
    )
    simulate.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="NAME=INSTANT",
        help=f"when another event happened: {', '.join(EVENTS[2:])}",
    )
    simulate.add_argument("--lang", choices=("ru", "en"), default="ru")
    simulate.add_argument("--json", action="store_true", help="machine-readable output")
    simulate.set_defaults(handler=_simulate)

    from reglament.cli.ticket import add_sweep_command

    add_sweep_command(sla_actions)


# ----------------------------------------------------------------------------- handlers
def _check(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        try:
            regulation = load_regulation_file(name)
        except RegulationInvalid as error:
            failed += 1
            for problem in error.problems:
                print(problem, file=sys.stderr)
            continue
        print(
            f"{name}: ok — {regulation.id}, {len(regulation.tariffs)} tariffs, "
            f"{len(regulation.metrics)} metrics, {len(regulation.services)} services"
        )
    if failed:
        print(f"{failed} of {len(args.files)} files have problems.", file=sys.stderr)
    return 1 if failed else 0


def _show(args: argparse.Namespace) -> int:
    try:
        regulation = resolve(args.regulation, args.version)
    except (RegulationInvalid, UsageError) as error:
        print(f"reglament regulation show: error: {error}", file=sys.stderr)
        return 1 if isinstance(error, RegulationInvalid) else USAGE_ERROR
    sys.stdout.write(render(regulation, lang=args.lang, fmt=args.format))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    try:
        regulation = resolve(args.regulation, args.version)
        case = _case(args, regulation)
        received = parse_instant(args.received, "--received")
        pauses = parse_pauses(args.pause)
        events = _events(args.event)
        clocks = regulation.simulate(case, received=received, pauses=pauses, events=events)
    except RegulationInvalid as error:
        print(f"reglament sla simulate: error: {error}", file=sys.stderr)
        return 1
    except (UsageError, DomainError) as error:
        print(f"reglament sla simulate: error: {error}", file=sys.stderr)
        print(f"example: {SIMULATE_EXAMPLE}", file=sys.stderr)
        return USAGE_ERROR
    if args.json:
        payload = {
            "regulation": regulation.id,
            "digest": regulation.digest,
            "case": {
                "tariff": case.tariff,
                "priority": case.priority,
                "line": case.line,
                "type": case.type,
                "category": case.category,
                "attributes": dict(case.attributes),
                "out_of_scope": case.out_of_scope,
            },
            "received": received.isoformat(),
            "clocks": [clock_json(clock, regulation) for clock in clocks],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_clocks(regulation, case, clocks, args.lang)
    return 0


# ------------------------------------------------------------------------------ helpers
def resolve(name: str, version: int | None = None) -> Regulation:
    """A regulation from a file path, or from the database by id."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if version is not None:
            raise UsageError("--version applies to loaded regulations, not to files.")
        if not path.exists():
            raise UsageError(f"There is no file {name!r}.")
        return load_regulation_file(path)
    from reglament.cli import setup_django

    setup_django()
    from reglament.regulations.selectors import regulation_version_get

    found = regulation_version_get(regulation_id=name, number=version)
    if found is None:
        raise UsageError(
            f"No regulation {name!r}{f' version {version}' if version else ''} is loaded; "
            "give a .yaml file or load it with 'reglament regulation load FILE'."
        )
    return found.parsed()


def _case(args: argparse.Namespace, regulation: Regulation) -> Case:
    priority = args.priority
    if args.impact or args.workaround:
        if priority:
            raise UsageError("Give either --priority or --impact with --workaround, not both.")
        if not (args.impact and args.workaround):
            raise UsageError("--impact and --workaround go together.")
        priority = regulation.derive_priority(impact=args.impact, workaround=args.workaround)
    if priority is None:
        category = regulation.category(args.category) if args.category else None
        priority = (
            category.default_priority
            if category and category.default_priority
            else regulation.default_priority
        )
    return Case(
        tariff=args.tariff,
        priority=priority,
        line=args.line,
        type=args.type,
        category=args.category,
        attributes=_attributes(args.attr),
        out_of_scope=args.out_of_scope,
    )


def _attributes(texts: list[str]) -> dict[str, object]:
    attributes: dict[str, object] = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--attr {text!r} must look like cash_registers=60.")
        value: object = raw.strip()
        try:
            number = Decimal(raw.strip())
        except InvalidOperation:
            pass
        else:
            value = int(number) if number == number.to_integral_value() else float(number)
        attributes[name.strip()] = value
    return attributes


def _events(texts: list[str]) -> dict[str, datetime]:
    events: dict[str, datetime] = {}
    for text in texts:
        name, sep, moment = text.partition("=")
        if not sep or name not in EVENTS:
            raise UsageError(
                f"--event {text!r} must be NAME=INSTANT with NAME one of {', '.join(EVENTS)}."
            )
        events[name] = parse_instant(moment, f"--event {name}")
    return events


def clock_json(clock: Clock, regulation: Regulation) -> dict[str, Any]:
    target = clock.target
    duration = target.duration if target is not None else None
    return {
        "metric": clock.metric,
        "title": {"ru": clock.title.ru, "en": clock.title.en},
        "applies": clock.applies,
        "promise": clock.promise,
        "target": None
        if target is None
        else {
            "ru": format_target(duration, "ru"),
            "en": format_target(duration, "en"),
            "seconds": None
            if duration is None or isinstance(duration, WorkingDays)
            else int(duration.total_seconds()),
            "working_days": duration.count if isinstance(duration, WorkingDays) else None,
            "note": None if target.note is None else {"ru": target.note.ru, "en": target.note.en},
        },
        "calendar": None if target is None else target.calendar,
        "starts_on": clock.starts_on,
        "stops_on": clock.stops_on,
        "start": None if clock.start is None else clock.start.isoformat(),
        "due": None if clock.due is None else clock.due.isoformat(),
        "paused_by_waiting": clock.paused,
        "provisional": clock.provisional,
        "counted": [] if clock.explanation is None else intervals_json(clock.explanation.counted),
        "paused": [] if clock.explanation is None else intervals_json(clock.explanation.paused),
    }


def _print_clocks(regulation: Regulation, case: Case, clocks: tuple[Clock, ...], lang: str) -> None:
    ru = lang == "ru"
    print(
        f"{regulation.title.get(lang)} — {regulation.tariff(case.tariff).title.get(lang)}, "
        f"{'приоритет' if ru else 'priority'} {case.priority}, "
        f"{'линия' if ru else 'line'} {case.line}"
        + (f", {case.category}" if case.category else "")
        + (f", {case.type}" if case.type else "")
    )
    for clock in clocks:
        title = clock.title.get(lang)
        if not clock.applies:
            print(f"  {title}: {'не применяется' if ru else 'does not apply'}")
            continue
        if clock.target is None:
            continue
        target = format_target(clock.target.duration, lang)
        if not clock.promise:
            print(f"  {title}: {target}")
            continue
        calendar = clock.target.calendar
        if clock.due is None:
            waiting = f"ждёт события {clock.starts_on}" if ru else f"starts on {clock.starts_on}"
            print(f"  {title}: {target} [{calendar}] — {waiting}")
            continue
        mark = (" (предварительно)" if ru else " (provisional)") if clock.provisional else ""
        print(f"  {title}: {target} [{calendar}] → {clock.due.isoformat()}{mark}")
        explanation = clock.explanation
        for interval in explanation.counted if explanation else ():
            print(f"      {interval.start.isoformat()} – {interval.end.isoformat()}")
        for interval in explanation.paused if explanation else ():
            paused = "пауза" if ru else "paused"
            print(f"      {paused}: {interval.start.isoformat()} – {interval.end.isoformat()}")
        if clock.target.note is not None:
            print(f"      {clock.target.note.get(lang)}")
