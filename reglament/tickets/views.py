"""The customer portal's request pages; thin: call selectors and services, render a template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from reglament.accounts.models import Organisation
from reglament.accounts.selectors import person_profile
from reglament.core.errors import AppError
from reglament.core.files import FileTooLargeError
from reglament.domain.regulation import Regulation
from reglament.paidwork import selectors as paidwork_selectors
from reglament.paidwork import services as paidwork_services
from reglament.paidwork.errors import ServiceNotIncludedError
from reglament.regulations.models import Contract
from reglament.tickets import selectors, services
from reglament.tickets.errors import (
    AttachmentInvalidError,
    NoContractError,
    TicketClosedError,
    TicketInvalidError,
    TicketNotFoundError,
    TicketPermissionError,
    TransitionNotAllowedError,
)
from reglament.tickets.forms import DeclineForm, ReplyForm, RequestForm, megabytes
from reglament.tickets.models import Channel, Ticket


def _lang() -> str:
    return "en" if (get_language() or "ru").startswith("en") else "ru"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # login_required ran first


# ------------------------------------------------------------- my requests
@login_required
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    profile = person_profile(user)
    filters = selectors.PortalFilter(
        state=request.GET.get("state", "open"),
        text=request.GET.get("q", "")[:100],
        scope=request.GET.get("scope", ""),
    )
    if filters.state not in ("open", "closed", "all"):
        filters = selectors.PortalFilter(state="open", text=filters.text, scope=filters.scope)
    if not filters.scope:
        admin_default = "organisation" if len(selectors.portal_scopes(profile)) > 1 else ""
        filters = selectors.PortalFilter(
            state=filters.state, text=filters.text, scope=admin_default or "mine"
        )
    result = selectors.portal_request_page(
        user=user,
        lang=_lang(),
        filters=filters,
        page=request.GET.get("page", 1),
        profile=profile,
    )
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "tickets/request_list.html",
        {
            "result": result,
            "requests": result.items,
            "filters": filters,
            "keep": keep.urlencode(),
            "staff": profile.staff,
        },
    )


# ------------------------------------------------------------- one request
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
    return _render_detail(request, page, form=form, status=status)


def _render_detail(
    request: HttpRequest,
    page: selectors.RequestPage,
    *,
    form: ReplyForm | None = None,
    decline_form: DeclineForm | None = None,
    status: int = 200,
) -> HttpResponse:
    ticket = page.summary.ticket
    user = _user(request)
    regulation = ticket.version.parsed()
    return render(
        request,
        "tickets/request_detail.html",
        {
            "page": page,
            "form": form or ReplyForm(),
            "decline_form": decline_form or DeclineForm(),
            "history": selectors.portal_history(
                user=user, ticket=ticket, regulation=regulation, lang=_lang()
            ),
            "estimates": paidwork_selectors.estimate_views(user=user, ticket=ticket),
            "registered": request.GET.get("registered") == "1",
        },
        status=status,
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


def _estimate(request: HttpRequest, page: selectors.RequestPage, estimate: int) -> Any:
    try:
        return paidwork_selectors.estimate_get(
            user=_user(request), ticket=page.summary.ticket, number=estimate
        )
    except AppError:
        raise Http404 from None


@login_required
@require_POST
def estimate_approve(request: HttpRequest, number: str, estimate: int) -> HttpResponse:
    """R4.6: the customer agrees to the cost; the work goes on."""
    page = _page(request, number)
    found = _estimate(request, page, estimate)
    try:
        paidwork_services.estimate_approve(estimate=found, actor=_user(request))
    except AppError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request, _("You approved estimate %(number)d; the work goes on.") % {"number": estimate}
        )
    return redirect(reverse("tickets:request_detail", args=[number]) + "#paid-work")


@login_required
@require_POST
def estimate_decline(request: HttpRequest, number: str, estimate: int) -> HttpResponse:
    """R4.6: the customer refuses the cost; the regulation says what happens next."""
    page = _page(request, number)
    found = _estimate(request, page, estimate)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, page, decline_form=form, status=422)
    try:
        paidwork_services.estimate_decline(
            estimate=found, actor=_user(request), reason=form.cleaned_data["reason"]
        )
    except AppError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("You declined estimate %(number)d.") % {"number": estimate})
    return redirect(reverse("tickets:request_detail", args=[number]) + "#paid-work")


# ------------------------------------------------------------- new request
@dataclass(frozen=True, slots=True)
class _Filing:
    """Whom and under which contract a new request is filed, as the form now says."""

    organisations: list[Organisation]
    organisation: Organisation | None
    contracts: list[Contract]
    contract: Contract | None
    regulation: Regulation | None
    now: datetime

    @property
    def tariff(self) -> str:
        return self.contract.tariff.code if self.contract is not None else ""


def _filing(user: User, data: QueryDict) -> _Filing:
    now = timezone.now()
    organisations = selectors.filing_organisations(user=user)
    chosen = data.get("organisation", "")
    organisation = next(
        (o for o in organisations if str(o.pk) == chosen),
        organisations[0] if organisations else None,
    )
    contracts = (
        selectors.contracts_in_force(organisation=organisation, now=now)
        if organisation is not None
        else []
    )
    wanted = data.get("contract", "")
    contract = next(
        (c for c in contracts if str(c.pk) == wanted), contracts[0] if contracts else None
    )
    regulation = contract.tariff.version.parsed() if contract is not None else None
    return _Filing(organisations, organisation, contracts, contract, regulation, now)


def _form(filing: _Filing, *args: Any, **kwargs: Any) -> RequestForm:
    return RequestForm(
        *args,
        regulation=filing.regulation,
        tariff=filing.tariff,
        organisations=filing.organisations,
        contracts=filing.contracts,
        lang=_lang(),
        **kwargs,
    )


def _preview_context(filing: _Filing, data: QueryDict) -> dict[str, Any]:
    """The priority the answers give (R3.1) and the promise a request filed now gets."""
    from reglament.sla.selectors import calendar_hours, promise_preview

    if filing.contract is None or filing.regulation is None:
        return {"explanation": None, "promises": []}
    regulation = filing.regulation
    category = data.get("category", "")
    if category not in {c.id for c in regulation.categories}:
        category = ""
    type_ = data.get("type", "")
    if type_ not in {t.id for t in regulation.request_types}:
        type_ = ""
    explanation = selectors.priority_explain(
        regulation,
        impact=data.get("impact", ""),
        workaround=data.get("workaround", ""),
        category=category,
        lang=_lang(),
    )
    promises = []
    if explanation.priority is not None:
        _regulation, states = promise_preview(
            contract=filing.contract,
            priority=explanation.priority,
            type=type_,
            category=category,
            now=filing.now,
        )
        zone = regulation.calendars[regulation.default_calendar].timezone
        today = filing.now.astimezone(zone).date()
        for state in states:
            if state.target is None or not state.target.promise or state.due is None:
                continue
            due = state.due.astimezone(zone)
            promises.append(
                {
                    "title": regulation.metric(state.metric).title.get(_lang()),
                    "due": state.due,
                    "day": "today"
                    if due.date() == today
                    else "tomorrow"
                    if (due.date() - today).days == 1
                    else "",
                    "hours": calendar_hours(regulation, state.target.calendar),
                    "note": state.target.note.get(_lang()) if state.target.note else "",
                }
            )
    return {
        "explanation": explanation,
        "promises": promises,
        "zone": regulation.calendars[regulation.default_calendar].timezone,
        "matrix": regulation.priority_matrix is not None,
    }


def _show_error(form: RequestForm, error: AppError) -> None:
    """A service's refusal, next to the field it concerns (else above the form)."""
    message = str(error.message)
    field = error.details.get("field")
    if isinstance(error, ServiceNotIncludedError) and "service" in form.fields:
        form.add_error("service", message)
    elif isinstance(error, FileTooLargeError | AttachmentInvalidError):
        form.add_error("attachments", message)
    elif isinstance(error, NoContractError) and "contract" in form.fields:
        form.add_error("contract", message)
    elif isinstance(field, str) and field in form.fields and field != "suggestion":
        form.add_error(field, message)
    else:
        form.add_error(None, message)


