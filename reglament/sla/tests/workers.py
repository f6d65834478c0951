"""Several sweepers at once: threads with their own connections, processes with their own env."""

import os
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from django.db import connections


def in_parallel(works: Sequence[Callable[[], object]], *, timeout: float = 120.0) -> list[object]:
    """Run each of `works` in its own thread, all started together; their results in order.

    Each thread has its own database connection, closed when it ends. The
    first exception of any thread is raised here.
    """
    start = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait(timeout)
            results[index] = works[index]()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish in time"
    if errors:
        raise errors[0]
    return results


def in_threads[T](work: Callable[[], T], *, count: int) -> list[T]:
    """Run `work` in `count` threads at once (see in_parallel); their results."""
    return cast(list[T], in_parallel([work] * count))


def subprocess_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of a Reglament process on the test database, not on var/."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGLAMENT_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        REGLAMENT_VAR_DIR=str(var_dir),
        REGLAMENT_SECRET_KEY="test-only-insecure-secret-key",
    )
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
