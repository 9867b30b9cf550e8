from django.core.management.base import BaseCommand, CommandError

from audit.services import checkpoint_make
from audit.signing import KeyMissing, signer


class Command(BaseCommand):
    help = (
        "Sign the heads of the audit trail's hash chains with the Ed25519 key, store the "
        "checkpoint in the database and append it to MBROJTJE_AUDIT_CHECKPOINT_FILE. "
        "Run it from a timer every few minutes: events after the last checkpoint are "
        "protected by the chain alone."
    )

    def handle(self, *args, **options):
        try:
            key = signer()
        except KeyMissing as error:
            raise CommandError(str(error)) from error
        made = checkpoint_make(signer=key)
        self.stdout.write(f"Checkpoint {made.number}: {made.events} events signed.")
