import sys

from django.core.management.base import BaseCommand, CommandError

from audit.signing import KeyMissing
from audit.verify import verify


class Command(BaseCommand):
    help = (
        "Check the whole audit trail: every event against its hash chain and every "
        "checkpoint against its signature and the checkpoint file. Prints how many events "
        "it checked and how fast; exits with status 1 naming the first bad event when "
        "anything was changed, deleted, inserted or reordered."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--in-python",
            action="store_true",
            help=(
                "On PostgreSQL, compute every event's digest in Python rather than in the "
                "database (slower; for when the database server itself is in doubt)."
            ),
        )

    def handle(self, *args, in_python=False, **options):
        def progress(count):
            if sys.stderr.isatty():
                sys.stderr.write(f"\r{count:,} events checked")

        try:
            report = verify(in_python=in_python, progress=progress)
        except KeyMissing as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Checked {report.events:,} events in {report.lanes} lanes and "
            f"{report.checkpoints} checkpoints in {report.seconds:.2f} s "
            f"({report.rate:,.0f} events per second)."
        )
        for problem in report.checkpoint_problems:
            self.stderr.write(problem)
        if report.problems:
            self.stderr.write(f"First bad event: {report.problems[0].message}")
            for problem in report.problems[1:]:
                self.stderr.write(f"Also: {problem.message}")
        if not report.ok:
            raise CommandError("The audit trail does not verify.", returncode=1)
        self.stdout.write("The audit trail verifies.")
