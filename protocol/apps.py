from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtocolConfig(AppConfig):
    name = "protocol"
    verbose_name = _("Protocol")
