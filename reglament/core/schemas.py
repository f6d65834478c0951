"""API schemas more than one app answers with.

OpenAPI names a component after its class, so two apps' classes of the same
name would share (and overwrite) one entry of /api/v1/openapi.json; anything
two routers need is declared once, here. tests/test_api_schema.py guards it.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime

# Offsets in use on Earth run from -12:00 to +14:00; PostgreSQL stores nothing past ±15:59.
_LARGEST_OFFSET = timedelta(hours=14)


def _earthly_offset(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > _LARGEST_OFFSET:
        raise ValueError(
            f"the UTC offset {value.isoformat()[-6:]} is no time zone's; "
            "offsets run from -12:00 to +14:00, e.g. 2026-11-23T10:00:00+03:00"
        )
    try:
        value.astimezone(UTC)  # what the database stores; year 1 at +03:00 has none
    except OverflowError:
        raise ValueError(
            f"{value.isoformat()} is out of range; give an instant between the years 2 and 9998"
        ) from None
    return value


# An instant a client sends: ISO 8601 with a real UTC offset.
Instant = Annotated[AwareDatetime, AfterValidator(_earthly_offset)]


class TextOut(Schema):
    """A text of a regulation in both languages (English falls back to Russian)."""

    ru: str
    en: str


class IntervalOut(Schema):
    """A half-open interval of time [start, end)."""

    start: datetime
    end: datetime
