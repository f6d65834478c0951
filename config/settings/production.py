"""Production settings: the base settings plus what a public deployment must have.

Refuses to start without REGLAMENT_SECRET_KEY rather than invent one: a key
generated on the server would silently change when the disk does.
"""

import os

from django.core.exceptions import ImproperlyConfigured

# Checked before base is imported, so base never writes a development key.
if not os.environ.get("REGLAMENT_SECRET_KEY", "").strip():
    raise ImproperlyConfigured(
        "REGLAMENT_SECRET_KEY is not set. Production needs a long random secret, e.g. "
        "REGLAMENT_SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')\""
    )

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR
from config.settings.env import env_bool

DEBUG = env_bool("REGLAMENT_DEBUG", False)

# Behind a TLS-terminating proxy (the usual deployment) cookies are HTTPS-only;
# REGLAMENT_HTTPS=0 is for a closed network served over plain HTTP.
_HTTPS = env_bool("REGLAMENT_HTTPS", True)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
if REGLAMENT_BEHIND_PROXY:  # noqa: F405 (from base)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Static files are collected once per release (`reglament manage collectstatic`)
# and served compressed, with cache-busting names.
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
