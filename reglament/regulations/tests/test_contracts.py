from datetime import date, datetime
from typing import Any

import pytest

from reglament.accounts.models import Organisation
from reglament.accounts.tests.factories import (
    OrganisationFactory,
    PersonFactory,
    ServiceManagerFactory,
    VendorFactory,
)
from reglament.regulations.errors import (
    ContractAmbiguousError,
    ContractInvalidError,
    ContractOverlapError,
    ServiceManagerNotIncludedError,
    UnknownTariffError,
)
from reglament.regulations.models import Contract, RegulationEvent
from reglament.regulations.selectors import contract_for_organisation
from reglament.regulations.services import contract_create, contract_move_to_version
from reglament.regulations.tests.factories import (
    ACME,
    ACME_RENAMED_BASIC,
    ACME_V2,
    ACME_WITHOUT_MANAGER,
    acme_load,
)

pytestmark = pytest.mark.django_db

JAN_1 = date(2025, 1, 1)


def test_a_contract_puts_an_organisation_on_a_tariff_of_a_version_and_records_an_event() -> None:
    # given
    version = acme_load()
    shop = OrganisationFactory.create(name="Магазин")
    # when
    contract = contract_create(
        organisation=shop,
        version=version,
        tariff="basic",
        valid_from=JAN_1,
        valid_to=date(2025, 12, 31),
        attributes={"cash_registers": 60, "region": "msk", "pilot": True, "share": 0.5},
    )
    # then
    contract.refresh_from_db()
    assert (contract.regulation_id, contract.version.number, contract.tariff.code) == (
        "acme",
        1,
        "basic",
    )
    assert contract.attributes == {
        "cash_registers": 60,
        "region": "msk",
        "pilot": True,
        "share": 0.5,
    }
    event = RegulationEvent.objects.get(kind="contract_created")
    assert (event.contract_id, event.version_id) == (contract.pk, version.pk)
    assert event.data == {
        "organisation": "Магазин",
        "tariff": "basic",
        "valid_from": "2025-01-01",
        "valid_to": "2025-12-31",
        "attributes": {"cash_registers": 60, "region": "msk", "pilot": True, "share": 0.5},
        "service_manager": None,
    }


def test_a_contract_ending_before_it_starts_is_refused() -> None:
    # given
    version = acme_load()
    # when
    with pytest.raises(ContractInvalidError) as raised:
        contract_create(
            organisation=OrganisationFactory.create(),
            version=version,
            tariff="basic",
            valid_from=date(2025, 3, 1),
            valid_to=date(2025, 2, 28),
        )
    # then
    assert raised.value.as_body() == {
        "code": "contract_invalid",
        "message": "The contract ends (2025-02-28) before it starts (2025-03-01).",
        "details": {"field": "valid_to", "valid_from": "2025-03-01", "valid_to": "2025-02-28"},
    }
    assert Contract.objects.count() == 0


def test_a_datetime_is_not_accepted_as_a_contract_date() -> None:
    # given
    version = acme_load()
    # when / then
    with pytest.raises(ContractInvalidError) as raised:
        contract_create(
            organisation=OrganisationFactory.create(),
            version=version,
            tariff="basic",
            valid_from=datetime(2025, 1, 1, 12, 0),  # noqa: DTZ001 - the point of the test
        )
    assert raised.value.details["field"] == "valid_from"


def test_overlapping_contracts_of_one_organisation_under_one_regulation_are_refused() -> None:
    # given: January to June on version 1
    shop = OrganisationFactory.create(name="Магазин")
    v1 = acme_load()
    first = contract_create(
        organisation=shop,
        version=v1,
        tariff="basic",
        valid_from=JAN_1,
        valid_to=date(2025, 6, 30),
    )
    # when: another contract from 30 June, even on another version and tariff
    v2 = acme_load(ACME_V2)
    with pytest.raises(ContractOverlapError) as raised:
        contract_create(
            organisation=shop, version=v2, tariff="premium", valid_from=date(2025, 6, 30)
        )
    # then
    assert raised.value.status == 409
    assert raised.value.as_body() == {
        "code": "contract_overlap",
        "message": "Магазин already has a contract under acme from 2025-01-01 to 2025-06-30.",
        "details": {
            "contract": first.pk,
            "regulation": "acme",
            "valid_from": "2025-01-01",
            "valid_to": "2025-06-30",
        },
    }
    assert Contract.objects.count() == 1


