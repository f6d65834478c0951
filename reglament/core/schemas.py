"""API schemas more than one app answers with.

OpenAPI names a component after its class, so two apps' classes of the same
name would share (and overwrite) one entry of /api/v1/openapi.json; anything
two routers need is declared once, here. tests/test_api_schema.py guards it.
"""

from datetime import datetime

from ninja import Schema


class TextOut(Schema):
    """A text of a regulation in both languages (English falls back to Russian)."""

    ru: str
    en: str


class IntervalOut(Schema):
    """A half-open interval of time [start, end)."""

    start: datetime
    end: datetime
