"""The database side of the regulation commands: `reglament regulation load` and the demo.

    reglament regulation load regulations/*.yaml
    cera: version 2 (new)
    krizhik: version 1 (unchanged)

`add_load_command` is called by reglament.cli.regulation's `register`, so
`load` sits beside `check` and `show`. Every file is checked before anything is
stored; one problem in one file stores nothing from the whole invocation.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from reglament.cli import setup_django
from reglament.domain.regulation import Problem, RegulationInvalid, load_regulation


def add_load_command(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    load = actions.add_parser(
        "load",
        help="store files as new regulation versions in the database",
        description="Check every file, then store each as its regulation's next version. "
        "A file identical to a stored version is left as it is ('unchanged'). If any file "
        "has a problem, every problem is printed as file:line: field: message hint, nothing "
        "is stored, and the exit code is 1.",
    )
    load.add_argument("files", nargs="+", metavar="FILE")
    load.set_defaults(handler=_load)


def _load(args: argparse.Namespace) -> int:
    files: list[tuple[str, bytes]] = []
    unreadable: list[Problem] = []
    for name in args.files:
        try:
            files.append((name, Path(name).read_bytes()))
        except OSError as error:
            unreadable.append(Problem(name, 0, "", f"Cannot read the file: {error.strerror}."))
    if unreadable:  # still report what is wrong in the others, all in one go
        return _refused(sorted([*unreadable, *_problems(files)], key=_order(args.files)))
    setup_django()
    from reglament.regulations.errors import RegulationInvalidError
    from reglament.regulations.services import regulation_load_many

    try:
        loaded = regulation_load_many(files=files)
    except RegulationInvalidError as invalid:
        return _refused(invalid.problems)
    for version, created in loaded:
        print(f"{version.regulation_id}: version {version.number} ({_state(created)})")
    return 0


def demo_load(*, directory: Path | None = None) -> int:
    """Load the shipped regulations and the demo organisations and people; print the logins."""
    setup_django()
    from django.conf import settings

    from reglament.regulations.demo import demo_load as load
    from reglament.regulations.demo import demo_summary
    from reglament.regulations.errors import RegulationInvalidError
    from reglament.tickets.demo import demo_tickets_create

    try:
        report = load(directory=directory or Path(settings.BASE_DIR) / "regulations")
    except RegulationInvalidError as invalid:
        return _refused(invalid.problems)
    requests = demo_tickets_create()
    for line in demo_summary(report):
        print(line)
    print(
        f"Demo requests: {len(requests)} created."
        if requests
        else "Demo requests: already there; nothing created."
    )
    for line in requests:
        print(f"  {line}")
    from reglament.knowledge.demo import demo_articles_create
    from reglament.usage.demo import demo_usage_create

    print(demo_usage_create())
    print(demo_articles_create())
    return 0


def _problems(files: list[tuple[str, bytes]]) -> list[Problem]:
    problems: list[Problem] = []
    for name, data in files:
        try:
            load_regulation(data, name=name)
        except RegulationInvalid as invalid:
            problems.extend(invalid.problems)
    return problems


def _order(names: list[str]) -> Callable[[Problem], tuple[int, int]]:
    """Problems in the order the files were given, then by line."""
    position = {name: index for index, name in reversed(list(enumerate(names)))}
    return lambda problem: (position.get(problem.file, len(names)), problem.line)


def _state(created: bool) -> str:
    return "new" if created else "unchanged"


def _refused(problems: list[Problem]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(problems)
    print(
        f"{count} problem{'s' if count != 1 else ''}; nothing was stored.",
        file=sys.stderr,
    )
    return 1
