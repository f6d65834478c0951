"""A small regulation of our own (the loader tests' VALID file) and helpers to load it."""

from reglament.domain.tests.test_regulation_loader import VALID
from reglament.regulations.models import RegulationVersion
from reglament.regulations.services import regulation_load

# The loader tests' regulation without its extra premium rules: two tariffs, only
# `premium` includes the personal manager; resolution 8 h on premium.
ACME = VALID[: VALID.index("      - {tariff: premium, priority: critical, target: 2h")]

# Changed copies of the same regulation (each a new version when loaded after ACME):
# a new title; premium without the personal manager; `basic` renamed `start`.
ACME_V2 = ACME.replace('title: {ru: "Акме", en: "Acme"}', 'title: {ru: "Акме 2", en: "Acme 2"}')
ACME_WITHOUT_MANAGER = ACME_V2.replace(
    "{basic: false, premium: true}", "{basic: false, premium: false}"
)
ACME_RENAMED_BASIC = (
    ACME_V2.replace("id: basic,", "id: start,")
    .replace("tariff: basic", "tariff: start")
    .replace("{basic: false, premium: true}", "{start: false, premium: true}")
)


def acme_load(text: str = ACME, *, name: str = "acme.yaml") -> RegulationVersion:
    version, _created = regulation_load(data=text.encode(), name=name)
    return version
