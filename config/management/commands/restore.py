from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config import backups


def _described(manifest: dict) -> str:
    members = manifest["members"]
    documents = sum(1 for name in members if name.startswith("documents/"))
    size = sum(member["size"] for member in members.values())
    return (
        f"Backup of a {manifest['vendor']} database made at {manifest['created_at']}: "
        f"{len(members)} members ({documents} documents), {size / 1_000_000:,.1f} MB in all."
    )


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into the configured database, which must be empty, "
        "and the documents folder, which must be empty or missing; the checkpoint file is "
        "restored when there is none. Every part is checked against the manifest before "
        "anything is changed, and a failure changes nothing. Then the audit trail of the "
        "restored copy is verified (audit_verify); exits 1 if it does not verify."
    )

    # The system checks would connect to the database, and so create an SQLite
    # file at the target: the restore looks at the target itself, read-only.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The backup file.")
        parser.add_argument(
            "--private-key",
            type=Path,
            required=True,
            help="The backup private key (from backup_keygen), brought from where it is kept.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only decrypt the backup and check it against its manifest; restore nothing.",
        )

    def handle(self, *args, file, private_key, check=False, **options):
        if check:
            try:
                manifest = backups.check(file, private_key)
            except backups.BackupError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(_described(manifest))
            self.stdout.write("The backup decrypts and every part matches its manifest.")
            return
        try:
            restored = backups.restore(file, private_key)
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_described(restored.manifest))
        self.stdout.write(
            f"Restored in {restored.seconds:.1f} s: the database and {restored.documents} "
            "documents."
        )
        for note in restored.notes:
            self.stdout.write(note)
        self.stdout.write("Verifying the audit trail of the restored copy:")
        try:
            call_command("audit_verify", stdout=self.stdout._out, stderr=self.stderr._out)
        except CommandError as error:
            raise CommandError(
                f"{error} The restore is complete, but its audit trail does not verify: "
                "find out why before the copy is used.",
                returncode=1,
            ) from None
