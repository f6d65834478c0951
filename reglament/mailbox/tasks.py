"""Background tasks of the mailbox app, run by `reglament worker`.

The poll is a chain like the SLA sweep: each run first enqueues the next one
REGLAMENT_MAIL_POLL_SECONDS later (default 60), then polls every enabled IMAP
mailbox once. Each mailbox is claimed with SKIP LOCKED and a lease
(services.mailbox_claim), so several workers never poll one mailbox at once;
a worker killed mid-poll lets its lease lapse after POLL_LEASE. A mailbox
with more mail than one batch gets another run at once. After polling, the
run processes the stored messages of every mailbox (SMTP-delivered ones too)
into requests and replies (intake.inbound_process_pending), at most one batch,
then queues the mail the request events call for (outgoing.outbound_scan_events)
and sends what is due (outgoing.outbound_send_due: messages whose task was lost,
retries after a failure). Each new message is also sent at once by its own
`outbound_send` task, enqueued after the commit that queued it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from reglament.core import selectors as core_selectors
from reglament.core import services as core_services
from reglament.mailbox import services
from reglament.mailbox.imap import mailbox_poll
from reglament.mailbox.intake import inbound_process_pending
from reglament.mailbox.outgoing import outbound_deliver, outbound_scan_events, outbound_send_due

logger = logging.getLogger(__name__)

KEEP_POLL_RESULTS = timedelta(hours=1)
# Longer than a poll of one batch can take; a dead worker's claim lapses after it.
POLL_LEASE = timedelta(minutes=10)


@task()
def mail_poll_tick() -> dict[str, int]:
    """Queue the next run, then poll each enabled mailbox nobody else is polling."""
    now = timezone.now()
    mail_poll_schedule(delay=settings.REGLAMENT_MAIL_POLL_INTERVAL)
    report = mail_poll_all()
    report.update(mail_process_all(limit=settings.REGLAMENT_MAIL_POLL_BATCH))
    report.update(mail_send_all(limit=settings.REGLAMENT_MAIL_POLL_BATCH))
    if (
        report["left"]
        or report["processed"] >= settings.REGLAMENT_MAIL_POLL_BATCH
        or report["events_left"]
    ):
        # More mail than one batch: go on at once, beside the run already waiting.
        mail_poll_tick.using(run_after=timezone.now()).enqueue()
    core_services.task_results_prune(
        task_path=mail_poll_tick.module_path, finished_before=now - KEEP_POLL_RESULTS
    )
    return report


def mail_poll_all() -> dict[str, int]:
    """Poll every mailbox this worker can claim, once each; totals of what was stored."""
    report = {"mailboxes": 0, "failed": 0, "stored": 0, "duplicates": 0, "rejected": 0, "left": 0}
    polled: set[int] = set()
    while True:
        mailbox = services.mailbox_claim(
            now=timezone.now(), lease=POLL_LEASE, exclude=frozenset(polled)
        )
        if mailbox is None:
            return report
        polled.add(mailbox.pk)
        report["mailboxes"] += 1
        try:
            result = mailbox_poll(mailbox)
        except Exception:
            # Recorded on the mailbox by mailbox_poll; the other mailboxes still get polled.
            logger.exception("mailbox %s: poll failed", mailbox.name)
            report["failed"] += 1
            continue
        finally:
            services.mailbox_release(mailbox=mailbox)
        if not result.ok:
            logger.warning("%s", result.summary())
            report["failed"] += 1
        report["stored"] += result.stored
        report["duplicates"] += result.duplicates
        report["rejected"] += result.rejected
        report["left"] += result.left


def mail_process_all(*, limit: int | None = None) -> dict[str, int]:
    """Process the waiting messages of every mailbox, each in its own transaction."""
    outcomes = inbound_process_pending(limit=limit)
    failed = sum(1 for outcome in outcomes if outcome.state == "failed")
    if failed:
        logger.warning("mail processing: %d of %d messages failed", failed, len(outcomes))
    return {"processed": len(outcomes), "processing_failed": failed}


def mail_send_all(*, limit: int) -> dict[str, int]:
    """Queue the mail of new request events, then send every message that is due."""
    try:
        scan = outbound_scan_events(limit=limit)
    except Exception:
        # The scan must not stop sending (nor the poll chain); it runs again next tick.
        logger.exception("outgoing mail: the event scan failed")
        scan = None
    sent = outbound_send_due(limit=limit)
    return {
        "mail_queued": scan.queued if scan else 0,
        "mail_skipped": scan.skipped if scan else 0,
        "events_left": int(scan.left) if scan else 0,
        "mail_sent": sent["sent"],
        "mail_retrying": sent["queued"],
        "mail_failed": sent["failed"],
    }


@task()
def outbound_send(outbound_id: int) -> str | None:
    """Send one outgoing message now if it is due; the state it ends in.

    A failed attempt is recorded on the row and retried later (by a task queued for
    then, and by the tick's sweep of due rows), so this task itself never fails.
    """
    return outbound_deliver(outbound_id=outbound_id)


def mail_poll_schedule(*, delay: timedelta) -> bool:
    """Enqueue a poll `delay` from now unless one is already waiting."""
    with transaction.atomic():
        if core_selectors.task_waiting(task_path=mail_poll_tick.module_path):
            return False
        mail_poll_tick.using(run_after=timezone.now() + delay).enqueue()
    return True