def test_a_contract_may_start_the_day_after_the_previous_one_ends() -> None:
    # given: valid_to is inclusive
    shop = OrganisationFactory.create()
    version = acme_load()
    contract_create(
        organisation=shop,
        version=version,
        tariff="basic",
        valid_from=JAN_1,
        valid_to=date(2025, 6, 30),
    )
    # when
    second = contract_create(
        organisation=shop, version=version, tariff="premium", valid_from=date(2025, 7, 1)
    )
    # then
    assert contract_for_organisation(shop, at=date(2025, 6, 30)).tariff.code == "basic"  # type: ignore[union-attr]
    assert contract_for_organisation(shop, at=date(2025, 7, 1)) == second
    assert contract_for_organisation(shop, at=date(2030, 1, 1)) == second
    assert contract_for_organisation(shop, at=date(2024, 12, 31)) is None


def test_an_open_ended_contract_overlaps_every_later_one() -> None:
    # given
    shop = OrganisationFactory.create()
    version = acme_load()
    contract_create(organisation=shop, version=version, tariff="basic", valid_from=JAN_1)
    # when / then
    with pytest.raises(ContractOverlapError):
        contract_create(
            organisation=shop,
            version=version,
            tariff="basic",
            valid_from=date(2031, 1, 1),
            valid_to=date(2031, 12, 31),
        )


def test_contracts_under_different_regulations_may_overlap_and_then_need_a_regulation_to_find() -> (
    None
):
    # given
    shop = OrganisationFactory.create(name="Магазин")
    acme = acme_load()
    other = acme_load(ACME.replace("id: acme", "id: other"), name="other.yaml")
    # when
    on_acme = contract_create(organisation=shop, version=acme, tariff="basic", valid_from=JAN_1)
    on_other = contract_create(organisation=shop, version=other, tariff="basic", valid_from=JAN_1)
    # then
    assert contract_for_organisation(shop, at=JAN_1, regulation_id="acme") == on_acme
    assert contract_for_organisation(shop, at=JAN_1, regulation_id="other") == on_other
    with pytest.raises(ContractAmbiguousError) as raised:
        contract_for_organisation(shop, at=JAN_1)
    assert raised.value.details == {"organisation": "Магазин", "regulations": ["acme", "other"]}


def test_a_service_manager_on_a_tariff_without_the_personal_manager_service_is_refused() -> None:
    # given: `basic` has personal-manager: false
    version = acme_load()
    manager = ServiceManagerFactory.create(username="manager")
    # when
    with pytest.raises(ServiceManagerNotIncludedError) as raised:
        contract_create(
            organisation=OrganisationFactory.create(),
            version=version,
            tariff="basic",
            valid_from=JAN_1,
            service_manager=manager,
        )
    # then
    assert raised.value.as_body() == {
        "code": "service_manager_not_included",
        "message": (
            "The tariff basic of acme version 1 does not include the personal-manager service, "
            "so the contract cannot name a service manager."
        ),
        "details": {
            "field": "service_manager",
            "tariff": "basic",
            "regulation": "acme",
            "version": 1,
            "service": "personal-manager",
        },
    }
    assert Contract.objects.count() == 0


def test_a_service_manager_on_a_tariff_with_the_personal_manager_service_is_kept() -> None:
    # given: `premium` has personal-manager: true
    version = acme_load()
    manager = ServiceManagerFactory.create(username="manager")
    # when
    contract = contract_create(
        organisation=OrganisationFactory.create(),
        version=version,
        tariff="premium",
        valid_from=JAN_1,
        service_manager=manager,
    )
    # then
    contract.refresh_from_db()
    assert contract.service_manager == manager


def test_only_a_person_with_the_service_manager_role_can_be_a_contracts_service_manager() -> None:
    # given
    version = acme_load()
    requester = PersonFactory.create(username="someone")
    # when
    with pytest.raises(ContractInvalidError) as raised:
        contract_create(
            organisation=OrganisationFactory.create(),
            version=version,
            tariff="premium",
            valid_from=JAN_1,
            service_manager=requester,
        )
    # then
    assert raised.value.as_body() == {
        "code": "contract_invalid",
        "message": "someone is not a service manager.",
        "details": {"field": "service_manager", "value": "someone"},
    }


