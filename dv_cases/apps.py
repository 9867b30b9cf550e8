from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DvCasesConfig(AppConfig):
    name = "dv_cases"
    verbose_name = _("Domestic violence")