def _register(request: HttpRequest, filing: _Filing, form: RequestForm) -> Ticket:
    """File the request with its files (the service stores all of them, or nothing)."""
    data = form.cleaned_data
    user = _user(request)
    organisation = None
    if "organisation" in form.fields:
        organisation = selectors.filing_organisation_get(data["organisation"])
        if organisation is None:
            raise TicketInvalidError(
                _("Choose whom the request is for from the list."),
                details={"field": "organisation"},
            )
    return services.ticket_create(
        actor=user,
        subject=data["subject"],
        description=data.get("description", ""),
        organisation=organisation,
        regulation=filing.contract.tariff.version.regulation_id if filing.contract else None,
        channel=Channel.PORTAL,
        type=data.get("type", ""),
        category=data.get("category", ""),
        impact=data.get("impact") or None,
        workaround=data.get("workaround") or None,
        service=data.get("service", ""),
        accept_paid_work=bool(data.get("accept_paid_work")),
        uploads=[
            services.Upload(upload.name or "file", upload.read(), upload.content_type or "")
            for upload in data.get("attachments") or []
        ],
        now=filing.now,
    )


def _record_filed(user: User, suggestion_id: int | None, number: str) -> None:
    """R5.4: the knowledge suggestion shown while typing led to a request (deflection stats)."""
    if not suggestion_id:
        return
    from reglament.knowledge import selectors as knowledge_selectors
    from reglament.knowledge import services as knowledge_services

    try:
        suggestion = knowledge_selectors.suggestion_get(user=user, suggestion_id=suggestion_id)
        knowledge_services.suggestion_outcome_record(user=user, suggestion=suggestion, filed=number)
    except AppError:
        pass  # someone else's or already recorded: the request stands all the same


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    data = request.POST if request.method == "POST" else request.GET
    filing = _filing(user, data)
    base = {
        "filing": filing,
        "max_size": megabytes(settings.REGLAMENT_ATTACHMENT_MAX_BYTES),
    }
    if not filing.organisations:
        return render(request, "tickets/request_new_unavailable.html", base, status=403)
    if filing.contract is None:
        return render(request, "tickets/request_new_unavailable.html", base)
    documentation = selectors.filing_documentation(filing.contracts, _lang())
    if request.method != "POST" and documentation and request.GET.get("checked") != "1":
        return render(
            request, "tickets/request_manuals.html", {**base, "documentation": documentation}
        )
    status = 200
    if request.method == "POST":
        form = _form(filing, request.POST, request.FILES)
        if form.is_valid():
            try:
                ticket = _register(request, filing, form)
            except AppError as error:
                _show_error(form, error)
            else:
                _record_filed(user, form.cleaned_data.get("suggestion"), ticket.number)
                return redirect(
                    reverse("tickets:request_detail", args=[ticket.number]) + "?registered=1"
                )
        status = 422
    else:
        form = _form(filing, initial=request.GET.dict())
    had_files = bool(request.FILES.getlist("attachments")) if request.method == "POST" else False
    return render(
        request,
        "tickets/request_new.html",
        {
            **base,
            "form": form,
            "had_files": had_files,
            "documentation": documentation,
            **_preview_context(filing, data),
        },
        status=status,
    )


