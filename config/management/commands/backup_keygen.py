from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.backups import BackupError, keys_generate


class Command(BaseCommand):
    help = (
        "Create the X25519 key pair of the backups. The server keeps only the public key "
        "(MBROJTJE_BACKUP_PUBLIC_KEY), which encrypts; the private key, mode 0600, is the "
        "only way to read a backup: move it offline (docs/backup.md). Refuses to overwrite "
        "either file."
    )

    # Run on an offline machine, with no database: nothing to check.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--public", type=Path, required=True, help="Where the public key goes.")
        parser.add_argument(
            "--private", type=Path, required=True, help="Where the private key goes (mode 0600)."
        )

    def handle(self, *args, public, private, **options):
        try:
            key = keys_generate(public, private)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Public key:  {public}\nPrivate key: {private}\nFingerprint: {key}\n"
            "Keep the private key offline, in two places, and remove it from this machine: "
            "whoever holds it can read every backup."
        )
