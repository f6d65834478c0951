"""Read-only queries of the accounts app."""

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Profile:
    """What decides what a person may see and do: their role, organisation and line."""

    user: User
    role: str | None
    organisation: Organisation | None
    line: int | None
    language: str

    @property
    def staff(self) -> bool:
        """The vendor's people (agents, service managers, administrators) and superusers."""
        return self.user.is_superuser or self.role in STAFF_ROLES

    @property
    def customer(self) -> bool:
        return self.role in (Membership.Role.REQUESTER, Membership.Role.CUSTOMER_ADMIN)


STAFF_ROLES = (
    Membership.Role.AGENT,
    Membership.Role.SERVICE_MANAGER,
    Membership.Role.ADMINISTRATOR,
)


def person_profile(user: User) -> Profile:
    """The person's role, organisation, line and language (empty for a user without one)."""
    membership = (
        Membership.objects.select_related("organisation").filter(user_id=user.pk).first()
        if user.pk is not None
        else None
    )
    if membership is None:
        return Profile(user=user, role=None, organisation=None, line=None, language="ru")
    return Profile(
        user=user,
        role=membership.role,
        organisation=membership.organisation,
        line=membership.line,
        language=membership.language,
    )
