"""Read-only queries of the accounts app."""

from django.contrib.auth.models import User

from reglament.accounts.models import Membership, Organisation


def organisation_find(*, name: str) -> Organisation | None:
    """The organisation called `name`, if there is one."""
    return Organisation.objects.filter(name=name).first()


def person_find(*, username: str) -> User | None:
    """The person who logs in as `username`, with their membership, if there is one."""
    return User.objects.select_related("membership__organisation").filter(username=username).first()


def person_role(user: User) -> str | None:
    """The person's role (a Membership.Role value); None for a user without a membership."""
    membership = Membership.objects.filter(user=user).only("role").first()
    return membership.role if membership is not None else None
