"""Mail benchmark: e-mail intake throughput, parse-only and from a filled IMAP mailbox.

Each database gets a throw-away copy of its own, as in ``benchmarks/tickets.py``
(a SQLite file in a temporary directory; with ``DATABASE_URL`` naming a
PostgreSQL server, a database created for the run and dropped after it), and
each is measured in a child process of its own. Raw mail goes to a temporary
``REGLAMENT_MAIL_DIR``, attachments to a temporary directory: ``var/`` is not
touched.

In each database, after ``migrate``:

1. the regulation ``regulations/cera.yaml`` (tariff ``standard``), a customer
   with 20 requesters, 20 open requests of theirs (the ones replies and bounces
   name by token) and a mailbox ``support@vendor.example``;
2. a corpus of 1,000 messages (``--quick``: 200), built here, each with the
   outcome it must have: new requests from the requesters (utf-8, some with an
   HTML part; windows-1251; a few with attachments), replies carrying our reply
   token (Gmail, Outlook, Yandex, Mail.ru, Thunderbird templates), replies
   whose In-Reply-To names an earlier new request of the batch, DSN and
   plain-text bounces, out-of-office auto-replies (on a request, or about
   nothing) and a no-reply notification. The templates are the parser's
   fixtures (``reglament/domain/tests/mail/fixtures``, read only) with their
   sender, Message-ID and ``TOKEN`` placeholders replaced;
3. parse only: ``parse_message`` + ``split_reply`` + ``automatic_reason`` +
   ``bounce`` over the corpus, the best of three rounds after a warm-up one;
4. end to end: the corpus APPENDed to a throw-away Dovecot on 127.0.0.1 (the
   tests' ``start_dovecot``; not timed), then timed: ``mailbox_poll`` until the
   folder is drained (each message written to disk and committed), then
   ``inbound_process_pending`` into requests, replies and notes. Afterwards
   every message must be exactly one row with the outcome planned for it; a
   run where that does not hold is reported as broken (exit code 1), since its
   figures would measure a broken path.

5. with several workers (``--workers N``, default 2; 1 skips it): a second corpus
   (the next seed: other Message-IDs) APPENDed to another folder of another
   mailbox, then timed from the start of N forked processes until every message
   is processed. Each loops over the worker tick's own steps
   (``tasks.mail_poll_all``, ``tasks.mail_process_all``), as ``reglament worker`` × N
   does: one polls (the mailbox lease) while the others process what is stored.
   The same self-checks apply.

Where the intake queues its answers (acknowledgements) in the same transaction,
that is part of the processing time (the hourly caps on automatic replies are
lifted, so each new request's acknowledgement is queued); what was queued is
counted, nothing is sent.

This is not a test: it prints figures and the goal ("met" / "NOT met") and
exits 0 whatever the timings. Options: ``--quick``, ``--messages N``,
``--database sqlite|postgresql|all``, ``--seed S``, ``--workers N``, ``--profile DIR``
(cProfile statistics of the poll and process phases; slower figures), ``--json PATH``.
"""

# print() (T201) is allowed in benchmarks/ by pyproject.toml's per-file-ignores.

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from email.header import Header
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path
from time import perf_counter, process_time, sleep
from typing import TYPE_CHECKING

from benchmarks.tickets import (
    BACKENDS,
    TITLES,
    Figure,
    RefusedError,
    Result,
    _goal_text,
    _value_text,
    database_environment,
    database_label,
    each_database,
    progress,
    write_json,
)

if TYPE_CHECKING:
    import multiprocessing.queues

    from django.contrib.auth.models import User

    from reglament.mailbox.models import Mailbox
    from reglament.tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "reglament" / "domain" / "tests" / "mail" / "fixtures"
REGULATION, TARIFF = "cera", "standard"
DOMAIN = "vendor.example"
MAILBOX_ADDRESS = f"support@{DOMAIN}"
REQUESTERS = 20
SEED_REQUESTS = 20  # open requests that token replies, bounces and auto-replies name

DEFAULT_SEED = 20261130
DEFAULT_MESSAGES, QUICK_MESSAGES = 1_000, 200
PARSE_ROUNDS = 3  # timed, after one warm-up round
AUTO_REPLY_CAP = 1_000_000  # acknowledgements an hour, per sender and per mailbox
GOAL_END_TO_END = 50  # messages/s, PostgreSQL on 2 cores (issue 7, section 6)
DEFAULT_WORKERS, MAX_WORKERS = 2, 8  # the run with workers side by side
WORKERS_TIMEOUT = 600.0  # seconds; a run with workers still busy then is broken

