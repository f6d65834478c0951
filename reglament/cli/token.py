"""`reglament token …`: personal API tokens, from the server's shell.

    reglament token create --user agent1 --name "monitoring" --expires 2027-01-01T00:00:00+03:00
    rgl_1a2b3c4d_…            (the key alone on stdout; the notice goes to stderr)
    reglament token list --user agent1
    reglament token revoke 1a2b3c4d

Whoever has the server's shell administers the desk, so these commands take no
--as; each creation and revocation is recorded as an account event of the
token's owner. Only the key's SHA-256 is stored: a lost key is revoked and
replaced, never shown again. Exit codes as for `reglament ticket`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from reglament.cli.calendar import UsageError, parse_instant
from reglament.cli.ticket import EXIT_CODES, HelpFormatter, guarded, person

if TYPE_CHECKING:
    from datetime import datetime

    from reglament.accounts.models import ApiToken

LIST_JSON = """\
--json prints {"tokens": [...]}; each token has the stable keys prefix, user,
name, state (active, expired or revoked), created_at, expires_at, last_used_at,
revoked_at (ISO 8601, null when not set). Keys themselves are never shown."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = subparsers.add_parser(
        "token",
        help="personal API tokens: create (the key is shown once), list, revoke",
        description="Personal API tokens for scripts and integrations. " + EXIT_CODES + ".",
    )
    actions = token.add_subparsers(title="actions", metavar="ACTION", dest="action")
    actions.required = True

    create = actions.add_parser(
        "create",
        help="create a token and print its key, once",
        description="Create a token for a person and print its key alone on stdout (so "
        "KEY=$(reglament token create …) works), with a notice on stderr. The key "
        "cannot be shown again: only its SHA-256 is stored. Use it as "
        "'Authorization: Bearer KEY'; it acts with the person's rights.",
    )
    create.add_argument("--user", required=True, metavar="LOGIN", help="whose token")
    create.add_argument("--name", required=True, help="where it is used, e.g. 'monitoring'")
    create.add_argument(
        "--expires", metavar="INSTANT", help="expiry, ISO 8601 with offset (default: never)"
    )
    create.set_defaults(handler=guarded("token create", _create))

    listing = actions.add_parser(
        "list",
        help="tokens with their state and last use (never the keys)",
        description="List tokens, by person and newest first: prefix, owner, name, "
        "state, when created, expiring and last used.",
        epilog=LIST_JSON,
        formatter_class=HelpFormatter,
    )
    listing.add_argument("--user", metavar="LOGIN", help="only this person's tokens")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=guarded("token list", _list))

    revoke = actions.add_parser(
        "revoke",
        help="revoke a token at once, by its prefix",
        description="Revoke a token: it stops working at once. Give its prefix (from "
        "'reglament token list') or the whole key. Revoking twice changes nothing.",
    )
    revoke.add_argument("prefix", metavar="PREFIX", help="the token's prefix, or its whole key")
    revoke.set_defaults(handler=guarded("token revoke", _revoke))


# ----------------------------------------------------------------------------- handlers
def _create(args: argparse.Namespace) -> None:
    from reglament.accounts.services import token_create

    user = person(args.user, "--user")
    expires = parse_instant(args.expires, "--expires") if args.expires else None
    token, key = token_create(user=user, name=args.name, expires_at=expires)
    print(key)
    print(
        f"Created the token {token.name!r} (prefix {token.prefix}) for {user.get_username()}, "
        f"expiring {_instant(token.expires_at) or 'never'}.",
        file=sys.stderr,
    )
    print(
        "Copy the key now: it cannot be shown again. If it is lost, revoke it "
        f"('reglament token revoke {token.prefix}') and create another.",
        file=sys.stderr,
    )


def _list(args: argparse.Namespace) -> None:
    from reglament.accounts.models import ApiToken

    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if args.user:
        tokens = tokens.filter(user=person(args.user, "--user"))
    rows = [_token_json(token) for token in tokens]
    if args.json:
        print(json.dumps({"tokens": rows}, ensure_ascii=False, indent=2))
        return
    if not rows:
        print("No API tokens.")
        return
    headers = ["PREFIX", "USER", "NAME", "STATE", "CREATED", "EXPIRES", "LAST USED"]
    table = [
        [
            row["prefix"],
            row["user"],
            row["name"],
            row["state"],
            row["created_at"],
            row["expires_at"] or "never",
            row["last_used_at"] or "never",
        ]
        for row in rows
    ]
    widths = [max(len(row[i]) for row in [headers, *table]) for i in range(len(headers))]
    for row in [headers, *table]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _revoke(args: argparse.Namespace) -> None:
    from reglament.accounts.models import ApiToken
    from reglament.accounts.services import TOKEN_PREFIX, token_revoke

    text = args.prefix.strip()
    prefix = text.removeprefix(TOKEN_PREFIX).split("_", 1)[0]  # a whole key names its prefix
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None:
        raise UsageError(
            f"No token has the prefix {prefix!r}; 'reglament token list' shows the prefixes."
        )
    if token.revoked_at is not None:
        print(
            f"The token {token.prefix} ({token.name!r} of {token.user.get_username()}) was "
            f"already revoked at {_instant(token.revoked_at)}; nothing changed."
        )
        return
    token = token_revoke(token=token)
    print(
        f"Revoked the token {token.prefix} ({token.name!r} of {token.user.get_username()}) "
        f"at {_instant(token.revoked_at)}."
    )


# ------------------------------------------------------------------------------ helpers
def _instant(moment: datetime | None) -> str | None:
    """In the site's time zone (TIME_ZONE), as every other instant of the accounts."""
    if moment is None:
        return None
    from django.utils import timezone

    return timezone.localtime(moment).isoformat()


def _token_json(token: ApiToken) -> dict[str, Any]:
    from django.utils import timezone

    if token.revoked_at is not None:
        state = "revoked"
    elif token.expires_at is not None and token.expires_at <= timezone.now():
        state = "expired"
    else:
        state = "active"
    return {
        "prefix": token.prefix,
        "user": token.user.get_username(),
        "name": token.name,
        "state": state,
        "created_at": _instant(token.created_at),
        "expires_at": _instant(token.expires_at),
        "last_used_at": _instant(token.last_used_at),
        "revoked_at": _instant(token.revoked_at),
    }
