"""`reglament mailbox …`: the mailboxes mail arrives in, polling them, an SMTP listener.

    MAIL_PASSWORD=… reglament mailbox add support --address support@vendor.example \\
        --regulation cera --imap-host imap.vendor.example --username support \\
        --password-env MAIL_PASSWORD
    reglament mailbox list
    reglament mailbox show support
    reglament mailbox poll support            # one poll now; prints what was stored
    reglament mailbox process --mailbox support   # stored mail into requests and replies
    reglament mailbox update support --processed-folder Processed
    reglament mailbox listen --mailbox support --port 2525

Passwords and tokens are read from an environment variable or standard input,
never from the command line (where `ps` and the shell history would keep them),
and are never printed back. Exit codes: 0 done; 1 refused (no such mailbox, the
poll failed: the error says what to fix); 2 a wrong argument or setting.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from reglament.cli import port_number
from reglament.cli.calendar import UsageError
from reglament.cli.ticket import guarded

if TYPE_CHECKING:
    from reglament.mailbox.models import Mailbox

SECURITY = ("ssl", "starttls", "none")
UNKNOWN_SENDER = ("triage", "instructions")


def _bytes_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of bytes") from None
    return count


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mailbox = subparsers.add_parser(
        "mailbox",
        help="mailboxes mail arrives in: add, list, show, update, poll, process, listen",
        description="Mailboxes whose mail becomes requests under a regulation: IMAP polling "
        "and an SMTP listener. Every message is stored before it is acknowledged; see "
        "docs/mail.md. Exit codes: 0 done, 1 refused or the poll failed, 2 a wrong argument.",
    )
    actions = mailbox.add_subparsers(title="actions", metavar="ACTION", dest="action")
    actions.required = True

    add = actions.add_parser(
        "add",
        help="add a mailbox",
        description="Add a mailbox. With --imap-host it is polled by 'reglament worker'; "
        "with --smtp-listen the worker accepts its mail from your MTA over SMTP (either, "
        "or both). The password or token comes from an environment variable or standard "
        "input.",
    )
    add.add_argument("name", metavar="NAME", help="short name, e.g. support")
    add.add_argument("--address", required=True, help="the address customers write to")
    add.add_argument("--regulation", required=True, metavar="ID", help="e.g. cera")
    _settings_arguments(add, adding=True)
    add.set_defaults(handler=guarded("mailbox add", _add))

    update = actions.add_parser(
        "update",
        help="change a mailbox's settings (the others are kept)",
        description="Change the settings given; the others stay as they are.",
    )
    update.add_argument("name", metavar="NAME")
    update.add_argument("--address")
    update.add_argument("--regulation", metavar="ID")
    _settings_arguments(update, adding=False)
    state = update.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="enabled", action="store_const", const=True)
    state.add_argument("--disable", dest="enabled", action="store_const", const=False)
    update.set_defaults(handler=guarded("mailbox update", _update))

    list_ = actions.add_parser("list", help="the mailboxes and how their last poll went")
    list_.add_argument("--json", action="store_true", help="one JSON array")
    list_.set_defaults(handler=guarded("mailbox list", _list))

    show = actions.add_parser("show", help="one mailbox: settings, poll state, latest messages")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(handler=guarded("mailbox show", _show))

    poll = actions.add_parser(
        "poll",
        help="poll a mailbox once now and print what was stored",
        description="Fetch the new messages, store each, then flag it seen (or move it). "
        "Exit code 1 when the server refused or could not be reached.",
    )
    poll.add_argument("name", metavar="NAME")
    poll.add_argument("--batch", type=int, default=None, metavar="N", help="at most N messages")
    poll.set_defaults(handler=guarded("mailbox poll", _poll))

    process = actions.add_parser(
        "process",
        help="turn stored mail into requests and replies now",
        description="Process the stored messages (of one mailbox, or of all): each becomes a "
        "request, a reply, a note on a request, or a row that says why not. Each message "
        "is its own transaction; a failure is recorded on the message and tried again "
        "later. Exit code 1 when a message failed.",
    )
    process.add_argument("--mailbox", metavar="NAME", help="only this mailbox's messages")
    process.add_argument("--limit", type=int, default=None, metavar="N", help="at most N")
    process.add_argument(
        "--retry-exhausted",
        action="store_true",
        help="also retry messages that failed REGLAMENT_MAIL_PROCESS_ATTEMPTS times",
    )
    process.add_argument("--json", action="store_true", help="one JSON array of outcomes")
    process.set_defaults(handler=guarded("mailbox process", _process))

    outbox = actions.add_parser(
        "outbox",
        help="the mail Reglament sent or could not send",
        description="Outgoing mail, newest first: of one request, or what failed for good. "
        "Each line: id, state, kind, address, request, and why it was skipped or the "
        "last error.",
    )
    which = outbox.add_mutually_exclusive_group(required=True)
    which.add_argument("--ticket", metavar="NUMBER", help="the mail about one request")
    which.add_argument("--failed", action="store_true", help="every message that failed")
    outbox.add_argument("--json", action="store_true", help="one JSON array")
    outbox.set_defaults(handler=guarded("mailbox outbox", _outbox))

    resend = actions.add_parser(
        "resend",
        help="queue a failed message again",
        description="Queue a message that failed (see 'reglament mailbox outbox --failed') "
        "again, e.g. after the address or the mail server was fixed; the worker sends it.",
    )
    resend.add_argument("id", type=int, metavar="ID")
    resend.set_defaults(handler=guarded("mailbox resend", _resend))

    listen = actions.add_parser(
        "listen",
        help="run an SMTP server an MTA delivers a mailbox's mail into",
        description="Accept mail for one mailbox over SMTP until Ctrl-C or SIGTERM. Each "
        "message is answered 250 once stored, 451 if it could not be (the MTA retries), "
        "552 if it is over the mailbox's size limit. No authentication: keep it on "
        "127.0.0.1 or a private address.",
    )
    listen.add_argument("--mailbox", required=True, metavar="NAME")
    listen.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    listen.add_argument("--port", type=port_number, default=2525, help="default: %(default)s")
    listen.set_defaults(handler=guarded("mailbox listen", _listen))


def _settings_arguments(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("--imap-host", metavar="HOST")
    parser.add_argument(
        "--imap-port", type=port_number, metavar="PORT", help="993 for ssl, else 143"
    )
    parser.add_argument("--security", choices=SECURITY, help="default ssl; none: loopback only")
    parser.add_argument("--username", metavar="LOGIN", help="the IMAP login")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
    secret.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    secret.add_argument("--token-env", metavar="VAR", help="an OAuth2 token (XOAUTH2) from $VAR")
    secret.add_argument("--token-stdin", action="store_true", help="an OAuth2 token from stdin")
    parser.add_argument("--folder", help="the folder to poll (default INBOX)")
    parser.add_argument(
        "--processed-folder", metavar="FOLDER", help="move stored messages here ('' to flag seen)"
    )
    parser.add_argument(
        "--smtp-listen",
        metavar="HOST:PORT",
        help="'reglament worker' accepts this mailbox's mail from your MTA there, "
        "e.g. 127.0.0.1:2525 ('' for none)",
    )
    parser.add_argument("--unknown-sender", choices=UNKNOWN_SENDER, help="default triage")
    parser.add_argument(
        "--max-bytes", type=_bytes_count, metavar="N", help="largest message (default 25 MiB)"
    )
    if adding:
        parser.add_argument("--disabled", action="store_true", help="add it, do not poll yet")


# ----------------------------------------------------------------------------- handlers
def _add(args: argparse.Namespace) -> None:
    from reglament.mailbox import services

    changes = _changes(args)
    mailbox = services.mailbox_add(
        name=args.name,
        address=args.address,
        regulation=args.regulation,
        enabled=not args.disabled,
        **changes,
    )
    _out(f"mailbox {mailbox.name} added: {_where(mailbox)}")


def _update(args: argparse.Namespace) -> None:
    from reglament.mailbox import selectors, services

    mailbox = selectors.mailbox_get(name=args.name)
    changes = _changes(args)
    for option in ("address", "regulation", "enabled"):
        if getattr(args, option) is not None:
            changes[option] = getattr(args, option)
    services.mailbox_update(mailbox=mailbox, **changes)
    _out(f"mailbox {mailbox.name} updated: {_where(mailbox)}")


def _list(args: argparse.Namespace) -> None:
    from reglament.mailbox import selectors

    rows = [_data(mailbox) for mailbox in selectors.mailbox_list()]
    if args.json:
        _out(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        _out("No mailboxes yet; add one with 'reglament mailbox add'.")
    for row in rows:
        state = "disabled" if not row["enabled"] else _poll_state(row)
        _out(f"{row['name']:<16} {row['address']:<32} {row['regulation']:<12} {state}")


def _show(args: argparse.Namespace) -> None:
    from reglament.mailbox import selectors

    mailbox = selectors.mailbox_get(name=args.name)
    data = _data(mailbox)
    data["messages"] = selectors.inbound_counts(mailbox=mailbox)
    data["latest"] = [
        {
            "id": row.pk,
            "received_at": row.received_at.isoformat(),
            "channel": row.channel,
            "uid": row.uid,
            "message_id": row.message_id,
            "size": row.size,
            "state": row.state,
            "error": row.error,
        }
        for row in selectors.inbound_list(mailbox=mailbox, limit=10)
    ]
    if args.json:
        _out(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key, value in data.items():
        if key == "latest":
            continue
        _out(f"{key + ':':<18} {value}")
    for row in data["latest"]:
        _out(
            f"  #{row['id']} {row['received_at']} {row['channel']} uid={row['uid']} "
            f"{row['state']} {row['size']} B {row['message_id']}"
        )


def _poll(args: argparse.Namespace) -> None:
    from reglament.mailbox import selectors
    from reglament.mailbox.imap import mailbox_poll

    mailbox = selectors.mailbox_get(name=args.name)
    if not mailbox.imap_host:
        raise UsageError(
            f"mailbox {mailbox.name} has no IMAP host to poll; give one with "
            f"'reglament mailbox update {mailbox.name} --imap-host HOST …', or deliver into it "
            "with 'reglament mailbox listen'."
        )
    if args.batch is not None and args.batch < 1:
        raise UsageError(f"--batch {args.batch}: give 1 or more messages.")
    result = mailbox_poll(mailbox, batch=args.batch)
    if not result.ok:
        from reglament.mailbox.errors import MailPollFailedError

        raise MailPollFailedError(result.error, details={"mailbox": mailbox.name})
    _out(result.summary())


def _process(args: argparse.Namespace) -> None:
    from reglament.mailbox import selectors
    from reglament.mailbox.intake import inbound_process_pending

    mailbox = selectors.mailbox_get(name=args.mailbox) if args.mailbox else None
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: give 1 or more messages.")
    outcomes = inbound_process_pending(
        mailbox=mailbox, limit=args.limit, exhausted=args.retry_exhausted
    )
    if args.json:
        _out(
            json.dumps(
                [
                    {
                        "id": o.message,
                        "state": o.state,
                        "outcome": o.outcome,
                        "ticket": o.ticket,
                        "reason": o.reason,
                    }
                    for o in outcomes
                ],
                ensure_ascii=False,
            )
        )
    else:
        for o in outcomes:
            _out(f"#{o.message} {o.state} {o.outcome or '-'} {o.ticket or '-'} {o.reason}")
        _out(f"{len(outcomes)} processed")
    failed = sum(1 for o in outcomes if o.state == "failed")
    if failed:
        from reglament.mailbox.errors import MailProcessFailedError

        raise MailProcessFailedError(
            f"{failed} of {len(outcomes)} messages failed; see 'reglament mailbox show'.",
            details={"failed": failed},
        )


def _outbox(args: argparse.Namespace) -> None:
    from reglament.core.errors import NotFoundError
    from reglament.mailbox import selectors
    from reglament.tickets.models import Ticket

    if args.ticket:
        ticket = Ticket.objects.filter(number=args.ticket).first()
        if ticket is None:
            raise NotFoundError(
                f"--ticket {args.ticket}: there is no such request; give a number such as "
                "CERA-2026-000123.",
                details={"ticket": args.ticket},
            )
        rows = list(reversed(selectors.outbound_for_ticket(ticket_id=ticket.pk)))
    else:
        rows = list(selectors.outbound_failed().select_related("ticket")[:200])
    items = [
        {
            "id": row.pk,
            "state": row.state,
            "kind": row.kind,
            "to": row.to_address,
            "ticket": row.ticket.number if row.ticket_id and row.ticket else None,
            "subject": row.subject,
            "attempts": row.attempts,
            "why": row.skip_reason or row.last_error,
            "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        }
        for row in rows
    ]
    if args.json:
        _out(json.dumps(items, ensure_ascii=False))
        return
    for item in items:
        _out(
            f"#{item['id']} {item['state']} {item['kind']} {item['to'] or '-'} "
            f"{item['ticket'] or '-'} {item['why']}".rstrip()
        )
    _out(f"{len(items)} messages")


def _resend(args: argparse.Namespace) -> None:
    from reglament.core.errors import NotFoundError
    from reglament.mailbox.models import OutboundMessage
    from reglament.mailbox.outgoing import outbound_retry

    row = OutboundMessage.objects.filter(pk=args.id).first()
    if row is None:
        raise NotFoundError(
            f"{args.id}: there is no outgoing message with this id; see "
            "'reglament mailbox outbox --failed'.",
            details={"id": args.id},
        )
    if row.state != OutboundMessage.State.FAILED:
        raise UsageError(
            f"{args.id}: the message is {row.state}, not failed; only a failed message is "
            "queued again."
        )
    row = outbound_retry(outbound=row)
    _out(f"#{row.pk} {row.state}: the worker sends it to {row.to_address}")


def _listen(args: argparse.Namespace) -> None:
    from reglament.mailbox import selectors
    from reglament.mailbox.smtp import listener

    mailbox = selectors.mailbox_get(name=args.mailbox)
    controller, handler = listener(mailbox, host=args.host, port=args.port)
    try:
        controller.start()
    except (OSError, RuntimeError) as error:
        raise UsageError(
            f"--host {args.host} --port {args.port}: cannot listen there ({error}); "
            "choose a free port or an address of this machine."
        ) from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    _out(
        f"mailbox {mailbox.name}: SMTP on {args.host}:{args.port}, up to {mailbox.max_bytes} "
        "bytes a message; Ctrl-C stops",
    )
    try:
        stop.wait()
    finally:
        controller.stop()
        handler.close()


# ------------------------------------------------------------------------------ helpers
def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (None: not given), with the secret read."""
    changes: dict[str, Any] = {}
    for option in (
        "imap_host",
        "imap_port",
        "security",
        "username",
        "folder",
        "processed_folder",
        "smtp_listen",
        "unknown_sender",
        "max_bytes",
    ):
        value = getattr(args, option)
        if value is not None:
            changes[option] = value
    if args.password_env or args.password_stdin:
        changes["auth"] = "password"
        changes["secret"] = _secret(args.password_env, "--password-env", "--password-stdin")
    elif args.token_env or args.token_stdin:
        changes["auth"] = "xoauth2"
        changes["secret"] = _secret(args.token_env, "--token-env", "--token-stdin")
    return changes


