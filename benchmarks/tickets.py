"""Tickets benchmark: creating requests over HTTP, the agent queue and the SLA sweeper.

Each database gets a throw-away copy of its own: a SQLite file in a temporary
directory and, when ``DATABASE_URL`` names a PostgreSQL server, a database
created for the run and dropped after it (if the role may not create one, an
*empty* database is used and the run's tables dropped afterwards; a database
that has tables is refused). Each database is measured in a child process of
its own, with its own Django settings; this process prints the goals side by
side.

In each database, after ``migrate``:

1. the regulation ``regulations/rusbitech.yaml`` (tariff ``standard``: two clocks
   a request, reaction and processing time), a vendor with an agent on each
   line and a customer with requesters, all made by the services;
2. 100,000 open requests (``--quick``: 10,000) over lines 1–3. All but the
   breach batch are inserted with ``bulk_create``: the request, its ``created``
   event, a staff reply (comment and ``replied`` event) where the reaction
   warning would otherwise have come by NOW + 1 h, and the clock rows. The
   clocks come from the mappers and the pure computation ``clocks_sync`` uses,
   at the benchmark's instant NOW; then ``clocks_sync`` itself re-syncs a sample
   and must find nothing to change or record. The breach batch, 1,000 requests
   (``--quick``: 100), is registered through ``ticket_create`` 3–5 hours before
   NOW; a sweep at NOW records their reaction warnings, and their breaches fall
   due in the hour after NOW, when no other timer does;
3. the agent queue: ``ticket_queue(line=…)`` and ``ticket_list`` for the line's
   agent, many times a line, with the query plans;
   then the agent workspace's queue page (``GET /work/``, the whole view through
   Django's middleware, as each line's agent sees it by default), with its query count;
4. sweeper ticks at NOW (nothing due), then one sweep at NOW + 1 h, which must
   record exactly the batch's breaches;
5. ``ticket_create`` in-process, for the service's own cost; then
   ``POST /api/v1/tickets`` from 16 concurrent keep-alive clients against one,
   then two ``reglament web`` processes on 127.0.0.1 (the clients split between
   them), each after a warm-up; every answer must be a 201.

This is not a test: it prints figures and goals ("met" / "NOT met") and exits 0
whatever the timings. Options: ``--quick``, ``--open N``, ``--breaches N``,
``--requests N``, ``--database sqlite|postgresql|all``, ``--seed S``,
``--profile`` (cProfile of the create and the breach sweep), ``--json PATH``.
"""

# print() (T201) is allowed in benchmarks/ by pyproject.toml's per-file-ignores.

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import math
import os
import pstats
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from time import perf_counter, process_time, sleep
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from benchmarks.business_time import describe_machine

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from reglament.domain.regulation import Regulation
    from reglament.domain.sla import ClockState
    from reglament.regulations.models import Contract, RegulationVersion
    from reglament.sla.models import Clock
    from reglament.tickets.models import Ticket, TicketEvent

ROOT = Path(__file__).resolve().parents[1]
REGULATION, TARIFF = "rusbitech", "standard"
# Wednesday 18 November 2026, 15:00 Moscow time: an ordinary working day (10:00–18:00
# in this regulation), five hours in, with no holiday in the week before.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
SPREAD_MINUTES = 7 * 24 * 60  # bulk requests were registered over the 7 days before NOW
MARGIN = timedelta(hours=1)  # no bulk timer is due before NOW + MARGIN; the batch's breaches are
LINE_WEIGHTS = {1: 5, 2: 3, 3: 2}
PRIORITY_WEIGHTS = {"critical": 1, "high": 2, "medium": 5, "low": 2}
REQUESTERS = 5

DEFAULT_SEED = 20261118
DEFAULT_OPEN, QUICK_OPEN = 100_000, 10_000
DEFAULT_BREACHES, QUICK_BREACHES = 1_000, 100
DEFAULT_REQUESTS, QUICK_REQUESTS = 2_000, 200
QUEUE_CALLS, QUICK_QUEUE_CALLS = 300, 60  # per line and selector, after WARM_UP_CALLS
WARM_UP_CALLS = 10
IDLE_TICKS, QUICK_IDLE_TICKS = 30, 10
DIRECT_CREATES, QUICK_DIRECT_CREATES = 200, 50
SAMPLE_CHECKED = 200  # bulk requests re-synced by clocks_sync to prove their rows exact
BATCH = 5_000  # bulk requests per transaction
CLIENTS = 16
WEB_PROCESSES = (1, 2)
HTTP_DEADLINE_SECONDS = 180.0  # a load run stops by itself after this, whatever is left
SERVER_START_SECONDS = 60.0
WEB_COMMAND = (sys.executable, "-m", "reglament.cli", "web")
HTTP_SUBJECT = "Нагрузочный тест: запрос по API"

BACKENDS = ("sqlite", "postgresql")
TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


# ---------------------------------------------------------------------- report
@dataclass(slots=True)
class Figure:
    """One measured figure and, when it has one, its goal (value `comparison` goal)."""

    key: str
    text: str
    value: float | None
    unit: str  # "ms", "s", "/s" or "" (a count)
    goal: float | None = None
    comparison: str = "<"  # "<", ">=" or "=="
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        if self.value is None:
            return "not measured"
        met = {
            "<": self.value < self.goal,
            ">=": self.value >= self.goal,
            "==": self.value == self.goal,
        }[self.comparison]
        return "met" if met else "NOT met"


@dataclass(slots=True)
class Result:
    backend: str
    database: str = ""
    sizes: dict[str, int] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    plans: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    load_average: list[float] = field(default_factory=list)  # 1-minute: before, after
    error: str = ""

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)

    def check(self, text: str, ok: bool, detail: str = "") -> None:
        self.checks[text] = ("ok" if ok else "FAILED") + (f" ({detail})" if detail else "")


