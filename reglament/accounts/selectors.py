"""Read-only queries of the accounts app."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User

from reglament.accounts.models import Membership, Organisation, SignInFailure


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
    def role_label(self) -> str:
        """The role's name in the active language; empty without a membership."""
        return str(Membership.Role(self.role).label) if self.role else ""

    @property
    def language_label(self) -> str:
        return str(dict(settings.LANGUAGES).get(self.language, self.language))

    @property
    def customer(self) -> bool:
        return self.role in (Membership.Role.REQUESTER, Membership.Role.CUSTOMER_ADMIN)


STAFF_ROLES = (
    Membership.Role.AGENT,
    Membership.Role.SERVICE_MANAGER,
    Membership.Role.ADMINISTRATOR,
)


def person_profile(user: User) -> Profile:
    """The person's role, organisation, line and language (empty for a user without one).

    When the user was read with its membership (`select_related("membership__organisation")`)
    that one is used, as fresh as the user itself; otherwise it is asked for.
    """
    membership: Membership | None
    if user.pk is None:
        membership = None
    elif _membership_loaded(user):
        try:
            membership = user.membership
        except Membership.DoesNotExist:
            membership = None
    else:
        membership = (
            Membership.objects.select_related("organisation").filter(user_id=user.pk).first()
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


def _membership_loaded(user: User) -> bool:
    """Whether the user's membership, and its organisation if it has one, were read with it."""
    if not User.membership.is_cached(user):
        return False
    membership = getattr(user, "membership", None)
    return (
        membership is None
        or membership.organisation_id is None
        or Membership.organisation.is_cached(membership)
    )


def sign_in_key(login: str) -> str:
    """The key failed sign-ins are counted under: the login as typed, trimmed, lower case."""
    return login.strip().lower()[:254]


def sign_in_locked_until(*, login: str, ip: str | None, now: datetime) -> datetime | None:
    """When sign-in opens again for `login` or from `ip`; None when it is open now.

    Locked while REGLAMENT_SIGN_IN_FAILURE_LIMIT failures for the login, or
    from the address, lie within REGLAMENT_SIGN_IN_FAILURE_WINDOW: it opens
    when the oldest of the last `limit` failures leaves the window.
    """
    limit: int = settings.REGLAMENT_SIGN_IN_FAILURE_LIMIT
    window = settings.REGLAMENT_SIGN_IN_FAILURE_WINDOW
    recent = SignInFailure.objects.filter(failed_at__gt=now - window).order_by("-failed_at")
    candidates = [recent.filter(login=sign_in_key(login))]
    if ip:
        candidates.append(recent.filter(ip=ip))
    until: datetime | None = None
    for failures in candidates:
        times = list(failures.values_list("failed_at", flat=True)[:limit])
        if len(times) >= limit:
            opens = times[limit - 1] + window
            until = opens if until is None else max(until, opens)
    return until
