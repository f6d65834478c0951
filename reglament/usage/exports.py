"""A usage report as data for invoicing: one JSON shape, and CSV / XLSX tables of it.

The API and `reglament usage report` both render through here, so the figures
and the column names are the same wherever they are read. Decimals are written
as exact strings ("1.5"), never as floats; instants in the regulation's time zone.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from reglament.domain.usage import hours
from reglament.usage.models import TimeEntry
from reglament.usage.selectors import UsageReport

# The CSV/XLSX columns, one row per request, then a totals row.
COLUMNS = (
    "number",
    "subject",
    "status",
    "billable_minutes",
    "non_billable_minutes",
    "billable_hours_raw",
    "units",
    "unit",
    "entries",
    "resolved_at",
)


def number_text(value: Decimal | None) -> str | None:
    """An exact decimal as text without trailing zeros: 1.0 → "1", 0.50 → "0.5"."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def report_data(report: UsageReport) -> dict[str, Any]:
    """The report as JSON-ready data (the API's response and `--format json`)."""
    usage = report.usage
    summary = usage.summary
    zone = usage.zone
    balance = usage.balance
    requests = []
    for line in summary.lines:
        ticket = usage.tickets[line.ticket]
        requests.append(
            {
                "number": line.ticket,
                "subject": ticket.subject,
                "status": ticket.status,
                "raw_minutes": line.billable_minutes + line.non_billable_minutes,
                "billable_minutes": line.billable_minutes,
                "non_billable_minutes": line.non_billable_minutes,
                "billable_hours_raw": number_text(hours(line.billable_minutes)),
                "units": number_text(line.units),
                "resolved_at": (
                    line.resolved_at.astimezone(zone).isoformat() if line.resolved_at else None
                ),
                "counted_resolutions": [t.astimezone(zone).isoformat() for t in line.counted_at],
                "entries": [
                    _entry_data(entry, zone=zone, full=report.full)
                    for entry in report.entries.get(line.ticket, [])
                ],
            }
        )
    row = balance.allowance
    return {
        "contract": usage.contract.pk,
        "organisation": {
            "id": usage.contract.organisation_id,
            "name": usage.contract.organisation.name,
        },
        "regulation": usage.regulation.id,
        "tariff": usage.contract.tariff.code,
        "period": str(summary.period),
        "timezone": str(zone),
        "unit": summary.unit,
        "increment": number_text(summary.increment),
        "requests": requests,
        "totals": {
            "requests": len(summary.lines),
            "billable_minutes": summary.billable_minutes,
            "non_billable_minutes": summary.non_billable_minutes,
            "units": number_text(summary.units),
        },
        "allowance": {
            "unit": balance.unit,
            "amount": number_text(balance.balance.allowance),
            "valid_from": str(balance.valid_from) if balance.valid_from else None,
            "used": number_text(balance.balance.used),
            "remaining": number_text(balance.balance.remaining),
            "exceeded": balance.balance.exceeded,
            "set_at": row.created_at.isoformat() if row is not None else None,
        },
    }


def _entry_data(entry: TimeEntry, *, zone: ZoneInfo, full: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": entry.pk,
        "performed_at": entry.performed_at.astimezone(zone).isoformat(),
        "minutes": entry.minutes,
        "activity": entry.activity,
        "billable": entry.billable,
    }
    # A customer's view: the keys are there, empty (docs/usage.md, who sees what).
    data["author"] = entry.author.get_username() if full else None
    data["note"] = entry.note if full else None
    data["recorded_at"] = entry.created_at.astimezone(zone).isoformat() if full else None
    return data


def report_rows(report: UsageReport) -> list[list[Any]]:
    """The header, one row per request, and a totals row (numbers as numbers for XLSX)."""
    data = report_data(report)
    rows: list[list[Any]] = [list(COLUMNS)]
    for request in data["requests"]:
        rows.append(
            [
                request["number"],
                request["subject"],
                request["status"],
                request["billable_minutes"],
                request["non_billable_minutes"],
                Decimal(request["billable_hours_raw"]),
                Decimal(request["units"]),
                data["unit"],
                len(request["entries"]),
                request["resolved_at"] or "",
            ]
        )
    totals = data["totals"]
    rows.append(
        [
            str(_("Total")),
            "",
            "",
            totals["billable_minutes"],
            totals["non_billable_minutes"],
            hours(totals["billable_minutes"]).normalize(),
            Decimal(totals["units"]),
            data["unit"],
            sum(len(r["entries"]) for r in data["requests"]),
            "",
        ]
    )
    return rows


# A cell a spreadsheet program would read as a formula (CSV/formula injection):
# a request's subject comes from the customer, a note is free text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """Decimals as exact text; text that would start a formula quoted with an apostrophe."""
    if isinstance(value, Decimal):
        return number_text(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _append_row(sheet: Any, values: list[Any]) -> None:
    """Append a row to an XLSX sheet; text is stored as text, never as a formula."""
    sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"


def report_csv(report: UsageReport) -> bytes:
    """CSV in UTF-8 with a BOM (so spreadsheet programs read Cyrillic right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in report_rows(report):
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def report_xlsx(report: UsageReport) -> bytes:
    """An XLSX workbook: a sheet per request totals, a sheet of entries."""
    from openpyxl import Workbook

    data = report_data(report)
    book = Workbook()
    sheet = book.active
    sheet.title = f"usage {data['period']}"
    for row in report_rows(report):
        _append_row(sheet, row)
    entries = book.create_sheet("entries")
    header = ["number", "id", "performed_at", "minutes", "activity", "billable"]
    if report.full:
        header += ["author", "note", "recorded_at"]
    _append_row(entries, header)
    for request in data["requests"]:
        for entry in request["entries"]:
            _append_row(entries, [request["number"], *(entry[name] for name in header[1:])])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