def progress(text: str) -> None:
    # On stderr, so that stdout holds only the report.
    print(f"  … {text}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timings_ms(run: Callable[[], object], calls: int, warm_up: int = WARM_UP_CALLS) -> list[float]:
    for _ in range(warm_up):
        run()
    spent = []
    for _ in range(calls):
        began = perf_counter()
        run()
        spent.append((perf_counter() - began) * 1000)
    return spent


# ------------------------------------------------------------------ databases
class RefusedError(Exception):
    """The database given may not be used for a benchmark (the message says why)."""


def scratch_environment(workdir: Path) -> dict[str, str]:
    """Settings for this process and its web servers: the development settings without
    DEBUG (it would keep every query in memory); secret key and SQLite file in `workdir`."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REGLAMENT_ENV": "dev",
        "REGLAMENT_DEBUG": "0",
        "REGLAMENT_VAR_DIR": str(workdir / "var"),
        "REGLAMENT_ATTACHMENTS_DIR": str(workdir / "attachments"),
        "REGLAMENT_LOG_LEVEL": "WARNING",
        "DATABASE_URL": "",  # empty: SQLite in REGLAMENT_VAR_DIR
    }


@contextmanager
def postgresql_database(url: str) -> Iterator[str]:
    """The URL of a database of our own on the server `url` names; dropped on exit.

    Without the right to create databases, the database in `url` itself is used
    if it has no tables, and the tables the run made are dropped on exit.
    """
    import psycopg
    from psycopg import sql

    name = f"reglament_bench_{os.getpid()}_{random.randrange(16**6):06x}"
    with psycopg.connect(url, autocommit=True) as admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            created = True
        except psycopg.errors.InsufficientPrivilege:
            created = False
            row = admin.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            ).fetchone()
            tables = row[0] if row else -1
            if tables:
                raise RefusedError(
                    "the role in DATABASE_URL may not create a database, and the database "
                    f"it names is not empty ({tables} tables); grant CREATEDB or name an "
                    "empty database"
                ) from None
    try:
        yield urlsplit(url)._replace(path=f"/{name}").geturl() if created else url
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            if created:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            else:
                tables_made = admin.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                ).fetchall()
                for (table,) in tables_made:
                    admin.execute(
                        sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table))
                    )


@contextmanager
def database_environment(backend: str, workdir: Path) -> Iterator[None]:
    """Point this process's (future) Django settings at a scratch database."""
    os.environ.update(scratch_environment(workdir))
    if backend == "sqlite":
        yield
        return
    with postgresql_database(os.environ.get("BENCH_POSTGRESQL_URL", "")) as bench_url:
        os.environ["DATABASE_URL"] = bench_url
        try:
            yield
        finally:
            from django.db import connections

            connections.close_all()


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (WAL), a file in a temporary directory"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = (cursor.fetchone() or ("?",))[0]
    host = connection.settings_dict.get("HOST") or "a local socket"
    port = connection.settings_dict.get("PORT") or ""
    return f"PostgreSQL {version} on {host}{':' if port else ''}{port}, a database of its own"


# -------------------------------------------------------------------- the desk
@dataclass(slots=True)
class Desk:
    version: RegulationVersion
    regulation: Regulation
    contract: Contract
    agents: dict[int, User]
    requesters: list[User]


def desk_create() -> Desk:
    """The regulation, a vendor with an agent a line, a customer with requesters."""
    from reglament.accounts.models import Membership, Organisation
    from reglament.accounts.services import organisation_create, person_create
    from reglament.regulations.services import contract_create, regulation_load

    role = Membership.Role
    path = ROOT / "regulations" / f"{REGULATION}.yaml"
    version, _created = regulation_load(data=path.read_bytes(), name=path.name)
    vendor = organisation_create(name="Вендор (бенчмарк)", kind=Organisation.Kind.VENDOR)
    agents = {
        line: person_create(
            username=f"agent{line}",
            password=None,
            organisation=vendor,
            role=role.AGENT,
            line=line,
            email=f"agent{line}@vendor.test",
        )
        for line in LINE_WEIGHTS
    }
    customer = organisation_create(name="Заказчик (бенчмарк)", kind=Organisation.Kind.CUSTOMER)
    contract = contract_create(
        organisation=customer, version=version, tariff=TARIFF, valid_from=date(2024, 1, 1)
    )
    requesters = [
        person_create(
            username=f"requester{k}",
            password=None,
            organisation=customer,
            role=role.REQUESTER,
            email=f"requester{k}@customer.test",
        )
        for k in range(1, REQUESTERS + 1)
    ]
    return Desk(
        version=version,
        regulation=version.parsed(),
        contract=contract,
        agents=agents,
        requesters=requesters,
    )


def initial_status(regulation: Regulation) -> str:
    return next(s.id for s in regulation.statuses if s.initial)


# ---------------------------------------------------------------- clock states
def clock_states(
    desk: Desk, registered: datetime, priority: str, line: int, reply_at: datetime | None
) -> tuple[ClockState, ...]:
    """The clocks at NOW of a request registered at `registered` (staff replying at
    `reply_at`), computed as clocks_sync does: the request and its events through
    reglament.sla.mappers into reglament.domain.sla.compute_clocks."""
    from django.conf import settings

    from reglament.domain.sla import compute_clocks
    from reglament.sla.mappers import clock_events, ticket_case
    from reglament.tickets.models import Ticket, TicketEvent

    ticket = Ticket(
        contract=desk.contract,
        version=desk.version,
        priority=priority,
        line=line,
        received_at=registered,
        registered_at=registered,
    )
    kind = TicketEvent.Kind
    events = [
        TicketEvent(
            kind=kind.CREATED,
            created_at=registered,
            data={"status": initial_status(desk.regulation)},
        )
    ]
    if reply_at is not None:
        events.append(TicketEvent(kind=kind.REPLIED, created_at=reply_at, data={"staff": True}))
    return compute_clocks(
        desk.regulation,
        ticket_case(ticket, desk.regulation),
        clock_events(ticket, events),
        now=NOW,
        warning_share=settings.REGLAMENT_SLA_WARNING_SHARE,
        explain=False,
    )


def _timers(state: ClockState) -> list[datetime]:
    """The warning and breach instants of a clock that can still fire (or has)."""
    if state.state not in ("running", "breached") or state.stop is not None:
        return []
    return [at for at in (state.warn_at, state.due) if at is not None]


def fires_by(states: Sequence[ClockState], instant: datetime) -> bool:
    """Whether a warning or breach of these clocks falls due by `instant` (or did)."""
    return any(at <= instant for state in states for at in _timers(state))


@dataclass(frozen=True, slots=True)
class Shape:
    """What the services store by NOW for a request registered at an instant with a
    priority: when staff replied (None: not yet), its clocks, the queue's due instant."""

    reply_at: datetime | None
    clocks: tuple[ClockState, ...]
    next_due_at: datetime | None


class Shapes:
    """Shapes of bulk requests, computed once for each (registration minute, priority)."""

    def __init__(self, desk: Desk) -> None:
        from reglament.domain.regulation import Case

        self.desk = desk
        regulation = desk.regulation

        def targets(line: int) -> list[object]:
            return [
                regulation.target(
                    metric.id,
                    regulation.check_case(Case(tariff=TARIFF, priority=priority, line=line)),
                )
                for metric in regulation.metrics
                for priority in PRIORITY_WEIGHTS
            ]

        # Clocks are computed once for all lines; exact only while no target depends
        # on the line. When one does, the line becomes part of the cache key.
        self.line_matters = any(targets(line) != targets(1) for line in LINE_WEIGHTS)
        self.cache: dict[tuple[int, str, int], Shape | None] = {}
        self.computations = 0

    def get(self, minutes_before: int, priority: str, line: int) -> Shape | None:
        """The shape, or None when no reply can keep every timer after NOW + MARGIN."""
        key = (minutes_before, priority, line if self.line_matters else 1)
        if key not in self.cache:
            self.cache[key] = self._compute(*key)
        return self.cache[key]

    def _compute(self, minutes_before: int, priority: str, line: int) -> Shape | None:
        registered = NOW - timedelta(minutes=minutes_before)
        states = self._states(registered, priority, line, None)
        reply_at = None
        if fires_by(states, NOW + MARGIN):
            # Staff replied before anything could fire: 20–80 % of the way to the first
            # timer, spread by the golden ratio (repeatable, not uniform in steps).
            first = min(at for state in states for at in _timers(state))
            share = 0.2 + 0.6 * ((minutes_before * 0.6180339887) % 1)
            reply_at = (registered + (first - registered) * share).replace(microsecond=0)
            states = self._states(registered, priority, line, reply_at)
            if fires_by(states, NOW + MARGIN):
                return None
        # As clocks_sync's projection: the earliest due instant of a clock still counting.
        due = min((s.due for s in states if _timers(s) and s.due is not None), default=None)
        return Shape(reply_at=reply_at, clocks=states, next_due_at=due)

    def _states(
        self, registered: datetime, priority: str, line: int, reply_at: datetime | None
    ) -> tuple[ClockState, ...]:
        self.computations += 1
        return clock_states(self.desk, registered, priority, line, reply_at)


def clock_row(ticket: Ticket, state: ClockState) -> Clock:
    """The Clock row clocks_sync stores for `state` at NOW, nothing having fired yet."""
    from reglament.domain.calendar import WorkingDays
    from reglament.sla.models import Clock

    target = state.target.duration if state.target is not None else None
    pending = [at for at in (state.warn_at, state.due) if at is not None and at > NOW]
    return Clock(
        ticket=ticket,
        metric=state.metric,
        state=state.state,
        calendar=state.target.calendar if state.target is not None else "",
        target_seconds=int(target.total_seconds()) if isinstance(target, timedelta) else None,
        target_working_days=target.count if isinstance(target, WorkingDays) else None,
        started_at=state.start,
        stopped_at=state.stop,
        due_at=state.due,
        warn_at=state.warn_at,
        consumed=state.consumed,
        remaining=state.remaining,
        computed_at=NOW,
        warned_at=None,
        breached_at=None,
        next_check_at=min(pending) if state.state == "running" and pending else None,
    )


# ------------------------------------------------------------------- bulk load
@dataclass(frozen=True, slots=True)
class Planned:
    minutes_before: int
    priority: str
    line: int
    requester: int
    shape: Shape


def bulk_load(desk: Desk, count: int, seed: int, result: Result) -> list[int]:
    """`count` open requests as the services would have stored them by NOW; their ids."""
    from django.db import transaction

    from reglament.sla.models import Clock
    from reglament.tickets.models import Channel, Comment, Ticket, TicketEvent, TicketNumberCounter

    rng = random.Random(seed)
    shapes = Shapes(desk)
    lines, line_weights = list(LINE_WEIGHTS), list(LINE_WEIGHTS.values())
    priorities, priority_weights = list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values())
    began = perf_counter()
    progress(f"computing the clocks of {count:,} requests")
    planned: list[Planned] = []
    while len(planned) < count:
        minutes = rng.randint(1, SPREAD_MINUTES)
        priority = rng.choices(priorities, priority_weights)[0]
        line = rng.choices(lines, line_weights)[0]
        shape = shapes.get(minutes, priority, line)
        if shape is not None:
            planned.append(Planned(minutes, priority, line, rng.randrange(REQUESTERS), shape))
    planned.sort(key=lambda p: -p.minutes_before)  # numbers go up with registration
    computed = perf_counter() - began

    regulation = desk.regulation
    prefix, status = regulation.number_prefix, initial_status(regulation)
    zone = regulation.calendars[regulation.default_calendar].timezone
    contract = desk.contract
    last_numbers: dict[int, int] = {}
    ids: list[int] = []
    progress(f"inserting {count:,} requests with their events, replies and clocks")
    for start in range(0, count, BATCH):
        chunk = planned[start : start + BATCH]
        with transaction.atomic():
            tickets: list[Ticket] = []
            for p in chunk:
                registered = NOW - timedelta(minutes=p.minutes_before)
                year = registered.astimezone(zone).year
                last_numbers[year] = last_numbers.get(year, 0) + 1
                tickets.append(
                    Ticket(
                        number=f"{prefix}-{year}-{last_numbers[year]:06d}",
                        contract=contract,
                        version=desk.version,
                        organisation=contract.organisation,
                        requester=desk.requesters[p.requester],
                        subject=f"Не открывается отчёт по продажам ({start + len(tickets) + 1})",
                        description="После обновления отчёт по продажам не открывается.",
                        channel=Channel.PORTAL,
                        priority=p.priority,
                        line=p.line,
                        status=status,
                        is_open=True,
                        assignee=desk.agents[p.line] if p.shape.reply_at else None,
                        received_at=registered,
                        registered_at=registered,
                        next_due_at=p.shape.next_due_at,
                        breached=False,
                        at_risk=False,
                    )
                )
            Ticket.objects.bulk_create(tickets)
            replied = [
                (t, p.line, p.shape.reply_at)
                for t, p in zip(tickets, chunk, strict=True)
                if p.shape.reply_at is not None
            ]
            comments = [
                Comment(
                    ticket=t,
                    author=desk.agents[line],
                    public=True,
                    body="Здравствуйте! Запрос принят в работу.",
                    channel=Channel.PORTAL,
                    created_at=reply_at,
                )
                for t, line, reply_at in replied
            ]
            Comment.objects.bulk_create(comments)
            events = [created_event(t, desk) for t in tickets]
            events += [
                TicketEvent(
                    ticket=comment.ticket,
                    kind=TicketEvent.Kind.REPLIED,
                    actor=comment.author,
                    created_at=comment.created_at,
                    public=True,
                    data={"comment": comment.pk, "staff": True, "channel": Channel.PORTAL},
                )
                for comment in comments
            ]
            TicketEvent.objects.bulk_create(events)
            Clock.objects.bulk_create(
                [
                    clock_row(t, state)
                    for t, p in zip(tickets, chunk, strict=True)
                    for state in p.shape.clocks
                ]
            )
            ids += [t.pk for t in tickets]
    for year, last in last_numbers.items():
        TicketNumberCounter.objects.update_or_create(
            prefix=prefix, year=year, defaults={"last": last}
        )
    seconds = perf_counter() - began
    answered = sum(p.shape.reply_at is not None for p in planned)
    per_line = [sum(p.line == line for p in planned) for line in LINE_WEIGHTS]
    result.add(Figure("load", f"bulk load of {count:,} open requests", seconds, "s"))
    result.notes.append(
        f"bulk load: {count:,} requests registered over the {SPREAD_MINUTES // 1440} days "
        f"before NOW, to the minute; lines 1/2/3: {'/'.join(f'{n:,}' for n in per_line)}; "
        f"{answered:,} with a staff reply, {count - answered:,} still waiting for one; "
        f"{shapes.computations:,} clock computations for {len(shapes.cache):,} distinct "
        f"(minute, priority) cases took {computed:.1f} s of the {seconds:.1f} s"
    )
    result.check(
        "no target of the regulation depends on the line (else the line is in the cache key)",
        not shapes.line_matters,
    )
    return ids


