"""JSON endpoints for a person's own API tokens; thin: declare schemas, call one service.

The key is shown once, in the answer that creates it; afterwards only its
public prefix identifies it. A person sees and revokes only their own tokens:
someone else's token id is a 404, as one that does not exist.
"""

from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from reglament.accounts.models import ApiToken
from reglament.accounts.services import token_create, token_revoke
from reglament.core.auth import AUTH_ERROR_RESPONSES, api_auth, request_user
from reglament.core.errors import COMMON_ERROR_RESPONSES, ErrorOut, NotFoundError
from reglament.core.schemas import Instant

router = Router(tags=["tokens"], auth=api_auth)

_ERRORS: dict[int, type[ErrorOut]] = {**AUTH_ERROR_RESPONSES, **COMMON_ERROR_RESPONSES}


class TokenIn(Schema):
    name: str = Field(description="Where the token is used, e.g. `monitoring`.")
    expires_at: Instant | None = Field(None, description="Null: until revoked.")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's public part: `rgl_<prefix>_…`.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    key: str = Field(description="Shown only now; only its SHA-256 is stored.")


class TokenNotFoundError(NotFoundError):
    code = "token_not_found"
    default_message = _("You have no such API token.")


@router.post(
    "/tokens",
    response={201: TokenCreatedOut, 400: ErrorOut, **_ERRORS},
    summary="Create a personal API token",
    description=(
        "Send the key as `Authorization: Bearer <key>`. It is shown in this answer only. "
        "422 `token_invalid` for an empty name or an expiry in the past."
    ),
)
def token_create_endpoint(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    user = request_user(request)
    token, key = token_create(user=user, name=payload.name, expires_at=payload.expires_at)
    return Status(201, TokenCreatedOut(**_token_out(token).model_dump(), key=key))


@router.get(
    "/tokens",
    response={200: list[TokenOut], **_ERRORS},
    summary="My API tokens (never their keys)",
)
def token_list(request: HttpRequest) -> list[TokenOut]:
    return [_token_out(token) for token in _own_tokens(request_user(request))]


@router.delete(
    "/tokens/{token_id}",
    response={204: None, 404: ErrorOut, **_ERRORS},
    summary="Revoke one of my API tokens",
    description="Takes effect at once; revoking twice changes nothing. 404 for others' tokens.",
)
def token_revoke_endpoint(request: HttpRequest, token_id: int) -> Status[None]:
    user = request_user(request)
    token = _own_tokens(user).filter(pk=token_id).first()
    if token is None:
        raise TokenNotFoundError(details={"id": token_id})
    token_revoke(token=token, actor=user)
    return Status(204, None)


def _own_tokens(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.pk,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )
