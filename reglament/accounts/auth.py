"""The authentication backend: a person signs in with their e-mail or their login.

E-mail is matched without regard to letter case (people type `Ivan@Example.ru`
as often as `ivan@example.ru`); a login (e.g. the demo's `kolos`) still works.
An address shared by several accounts signs nobody in: which one was meant
cannot be known.
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


class EmailOrLoginBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        login = username.strip()
        if "@" in login:
            matches = list(User.objects.filter(email__iexact=login)[:2])
            user = matches[0] if len(matches) == 1 else None
        else:
            user = User.objects.filter(username=login).first()
        if user is None:
            # Spend the time of one hashing anyway, so a missing account does not
            # answer faster than a wrong password (Django's ModelBackend does the same).
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
