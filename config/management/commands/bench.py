from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config import bench


class Command(BaseCommand):
    help = (
        "Benchmark at national size (after seed_scale, on PostgreSQL): prints the median and "
        "p95 in milliseconds of the case list, the CCR inbox, the case page, name search, the "
        "head's dashboard, the national report, audit_verify and field encryption, each beside "
        "its obvious alternative measured in the same run. Prints figures; asserts nothing. "
        "Debug only: it signs users in and writes audit events."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=50, help="timed runs per row")
        parser.add_argument("--verify-runs", type=int, default=1)

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("bench signs users in and writes audit events: debug only.")
        if options["runs"] < 5:
            raise CommandError("--runs must be at least 5 for a p95 to mean anything.")
        for name, value in bench.machine() + bench.volumes():
            self.stdout.write(f"{name:<32} {value}")
        try:
            rows = bench.run(
                runs=options["runs"], verify_runs=options["verify_runs"], out=self.stdout.write
            )
        except LookupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write("")
        self.stdout.write("Times in milliseconds; ratio = alternative median / ours.")
        for line in bench.table(rows):
            self.stdout.write(line)
