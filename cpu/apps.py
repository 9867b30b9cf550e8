from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CpuConfig(AppConfig):
    name = "cpu"
    verbose_name = _("Child protection")
