"""ASGI entry point: `reglament web` serves this with uvicorn.

Django runs every synchronous view of an ASGI request in that request's own
thread-sensitive context, and asgiref gives each context a fresh thread. A
database connection belongs to a thread, so under load every request opened a
connection of its own and left it open for CONN_MAX_AGE: 16 clients exhausted
PostgreSQL's 100 connections within seconds. Here all requests of the process
share one thread, as a synchronous WSGI worker would: one connection per
process, reused. Scale out with more processes (`reglament web --processes`).
Measured on 2 cores, 16 clients creating requests on PostgreSQL: 32 req/s with
errors before, 105 req/s with none after (benchmarks/tickets.py).
"""

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

_django = get_asgi_application()
_sync_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="django-sync")


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    # A context with an executor is entered once, so each request makes its own;
    # Django's inner ThreadSensitiveContext then keeps this one.
    async with ThreadSensitiveContext(executor=_sync_thread):
        await _django(scope, receive, send)
