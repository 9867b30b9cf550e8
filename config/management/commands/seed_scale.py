import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.signing import KeyMissing, signer
from config.scale import MUNICIPALITIES, Country, Size


class ProgressBar:
    """One line per stage, redrawn in place on a terminal, every 10% otherwise.

    `stream` is the command's OutputWrapper: `ending=""` keeps it from ending a
    redrawn line."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.stage = None
        self.started = 0.0
        self.shown = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            if self.stage is not None and self.tty:
                self.stream.write("\n", ending="")
            self.stage, self.started, self.shown = stage, time.perf_counter(), -1
        share = min(1.0, done / total) if total else 1.0
        tenth = int(share * 10)
        if not self.tty and tenth == self.shown:
            return
        self.shown = tenth
        seconds = time.perf_counter() - self.started
        rate = done / seconds if seconds else 0.0
        left = (total - done) / rate if rate else 0.0
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = (
            f"{stage:<13} [{bar}] {share:6.1%} {done:>11,}/{total:,} "
            f"{rate:>9,.0f}/s  {seconds:5.0f} s, about {left:4.0f} s left"
        )
        self.stream.write(("\r" if self.tty else "") + line + ("" if self.tty else "\n"), ending="")
        self.stream.flush()

    def close(self) -> None:
        if self.stage is not None and self.tty:
            self.stream.write("\n", ending="")


class Command(BaseCommand):
    help = (
        "Fill the database with a national-sized invented dataset for benchmarks and load "
        "tests: the 61 municipalities, their institutions and about 2,000 staff, --cases cases "
        "over --years years in every stage with their people, referrals and orders, and about "
        "--events-per-case audit events per case, chained and signed. Bulk inserts; on "
        "PostgreSQL the events go in with COPY. Debug only: it writes invented cases and audit "
        "events that can never be deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        # A little over 100, so that 100,000 cases make at least 10 million events.
        parser.add_argument("--events-per-case", type=int, default=105)
        parser.add_argument("--years", type=int, default=10)
        parser.add_argument(
            "--municipalities", type=int, default=len(MUNICIPALITIES), help="the N largest"
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_scale writes invented data: debug only (DJANGO_DEBUG=1).")
        if not 1 <= options["municipalities"] <= len(MUNICIPALITIES):
            raise CommandError(f"--municipalities must be between 1 and {len(MUNICIPALITIES)}.")
        if options["cases"] < options["municipalities"] or options["events_per_case"] < 0:
            raise CommandError("--cases must be at least one per municipality.")
        try:
            key = signer()
        except KeyMissing as error:
            raise CommandError(f"{error} (run audit_keygen first)") from error
        size = Size(
            cases=options["cases"],
            events_per_case=options["events_per_case"],
            years=options["years"],
            seed=options["seed"],
            municipalities=options["municipalities"],
        )
        bar = ProgressBar(self.stderr)
        try:
            counts = Country(size, progress=bar, signer=key).seed()
        finally:
            bar.close()
        if connection.vendor == "postgresql":
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            counts["analyze_seconds"] = round(time.perf_counter() - started)
        for name, value in counts.items():
            self.stdout.write(f"{name:<16} {value:>12,}")
