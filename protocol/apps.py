from importlib import import_module

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def restore_default_data(migration: str, function: str):
    """A post_migrate receiver that applies a data migration's function again.

    The defaults the protocol depends on (deadlines, the risk questionnaire) must
    exist after every migrate and every flush (which Django follows with
    post_migrate), not only after the first migration; the functions are idempotent.
    """

    def receiver(sender, apps=None, **kwargs):
        # flush sends no `apps`: the live registry then serves as the migration state.
        getattr(import_module(migration), function)(apps or global_apps, None)

    return receiver


class ProtocolConfig(AppConfig):
    name = "protocol"
    verbose_name = _("Protocol")

    def ready(self):
        from django.db.models.signals import post_delete, post_save
        from simple_history.signals import post_create_historical_record

        from . import auditing
        from .access import forget_permission_ids
        from .models import CaseGroupObjectPermission, CaseUserObjectPermission

        # Every change of a model with history, and every grant or removal of
        # access to a case, whichever code path made it, reaches the audit trail.
        post_create_historical_record.connect(
            auditing.history_recorded, weak=False, dispatch_uid="protocol-audit-history"
        )
        for model in (CaseUserObjectPermission, CaseGroupObjectPermission):
            post_save.connect(
                auditing.permission_saved,
                sender=model,
                weak=False,
                dispatch_uid=f"protocol-audit-grant-{model.__name__}",
            )
            post_delete.connect(
                auditing.permission_deleted,
                sender=model,
                weak=False,
                dispatch_uid=f"protocol-audit-revoke-{model.__name__}",
            )

        # Permission rows are made anew after a flush (tests), with new ids.
        post_migrate.connect(
            forget_permission_ids, weak=False, dispatch_uid="protocol-permission-ids"
        )
        post_migrate.connect(
            restore_default_data("protocol.migrations.0002_deadline_defaults", "add_defaults"),
            sender=self,
            weak=False,
            dispatch_uid="protocol-deadline-defaults",
        )
