"""contract_update: a contract's terms change through the same checks as contract_create."""

from datetime import date

import pytest

from reglament.accounts.tests.factories import (
    OrganisationFactory,
    PersonFactory,
    ServiceManagerFactory,
)
from reglament.regulations.errors import (
    ContractInvalidError,
    ContractOverlapError,
    ServiceManagerNotIncludedError,
    UnknownTariffError,
)
from reglament.regulations.models import Contract, RegulationEvent
from reglament.regulations.services import contract_create, contract_update
from reglament.regulations.tests.factories import acme_load

pytestmark = pytest.mark.django_db

JAN_1 = date(2025, 1, 1)


def _contract(**kw: object) -> Contract:
    return contract_create(
        organisation=kw.pop("organisation", None) or OrganisationFactory.create(name="Магазин"),  # type: ignore[arg-type]
        version=acme_load(),
        tariff="basic",
        valid_from=JAN_1,
        attributes={"cash_registers": 2},
        **kw,  # type: ignore[arg-type]
    )


def test_changing_the_tariff_dates_attributes_and_manager_records_what_changed() -> None:
    # given: a contract on basic, and a service manager (premium includes one)
    contract = _contract()
    manager = ServiceManagerFactory.create(username="manager")
    admin = PersonFactory.create(
        username="root", role="administrator", organisation=manager.membership.organisation
    )
    # when
    contract_update(
        contract=contract,
        tariff="premium",
        valid_from=JAN_1,
        valid_to=date(2025, 12, 31),
        attributes={"cash_registers": 60},
        service_manager=manager,
        actor=admin,
    )
    # then
    contract.refresh_from_db()
    assert (contract.tariff.code, contract.valid_to, contract.attributes) == (
        "premium",
        date(2025, 12, 31),
        {"cash_registers": 60},
    )
    assert contract.service_manager == manager
    event = RegulationEvent.objects.get(
        contract=contract, kind=RegulationEvent.Kind.CONTRACT_UPDATED
    )
    assert event.actor == admin
    assert event.data == {
        "organisation": "Магазин",
        "changed": {
            "tariff": {"old": "basic", "new": "premium"},
            "valid_to": {"old": None, "new": "2025-12-31"},
            "attributes": {"old": {"cash_registers": 2}, "new": {"cash_registers": 60}},
            "service_manager": {"old": None, "new": "manager"},
        },
    }


def test_saving_the_same_terms_records_nothing() -> None:
    # given
    contract = _contract()
    # when
    contract_update(
        contract=contract, tariff="basic", valid_from=JAN_1, attributes={"cash_registers": 2}
    )
    # then
    assert not RegulationEvent.objects.filter(kind=RegulationEvent.Kind.CONTRACT_UPDATED).exists()


def test_an_unknown_tariff_is_refused_and_nothing_changes() -> None:
    # given
    contract = _contract()
    # when
    with pytest.raises(UnknownTariffError) as raised:
        contract_update(contract=contract, tariff="gold", valid_from=JAN_1)
    # then
    assert raised.value.details["field"] == "tariff"
    assert raised.value.details["known"] == ["basic", "premium"]
    contract.refresh_from_db()
    assert contract.tariff.code == "basic"


def test_a_contract_may_not_be_stretched_over_the_organisations_next_contract() -> None:
    # given: 2025 and, from 2026, another contract of the same organisation
    first = _contract(valid_to=date(2025, 12, 31))
    contract_create(
        organisation=first.organisation,
        version=first.version,
        tariff="premium",
        valid_from=date(2026, 1, 1),
    )
    # when: the first is made open-ended
    with pytest.raises(ContractOverlapError):
        contract_update(contract=first, tariff="basic", valid_from=JAN_1, valid_to=None)
    # then: it does not clash with itself when its own dates stay
    contract_update(contract=first, tariff="basic", valid_from=JAN_1, valid_to=date(2025, 6, 30))
    first.refresh_from_db()
    assert first.valid_to == date(2025, 6, 30)


def test_dates_out_of_order_are_refused_on_valid_to() -> None:
    # given
    contract = _contract()
    # when
    with pytest.raises(ContractInvalidError) as raised:
        contract_update(
            contract=contract, tariff="basic", valid_from=JAN_1, valid_to=date(2024, 12, 31)
        )
    # then
    assert raised.value.details["field"] == "valid_to"


def test_a_service_manager_needs_the_role_and_a_tariff_that_includes_one() -> None:
    # given: basic has no personal manager
    contract = _contract()
    manager = ServiceManagerFactory.create()
    requester = PersonFactory.create()
    # when / then
    with pytest.raises(ServiceManagerNotIncludedError):
        contract_update(
            contract=contract, tariff="basic", valid_from=JAN_1, service_manager=manager
        )
    with pytest.raises(ContractInvalidError) as raised:
        contract_update(
            contract=contract, tariff="premium", valid_from=JAN_1, service_manager=requester
        )
    assert raised.value.details["field"] == "service_manager"
    contract.refresh_from_db()
    assert contract.service_manager is None
