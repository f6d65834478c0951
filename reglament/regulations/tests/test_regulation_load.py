from datetime import date

import pytest

from reglament.accounts.tests.factories import OrganisationFactory
from reglament.core.models import AppendOnlyError
from reglament.regulations.errors import RegulationInvalidError
from reglament.regulations.models import Regulation, RegulationEvent, RegulationVersion, Tariff
from reglament.regulations.selectors import (
    regulation_get_latest,
    regulation_latest_versions,
    regulation_version_get,
)
from reglament.regulations.services import (
    contract_create,
    regulation_load,
    regulation_load_many,
)
from reglament.regulations.tests.factories import ACME, ACME_V2

pytestmark = pytest.mark.django_db


def test_loading_a_file_stores_version_1_with_its_text_title_and_tariffs() -> None:
    # when
    version, created = regulation_load(data=ACME.encode(), name="regulations/acme.yaml")
    # then
    assert created is True
    assert (version.regulation_id, version.number) == ("acme", 1)
    assert version.text == ACME
    assert version.source_name == "regulations/acme.yaml"
    assert (version.title_ru, version.title_en) == ("Акме", "Acme")
    assert version.digest == version.parsed().digest
    assert len(version.digest) == 64
    assert list(version.tariffs.values_list("order", "code", "title_ru", "title_en")) == [
        (1, "basic", "Базовый", "Basic"),
        (2, "premium", "Премиум", "Premium"),
    ]


def test_loading_the_same_file_twice_returns_the_existing_version_and_stores_nothing_new() -> None:
    # given
    first, _created = regulation_load(data=ACME.encode(), name="acme.yaml")
    # when: the same bytes again, even under another file name
    again, created = regulation_load(data=ACME.encode(), name="copy-of-acme.yaml")
    # then
    assert created is False
    assert again.pk == first.pk
    assert RegulationVersion.objects.count() == 1
    assert Tariff.objects.count() == 2
    assert RegulationEvent.objects.count() == 1


def test_a_changed_file_becomes_version_2_and_contracts_stay_on_version_1() -> None:
    # given: a contract on version 1
    v1, _created = regulation_load(data=ACME.encode(), name="acme.yaml")
    contract = contract_create(
        organisation=OrganisationFactory.create(),
        version=v1,
        tariff="premium",
        valid_from=date(2025, 1, 1),
    )
    # when: the file changes
    v2, created = regulation_load(data=ACME_V2.encode(), name="acme.yaml")
    # then
    assert created is True
    assert v2.number == 2
    assert (v2.title_ru, v2.title_en) == ("Акме 2", "Acme 2")
    contract.refresh_from_db()
    assert contract.version.number == 1
    assert contract.tariff.pk == Tariff.objects.get(version=v1, code="premium").pk
    # and version 1 is kept exactly as it was
    v1.refresh_from_db()
    assert v1.text == ACME
    assert regulation_get_latest("acme") == v2
    assert regulation_version_get("acme", number=1) == v1


def test_loading_version_1_again_after_version_2_returns_version_1() -> None:
    # given
    regulation_load(data=ACME.encode(), name="acme.yaml")
    regulation_load(data=ACME_V2.encode(), name="acme.yaml")
    # when: someone loads the old file again
    version, created = regulation_load(data=ACME.encode(), name="acme.yaml")
    # then: history is not rewritten; the old bytes are still version 1
    assert (version.number, created) == (1, False)
    assert regulation_get_latest("acme").number == 2  # type: ignore[union-attr]


def test_an_invalid_file_stores_nothing_and_the_error_lists_every_problem_with_its_line() -> None:
    # given: two mistakes, an unknown stop event and a duration without a unit
    broken = ACME.replace("stops: registered", "stops: registred").replace(
        "target: 30m", "target: 30 minutes"
    )
    lines = broken.splitlines()
    # when
    with pytest.raises(RegulationInvalidError) as raised:
        regulation_load(data=broken.encode(), name="acme.yaml")
    # then
    error = raised.value
    assert error.code == "regulation_invalid"
    assert error.status == 422
    assert str(error.message) == "The regulation has 2 problems."
    assert error.details == {
        "problems": [
            {
                "file": "acme.yaml",
                "line": lines.index("    stops: registred") + 1,
                "path": "metrics[0].stops",
                "message": "Unknown event 'registred'.",
                "hint": "Did you mean 'registered'?",
            },
            {
                "file": "acme.yaml",
                "line": lines.index("      - {tariff: basic, target: 30 minutes}") + 1,
                "path": "metrics[0].targets[0].target",
                "message": "'30 minutes' is not a duration.",
                "hint": error.problems[1].hint,
            },
        ]
    }
    assert error.problems[1].hint.startswith("Write it with a unit")
    assert Regulation.objects.count() == 0
    assert RegulationVersion.objects.count() == 0
    assert RegulationEvent.objects.count() == 0


def test_one_invalid_file_among_several_stores_none_of_them() -> None:
    # given
    other = ACME.replace("id: acme", "id: other")
    broken = ACME.replace("number_prefix: ACME", "number_prefix: acme")
    # when
    with pytest.raises(RegulationInvalidError) as raised:
        regulation_load_many(
            files=[("other.yaml", other.encode()), ("broken.yaml", broken.encode())]
        )
    # then
    assert [(p["file"], p["path"]) for p in raised.value.details["problems"]] == [
        ("broken.yaml", "number_prefix")
    ]
    assert Regulation.objects.count() == 0


def test_loading_several_files_stores_each_in_order() -> None:
    # given
    other = ACME.replace("id: acme", "id: other")
    # when
    loaded = regulation_load_many(
        files=[
            ("acme.yaml", ACME.encode()),
            ("other.yaml", other.encode()),
            ("acme-v2.yaml", ACME_V2.encode()),
        ]
    )
    # then
    assert [(v.regulation_id, v.number, created) for v, created in loaded] == [
        ("acme", 1, True),
        ("other", 1, True),
        ("acme", 2, True),
    ]
    assert [(v.regulation_id, v.number) for v in regulation_latest_versions()] == [
        ("acme", 2),
        ("other", 1),
    ]


def test_loading_records_a_version_loaded_event_in_the_same_transaction() -> None:
    # when
    version, _created = regulation_load(data=ACME.encode(), name="acme.yaml")
    # then
    event = RegulationEvent.objects.get()
    assert event.kind == "version_loaded"
    assert (event.regulation_id, event.version_id, event.contract_id) == ("acme", version.pk, None)
    assert event.actor is None
    assert event.data == {"number": 1, "digest": version.digest, "source_name": "acme.yaml"}


def test_a_stored_version_cannot_be_changed() -> None:
    # given
    version, _created = regulation_load(data=ACME.encode(), name="acme.yaml")
    # when
    version.text = ACME_V2
    with pytest.raises(AppendOnlyError):
        version.save()
    # then
    version.refresh_from_db()
    assert version.text == ACME


def test_parsed_returns_the_domain_regulation_and_reuses_it_for_the_same_digest() -> None:
    # given
    version, _created = regulation_load(data=ACME.encode(), name="acme.yaml")
    # when
    first = version.parsed()
    second = RegulationVersion.objects.get(pk=version.pk).parsed()
    # then
    assert first.id == "acme"
    assert [t.id for t in first.tariffs] == ["basic", "premium"]
    assert second is first


def test_regulation_version_get_answers_none_for_what_was_never_loaded() -> None:
    # given
    regulation_load(data=ACME.encode(), name="acme.yaml")
    # when / then
    assert regulation_version_get("acme", number=2) is None
    assert regulation_version_get("nothing") is None
    assert regulation_get_latest("nothing") is None
