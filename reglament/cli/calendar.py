"""`reglament calendar …`: ask the business-time engine from the shell.

    reglament calendar deadline --schedule "mon-fri 10:00-19:00" --timezone Europe/Moscow \\
        --country RU --from 2024-12-27T18:00:00+03:00 --hours 4
    2024-12-28T13:00:00+03:00

Pure: no Django, no database. Bad arguments print what was wrong and an example
of a correct command, with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from reglament.domain.calendar import (
    DateOverride,
    Explanation,
    Interval,
    WorkCalendar,
    WorkingDays,
    holiday_source,
)
from reglament.domain.errors import DomainError

USAGE_ERROR = 2
EXAMPLES = {
    "deadline": (
        'reglament calendar deadline --schedule "mon-fri 10:00-19:00" --timezone Europe/Moscow '
        "--country RU --from 2024-12-27T18:00:00+03:00 --hours 4"
    ),
    "elapsed": (
        'reglament calendar elapsed --schedule "mon-fri 10:00-19:00" --timezone Europe/Moscow '
        "--country RU --from 2024-12-27T10:00:00+03:00 --to 2024-12-28T19:00:00+03:00 "
        "--pause 2024-12-27T15:00:00+03:00/2024-12-28T12:00:00+03:00"
    ),
    "days": (
        'reglament calendar days --schedule "mon-fri 10:00-19:00" --country RU '
        "--from 2024-12-25 --to 2025-01-10"
    ),
}


class UsageError(Exception):
    """A command-line argument is wrong; the message says which and how."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calendar = subparsers.add_parser(
        "calendar",
        help="compute deadlines and elapsed business time on a working calendar",
        description=(
            "Ask the business-time engine: when is something due, how much business time "
            "passed, which days work. Times are exact to the second; instants need a UTC "
            "offset, e.g. 2024-12-27T18:00:00+03:00."
        ),
    )
    actions = calendar.add_subparsers(title="questions", metavar="QUESTION", dest="question")
    actions.required = True

    deadline = actions.add_parser(
        "deadline",
        help="when is a duration of business time reached from an instant",
        description="Print the deadline: the earliest instant at which the business time "
        "since --from, minus business time inside pauses, reaches the duration.",
        epilog=f"example: {EXAMPLES['deadline']}",
    )
    _calendar_arguments(deadline)
    deadline.add_argument(
        "--from", dest="start", required=True, metavar="INSTANT", help="start, ISO 8601 with offset"
    )
    amount = deadline.add_mutually_exclusive_group(required=True)
    amount.add_argument("--minutes", metavar="N", help="business minutes (decimals allowed)")
    amount.add_argument("--hours", metavar="N", help="business hours (decimals allowed)")
    amount.add_argument("--days", metavar="N", help="working days (a whole number)")
    _pause_and_json(deadline)
    deadline.set_defaults(handler=_deadline)

    elapsed = actions.add_parser(
        "elapsed",
        help="how much business time lies between two instants",
        description="Print the business time in [--from, --to] outside pauses, as H:MM:SS "
        "(or in minutes, hours, or working days plus the rest).",
        epilog=f"example: {EXAMPLES['elapsed']}",
    )
    _calendar_arguments(elapsed)
    elapsed.add_argument(
        "--from", dest="start", required=True, metavar="INSTANT", help="start, ISO 8601 with offset"
    )
    elapsed.add_argument(
        "--to", dest="end", required=True, metavar="INSTANT", help="end, ISO 8601 with offset"
    )
    unit = elapsed.add_mutually_exclusive_group()
    unit.add_argument("--minutes", action="store_true", help="print decimal minutes")
    unit.add_argument("--hours", action="store_true", help="print decimal hours")
    unit.add_argument("--days", action="store_true", help="print whole working days and the rest")
    _pause_and_json(elapsed)
    elapsed.set_defaults(handler=_elapsed)

    days = actions.add_parser(
        "days",
        help="list each date's working hours (holidays, working Saturdays, overrides)",
        description="Print every date in [--from, --to] with its working hours after "
        "holidays, transferred days and overrides, so a calendar can be checked by eye.",
        epilog=f"example: {EXAMPLES['days']}",
    )
    _calendar_arguments(days)
    days.add_argument(
        "--from", dest="start", required=True, metavar="DATE", help="first date, YYYY-MM-DD"
    )
    days.add_argument(
        "--to", dest="end", required=True, metavar="DATE", help="last date, YYYY-MM-DD"
    )
    days.add_argument("--json", action="store_true", help="machine-readable output")
    days.set_defaults(handler=_days)