# Shares of the corpus; new_utf8 takes what rounding leaves.
MIX = {
    "new_utf8": 0.35,
    "new_cp1251": 0.12,
    "new_attachment": 0.04,
    "reply_token": 0.18,
    "reply_in_reply_to": 0.10,
    "bounce": 0.08,
    "auto_reply_on_request": 0.08,
    "auto_reply_about_nothing": 0.05,
}
NEW_KINDS = ("new_utf8", "new_cp1251", "new_attachment")
EXPECTED = {  # kind → the outcome processing must give
    "new_utf8": "created",
    "new_cp1251": "created",
    "new_attachment": "created",
    "reply_token": "replied",
    "reply_in_reply_to": "replied",
    "bounce": "bounce",
    "auto_reply_on_request": "recorded",
    "auto_reply_about_nothing": "ignored",
}
REPLY_TEMPLATES = (
    "gmail_reply_ru.eml",
    "outlook_web_reply_ru_cp1251.eml",
    "yandex_reply_ru.eml",
    "mailru_reply_ru.eml",
    "thunderbird_reply_ru.eml",
)
BOUNCE_TEMPLATES = ("dsn_bounce.eml", "bounce_plain_ru.eml")
_PLACEHOLDER_TOKEN = re.compile(rb"\b[A-Z]+-\d{4}-\d{6}\.TOKEN\b")

SUBJECTS = (
    "Касса не печатает чеки",
    "Не открывается отчёт по продажам",
    "Ошибка при выгрузке в учётную систему",
    "Не проходит оплата картой",
    "Не обновляются цены на кассах",
    "Вопрос по настройке скидок",
)
BODY = (
    "Здравствуйте!\n\nС утра {thing}. Перезагрузка не помогла, ошибка повторяется "
    "на всех рабочих местах магазина №{shop}.\n\nПросим разобраться как можно скорее.\n\n"
    "--\nС уважением,\n{name}\nООО «Ромашка», тел. +7 495 123-45-67\n"
)
THINGS = ("касса не печатает чеки", "не открывается отчёт", "выгрузка останавливается")
PDF = b"%PDF-1.4\n" + b"0" * 12_000 + b"\n%%EOF\n"


class BrokenRunError(Exception):
    """The run did not do what the benchmark measures (the message says what differed)."""


# ---------------------------------------------------------------------- corpus
@dataclass(frozen=True, slots=True)
class Planned:
    """One message of the corpus and the outcome processing must give it."""

    kind: str
    message_id: str  # without angle brackets
    raw: bytes

    @property
    def expected(self) -> str:
        return EXPECTED[self.kind]