def created_event(ticket: Ticket, desk: Desk) -> TicketEvent:
    """The `created` event ticket_create writes, with the same data."""
    from reglament.tickets.models import TicketEvent

    contract = desk.contract
    return TicketEvent(
        ticket=ticket,
        kind=TicketEvent.Kind.CREATED,
        actor=ticket.requester,
        created_at=ticket.registered_at,
        public=True,
        data={
            "number": ticket.number,
            "status": ticket.status,
            "priority": ticket.priority,
            "impact": "",
            "workaround": "",
            "type": "",
            "category": "",
            "line": ticket.line,
            "channel": ticket.channel,
            "received_at": ticket.received_at.isoformat(),
            "contract": contract.pk,
            "tariff": contract.tariff.code,
            "regulation": desk.version.regulation_id,
            "version": desk.version.number,
        },
    )


def check_bulk_rows(ids: Sequence[int], seed: int, result: Result) -> None:
    """clocks_sync at NOW, on a sample of the bulk requests, must change and record nothing."""
    from django.db import transaction

    from reglament.sla.models import Clock
    from reglament.sla.services import clocks_sync
    from reglament.tickets.models import Ticket

    columns = [f.name for f in Clock._meta.concrete_fields if f.name not in ("id", "computed_at")]
    sample = random.Random(seed + 1).sample(list(ids), min(SAMPLE_CHECKED, len(ids)))
    tickets = Ticket.objects.filter(pk__in=sample).select_related(
        "contract__tariff__version", "version"
    )
    differing = recorded = 0
    with transaction.atomic():
        for ticket in tickets:
            clocks = Clock.objects.filter(ticket=ticket).order_by("metric")
            before = list(clocks.values(*columns))
            flags = (ticket.next_due_at, ticket.breached, ticket.at_risk)
            recorded += len(clocks_sync(ticket=ticket, now=NOW).events)
            after = list(clocks.values(*columns))
            stored = Ticket.objects.values_list("next_due_at", "breached", "at_risk").get(
                pk=ticket.pk
            )
            differing += before != after or flags != stored
        transaction.set_rollback(True)
    result.check(
        f"clocks_sync at NOW leaves the {len(sample)} sampled bulk requests as stored",
        differing == 0 and recorded == 0,
        f"{differing} would change, {recorded} warnings/breaches it would record",
    )