def test_an_unknown_tariff_is_refused_naming_the_known_ones() -> None:
    # given
    version = acme_load()
    # when
    with pytest.raises(UnknownTariffError) as raised:
        contract_create(
            organisation=OrganisationFactory.create(),
            version=version,
            tariff="gold",
            valid_from=JAN_1,
        )
    # then
    assert raised.value.as_body() == {
        "code": "unknown_tariff",
        "message": "The regulation acme version 1 has no tariff gold.",
        "details": {
            "field": "tariff",
            "value": "gold",
            "known": ["basic", "premium"],
            "regulation": "acme",
            "version": 1,
        },
    }


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"Cash Registers": 60}, "attributes.Cash Registers"),
        ({"cash_registers": [60]}, "attributes.cash_registers"),
        ({"cash_registers": {"min": 50}}, "attributes.cash_registers"),
        ({"cash_registers": None}, "attributes.cash_registers"),
        ({"cash_registers": float("nan")}, "attributes.cash_registers"),
        ({"region": "x" * 201}, "attributes.region"),
    ],
)
def test_contract_attributes_are_ids_with_numbers_texts_or_yes_no(
    attributes: dict[str, Any], field: str
) -> None:
    # given
    version = acme_load()
    # when
    with pytest.raises(ContractInvalidError) as raised:
        contract_create(
            organisation=OrganisationFactory.create(),
            version=version,
            tariff="basic",
            valid_from=JAN_1,
            attributes=attributes,
        )
    # then
    assert [error["field"] for error in raised.value.details["errors"]] == [field]


def test_the_vendor_itself_cannot_have_a_contract() -> None:
    # given
    version = acme_load()
    # when / then
    with pytest.raises(ContractInvalidError) as raised:
        contract_create(
            organisation=VendorFactory.create(), version=version, tariff="basic", valid_from=JAN_1
        )
    assert raised.value.details["field"] == "organisation"


def test_a_partner_can_have_a_contract() -> None:
    # given: R2 — partners buy their own tariff
    version = acme_load()
    partner = OrganisationFactory.create(kind=Organisation.Kind.PARTNER)
    # when
    contract = contract_create(
        organisation=partner, version=version, tariff="premium", valid_from=JAN_1
    )
    # then
    assert contract_for_organisation(partner, at=JAN_1) == contract


def test_moving_a_contract_to_a_new_version_keeps_its_tariff_and_records_an_event() -> None:
    # given
    v1 = acme_load()
    contract = contract_create(
        organisation=OrganisationFactory.create(), version=v1, tariff="premium", valid_from=JAN_1
    )
    v2 = acme_load(ACME_V2)
    # when
    moved = contract_move_to_version(contract=contract, version=v2)
    # then
    moved.refresh_from_db()
    assert (moved.version.number, moved.tariff.code) == (2, "premium")
    event = RegulationEvent.objects.get(kind="contract_moved")
    assert (event.contract_id, event.version_id) == (contract.pk, v2.pk)
    assert event.data == {"from": 1, "to": 2, "tariff": "premium"}


def test_moving_to_a_version_without_the_contracts_tariff_is_refused() -> None:
    # given: version 2 renamed `basic` to `start`
    v1 = acme_load()
    contract = contract_create(
        organisation=OrganisationFactory.create(), version=v1, tariff="basic", valid_from=JAN_1
    )
    v2 = acme_load(ACME_RENAMED_BASIC)
    # when
    with pytest.raises(UnknownTariffError) as raised:
        contract_move_to_version(contract=contract, version=v2)
    # then
    assert raised.value.details["known"] == ["start", "premium"]
    contract.refresh_from_db()
    assert contract.version.number == 1
    assert not RegulationEvent.objects.filter(kind="contract_moved").exists()


def test_moving_a_managed_contract_to_a_version_without_the_personal_manager_is_refused() -> None:
    # given
    v1 = acme_load()
    contract = contract_create(
        organisation=OrganisationFactory.create(),
        version=v1,
        tariff="premium",
        valid_from=JAN_1,
        service_manager=ServiceManagerFactory.create(),
    )
    v2 = acme_load(ACME_WITHOUT_MANAGER)
    # when / then
    with pytest.raises(ServiceManagerNotIncludedError):
        contract_move_to_version(contract=contract, version=v2)
    contract.refresh_from_db()
    assert contract.version.number == 1


def test_a_contract_cannot_move_to_another_regulation() -> None:
    # given
    contract = contract_create(
        organisation=OrganisationFactory.create(),
        version=acme_load(),
        tariff="basic",
        valid_from=JAN_1,
    )
    other = acme_load(ACME.replace("id: acme", "id: other"), name="other.yaml")
    # when / then
    with pytest.raises(ContractInvalidError) as raised:
        contract_move_to_version(contract=contract, version=other)
    assert raised.value.details == {"field": "version", "regulation": "acme", "value": "other"}


def test_moving_a_contract_to_its_own_version_changes_nothing() -> None:
    # given
    version = acme_load()
    contract = contract_create(
        organisation=OrganisationFactory.create(), version=version, tariff="basic", valid_from=JAN_1
    )
    # when
    contract_move_to_version(contract=contract, version=version)
    # then
    assert not RegulationEvent.objects.filter(kind="contract_moved").exists()
