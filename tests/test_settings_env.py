"""Settings are read from the environment (config/settings); see README "Configuration"."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.env import (
    SQLITE_OPTIONS,
    database_from_url,
    env_bool,
    env_list,
    persisted_secret_key,
)

REPO = Path(__file__).resolve().parents[1]


def test_no_database_url_means_sqlite_in_wal_mode_under_var(tmp_path: Path) -> None:
    # when
    config = database_from_url(None, var_dir=tmp_path)
    # then
    assert config == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": tmp_path / "reglament.sqlite3",
        "OPTIONS": {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
            ),
            "transaction_mode": "IMMEDIATE",
        },
    }


def test_postgres_url_is_split_into_connection_settings(tmp_path: Path) -> None:
    # when
    config = database_from_url(
        "postgres://reglament:s%40cret@db.internal:6543/support", var_dir=tmp_path
    )
    # then
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == (
        "support",
        "reglament",
        "s@cret",
    )
    assert (config["HOST"], config["PORT"]) == ("db.internal", 6543)
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True


def test_sqlite_url_keeps_wal_options(tmp_path: Path) -> None:
    # when
    config = database_from_url(f"sqlite:///{tmp_path}/other.sqlite3", var_dir=tmp_path)
    # then
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == f"{tmp_path}/other.sqlite3"
    assert config["OPTIONS"] == SQLITE_OPTIONS


@pytest.mark.parametrize("url", ["mysql://u:p@localhost/db", "nonsense://x"])
def test_unsupported_database_url_stops_start_up(url: str, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url, var_dir=tmp_path)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("0", False), ("off", False), ("", False)]
)
def test_booleans_accept_the_usual_spellings(
    raw: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGLAMENT_DEBUG", raw)
    assert env_bool("REGLAMENT_DEBUG", not expected) is expected


def test_a_misspelt_boolean_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGLAMENT_DEBUG", "ture")
    with pytest.raises(ImproperlyConfigured, match="REGLAMENT_DEBUG='ture'"):
        env_bool("REGLAMENT_DEBUG", False)


def test_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGLAMENT_ALLOWED_HOSTS", "desk.example.com, .example.org,")
    assert env_list("REGLAMENT_ALLOWED_HOSTS", []) == ["desk.example.com", ".example.org"]


def test_development_secret_key_is_generated_once_then_reused(tmp_path: Path) -> None:
    # when
    first = persisted_secret_key(tmp_path / "secret_key")
    second = persisted_secret_key(tmp_path / "secret_key")
    # then
    assert first == second
    assert len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def _settings_in_subprocess(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REGLAMENT_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    code = (
        "import django; from django.conf import settings; django.setup()\n"
        f"print(repr(({expression})))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    # when
    result = _settings_in_subprocess(
        {"REGLAMENT_ENV": "production", "REGLAMENT_VAR_DIR": str(tmp_path)}, "settings.DEBUG"
    )
    # then
    assert result.returncode != 0
    assert "REGLAMENT_SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_development_is_the_default_with_debug_off_and_loopback_hosts(tmp_path: Path) -> None:
    # when
    result = _settings_in_subprocess(
        {"REGLAMENT_VAR_DIR": str(tmp_path)},
        "settings.DEBUG, settings.ALLOWED_HOSTS, str(settings.DATABASES['default']['NAME'])",
    )
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        (False, ["127.0.0.1", "localhost", "[::1]"], str(tmp_path / "reglament.sqlite3"))
    )
    assert (tmp_path / "secret_key").exists()


def test_production_reads_its_configuration_from_the_environment(tmp_path: Path) -> None:
    # when
    result = _settings_in_subprocess(
        {
            "REGLAMENT_ENV": "production",
            "REGLAMENT_SECRET_KEY": "k" * 50,
            "REGLAMENT_ALLOWED_HOSTS": "desk.example.com",
            "REGLAMENT_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/reglament",
        },
        "settings.SECRET_KEY == 'k' * 50, settings.ALLOWED_HOSTS, "
        "settings.DATABASES['default']['ENGINE'], settings.SESSION_COOKIE_SECURE",
    )
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        (True, ["desk.example.com"], "django.db.backends.postgresql", True)
    )


def test_unknown_environment_name_stops_start_up(tmp_path: Path) -> None:
    result = _settings_in_subprocess(
        {"REGLAMENT_ENV": "staging", "REGLAMENT_VAR_DIR": str(tmp_path)}, "1"
    )
    assert result.returncode != 0
    assert "REGLAMENT_ENV='staging' is not one of: dev, test, production." in result.stderr