# ------------------------------------------------------- requests due to breach
def breach_batch(desk: Desk, count: int, seed: int, result: Result) -> None:
    """`count` requests, registered through ticket_create, whose reaction warning is
    past at NOW (and recorded by a sweep at NOW) and whose breach is due in
    (NOW, NOW + MARGIN], with no other timer of theirs due by then."""
    from reglament.sla.services import sla_sweep
    from reglament.tickets.services import ticket_create

    rng = random.Random(seed + 2)
    priorities, weights = list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values())
    lines, line_weights = list(LINE_WEIGHTS), list(LINE_WEIGHTS.values())
    chosen: list[tuple[datetime, str, int]] = []
    for _ in range(count * 100):
        if len(chosen) == count:
            break
        registered = NOW - timedelta(seconds=rng.randint(3 * 3600, 5 * 3600))
        priority = rng.choices(priorities, weights)[0]
        line = rng.choices(lines, line_weights)[0]
        states = clock_states(desk, registered, priority, line, None)
        reaction = [s for s in states if s.metric == "reaction" and s.state == "running"]
        others = [s for s in states if s.metric != "reaction"]
        if (
            reaction
            and reaction[0].warn_at is not None
            and reaction[0].due is not None
            and reaction[0].warn_at <= NOW < reaction[0].due <= NOW + MARGIN
            and not fires_by(others, NOW + MARGIN)
        ):
            chosen.append((registered, priority, line))
    progress(f"registering {len(chosen):,} requests through ticket_create")
    began = perf_counter()
    for k, (registered, priority, line) in enumerate(chosen):
        ticket_create(
            actor=desk.agents[1],
            requester=desk.requesters[k % REQUESTERS],
            subject=f"Выгрузка в учётную систему останавливается ({k + 1})",
            description="Выгрузка останавливается с ошибкой на середине.",
            priority=priority,
            line=line,
            now=registered,
        )
    seconds = perf_counter() - began
    report = sla_sweep(now=NOW)
    result.notes.append(
        f"breach batch: {len(chosen):,} requests registered 3–5 h before NOW by an agent "
        f"through ticket_create ({seconds:.1f} s); a sweep at NOW recorded {report.warnings:,} "
        "reaction warnings; each one's breach is due before NOW + 1 h"
    )
    result.check(
        f"{count:,} breach-batch requests made, their warnings recorded at NOW",
        len(chosen) == count and report.warnings == count and report.breaches == 0,
        f"{len(chosen):,} made, {report.warnings:,} warnings, {report.breaches:,} breaches",
    )


# ---------------------------------------------------------------- query plans
def captured_sql(run: Callable[[], object], table: str) -> str:
    """The first statement `run` sends that reads `table`: the selector's own query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run()
    return next((q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]), "")


def explain(sql: str) -> str:
    """SQLite: EXPLAIN QUERY PLAN. PostgreSQL: EXPLAIN ANALYZE (it runs the query)."""
    from django.db import connection

    if not sql:
        return "(query not captured)"
    sqlite = connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ANALYZE ") + sql)
        rows = cursor.fetchall()
    return "\n".join(str(row[-1] if sqlite else row[0]) for row in rows)


def analyze() -> None:
    """PostgreSQL: planner statistics, as autovacuum gathers them soon after a bulk
    load. SQLite: nothing; nothing runs ANALYZE on a deployed SQLite file either."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# ------------------------------------------------------------------ the queue
