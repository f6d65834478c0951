"""End to end: `reglament run` starts web and worker, reports healthy, stops cleanly."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


@dataclass
class Running:
    process: subprocess.Popen[str]
    port: int
    output: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.output)

    def child_pids(self) -> dict[str, int]:
        match = re.search(r"web pid (\d+), worker pid (\d+)", self.text())
        assert match, self.text()
        return {"web": int(match[1]), "worker": int(match[2])}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as reply:
            return json.loads(reply.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_until_healthy(running: Running) -> dict:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert running.process.poll() is None, running.text()
        health = _health(running.port)
        if health and health["worker"]["alive"]:
            return health
        time.sleep(0.2)
    pytest.fail(f"not healthy within {START_TIMEOUT} s:\n{running.text()}")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    # given: `reglament run` on a free port, with its own data directory and SQLite
    # whatever DATABASE_URL says: this test is about the processes, and the rest
    # of the suite already runs on PostgreSQL in CI.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGLAMENT_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(REGLAMENT_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "reglament.cli", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started = Running(process=process, port=port)
    reader = threading.Thread(target=lambda: started.output.extend(process.stdout or []))
    reader.start()
    try:
        yield started
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STOP_TIMEOUT)
        reader.join(timeout=STOP_TIMEOUT)


def test_run_serves_health_with_a_live_worker_and_stops_both_on_sigterm(running: Running) -> None:
    # when: it has started
    health = _wait_until_healthy(running)
    pids = running.child_pids()
    # then: the API answers and the worker has beaten
    assert health["status"] == "ok"
    assert health["database"] == "ok"
    assert health["worker"]["alive"] is True
    assert f"http://127.0.0.1:{running.port}/" in running.text()

    # when: it is asked to stop
    running.process.send_signal(signal.SIGTERM)
    code = running.process.wait(timeout=STOP_TIMEOUT)
    # then: it exits cleanly, and so do both children
    assert code == 0, running.text()
    assert not _is_running(pids["web"])
    assert not _is_running(pids["worker"])


def test_run_stops_the_web_server_and_fails_when_the_worker_dies(running: Running) -> None:
    # given
    _wait_until_healthy(running)
    pids = running.child_pids()
    # when: the worker is killed from outside
    os.kill(pids["worker"], signal.SIGKILL)
    code = running.process.wait(timeout=STOP_TIMEOUT)
    # then
    assert code != 0
    assert "worker exited with code -9; stopping the rest" in running.text()
    assert not _is_running(pids["web"])
