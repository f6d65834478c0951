"""The admin site: in Russian by default, organisations and people added through the services."""

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from reglament.accounts.models import AccountEvent, Membership, Organisation
from reglament.accounts.tests.factories import OrganisationFactory, PersonFactory, VendorFactory
from reglament.regulations.models import Contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator() -> User:
    return PersonFactory.create(
        username="root", role="administrator", organisation=VendorFactory.create(name="Вендор")
    )


def _client(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _error(page: str, field: str) -> str:
    start = page.index(f'id="id_{field}_error"')
    return page[start : page.index("</ul>", start)]


def test_the_admin_index_speaks_russian_by_default(administrator: User) -> None:
    # when: a browser that asks for no particular language
    page = _client(administrator, language="").get(reverse("admin:index")).content.decode()
    # then: the apps' and models' names in Russian
    assert '<html lang="ru"' in page
    with translation.override("ru"):
        names = [
            str(apps.get_app_config(label).verbose_name) for label in ("accounts", "regulations")
        ] + [str(Contract._meta.verbose_name_plural).capitalize()]
    assert all(name in page for name in names)
    assert "Regulations" not in page
    assert "Contracts" not in page


def test_the_admin_index_names_every_app_in_english_when_asked(administrator: User) -> None:
    # when
    page = _client(administrator).get(reverse("admin:index")).content.decode()
    # then
    for name in ("Reglament administration", "Accounts", "Regulations", "Requests", "Contracts"):
        assert name in page


def test_an_administrator_adds_an_organisation_through_the_service(administrator: User) -> None:
    # given
    partner = OrganisationFactory.create(name="Партнёр", kind=Organisation.Kind.PARTNER)
    # when
    response = _client(administrator).post(
        reverse("admin:accounts_organisation_add"),
        {
            "name": "  Аптека «Здоровье»  ",
            "kind": "customer",
            "partner": str(partner.pk),
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "clients-TOTAL_FORMS": "0",
            "clients-INITIAL_FORMS": "0",
        },
    )
    # then: stored trimmed, with the event naming who did it (R2.1: a partner's client)
    assert response.status_code == 302
    pharmacy = Organisation.objects.get(name="Аптека «Здоровье»")
    assert pharmacy.partner == partner
    event = AccountEvent.objects.get(organisation=pharmacy)
    assert event.actor == administrator


def test_a_partner_for_a_non_customer_is_refused_next_to_the_partner(administrator: User) -> None:
    # given
    partner = OrganisationFactory.create(name="Партнёр", kind=Organisation.Kind.PARTNER)
    # when
    response = _client(administrator).post(
        reverse("admin:accounts_organisation_add"),
        {"name": "Другой партнёр", "kind": "partner", "partner": str(partner.pk)},
    )
    # then
    page = response.content.decode()
    assert "Only a customer can have a partner." in _error(page, "partner")
    assert 'value="Другой партнёр"' in page
    assert not Organisation.objects.filter(name="Другой партнёр").exists()


def test_an_administrator_adds_an_agent_of_line_2(administrator: User) -> None:
    # given
    vendor = Organisation.objects.get(name="Вендор")
    # when
    response = _client(administrator).post(
        reverse("admin:accounts_membership_add"),
        {
            "username": "agent2",
            "first_name": "Пётр",
            "last_name": "Второй",
            "email": "agent2@vendor.test",
            "password": "a-long-enough-password-42",
            "organisation": str(vendor.pk),
            "role": "agent",
            "line": "2",
            "language": "ru",
        },
    )
    # then
    assert response.status_code == 302
    person = User.objects.get(username="agent2")
    assert (person.membership.role, person.membership.line) == ("agent", 2)
    assert person.check_password("a-long-enough-password-42")
    assert AccountEvent.objects.get(person=person).actor == administrator


def test_an_agent_without_a_line_is_refused_next_to_the_line(administrator: User) -> None:
    # given
    vendor = Organisation.objects.get(name="Вендор")
    # when
    response = _client(administrator).post(
        reverse("admin:accounts_membership_add"),
        {
            "username": "agent9",
            "organisation": str(vendor.pk),
            "role": "agent",
            "line": "",
            "language": "ru",
        },
    )
    # then
    page = response.content.decode()
    assert "An agent works on support line 1, 2 or 3." in _error(page, "line")
    assert 'value="agent9"' in page
    assert not User.objects.filter(username="agent9").exists()


def test_a_requester_of_the_vendor_is_refused_next_to_the_role(administrator: User) -> None:
    # given
    vendor = Organisation.objects.get(name="Вендор")
    # when
    response = _client(administrator).post(
        reverse("admin:accounts_membership_add"),
        {"username": "x", "organisation": str(vendor.pk), "role": "requester", "language": "ru"},
    )
    # then
    assert "is not available in an organisation" in _error(response.content.decode(), "role")
    assert not Membership.objects.filter(user__username="x").exists()


def test_a_person_and_an_organisation_are_shown_not_changed(administrator: User) -> None:
    # given
    shop = OrganisationFactory.create(name="Магазин")
    url = reverse("admin:accounts_organisation_change", args=[shop.pk])
    client = _client(administrator)
    # when
    shown = client.get(url)
    posted = client.post(url, {"name": "Другое", "kind": "customer"})
    # then
    assert shown.status_code == 200
    assert "Магазин" in shown.content.decode()
    assert posted.status_code == 403
    shop.refresh_from_db()
    assert shop.name == "Магазин"
