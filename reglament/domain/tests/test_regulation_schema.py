"""The shipped JSON Schema agrees with the loader on every shipped regulation."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "regulations/regulation.schema.json").read_text(encoding="utf-8"))
SHIPPED = sorted((ROOT / "regulations").glob("*.yaml"))


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_each_shipped_regulation_satisfies_the_schema(path):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = sorted(
        jsonschema.Draft202012Validator(SCHEMA).iter_errors(document), key=lambda e: e.path
    )
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_the_schema_refuses_what_the_loader_refuses():
    document = yaml.safe_load((ROOT / "regulations/cera.yaml").read_text(encoding="utf-8"))
    document["metrics"][0]["targets"][0]["target"] = "4 hours"
    document["metrics"][0]["colour"] = "red"
    messages = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)]
    assert any("'4 hours' does not match" in m for m in messages)
    assert any("'colour' was unexpected" in m for m in messages)