@login_required
@require_safe
def request_new_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the derived priority and the promise, recomputed as the form changes."""
    filing = _filing(_user(request), request.GET)
    return render(request, "tickets/_preview.html", _preview_context(filing, request.GET))


@login_required
@require_POST
def request_new_suggestions(request: HttpRequest) -> HttpResponse:
    """htmx: up to five articles the person may read about the subject typed (R5.4, R2.5)."""
    from reglament.knowledge import services as knowledge_services

    user = _user(request)
    subject = request.POST.get("subject", "").strip()
    if len(subject) < 3:
        return render(request, "tickets/_suggestions.html", {"results": [], "suggestion": None})
    filing = _filing(user, request.POST)
    regulation = filing.contract.tariff.version.regulation_id if filing.contract else None
    try:
        suggestion, results = knowledge_services.suggestion_create(
            user=user,
            subject=subject[:300],
            description=request.POST.get("description", "")[:2000],
            regulation=regulation,
        )
    except AppError:
        return render(request, "tickets/_suggestions.html", {"results": [], "suggestion": None})
    return render(
        request,
        "tickets/_suggestions.html",
        {"results": results[:5], "suggestion": suggestion, "lang": _lang()},
    )


# ------------------------------------------------------------------ tariff
@login_required
@require_safe
def tariff(request: HttpRequest) -> HttpResponse:
    """R1.1, R2.5, R4.1: what the organisation's tariff includes and promises."""
    profile = person_profile(_user(request))
    summaries = (
        selectors.tariff_summaries(
            organisation=profile.organisation, now=timezone.now(), lang=_lang()
        )
        if profile.customer and profile.organisation is not None
        else []
    )
    return render(request, "tickets/tariff.html", {"summaries": summaries})
