from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaidworkConfig(AppConfig):
    name = "reglament.paidwork"
    label = "paidwork"
    verbose_name = _("Paid work")
