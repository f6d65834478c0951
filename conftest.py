"""Repository-wide pytest hooks (fixtures live beside the tests that use them)."""

import os
from collections.abc import Iterator

import pytest


def pytest_report_header() -> str:
    # CI runs the suite twice; the header says which database this run used.
    url = os.environ.get("DATABASE_URL", "")
    engine = url.split(":", 1)[0] if url else "sqlite (default)"
    return f"reglament database: {engine}"


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Each test starts in English (the message ids) and leaks no language to the next.

    LocaleMiddleware activates a request's language on the test thread and never
    switches it back, so otherwise what a service's message says in one test
    depended on which request an earlier test made. Requests still get the
    language they ask for (Russian by default).
    """
    from django.utils import translation

    with translation.override("en"):
        yield
