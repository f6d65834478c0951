import pytest
from django.db import IntegrityError, transaction

from reglament.accounts.errors import (
    OrganisationExistsError,
    OrganisationInvalidError,
    PersonExistsError,
    PersonInvalidError,
)
from reglament.accounts.models import AccountEvent, Membership, Organisation
from reglament.accounts.selectors import person_role
from reglament.accounts.services import organisation_create, person_create
from reglament.accounts.tests.factories import OrganisationFactory, VendorFactory

pytestmark = pytest.mark.django_db

Kind = Organisation.Kind
Role = Membership.Role


def test_a_partner_files_for_its_client_organisations() -> None:
    # given: R2.1 — a partner and two of its clients
    partner = organisation_create(name="Интегратор", kind=Kind.PARTNER)
    # when
    pharmacy = organisation_create(name="Аптека", kind=Kind.CUSTOMER, partner=partner)
    bakery = organisation_create(name="Пекарня", kind=Kind.CUSTOMER, partner=partner)
    # then
    assert list(partner.clients.order_by("name")) == [pharmacy, bakery]
    assert list(
        AccountEvent.objects.filter(kind="organisation_created")
        .order_by("id")
        .values_list("organisation__name", "data")
    ) == [
        ("Интегратор", {"name": "Интегратор", "kind": "partner", "partner": None}),
        ("Аптека", {"name": "Аптека", "kind": "customer", "partner": "Интегратор"}),
        ("Пекарня", {"name": "Пекарня", "kind": "customer", "partner": "Интегратор"}),
    ]


def test_only_a_partner_can_file_for_a_customer() -> None:
    # given
    not_a_partner = OrganisationFactory.create(name="Магазин")
    # when
    with pytest.raises(OrganisationInvalidError) as raised:
        organisation_create(name="Аптека", kind=Kind.CUSTOMER, partner=not_a_partner)
    # then
    assert raised.value.as_body() == {
        "code": "organisation_invalid",
        "message": "Магазин is not a partner.",
        "details": {"field": "partner", "value": "Магазин", "kind": "customer"},
    }


def test_only_a_customer_can_have_a_partner() -> None:
    # given
    partner = organisation_create(name="Интегратор", kind=Kind.PARTNER)
    # when / then
    with pytest.raises(OrganisationInvalidError) as raised:
        organisation_create(name="Другой интегратор", kind=Kind.PARTNER, partner=partner)
    assert raised.value.details == {"field": "partner", "kind": "partner"}


def test_the_database_refuses_a_partner_on_a_non_customer_too() -> None:
    # given: a row written past the service
    partner = organisation_create(name="Интегратор", kind=Kind.PARTNER)
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="Вендор", kind=Kind.VENDOR, partner=partner)


def test_organisation_names_are_unique() -> None:
    # given
    OrganisationFactory.create(name="Магазин")
    # when / then
    with pytest.raises(OrganisationExistsError):
        organisation_create(name=" Магазин ", kind=Kind.CUSTOMER)


def test_an_agent_works_on_a_support_line_and_logs_in_with_a_password() -> None:
    # given
    vendor = VendorFactory.create()
    # when
    agent = person_create(
        username="agent2", password="s3cret-pass", organisation=vendor, role=Role.AGENT, line=2
    )
    # then
    agent.refresh_from_db()
    assert (agent.membership.role, agent.membership.line) == ("agent", 2)
    assert agent.check_password("s3cret-pass")
    assert (agent.is_staff, agent.is_superuser) == (False, False)
    assert person_role(agent) == "agent"
    event = AccountEvent.objects.get(kind="person_created")
    assert (event.person, event.organisation) == (agent, vendor)
    assert event.data == {"username": "agent2", "role": "agent", "line": 2}


def test_an_administrator_may_use_the_admin_site() -> None:
    # when
    admin = person_create(
        username="admin", password=None, organisation=VendorFactory.create(), role="administrator"
    )
    # then
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert admin.has_usable_password() is False


@pytest.mark.parametrize(
    ("kind", "role", "line", "field"),
    [
        (Kind.VENDOR, Role.AGENT, None, "line"),
        (Kind.VENDOR, Role.AGENT, 4, "line"),
        (Kind.VENDOR, Role.SERVICE_MANAGER, 1, "line"),
        (Kind.VENDOR, Role.REQUESTER, None, "role"),
        (Kind.CUSTOMER, Role.AGENT, 1, "role"),
        (Kind.CUSTOMER, Role.ADMINISTRATOR, None, "role"),
        (Kind.PARTNER, Role.SERVICE_MANAGER, None, "role"),
        (Kind.CUSTOMER, "boss", None, "role"),
    ],
)
def test_a_role_must_fit_the_organisation_and_only_agents_have_a_line(
    kind: str, role: str, line: int | None, field: str
) -> None:
    # given
    organisation = OrganisationFactory.create(kind=kind)
    # when
    with pytest.raises(PersonInvalidError) as raised:
        person_create(
            username="someone", password="x", organisation=organisation, role=role, line=line
        )
    # then
    assert raised.value.details["field"] == field
    assert not Membership.objects.exists()


def test_requesters_and_customer_admins_belong_to_customers_and_partners() -> None:
    # given
    customer = OrganisationFactory.create(kind=Kind.CUSTOMER)
    partner = OrganisationFactory.create(kind=Kind.PARTNER)
    # when
    person_create(username="r", password="x", organisation=customer, role=Role.REQUESTER)
    person_create(username="a", password="x", organisation=partner, role=Role.CUSTOMER_ADMIN)
    # then
    assert sorted(Membership.objects.values_list("user__username", "role")) == [
        ("a", "customer_admin"),
        ("r", "requester"),
    ]


def test_logins_are_unique() -> None:
    # given
    customer = OrganisationFactory.create()
    person_create(username="anna", password="x", organisation=customer, role=Role.REQUESTER)
    # when / then
    with pytest.raises(PersonExistsError):
        person_create(username="anna", password="x", organisation=customer, role=Role.REQUESTER)
