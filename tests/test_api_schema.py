"""The API's schema names are unique across apps.

OpenAPI names each component after its class; two apps' schemas of the same
name would share one entry of /api/v1/openapi.json, so one operation would be
documented with the other's fields (this happened to /sla/simulate's clocks).
"""

from collections import defaultdict

from ninja import Schema

import config.api  # noqa: F401  (imports every app's router, so every schema class)


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_no_two_api_schemas_share_a_name() -> None:
    # given every schema class the API's routers declare
    names: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("reglament.") and ".tests." not in cls.__module__:
            names[cls.__name__].add(cls.__module__)
    # then each name belongs to one class
    assert {name: sorted(modules) for name, modules in names.items() if len(modules) > 1} == {}
    assert len(names) > 20
