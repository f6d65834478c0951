"""The tariff comparison a customer sees, generated from the regulation itself.

The same table as the seeds' pages: the service catalogue (✓ / ✗ / a limit per
tariff), then every promised time per tariff, as plain text, Markdown or HTML.
"""

from __future__ import annotations

import html
import itertools
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

from reglament.domain.regulation.model import (
    LINES,
    PRIORITIES,
    Case,
    Metric,
    Regulation,
    Rule,
    Text,
    format_target,
    winning_rule,
)

LABELS: dict[str, dict[str, object]] = {
    "ru": {
        "service": "Услуга",
        "times": "Сроки",
        "yes": "✓",
        "no": "✗",
        "around": "круглосуточно",
        "line": "линия",
        "usage": "Учёт использования",
        "per_request": "обращение",
        "per_hour": "час, кратность {increment}",
        "paid": "Платные работы после срока «{metric}»",
        "reported": "Также обещано",
        "priorities": {
            "critical": "критический",
            "high": "высокий",
            "medium": "средний",
            "low": "низкий",
        },
    },
    "en": {
        "service": "Service",
        "times": "Times",
        "yes": "✓",
        "no": "✗",
        "around": "around the clock",
        "line": "line",
        "usage": "Usage accounting",
        "per_request": "per request",
        "per_hour": "per hour, in steps of {increment}",
        "paid": "Paid work after the «{metric}» time",
        "reported": "Also promised",
        "priorities": {"critical": "critical", "high": "high", "medium": "medium", "low": "low"},
    },
}


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    title: str
    tariffs: tuple[str, ...]
    sections: tuple[Section, ...]
    notes: tuple[str, ...]


def comparison(regulation: Regulation, lang: str = "ru") -> Comparison:
    """The comparison table of ``regulation`` in ``lang`` (``ru`` or ``en``)."""
    words = LABELS["en" if lang == "en" else "ru"]
    tariff_ids = [t.id for t in regulation.tariffs]
    sections: list[Section] = []
    for group, services in itertools.groupby(
        regulation.services, key=lambda s: s.group.get(lang) if s.group else ""
    ):
        rows = []
        for service in services:
            cells: list[str] = []
            for tariff in tariff_ids:
                value = service.tariffs[tariff]
                if isinstance(value, bool):
                    cells.append(str(words["yes"] if value else words["no"]))
                else:
                    cells.append(value.get(lang))
            rows.append(Row(service.title.get(lang), tuple(cells)))
        sections.append(Section(group or str(words["service"]), tuple(rows)))

    time_rows: list[Row] = []
    for metric in regulation.metrics:
        categories: list[str | None] = [None]
        for rule in metric.rules:
            for named in sorted(str(c) for c in rule.conditions.get("category", ())):
                if named not in categories:
                    categories.append(named)
        for category in categories:
            label = metric.title.get(lang)
            if category is not None:
                label = f"{label}: {regulation.category(category).title.get(lang)}"
            summaries = tuple(
                _summary(regulation, metric, tariff, category, lang) for tariff in tariff_ids
            )
            time_rows.append(Row(label, summaries))
    usage = [t.usage for t in regulation.tariffs]
    if any(usage):
        usage_cells = tuple(
            ""
            if u is None
            else str(words["per_request"])
            if u.unit == "request"
            else str(words["per_hour"]).format(increment=_number(u.increment, lang))
            for u in usage
        )
        time_rows.append(Row(str(words["usage"]), usage_cells))
    sections.append(Section(str(words["times"]), tuple(time_rows)))

    notes = [
        str(words["paid"]).format(metric=regulation.metric(t.paid_work.after).title.get(lang))
        + f" ({t.title.get(lang)})"
        for t in regulation.tariffs
        if t.paid_work is not None
    ]
    notes += [r.text.get(lang) for r in regulation.reported]
    return Comparison(
        title=regulation.title.get(lang),
        tariffs=tuple(t.title.get(lang) for t in regulation.tariffs),
        sections=tuple(sections),
        notes=tuple(notes),
    )