def _secret(variable: str | None, env_option: str, stdin_option: str) -> str:
    if variable:
        value = os.environ.get(variable, "")
        if not value:
            raise UsageError(
                f"{env_option} {variable}: the environment variable is not set or empty; "
                f"export it first, or pipe the secret into {stdin_option}."
            )
        return value
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise UsageError(f"{stdin_option}: standard input gave an empty line; pipe the secret in.")
    return value


def _where(mailbox: Mailbox) -> str:
    ways = []
    if mailbox.imap_host:
        ways.append(
            f"{mailbox.security} "
            f"{mailbox.username}@{mailbox.imap_host}:{mailbox.imap_port}/{mailbox.folder}"
        )
    if mailbox.smtp_listen:
        ways.append(f"SMTP listener on {mailbox.smtp_listen} (under 'reglament worker')")
    if not ways:
        ways.append("no IMAP and no SMTP listener yet: only 'reglament mailbox listen'")
    return f"{mailbox.address} → {mailbox.regulation_id}, " + "; ".join(ways)


def _data(mailbox: Mailbox) -> dict[str, Any]:
    from reglament.mailbox.selectors import secret_masked

    return {
        "name": mailbox.name,
        "address": mailbox.address,
        "regulation": mailbox.regulation_id,
        "enabled": mailbox.enabled,
        "imap_host": mailbox.imap_host,
        "imap_port": mailbox.imap_port,
        "security": mailbox.security,
        "username": mailbox.username,
        "auth": mailbox.auth,
        "secret": secret_masked(mailbox.secret),
        "folder": mailbox.folder,
        "processed_folder": mailbox.processed_folder,
        "smtp_listen": mailbox.smtp_listen,
        "unknown_sender": mailbox.unknown_sender,
        "max_bytes": mailbox.max_bytes,
        "uidvalidity": mailbox.uidvalidity,
        "last_uid": mailbox.last_uid,
        "last_poll_at": mailbox.last_poll_at.isoformat() if mailbox.last_poll_at else None,
        "last_poll_ok": mailbox.last_poll_ok,
        "last_poll_error": mailbox.last_poll_error,
        "last_poll_stored": mailbox.last_poll_stored,
    }


def _poll_state(row: dict[str, Any]) -> str:
    if not row["imap_host"]:
        return f"SMTP on {row['smtp_listen']}" if row["smtp_listen"] else "SMTP only"
    if row["last_poll_at"] is None:
        return "not polled yet"
    if row["last_poll_ok"]:
        return f"polled {row['last_poll_at']}: {row['last_poll_stored']} stored"
    return f"FAILING since {row['last_poll_at']}: {row['last_poll_error']}"
