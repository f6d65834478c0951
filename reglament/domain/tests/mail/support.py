"""Fixture mail for the tests: hand-written .eml files in ./fixtures."""

from pathlib import Path

from reglament.domain.mail import ParsedMessage, parse_message

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LIMIT = 25 * 1024 * 1024
SECRET = b"test-secret-not-for-production"
LOOP_HEADER = "X-Reglament-Loop"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(name: str) -> ParsedMessage:
    return parse_message(raw(name), max_bytes=LIMIT)


def all_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.eml"))
