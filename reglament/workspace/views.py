"""The agent workspace: the queue and a request as staff work on it.

Thin: parse the input with a form, call one service, redirect back with a
message (POST/redirect/GET). A service's error is shown next to the field it
names, in the form as the agent filled it. Staff only: anyone else gets a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from reglament.accounts.selectors import Profile, person_find
from reglament.core.errors import AppError
from reglament.core.files import FileTooLargeError
from reglament.paidwork import services as paidwork
from reglament.tickets import services as tickets
from reglament.tickets.errors import (
    AttachmentInvalidError,
    ResolutionRequiredError,
    TicketNotFoundError,
    TransitionNotAllowedError,
)
from reglament.tickets.models import Channel
from reglament.usage import services as usage
from reglament.workspace import forms, selectors

# The keys workspace.js listens to on the request page, for its help list.
SHORTCUTS = (
    ("r", gettext_lazy("Write a public reply")),
    ("n", gettext_lazy("Write an internal note")),
    ("a", gettext_lazy("Assign to me")),
    ("?", gettext_lazy("Show this list")),
)


def _lang() -> str:
    return "en" if (get_language() or "ru").startswith("en") else "ru"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # login_required ran first


def _staff(request: HttpRequest) -> Profile:
    try:
        return selectors.require_staff(_user(request))
    except TicketNotFoundError:
        raise Http404 from None


# ------------------------------------------------------------------------ queue
@dataclass(frozen=True, slots=True)
class _QueueInput:
    form: forms.QueueFilterForm
    filters: selectors.QueueFilters
    after: Any
    query: str  # the filters as URL parameters, without the cursor


def _queue_input(request: HttpRequest, profile: Profile) -> _QueueInput:
    data = request.GET.copy()
    if "line" not in data and profile.line:
        # An agent's own line until they choose otherwise (an explicit "" is all lines).
        data["line"] = str(profile.line)
    after_text = data.pop("after", [""])[-1]
    choices = selectors.queue_choices(lang=_lang())
    form = forms.QueueFilterForm(data, choices=choices)
    filters = form.filters()
    query = QueryDict(mutable=True)
    for name in form.fields:
        value = data.get(name)
        if value:
            query[name] = value
    if "line" in data and not data.get("line"):
        query["line"] = ""
    return _QueueInput(
        form=form,
        filters=filters,
        after=selectors.cursor_decode(after_text) if after_text else None,
        query=query.urlencode(),
    )


def _queue_context(request: HttpRequest) -> dict[str, Any]:
    profile = _staff(request)
    given = _queue_input(request, profile)
    page = selectors.queue_page(
        profile=profile, filters=given.filters, after=given.after, lang=_lang()
    )
    return {
        "form": given.form,
        "page": page,
        "query": given.query,
        "after": request.GET.get("after", ""),
        "filtered": any(
            value
            for name, value in given.form.data.items()
            if name != "line" and name in given.form.fields
        ),
    }


@login_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/queue.html", _queue_context(request))


@login_required
@require_safe
def queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's table alone, for the page's self-refresh (htmx)."""
    return render(request, "workspace/_queue_results.html", _queue_context(request))


# ----------------------------------------------------------------- request page
def _page(request: HttpRequest, number: str) -> selectors.AgentRequest:
    _staff(request)
    try:
        return selectors.agent_request(user=_user(request), number=number, lang=_lang())
    except TicketNotFoundError:
        raise Http404 from None


