"""`reglament token create|list|revoke`, through main(), on the test database."""

import json
import re

import pytest
from django.contrib.auth.models import User

from reglament.accounts.models import AccountEvent, ApiToken
from reglament.accounts.services import token_authenticate, token_digest
from reglament.accounts.tests.factories import PersonFactory
from reglament.cli import main

pytestmark = pytest.mark.django_db

KEY = re.compile(r"rgl_([0-9a-f]{8})_[A-Za-z0-9_-]{43}")


@pytest.fixture
def ivanov() -> User:
    return PersonFactory.create(username="ivanov")


def create(capsys: pytest.CaptureFixture[str], login: str, name: str) -> tuple[str, str]:
    """A new token's key and prefix."""
    assert main(["token", "create", "--user", login, "--name", name]) == 0
    key = capsys.readouterr().out.strip()
    match = KEY.fullmatch(key)
    assert match is not None, key
    return key, match.group(1)


def test_token_create_prints_the_key_alone_once_with_a_warning(
    ivanov: User, capsys: pytest.CaptureFixture[str]
) -> None:
    # when
    code = main(["token", "create", "--user", "ivanov", "--name", "monitoring"])
    # then the key is the whole of stdout, so KEY=$(reglament token create …) works
    assert code == 0
    captured = capsys.readouterr()
    key = captured.out.strip()
    match = KEY.fullmatch(key)
    assert match is not None, captured.out
    prefix = match.group(1)
    assert captured.err.splitlines() == [
        f"Created the token 'monitoring' (prefix {prefix}) for ivanov, expiring never.",
        "Copy the key now: it cannot be shown again. If it is lost, revoke it "
        f"('reglament token revoke {prefix}') and create another.",
    ]
    # and it works, while only its digest is stored
    assert token_authenticate(key) == ivanov
    token = ApiToken.objects.get(prefix=prefix)
    assert (token.name, token.digest, token.expires_at) == ("monitoring", token_digest(key), None)
    assert AccountEvent.objects.filter(kind="token_created", person=ivanov).count() == 1


def test_token_create_with_an_expiry(ivanov: User, capsys: pytest.CaptureFixture[str]) -> None:
    # when
    code = main(["token", "create", "--user", "ivanov", "--name", "ci",
                 "--expires", "2999-01-01T03:00:00+03:00"])  # fmt: skip
    # then the expiry is stored as that instant and told in the site's time zone (UTC)
    assert code == 0
    assert "expiring 2999-01-01T00:00:00+00:00." in capsys.readouterr().err
    assert ApiToken.objects.get().expires_at.isoformat() == "2999-01-01T00:00:00+00:00"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--user", "petrov", "--name", "ci"],
            "--user 'petrov': nobody logs in with this name; give the login of a person of "
            "the desk (the demo's are printed by 'reglament demo load').",
        ),
        (
            ["--user", "ivanov", "--name", "ci", "--expires", "2030-01-01"],
            "--expires '2030-01-01' has no UTC offset, so the instant is ambiguous; write it "
            "like 2024-12-27T18:00:00+03:00.",
        ),
        (
            ["--user", "ivanov", "--name", "ci", "--expires", "2020-01-01T00:00:00+03:00"],
            "The expiry must be in the future.",
        ),
        (
            ["--user", "ivanov", "--name", "  "],
            "A token needs a name that says where it is used.",
        ),
    ],
)
def test_token_create_refuses_wrong_arguments_with_exit_2(
    ivanov: User, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # when
    code = main(["token", "create", *argv])
    # then
    assert code == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"reglament token create: error: {message}\n")
    assert not ApiToken.objects.exists()


def test_token_list_shows_each_token_s_state_and_never_a_key(
    ivanov: User, capsys: pytest.CaptureFixture[str]
) -> None:
    # given two tokens of ivanov, one revoked, and one of somebody else
    first_key, first = create(capsys, "ivanov", "monitoring")
    second_key, second = create(capsys, "ivanov", "ci")
    PersonFactory.create(username="petrov")
    create(capsys, "petrov", "backup")
    main(["token", "revoke", first])
    capsys.readouterr()
    # when
    listed = main(["token", "list", "--user", "ivanov", "--json"])
    out = capsys.readouterr().out
    text = main(["token", "list", "--user", "ivanov"])
    table = capsys.readouterr().out
    # then newest first, only ivanov's
    assert (listed, text) == (0, 0)
    rows = json.loads(out)["tokens"]
    assert [(r["prefix"], r["user"], r["name"], r["state"]) for r in rows] == [
        (second, "ivanov", "ci", "active"),
        (first, "ivanov", "monitoring", "revoked"),
    ]
    assert sorted(rows[0]) == [
        "created_at",
        "expires_at",
        "last_used_at",
        "name",
        "prefix",
        "revoked_at",
        "state",
        "user",
    ]
    assert rows[0]["revoked_at"] is None
    assert rows[1]["revoked_at"] is not None
    cells = [re.split(r"\s{2,}", line) for line in table.splitlines()]
    assert cells[0] == ["PREFIX", "USER", "NAME", "STATE", "CREATED", "EXPIRES", "LAST USED"]
    assert [row[:4] + row[5:] for row in cells[1:]] == [
        [second, "ivanov", "ci", "active", "never", "never"],
        [first, "ivanov", "monitoring", "revoked", "never", "never"],
    ]
    for key in (first_key, second_key):
        assert key not in out + table
        assert key.split("_", 2)[2] not in out + table  # the secret may hold "_" itself


def test_token_list_without_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    code = main(["token", "list"])
    # then
    assert code == 0
    assert capsys.readouterr().out == "No API tokens.\n"


def test_token_revoke_stops_the_key_at_once_and_twice_changes_nothing(
    ivanov: User, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    key, prefix = create(capsys, "ivanov", "monitoring")
    # when revoked by its prefix, then again by the whole key
    first = main(["token", "revoke", prefix])
    first_out = capsys.readouterr().out
    again = main(["token", "revoke", key])
    again_out = capsys.readouterr().out
    # then
    assert (first, again) == (0, 0)
    token = ApiToken.objects.get(prefix=prefix)
    assert token.revoked_at is not None
    at = token.revoked_at.isoformat()
    assert first_out == f"Revoked the token {prefix} ('monitoring' of ivanov) at {at}.\n"
    assert again_out == (
        f"The token {prefix} ('monitoring' of ivanov) was already revoked at {at}; "
        "nothing changed.\n"
    )
    assert token_authenticate(key) is None
    assert AccountEvent.objects.filter(kind="token_revoked", person=ivanov).count() == 1


def test_token_revoke_of_an_unknown_prefix_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # when
    code = main(["token", "revoke", "deadbeef"])
    # then
    assert code == 2
    assert capsys.readouterr().err == (
        "reglament token revoke: error: No token has the prefix 'deadbeef'; "
        "'reglament token list' shows the prefixes.\n"
    )
