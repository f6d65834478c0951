"""The worker's poll chain: every enabled mailbox polled, one worker per mailbox at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from reglament.mailbox import services
from reglament.mailbox.models import InboundMessage, Mailbox
from reglament.mailbox.tasks import POLL_LEASE, mail_poll_schedule, mail_poll_tick
from reglament.mailbox.tests.conftest import MailboxFactory
from reglament.mailbox.tests.dovecot import Dovecot
from reglament.mailbox.tests.factories import message
from reglament.regulations.models import Regulation
from reglament.sla.tests.workers import in_threads


def waiting_polls() -> int:
    return DBTaskResult.objects.filter(
        task_path=mail_poll_tick.module_path, status=TaskResultStatus.READY
    ).count()


@pytest.mark.django_db
def test_a_tick_polls_every_enabled_mailbox_and_queues_the_next(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    # given: two enabled mailboxes with mail, a disabled one, an SMTP-only one
    first, second = imap_mailbox(), imap_mailbox()
    off = imap_mailbox(enabled=False)
    services.mailbox_add(name="mta", address="mta@vendor.example", regulation="cera")
    for mailbox in (first, second, off):
        dovecot.append(mailbox.folder, message(mailbox.pk * 100))

    # when: one tick runs
    report = mail_poll_tick.call()

    # then: the two enabled IMAP mailboxes are polled, the next tick waits
    poll_keys = ("mailboxes", "failed", "stored", "duplicates", "rejected", "left")
    polled = {key: report[key] for key in poll_keys}
    assert polled == {
        "mailboxes": 2,
        "failed": 0,
        "stored": 2,
        "duplicates": 0,
        "rejected": 0,
        "left": 0,
    }
    # ... and the stored messages went on to processing (see test_intake*.py for what
    # they become; here the regulation has no version loaded, so each fails, kept)
    assert report["processed"] == 2
    assert set(InboundMessage.objects.values_list("mailbox", flat=True)) == {first.pk, second.pk}
    assert waiting_polls() == 1
    assert mail_poll_schedule(delay=timedelta(0)) is False  # a run is waiting already
    assert set(Mailbox.objects.values_list("poll_lease_until", flat=True)) == {None}


@pytest.mark.django_db
def test_a_failing_mailbox_does_not_stop_the_others(
    dovecot: Dovecot, imap_mailbox: MailboxFactory
) -> None:
    broken = imap_mailbox(secret="wrong")
    good = imap_mailbox()
    dovecot.append(good.folder, message(1))

    report = mail_poll_tick.call()

    assert (report["mailboxes"], report["failed"], report["stored"]) == (2, 1, 1)
    broken.refresh_from_db()
    assert broken.last_poll_ok is False
    assert "refused the login" in broken.last_poll_error


@pytest.mark.django_db
def test_a_mailbox_being_polled_is_not_claimed_again_until_its_lease_lapses() -> None:
    Regulation.objects.create(id="cera")
    services.mailbox_add(
        name="support",
        address="support@vendor.example",
        regulation="cera",
        imap_host="127.0.0.1",
        security="none",
        username="u",
        secret="p",
    )
    now = timezone.now()

    taken = services.mailbox_claim(now=now, lease=POLL_LEASE)
    again = services.mailbox_claim(now=now + timedelta(minutes=1), lease=POLL_LEASE)
    lapsed = services.mailbox_claim(now=now + POLL_LEASE + timedelta(seconds=1), lease=POLL_LEASE)

    assert taken is not None
    assert again is None
    assert lapsed is not None
    assert lapsed.pk == taken.pk


@pytest.mark.django_db(transaction=True)
def test_workers_claiming_at_once_get_different_mailboxes(shared_database: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED: on SQLite one IMMEDIATE transaction claims at a time")
    # given: five mailboxes
    Regulation.objects.create(id="cera")
    for number in range(5):
        services.mailbox_add(
            name=f"box{number}",
            address=f"box{number}@vendor.example",
            regulation="cera",
            imap_host="127.0.0.1",
            security="none",
            username="u",
            secret="p",
        )
    now = timezone.now()

    # when: eight workers claim at the same instant
    claimed = in_threads(lambda: services.mailbox_claim(now=now, lease=POLL_LEASE), count=8)

    # then: each mailbox went to one worker; three found none free
    names = [m.name for m in claimed if m is not None]
    assert sorted(names) == [f"box{n}" for n in range(5)]
    assert claimed.count(None) == 3
