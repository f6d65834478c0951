"""Forms of the customer portal: they only check input; rules live in the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from reglament.accounts.models import Organisation
from reglament.domain.regulation import Regulation
from reglament.regulations.models import Contract


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write a reply first.")},
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def megabytes(size: int) -> str:
    """A size limit as people read it: 20 MB (decimal, as the setting is given)."""
    return _("%(mb)s MB") % {"mb": f"{size / 1_000_000:g}"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files at once; each one is checked against the attachment size limit here,
    so a too-large file is refused before anything is stored."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in items]
        limit: int = settings.REGLAMENT_ATTACHMENT_MAX_BYTES
        too_large = [f for f in cleaned if f is not None and f.size is not None and f.size > limit]
        if too_large:
            raise forms.ValidationError(
                [
                    forms.ValidationError(
                        _("“%(name)s” is %(size)s; the limit is %(limit)s per file."),
                        code="attachment_too_large",
                        params={
                            "name": f.name,
                            "size": filesizeformat(f.size),
                            "limit": megabytes(limit),
                        },
                    )
                    for f in too_large
                ]
            )
        return [f for f in cleaned if f is not None]


class AnyOrganisationField(forms.ChoiceField):
    """The organisation a request is for: lists whom the person may file for, but passes
    any id on, so the service (not the form) refuses another's client and says so."""

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


def _set_choices(field: forms.Field, choices: list[Any]) -> None:
    cast(forms.ChoiceField, field).choices = choices


def _choices(items: Any, lang: str) -> list[tuple[str, str]]:
    return [(item.id, item.title.get(lang)) for item in items]


class RequestForm(forms.Form):
    """A new request in the portal; its choices come from the regulation of the contract."""

    organisation = AnyOrganisationField(
        label=_("For which client"),
        help_text=_("Your organisation, or the client of yours the request is for."),
    )
    contract = forms.ChoiceField(label=_("Regulation and tariff"))
    type = forms.ChoiceField(
        label=_("What kind of request is it?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of request it is.")},
    )
    category = forms.ChoiceField(
        label=_("Business process concerned"),
        required=False,
        help_text=_("The regulation sets some targets by business process."),
    )
    impact = forms.ChoiceField(
        widget=forms.RadioSelect,
        error_messages={"required": _("Answer this question: it sets the priority.")},
    )
    workaround = forms.ChoiceField(
        widget=forms.RadioSelect,
        error_messages={"required": _("Answer this question: it sets the priority.")},
    )
    service = forms.ChoiceField(
        label=_("Service you need (optional)"),
        required=False,
    )
    accept_paid_work = forms.BooleanField(
        label=_("If my tariff does not include this service, I accept it as paid work"),
        required=False,
        help_text=_("Support then sends you an estimate to approve before any paid work."),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=300,
        error_messages={"required": _("Give the request a subject.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, where, since when; what you have tried."),
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    suggestion = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        regulation: Regulation | None,
        tariff: str,
        organisations: list[Organisation],
        contracts: list[Contract],
        lang: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.regulation = regulation
        fields = self.fields
        fields["attachments"].widget.attrs.update(
            {
                "aria-describedby": "attachments-help attachment-errors",
                "data-max-bytes": str(settings.REGLAMENT_ATTACHMENT_MAX_BYTES),
                "data-too-large": _("too large: it will be refused"),
            }
        )
        if len(organisations) > 1:
            _set_choices(
                fields["organisation"],
                [
                    ("", _("— choose —")),
                    *((str(o.pk), o.name) for o in organisations),
                ],
            )
        else:
            del fields["organisation"]
        if len(contracts) > 1:
            _set_choices(
                fields["contract"],
                [
                    (
                        str(c.pk),
                        f"{c.tariff.version.parsed().title.get(lang)} · "
                        f"{c.tariff.version.parsed().tariff(c.tariff.code).title.get(lang)}",
                    )
                    for c in contracts
                ],
            )
        else:
            del fields["contract"]
        if regulation is None:
            return
        if regulation.request_types:
            _set_choices(fields["type"], _choices(regulation.request_types, lang))
        else:
            del fields["type"]
        if regulation.categories:
            groups = {g.id: g.title.get(lang) for g in regulation.category_groups}
            grouped: dict[str, list[tuple[str, str]]] = {}
            for category in regulation.categories:
                grouped.setdefault(groups.get(category.group or "", ""), []).append(
                    (category.id, category.title.get(lang))
                )
            choices: list[Any] = [("", _("— not sure / none of these —"))]
            for label, items in grouped.items():
                if label:
                    choices.append((label, items))
                else:
                    choices.extend(items)
            _set_choices(fields["category"], choices)
        else:
            del fields["category"]
        matrix = regulation.priority_matrix
        if matrix is not None:
            fields["impact"].label = matrix.impact.title.get(lang)
            _set_choices(fields["impact"], _choices(matrix.impact.answers, lang))
            fields["workaround"].label = matrix.workaround.title.get(lang)
            _set_choices(fields["workaround"], _choices(matrix.workaround.answers, lang))
        else:
            del fields["impact"]
            del fields["workaround"]
        self._service_choices(regulation, tariff, lang)

    def _service_choices(self, regulation: Regulation, tariff: str, lang: str) -> None:
        from reglament.paidwork.selectors import service_coverage

        if not regulation.services or not tariff:
            del self.fields["service"]
            del self.fields["accept_paid_work"]
            return
        choices: list[Any] = [("", _("— not a particular service —"))]
        for service in regulation.services:
            coverage = service_coverage(regulation, service=service.id, tariff=tariff)
            label = service.title.get(lang)
            if not coverage.included:
                label = f"{label} · {_('paid work')}"
            choices.append((service.id, label))
        _set_choices(self.fields["service"], choices)
