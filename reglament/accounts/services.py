"""Writes of the accounts app. Keyword-only, `<thing>_<verb>`, the only callers of save().

Each write records an AccountEvent in the same transaction.
"""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from reglament.accounts.errors import (
    OrganisationExistsError,
    OrganisationInvalidError,
    PersonExistsError,
    PersonInvalidError,
)
from reglament.accounts.models import AccountEvent, Membership, Organisation

Kind = Organisation.Kind
Role = Membership.Role

# Which roles a person may have in each kind of organisation: the vendor's own
# staff handle requests; customers and partners file them.
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    Kind.VENDOR: (Role.AGENT, Role.SERVICE_MANAGER, Role.ADMINISTRATOR),
    Kind.CUSTOMER: (Role.REQUESTER, Role.CUSTOMER_ADMIN),
    Kind.PARTNER: (Role.REQUESTER, Role.CUSTOMER_ADMIN),
}
LINES = (1, 2, 3)


@transaction.atomic
def organisation_create(
    *,
    name: str,
    kind: str,
    partner: Organisation | None = None,
    actor: User | None = None,
) -> Organisation:
    """Create an organisation; a customer may name the partner that files for it (R2.1)."""
    name = name.strip()
    if not name:
        raise OrganisationInvalidError(
            _("An organisation needs a name."), details={"field": "name"}
        )
    if kind not in Kind.values:
        raise OrganisationInvalidError(
            _("“%(kind)s” is not a kind of organisation.") % {"kind": kind},
            details={"field": "kind", "value": kind, "known": list(Kind.values)},
        )
    if partner is not None:
        if kind != Kind.CUSTOMER:
            raise OrganisationInvalidError(
                _("Only a customer can have a partner."),
                details={"field": "partner", "kind": kind},
            )
        if partner.kind != Kind.PARTNER:
            raise OrganisationInvalidError(
                _("%(name)s is not a partner.") % {"name": partner.name},
                details={"field": "partner", "value": partner.name, "kind": partner.kind},
            )
    if Organisation.objects.filter(name=name).exists():
        raise OrganisationExistsError(details={"field": "name", "value": name})
    organisation = Organisation(name=name, kind=kind, partner=partner)
    organisation.save()
    AccountEvent(
        kind=AccountEvent.Kind.ORGANISATION_CREATED,
        organisation=organisation,
        actor=actor,
        data={"name": name, "kind": kind, "partner": partner.name if partner else None},
    ).save()
    return organisation


@transaction.atomic
def person_create(
    *,
    username: str,
    password: str | None,
    organisation: Organisation,
    role: str,
    line: int | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "ru",
    actor: User | None = None,
) -> User:
    """Create a person who logs in as `username`, with their organisation and role.

    Agents work on a support line (1, 2 or 3); no other role has one. An
    administrator may use the admin site. `password=None` leaves the account
    without a usable password (it can be set later).
    """
    allowed = ROLES_BY_KIND[organisation.kind]
    if role not in Role.values:
        raise PersonInvalidError(
            _("“%(role)s” is not a role.") % {"role": role},
            details={"field": "role", "value": role, "known": list(Role.values)},
        )
    if role not in allowed:
        raise PersonInvalidError(
            _("The role “%(role)s” is not available in an organisation of kind “%(kind)s”.")
            % {"role": Role(role).label, "kind": organisation.get_kind_display()},
            details={"field": "role", "value": role, "known": list(allowed)},
        )
    if role == Role.AGENT and line not in LINES:
        raise PersonInvalidError(
            _("An agent works on support line 1, 2 or 3."),
            details={"field": "line", "value": line, "known": list(LINES)},
        )
    if role != Role.AGENT and line is not None:
        raise PersonInvalidError(
            _("Only agents have a support line."), details={"field": "line", "value": line}
        )
    if language not in dict(settings.LANGUAGES):
        raise PersonInvalidError(
            _("“%(language)s” is not a language Reglament speaks.") % {"language": language},
            details={
                "field": "language",
                "value": language,
                "known": list(dict(settings.LANGUAGES)),
            },
        )
    if User.objects.filter(username=username).exists():
        raise PersonExistsError(details={"field": "username", "value": username})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMINISTRATOR,
        is_superuser=role == Role.ADMINISTRATOR,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    Membership(user=user, organisation=organisation, role=role, line=line, language=language).save()
    AccountEvent(
        kind=AccountEvent.Kind.PERSON_CREATED,
        organisation=organisation,
        person=user,
        actor=actor,
        data={"username": username, "role": role, "line": line},
    ).save()
    return user
