"""config.asgi: the synchronous code of every request in a process runs on one thread.

Django would otherwise give each ASGI request a fresh thread, and with it a
fresh database connection left open for CONN_MAX_AGE (PostgreSQL ran out of
connections under 16 clients). The request_started signal's synchronous
receivers run where the request's synchronous code runs, so they show the thread.
"""

import asyncio
import threading
from typing import Any

from django.core.signals import request_started

from config.asgi import application


async def _get(path: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    received = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # the client never disconnects during the test
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await application(scope, receive, send)
    return status


def test_concurrent_requests_share_one_thread_for_synchronous_code() -> None:
    threads: list[str] = []

    def remember_thread(**_: object) -> None:
        threads.append(threading.current_thread().name)

    request_started.connect(remember_thread)
    try:

        async def eight_at_once() -> list[int]:
            return await asyncio.gather(*(_get("/api/v1/openapi.json") for _ in range(8)))

        statuses = asyncio.run(eight_at_once())
        statuses += asyncio.run(eight_at_once())  # and across event loops
    finally:
        request_started.disconnect(remember_thread)

    assert statuses == [200] * 16
    assert len(threads) == 16
    assert len(set(threads)) == 1, threads
    assert threads[0].startswith("django-sync")
