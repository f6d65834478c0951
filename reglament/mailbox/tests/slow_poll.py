"""`reglament mailbox poll NAME`, announcing each commit and pausing after it.

For the kill test: the parent reads "stored <uid>" lines and kills this process
(SIGKILL) at a chosen point, most likely between a commit and the flagging.
Usage: python -m reglament.mailbox.tests.slow_poll NAME
"""

import sys
import time
from typing import Any

from reglament.cli import main, setup_django

PAUSE_SECONDS = 0.02

if __name__ == "__main__":
    setup_django()
    from reglament.mailbox import services
    from reglament.mailbox.models import InboundMessage

    store = services.inbound_store

    def announced(**kwargs: Any) -> InboundMessage:
        row = store(**kwargs)
        sys.stdout.write(f"stored {row.uid}\n")
        sys.stdout.flush()
        time.sleep(PAUSE_SECONDS)
        return row

    services.inbound_store = announced
    sys.exit(main(["mailbox", "poll", *sys.argv[1:]]))
