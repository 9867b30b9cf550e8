"""Reports and statistics: figures for heads of units, DV coordinators, gender-equality
officers and the national statistician (issue 6).

It sits above the other apps: it reads protocol's cases, dv_cases' orders and
cpu's kinds of case, and writes exports to the audit trail; protocol, cpu,
dv_cases and audit import nothing from it. It has no models of its own: every
figure is counted in the database from theirs.
"""

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports and statistics")

    def ready(self):
        from .aggregates import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="reports-sqlite-median")
