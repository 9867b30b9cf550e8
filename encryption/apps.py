from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EncryptionConfig(AppConfig):
    """Encrypted model fields, blind indexes and key rotation; no models of its own."""

    name = "encryption"
    verbose_name = _("Field encryption")
