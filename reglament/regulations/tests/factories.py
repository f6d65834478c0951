"""A small regulation of our own (the loader tests' VALID file) and helpers to load it."""

from reglament.regulations.models import RegulationVersion
from reglament.regulations.services import regulation_load

# Copied from reglament/domain/tests/test_regulation_loader.py: two tariffs, only
# `premium` includes the personal manager; resolution 8 h on premium.
ACME = """\
format: 1
id: acme
title: {ru: "Акме", en: "Acme"}
vendor: {ru: "Акме", en: "Acme"}
number_prefix: ACME
calendars:
  working: {schedule: "mon-fri 10:00-19:00", timezone: Europe/Moscow, holidays: RU}
  around-the-clock: {schedule: always, timezone: Europe/Moscow}
default_calendar: working
channels:
  - {id: email, title: {ru: "Почта", en: "Email"}, calendar: around-the-clock}
tariffs:
  - {id: basic, title: {ru: "Базовый", en: "Basic"}}
  - {id: premium, title: {ru: "Премиум", en: "Premium"}, usage: {unit: hour, increment: 0.5}}
services:
  - id: personal-manager
    title: {ru: "Персональный менеджер", en: "Personal manager"}
    tariffs: {basic: false, premium: true}
request_types:
  - {id: defect, title: {ru: "Дефект", en: "Defect"}}
  - {id: consultation, title: {ru: "Консультация", en: "Consultation"}}
priorities:
  - {id: critical, title: {ru: "Критический", en: "Critical"}}
  - {id: high, title: {ru: "Высокий", en: "High"}}
  - {id: medium, title: {ru: "Средний", en: "Medium"}}
  - {id: low, title: {ru: "Низкий", en: "Low"}}
statuses:
  - {id: new, title: {ru: "Новая", en: "New"}, initial: true, next: [clarification, done]}
  - id: clarification
    title: {ru: "Уточнение", en: "Clarification"}
    waiting_for_customer: true
    pauses: [resolution]
    next: [done]
  - {id: done, title: {ru: "Выполнено", en: "Done"}, final: true}
resolutions:
  - {id: solved, title: {ru: "Решена", en: "Solved"}}
metrics:
  - id: registration
    title: {ru: "Регистрация", en: "Registration"}
    starts: received
    stops: registered
    calendar: around-the-clock
    targets:
      - {tariff: basic, target: 30m}
      - {tariff: premium, target: 15m}
  - id: resolution
    title: {ru: "Решение", en: "Resolution"}
    starts: registered
    stops: resolved
    targets:
      - {tariff: basic, target: none}
      - {tariff: premium, target: 8h}
"""

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
