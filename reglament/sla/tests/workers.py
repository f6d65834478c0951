"""Several sweepers at once: threads with their own connections, processes with their own env."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


class WorkerProcess:
    """A `reglament worker` process started by `reglament_worker`."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def assert_running(self) -> None:
        if self.process.poll() is not None:
            errors = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"the worker exited with {self.process.returncode}: {errors}")

    def wait_until(self, condition: Callable[[], bool], *, seconds: float = 60.0) -> bool:
        """Whether `condition` came true within `seconds` (the worker must stay up)."""
        deadline = time.monotonic() + seconds
        while not condition():
            self.assert_running()
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit code."""
        os.kill(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=30)


@contextmanager
def reglament_worker(env: dict[str, str], *, interval: float = 0.2) -> Iterator[WorkerProcess]:
    """`reglament worker` as its own process with `env` (see subprocess_env); killed at
    the end if the test did not stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "reglament.cli", "worker", "--interval", str(interval)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield WorkerProcess(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
