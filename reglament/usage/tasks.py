"""Background tasks of usage accounting, run by `reglament worker`."""

from django.tasks import task

from reglament.usage import notifications


@task()
def allowance_exceeded_notify(crossing_id: int) -> int:
    """Mail the customer admins and the service manager that an allowance is used up.

    An SMTP error fails the task, so the queue keeps the failure and its traceback.
    """
    return notifications.allowance_exceeded_notify(crossing_id=crossing_id)