def bench_queue(desk: Desk, calls: int, result: Result) -> None:
    from reglament.tickets.models import Ticket
    from reglament.tickets.selectors import TicketFilter, ticket_list, ticket_queue

    worst: dict[str, list[float]] = {}
    for line in LINE_WEIGHTS:
        agent, filters = desk.agents[line], TicketFilter(line=line, is_open=True)

        def queue(line: int = line) -> object:
            return ticket_queue(line=line, limit=50)

        def listed(agent: User = agent, filters: TicketFilter = filters) -> object:
            return ticket_list(user=agent, filters=filters, limit=50)

        open_count = Ticket.objects.filter(is_open=True, line=line).count()
        progress(f"agent queue, line {line} ({open_count:,} open): {calls} calls of each")
        for name, run in (("ticket_queue", queue), ("ticket_list", listed)):
            spent = timings_ms(run, calls)
            result.add(
                Figure(
                    f"{name}.line{line}",
                    f"{name}, line {line} ({open_count:,} open): p50 / p99",
                    percentile(spent, 0.5),
                    "ms",
                    note=f"p99 {percentile(spent, 0.99):.1f} ms",
                )
            )
            if percentile(spent, 0.99) >= percentile(worst.get(name, [0.0]), 0.99):
                worst[name] = spent
            # Line 1 holds half of the open requests, line 3 a fifth: a planner may
            # walk another index of open requests for one and not the other.
            if (run is queue and line in (1, 3)) or (run is listed and line == 1):
                label = f"{name}(line={line})" if run is queue else f"{name}(agent1, line=1)"
                result.plans[label] = explain(captured_sql(run, "tickets_ticket"))
        if line == 1:
            rows = ticket_queue(line=line, limit=50)
            dues = [t.next_due_at for t in rows]
            result.check(
                "ticket_queue(line=1) gives 50 open line-1 requests, most urgent first",
                len(rows) == 50
                and all(t.is_open and t.line == 1 for t in rows)
                and None not in dues
                and dues == sorted(d for d in dues if d is not None),
            )
    for name, spent in worst.items():
        result.add(
            Figure(
                f"{name}.p99",
                f"{name}(limit=50), worst line: p99",
                percentile(spent, 0.99),
                "ms",
                goal=50,
                note=f"{calls} calls a line after {WARM_UP_CALLS} warm-up calls",
            )
        )
    for name, plan in result.plans.items():
        index = next((i for i in ("ticket_open_queue", "ticket_open_by_due") if i in plan), "")
        result.check(
            f"{name} walks a partial index of open requests in order, with no sort",
            bool(index) and not sorts(plan),
            f"{index or 'neither ticket_open_queue nor ticket_open_by_due'}"
            f"{', sorts' if sorts(plan) else ''}",
        )


def bench_queue_page(desk: Desk, calls: int, result: Result) -> None:
    """The queue page an agent opens (reglament.workspace): the view, its template and
    middleware, with the line's open requests; the query count must not depend on them."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from reglament.tickets.models import Ticket

    worst: list[float] = []
    for line in LINE_WEIGHTS:
        client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(desk.agents[line])

        def page(client: Client = client) -> object:
            response = client.get("/work/")
            if response.status_code != 200:
                raise RuntimeError(f"GET /work/ answered {response.status_code}")
            return response

        open_count = Ticket.objects.filter(is_open=True, line=line).count()
        progress(f"queue page, line {line} ({open_count:,} open): {calls} renders")
        spent = timings_ms(page, calls)
        with CaptureQueriesContext(connection) as queries:
            response = page()
        rows = response.content.count(b'class="queue__row ')  # type: ignore[attr-defined]
        result.add(
            Figure(
                f"queue_page.line{line}",
                f"GET /work/ (queue page), line {line} ({open_count:,} open): p50 / p99",
                percentile(spent, 0.5),
                "ms",
                note=f"p99 {percentile(spent, 0.99):.1f} ms, "
                f"{len(queries.captured_queries)} queries, {rows} rows",
            )
        )
        result.check(
            f"the queue page of line {line} shows 50 rows with a bounded query count",
            rows == 50 and len(queries.captured_queries) <= 15,
            f"{rows} rows, {len(queries.captured_queries)} queries",
        )
        if percentile(spent, 0.99) >= percentile(worst or [0.0], 0.99):
            worst = spent
    result.add(
        Figure(
            "queue_page.p99",
            "GET /work/ (queue page, 50 rows), worst line: p99",
            percentile(worst, 0.99),
            "ms",
            goal=200,
            note=f"{calls} renders a line after {WARM_UP_CALLS} warm-up renders",
        )
    )


def scans_whole(plan: str, table: str) -> bool:
    """Whether a query plan reads all of `table` (or all of one of its indexes)."""
    steps = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    for k, step in enumerate(steps):
        if step.startswith((f"SCAN {table}", f"Seq Scan on {table}")):
            return True
        following = steps[k + 1] if k + 1 < len(steps) else ""
        if " Scan using " in step and f" on {table}" in step and "Cond:" not in following:
            return True
    return False


def _gist(sql: str) -> str:
    """A short name for a statement: what it selects and the first table it reads."""
    kind = "SELECT COUNT(*)" if sql.startswith("SELECT COUNT(") else sql.split(maxsplit=1)[0]
    table = re.search(r'FROM\s+"(\w+)"', sql)
    return f"{kind} … FROM {table.group(1) if table else '?'}"


def sorts(plan: str) -> bool:
    """Whether a query plan sorts rows (SQLite: a temporary B-tree; PostgreSQL: Sort)."""
    steps = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    return any(
        step.startswith(("Sort ", "Incremental Sort ")) or "TEMP B-TREE" in step for step in steps
    )


# ---------------------------------------------------------------- the sweeper
def bench_sweeper(ticks: int, breaches: int, result: Result, profile: bool) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reglament.sla.services import SweepReport, sla_sweep
    from reglament.tickets.models import TicketEvent

    progress(f"{ticks} idle sweeper ticks at NOW")
    reports: list[SweepReport] = []
    spent = timings_ms(lambda: reports.append(sla_sweep(now=NOW)), ticks, warm_up=2)
    result.check(
        "every idle tick found nothing due",
        all(r.tickets == r.warnings == r.breaches == 0 for r in reports),
    )
    result.add(
        Figure(
            "sweep.idle.p50",
            "idle sweeper tick: p50 / p99",
            percentile(spent, 0.5),
            "ms",
            goal=50,
            note=f"p99 {percentile(spent, 0.99):.1f} ms; {ticks} ticks",
        )
    )
    with CaptureQueriesContext(connection) as queries:
        sla_sweep(now=NOW)
    statements = [q["sql"] for q in queries.captured_queries]
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    for k, sql in enumerate(selects, start=1):
        result.plans[f"idle sweeper tick, query {k} of {len(selects)}: {_gist(sql)}"] = explain(sql)
    tick_plans = "\n".join(explain(sql) for sql in selects)
    result.check(
        "the idle tick finds due clocks through the partial index clock_pending",
        "clock_pending" in tick_plans,
        f"{len(statements)} statements a tick",
    )
    scanned = [sql for sql in selects if scans_whole(explain(sql), "sla_clock")]
    result.check(
        "no query of the idle tick reads every clock",
        not scanned,
        "; ".join(_gist(sql) for sql in scanned),
    )

    progress(f"one sweep at NOW + 1 h recording {breaches:,} breaches")
    kind = TicketEvent.Kind.CLOCK_BREACHED
    before = TicketEvent.objects.filter(kind=kind).count()
    profiler = cProfile.Profile() if profile else None
    with CaptureQueriesContext(connection) as queries:
        began = perf_counter()
        if profiler:
            profiler.enable()
        report = sla_sweep(now=NOW + MARGIN)
        if profiler:
            profiler.disable()
        seconds = perf_counter() - began
    written = TicketEvent.objects.filter(kind=kind).count() - before
    result.add(
        Figure(
            "sweep.breaches",
            f"sweep recording {breaches:,} breaches",
            seconds,
            "s",
            goal=2.0 * breaches / DEFAULT_BREACHES,
            note=(
                f"{len(queries.captured_queries) / max(1, breaches):.1f} statements a breach; "
                f"{breaches / seconds:,.0f} breaches/s"
            ),
        )
    )
    result.check(
        f"the sweep recorded {breaches:,} breaches and wrote {breaches:,} breach events",
        report.breaches == breaches and written == breaches and report.warnings == 0,
        f"report: {report.breaches:,} breaches, {report.warnings:,} warnings in "
        f"{report.tickets:,} requests; {written:,} events written",
    )
    if profiler:
        result.notes.append("cProfile of the breach sweep:\n" + profile_text(profiler))


def profile_text(profiler: cProfile.Profile, lines: int = 30) -> str:
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(lines)
    return "\n".join("    " + line for line in stream.getvalue().strip().splitlines())


# ------------------------------------------------------------------- creating
def bench_direct_create(desk: Desk, creates: int, result: Result, profile: bool) -> None:
    """ticket_create in this process, one after another: the service's own cost."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reglament.tickets.services import ticket_create

    requester = desk.requesters[0]

    def create() -> object:
        return ticket_create(actor=requester, subject=HTTP_SUBJECT, priority="medium")

    progress(f"{creates} ticket_create calls in-process")
    with CaptureQueriesContext(connection) as queries:
        create()
    spent = timings_ms(create, creates, warm_up=5)
    result.add(
        Figure(
            "create.direct",
            "ticket_create in-process, sequential: p50 / p99",
            percentile(spent, 0.5),
            "ms",
            note=(
                f"p99 {percentile(spent, 0.99):.1f} ms; "
                f"{len(queries.captured_queries)} statements a request"
            ),
        )
    )
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(min(creates, 100)):
            create()
        profiler.disable()
        result.notes.append("cProfile of 100 ticket_create calls:\n" + profile_text(profiler))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    port: int
    pid: int
    log: Path


