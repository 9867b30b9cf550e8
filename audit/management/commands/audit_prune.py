from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import prunable, prune, retention_cutoff
from audit.signing import KeyMissing, signer


class Command(BaseCommand):
    help = (
        "Delete the audit events older than MBROJTJE_AUDIT_RETENTION_YEARS (and their "
        "flags). Without --execute it only says what it would delete. With it, it first "
        "signs a checkpoint recording where each chain will start, then lifts the "
        "append-only triggers inside one transaction, deletes, and restores them. Run it as "
        "the database owner, in a maintenance window: the audit table is locked meanwhile. "
        "The web application has no way to delete events."
    )

    def add_arguments(self, parser):
        parser.add_argument("--execute", action="store_true", help="Really delete.")

    def handle(self, *args, execute=False, **options):
        cutoff = retention_cutoff()
        found = prunable()
        count = sum(how_many for _seq, _digest, how_many in found.values())
        self.stdout.write(
            f"Retention: {settings.MBROJTJE_AUDIT_RETENTION_YEARS} years; events before "
            f"{cutoff:%Y-%m-%d %H:%M} in whole stretches from the start of each chain: {count}."
        )
        if not execute or not count:
            return
        try:
            key = signer()
        except KeyMissing as error:
            raise CommandError(str(error)) from error
        deleted = prune(signer=key)
        self.stdout.write(f"Deleted {deleted} events.")
