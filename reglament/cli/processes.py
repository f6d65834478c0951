"""The long-running processes: web server, worker, and `run`, which supervises both."""

import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from types import FrameType

from reglament.cli import setup_django

# How long a child gets to finish after SIGTERM before it is killed.
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.2


def serve_web(*, host: str, port: int, processes: int = 1) -> int:
    """Serve config.asgi with uvicorn until SIGINT/SIGTERM (uvicorn stops gracefully).

    With `processes` > 1 uvicorn forks that many workers on one socket.
    """
    setup_django()
    import uvicorn

    uvicorn.run(
        "config.asgi:application",
        host=host,
        port=port,
        lifespan="off",  # Django does not speak the ASGI lifespan protocol
        log_level="info",
        workers=processes,
    )
    return 0


def serve_worker(*, interval: float) -> int:
    """Run the database task worker, making sure the heartbeat, SLA sweep, estimate
    expiry and mail poll chains are going, with the mailboxes' SMTP listeners beside it."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from reglament.core.tasks import worker_heartbeat_schedule
    from reglament.mailbox.smtp import SmtpListeners
    from reglament.mailbox.tasks import mail_poll_schedule
    from reglament.paidwork.tasks import estimate_sweep_schedule
    from reglament.sla.tasks import sla_sweep_schedule

    worker_id = f"{socket.gethostname()}:{os.getpid()}"[-64:]
    # Beat at once unless a beat is already waiting, so a fresh worker shows up
    # as alive within a second instead of after a full heartbeat period.
    worker_heartbeat_schedule(delay=timedelta(0))
    # Sweep at once too: what fell due while no worker ran is recorded now
    # (with its own instant), not an interval later. A sweep already waiting
    # means the chain is alive; a second one is not added.
    sla_sweep_schedule(delay=timedelta(0))
    # Offers that expired while no worker ran send their requests back to work now.
    estimate_sweep_schedule(delay=timedelta(0))
    mail_poll_schedule(delay=timedelta(0))
    # The mailboxes' SMTP listeners run beside the task loop, on threads of their own.
    listeners = SmtpListeners()
    listeners.start(interval=settings.REGLAMENT_MAIL_LISTEN_CHECK_SECONDS)
    try:
        call_command(
            "db_worker",
            queue_name="default",
            interval=interval,
            reload=False,
            startup_delay=False,
            worker_id=worker_id,
        )
    finally:
        listeners.stop()
    return 0


def _die_with_parent() -> None:
    """In the child: get SIGTERM if `reglament run` itself is killed (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for name, child in children.items():
        try:
            child.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"reglament: {name} did not stop in time; killing it", file=sys.stderr)
            child.kill()
            child.wait()


def run_supervised(*, host: str, port: int, migrate: bool, demo: bool = False) -> int:
    """Migrate (and load the demo), start web and worker as children, keep both up or down."""
    if migrate or demo:
        setup_django()
        from django.core.management import call_command
        from django.db import connections

        from reglament.cli.regulation_db import demo_load

        if migrate:
            call_command("migrate", interactive=False, verbosity=1)
        if demo and demo_load() != 0:
            return 1
        connections.close_all()

    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    command = [sys.executable, "-m", "reglament.cli"]
    # Own sessions: Ctrl-C reaches only this process, which then stops each
    # child exactly once (a second SIGINT would make the worker abort a task).
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, arguments in (
            ("web", ["web", "--host", host, "--port", str(port)]),
            ("worker", ["worker"]),
        ):
            children[name] = subprocess.Popen(
                [*command, *arguments], start_new_session=True, preexec_fn=_die_with_parent
            )
        print(
            f"Reglament is running at {_url(host, port)} "
            f"(web pid {children['web'].pid}, worker pid {children['worker'].pid}). "
            "Press Ctrl-C to stop.",
            flush=True,
        )
        if demo:
            url = _url(host, port)
            print(f"Admin site: {url}admin/ · API docs: {url}api/v1/docs", flush=True)
        while not stop_requested.wait(POLL_SECONDS):
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    print(
                        f"reglament: {name} exited with code {code}; stopping the rest",
                        file=sys.stderr,
                        flush=True,
                    )
                    return code or 1
        print("reglament: stopping", flush=True)
        return 0
    finally:
        _stop(children)