def _calendar_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--schedule",
        required=True,
        help='weekly hours, e.g. "mon-fri 10:00-19:00", "mon-fri 09:00-13:00,14:00-18:00", '
        '"mon-fri 22:00-06:00" or "always" (24/7)',
    )
    parser.add_argument(
        "--timezone", default="Europe/Moscow", help="IANA time zone (default: %(default)s)"
    )
    parser.add_argument(
        "--country",
        default="RU",
        help="holidays: RU (the Russian production calendar), another ISO code, or none "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="DATE=HOURS",
        help="a date's own hours: 2025-12-31=off, 2025-12-27=work, 2025-12-30=10:00-15:00 "
        "(repeatable)",
    )
    parser.add_argument(
        "--shortened-pre-holiday",
        action="store_true",
        help="shorten the day before a public holiday by one hour (Labour Code art. 95)",
    )


def _pause_and_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pause",
        action="append",
        default=[],
        metavar="START/END",
        help="a period whose business time does not count: two ISO instants joined by / "
        "(repeatable)",
    )
    parser.add_argument(
        "--json", action="store_true", help="machine-readable output with the counted intervals"
    )


# ----------------------------------------------------------------------------- handlers
def _deadline(args: argparse.Namespace) -> int:
    def run() -> None:
        calendar = _calendar(args)
        start = parse_instant(args.start, "--from")
        duration = _duration(args)
        result = calendar.deadline(start, duration, parse_pauses(args.pause))
        if args.json:
            _print_json(
                {
                    "due": result.due.isoformat(),
                    "start": _local(calendar, start),
                    "business_seconds": _seconds(result.business_time),
                    "duration": str(duration)
                    if isinstance(duration, WorkingDays)
                    else _hms(duration),
                    "provisional": result.provisional,
                    **_explanation(result.explanation),
                    "calendar": _describe(calendar),
                }
            )
        else:
            print(result.due.isoformat() + ("  (provisional)" if result.provisional else ""))

    return _guard("deadline", run)


def _elapsed(args: argparse.Namespace) -> int:
    def run() -> None:
        calendar = _calendar(args)
        start, end = parse_instant(args.start, "--from"), parse_instant(args.end, "--to")
        pauses = parse_pauses(args.pause)
        explanation = calendar.explain(start, end, pauses)
        total = explanation.total
        payload: dict[str, Any] = {
            "elapsed": _hms(total),
            "seconds": _seconds(total),
            "provisional": explanation.provisional,
        }
        if args.days:
            whole, rest = calendar.working_days_between(start, end, pauses)
            payload.update(working_days=whole, rest=_hms(rest))
            text = f"{whole} working day{'s' if whole != 1 else ''} + {_hms(rest)}"
        elif args.hours:
            text = _decimal(total / timedelta(hours=1))
        elif args.minutes:
            text = _decimal(total / timedelta(minutes=1))
        else:
            text = _hms(total)
        if args.json:
            _print_json({**payload, **_explanation(explanation), "calendar": _describe(calendar)})
        else:
            print(text + ("  (provisional)" if explanation.provisional else ""))

    return _guard("elapsed", run)


def _days(args: argparse.Namespace) -> int:
    def run() -> None:
        calendar = _calendar(args)
        first, last = _date(args.start, "--from"), _date(args.end, "--to")
        if last < first:
            raise UsageError(f"--to {last} is before --from {first}.")
        if (last - first).days > 3660:
            raise UsageError("Ask for at most ten years at a time.")
        rows: list[dict[str, Any]] = []
        day = first
        while day <= last:
            hours = calendar.hours_on(day)
            note = _day_note(calendar, day)
            rows.append(
                {
                    "date": day.isoformat(),
                    "weekday": day.strftime("%a"),
                    "hours": [str(r) for r in hours],
                    "working": bool(hours),
                    "note": note,
                    "provisional": calendar.horizon is not None and day.year > calendar.horizon,
                }
            )
            day += timedelta(days=1)
        if args.json:
            _print_json({"calendar": _describe(calendar), "days": rows})
            return
        for row in rows:
            hours_text = ",".join(row["hours"]) if row["working"] else "off"
            mark = "  (provisional)" if row["provisional"] else ""
            note = f"  {row['note']}" if row["note"] else ""
            print(f"{row['date']} {row['weekday']}  {hours_text:<24}{note}{mark}".rstrip())

    return _guard("days", run)


