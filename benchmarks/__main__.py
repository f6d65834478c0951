"""``python -m benchmarks``: run every benchmark (options: see ``--help``)."""

from benchmarks.business_time import main

raise SystemExit(main())