def _summary(
    regulation: Regulation, metric: Metric, tariff: str, category: str | None, lang: str
) -> str:
    """One cell: the metric's target(s) for a tariff, the variants told apart."""
    words = LABELS["en" if lang == "en" else "ru"]
    if metric.tariffs is not None and tariff not in metric.tariffs:
        return "—"
    by_type = any("type" in rule.conditions for rule in metric.rules)
    types: list[str | None] = (
        list(metric.types or [t.id for t in regulation.request_types]) if by_type else [None]
    )
    texts = {
        (priority, line, kind): _describe(
            regulation,
            metric,
            winning_rule(
                metric,
                regulation.check_case(
                    Case(tariff=tariff, priority=priority, line=line, type=kind, category=category)
                ),
            ),
            lang,
        )
        for priority, line, kind in itertools.product(PRIORITIES, LINES, types)
    }
    names = cast(dict[str, str], words["priorities"])
    parts: list[str] = []

    # Told apart line by line, then by request type, then by priority, so that a
    # label never merges variants that differ on another axis.
    def by_line(line: int) -> list[str]:
        return [texts[p, line, k] for p in PRIORITIES for k in types]

    for lines in _groups(LINES, by_line):
        line_parts: list[str] = []

        def by_kind(kind: str | None, line: int = lines[0]) -> list[str]:
            return [texts[p, line, kind] for p in PRIORITIES]

        for kinds in _groups(types, by_kind):

            def by_priority(p: str, line: int = lines[0], kind: str | None = kinds[0]) -> list[str]:
                return [texts[p, line, kind]]

            kind_parts = [
                texts[ps[0], lines[0], kinds[0]]
                if len(ps) == len(PRIORITIES)
                else f"{', '.join(names[p] for p in ps)}: {texts[ps[0], lines[0], kinds[0]]}"
                for ps in _groups(PRIORITIES, by_priority)
            ]
            label = (
                ", ".join(_title(regulation, k, lang) for k in kinds if k)
                if len(kinds) < len(types)
                else ""
            )
            line_parts.append((f"{label} — " if label else "") + "; ".join(kind_parts))
        label = f"{words['line']} {', '.join(map(str, lines))}: " if len(lines) < len(LINES) else ""
        parts.append(label + " / ".join(line_parts))
    extras = [
        rule
        for rule in metric.rules
        if rule.attributes
        and tariff in rule.conditions.get("tariff", {tariff})
        and (category is None) == ("category" not in rule.conditions)
        and (category is None or category in rule.conditions["category"])
    ]
    for rule in extras:
        condition = ", ".join(
            f"{name} ≥ {_number(r.low, lang)}" if r.high is None else f"{name} {r.low}–{r.high}"
            for name, r in rule.attributes.items()
        )
        priorities = rule.conditions.get("priority")
        if priorities is not None and len(priorities) < len(PRIORITIES):
            chosen = [p for p in PRIORITIES if p in priorities]
            condition = ", ".join(names[p] for p in chosen) + f", {condition}"
        parts.append(f"({condition}: {_describe(regulation, metric, rule, lang)})")
    return "; ".join(parts)


def _describe(regulation: Regulation, metric: Metric, rule: Rule | None, lang: str) -> str:
    words = LABELS["en" if lang == "en" else "ru"]
    if rule is None:
        return format_target(None, lang)
    if rule.target is None and rule.note is not None:
        return rule.note.get(lang)  # the regulation's own words for "no promise"
    text = format_target(rule.target, lang)
    calendar = rule.calendar or metric.calendar
    if rule.target is not None and calendar != metric.calendar:
        spec = regulation.calendar_specs[calendar]
        text += f" ({words['around'] if spec.schedule == 'always' else spec.schedule})"
    if rule.note is not None:
        text += f" — {rule.note.get(lang)}"
    return text