# ------------------------------------------------------------------------------ helpers
def _guard(question: str, run: Any) -> int:
    try:
        run()
    except (UsageError, DomainError) as error:
        print(f"reglament calendar {question}: error: {error}", file=sys.stderr)
        print(f"example: {EXAMPLES[question]}", file=sys.stderr)
        return USAGE_ERROR
    return 0


def _calendar(args: argparse.Namespace) -> WorkCalendar:
    return WorkCalendar(
        schedule=args.schedule,
        timezone=args.timezone,
        holidays=holiday_source(args.country),
        overrides=[DateOverride.parse(text) for text in args.override],
        shortened_pre_holiday=args.shortened_pre_holiday,
    )


def _day_note(calendar: WorkCalendar, day: date) -> str:
    if day in {o.day for o in calendar.overrides}:
        return "override"
    if calendar.holidays is None:
        return ""
    facts = calendar.holidays.year(day.year)
    if day in facts.working:
        return "working weekend day"
    if day in facts.days_off:
        return "holiday or transferred day off"
    if calendar.shortened_pre_holiday and day in facts.pre_holiday and calendar.hours_on(day):
        return "shortened pre-holiday day"
    return ""


def parse_instant(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not an ISO 8601 instant; "
            "write it like 2024-12-27T18:00:00+03:00."
        ) from None
    if value.tzinfo is None:
        raise UsageError(
            f"{option} {text!r} has no UTC offset, so the instant is ambiguous; "
            "write it like 2024-12-27T18:00:00+03:00."
        )
    offset = value.utcoffset()
    if offset is not None and abs(offset) > timedelta(hours=14):
        raise UsageError(
            f"{option} {text!r}: no time zone has that UTC offset; offsets run from "
            "-12:00 to +14:00, e.g. 2024-12-27T18:00:00+03:00."
        )
    return value


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date; write it like 2025-01-09.") from None


def _duration(args: argparse.Namespace) -> timedelta | WorkingDays:
    if args.days is not None:
        try:
            count = int(args.days)
        except ValueError:
            raise UsageError(
                f"--days {args.days!r} must be a whole number of working days."
            ) from None
        if count < 0:
            raise UsageError(f"--days {count} is negative; give 0 or more.")
        return WorkingDays(count)
    option, text, unit = (
        ("--hours", args.hours, 3600) if args.hours is not None else ("--minutes", args.minutes, 60)
    )
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise UsageError(
            f"{option} {text!r} is not a number; write e.g. {option} 4 or {option} 1.5."
        ) from None
    if not amount.is_finite() or amount < 0:
        raise UsageError(f"{option} {text!r} must be a number ≥ 0.")
    microseconds = amount * unit * 1_000_000
    if microseconds != microseconds.to_integral_value():
        raise UsageError(f"{option} {text!r} is finer than a microsecond.")
    return timedelta(microseconds=int(microseconds))


def parse_pauses(texts: list[str]) -> list[tuple[datetime, datetime]]:
    pauses = []
    for text in texts:
        first, sep, second = text.partition("/")
        if not sep:
            raise UsageError(
                f"--pause {text!r} needs two instants joined by '/', like "
                "2024-12-27T15:00:00+03:00/2024-12-28T12:00:00+03:00."
            )
        pauses.append((parse_instant(first, "--pause start"), parse_instant(second, "--pause end")))
    return pauses


def _hms(value: timedelta) -> str:
    micro = value // timedelta(microseconds=1)
    seconds, fraction = divmod(micro, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    text = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return text + (f".{fraction:06d}" if fraction else "")


def _seconds(value: timedelta) -> int | float:
    micro = value // timedelta(microseconds=1)
    return micro // 1_000_000 if micro % 1_000_000 == 0 else micro / 1_000_000


def _decimal(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _local(calendar: WorkCalendar, moment: datetime) -> str:
    return moment.astimezone(calendar.timezone).isoformat()


def intervals_json(items: tuple[Interval, ...]) -> list[dict[str, str]]:
    return [{"start": i.start.isoformat(), "end": i.end.isoformat()} for i in items]


def _explanation(explanation: Explanation) -> dict[str, Any]:
    return {
        "counted": intervals_json(explanation.counted),
        "paused": intervals_json(explanation.paused),
    }


def _describe(calendar: WorkCalendar) -> dict[str, Any]:
    return {
        "schedule": str(calendar.schedule),
        "timezone": calendar.timezone.key,
        "holidays": calendar.holidays.name if calendar.holidays is not None else None,
        "horizon": calendar.horizon,
        "shortened_pre_holiday": calendar.shortened_pre_holiday,
        "overrides": [str(o) for o in calendar.overrides],
    }


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))
