"""The admin's own pages for regulations: upload a file, see who uses a version, preview calendars,
create and change contracts through the services (refusals next to the field, nothing stored).
"""

from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from reglament.accounts.models import Organisation
from reglament.accounts.tests.factories import (
    OrganisationFactory,
    PersonFactory,
    ServiceManagerFactory,
    VendorFactory,
)
from reglament.regulations.models import Contract, RegulationEvent, RegulationVersion
from reglament.regulations.services import contract_create
from reglament.regulations.tests.factories import ACME, ACME_V2, acme_load
from reglament.tickets.tests.factories import shipped_version

pytestmark = pytest.mark.django_db

UPLOAD = reverse("admin:regulations_regulationversion_upload")
CONTRACT_ADD = reverse("admin:regulations_contract_add")


@pytest.fixture
def administrator() -> User:
    return PersonFactory.create(
        username="root", role="administrator", organisation=VendorFactory.create()
    )


@pytest.fixture
def admin_client(administrator: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(administrator)
    return client


def _file(text: str, name: str = "acme.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/yaml")


# ------------------------------------------------------------------- upload
def test_the_version_list_offers_the_upload_button(admin_client: Client) -> None:
    # when
    page = admin_client.get(reverse("admin:regulations_regulationversion_changelist"))
    # then
    assert f'href="{UPLOAD}"' in page.content.decode()
    assert "Upload a regulation file" in page.content.decode()


def test_uploading_a_good_file_stores_a_version_and_opens_it(
    admin_client: Client, administrator: User
) -> None:
    # when
    response = admin_client.post(UPLOAD, {"file": _file(ACME)})
    # then
    version = RegulationVersion.objects.get()
    assert (version.regulation_id, version.number, version.loaded_by) == ("acme", 1, administrator)
    assert version.source_name == "acme.yaml"
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:regulations_regulationversion_change", args=[version.pk]
    )
    shown = admin_client.get(response["Location"]).content.decode()
    assert "Loaded acme version 1." in shown


def test_uploading_a_changed_file_adds_the_next_version_and_the_same_file_changes_nothing(
    admin_client: Client,
) -> None:
    # given
    acme_load()
    # when
    admin_client.post(UPLOAD, {"file": _file(ACME_V2)})
    again = admin_client.post(UPLOAD, {"file": _file(ACME_V2)}, follow=True)
    # then
    assert list(RegulationVersion.objects.values_list("number", flat=True)) == [1, 2]
    assert "already stored as acme version 2" in again.content.decode()


def test_a_file_with_problems_lists_each_with_its_line_and_stores_nothing(
    admin_client: Client,
) -> None:
    # given: a tariff the metric names does not exist (line of `tariff: gold`)
    broken = ACME.replace("number_prefix: ACME", "number_prefix: 12 ACME")
    line = broken.splitlines().index("number_prefix: 12 ACME") + 1
    # when
    response = admin_client.post(UPLOAD, {"file": _file(broken, "broken.yaml")})
    # then
    page = response.content.decode()
    assert response.status_code == 422
    assert f"broken.yaml:{line}: number_prefix" in page
    assert 'id="upload-problems"' in page
    assert "nothing was stored" in page
    assert not RegulationVersion.objects.exists()


def test_a_file_that_is_not_yaml_is_refused_with_its_problem(admin_client: Client) -> None:
    # when
    response = admin_client.post(UPLOAD, {"file": _file("format: 1\n  id: [", "bad.yaml")})
    # then
    assert response.status_code == 422
    assert "bad.yaml:" in response.content.decode()
    assert not RegulationVersion.objects.exists()


def test_a_person_without_the_right_cannot_upload() -> None:
    # given: a service manager is staff but not an administrator
    manager = ServiceManagerFactory.create()
    client = Client()
    client.force_login(manager)
    # when
    response = client.post(UPLOAD, {"file": _file(ACME)})
    # then: the admin refuses (sign-in page for non-admin-staff)
    assert response.status_code == 302
    assert not RegulationVersion.objects.exists()


# --------------------------------------------------- who uses a version
def test_a_versions_page_lists_the_contracts_on_it(admin_client: Client) -> None:
    # given
    version = acme_load()
    contract_create(
        organisation=OrganisationFactory.create(name="Магазин «Угол»"),
        version=version,
        tariff="premium",
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
    )
    # when
    page = admin_client.get(
        reverse("admin:regulations_regulationversion_change", args=[version.pk])
    ).content.decode()
    # then
    table = page[page.index('id="contracts-on-version"') :]
    assert "Магазин «Угол»" in table
    assert "premium" in table
    assert "01/01/2025" in table or "2025-01-01" in table or "01.01.2025" in table
    assert '<pre class="regulation-text">' in page  # no inline style: the CSP forbids it


# ------------------------------------------------------- calendar preview
def test_the_calendar_preview_shows_a_working_saturday_and_the_november_holidays(
    admin_client: Client,
) -> None:
    # given: SET Retail's `working` calendar, Mon–Fri 10:00–19:00 on the Russian
    # production calendar (R1.6); in 2025 Saturday 1 November works, 3–4 November do not
    version = shipped_version("set-retail")
    url = reverse("admin:regulations_regulationversion_calendars", args=[version.pk])
    # when
    page = admin_client.get(url, {"start": "2025-10-30"}).content.decode()
    # then
    working = page[page.index('id="calendar-working"') :]

    def row(day: str) -> str:
        start = working.index(f'id="calendar-working-{day}"')
        return working[start : working.index("</tr>", start)]

    assert "Working Saturday" in row("2025-11-01")
    assert "10:00-19:00" in row("2025-11-01")
    assert "Saturday" in row("2025-11-01")
    assert "Closed" in row("2025-11-03")
    assert "substituted" in row("2025-11-03")
    assert "Closed" in row("2025-11-04")
    assert "Unity Day" in row("2025-11-04")
    assert "Closed" in row("2025-11-02")
    assert "Weekend" in row("2025-11-02")
    assert "10:00-19:00" in row("2025-11-05")
    assert 'id="calendar-working-2025-11-12"' in working  # 14 days: 30 Oct … 12 Nov
    assert 'id="calendar-working-2025-11-13"' not in working
    around = page[
        page.index('id="calendar-around-the-clock"') : page.index('id="calendar-working"')
    ]
    assert "00:00-24:00" in around
    assert "Closed" not in around


