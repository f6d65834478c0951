"""Settings chosen by REGLAMENT_ENV when DJANGO_SETTINGS_MODULE is `config.settings`.

    REGLAMENT_ENV=dev (default)  -> config.settings.base
    REGLAMENT_ENV=test           -> config.settings.test
    REGLAMENT_ENV=production     -> config.settings.production

Pointing DJANGO_SETTINGS_MODULE straight at a submodule (as pytest does with
config.settings.test) skips this choice: the package is imported first, and it
must not load the development settings behind that module's back.
"""

import os
from importlib import import_module

from django.core.exceptions import ImproperlyConfigured

SETTINGS_MODULES = {
    "dev": "config.settings.base",
    "test": "config.settings.test",
    "production": "config.settings.production",
}

if os.environ.get("DJANGO_SETTINGS_MODULE", __name__) == __name__:
    _env = os.environ.get("REGLAMENT_ENV", "dev").strip() or "dev"
    if _env not in SETTINGS_MODULES:
        raise ImproperlyConfigured(
            f"REGLAMENT_ENV={_env!r} is not one of: {', '.join(SETTINGS_MODULES)}."
        )
    _module = import_module(SETTINGS_MODULES[_env])
    globals().update({name: getattr(_module, name) for name in dir(_module) if name.isupper()})
