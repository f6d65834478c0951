"""Fixtures the workspace tests borrow from other apps."""

from reglament.mailbox.tests.conftest import mail_dir  # noqa: F401 - a fixture, re-exported