# --------------------------------------------------------------- contracts
def _error(page: str, field: str) -> str:
    """The error list Django's admin shows next to `field`."""
    start = page.index(f'id="id_{field}_error"')
    return page[start : page.index("</ul>", start)]


def _contract_form(version: RegulationVersion, organisation: Organisation, **kw: str) -> dict:
    return {
        "organisation": str(organisation.pk),
        "version": str(version.pk),
        "tariff": "premium",
        "valid_from": "2025-01-01",
        "valid_to": "",
        "attributes": '{"cash_registers": 60}',
        "service_manager": "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        **kw,
    }


def test_an_administrator_creates_a_contract_through_the_service(
    admin_client: Client, administrator: User
) -> None:
    # given
    version = acme_load()
    shop = OrganisationFactory.create(name="Магазин")
    manager = ServiceManagerFactory.create(username="manager")
    # when
    response = admin_client.post(
        CONTRACT_ADD, _contract_form(version, shop, service_manager=str(manager.pk))
    )
    # then
    assert response.status_code == 302
    contract = Contract.objects.get()
    assert (contract.organisation, contract.tariff.code, contract.attributes) == (
        shop,
        "premium",
        {"cash_registers": 60},
    )
    assert contract.service_manager == manager
    event = RegulationEvent.objects.get(kind=RegulationEvent.Kind.CONTRACT_CREATED)
    assert event.actor == administrator


def test_an_unknown_tariff_is_shown_next_to_the_field_and_nothing_is_stored(
    admin_client: Client,
) -> None:
    # given
    version = acme_load()
    shop = OrganisationFactory.create(name="Магазин")
    # when
    response = admin_client.post(CONTRACT_ADD, _contract_form(version, shop, tariff="gold"))
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "The regulation acme version 1 has no tariff gold." in _error(page, "tariff")
    assert 'value="gold"' in page  # what was typed stays
    assert 'value="2025-01-01"' in page
    assert not Contract.objects.exists()


def test_an_overlapping_contract_is_refused_on_its_start_date(admin_client: Client) -> None:
    # given
    version = acme_load()
    shop = OrganisationFactory.create(name="Магазин")
    contract_create(organisation=shop, version=version, tariff="basic", valid_from=date(2024, 1, 1))
    # when
    response = admin_client.post(CONTRACT_ADD, _contract_form(version, shop))
    # then
    page = response.content.decode()
    assert "already has a contract under acme" in _error(page, "valid_from")
    assert Contract.objects.count() == 1


def test_bad_attributes_are_shown_next_to_the_attributes(admin_client: Client) -> None:
    # given
    version = acme_load()
    shop = OrganisationFactory.create(name="Магазин")
    # when
    response = admin_client.post(
        CONTRACT_ADD, _contract_form(version, shop, attributes='{"Cash Registers": 60}')
    )
    # then
    page = response.content.decode()
    assert "An attribute name is lower-case words" in _error(page, "attributes")
    assert not Contract.objects.exists()


def test_an_administrator_changes_a_contracts_terms_through_the_service(
    admin_client: Client, administrator: User
) -> None:
    # given
    version = acme_load()
    shop = OrganisationFactory.create(name="Магазин")
    contract = contract_create(
        organisation=shop, version=version, tariff="basic", valid_from=date(2025, 1, 1)
    )
    url = reverse("admin:regulations_contract_change", args=[contract.pk])
    form = admin_client.get(url).content.decode()
    assert 'value="basic"' in form
    # when
    response = admin_client.post(
        url,
        {
            "tariff": "premium",
            "valid_from": "2025-01-01",
            "valid_to": "2025-12-31",
            "attributes": "{}",
            "service_manager": "",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    # then
    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.tariff.code, contract.valid_to) == ("premium", date(2025, 12, 31))
    assert (
        RegulationEvent.objects.get(kind=RegulationEvent.Kind.CONTRACT_UPDATED).actor
        == administrator
    )


def test_a_service_manager_the_tariff_does_not_include_is_refused_on_change(
    admin_client: Client,
) -> None:
    # given: basic does not include the personal manager
    version = acme_load()
    contract = contract_create(
        organisation=OrganisationFactory.create(),
        version=version,
        tariff="basic",
        valid_from=date(2025, 1, 1),
    )
    manager = ServiceManagerFactory.create()
    url = reverse("admin:regulations_contract_change", args=[contract.pk])
    # when
    response = admin_client.post(
        url,
        {
            "tariff": "basic",
            "valid_from": "2025-01-01",
            "valid_to": "",
            "attributes": "{}",
            "service_manager": str(manager.pk),
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    # then
    page = response.content.decode()
    assert "does not include the personal-manager service" in _error(page, "service_manager")
    contract.refresh_from_db()
    assert contract.service_manager is None
    assert not RegulationEvent.objects.filter(kind=RegulationEvent.Kind.CONTRACT_UPDATED).exists()
    assert Organisation.objects.filter(kind=Organisation.Kind.VENDOR).exists()
