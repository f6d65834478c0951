"""Repository-wide pytest hooks (fixtures live beside the tests that use them)."""

import os


def pytest_report_header() -> str:
    # CI runs the suite twice; the header says which database this run used.
    url = os.environ.get("DATABASE_URL", "")
    engine = url.split(":", 1)[0] if url else "sqlite (default)"
    return f"reglament database: {engine}"
