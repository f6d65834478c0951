"""python -m benchmarks [NAME ...] [OPTIONS]: run the benchmarks named, default all.

    python -m benchmarks                      # every benchmark, full size
    python -m benchmarks --quick              # every benchmark, small sizes
    python -m benchmarks tickets --quick      # one benchmark
    python -m benchmarks business_time --help # that benchmark's own options

The options after the names go to each benchmark chosen; ``--quick`` is the one
they all understand. The exit code is 0 unless a benchmark could not run.
"""

import sys
from collections.abc import Callable, Sequence
from importlib import import_module

BENCHMARKS = {
    "business_time": "the calendar engine against businesstimedelta and pandas",
    "tickets": "create over HTTP, the agent queue and the SLA sweeper, per database",
    "mail": "e-mail intake: parse only, and from a filled IMAP mailbox to requests",
}


def main(argv: Sequence[str]) -> int:
    arguments = list(argv)
    names = []
    while arguments and not arguments[0].startswith("-"):
        names.append(arguments.pop(0))
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown or (not names and arguments[:1] in (["-h"], ["--help"])):
        print(__doc__)
        for name, text in BENCHMARKS.items():
            print(f"  {name:<14} {text}")
        if unknown:
            print(f"\nunknown benchmark: {', '.join(unknown)}", file=sys.stderr)
            return 2
        return 0
    worst = 0
    for name in names or list(BENCHMARKS):
        run: Callable[[list[str]], int] = import_module(f"benchmarks.{name}").main
        worst = max(worst, run(arguments))
        sys.stdout.flush()
    return worst


raise SystemExit(main(sys.argv[1:]))
