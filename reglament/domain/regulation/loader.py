"""Reading a regulation file: YAML in, a checked :class:`Regulation` out.

Every problem is collected (never just the first), each with the file, the
line, the field path and a hint; a file with any problem yields no regulation.
The format is documented in docs/regulations.md.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast

import yaml

from reglament.domain.calendar import DateOverride, WorkCalendar, WorkingDays, holiday_source
from reglament.domain.errors import DomainError
from reglament.domain.regulation.model import (
    EVENTS,
    LINES,
    PRIORITIES,
    Answer,
    CalendarSpec,
    Case,
    Category,
    Channel,
    Document,
    KnowledgeSection,
    Metric,
    Named,
    OnDecline,
    PaidWork,
    PriorityMatrix,
    Question,
    Range,
    Regulation,
    Reported,
    Rule,
    Service,
    ServiceValue,
    Status,
    Target,
    Tariff,
    Text,
    Usage,
    winning_rule,
)

FORMAT = 1
CHANNELS = ("portal", "email", "phone", "telegram", "whatsapp", "api", "monitoring")
APPROVERS = ("requester", "customer_admin")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PREFIX = re.compile(r"^[A-Z]{2,8}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|wd)$")
Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a regulation file."""

    file: str
    line: int
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = (
            f"{self.file}:{self.line}: {self.path}: " if self.path else f"{self.file}:{self.line}: "
        )
        return where + self.message + (f" {self.hint}" if self.hint else "")


class RegulationInvalid(DomainError):
    """A regulation file has problems; ``problems`` lists every one."""

    code = "regulation_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"The regulation has {count} problem{'s' if count != 1 else ''}:\n"
            + "\n".join(f"  {p}" for p in problems)
        )


def load_regulation_file(path: str | Path) -> Regulation:
    """Read and check one regulation file."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise RegulationInvalid(
            [Problem(str(file), 0, "", f"Cannot read the file: {error.strerror}.")]
        ) from None
    return load_regulation(data, name=str(path))


def load_regulation(data: bytes | str, *, name: str = "<regulation>") -> Regulation:
    """Check the text of a regulation file and build the regulation."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RegulationInvalid(
            [
                Problem(
                    name, 1, "", f"The file is not UTF-8 (byte {error.start}).", "Save it as UTF-8."
                )
            ]
        ) from None
    document, lines, problems = _parse_yaml(text, name)
    if problems:
        raise RegulationInvalid(problems)
    checker = _Checker(name, lines)
    regulation = checker.regulation(document, hashlib.sha256(raw).hexdigest())
    if checker.problems or regulation is None:
        raise RegulationInvalid(sorted(checker.problems, key=lambda p: p.line))
    return regulation


# ------------------------------------------------------------------------ YAML
def _parse_yaml(text: str, name: str) -> tuple[Any, dict[Path_, int], list[Problem]]:
    """The document as plain values, the line of every path, and syntax problems."""
    loader = yaml.SafeLoader(text)
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines, [Problem(name, 1, "", "The file is empty.")]

        def walk(node: yaml.Node, path: Path_) -> Any:
            lines[path] = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                result: dict[Any, Any] = {}
                for key_node, value_node in node.value:
                    key = loader.construct_object(key_node)
                    if isinstance(key, int | bool | float) or key is None:
                        key = str(key).lower() if isinstance(key, bool) else key
                    if key in result:
                        problems.append(
                            Problem(
                                name,
                                key_node.start_mark.line + 1,
                                _dotted((*path, key)),
                                f"The key {key!r} is given twice.",
                                "Keep one of them.",
                            )
                        )
                    result[key] = walk(value_node, (*path, key))
                return result
            if isinstance(node, yaml.SequenceNode):
                return [walk(item, (*path, i)) for i, item in enumerate(node.value)]
            return loader.construct_object(node)

        return walk(node, ()), lines, problems
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = error.problem or error.context or "bad YAML"
        return (
            None,
            lines,
            [Problem(name, line, "", f"YAML syntax: {what}.", "Check indentation and quotes.")],
        )
    except yaml.YAMLError as error:
        return None, lines, [Problem(name, 1, "", f"YAML syntax: {error}.")]
    finally:
        loader.dispose()


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --------------------------------------------------------------------- checking
class _Invalid:
    """Marks a value that was reported as a problem (so later checks stay quiet)."""


INVALID: Any = _Invalid()


