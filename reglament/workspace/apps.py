from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """Staff pages: the queue, a request as staff see it, the manager view."""

    name = "reglament.workspace"
    label = "workspace"
