"""Errors raised by the pure domain layer.

Each carries a stable ``code`` so the API and the CLI can render it the same
way, and a message that says what was wrong and how to fix it.
"""

from __future__ import annotations


class DomainError(ValueError):
    """Base class of every error raised by ``reglament.domain``."""

    code = "domain_error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}".strip())


class CalendarError(DomainError):
    """A calendar definition or a calendar query is invalid."""

    code = "calendar_error"


class ScheduleSyntaxError(CalendarError):
    """A weekly schedule could not be parsed."""

    code = "schedule_syntax"


class NaiveDatetimeError(CalendarError):
    """A datetime without a time zone was given where an instant is required."""

    code = "naive_datetime"