class _Checker:
    def __init__(self, file: str, lines: dict[Path_, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []

    # ---- reporting
    def problem(self, path: Path_, message: str, hint: str = "") -> None:
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        self.problems.append(
            Problem(self.file, self.lines.get(probe, 1), _dotted(path), message, hint)
        )

    # ---- shapes
    def mapping(
        self,
        value: Any,
        path: Path_,
        *,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
        what: str = "a mapping",
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(path, f"Expected {what} (key: value lines), got {_kind(value)}.")
            return None
        required, optional = tuple(required), tuple(optional)
        known = (*required, *optional)
        for key in value if known else ():  # no known keys: a free mapping of ids
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                self.problem(
                    (*path, key),
                    f"Unknown key {key!r}.",
                    f"Did you mean {close[0]!r}?" if close else f"Known keys: {', '.join(known)}.",
                )
        for key in required:
            if key not in value:
                self.problem(path, f"The key {key!r} is missing.", "See docs/regulations.md.")
        return value

    def items(self, value: Any, path: Path_, *, what: str, optional: bool = False) -> list[Any]:
        if value is None and optional:
            return []
        if not isinstance(value, list):
            self.problem(
                path,
                f"Expected a list of {what}, got {_kind(value)}.",
                "Start each item with '- '.",
            )
            return []
        return value

    def ident(self, value: Any, path: Path_) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            self.problem(
                path,
                f"{value!r} is not a valid id.",
                "Use lower-case letters and digits joined by '-', e.g. 'in-progress'.",
            )
            return INVALID  # type: ignore[no-any-return]
        return value

    def text(self, value: Any, path: Path_, *, required: bool = True) -> Text | None:
        if value is None:
            if required:
                self.problem(path, "A text is missing.", 'Write {ru: "…", en: "…"}.')
            return None
        if isinstance(value, str):
            return Text(ru=value)
        spec = self.mapping(
            value, path, required=("ru",), optional=("en",), what='a text {ru: "…", en: "…"}'
        )
        if spec is None:
            return None
        ru, en = spec.get("ru"), spec.get("en", "")
        for key, part in (("ru", ru), ("en", en)):
            if part is not None and not isinstance(part, str):
                self.problem(
                    (*path, key), f"Expected text, got {_kind(part)}.", "Put it in quotes."
                )
                return None
        if not ru:
            return None
        return Text(ru=ru, en=en or "")

    def flag(self, value: Any, path: Path_, default: bool = False) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(path, f"Expected true or false, got {value!r}.")
            return default
        return value

    def duration(self, value: Any, path: Path_) -> Target:
        if isinstance(value, str) and value.strip().lower() == "none":
            return None
        match = _DURATION.match(value.strip().lower()) if isinstance(value, str) else None
        if match is None:
            self.problem(
                path,
                f"{value!r} is not a duration.",
                "Write it with a unit: 30m, 4h, 1.5h, 3wd (working days), or none for no promise.",
            )
            return INVALID  # type: ignore[no-any-return]
        amount, unit = Decimal(match[1]), match[2]
        if unit == "wd":
            if amount != amount.to_integral_value() or amount <= 0:
                self.problem(
                    path, f"{value!r}: working days must be a whole number ≥ 1.", "E.g. 3wd."
                )
                return INVALID  # type: ignore[no-any-return]
            return WorkingDays(int(amount))
        seconds = amount * (3600 if unit == "h" else 60)
        if seconds <= 0 or seconds != seconds.to_integral_value():
            self.problem(
                path, f"{value!r} must be a positive whole number of seconds.", "E.g. 90m."
            )
            return INVALID  # type: ignore[no-any-return]
        return timedelta(seconds=int(seconds))

    def ref(self, value: Any, path: Path_, known: Iterable[Any], what: str) -> Any:
        known = list(known)
        if value not in known:
            close = difflib.get_close_matches(str(value), [str(k) for k in known], n=1)
            self.problem(
                path,
                f"Unknown {what} {value!r}.",
                f"Did you mean {close[0]!r}?"
                if close
                else f"Known: {', '.join(map(str, known)) or 'none'}.",
            )
            return INVALID
        return value

    def refs(self, value: Any, path: Path_, known: Iterable[Any], what: str) -> tuple[Any, ...]:
        values = value if isinstance(value, list) else [value]
        return tuple(
            self.ref(v, (*path, i) if isinstance(value, list) else path, known, what)
            for i, v in enumerate(values)
        )

    def unique(self, items: list[Any], path: Path_, what: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            ident = getattr(item, "id", None)
            if ident is None or ident is INVALID:
                continue
            if ident in seen:
                self.problem(
                    (*path, i, "id"),
                    f"The {what} id {ident!r} is used twice.",
                    "Ids must be unique.",
                )
            seen.add(ident)

    # ---- the document
    def regulation(self, document: Any, digest: str) -> Regulation | None:
        root: Path_ = ()
        top = self.mapping(
            document,
            root,
            required=(
                "format", "id", "title", "vendor", "number_prefix", "calendars", "tariffs",
                "services", "request_types", "priorities", "statuses", "resolutions", "metrics",
            ),
            optional=(
                "source", "default_calendar", "default_priority", "channels",
                "knowledge_sections", "out_of_scope", "priority_matrix", "category_groups",
                "categories", "reported", "documentation",
            ),
        )  # fmt: skip
        if top is None:
            return None
        if top.get("format") != FORMAT:
            self.problem(("format",), f"The format must be {FORMAT}, got {top.get('format')!r}.")
        regulation_id = self.ident(top.get("id"), ("id",))
        title = self.text(top.get("title"), ("title",))
        vendor = self.text(top.get("vendor"), ("vendor",))
        prefix = top.get("number_prefix")
        if not isinstance(prefix, str) or not _PREFIX.match(prefix):
            self.problem(
                ("number_prefix",),
                f"{prefix!r} is not a request-number prefix.",
                "Use 2–8 capital Latin letters, e.g. SETR.",
            )
        source = top.get("source") or ""

        calendars, specs = self.calendars(top.get("calendars"), ("calendars",))
        # Ids of calendars that failed to build still count as defined: their own
        # problem is reported once, not again at every reference.
        declared = list(top["calendars"]) if isinstance(top.get("calendars"), dict) else []
        default_calendar = top.get("default_calendar") or next(iter(declared), None)
        if "default_calendar" in top:
            self.ref(default_calendar, ("default_calendar",), declared, "calendar")
        channels = self.channels(top.get("channels"), ("channels",), declared)
        request_types = self.named_list(
            top.get("request_types"), ("request_types",), "request type"
        )
        priorities = self.priorities(top.get("priorities"), ("priorities",))
        default_priority = top.get("default_priority", "medium")
        self.ref(default_priority, ("default_priority",), PRIORITIES, "priority")
        matrix = self.matrix(top.get("priority_matrix"), ("priority_matrix",))
        groups = self.named_list(
            top.get("category_groups"), ("category_groups",), "category group", optional=True
        )
        categories = self.categories(top.get("categories"), ("categories",), groups)
        out_of_scope = self.named_list(
            top.get("out_of_scope"), ("out_of_scope",), "out-of-scope class", optional=True
        )
        metric_ids = self.metric_ids(top.get("metrics"))
        tariffs = self.tariffs(top.get("tariffs"), ("tariffs",), metric_ids)
        tariff_ids = [t.id for t in tariffs]
        services = self.services(top.get("services"), ("services",), tariff_ids)
        sections = self.sections(top.get("knowledge_sections"), ("knowledge_sections",), tariff_ids)
        statuses = self.statuses(top.get("statuses"), ("statuses",), metric_ids)
        resolutions = self.named_list(top.get("resolutions"), ("resolutions",), "resolution")
        context = _Context(
            calendars=declared,
            tariffs=tariff_ids,
            types=[t.id for t in request_types],
            categories={c.id: c for c in categories},
            groups=[g.id for g in groups],
            out_of_scope=bool(out_of_scope),
            default_calendar=default_calendar if isinstance(default_calendar, str) else "",
        )
        metrics = self.metrics(top.get("metrics"), ("metrics",), context)
        self.paid_work_refs(tariffs, statuses, resolutions, metrics)
        reported = self.reported(top.get("reported"), ("reported",), metric_ids)
        documentation = self.documentation(top.get("documentation"), ("documentation",))
        if self.problems:
            return None
        return Regulation(
            id=regulation_id,
            title=cast(Text, title),
            vendor=cast(Text, vendor),
            number_prefix=str(prefix),
            source=str(source),
            default_calendar=str(default_calendar),
            default_priority=default_priority,
            calendars=calendars,
            calendar_specs=specs,
            channels=tuple(channels),
            tariffs=tuple(tariffs),
            services=tuple(services),
            knowledge_sections=tuple(sections),
            out_of_scope=tuple(out_of_scope),
            request_types=tuple(request_types),
            priorities=tuple(priorities),
            priority_matrix=matrix,
            category_groups=tuple(groups),
            categories=tuple(categories),
            statuses=tuple(statuses),
            resolutions=tuple(resolutions),
            metrics=tuple(metrics),
            reported=tuple(reported),
            documentation=tuple(documentation),
            digest=digest,
        )

    # ---- sections
    def calendars(
        self, value: Any, path: Path_
    ) -> tuple[dict[str, WorkCalendar], dict[str, CalendarSpec]]:
        calendars: dict[str, WorkCalendar] = {}
        specs: dict[str, CalendarSpec] = {}
        spec_map = self.mapping(value, path, what="a mapping of calendar ids to calendars")
        for calendar_id, raw in (spec_map or {}).items():
            here = (*path, calendar_id)
            if self.ident(calendar_id, here) is INVALID:
                continue
            spec = self.mapping(
                raw,
                here,
                required=("schedule", "timezone"),
                optional=("holidays", "shortened_pre_holiday", "overrides"),
            )
            if spec is None:
                continue
            overrides_raw = self.items(
                spec.get("overrides"), (*here, "overrides"), what="date overrides", optional=True
            )
            holidays = spec.get("holidays")
            holidays_code = None if holidays in (None, False) else str(holidays)
            try:
                overrides = [DateOverride.parse(str(o)) for o in overrides_raw]
                calendar = WorkCalendar(
                    schedule=str(spec.get("schedule", "")),
                    timezone=str(spec.get("timezone", "")),
                    holidays=holiday_source(holidays_code),
                    overrides=overrides,
                    shortened_pre_holiday=self.flag(
                        spec.get("shortened_pre_holiday"), (*here, "shortened_pre_holiday")
                    ),
                )
            except DomainError as error:
                self.problem(here, error.message, error.hint)
                continue
            calendars[calendar_id] = calendar
            specs[calendar_id] = CalendarSpec(
                id=calendar_id,
                schedule=str(calendar.schedule),
                timezone=calendar.timezone.key,
                holidays=holidays_code,
                shortened_pre_holiday=calendar.shortened_pre_holiday,
                overrides=tuple(str(o) for o in calendar.overrides),
            )
        if spec_map is not None and not spec_map:
            self.problem(path, "There is no calendar.", "Define at least one, e.g. 'working'.")
        return calendars, specs

    def channels(self, value: Any, path: Path_, calendars: list[str]) -> list[Channel]:
        channels: list[Channel] = []
        for i, raw in enumerate(self.items(value, path, what="channels", optional=True)):
            here = (*path, i)
            spec = self.mapping(
                raw, here, required=("id", "title", "calendar"), optional=("address",)
            )
            if spec is None:
                continue
            channel_id = self.ref(spec.get("id"), (*here, "id"), CHANNELS, "channel")
            title = self.text(spec.get("title"), (*here, "title"))
            calendar = self.ref(spec.get("calendar"), (*here, "calendar"), calendars, "calendar")
            if title is not None:
                channels.append(
                    Channel(channel_id, title, calendar, str(spec.get("address") or ""))
                )
        self.unique(channels, path, "channel")
        return channels

    def named_list(
        self, value: Any, path: Path_, what: str, *, optional: bool = False
    ) -> list[Named]:
        result: list[Named] = []
        for i, raw in enumerate(self.items(value, path, what=f"{what}s", optional=optional)):
            here = (*path, i)
            spec = self.mapping(raw, here, required=("id", "title"), optional=("definition",))
            if spec is None:
                continue
            ident = self.ident(spec.get("id"), (*here, "id"))
            title = self.text(spec.get("title"), (*here, "title"))
            definition = self.text(spec.get("definition"), (*here, "definition"), required=False)
            if title is not None:
                result.append(Named(ident, title, definition))
        self.unique(result, path, what)
        if not optional and value is not None and not result and not self.problems:
            self.problem(path, f"There is no {what}.", f"Give at least one {what}.")
        return result

    def priorities(self, value: Any, path: Path_) -> list[Named]:
        priorities = self.named_list(value, path, "priority")
        ids = [p.id for p in priorities]
        if priorities and ids != list(PRIORITIES):
            self.problem(
                path,
                f"The priorities must be {', '.join(PRIORITIES)} in this order, "
                f"got {', '.join(map(str, ids))}.",
                "Keep the ids and order; change only titles and definitions.",
            )
        return priorities

    def matrix(self, value: Any, path: Path_) -> PriorityMatrix | None:
        if value is None:
            return None
        spec = self.mapping(value, path, required=("impact", "workaround", "cells"))
        if spec is None:
            return None
        questions: dict[str, Question] = {}
        for name in ("impact", "workaround"):
            here = (*path, name)
            q = self.mapping(spec.get(name), here, required=("title", "answers"))
            if q is None:
                continue
            answers: list[Answer] = []
            for i, raw in enumerate(
                self.items(q.get("answers"), (*here, "answers"), what="answers")
            ):
                a = self.mapping(raw, (*here, "answers", i), required=("id", "title"))
                if a is None:
                    continue
                answer_title = self.text(a.get("title"), (*here, "answers", i, "title"))
                if answer_title is not None:
                    answers.append(
                        Answer(self.ident(a.get("id"), (*here, "answers", i, "id")), answer_title)
                    )
            self.unique(answers, (*here, "answers"), "answer")
            title = self.text(q.get("title"), (*here, "title"))
            if title is not None:
                questions[name] = Question(title, tuple(answers))
        if len(questions) < 2:
            return None
        impact_ids = [a.id for a in questions["impact"].answers]
        workaround_ids = [a.id for a in questions["workaround"].answers]
        cells_raw = self.mapping(spec.get("cells"), (*path, "cells"), optional=impact_ids)
        cells: dict[str, dict[str, str]] = {}
        for impact in impact_ids:
            row = self.mapping(
                (cells_raw or {}).get(impact), (*path, "cells", impact), optional=workaround_ids,
                what=f"a mapping of workaround answers to priorities for impact {impact!r}",
            )  # fmt: skip
            if row is None:
                continue
            cells[impact] = {}
            for workaround in workaround_ids:
                if workaround not in row:
                    self.problem(
                        (*path, "cells", impact),
                        f"No priority for impact {impact!r} with workaround {workaround!r}.",
                        "Every impact × workaround pair needs a priority.",
                    )
                    continue
                cells[impact][workaround] = self.ref(
                    row[workaround], (*path, "cells", impact, workaround), PRIORITIES, "priority"
                )
        return PriorityMatrix(questions["impact"], questions["workaround"], cells)

    def categories(self, value: Any, path: Path_, groups: list[Named]) -> list[Category]:
        result: list[Category] = []
        group_ids = [g.id for g in groups]
        for i, raw in enumerate(self.items(value, path, what="categories", optional=True)):
            here = (*path, i)
            spec = self.mapping(
                raw, here, required=("id", "title"), optional=("group", "default_priority")
            )
            if spec is None:
                continue
            group = spec.get("group")
            if group is not None:
                group = self.ref(group, (*here, "group"), group_ids, "category group")
            priority = spec.get("default_priority")
            if priority is not None:
                priority = self.ref(priority, (*here, "default_priority"), PRIORITIES, "priority")
            title = self.text(spec.get("title"), (*here, "title"))
            if title is not None:
                result.append(
                    Category(self.ident(spec.get("id"), (*here, "id")), title, group, priority)
                )
        self.unique(result, path, "category")
        return result

    def metric_ids(self, value: Any) -> list[str]:
        if not isinstance(value, list):
            return []
        return [m["id"] for m in value if isinstance(m, dict) and isinstance(m.get("id"), str)]

    def tariffs(self, value: Any, path: Path_, metric_ids: list[str]) -> list[Tariff]:
        result: list[Tariff] = []
        for i, raw in enumerate(self.items(value, path, what="tariffs")):
            here = (*path, i)
            spec = self.mapping(
                raw, here, required=("id", "title"), optional=("description", "usage", "paid_work")
            )
            if spec is None:
                continue
            usage = self.usage(spec.get("usage"), (*here, "usage"))
            paid = self.paid_work(spec.get("paid_work"), (*here, "paid_work"), metric_ids)
            title = self.text(spec.get("title"), (*here, "title"))
            if title is not None:
                result.append(
                    Tariff(
                        self.ident(spec.get("id"), (*here, "id")),
                        title,
                        self.text(spec.get("description"), (*here, "description"), required=False),
                        usage,
                        paid,
                    )
                )
        self.unique(result, path, "tariff")
        if isinstance(value, list) and not value:
            self.problem(path, "There is no tariff.", "Give at least one tariff.")
        return result

    def paid_work(self, value: Any, path: Path_, metric_ids: list[str]) -> PaidWork | None:
        """R4.6 `paid_work`; the status and resolution ids are checked by paid_work_refs."""
        if value is None:
            return None
        spec = self.mapping(
            value,
            path,
            required=("after",),
            optional=("approved_by", "status", "on_decline", "metric"),
        )
        if spec is None:
            return None
        after = self.ref(spec.get("after"), (*path, "after"), metric_ids, "metric")
        approvers = self.refs(
            spec.get("approved_by", list(APPROVERS)),
            (*path, "approved_by"),
            APPROVERS,
            "approver",
        )
        if not approvers:
            self.problem(
                (*path, "approved_by"),
                "Nobody may approve an estimate.",
                f"List one or both of: {', '.join(APPROVERS)}.",
            )
        metric = spec.get("metric") or ""
        if metric:
            metric = self.ref(metric, (*path, "metric"), metric_ids, "metric")
        status = spec.get("status") or ""
        if status and not isinstance(status, str):
            self.problem((*path, "status"), f"Expected a status id, got {_kind(status)}.")
            status = ""
        decline = spec.get("on_decline", "consultation")
        on_decline = OnDecline()
        if isinstance(decline, dict):
            d = self.mapping(
                decline, (*path, "on_decline"), required=("status",), optional=("resolution",)
            )
            if d is not None:
                on_decline = OnDecline(str(d.get("status")), str(d.get("resolution") or ""))
        elif decline != "consultation":
            self.problem(
                (*path, "on_decline"),
                f"{decline!r} is not what a declined estimate does.",
                "Write `consultation` (back to the status before waiting) or "
                "{status: STATUS, resolution: RESOLUTION}.",
            )
        return PaidWork(
            after=after,
            approved_by=approvers,
            status=status,
            on_decline=on_decline,
            metric=metric,
        )

    def paid_work_refs(
        self,
        tariffs: list[Tariff],
        statuses: list[Status],
        resolutions: list[Named],
        metrics: list[Metric],
    ) -> None:
        """R4.6: a tariff's `paid_work` names statuses, a resolution and a metric that exist."""
        status_ids = [s.id for s in statuses]
        by_id = {s.id: s for s in statuses}
        for i, tariff in enumerate(tariffs):
            paid = tariff.paid_work
            if paid is None:
                continue
            path: Path_ = ("tariffs", i, "paid_work")
            if paid.status:
                self.ref(paid.status, (*path, "status"), status_ids, "status")
                waiting = by_id.get(paid.status)
                if waiting is not None and waiting.final:
                    self.problem(
                        (*path, "status"),
                        f"The status {paid.status!r} is final; a request waiting for "
                        "approval of an estimate is open.",
                        "Name a status that is not final.",
                    )
            decline = paid.on_decline
            if not decline.consultation:
                self.ref(decline.status, (*path, "on_decline", "status"), status_ids, "status")
                target = by_id.get(decline.status)
                if target is not None and target.final and target.resolution_required:
                    if not decline.resolution:
                        self.problem(
                            (*path, "on_decline"),
                            f"The status {decline.status!r} needs a resolution.",
                            "Add `resolution:` with one of the regulation's resolutions.",
                        )
                if decline.resolution:
                    self.ref(
                        decline.resolution,
                        (*path, "on_decline", "resolution"),
                        [r.id for r in resolutions],
                        "resolution",
                    )
            if paid.metric:
                metric = next((m for m in metrics if m.id == paid.metric), None)
                if metric is not None and metric.starts != "paid_work_approved":
                    self.problem(
                        (*path, "metric"),
                        f"The paid-work metric {paid.metric!r} starts on {metric.starts!r}.",
                        "A paid-work clock starts when the estimate is approved: "
                        "`starts: paid_work_approved`.",
                    )
        # Only an estimate moves a request into a waiting status (the paid-work
        # services skip `next`): a `next` naming one would let a plain status
        # change pause the clocks with nothing to approve.
        waiting_ids = {t.paid_work.status for t in tariffs if t.paid_work and t.paid_work.status}
        for j, status in enumerate(statuses):
            for k, following in enumerate(status.next):
                if following in waiting_ids:
                    self.problem(
                        ("statuses", j, "next", k),
                        f"The status {status.id!r} lists {following!r} in `next`, but a "
                        "request waits there only for an estimate to be approved "
                        "(a tariff's paid_work.status).",
                        f"Remove {following!r} from `next`: proposing an estimate moves "
                        "the request there, approving or declining moves it on.",
                    )

    def usage(self, value: Any, path: Path_) -> Usage | None:
        if value is None:
            return None
        spec = self.mapping(
            value,
            path,
            required=("unit",),
            optional=("increment", "period", "reopen_window"),
        )
        if spec is None:
            return None
        unit = self.ref(spec.get("unit"), (*path, "unit"), ("request", "hour"), "usage unit")
        raw = spec.get("increment", 1)
        try:
            increment = Decimal(str(raw))
        except InvalidOperation:
            increment = Decimal(-1)
        if not increment.is_finite() or increment <= 0 or (unit == "request" and increment != 1):
            self.problem(
                (*path, "increment"),
                f"{raw!r} is not a valid increment for unit {unit!r}.",
                "Per request the increment is 1; per hour a positive number of hours, e.g. 0.5.",
            )
        period = spec.get("period", "month")
        if period != "month":
            self.problem(
                (*path, "period"),
                f"{period!r} is not a supported usage period.",
                "Usage is accounted per calendar month: write 'period: month' or leave it out.",
            )
        usage = Usage(unit, increment)
        if "reopen_window" in spec:
            window_path = (*path, "reopen_window")
            if unit != "request":
                self.problem(
                    window_path,
                    "A reopen window applies only to usage counted per request.",
                    "Remove reopen_window: per hour, time is counted as it is logged.",
                )
                return usage
            window = self.duration(spec["reopen_window"], window_path)
            if window is None:
                self.problem(
                    window_path,
                    "The reopen window cannot be 'none'.",
                    "Give a duration on the default calendar, e.g. 10wd or 40h.",
                )
            elif window is not INVALID:
                usage = Usage(unit, increment, reopen_window=window)
        return usage

    def services(self, value: Any, path: Path_, tariff_ids: list[str]) -> list[Service]:
        result: list[Service] = []
        for i, raw in enumerate(self.items(value, path, what="services")):
            here = (*path, i)
            spec = self.mapping(
                raw, here, required=("id", "title", "tariffs"), optional=("group", "note")
            )
            if spec is None:
                continue
            values: dict[str, ServiceValue] = {}
            cells = (
                self.mapping(
                    spec.get("tariffs"),
                    (*here, "tariffs"),
                    optional=tariff_ids,
                    what="a mapping of tariff ids to values",
                )
                or {}
            )
            for tariff in tariff_ids:
                cell_path = (*here, "tariffs", tariff)
                if tariff not in cells:
                    self.problem(
                        (*here, "tariffs"),
                        f"No value for tariff {tariff!r}.",
                        "Give true (included), false (not included) or a text for every tariff.",
                    )
                    continue
                cell = cells[tariff]
                if isinstance(cell, bool):
                    values[tariff] = cell
                else:
                    text = self.text(cell, cell_path)
                    if text is not None:
                        values[tariff] = text
            title = self.text(spec.get("title"), (*here, "title"))
            if title is not None:
                result.append(
                    Service(
                        self.ident(spec.get("id"), (*here, "id")),
                        title,
                        values,
                        self.text(spec.get("group"), (*here, "group"), required=False),
                        self.text(spec.get("note"), (*here, "note"), required=False),
                    )
                )
        self.unique(result, path, "service")
        return result

    def sections(self, value: Any, path: Path_, tariff_ids: list[str]) -> list[KnowledgeSection]:
        result: list[KnowledgeSection] = []
        for i, raw in enumerate(self.items(value, path, what="knowledge sections", optional=True)):
            here = (*path, i)
            spec = self.mapping(raw, here, required=("id", "title", "tariffs"))
            if spec is None:
                continue
            tariffs = self.refs(spec.get("tariffs"), (*here, "tariffs"), tariff_ids, "tariff")
            title = self.text(spec.get("title"), (*here, "title"))
            if title is not None:
                result.append(
                    KnowledgeSection(self.ident(spec.get("id"), (*here, "id")), title, tariffs)
                )
        self.unique(result, path, "knowledge section")
        return result

    def statuses(self, value: Any, path: Path_, metric_ids: list[str]) -> list[Status]:
        raws = self.items(value, path, what="statuses")
        ids = [s.get("id") for s in raws if isinstance(s, dict)]
        result: list[Status] = []
        for i, raw in enumerate(raws):
            here = (*path, i)
            spec = self.mapping(
                raw, here, required=("id", "title"),
                optional=(
                    "initial", "final", "waiting_for_customer", "resolution_required",
                    "pauses", "next", "description",
                ),
            )  # fmt: skip
            if spec is None:
                continue
            pauses = self.refs(
                spec.get("pauses", []), (*here, "pauses"), [*metric_ids, "all"], "metric"
            )
            following = self.refs(spec.get("next", []), (*here, "next"), ids, "status")
            title = self.text(spec.get("title"), (*here, "title"))
            if title is None:
                continue
            result.append(
                Status(
                    id=self.ident(spec.get("id"), (*here, "id")),
                    title=title,
                    initial=self.flag(spec.get("initial"), (*here, "initial")),
                    final=self.flag(spec.get("final"), (*here, "final")),
                    waiting_for_customer=self.flag(
                        spec.get("waiting_for_customer"), (*here, "waiting_for_customer")
                    ),
                    resolution_required=self.flag(
                        spec.get("resolution_required"), (*here, "resolution_required")
                    ),
                    pauses=pauses,
                    next=following,
                    description=self.text(
                        spec.get("description"), (*here, "description"), required=False
                    ),
                )
            )
        self.unique(result, path, "status")
        if raws and sum(s.initial for s in result) != 1:
            self.problem(
                path,
                "Exactly one status must be 'initial: true'.",
                "Mark the status new requests get.",
            )
        if raws and not any(s.final for s in result):
            self.problem(
                path, "No status is 'final: true'.", "Mark the status(es) that end a request."
            )
        if sum(s.waiting_for_customer for s in result) > 1:
            self.problem(path, "More than one status is 'waiting_for_customer'.", "Keep one.")
        return result

    def metrics(self, value: Any, path: Path_, context: _Context) -> list[Metric]:
        result: list[Metric] = []
        for i, raw in enumerate(self.items(value, path, what="metrics")):
            here = (*path, i)
            spec = self.mapping(
                raw, here, required=("id", "title", "starts", "stops", "targets"),
                optional=("calendar", "applies_to", "description"),
            )  # fmt: skip
            if spec is None:
                continue
            metric_id = self.ident(spec.get("id"), (*here, "id"))
            starts = self.ref(spec.get("starts"), (*here, "starts"), EVENTS, "event")
            stops = self.ref(spec.get("stops"), (*here, "stops"), EVENTS, "event")
            calendar = spec.get("calendar", context.default_calendar)
            self.ref(calendar, (*here, "calendar"), context.calendars, "calendar")
            types: tuple[str, ...] | None = None
            tariffs: tuple[str, ...] | None = None
            if spec.get("applies_to") is not None:
                applies = (
                    self.mapping(
                        spec["applies_to"], (*here, "applies_to"), optional=("types", "tariffs")
                    )
                    or {}
                )
                if "types" in applies:
                    types = self.refs(
                        applies["types"],
                        (*here, "applies_to", "types"),
                        context.types,
                        "request type",
                    )
                if "tariffs" in applies:
                    tariffs = self.refs(
                        applies["tariffs"],
                        (*here, "applies_to", "tariffs"),
                        context.tariffs,
                        "tariff",
                    )
            rules = tuple(
                rule
                for j, raw_rule in enumerate(
                    self.items(spec.get("targets"), (*here, "targets"), what="target rules")
                )
                if (rule := self.rule(raw_rule, (*here, "targets", j), j, context)) is not None
            )
            title = self.text(spec.get("title"), (*here, "title"))
            if title is None or INVALID in (metric_id, starts, stops, calendar):
                continue
            metric = Metric(
                id=metric_id,
                title=title,
                starts=starts,
                stops=stops,
                calendar=calendar,
                rules=rules,
                types=types,
                tariffs=tariffs,
                description=self.text(
                    spec.get("description"), (*here, "description"), required=False
                ),
            )
            if len(rules) == len(spec.get("targets") or []):
                self.overlaps(metric, (*here, "targets"))
                self.completeness(metric, (*here, "targets"), context)
            result.append(metric)
        self.unique(result, path, "metric")
        return result

    def rule(self, raw: Any, path: Path_, index: int, context: _Context) -> Rule | None:
        spec = self.mapping(
            raw, path, required=("target",),
            optional=(*_CONDITION_KEYS, "attributes", "calendar", "note"),
        )  # fmt: skip
        if spec is None:
            return None
        before = len(self.problems)
        known: dict[str, Iterable[Any]] = {
            "tariff": context.tariffs,
            "priority": PRIORITIES,
            "line": LINES,
            "type": context.types,
            "category": context.categories,
            "category_group": context.groups,
            "out_of_scope": (True, False),
        }
        conditions: dict[str, frozenset[Any]] = {}
        for key in _CONDITION_KEYS:
            if key in spec:
                conditions[key] = frozenset(
                    self.refs(spec[key], (*path, key), known[key], key.replace("_", " "))
                )
        attributes: dict[str, Range] = {}
        raw_attributes = spec.get("attributes")
        if raw_attributes is not None:
            for name, bounds in (self.mapping(raw_attributes, (*path, "attributes")) or {}).items():
                attributes[str(name)] = self.range(bounds, (*path, "attributes", name))
        target = self.duration(spec.get("target"), (*path, "target"))
        calendar = spec.get("calendar")
        if calendar is not None:
            self.ref(calendar, (*path, "calendar"), context.calendars, "calendar")
        note = self.text(spec.get("note"), (*path, "note"), required=False)
        if len(self.problems) > before:
            return None
        return Rule(index, self.lines.get(path, 1), conditions, attributes, target, calendar, note)

    def range(self, value: Any, path: Path_) -> Range:
        spec = (
            self.mapping(value, path, optional=("min", "max"), what="a range {min: …, max: …}")
            or {}
        )
        bounds: dict[str, Decimal | None] = {"min": None, "max": None}
        for key in ("min", "max"):
            if key in spec:
                raw = spec[key]
                if isinstance(raw, bool) or not isinstance(raw, int | float):
                    self.problem((*path, key), f"Expected a number, got {raw!r}.")
                else:
                    bounds[key] = Decimal(str(raw))
        if not spec:
            self.problem(path, "The range has neither min nor max.", "E.g. {min: 50}.")
        low, high = bounds["min"], bounds["max"]
        if low is not None and high is not None and low >= high:
            self.problem(path, f"The range is empty: min {low} ≥ max {high}.", "max is exclusive.")
        return Range(low, high)

    def overlaps(self, metric: Metric, path: Path_) -> None:
        for first, second in itertools.combinations(metric.rules, 2):
            if not _compatible(first, second):
                continue
            if first.keys < second.keys or second.keys < first.keys:
                continue
            self.problem(
                (*path, second.index),
                f"Target rules {first.index + 1} (line {first.line}) and {second.index + 1} "
                f"overlap: both match a request with {_common(first, second)}, and neither is "
                "more specific.",
                "Make their conditions disjoint, or add a condition to the one that should win.",
            )

    def completeness(self, metric: Metric, path: Path_, context: _Context) -> None:
        tariffs = metric.tariffs or tuple(context.tariffs)
        types: tuple[str | None, ...] = metric.types or tuple(context.types) or (None,)
        scopes = (False, True) if context.out_of_scope else (False,)
        missing: list[str] = []
        for tariff, priority, line, kind, scope in itertools.product(
            tariffs, PRIORITIES, LINES, types, scopes
        ):
            case = Case(tariff=tariff, priority=priority, line=line, type=kind, out_of_scope=scope)
            try:
                rule = winning_rule(metric, case)
            except DomainError:
                continue  # reported as an overlap
            if rule is None:
                missing.append(
                    f"tariff={tariff}, priority={priority}, line={line}"
                    + (f", type={kind}" if kind else "")
                    + (", out_of_scope=true" if scope else "")
                )
        if missing:
            shown = "; ".join(missing[:3]) + (
                f"; and {len(missing) - 3} more" if len(missing) > 3 else ""
            )
            self.problem(
                path,
                f"Metric {metric.id!r} has no target for {shown}.",
                "Add a rule that covers them; use 'target: none' where nothing is promised.",
            )

    def reported(self, value: Any, path: Path_, metric_ids: list[str]) -> list[Reported]:
        result: list[Reported] = []
        for i, raw in enumerate(self.items(value, path, what="reported promises", optional=True)):
            here = (*path, i)
            spec = self.mapping(raw, here, required=("id", "text"), optional=("metric", "target"))
            if spec is None:
                continue
            metric = spec.get("metric")
            if metric is not None:
                self.ref(metric, (*here, "metric"), metric_ids, "metric")
            target = self.duration(spec["target"], (*here, "target")) if "target" in spec else None
            text = self.text(spec.get("text"), (*here, "text"))
            if text is not None:
                result.append(
                    Reported(self.ident(spec.get("id"), (*here, "id")), text, metric, target)
                )
        self.unique(result, path, "reported promise")
        return result

    def documentation(self, value: Any, path: Path_) -> list[Document]:
        result: list[Document] = []
        for i, raw in enumerate(self.items(value, path, what="documents", optional=True)):
            here = (*path, i)
            spec = self.mapping(raw, here, required=("title", "url"))
            if spec is None:
                continue
            url = spec.get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                self.problem(
                    (*here, "url"), f"{url!r} is not a web address.", "Start it with https://."
                )
                continue
            title = self.text(spec.get("title"), (*here, "title"))
            if title is not None:
                result.append(Document(title, url))
        return result


_CONDITION_KEYS = (
    "tariff",
    "priority",
    "line",
    "type",
    "category",
    "category_group",
    "out_of_scope",
)


@dataclass(frozen=True, slots=True)
class _Context:
    calendars: list[str]
    tariffs: list[str]
    types: list[str]
    categories: Mapping[str, Category]
    groups: list[str]
    out_of_scope: bool
    default_calendar: str


def _compatible(first: Rule, second: Rule) -> bool:
    """Whether some request could match both rules."""
    for key in first.conditions.keys() & second.conditions.keys():
        if not first.conditions[key] & second.conditions[key]:
            return False
    for name in first.attributes.keys() & second.attributes.keys():
        if not first.attributes[name].meets(second.attributes[name]):
            return False
    return True


def _common(first: Rule, second: Rule) -> str:
    parts = []
    for key in sorted(first.conditions.keys() | second.conditions.keys()):
        values = first.conditions.get(key, second.conditions.get(key, frozenset()))
        if key in first.conditions and key in second.conditions:
            values = first.conditions[key] & second.conditions[key]
        parts.append(f"{key}={'|'.join(sorted(map(str, values)))}")
    return ", ".join(parts) or "any conditions"


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        type(None): "nothing",
    }
    return kinds.get(type(value), f"the value {value!r}")