@contextmanager
def web_servers(count: int, logs: Path) -> Iterator[list[Server]]:
    """`count` `reglament web` processes on free loopback ports; stopped on exit."""
    servers: list[Server] = []
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            port = free_port()
            path = logs / f"web-{port}.log"
            with open(path, "wb") as log:
                processes.append(
                    subprocess.Popen(  # noqa: S603 - this interpreter, our own CLI
                        [*WEB_COMMAND, "--host", "127.0.0.1", "--port", str(port)],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=dict(os.environ),
                    )
                )
            servers.append(Server(port=port, pid=processes[-1].pid, log=path))
        for server, process in zip(servers, processes, strict=True):
            _wait_until_serving(server, process)
        yield servers
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = perf_counter() + SERVER_START_SECONDS
    while perf_counter() < deadline:
        if process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-1500:]
            raise RuntimeError(f"reglament web exited with code {process.returncode}: {tail}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/api/v1/health")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            sleep(0.2)
    raise RuntimeError(f"reglament web did not answer on port {server.port} in time")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_errors(servers: Sequence[Server]) -> list[str]:
    """The exceptions the servers logged, most frequent first, counted. A driver's
    error and Django's wrapper of it (the same message) count once."""
    found: dict[str, list[int]] = {}  # message: [Django's count, the others' count]
    for server in servers:
        for line in server.log.read_text(errors="replace").splitlines():
            head, _colon, message = line.partition(": ")
            if head.endswith(("Error", "Exception")) and "." in head and " " not in head:
                found.setdefault(message, [0, 0])[0 if head.startswith("django.") else 1] += 1
    ranked = sorted(((max(n), message) for message, n in found.items()), reverse=True)
    return [f"{count}× {message[:160]}" for count, message in ranked[:3]]


@dataclass(slots=True)
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # the first few, for the report
    errors: int = 0
    seconds: float = 0.0
    stopped_early: bool = False


