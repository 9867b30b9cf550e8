from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.backups import BackupError, backup


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


class Command(BaseCommand):
    help = (
        "Write one encrypted backup: the database, the documents folder and the audit "
        "checkpoint file, with a manifest. Encrypted to the public key of "
        "MBROJTJE_BACKUP_PUBLIC_KEY (or --public-key); only its private key, kept offline, "
        "reads it. Never overwrites a file. The keys of the application are not in it: "
        "see docs/backup.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            required=True,
            help=(
                "The backup file to write (it must not exist), or a folder, where the backup "
                "is named mbrojtje-<UTC date and time>.backup."
            ),
        )
        parser.add_argument(
            "--public-key",
            type=Path,
            help="The public key to encrypt to, instead of MBROJTJE_BACKUP_PUBLIC_KEY.",
        )

    def handle(self, *args, output, public_key=None, **options):
        public_key = public_key or getattr(settings, "MBROJTJE_BACKUP_PUBLIC_KEY", None)
        if not public_key:
            raise CommandError(
                "No backup public key: set MBROJTJE_BACKUP_PUBLIC_KEY or give --public-key. "
                "`python manage.py backup_keygen` makes a key pair (see docs/backup.md)."
            )
        try:
            made = backup(output, Path(public_key))
        except BackupError as error:
            raise CommandError(f"{error} No backup was written.") from None
        checkpoints = (
            "no checkpoint file"
            if made.checkpoint_bytes is None
            else f"checkpoint file {_megabytes(made.checkpoint_bytes)}"
        )
        self.stdout.write(
            f"Backup written to {made.path}: {_megabytes(made.size)} in {made.seconds:.1f} s, "
            f"encrypted to key {made.key}.\n"
            f"{made.vendor} database {_megabytes(made.database_bytes)}, {made.documents} "
            f"documents {_megabytes(made.documents_bytes)}, {checkpoints}."
        )
