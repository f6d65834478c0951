"""The service manager's view: breaches and risks across lines, load, today's first responses.

Thin: parse the filters, ask reglament.workspace.manager_selectors, render.
Service managers and administrators see it; everyone else signed in gets a
404 (the page's existence is not advertised, as elsewhere in the site).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from reglament.accounts.selectors import person_profile
from reglament.workspace import manager_selectors as selectors


def _lang() -> str:
    return "en" if (get_language() or "ru").startswith("en") else "ru"


class ManagerFilterForm(forms.Form):
    """The URL parameters `regulation` and `line`; empty means every one."""

    regulation = forms.ChoiceField(label=_("Regulation"), required=False)
    line = forms.TypedChoiceField(
        label=_("Support line"),
        required=False,
        coerce=int,
        empty_value=None,
    )

    def __init__(
        self, *args: Any, regulations: list[selectors.RegulationChoice], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["regulation"])
        field.choices = [("", _("All regulations"))] + [(r.id, r.title) for r in regulations]
        line = cast(forms.TypedChoiceField, self.fields["line"])
        line.choices = [("", _("All lines"))] + [
            (str(n), gettext("Line %(number)d") % {"number": n}) for n in selectors.LINES
        ]

    def filters(self) -> selectors.ManagerFilter:
        if not self.is_valid():
            return selectors.ManagerFilter()
        return selectors.ManagerFilter(
            regulation=self.cleaned_data["regulation"] or None, line=self.cleaned_data["line"]
        )


@login_required
@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    if not selectors.manager_may_view(person_profile(cast(User, request.user))):
        raise Http404
    lang = _lang()
    form = ManagerFilterForm(request.GET or None, regulations=selectors.regulation_choices(lang))
    page = selectors.manager_overview(filters=form.filters(), now=timezone.now(), lang=lang)
    return render(request, "workspace/manager.html", {"page": page, "form": form})