def http_load(ports: Sequence[int], key: str, total: int) -> Load:
    """`total` POSTs from CLIENTS threads, each on a keep-alive connection of its own
    to ports[k % len(ports)]; a run stops after HTTP_DEADLINE_SECONDS whatever is left."""
    load = Load()
    lock = threading.Lock()
    numbers = iter(range(total))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    start = threading.Barrier(CLIENTS + 1)
    deadline = perf_counter() + HTTP_DEADLINE_SECONDS

    def client(port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        while True:
            with lock:
                k = next(numbers, None)
            if k is None:
                break
            if perf_counter() > deadline:
                load.stopped_early = True
                break
            body = json.dumps(
                {"subject": f"{HTTP_SUBJECT} {k}", "description": "", "priority": "medium"}
            )
            began = perf_counter()
            try:
                connection.request("POST", "/api/v1/tickets", body=body, headers=headers)
                response = connection.getresponse()
                payload, status = response.read(), response.status
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                payload, status = repr(error).encode(), 0
            spent = (perf_counter() - began) * 1000
            with lock:
                load.statuses[status] = load.statuses.get(status, 0) + 1
                load.latencies_ms.append(spent)
                if status != 201 or b'"number"' not in payload:
                    load.errors += 1
                    failure = f"{status} {_message(payload)}"
                    if failure not in load.failures and len(load.failures) < 3:
                        load.failures.append(failure)
        connection.close()

    threads = [
        threading.Thread(target=client, args=(ports[k % len(ports)],), daemon=True)
        for k in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = perf_counter()
    for thread in threads:
        thread.join()
    load.seconds = perf_counter() - began
    return load


def _message(payload: bytes) -> str:
    """An error answer in short: the API's `code: message`, else its first characters."""
    try:
        body = json.loads(payload)
        return f"{body['code']}: {body['message']}"
    except (ValueError, KeyError, TypeError):
        return payload[:200].decode(errors="replace")


def bench_http(desk: Desk, requests: int, workdir: Path, result: Result) -> None:
    from django.db import connections

    from reglament.accounts.services import token_create
    from reglament.tickets.models import Ticket

    _token, key = token_create(user=desk.requesters[0], name="benchmark")
    made = Ticket.objects.filter(subject__startswith=f"{HTTP_SUBJECT} ")
    before = made.count()
    connections.close_all()  # the servers write now; this process only counts afterwards
    warm_up = max(CLIENTS * 4, requests // 10)
    answered = 0
    for processes in WEB_PROCESSES:
        label = f"{processes} web process{'es' if processes > 1 else ''}"
        progress(f"HTTP, {label}: {warm_up} warm-up + {requests:,} creates, {CLIENTS} clients")
        try:
            with web_servers(processes, workdir) as servers:
                ports = [server.port for server in servers]
                warm = http_load(ports, key, warm_up)
                if warm.statuses.get(201, 0) == 0:
                    result.notes.append(
                        f"create over HTTP not measured: POST /api/v1/tickets answered "
                        f"{'; '.join(warm.failures) or 'nothing'}"
                    )
                    break
                server_cpu = [cpu_seconds(server.pid) for server in servers]
                client_cpu = process_time()
                load = http_load(ports, key, requests)
                client_cpu = process_time() - client_cpu
                server_cpu = [
                    None if was is None or now is None else now - was
                    for was, now in zip(
                        server_cpu, [cpu_seconds(server.pid) for server in servers], strict=True
                    )
                ]
        except RuntimeError as error:
            result.notes.append(f"create over HTTP not measured ({label}): {error}")
            break
        answered += warm.statuses.get(201, 0) + load.statuses.get(201, 0)
        _http_figures(result, label, f"http.{processes}", load, warm)
        done = len(load.latencies_ms)
        if done and None not in server_cpu:
            spent = sum(c for c in server_cpu if c is not None)
            result.add(
                Figure(
                    f"http.{processes}.cpu",
                    f"create over HTTP, {label}: web CPU a request",
                    spent / done * 1000,
                    "ms",
                    note=(
                        f"the web process{'es' if processes > 1 else ''} busy "
                        f"{spent / load.seconds:.0%} of a core; the load generator "
                        f"{client_cpu / done * 1000:.1f} ms a request"
                    ),
                )
            )
        failures = dict.fromkeys(warm.failures + load.failures)
        result.notes += [f"{label}: failed requests answered {failure}" for failure in failures]
        result.notes += [f"{label}: the server logged {line}" for line in server_errors(servers)]
        if load.stopped_early:
            result.notes.append(f"{label}: stopped after {HTTP_DEADLINE_SECONDS:.0f} s")
    if answered:
        result.check(
            "every 201 answer is a request in the database",
            made.count() - before == answered,
            f"{answered:,} answers, {made.count() - before:,} requests",
        )


def _http_figures(result: Result, label: str, tag: str, load: Load, warm: Load) -> None:
    done = len(load.latencies_ms)
    statuses = ", ".join(f"{n:,}× {s or 'no answer'}" for s, n in sorted(load.statuses.items()))
    result.add(
        Figure(
            f"{tag}.rate",
            f"create over HTTP, {label}: throughput",
            done / load.seconds if done else None,
            "/s",
            goal=200,
            comparison=">=",
            note=f"{done:,} requests in {load.seconds:.1f} s",
        )
    )
    result.add(
        Figure(
            f"{tag}.p99",
            f"create over HTTP, {label}: p99 (p50)",
            percentile(load.latencies_ms, 0.99) if done else None,
            "ms",
            goal=100,
            note=f"p50 {percentile(load.latencies_ms, 0.5):.1f} ms" if done else "",
        )
    )
    result.add(
        Figure(
            f"{tag}.errors",
            f"create over HTTP, {label}: errors",
            load.errors + warm.errors,
            "",
            goal=0,
            comparison="==",
            note=f"{statuses} (warm-up: {warm.errors} errors)",
        )
    )


# ------------------------------------------------------------ one database run
def run_backend(args: argparse.Namespace) -> Result:
    """Everything on one database; runs in a child process of its own."""
    workdir = Path(tempfile.mkdtemp(prefix=f"reglament-bench-{args.database}-"))
    result = Result(
        backend=args.database,
        sizes={"open": args.open, "breaches": args.breaches, "requests": args.requests},
    )
    began = perf_counter()
    result.load_average.append(os.getloadavg()[0])
    try:
        with database_environment(args.database, workdir):
            _run_on_database(args, workdir, result)
    except RefusedError as error:
        result.error = f"refused: {error}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result.load_average.append(os.getloadavg()[0])
    result.seconds = perf_counter() - began
    return result


def _run_on_database(args: argparse.Namespace, workdir: Path, result: Result) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    progress(f"{TITLES[args.database]}: migrate")
    call_command("migrate", interactive=False, verbosity=0)
    result.database = database_label()
    desk = desk_create()
    ids = bulk_load(desk, args.open - args.breaches, args.seed, result)
    check_bulk_rows(ids, args.seed, result)
    breach_batch(desk, args.breaches, args.seed, result)
    analyze()
    bench_queue(desk, args.queue_calls, result)
    bench_queue_page(desk, args.queue_calls, result)
    bench_sweeper(args.idle_ticks, args.breaches, result, args.profile)
    bench_direct_create(desk, args.direct_creates, result, args.profile)
    bench_http(desk, args.requests, workdir, result)


# ------------------------------------------------------------------- printing
def _value_text(figure: Figure) -> str:
    value, unit = figure.value, figure.unit
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    return f"{value:,.0f}"


def _goal_text(figure: Figure) -> str:
    if figure.goal is None:
        return ""
    sign = {"<": "<", ">=": "≥", "==": "="}[figure.comparison]
    unit = {"ms": " ms", "s": " s", "/s": "/s", "": ""}[figure.unit]
    return f"{sign} {figure.goal:,g}{unit}"


def print_result(result: Result) -> None:
    print()
    print(f"{TITLES[result.backend]}: {result.database or '-'}")
    if result.error:
        print(f"  {result.error}")
        return
    sizes = result.sizes
    print(
        f"  {sizes['open']:,} open requests ({sizes['breaches']:,} breaching after NOW); "
        f"NOW = {NOW:%Y-%m-%d %H:%M} UTC (a Wednesday, 15:00 in Moscow); "
        f"regulation {REGULATION}, tariff {TARIFF}"
    )
    rows = [(f.text, _value_text(f), _goal_text(f), f.verdict, f.note) for f in result.figures]
    widths = [max((len(row[k]) for row in rows), default=0) for k in range(4)]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2])]
        print("  " + "  ".join([*cells, row[3].ljust(widths[3]), row[4]]).rstrip())
    for name, plan in result.plans.items():
        print(f"  plan of {name}:")
        for line in plan.splitlines():
            print(f"    {line}")
    for note in result.notes:
        print(f"  {note}")
    print("  self-checks:")
    for text, verdict in result.checks.items():
        print(f"    {text}: {verdict}")
    shown = " → ".join(f"{value:.2f}" for value in result.load_average)
    print(f"  run time {result.seconds:.0f} s; 1-minute load average {shown} (2 CPUs)")


