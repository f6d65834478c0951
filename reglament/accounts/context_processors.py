"""Template context: the signed-in person's profile (role, organisation), read once per page."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from reglament.accounts.selectors import Profile, person_profile


def profile(request: HttpRequest) -> dict[str, Profile | SimpleLazyObject | None]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"profile": None}
    return {"profile": SimpleLazyObject(lambda: person_profile(user))}
