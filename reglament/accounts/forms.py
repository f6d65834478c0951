"""Forms of the sign-in pages: they only check input; rules live in the services."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from reglament.accounts.selectors import person_profile


class SignInForm(forms.Form):
    login = forms.CharField(
        label=_("E-mail or login"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class LocalisedPasswordResetForm(PasswordResetForm):
    """Django's reset form, writing each person in their own language (Membership.language)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context["user"]
        language = (
            person_profile(user).language if isinstance(user, User) else settings.LANGUAGE_CODE
        )
        with translation.override(language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )
