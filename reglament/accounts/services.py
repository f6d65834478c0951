"""Writes of the accounts app. Keyword-only, `<thing>_<verb>`, the only callers of save().

Each write records an AccountEvent in the same transaction.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reglament.accounts.errors import (
    OrganisationExistsError,
    OrganisationInvalidError,
    PersonExistsError,
    PersonInvalidError,
    SignInInvalidError,
    SignInLockedError,
    TokenInvalidError,
)
from reglament.accounts.models import (
    AccountEvent,
    ApiToken,
    Membership,
    Organisation,
    SignInFailure,
)
from reglament.accounts.selectors import sign_in_key, sign_in_locked_until

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
    _check_language(language)
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


def _check_language(language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise PersonInvalidError(
            _("“%(language)s” is not a language Reglament speaks.") % {"language": language},
            details={
                "field": "language",
                "value": language,
                "known": list(dict(settings.LANGUAGES)),
            },
        )


def person_set_language(*, user: User, language: str) -> bool:
    """Make `language` the person's own: their pages after signing in and their mail.

    Returns whether anything changed (False also for a user without a membership,
    such as a bare superuser, whose choice lives only in the language cookie).
    """
    _check_language(language)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user_id=user.pk).first()
        if membership is None or membership.language == language:
            return False
        before = membership.language
        membership.language = language
        membership.save(update_fields=["language", "updated_at"])
        AccountEvent(
            kind=AccountEvent.Kind.LANGUAGE_CHANGED,
            organisation_id=membership.organisation_id,
            person=user,
            actor=user,
            data={"from": before, "to": language},
        ).save()
    return True


# ---------------------------------------------------------------- API tokens
TOKEN_PREFIX = "rgl_"  # noqa: S105 - the public marker of a key, not a secret


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transaction.atomic
def token_create(
    *,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    actor: User | None = None,
) -> tuple[ApiToken, str]:
    """A personal API token for `user`; returns the row and the key, shown only now.

    The key is `rgl_<prefix>_<secret>`; only its SHA-256 is stored, so a
    lost key cannot be recovered, only revoked and replaced.
    """
    name = name.strip()
    if not name:
        raise TokenInvalidError(
            _("A token needs a name that says where it is used."), details={"field": "name"}
        )
    if len(name) > 100:
        raise TokenInvalidError(
            _("The token name is longer than 100 characters."), details={"field": "name"}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenInvalidError(
            _("The expiry must be in the future."),
            details={"field": "expires_at", "value": expires_at.isoformat()},
        )
    if not user.is_active:
        raise TokenInvalidError(
            _("%(user)s is deactivated and cannot have tokens.") % {"user": user.get_username()},
            details={"field": "user"},
        )
    prefix = secrets.token_hex(4)
    key = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user=user, name=name, prefix=prefix, digest=token_digest(key))
    token.expires_at = expires_at
    token.save()
    membership = Membership.objects.filter(user=user).select_related("organisation").first()
    if membership is not None:
        AccountEvent(
            kind=AccountEvent.Kind.TOKEN_CREATED,
            organisation=membership.organisation,
            person=user,
            actor=actor or user,
            data={"name": name, "prefix": prefix},
        ).save()
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    """Revoke a token at once; revoking twice changes nothing."""
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    membership = Membership.objects.filter(user=token.user).select_related("organisation").first()
    if membership is not None:
        AccountEvent(
            kind=AccountEvent.Kind.TOKEN_REVOKED,
            organisation=membership.organisation,
            person=token.user,
            actor=actor or token.user,
            data={"name": token.name, "prefix": token.prefix},
        ).save()
    return token


def token_authenticate(key: str) -> User | None:
    """The active user a presented key belongs to, or None (unknown, revoked, expired)."""
    if not key.startswith(TOKEN_PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(key), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    # Touch at most once a minute: a busy script should not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def sign_in(*, login: str, password: str, ip: str | None, now: datetime | None = None) -> User:
    """The active person `login` (e-mail or login) and `password` name, or an error.

    Refused without checking the password while the login or the address is
    locked out (SignInLockedError, `details.locked_until`). A wrong password
    is recorded as a SignInFailure; a right one clears the failures of the
    person's e-mail and login. The caller starts the session.
    """
    now = now or timezone.now()
    locked_until = sign_in_locked_until(login=login, ip=ip, now=now)
    if locked_until is not None:
        raise _locked(locked_until, now)
    user = authenticate(None, username=login, password=password)
    if not isinstance(user, User):
        with transaction.atomic():
            window = settings.REGLAMENT_SIGN_IN_FAILURE_WINDOW
            SignInFailure.objects.filter(failed_at__lte=now - window).delete()
            SignInFailure(login=sign_in_key(login), ip=ip, failed_at=now).save()
        raise SignInInvalidError()
    keys = {sign_in_key(login), sign_in_key(user.username)}
    if user.email:
        keys.add(sign_in_key(user.email))
    SignInFailure.objects.filter(login__in=keys).delete()
    return user


def _locked(until: datetime, now: datetime) -> SignInLockedError:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))  # rounded up
    return SignInLockedError(
        ngettext(
            "Too many failed attempts to sign in. Try again in %(minutes)d minute.",
            "Too many failed attempts to sign in. Try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
        details={"locked_until": until.isoformat(), "minutes": minutes},
    )
