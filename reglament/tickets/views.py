"""The customer portal's request pages; thin: call selectors and services, render a template."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from reglament.accounts.selectors import person_profile
from reglament.tickets import selectors, services
from reglament.tickets.errors import (
    TicketClosedError,
    TicketInvalidError,
    TicketNotFoundError,
    TicketPermissionError,
    TransitionNotAllowedError,
)
from reglament.tickets.forms import ReplyForm
from reglament.tickets.models import Channel


def _lang() -> str:
    return "en" if (get_language() or "ru").startswith("en") else "ru"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # login_required ran first


@login_required
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "tickets/request_list.html",
        {
            "requests": selectors.portal_requests(user=user, lang=_lang()),
            "staff": person_profile(user).staff,
        },
    )


def _page(request: HttpRequest, number: str) -> selectors.RequestPage:
    try:
        return selectors.portal_request(user=_user(request), number=number, lang=_lang())
    except TicketNotFoundError:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_detail(request: HttpRequest, number: str) -> HttpResponse:
    page = _page(request, number)
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.ticket_reply(
                    ticket=page.summary.ticket,
                    author=_user(request),
                    body=form.cleaned_data["body"],
                    channel=Channel.PORTAL,
                )
            except TicketInvalidError as error:
                form.add_error("body", str(error.message))
            except (TicketClosedError, TicketPermissionError) as error:
                messages.error(request, str(error.message))
                return redirect("tickets:request_detail", number=number)
            else:
                messages.success(request, _("Your reply has been sent."))
                return redirect("tickets:request_detail", number=number)
        status = 422
    return render(
        request, "tickets/request_detail.html", {"page": page, "form": form}, status=status
    )


@login_required
@require_POST
def request_close(request: HttpRequest, number: str) -> HttpResponse:
    page = _page(request, number)
    try:
        services.ticket_close_by_requester(ticket=page.summary.ticket, actor=_user(request))
    except (TicketClosedError, TicketPermissionError, TransitionNotAllowedError) as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The request is closed."))
    return redirect("tickets:request_detail", number=number)
