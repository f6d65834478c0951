"""Settings for the test suite: fast, deterministic, isolated from var/ data."""

import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING

SECRET_KEY = "test-only-insecure-secret-key"  # noqa: S105 - never used outside tests
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# Hashing strength is not under test; the default hasher costs ~0.3 s a call.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}

# Attachments of the test run go to a throw-away directory, never var/.
REGLAMENT_ATTACHMENTS_DIR = Path(tempfile.mkdtemp(prefix="reglament-test-attachments-"))