def replace_headers(raw: bytes, fields: dict[str, str]) -> bytes:
    """`raw` with the named header fields (any case, folded lines included) replaced,
    or added when missing; the body untouched."""
    newline = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    head, separator, body = raw.partition(newline + newline)
    names = {name.lower(): name for name in fields}
    written: set[str] = set()
    lines: list[bytes] = []
    skipping = False
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                lines.append(line)
            continue
        name = line.split(b":", 1)[0].decode("ascii", "replace").strip().lower()
        skipping = name in names
        if not skipping:
            lines.append(line)
        elif name not in written:  # a repeated field is dropped
            written.add(name)
            lines.append(f"{names[name]}: {fields[names[name]]}".encode())
    lines += [f"{names[n]}: {fields[names[n]]}".encode() for n in names if n not in written]
    return newline.join(lines) + separator + body


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _text_mail(
    *,
    sender: str,
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str | None = None,
    html: bool = False,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"Служба поддержки <{MAILBOX_ADDRESS}>"
    message["Subject"] = subject
    message["Date"] = format_datetime(_now())
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    message.set_content(body)
    if html:
        paragraphs = "".join(f"<p>{line}</p>" for line in body.splitlines() if line)
        message.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    return message.as_bytes()


def _cp1251_mail(
    *, sender: str, subject: str, body: str, message_id: str, attachment: bool
) -> bytes:
    """Outlook-style windows-1251 mail, the subject in windows-1251 encoded-words."""
    text = MIMEText(body, "plain", "windows-1251")
    message: MIMEMultipart | MIMEText = text
    if attachment:
        message = MIMEMultipart()
        message.attach(text)
        part = MIMEApplication(PDF, "pdf")
        part.add_header(
            "Content-Disposition", "attachment", filename=("utf-8", "", "Счёт на оплату.pdf")
        )
        message.attach(part)
    message["From"] = sender
    message["To"] = MAILBOX_ADDRESS
    message["Subject"] = Header(subject, "windows-1251").encode()
    message["Date"] = format_datetime(_now())
    message["Message-ID"] = f"<{message_id}>"
    return message.as_bytes()


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


def build_corpus(
    count: int, seed: int, requesters: Sequence[User], seeds: Sequence[Ticket]
) -> list[Planned]:
    """`count` mixed messages in APPEND order; replies by In-Reply-To name an earlier
    new request of the batch from the same person."""
    from reglament.domain.mail.threads import token
    from reglament.mailbox.intake import mail_secret

    rng = random.Random(seed)
    secret = mail_secret()
    sizes = {kind: round(share * count) for kind, share in MIX.items()}
    sizes["new_utf8"] += count - sum(sizes.values())
    kinds = [kind for kind, n in sizes.items() for _ in range(n)]
    rng.shuffle(kinds)
    earlier_new: list[tuple[str, str, str]] = []  # (message id, sender, subject)
    corpus: list[Planned] = []
    for index, kind in enumerate(kinds):
        if kind == "reply_in_reply_to" and not earlier_new:
            kind = "new_utf8"  # nothing to answer yet
        message_id = f"bench.{seed}.{index:05d}@customer.example"
        person = requesters[rng.randrange(len(requesters))]
        sender = formataddr((person.get_full_name() or person.username, person.email), "utf-8")
        ticket = seeds[rng.randrange(len(seeds))]
        ticket_token = token(ticket.number, secret=secret).encode()
        subject = f"{rng.choice(SUBJECTS)} ({index + 1})"
        body = BODY.format(
            thing=rng.choice(THINGS), shop=rng.randint(1, 40), name=person.get_full_name()
        )
        if kind == "new_utf8":
            raw = _text_mail(
                sender=sender,
                subject=subject,
                body=body,
                message_id=message_id,
                html=bool(index % 2),
            )
        elif kind == "new_cp1251":
            raw = _cp1251_mail(
                sender=sender, subject=subject, body=body, message_id=message_id, attachment=False
            )
        elif kind == "new_attachment":
            if index % 2:
                raw = replace_headers(
                    _fixture("attachments_cyrillic.eml"),
                    {"From": sender, "Message-ID": f"<{message_id}>"},
                )
            else:
                raw = _cp1251_mail(
                    sender=sender,
                    subject=subject,
                    body=body,
                    message_id=message_id,
                    attachment=True,
                )
        elif kind == "reply_token":
            # The request's own requester answers our mail (To and In-Reply-To carry
            # the token of the request).
            owner = ticket.requester
            template = _PLACEHOLDER_TOKEN.sub(
                ticket_token, _fixture(REPLY_TEMPLATES[index % len(REPLY_TEMPLATES)])
            )
            raw = replace_headers(
                template,
                {
                    "From": formataddr((owner.get_full_name(), owner.email), "utf-8"),
                    "Message-ID": f"<{message_id}>",
                },
            )
        elif kind == "reply_in_reply_to":
            answered, sender, first_subject = rng.choice(earlier_new)
            raw = _text_mail(
                sender=sender,
                subject=f"Re: {first_subject}",
                body="Дополняю: ошибка появляется и на резервной кассе.\n\n"
                + "\n".join(f"> {line}" for line in body.splitlines()),
                message_id=message_id,
                in_reply_to=answered,
            )
        elif kind == "bounce":
            template = _PLACEHOLDER_TOKEN.sub(
                ticket_token, _fixture(BOUNCE_TEMPLATES[index % len(BOUNCE_TEMPLATES)])
            )
            raw = replace_headers(template, {"Message-ID": f"<{message_id}>"})
        elif kind == "auto_reply_on_request":
            template = _PLACEHOLDER_TOKEN.sub(ticket_token, _fixture("out_of_office_ru.eml"))
            raw = replace_headers(template, {"Message-ID": f"<{message_id}>"})
        else:  # auto_reply_about_nothing: its placeholder token threads nowhere
            name = "noreply_notification.eml" if index % 3 == 0 else "out_of_office_ru.eml"
            raw = replace_headers(_fixture(name), {"Message-ID": f"<{message_id}>"})
        if kind in NEW_KINDS:
            earlier_new.append((message_id, sender, subject))
        corpus.append(Planned(kind, message_id, raw))
    return corpus


# ------------------------------------------------------------------------ desk
@dataclass(slots=True)
class Desk:
    requesters: list[User]
    seeds: list[Ticket]


def desk_create() -> Desk:
    """The regulation, a vendor with an agent, a customer with requesters and their
    open requests (registered through ticket_create, as the portal does)."""
    from reglament.accounts.models import Membership, Organisation
    from reglament.accounts.services import organisation_create, person_create
    from reglament.regulations.services import contract_create, regulation_load
    from reglament.tickets.services import ticket_create

    path = ROOT / "regulations" / f"{REGULATION}.yaml"
    version, _created = regulation_load(data=path.read_bytes(), name=path.name)
    vendor = organisation_create(name="Вендор (бенчмарк)", kind=Organisation.Kind.VENDOR)
    person_create(
        username="agent1",
        password=None,
        organisation=vendor,
        role=Membership.Role.AGENT,
        line=1,
        email="agent1@vendor.test",
    )
    customer = organisation_create(name="ООО «Ромашка» (бенчмарк)", kind=Organisation.Kind.CUSTOMER)
    contract_create(
        organisation=customer, version=version, tariff=TARIFF, valid_from=date(2024, 1, 1)
    )
    requesters = [
        person_create(
            username=f"requester{k}",
            password=None,
            organisation=customer,
            role=Membership.Role.REQUESTER,
            email=f"requester{k}@customer.test",
            first_name=f"Иван{k}",
            last_name="Петров",
        )
        for k in range(1, REQUESTERS + 1)
    ]
    seeds = [
        ticket_create(
            actor=requesters[k % REQUESTERS],
            requester=requesters[k % REQUESTERS],
            regulation=REGULATION,
            subject=f"Не открывается отчёт по продажам ({k + 1})",
            description="После обновления отчёт по продажам не открывается.",
        )
        for k in range(SEED_REQUESTS)
    ]
    return Desk(requesters=requesters, seeds=seeds)


def mailbox_create(
    host: str, port: int, user: str, password: str, folder: str, *, name: str = "support"
) -> Mailbox:
    from reglament.mailbox.services import mailbox_add

    return mailbox_add(
        name=name,
        address=MAILBOX_ADDRESS if name == "support" else f"{name}@{DOMAIN}",
        regulation=REGULATION,
        imap_host=host,
        imap_port=port,
        security="none",
        username=user,
        secret=password,
        folder=folder,
    )


# ------------------------------------------------------------------ parse only
def bench_parse(corpus: Sequence[Planned], result: Result) -> None:
    from django.conf import settings

    from reglament.domain.mail import automatic_reason, bounce, parse_message, split_reply

    max_bytes = settings.REGLAMENT_MAIL_MAX_BYTES
    loop_header = settings.REGLAMENT_MAIL_LOOP_HEADER
    raws = [planned.raw for planned in corpus]

    def one_round() -> tuple[int, int]:
        automatic = bounces = 0
        for raw in raws:
            parsed = parse_message(raw, max_bytes=max_bytes)
            split_reply(parsed.text)
            automatic += automatic_reason(parsed, loop_header=loop_header) is not None
            bounces += bounce(parsed) is not None
        return automatic, bounces

    progress(f"parse only: {len(raws):,} messages, 1 + {PARSE_ROUNDS} rounds")
    counted = one_round()
    rounds = []
    for _ in range(PARSE_ROUNDS):
        began = perf_counter()
        one_round()
        rounds.append(perf_counter() - began)
    best = min(rounds)
    megabytes = sum(len(raw) for raw in raws) / 1e6
    result.add(
        Figure(
            "parse.rate",
            "parse only: parse_message + split_reply + automatic_reason + bounce",
            len(raws) / best,
            "/s",
            note=(
                f"{best / len(raws) * 1000:.2f} ms a message; best of {PARSE_ROUNDS} rounds "
                f"over {len(raws):,} messages ({megabytes:.1f} MB); "
                f"slowest round {max(rounds):.2f} s"
            ),
        )
    )
    kinds = Counter(planned.kind for planned in corpus)
    want_bounces = kinds["bounce"]
    # Bounces come from MAILER-DAEMON (automatic too); the out-of-office replies carry
    # Auto-Submitted, the notification a no-reply sender.
    want_automatic = (
        want_bounces + kinds["auto_reply_on_request"] + kinds["auto_reply_about_nothing"]
    )
    if counted != (want_automatic, want_bounces):
        raise BrokenRunError(
            f"parse only: {counted[0]} automatic and {counted[1]} bounces recognised, "
            f"{want_automatic} and {want_bounces} planned"
        )
    result.check(
        "parse only: automatic mail and bounces recognised as planned",
        True,
        f"{want_automatic} automatic, of them {want_bounces} bounces",
    )


# ------------------------------------------------------------------ end to end
def bench_end_to_end(
    corpus: Sequence[Planned],
    dovecot_root: Path,
    result: Result,
    *,
    profile: Path | None = None,
    second: Sequence[Planned] = (),
    workers: int = 1,
) -> None:
    from reglament.mailbox.tests.dovecot import DOVECOT, INSTALL_HINT, start_dovecot

    if not DOVECOT.exists():
        raise BrokenRunError(f"end to end not measured: {INSTALL_HINT}")
    progress("starting Dovecot on 127.0.0.1")
    server = start_dovecot(dovecot_root / "server")
    try:
        folder = server.new_folder("bench")
        progress(f"APPEND of {len(corpus):,} messages")
        began = perf_counter()
        server.append(folder, *(planned.raw for planned in corpus))
        appended = perf_counter() - began
        result.notes.append(
            f"setup, not timed: APPEND of {len(corpus):,} messages to Dovecot "
            f"{_dovecot_version()} took {appended:.1f} s"
        )
        mailbox = mailbox_create(
            server.host, server.port, "support", server.users["support"], folder
        )
        _poll_and_process(corpus, mailbox, result, profile=profile)
        if second and workers > 1:
            mailbox.enabled = False  # drained; the workers poll only the second one
            mailbox.save(update_fields=["enabled"])
            folder = server.new_folder("bench-workers")
            progress(f"APPEND of {len(second):,} more messages")
            server.append(folder, *(planned.raw for planned in second))
            other = mailbox_create(
                server.host,
                server.port,
                "support",
                server.users["support"],
                folder,
                name="support-workers",
            )
            _with_workers(second, other, workers, result)
    finally:
        server.stop()


def _dovecot_version() -> str:
    from reglament.mailbox.tests.dovecot import DOVECOT

    answer = subprocess.run(  # noqa: S603 - the installed Dovecot, asked its version
        [str(DOVECOT), "--version"], capture_output=True, text=True, check=False
    )
    return answer.stdout.split()[0] if answer.stdout else "?"


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


@contextmanager
def _profiled(profile: Path | None, phase: str) -> Iterator[None]:
    """With --profile: the phase under cProfile, its statistics added to
    PATH/<phase>-<database>.prof (read them with `python -m pstats`). The figures of a
    profiled run are slower than without it."""
    if profile is None:
        yield
        return
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profile.mkdir(parents=True, exist_ok=True)
        path = profile / f"{phase}-{connection_vendor()}.prof"
        stats = pstats.Stats(profiler)
        if path.exists():
            stats.add(str(path))
        stats.dump_stats(path)


def _poll_and_process(
    corpus: Sequence[Planned], mailbox: Mailbox, result: Result, *, profile: Path | None
) -> None:
    from django.conf import settings
    from django.db import connection

    from reglament.mailbox.imap import mailbox_poll
    from reglament.mailbox.intake import inbound_process_pending
    from reglament.tickets.models import Ticket

    count = len(corpus)
    tickets_before = Ticket.objects.count()
    progress(f"poll: mailbox_poll until the folder is drained ({count:,} messages)")
    statements = StatementCounter()
    cpu = process_time()
    began = perf_counter()
    polls = stored = duplicates = rejected = 0
    while True:
        with connection.execute_wrapper(statements), _profiled(profile, "poll"):
            answer = mailbox_poll(mailbox)
        polls += 1
        if not answer.ok:
            raise BrokenRunError(f"poll {polls} failed: {answer.error}")
        stored += answer.stored
        duplicates += answer.duplicates
        rejected += answer.rejected
        if not answer.left:
            break
        mailbox.refresh_from_db()
    polled = perf_counter() - began
    poll_cpu = process_time() - cpu
    poll_statements, statements.count = statements.count, 0
    progress(f"process: inbound_process_pending ({stored:,} stored messages)")
    cpu = process_time()
    began = perf_counter()
    with connection.execute_wrapper(statements), _profiled(profile, "process"):
        outcomes = inbound_process_pending()
    processed = perf_counter() - began
    process_cpu = process_time() - cpu

    total = polled + processed
    result.add(
        Figure(
            "poll.rate",
            "poll: mailbox_poll, each message on disk and committed",
            count / polled,
            "/s",
            note=f"{polled:.2f} s, {polls} poll{'s' if polls > 1 else ''} of at most "
            f"{settings.REGLAMENT_MAIL_POLL_BATCH}; {poll_statements / count:.1f} SQL statements "
            f"a message; this process busy {poll_cpu / polled:.0%} of a core",
        )
    )
    result.add(
        Figure(
            "process.rate",
            "process: inbound_process_pending into requests and replies",
            count / processed,
            "/s",
            note=f"{processed:.2f} s; {statements.count / count:.1f} SQL statements a message; "
            f"this process busy {process_cpu / processed:.0%} of a core",
        )
    )
    result.add(
        Figure(
            "e2e.rate",
            "end to end, one worker: IMAP mailbox to committed requests and replies",
            count / total,
            "/s",
            goal=GOAL_END_TO_END,
            comparison=">=",
            note=f"{count:,} messages in {total:.2f} s: poll {polled / total:.0%}, "
            f"process {processed / total:.0%}",
        )
    )
    _check(
        corpus,
        mailbox,
        processed=len(outcomes),
        tickets_before=tickets_before,
        poll=(stored, duplicates, rejected),
        result=result,
    )


def _with_workers(
    corpus: Sequence[Planned], mailbox: Mailbox, workers: int, result: Result
) -> None:
    """End to end with N workers: N processes side by side, each running the worker
    tick's own poll and process steps (tasks.mail_poll_all, tasks.mail_process_all)
    back to back until every message is processed, as `reglament worker` × N does
    under a backlog (a tick that leaves mail waiting queues the next one at once);
    one polls while the others process what is already stored."""
    import multiprocessing

    from django.db import connections

    from reglament.tickets.models import Ticket

    count = len(corpus)
    tickets_before = Ticket.objects.count()
    progress(f"{workers} workers side by side: poll and process ({count:,} messages)")
    connections.close_all()  # the children open their own
    context = multiprocessing.get_context("fork")
    reports: multiprocessing.queues.Queue[WorkerReport] = context.Queue()
    children = [
        context.Process(target=_worker_loop, args=(mailbox.pk, count, WORKERS_TIMEOUT, reports))
        for _ in range(workers)
    ]
    began = perf_counter()
    for child in children:
        child.start()
    done: list[WorkerReport] = []
    try:
        while len(done) < len(children):
            try:
                done.append(reports.get(timeout=1.0))
            except queue.Empty:
                # A child that died without a report (killed, out of memory) would
                # leave the run waiting for ever.
                dead = [c for c in children if not c.is_alive() and c.exitcode != 0]
                if dead or perf_counter() - began > WORKERS_TIMEOUT + 60:
                    raise BrokenRunError(
                        f"{workers} workers: a worker ended without a report "
                        f"(exit codes {[c.exitcode for c in children]})"
                    ) from None
        elapsed = perf_counter() - began
    finally:
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
    errors = [report.error for report in done if report.error]
    if errors:
        raise BrokenRunError(f"{workers} workers: " + "; ".join(errors))
    cpu = sum(report.cpu for report in done)
    processed = sum(report.processed for report in done)
    stored = sum(report.stored for report in done)
    duplicates = sum(report.duplicates for report in done)
    rejected = sum(report.rejected for report in done)
    shares = "/".join(str(report.processed) for report in done)
    result.add(
        Figure(
            "e2e.workers.rate",
            f"end to end, {workers} workers side by side (poll and process overlap)",
            count / elapsed,
            "/s",
            goal=GOAL_END_TO_END,
            comparison=">=",
            note=f"{count:,} other messages in {elapsed:.2f} s; processed {shares} by the "
            f"workers; the workers busy {cpu / elapsed:.0%} of a core together",
        )
    )
    _check(
        corpus,
        mailbox,
        processed=processed,
        tickets_before=tickets_before,
        poll=(stored, duplicates, rejected),
        result=result,
        label=f"{workers} workers: ",
    )


@dataclass(frozen=True, slots=True)
class WorkerReport:
    """What one worker of _with_workers did (sent back to the parent)."""

    stored: int
    duplicates: int
    rejected: int
    processed: int
    cpu: float  # seconds
    error: str


def _worker_loop(
    mailbox_id: int, count: int, seconds: float, reports: multiprocessing.queues.Queue[WorkerReport]
) -> None:
    """One worker of _with_workers (a forked child): the tick's poll and process steps
    until the mailbox's `count` messages are all stored and none waits; then its report."""
    from django.conf import settings
    from django.db import connections

    from reglament.mailbox.intake import waiting_filter
    from reglament.mailbox.models import InboundMessage
    from reglament.mailbox.tasks import mail_poll_all, mail_process_all

    cpu = process_time()
    deadline = perf_counter() + seconds
    stored = duplicates = rejected = processed = 0
    error = ""
    try:
        while True:
            if perf_counter() > deadline:
                rows = InboundMessage.objects.filter(mailbox_id=mailbox_id)
                states = Counter(rows.values_list("state", flat=True))
                error = (
                    f"not done after {seconds:.0f} s: {sum(states.values()):,} of {count:,} "
                    f"messages stored; states {dict(states)}"
                )
                break
            polled = mail_poll_all()
            stored += polled["stored"]
            duplicates += polled["duplicates"]
            rejected += polled["rejected"]
            step = mail_process_all(limit=settings.REGLAMENT_MAIL_POLL_BATCH)
            processed += step["processed"]
            if polled["stored"] or polled["left"] or step["processed"]:
                continue
            rows = InboundMessage.objects.filter(mailbox_id=mailbox_id)
            if rows.count() >= count and not rows.filter(waiting_filter()).exists():
                break
            sleep(0.02)  # the other worker is polling or holds the last messages
    except Exception as failure:  # reported to the parent, which calls the run broken
        error = f"{type(failure).__name__}: {failure}"
    finally:
        connections.close_all()
    reports.put(WorkerReport(stored, duplicates, rejected, processed, process_time() - cpu, error))


class StatementCounter:
    """A database execute wrapper that counts the statements sent."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self,
        execute: Callable[..., object],
        sql: str,
        params: object,
        many: bool,
        context: dict[str, object],
    ) -> object:
        self.count += 1
        return execute(sql, params, many, context)


def _check(
    corpus: Sequence[Planned],
    mailbox: Mailbox,
    *,
    processed: int,
    tickets_before: int,
    poll: tuple[int, int, int],
    result: Result,
    label: str = "",
) -> None:
    """Every message of `mailbox` is one row with its planned outcome; else the run is
    broken. `label` starts the notes and checks of a second run."""
    from reglament.mailbox.models import InboundMessage
    from reglament.mailbox.selectors import inbound_replies_due
    from reglament.mailbox.storage import message_id_key
    from reglament.tickets.models import Ticket

    count = len(corpus)
    problems: list[str] = []
    stored, duplicates, rejected = poll
    if (stored, duplicates, rejected) != (count, 0, 0):
        problems.append(
            f"the polls stored {stored:,}, {duplicates:,} duplicates, {rejected:,} rejected "
            f"of {count:,} messages"
        )
    expected = {message_id_key(f"<{p.message_id}>"): p.expected for p in corpus}
    inbound = InboundMessage.objects.filter(mailbox=mailbox)
    rows = list(inbound.values_list("message_id_hash", "state", "outcome", "uid"))
    if len(rows) != count or {row[0] for row in rows} != set(expected):
        problems.append(f"{len(rows):,} rows for {count:,} messages, or not one row each")
    if len({row[3] for row in rows}) != len(rows):
        problems.append("two rows share an IMAP UID")
    if processed != count:
        problems.append(f"processing returned {processed:,} outcomes for {count:,} messages")
    wrong = Counter(
        (expected.get(key), outcome)
        for key, _state, outcome, _uid in rows
        if expected.get(key) != outcome
    )
    if wrong:
        problems.append(
            "outcomes differ from the plan: "
            + ", ".join(f"{n}× {want} → {got or '(none)'}" for (want, got), n in wrong.items())
        )
    states = Counter(state for _key, state, _outcome, _uid in rows)
    if set(states) - {"processed", "ignored"}:
        problems.append(f"rows left in states {dict(states)}")
        errors = Counter(inbound.filter(state="failed").values_list("error", flat=True))
        problems += [f"{n}× {error}" for error, n in errors.most_common(3)]
    got = Counter(outcome for _key, _state, outcome, _uid in rows)
    want = Counter(p.expected for p in corpus)
    created = Ticket.objects.count() - tickets_before
    if created != want["created"]:
        problems.append(f"{created:,} requests created, {want['created']:,} planned")
    filed = inbound.filter(outcome="created").values("ticket").distinct().count()
    if filed != want["created"]:
        problems.append(f"the new-request rows name {filed:,} requests, not {want['created']:,}")
    if problems:
        raise BrokenRunError(label + "; ".join(problems))
    kinds = Counter(p.kind for p in corpus)
    due = inbound_replies_due().filter(mailbox=mailbox).count()
    result.notes.append(
        f"{label}outcomes: {got['created']:,} requests created; {got['replied']:,} replies "
        f"({kinds['reply_token']:,} by reply token, {kinds['reply_in_reply_to']:,} by "
        f"In-Reply-To); {got['recorded']:,} auto-replies noted on a request; "
        f"{got['ignored']:,} ignored; {got['bounce']:,} bounces"
    )
    result.notes.append(label + _outgoing_note(due, mailbox))
    result.check(
        f"{label}every message is exactly one row, with its planned outcome",
        True,
        f"{count:,} rows; {', '.join(f'{k} {n:,}' for k, n in sorted(got.items()))}",
    )
    result.check(
        f"{label}requests created = new messages planned", True, f"{created:,} new requests"
    )


def _outgoing_note(due: int, mailbox: Mailbox) -> str:
    """What processing queued to send (acknowledgements etc.); rate limits may skip
    some, so this is reported, not checked."""
    from reglament.mailbox.models import OutboundMessage

    queued = Counter(OutboundMessage.objects.filter(mailbox=mailbox).values_list("kind", "state"))
    shown = ", ".join(f"{n:,} {kind} {state}" for (kind, state), n in sorted(queued.items()))
    return (
        f"answers due (inbound_replies_due): {due:,}; outgoing mail queued in the same "
        f"transactions (not sent, not timed apart): {shown or 'none'}"
    )


# ------------------------------------------------------------ one database run
def run_backend(args: argparse.Namespace) -> Result:
    """Everything on one database; runs in a child process of its own."""
    workdir = Path(tempfile.mkdtemp(prefix=f"reglament-bench-mail-{args.database}-"))
    # Apart from workdir: Dovecot's unprivileged processes must reach their directory.
    dovecot_root = Path(tempfile.mkdtemp(prefix="reglament-bench-dovecot-"))
    result = Result(backend=args.database, sizes={"messages": args.messages})
    began = perf_counter()
    result.load_average.append(os.getloadavg()[0])
    try:
        with database_environment(args.database, workdir):
            os.environ["REGLAMENT_MAIL_DIR"] = str(workdir / "mail")
            # The hourly caps on automatic replies would skip most acknowledgements of a
            # burst of 1,000; lifted, so that every new request's one is queued.
            os.environ["REGLAMENT_MAIL_AUTO_REPLY_PER_SENDER_HOUR"] = str(AUTO_REPLY_CAP)
            os.environ["REGLAMENT_MAIL_AUTO_REPLY_PER_MAILBOX_HOUR"] = str(AUTO_REPLY_CAP)
            _run_on_database(args, dovecot_root, result)
    except RefusedError as error:
        result.error = f"refused: {error}"
    except BrokenRunError as error:
        result.error = f"BROKEN, the figures above do not count: {error}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(dovecot_root, ignore_errors=True)
    result.load_average.append(os.getloadavg()[0])
    result.seconds = perf_counter() - began
    return result


def _run_on_database(args: argparse.Namespace, dovecot_root: Path, result: Result) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    progress(f"{TITLES[args.database]}: migrate")
    call_command("migrate", interactive=False, verbosity=0)
    result.database = database_label()
    desk = desk_create()
    corpus = build_corpus(args.messages, args.seed, desk.requesters, desk.seeds)
    kinds = Counter(p.kind for p in corpus)
    result.notes.insert(
        0,
        "corpus: "
        + ", ".join(f"{kinds[kind]:,} {kind}" for kind in MIX)
        + f"; {sum(len(p.raw) for p in corpus) / 1e6:.1f} MB",
    )
    if args.profile is not None:
        for phase in ("poll", "process"):  # statistics of this run only
            (args.profile / f"{phase}-{connection_vendor()}.prof").unlink(missing_ok=True)
    bench_parse(corpus, result)
    # The second corpus (another seed: other Message-IDs) for the run with several workers.
    second = (
        build_corpus(args.messages, args.seed + 1, desk.requesters, desk.seeds)
        if args.workers > 1
        else []
    )
    bench_end_to_end(
        corpus,
        dovecot_root,
        result,
        profile=args.profile,
        second=second,
        workers=args.workers,
    )
    if args.profile is not None:
        result.notes.append(
            f"profiled (slower than without): cProfile statistics in {args.profile}/"
        )


# ------------------------------------------------------------------- printing
def print_result(result: Result) -> None:
    print()
    print(f"{TITLES[result.backend]}: {result.database or '-'}")
    print(
        f"  {result.sizes['messages']:,} messages; regulation {REGULATION}, tariff {TARIFF}; "
        f"{REQUESTERS} requesters with {SEED_REQUESTS} open requests"
    )
    rows = [(f.text, _value_text(f), _goal_text(f), f.verdict, f.note) for f in result.figures]
    widths = [max((len(row[k]) for row in rows), default=0) for k in range(4)]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2])]
        print("  " + "  ".join([*cells, row[3].ljust(widths[3]), row[4]]).rstrip())
    for note in result.notes:
        print(f"  {note}")
    if result.checks:
        print("  self-checks:")
        for text, verdict in result.checks.items():
            print(f"    {text}: {verdict}")
    if result.error:
        print(f"  {result.error}")
    shown = " → ".join(f"{value:.2f}" for value in result.load_average)
    print(f"  run time {result.seconds:.0f} s; 1-minute load average {shown}")


# ----------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks mail", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES} messages")
    parser.add_argument(
        "--messages", type=int, help=f"messages in the corpus (default {DEFAULT_MESSAGES:,})"
    )
    parser.add_argument(
        "--database",
        choices=[*BACKENDS, "all"],
        default="all",
        help="all (default): SQLite, and PostgreSQL when DATABASE_URL is set",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"also end to end with N workers side by side (default {DEFAULT_WORKERS}; 1: not)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run poll and process under cProfile, statistics written to DIR",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # internal: result file
    args = parser.parse_args(argv)
    args.messages = args.messages or (QUICK_MESSAGES if args.quick else DEFAULT_MESSAGES)
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers is 1 to {MAX_WORKERS}")
    if args.messages < 20:
        parser.error("--messages must be at least 20 (every kind of mail needs a share)")
    if args.child is not None and args.database == "all":
        parser.error("--child needs --database sqlite or postgresql")
    return args


def child_arguments(args: argparse.Namespace, backend: str, out: Path) -> list[str]:
    chosen = ["--messages", str(args.messages), "--seed", str(args.seed)]
    chosen += ["--workers", str(args.workers)]
    chosen += ["--quick"] if args.quick else []
    chosen += ["--profile", str(args.profile.resolve())] if args.profile else []
    return [*chosen, "--database", backend, "--child", str(out)]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        result = run_backend(args)
        args.child.write_text(json.dumps(asdict(result), ensure_ascii=False), encoding="utf-8")
        return 0
    results = each_database(
        args,
        module="benchmarks.mail",
        title="Reglament mail benchmark: e-mail intake, parse only and from a filled IMAP mailbox",
        packages=("django", "imap-tools", "nh3", "psycopg"),
        child_arguments=child_arguments,
        show=print_result,
    )
    print(f"  goal (issue 7): ≥ {GOAL_END_TO_END} messages/s end to end on PostgreSQL (2 cores)")
    write_json(args.json, results)
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
