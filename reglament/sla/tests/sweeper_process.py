"""A sweeper in an OS process of its own, for the tests of concurrent and killed workers.

    python -m reglament.sla.tests.sweeper_process NOW [--batch N] [--hold-at-event N]

Sweeps the database that DATABASE_URL names, as at the instant NOW, and
writes the report as JSON to stdout. With ``--hold-at-event N`` it stops
instead when it queues the mail of the N-th warning or breach it records: its
batch's events and clock rows are written, its transaction is open, its
requests are locked. It writes "holding" and waits to be killed; if nobody
does within HOLD_SECONDS it exits with code 3.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from datetime import datetime

HOLD_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("now", type=datetime.fromisoformat)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--hold-at-event", type=int, default=0)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from reglament.sla import services
    from reglament.tickets.models import TicketEvent

    if args.hold_at_event:
        notify = services._notify
        seen = 0

        def holding(event: TicketEvent) -> None:
            nonlocal seen
            seen += 1
            if seen == args.hold_at_event:
                sys.stdout.write("holding\n")
                sys.stdout.flush()
                time.sleep(HOLD_SECONDS)
                sys.exit(3)
            notify(event)

        services._notify = holding

    report = services.sla_sweep(now=args.now, batch=args.batch)
    sys.stdout.write(json.dumps(asdict(report)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