def _render_page(
    request: HttpRequest,
    page: selectors.AgentRequest,
    bound: forms.ActionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    built: dict[str, forms.ActionForm] = {
        name: spec.form(page=page) for name, spec in ACTIONS.items()
    }
    if bound is not None:
        built[bound.prefix_name] = bound
    user = _user(request)
    return render(
        request,
        "workspace/request.html",
        {
            "page": page,
            "ticket": page.ticket,
            "forms": built,
            "bound": bound.prefix_name if bound is not None else "",
            "me": user.get_username(),
            "assigned_to_me": page.ticket.assignee_id == user.pk,
            "shortcuts": SHORTCUTS,
            "assign_key": "a",
        },
        status=status,
    )


@login_required
@require_safe
def request_page(request: HttpRequest, number: str) -> HttpResponse:
    return _render_page(request, _page(request, number))


@login_required
@require_POST
def request_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    page = _page(request, number)
    form = spec.form(request.POST, request.FILES, page=page)
    if form.is_valid():
        try:
            message = spec.perform(_user(request), page, form.cleaned_data)
        except AppError as error:
            _show(form, error, spec)
        else:
            messages.success(request, message)
            return redirect(reverse("workspace:request", args=[page.ticket.number]) + spec.anchor)
    return _render_page(request, page, bound=form, status=422)


def _show(form: forms.ActionForm, error: AppError, spec: _Action) -> None:
    """The service's message next to the field it concerns, else at the form's top."""
    name = str(error.details.get("field", ""))
    if isinstance(error, AttachmentInvalidError | FileTooLargeError):
        name = "attachments"
    elif isinstance(error, TransitionNotAllowedError):
        name = "status"
    elif isinstance(error, ResolutionRequiredError):
        name = "resolution"
    name = spec.fields.get(name, name)
    form.add_error(name if name in form.fields else None, str(error.message))


# ---------------------------------------------------------------------- actions
Data = dict[str, Any]


def _reply(user: User, page: selectors.AgentRequest, data: Data) -> str:
    public = data["kind"] == "public"
    tickets.ticket_reply(
        ticket=page.ticket,
        author=user,
        body=data["body"],
        public=public,
        channel=Channel.PORTAL,
        uploads=[
            tickets.Upload(upload.name or "file", upload.read(), upload.content_type or "")
            for upload in data["attachments"]
        ],
    )
    return _("Your reply has been sent.") if public else _("The internal note is saved.")


def _status(user: User, page: selectors.AgentRequest, data: Data) -> str:
    ticket = tickets.ticket_transition(
        ticket=page.ticket,
        actor=user,
        status=data["status"],
        resolution=data["resolution"],
        comment=data["comment"],
    )
    return _("The status is now “%(status)s”.") % {
        "status": selectors.title_of(page.regulation.statuses, ticket.status, page.lang)
    }


def _classify(user: User, page: selectors.AgentRequest, data: Data) -> str:
    tickets.ticket_update(
        ticket=page.ticket,
        actor=user,
        priority=data["priority"],
        category=data["category"],
        type=data["type"],
    )
    return _("Priority, category and type are saved.")


def _line(user: User, page: selectors.AgentRequest, data: Data) -> str:
    tickets.ticket_escalate(
        ticket=page.ticket, actor=user, line=data["line"], reason=data["reason"]
    )
    return _("The request is now on line %(line)d.") % {"line": data["line"]}


def _assign(user: User, page: selectors.AgentRequest, data: Data) -> str:
    login = data["assignee"]
    assignee = person_find(username=login) if login else None
    if login and assignee is None:
        raise AppError(_("There is no such person."), details={"field": "assignee"})
    tickets.ticket_update(ticket=page.ticket, actor=user, assignee=assignee)
    if assignee is None:
        return _("Nobody is assigned now.")
    if assignee.pk == user.pk:
        return _("The request is assigned to you.")
    return _("The request is assigned to %(name)s.") % {
        "name": assignee.get_full_name() or assignee.get_username()
    }


def _milestone(user: User, page: selectors.AgentRequest, data: Data) -> str:
    tickets.ticket_mark(
        ticket=page.ticket, actor=user, milestone=data["milestone"], note=data["note"]
    )
    return _("Recorded: %(step)s.") % {"step": tickets.Kind(data["milestone"]).label}


def _development(user: User, page: selectors.AgentRequest, data: Data) -> str:
    tickets.ticket_record_development(
        ticket=page.ticket,
        actor=user,
        reference=data["reference"],
        fix_promised_on=data["fix_promised_on"],
    )
    return _("The development details are saved.")


def _scope(user: User, page: selectors.AgentRequest, data: Data) -> str:
    tickets.ticket_set_out_of_scope(
        ticket=page.ticket, actor=user, item=data["item"], reason=data["reason"]
    )
    return _("Marked out of scope.") if data["item"] else _("The request is in scope.")


def _time(user: User, page: selectors.AgentRequest, data: Data) -> str:
    usage.time_log(
        ticket=page.ticket,
        actor=user,
        minutes=data["minutes"],
        activity=data["activity"],
        billable=data["billable"],
        note=data["note"],
    )
    return _("%(minutes)d min recorded.") % {"minutes": data["minutes"]}


def _estimate(user: User, page: selectors.AgentRequest, data: Data) -> str:
    estimate = paidwork.estimate_propose(
        ticket=page.ticket,
        actor=user,
        scope=data["scope"],
        hours=data["hours"],
        rate=data["rate"],
        currency=data["currency"],
        valid_until=data["valid_until"],
    )
    return _("Estimate %(number)d is sent to the customer for approval.") % {
        "number": estimate.number
    }


@dataclass(frozen=True, slots=True)
class _Action:
    form: type[forms.ActionForm]
    perform: Callable[[User, selectors.AgentRequest, Data], str]
    anchor: str = ""
    fields: dict[str, str] = field(default_factory=dict)


ACTIONS: dict[str, _Action] = {
    "reply": _Action(forms.ReplyForm, _reply, "#conversation", {"comment": "body"}),
    "status": _Action(forms.StatusForm, _status, "", {"ticket": "status"}),
    "classify": _Action(forms.ClassifyForm, _classify),
    "line": _Action(forms.LineForm, _line),
    "assign": _Action(forms.AssigneeForm, _assign),
    "milestone": _Action(forms.MilestoneForm, _milestone, "#defect"),
    "development": _Action(
        forms.DevelopmentForm, _development, "#defect", {"fix_promised_on": "fix_promised_on"}
    ),
    "scope": _Action(forms.ScopeForm, _scope, "", {"out_of_scope": "item"}),
    "time": _Action(forms.TimeForm, _time, "#time"),
    "estimate": _Action(forms.EstimateForm, _estimate, "#paid-work"),
}
