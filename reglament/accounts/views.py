"""Signing in and out, and resetting a forgotten password; thin: forms, one service, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as start_session
from django.contrib.auth import logout as end_session
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from reglament.accounts.errors import SignInInvalidError, SignInLockedError
from reglament.accounts.forms import LocalisedPasswordResetForm, SignInForm
from reglament.accounts.services import person_set_language
from reglament.accounts.services import sign_in as sign_in_service


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if request.user.is_authenticated and request.method != "POST":
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = sign_in_service(
                login=form.cleaned_data["login"],
                password=form.cleaned_data["password"],
                ip=client_address(request),
            )
        except SignInInvalidError as error:
            form.add_error(None, str(error.message))
        except SignInLockedError as error:
            form.add_error(None, str(error.message))
            status = error.status  # 429: a client or proxy can tell a lockout
        else:
            start_session(request, user)
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/sign_in.html", {"form": form, "next": next_url}, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    end_session(request)
    messages.info(request, _("You have signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the pages' language (a cookie, as Django's set_language does) and, for a
    signed-in person, make it the language of their mail too."""
    chosen = request.POST.get("language", "")
    if request.user.is_authenticated and chosen in dict(settings.LANGUAGES):
        person_set_language(user=request.user, language=chosen)
    return set_language(request)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = LocalisedPasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_sent")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # Links point at the configured address, never at the Host header a
        # request happened to carry.
        self.extra_email_context = {"base_url": settings.REGLAMENT_BASE_URL}
        return super().form_valid(form)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def client_address(request: HttpRequest) -> str | None:
    """The address failures are counted against: the connection's, or behind our proxy
    (REGLAMENT_BEHIND_PROXY) the last X-Forwarded-For hop, the one our proxy added;
    earlier hops are the client's own claims."""
    if settings.REGLAMENT_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return request.META.get("REMOTE_ADDR") or None
