"""The audit trail: who read or changed what, tamper-evident (issue 5).

Its models and services import from no other app of the project: callers
hand it identifiers (user, institution, municipality, case number), never
what a case is about.
"""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_append_only(sender, using="default", **kwargs):
    """Put the triggers back after every migrate and flush (tests drop them to empty tables)."""
    from django.db import connections

    from .protection import TABLES, install, install_stored_encoding

    connection = connections[using]
    if TABLES[0] in connection.introspection.table_names():
        install(connection)
        install_stored_encoding(connection)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        post_migrate.connect(ensure_append_only, sender=self, dispatch_uid="audit-append-only")
