from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.signing import generate


class Command(BaseCommand):
    help = (
        "Create the Ed25519 key pair that signs audit checkpoints. The private key goes to "
        "MBROJTJE_AUDIT_SIGNING_KEY (readable only by the account that runs "
        "audit_checkpoint), the public key to MBROJTJE_AUDIT_VERIFY_KEY. Refuses to "
        "overwrite an existing private key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing when a key already exists (for scripts such as make demo).",
        )

    def handle(self, *args, if_missing=False, **options):
        private = Path(settings.MBROJTJE_AUDIT_SIGNING_KEY)
        public = Path(settings.MBROJTJE_AUDIT_VERIFY_KEY)
        if private.exists():
            if if_missing:
                return
            raise CommandError(f"{private} exists already; remove it first if you mean it.")
        generate(private, public)
        self.stdout.write(f"Private key: {private}\nPublic key:  {public}")