def _groups[T](items: Iterable[T], key: Callable[[T], list[str]]) -> list[list[T]]:
    """``items`` grouped by equal keys, in first-seen order."""
    groups: dict[tuple[str, ...], list[T]] = {}
    for item in items:
        groups.setdefault(tuple(key(item)), []).append(item)
    return list(groups.values())


def _title(regulation: Regulation, type_id: str, lang: str) -> str:
    return next(t.title.get(lang) for t in regulation.request_types if t.id == type_id)


def _number(value: object, lang: str) -> str:
    text = f"{value}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "ru" else text


# ------------------------------------------------------------------------ formats
def render_text(table: Comparison, *, label_width: int = 44, total_width: int = 124) -> str:
    """Columns within ``total_width``; long texts wrap onto more lines."""
    all_rows = [row for section in table.sections for row in section.rows]
    widths = [min(label_width, max(len(r.label) for r in all_rows))]
    cell_width = max(20, (total_width - widths[0]) // max(1, len(table.tariffs)) - 2)
    for i, tariff in enumerate(table.tariffs):
        longest = max([len(tariff), *(len(r.cells[i]) for r in all_rows)])
        widths.append(min(cell_width, longest))
    lines = [table.title, "=" * len(table.title), ""]
    lines += _text_row(["", *table.tariffs], widths)
    for section in table.sections:
        lines += ["", section.title, "-" * len(section.title)]
        for row in section.rows:
            lines += _text_row([row.label, *row.cells], widths)
    if table.notes:
        lines.append("")
        for note in table.notes:
            lines += textwrap.wrap(note, width=100, initial_indent="* ", subsequent_indent="  ")
    return "\n".join(lines) + "\n"


def _text_row(cells: Iterable[str], widths: list[int]) -> list[str]:
    wrapped = [textwrap.wrap(c, width=w) or [""] for c, w in zip(cells, widths, strict=True)]
    height = max(len(w) for w in wrapped)
    return [
        "  ".join(
            (parts[k] if k < len(parts) else "").ljust(width)
            for parts, width in zip(wrapped, widths, strict=True)
        ).rstrip()
        for k in range(height)
    ]


def render_markdown(table: Comparison) -> str:
    def row(cells: Iterable[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [f"# {table.title}", ""]
    for section in table.sections:
        lines += [f"## {section.title}", "", row(["", *table.tariffs])]
        lines.append(row(["---"] * (len(table.tariffs) + 1)))
        lines += [row([r.label, *r.cells]) for r in section.rows]
        lines.append("")
    lines += [f"- {note}" for note in table.notes]
    return "\n".join(lines).rstrip() + "\n"


def render_html(table: Comparison) -> str:
    e = html.escape
    head = "".join(f"<th scope='col'>{e(t)}</th>" for t in table.tariffs)
    parts = [f"<table class='tariff-comparison'><caption>{e(table.title)}</caption>"]
    parts.append(f"<thead><tr><th></th>{head}</tr></thead>")
    for section in table.sections:
        span = len(table.tariffs) + 1
        parts.append(
            f"<tbody><tr><th colspan='{span}' scope='rowgroup'>{e(section.title)}</th></tr>"
        )
        for r in section.rows:
            cells = "".join(f"<td>{e(c)}</td>" for c in r.cells)
            parts.append(f"<tr><th scope='row'>{e(r.label)}</th>{cells}</tr>")
        parts.append("</tbody>")
    parts.append("</table>")
    if table.notes:
        parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in table.notes) + "</ul>")
    return "\n".join(parts) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html}


def render(regulation: Regulation, *, lang: str = "ru", fmt: str = "text") -> str:
    return RENDERERS[fmt](comparison(regulation, lang))


__all__ = ["Comparison", "Row", "Section", "Text", "comparison", "render"]
