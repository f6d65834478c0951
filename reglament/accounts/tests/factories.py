"""Factories that build through the services, so test data obeys the same rules."""

from typing import Any

import factory
from django.contrib.auth.models import User

from reglament.accounts.models import Membership, Organisation
from reglament.accounts.services import organisation_create, person_create


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Организация {n}")
    kind = Organisation.Kind.CUSTOMER
    partner = None

    @classmethod
    def _create(cls, model_class: type[Organisation], *args: Any, **kwargs: Any) -> Organisation:
        return organisation_create(**kwargs)


class PersonFactory(factory.django.DjangoModelFactory[User]):
    """A person with a membership; `role` and `organisation` say where."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"person{n}")
    password = "test-password"
    role = Membership.Role.REQUESTER
    line = None
    organisation = factory.SubFactory(OrganisationFactory)

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return person_create(**kwargs)


class VendorFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"Вендор {n}")
    kind = Organisation.Kind.VENDOR


class ServiceManagerFactory(PersonFactory):
    role = Membership.Role.SERVICE_MANAGER
    organisation = factory.SubFactory(VendorFactory)