def print_goals(results: Sequence[Result]) -> None:
    """The goals, every database side by side."""
    print()
    print("Goals (set for PostgreSQL on a 2-core machine; informational, never a failure)")
    rows: dict[str, tuple[str, str, dict[str, str]]] = {}
    for result in results:
        for figure in result.figures:
            if figure.goal is not None:
                _text, _goal, cells = rows.setdefault(
                    figure.key, (figure.text, _goal_text(figure), {})
                )
                cells[result.backend] = f"{_value_text(figure)}  {figure.verdict}"
    backends = [r.backend for r in results if not r.error]
    table = [["figure", "goal", *(TITLES[b] for b in backends)]]
    table += [
        [text, goal, *(cells.get(b, "-") for b in backends)] for text, goal, cells in rows.values()
    ]
    widths = [max(len(row[k]) for row in table) for k in range(len(table[0]))]
    for k, row in enumerate(table if rows else []):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            print("  " + "  ".join("-" * w for w in widths))
    for result in results:
        if result.error:
            print(f"  {TITLES[result.backend]}: {result.error}")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


# ----------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks tickets", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_OPEN:,} open requests, {QUICK_BREACHES} breaches, {QUICK_REQUESTS} creates",
    )
    parser.add_argument("--open", type=int, help=f"open requests (default {DEFAULT_OPEN:,})")
    parser.add_argument(
        "--breaches",
        type=int,
        help=f"of them, breaching in the sweep (default {DEFAULT_BREACHES:,})",
    )
    parser.add_argument(
        "--requests", type=int, help=f"HTTP creates a run (default {DEFAULT_REQUESTS:,})"
    )
    parser.add_argument(
        "--database",
        choices=[*BACKENDS, "all"],
        default="all",
        help="all (default): SQLite, and PostgreSQL when DATABASE_URL is set",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--profile", action="store_true", help="cProfile the slow paths")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # internal: result file
    args = parser.parse_args(argv)
    quick = args.quick
    args.open = args.open or (QUICK_OPEN if quick else DEFAULT_OPEN)
    if args.breaches is None:
        args.breaches = QUICK_BREACHES if quick else DEFAULT_BREACHES
    args.requests = args.requests or (QUICK_REQUESTS if quick else DEFAULT_REQUESTS)
    args.queue_calls = QUICK_QUEUE_CALLS if quick else QUEUE_CALLS
    args.idle_ticks = QUICK_IDLE_TICKS if quick else IDLE_TICKS
    args.direct_creates = QUICK_DIRECT_CREATES if quick else DIRECT_CREATES
    if not 0 < args.breaches < args.open:
        parser.error("--breaches must be at least 1 and less than --open")
    if args.child is not None and args.database == "all":
        parser.error("--child needs --database sqlite or postgresql")
    return args


def child_arguments(args: argparse.Namespace, backend: str, out: Path) -> list[str]:
    chosen = ["--open", str(args.open), "--breaches", str(args.breaches)]
    chosen += ["--requests", str(args.requests), "--seed", str(args.seed)]
    chosen += ["--quick"] if args.quick else []
    chosen += ["--profile"] if args.profile else []
    return [*chosen, "--database", backend, "--child", str(out)]


def each_database(
    args: argparse.Namespace,
    *,
    module: str,
    title: str,
    packages: Sequence[str],
    child_arguments: Callable[[argparse.Namespace, str, Path], list[str]],
    show: Callable[[Result], None],
) -> list[Result]:
    """Run `module` once per database chosen, each in a child process with a throw-away
    database, print each result with `show` and then the goals; the results."""
    url = os.environ.get("DATABASE_URL", "")
    machine = describe_machine()
    print(title)
    print(f"  machine : {machine['cpu']} ({machine['cpu_count']} CPUs), {machine['platform']}")
    print(f"  python {machine['python']}, " + ", ".join(f"{n} {_version(n)}" for n in packages))
    if url and urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        print(f"  DATABASE_URL is not a PostgreSQL URL ({urlsplit(url).scheme}:); not used")
        url = ""
    backends = list(BACKENDS) if args.database == "all" else [args.database]
    if not url:
        if args.database == "postgresql":
            print("  PostgreSQL needs DATABASE_URL=postgres://user:password@host:port/database")
        backends = [b for b in backends if b != "postgresql"]

    results = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="reglament-bench-") as scratch:
            out = Path(scratch) / "result.json"
            env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
            env["BENCH_POSTGRESQL_URL"] = url
            child = subprocess.run(  # noqa: S603 - this interpreter, this module
                [sys.executable, "-m", module, *child_arguments(args, backend, out)],
                env=env,
                cwd=ROOT,
                check=False,
            )
            if child.returncode or not out.exists():
                result = Result(
                    backend=backend, error=f"the run failed (exit code {child.returncode})"
                )
            else:
                data = json.loads(out.read_text(encoding="utf-8"))
                data["figures"] = [Figure(**figure) for figure in data["figures"]]
                result = Result(**data)
        results.append(result)
        show(result)
    print_goals(results)
    return results


def write_json(path: Path | None, results: Sequence[Result]) -> None:
    if path is not None:
        path.write_text(
            json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        result = run_backend(args)
        args.child.write_text(json.dumps(asdict(result), ensure_ascii=False), encoding="utf-8")
        return 0
    results = each_database(
        args,
        module="benchmarks.tickets",
        title="Reglament tickets benchmark: create over HTTP, the agent queue, the SLA sweeper",
        packages=("django", "django-ninja", "uvicorn", "psycopg"),
        child_arguments=child_arguments,
        show=print_result,
    )
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
