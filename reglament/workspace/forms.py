"""Forms of the agent workspace: they parse and check input; the rules live in the services.

Choices come from the request's regulation (statuses, resolutions, categories…),
so a form offers only what the regulation knows; the services check again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from reglament.domain.regulation import PRIORITIES
from reglament.tickets.models import TicketEvent
from reglament.tickets.services import MILESTONES
from reglament.usage.models import MAX_ENTRY_MINUTES, Activity
from reglament.workspace.selectors import AgentRequest, QueueChoices, QueueFilters, title_of

Kind = TicketEvent.Kind


def _choices(options: Any, blank: Any = None) -> list[tuple[str, Any]]:
    found = [(o.value, o.label) for o in options]
    return [("", blank), *found] if blank is not None else found


# ------------------------------------------------------------------------ queue
class QueueFilterForm(forms.Form):
    """The queue's filters: a GET form, so the URL says what is shown."""

    line = forms.ChoiceField(
        label=_("Line"),
        required=False,
        choices=[("", _("All lines")), ("1", _("Line 1")), ("2", _("Line 2")), ("3", _("Line 3"))],
    )
    assignee = forms.ChoiceField(
        label=_("Assignee"),
        required=False,
        choices=[("", _("Anyone")), ("me", _("Assigned to me")), ("none", _("Unassigned"))],
    )
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    tariff = forms.ChoiceField(label=_("Tariff"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    at_risk = forms.BooleanField(label=_("At risk"), required=False)
    breached = forms.BooleanField(label=_("Breached"), required=False)
    q = forms.CharField(label=_("Number or subject"), required=False, max_length=100)

    def __init__(self, data: Any, *, choices: QueueChoices, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        fields = self.fields
        fields["organisation"].choices = _choices(choices.organisations, _("All organisations"))  # type: ignore[attr-defined]
        fields["tariff"].choices = _choices(choices.tariffs, _("All tariffs"))  # type: ignore[attr-defined]
        fields["priority"].choices = _choices(choices.priorities, _("All priorities"))  # type: ignore[attr-defined]
        fields["category"].choices = _choices(choices.categories, _("All categories"))  # type: ignore[attr-defined]

    def filters(self) -> QueueFilters:
        """The filters asked for; a value that is not offered is ignored, not an error."""
        self.is_valid()  # a value not offered is dropped; the other filters apply
        data = self.cleaned_data
        line = data.get("line") or ""
        organisation = data.get("organisation") or ""
        return QueueFilters(
            line=int(line) if line else None,
            assignee=data.get("assignee") or "",
            organisation=int(organisation) if organisation else None,
            tariff=data.get("tariff") or "",
            priority=data.get("priority") or "",
            category=data.get("category") or "",
            at_risk=bool(data.get("at_risk")),
            breached=bool(data.get("breached")),
            text=(data.get("q") or "").strip(),
        )


# ----------------------------------------------------------------- request page
class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ActionForm(forms.Form):
    """A form of the request page, built with the page (for the regulation's choices)."""

    prefix_name = ""

    def __init__(self, data: Any = None, files: Any = None, *, page: AgentRequest) -> None:
        super().__init__(data, files, prefix=self.prefix_name)
        self.page = page
        self.setup(page)

    def setup(self, page: AgentRequest) -> None:
        """Set the choices from the request's regulation."""


class ReplyForm(ActionForm):
    prefix_name = "reply"
    kind = forms.ChoiceField(
        label=_("Send as"),
        choices=[("public", _("Public reply")), ("internal", _("Internal note"))],
        initial="public",
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write a reply or a note first.")},
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)


class StatusForm(ActionForm):
    prefix_name = "status"
    status = forms.ChoiceField(label=_("New status"))
    resolution = forms.ChoiceField(label=_("Resolution"), required=False)
    comment = forms.CharField(
        label=_("Message to the customer"),
        required=False,
        max_length=2000,
        help_text=_(
            "Optional. The customer reads it on the request page and in the clarification "
            "or closure e-mail; for colleagues, write an internal note instead."
        ),
    )

    def setup(self, page: AgentRequest) -> None:
        lang = page.lang
        self.fields["status"].choices = [(o.value, o.label) for o in page.transitions]  # type: ignore[attr-defined]
        self.fields["resolution"].choices = [  # type: ignore[attr-defined]
            ("", _("— none —")),
            *((r.id, r.title.get(lang)) for r in page.regulation.resolutions),
        ]
        self.fields["resolution"].help_text = (
            _("Required for: %(statuses)s.")
            % {
                "statuses": ", ".join(
                    title_of(page.regulation.statuses, s, lang) for s in page.resolution_statuses
                )
            }
            if page.resolution_statuses and page.regulation.resolutions
            else ""
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") in self.page.resolution_statuses and not data.get("resolution"):
            self.add_error("resolution", _("Choose a resolution for this status."))
        return data


class ClassifyForm(ActionForm):
    prefix_name = "classify"
    priority = forms.ChoiceField(label=_("Priority"))
    category = forms.ChoiceField(label=_("Category"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False)

    def setup(self, page: AgentRequest) -> None:
        regulation, lang, ticket = page.regulation, page.lang, page.ticket
        titles = {p.id: p.title.get(lang) for p in regulation.priorities}
        self.fields["priority"].choices = [(p, titles.get(p, p)) for p in PRIORITIES]  # type: ignore[attr-defined]
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("— none —")),
            *((c.id, c.title.get(lang)) for c in regulation.categories),
        ]
        self.fields["type"].choices = [  # type: ignore[attr-defined]
            ("", _("— none —")),
            *((t.id, t.title.get(lang)) for t in regulation.request_types),
        ]
        self.initial = {
            "priority": ticket.priority,
            "category": ticket.category,
            "type": ticket.type,
        }


class LineForm(ActionForm):
    prefix_name = "line"
    line = forms.TypedChoiceField(label=_("Move to line"), coerce=int)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        error_messages={"required": _("Say why the request moves to another line.")},
    )

    def setup(self, page: AgentRequest) -> None:
        self.fields["line"].choices = [  # type: ignore[attr-defined]
            (str(n), _("Line %(number)d") % {"number": n})
            for n in (1, 2, 3)
            if n != page.ticket.line
        ]


class AssigneeForm(ActionForm):
    prefix_name = "assign"
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)

    def setup(self, page: AgentRequest) -> None:
        self.fields["assignee"].choices = _choices(page.staff, _("— nobody —"))  # type: ignore[attr-defined]
        assignee = page.ticket.assignee
        self.initial = {"assignee": assignee.get_username() if assignee else ""}


class MilestoneForm(ActionForm):
    prefix_name = "milestone"
    milestone = forms.ChoiceField(label=_("Step"), choices=[(m, m) for m in MILESTONES])
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class DevelopmentForm(ActionForm):
    prefix_name = "development"
    reference = forms.CharField(label=_("Development reference"), required=False, max_length=200)
    fix_promised_on = forms.DateField(
        label=_("Fix promised for"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def setup(self, page: AgentRequest) -> None:
        ticket = page.ticket
        self.initial = {
            "reference": ticket.development_reference,
            "fix_promised_on": ticket.fix_promised_on,
        }


class ScopeForm(ActionForm):
    prefix_name = "scope"
    item = forms.ChoiceField(label=_("Out of scope"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def setup(self, page: AgentRequest) -> None:
        self.fields["item"].choices = [  # type: ignore[attr-defined]
            ("", _("In scope")),
            *((o.id, o.title.get(page.lang)) for o in page.regulation.out_of_scope),
        ]
        self.initial = {"item": page.ticket.out_of_scope}


class TimeForm(ActionForm):
    prefix_name = "time"
    minutes = forms.IntegerField(
        label=_("Minutes"), min_value=1, max_value=MAX_ENTRY_MINUTES, widget=forms.NumberInput()
    )
    activity = forms.ChoiceField(label=_("Activity"), choices=Activity.choices)
    billable = forms.BooleanField(label=_("Billable"), required=False, initial=True)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class EstimateForm(ActionForm):
    prefix_name = "estimate"
    scope = forms.CharField(
        label=_("Work to be done"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    hours = forms.DecimalField(label=_("Hours"), min_value=0, decimal_places=2, max_digits=7)
    rate = forms.DecimalField(
        label=_("Rate per hour"), min_value=0, decimal_places=2, max_digits=12
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="RUB")
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
