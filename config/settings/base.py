"""Settings shared by every environment; on their own, the development settings.

Everything comes from environment variables with safe defaults: DEBUG is off
unless asked for, hosts are loopback only, and the database is SQLite under
var/ when no DATABASE_URL is given. See README.md, "Configuration".
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.settings.env import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    persisted_secret_key,
)

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env_str("REGLAMENT_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("REGLAMENT_SECRET_KEY", "") or persisted_secret_key(VAR_DIR / "secret_key")
DEBUG = env_bool("REGLAMENT_DEBUG", False)
# Behind a TLS-terminating reverse proxy: trust its X-Forwarded-Proto, and take the
# client's address (for the sign-in lockout) from the last hop of X-Forwarded-For.
REGLAMENT_BEHIND_PROXY = env_bool("REGLAMENT_BEHIND_PROXY", False)
ALLOWED_HOSTS = env_list("REGLAMENT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("REGLAMENT_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks_db",
    "reglament.core",
    "reglament.accounts",
    "reglament.regulations",
    "reglament.tickets",
    "reglament.sla",
    "reglament.usage",
    "reglament.paidwork",
    "reglament.knowledge",
    "reglament.workspace",
    "reglament.mailbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reglament.accounts.context_processors.profile",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", ""), var_dir=VAR_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work runs through Django's built-in tasks framework; the
# django-tasks-db backend keeps the queue (and its timers, via run_after) as
# database rows that `reglament worker` claims.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    },
}
# How often a worker proves it is alive; health calls a worker dead after
# three missed beats.
REGLAMENT_WORKER_HEARTBEAT = timedelta(seconds=env_int("REGLAMENT_WORKER_HEARTBEAT_SECONDS", 10))

# SLA clocks: a warning is recorded when this share of a target is used up; the
# sweeper looks for due warnings and breaches this often.
REGLAMENT_SLA_WARNING_SHARE = env_float("REGLAMENT_SLA_WARNING_SHARE", 0.8)
if not 0 < REGLAMENT_SLA_WARNING_SHARE < 1:
    raise ImproperlyConfigured(
        f"REGLAMENT_SLA_WARNING_SHARE={REGLAMENT_SLA_WARNING_SHARE} must be between 0 and 1, "
        "e.g. 0.8 to warn when 80 % of a target is used."
    )
REGLAMENT_SLA_SWEEP_INTERVAL = timedelta(seconds=env_int("REGLAMENT_SLA_SWEEP_SECONDS", 5))
# Paid work (R4.6): how often the worker expires estimates past their validity.
REGLAMENT_ESTIMATE_SWEEP_INTERVAL = timedelta(
    seconds=env_int("REGLAMENT_ESTIMATE_SWEEP_SECONDS", 300)
)
if REGLAMENT_ESTIMATE_SWEEP_INTERVAL <= timedelta(0):
    raise ImproperlyConfigured(
        "REGLAMENT_ESTIMATE_SWEEP_SECONDS must be a whole number of seconds above 0, "
        "e.g. 300 to look for expired estimates every five minutes."
    )

# Files attached to requests: stored by content digest under this directory.
REGLAMENT_ATTACHMENTS_DIR = Path(
    env_str("REGLAMENT_ATTACHMENTS_DIR", str(VAR_DIR / "attachments"))
).resolve()
REGLAMENT_ATTACHMENT_MAX_BYTES = env_int("REGLAMENT_ATTACHMENT_MAX_MB", 20) * 1_000_000
DATA_UPLOAD_MAX_MEMORY_SIZE = REGLAMENT_ATTACHMENT_MAX_BYTES + 1_000_000

# Outgoing mail (notifications), Django 6.1's MAILERS. Without
# REGLAMENT_EMAIL_HOST mail is printed to the console, which is what `make run`
# on a laptop wants.
_EMAIL_HOST = env_str("REGLAMENT_EMAIL_HOST", "")
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _EMAIL_HOST,
                "port": env_int("REGLAMENT_EMAIL_PORT", 25),
                "username": env_str("REGLAMENT_EMAIL_USER", ""),
                "password": env_str("REGLAMENT_EMAIL_PASSWORD", ""),
                "use_tls": env_bool("REGLAMENT_EMAIL_STARTTLS", False),
                "use_ssl": env_bool("REGLAMENT_EMAIL_SSL", False),
                "timeout": env_int("REGLAMENT_EMAIL_TIMEOUT_SECONDS", 20),
            },
        }
        if _EMAIL_HOST
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    ),
}
DEFAULT_FROM_EMAIL = env_str("REGLAMENT_EMAIL_FROM", "reglament@localhost")
# Links in mail point here, e.g. https://support.example.com
REGLAMENT_BASE_URL = env_str("REGLAMENT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Store and compute in UTC; local time (a contract's calendar) is applied at
# the calendar boundary in reglament.domain.
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
# Development serves static files straight from the apps, with no collectstatic
# step; production sets STATIC_ROOT and serves the collected, compressed copies.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response: everything from our own origin,
# no inline scripts or styles, no plugins, no framing. Page scripts are static
# files (reglament/core/static/core/); nothing is loaded from a CDN.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Signing in: by e-mail (any letter case) or login, with the password.
AUTHENTICATION_BACKENDS = ["reglament.accounts.auth.EmailOrLoginBackend"]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:sign_in"
# A session ends after this long without a request; each request renews it.
REGLAMENT_SESSION_IDLE_MINUTES = env_int("REGLAMENT_SESSION_IDLE_MINUTES", 480)
if REGLAMENT_SESSION_IDLE_MINUTES <= 0:
    raise ImproperlyConfigured(
        "REGLAMENT_SESSION_IDLE_MINUTES must be a whole number of minutes above 0, "
        "e.g. 480 to sign people out after eight idle hours."
    )
SESSION_COOKIE_AGE = REGLAMENT_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
# Lockout: this many failed sign-ins for one e-mail/login or from one IP address
# within the window refuse further attempts until the window has passed.
REGLAMENT_SIGN_IN_FAILURE_LIMIT = 5
REGLAMENT_SIGN_IN_FAILURE_WINDOW = timedelta(minutes=15)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env_str("REGLAMENT_LOG_LEVEL", "INFO")},
}

# E-mail intake (reglament.mailbox): raw messages are kept under this directory,
# named by their SHA-256, before any row refers to them.
REGLAMENT_MAIL_DIR = Path(env_str("REGLAMENT_MAIL_DIR", str(VAR_DIR / "mail"))).resolve()
# A new mailbox's largest message (each mailbox may change it); larger ones are
# rejected with their header kept, the body left on the server.
REGLAMENT_MAIL_MAX_BYTES = env_int("REGLAMENT_MAIL_MAX_BYTES", 25 * 1024 * 1024)
if REGLAMENT_MAIL_MAX_BYTES <= 0:
    raise ImproperlyConfigured(
        "REGLAMENT_MAIL_MAX_BYTES must be a number of bytes above 0, e.g. 26214400 for 25 MiB."
    )
# How often the worker polls every enabled IMAP mailbox, and how many messages one
# poll of one mailbox takes at most (the rest follow at once in the next run).
REGLAMENT_MAIL_POLL_INTERVAL = timedelta(seconds=env_int("REGLAMENT_MAIL_POLL_SECONDS", 60))
if REGLAMENT_MAIL_POLL_INTERVAL <= timedelta(0):
    raise ImproperlyConfigured(
        "REGLAMENT_MAIL_POLL_SECONDS must be a whole number of seconds above 0, "
        "e.g. 60 to poll mailboxes every minute."
    )
REGLAMENT_MAIL_POLL_BATCH = env_int("REGLAMENT_MAIL_POLL_BATCH", 200)
# How often a worker compares its SMTP listeners with the mailboxes' settings (a new
# or changed listener, or one another worker gave up, is taken up within this).
REGLAMENT_MAIL_LISTEN_CHECK_SECONDS = env_int("REGLAMENT_MAIL_LISTEN_CHECK_SECONDS", 30)
if REGLAMENT_MAIL_LISTEN_CHECK_SECONDS <= 0:
    raise ImproperlyConfigured(
        "REGLAMENT_MAIL_LISTEN_CHECK_SECONDS must be a whole number of seconds above 0, e.g. 30."
    )
# Seconds an IMAP connection may wait for the server before the poll gives up.
REGLAMENT_MAIL_TIMEOUT_SECONDS = env_int("REGLAMENT_MAIL_TIMEOUT_SECONDS", 30)
# Extra certificate authorities (a PEM file) to trust for IMAP over TLS, for a
# server with a company CA; empty trusts the system's store only.
REGLAMENT_MAIL_CA_FILE = env_str("REGLAMENT_MAIL_CA_FILE", "")
# Processing stored mail into requests (reglament.mailbox.intake). The secret signs
# the request tokens in our Reply-To addresses and Message-IDs; empty: derived
# from SECRET_KEY (an HMAC with its own label), so changing SECRET_KEY also
# invalidates the tokens of mail sent before.
REGLAMENT_MAIL_SECRET = env_str("REGLAMENT_MAIL_SECRET", "")
# The header our own automatic mail carries; mail with it is never answered.
REGLAMENT_MAIL_LOOP_HEADER = env_str("REGLAMENT_MAIL_LOOP_HEADER", "X-Reglament-Loop")
# Our receiving mail server's name in Authentication-Results (RFC 8601), e.g.
# "mx.vendor.example": only mail it vouches for (DMARC, aligned DKIM or SPF) is taken
# as written by the staff member in its From; empty trusts no From of staff.
REGLAMENT_MAIL_AUTHSERV_ID = env_str("REGLAMENT_MAIL_AUTHSERV_ID", "")
# How many times a message whose processing failed is tried in all.
REGLAMENT_MAIL_PROCESS_ATTEMPTS = env_int("REGLAMENT_MAIL_PROCESS_ATTEMPTS", 5)
if REGLAMENT_MAIL_PROCESS_ATTEMPTS < 1:
    raise ImproperlyConfigured(
        "REGLAMENT_MAIL_PROCESS_ATTEMPTS must be 1 or more, e.g. 5 tries per message."
    )
# Outgoing mail of the e-mail channel (reglament.mailbox.outgoing). Automatic replies
# (acknowledgements of mail, instructions, too-large notices) at most this many an hour
# to one address and from one mailbox; more are recorded as skipped, never sent.
REGLAMENT_MAIL_AUTO_REPLY_PER_SENDER_HOUR = env_int("REGLAMENT_MAIL_AUTO_REPLY_PER_SENDER_HOUR", 5)
REGLAMENT_MAIL_AUTO_REPLY_PER_MAILBOX_HOUR = env_int(
    "REGLAMENT_MAIL_AUTO_REPLY_PER_MAILBOX_HOUR", 200
)
# Tries per outgoing message before it is `failed` (and the request records it); the
# first retry after this many seconds, each later one four times as long.
REGLAMENT_MAIL_SEND_ATTEMPTS = env_int("REGLAMENT_MAIL_SEND_ATTEMPTS", 5)
REGLAMENT_MAIL_SEND_RETRY_SECONDS = env_int("REGLAMENT_MAIL_SEND_RETRY_SECONDS", 60)
if REGLAMENT_MAIL_SEND_ATTEMPTS < 1 or REGLAMENT_MAIL_SEND_RETRY_SECONDS < 1:
    raise ImproperlyConfigured(
        "REGLAMENT_MAIL_SEND_ATTEMPTS and REGLAMENT_MAIL_SEND_RETRY_SECONDS must be 1 or more, "
        "e.g. 5 attempts, the first retry after 60 seconds."
    )
