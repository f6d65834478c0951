from datetime import date

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from reglament.accounts.tests.factories import (
    OrganisationFactory,
    PersonFactory,
    ServiceManagerFactory,
    VendorFactory,
)
from reglament.regulations.models import Contract, RegulationVersion
from reglament.regulations.services import contract_create
from reglament.regulations.tests.factories import acme_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    administrator = PersonFactory.create(
        username="root", role="administrator", organisation=VendorFactory.create()
    )
    client.force_login(administrator)
    return client


@pytest.fixture
def contract() -> Contract:
    return contract_create(
        organisation=OrganisationFactory.create(name="Магазин"),
        version=acme_load(),
        tariff="premium",
        valid_from=date(2025, 1, 1),
        attributes={"cash_registers": 60},
        service_manager=ServiceManagerFactory.create(),
    )


@pytest.mark.parametrize(
    "model",
    [
        "accounts.organisation",
        "accounts.membership",
        "accounts.accountevent",
        "auth.user",
        "regulations.regulation",
        "regulations.regulationversion",
        "regulations.tariff",
        "regulations.contract",
        "regulations.regulationevent",
    ],
)
def test_an_administrator_sees_every_list_in_the_admin(
    admin_client: Client, contract: Contract, model: str
) -> None:
    # given
    app_label, model_name = model.split(".")
    # when
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    # then
    assert response.status_code == 200


def test_a_version_page_shows_the_files_raw_text_and_cannot_be_saved(
    admin_client: Client, contract: Contract
) -> None:
    # given
    version = RegulationVersion.objects.get()
    url = reverse("admin:regulations_regulationversion_change", args=[version.pk])
    # when
    page = admin_client.get(url).content.decode()
    posted = admin_client.post(url, {"title_ru": "Другое"})
    # then
    assert "number_prefix: ACME" in page
    assert "Акме" in page
    assert posted.status_code == 403
    version.refresh_from_db()
    assert version.title_ru == "Акме"


def test_contracts_can_be_filtered_by_regulation_and_tariff(
    admin_client: Client, contract: Contract
) -> None:
    # when
    url = reverse("admin:regulations_contract_changelist")
    found = admin_client.get(url, {"tariff__version__regulation__id__exact": "acme"})
    none = admin_client.get(url, {"tariff__code": "basic"})
    # then
    assert "Магазин" in found.content.decode()
    assert found.context["cl"].result_count == 1
    assert none.context["cl"].result_count == 0


def test_a_requester_cannot_open_the_admin(client: Client) -> None:
    # given
    requester: User = PersonFactory.create()
    client.force_login(requester)
    # when
    response = client.get(reverse("admin:regulations_contract_changelist"))
    # then
    assert response.status_code == 302
