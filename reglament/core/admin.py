from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from reglament.core.errors import AppError
from reglament.core.models import WorkerHeartbeat


class ReadOnlyAdminMixin:
    """Show rows, never change them here.

    For history (events, regulation versions) and for rows whose writes must
    go through a service, which validates them and records an event.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ServiceModelForm(forms.ModelForm):
    """An admin form that writes through a service instead of saving the model itself.

    The form checks the input's shape; when that is valid, `write` calls the
    service (in a savepoint) and returns the row it stored. A refusal
    (an AppError) is shown next to the field its details name, or above the
    form, and nothing is stored. The ModelAdmin's save_model must do nothing
    (ServiceAdminMixin).
    """

    actor: User | None = None  # set per request by ServiceAdminMixin.get_form

    def write(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def field_of(self, error: AppError) -> str | None:
        """The form field a refusal concerns: the one its details name, if the form has it."""
        field = error.details.get("field")
        return field if isinstance(field, str) and field in self.fields else None

    def _post_clean(self) -> None:
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.instance = self.write(self.cleaned_data)
        except AppError as error:
            problems = error.details.get("errors")
            if isinstance(problems, list) and problems:  # one message per sub-field
                for problem in problems:
                    name = str(problem.get("field", "")).split(".")[0]
                    self.add_error(name if name in self.fields else None, str(problem["message"]))
            else:
                self.add_error(self.field_of(error), str(error.message))


class ServiceAdminMixin:
    """For a ModelAdmin whose form is a ServiceModelForm: the service saved the row."""

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        form.actor = request.user  # a new class per request (modelform_factory)
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Already stored by the service when the form validated."""


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin[WorkerHeartbeat]):
    list_display = ("worker_id", "last_seen")
    ordering = ("-last_seen",)

    # Written only by workers: a hand-edited beat would make health lie.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: WorkerHeartbeat | None = None
    ) -> bool:
        return False


# The admin speaks the product's name, in the visitor's language.
admin.site.site_header = _("Reglament administration")
admin.site.site_title = _("Reglament")
admin.site.index_title = _("Organisations, people, regulations and contracts")
