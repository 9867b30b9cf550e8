from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from .seed_demo import ACCOUNTS_FILE


class Command(BaseCommand):
    help = (
        "Print the demo accounts, their roles, the password and backup codes that seed_demo "
        "wrote to var/demo-accounts.txt. `make demo` runs it last, before the server starts, "
        "so that the table is the last thing on the console. Debug only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--accounts-file", default=ACCOUNTS_FILE)

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_accounts shows the demo's passwords: debug only.")
        try:
            with open(options["accounts_file"], encoding="utf-8") as accounts:
                table = accounts.read()
        except FileNotFoundError:
            raise CommandError("No demo accounts yet: run `manage.py seed_demo` first.") from None
        rule = "=" * 100
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(rule))
        self.stdout.write(table.rstrip("\n"))
        self.stdout.write(self.style.SUCCESS(rule))
