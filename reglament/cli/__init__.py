"""The `reglament` command.

Every subcommand is a parser whose handler is set with
`set_defaults(handler=func)`, `func(args) -> int` being the exit code. Django
is imported only inside the handlers that need it, so `reglament --help` and
pure commands such as `reglament calendar` start fast and need no settings.
"""

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from reglament import __version__

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def port_number(value: str) -> int:
    """An argparse type: a TCP port, 1–65535."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 1 and 65535")
    return port


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _add_address_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="port to listen on (default: %(default)s)",
    )


def setup_django() -> None:
    """Configure Django for a command that needs it (settings chosen by REGLAMENT_ENV)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _run(args: argparse.Namespace) -> int:
    from reglament.cli.processes import run_supervised

    return run_supervised(
        host=args.host, port=args.port, migrate=not args.no_migrate, demo=args.demo
    )


def _web(args: argparse.Namespace) -> int:
    from reglament.cli.processes import serve_web

    return serve_web(host=args.host, port=args.port, processes=args.processes)


def _worker(args: argparse.Namespace) -> int:
    from reglament.cli.processes import serve_worker

    return serve_worker(interval=args.interval)


def _migrate(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    return 0


def _check(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=args.deploy, fail_level="WARNING" if args.strict else "ERROR")
    except SystemCheckError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _demo_load(args: argparse.Namespace) -> int:
    from reglament.cli.regulation_db import demo_load

    return demo_load(directory=args.directory)


def _manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["reglament manage", *args.arguments])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reglament",
        description="Reglament: a service desk that runs support regulations exactly.",
    )
    parser.add_argument("--version", action="version", version=f"reglament {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    commands.required = True

    run = commands.add_parser(
        "run",
        help="migrate, then run the web server and one worker until Ctrl-C",
        description=(
            "Apply migrations, then start the web server and one background worker "
            "as child processes. Ctrl-C or SIGTERM stops both; if either dies, the "
            "other is stopped and the exit code is non-zero."
        ),
    )
    _add_address_arguments(run)
    run.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
    run.add_argument(
        "--demo",
        action="store_true",
        help="load the shipped regulations and demo data first, and print the demo logins",
    )
    run.set_defaults(handler=_run)

    web = commands.add_parser(
        "web",
        help="serve the web UI and the API (ASGI, uvicorn)",
        description="Serve the web UI and the JSON API with uvicorn. Stops on SIGTERM.",
    )
    _add_address_arguments(web)
    web.add_argument(
        "--processes",
        type=_positive_int,
        default=1,
        help=(
            "web processes sharing the port; each serves one request at a time on one "
            "database connection, so use about one per core (default: %(default)s)"
        ),
    )
    web.set_defaults(handler=_web)

    worker = commands.add_parser(
        "worker",
        help="run background tasks, the SLA sweeper and the worker heartbeat",
        description=(
            "Take background tasks from the database queue and run them: notifications, "
            "the SLA sweeper (records warnings and breaches as they fall due, every "
            "REGLAMENT_SLA_SWEEP_SECONDS) and the worker heartbeat that health reports. "
            "Several workers may run side by side."
        ),
    )
    worker.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="seconds to wait when the queue is empty (default: %(default)s)",
    )
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser(
        "migrate",
        help="apply database migrations",
        description="Create or update the database schema.",
    )
    migrate.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=1)
    migrate.set_defaults(handler=_migrate)

    check = commands.add_parser(
        "check",
        help="run Django's system checks on the configuration",
        description="Run Django's system checks; exit code 1 if any fails.",
    )
    check.add_argument("--deploy", action="store_true", help="also run deployment checks")
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.set_defaults(handler=_check)

    demo = commands.add_parser(
        "demo",
        help="demo data: the shipped regulations, organisations and a login per role",
        description="Demo data for trying Reglament out.",
    )
    demo_actions = demo.add_subparsers(title="actions", metavar="ACTION", dest="action")
    demo_actions.required = True
    demo_load = demo_actions.add_parser(
        "load",
        help="load the regulations in regulations/ and create the demo (idempotent)",
        description="Load every regulation file in regulations/ as a version, then create a "
        "vendor, customers on different tariffs, a partner with two clients, and a login "
        "for every role; print the logins. Running it again changes nothing.",
    )
    demo_load.add_argument(
        "--directory",
        type=Path,
        default=None,
        help="where the regulation files are (default: regulations/ of this project)",
    )
    demo_load.set_defaults(handler=_demo_load)

    manage = commands.add_parser(
        "manage",
        help="run any Django management command (e.g. collectstatic, createsuperuser)",
        description="Pass the remaining arguments to Django's manage.py.",
        add_help=False,
    )
    manage.add_argument("arguments", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=_manage)

    from reglament.cli import calendar, estimate, kb, mailbox, regulation, ticket, token, usage

    calendar.register(commands)
    estimate.register(commands)
    kb.register(commands)
    regulation.register(commands)
    ticket.register(commands)
    token.register(commands)
    usage.register(commands)
    mailbox.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and hasattr(signal, "SIGPIPE"):
        # `reglament … | head` ends quietly, as other shell tools do.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:  # a subcommand registered without a handler
        parser.error(f"the command {args.command!r} is not available")
    return int(handler(args))
