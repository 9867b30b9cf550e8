"""The audit trail's benchmark (issue 5): prints figures, asserts nothing about speed.

Run it through `scripts/audit-bench`, which starts a throwaway PostgreSQL 15
cluster, seeds the demo and removes the cluster afterwards. It measures:

1. verification: the audit table is filled to `--events` events with valid
   hash chains (computed exactly as `services._append` does, by audit.bulk, loaded with
   COPY), a checkpoint is signed, and `verify()` checks everything, with the
   digests computed in SQL and, for comparison, in Python;
2. read throughput: GET /cases/<number>/ by a signed-in user, with 1 and with
   8 concurrent clients (separate processes, Django's test Client, no HTTP
   server), with auditing on and off (off: `_append` and `_flags_for` are
   replaced in the client processes only; there is no setting for it).

It writes invented events that can never be deleted (the table is
append-only), so it refuses to run outside debug.
"""

import contextlib
import logging
import multiprocessing
import os
import platform
import random
import statistics
import time
import traceback
import warnings
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from audit import bulk, chain, services
from audit.models import Action, AuditEvent, Flag
from audit.signing import KeyMissing, signer
from audit.verify import verify

HOST = "localhost"
# The page a case read goes to; `{}` is the case number.
CASE_URL = "/cases/{}/"
VERIFY_TARGET = 500_000
AUDIT_COST_TARGET = 0.10
SCALING_TARGET = 1.5

# (action, weight, about a case) of the invented history: mostly case reads.
HISTORY = (
    (Action.CASE_VIEWED, 60, True),
    (Action.PART_VIEWED, 10, True),
    (Action.CASES_LISTED, 12, False),
    (Action.CHANGED, 8, True),
    (Action.CREATED, 3, True),
    (Action.DOCUMENT_DOWNLOADED, 2, True),
    (Action.SIGNED_IN, 4, False),
    (Action.SIGNED_OUT, 1, False),
)
PARTS = ("identity", "risk", "plan", "incidents", "documents")


def _machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return [
        ("CPU", cpu),
        ("Cores (os.cpu_count)", str(os.cpu_count())),
        ("PostgreSQL", server),
        ("Python", platform.python_version()),
        ("Django", __import__("django").get_version()),
        ("Started (local time)", timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")),
        ("Load average (1 min)", f"{os.getloadavg()[0]:.2f} (other work on the machine)"),
    ]


# --- 1. Verification ---------------------------------------------------------


class History:
    """Invented but plausible events: real users and cases of the database."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.actors = list(
            get_user_model()
            .objects.filter(is_active=True)
            .values_list("id", "institution_id", "municipality_id")
        ) or [(1, None, 1)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, number, municipality_id FROM protocol_case")
            self.cases = [(chain.uuid_text(pk), number, m) for pk, number, m in cursor.fetchall()]
        if not self.cases:
            self.cases = [
                (chain.uuid_text(f"00000000-0000-4000-8000-{n:012d}"), f"DR-2025-{n:05d}", 1)
                for n in range(1, 101)
            ]
        self.kinds = [(action, about_case) for action, _, about_case in HISTORY]
        self.weights = [weight for _, weight, _ in HISTORY]
        self.page = chain.canonical_detail({"page": "protocol:case_detail"})

    def values(self, occurred_at) -> tuple:
        """An event's fields in bulk.VALUE_NAMES order, as `services.record` stores them."""
        rng = self.rng
        action, about_case = rng.choices(self.kinds, self.weights)[0]
        user, institution, municipality = rng.choice(self.actors)
        ip = f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if not about_case:
            detail = ""
            if action == Action.CASES_LISTED:
                numbers = sorted({rng.choice(self.cases)[1] for _ in range(rng.randrange(1, 6))})
                detail = chain.canonical_detail(
                    {"page": "protocol:case_list", "cases": numbers, "count": len(numbers)}
                )
            object_type = "protocol.case" if detail else ""
            return (
                occurred_at, str(action), user, institution, municipality,
                municipality, object_type, "", None, "", "", ip, "", detail,
            )  # fmt: skip
        case_id, number, case_municipality = rng.choice(self.cases)
        part, detail = "", ""
        if action == Action.CASE_VIEWED:
            part = ",".join(rng.sample(PARTS, rng.randrange(1, len(PARTS) + 1)))
            detail = self.page
        elif action in (Action.PART_VIEWED, Action.DOCUMENT_DOWNLOADED):
            part = rng.choice(PARTS)
        elif action == Action.CHANGED:
            detail = chain.canonical_detail({"fields": sorted(rng.sample(PARTS, 2))})
        return (
            occurred_at, str(action), user, institution, municipality,
            case_municipality, "protocol.case", case_id, case_id, number, part, ip, "", detail,
        )  # fmt: skip


def fill(target: int, lanes: int, *, seed: int = 5, progress=None) -> tuple[int, int, float]:
    """Append invented events until the table holds `target`; (before, added, seconds).

    The lanes continue from their current heads (audit.bulk), each event hashed
    exactly as `services._append` hashes it. Events are spread over the lanes in
    turn, as concurrent writers spread them, so a lane's rows are scattered over
    the table as in real use. They are dated over the past year up to a day ago,
    out of every "recent events" window.
    """
    before = AuditEvent.objects.count()
    missing = target - before
    if missing <= 0:
        return before, 0, 0.0
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - invented data, not a secret
    history = History(rng)
    end = timezone.now().replace(microsecond=0) - timedelta(days=1)
    span_us = 365 * 24 * 3600 * 1_000_000
    mean_gap = max(1, span_us // missing)

    def invented():
        moment = end - timedelta(microseconds=span_us)
        for _ in range(missing):
            moment += timedelta(microseconds=rng.randrange(1, 2 * mean_gap))
            yield history.values(moment)

    def reported(done):
        if progress is not None and done % 100_000 == 0:
            progress(done, missing)

    bulk.append_many(invented(), lanes=lanes, progress=reported)
    seconds = time.perf_counter() - started
    return before, missing, seconds


def _vacuum_analyze() -> float:
    """What autovacuum does after a bulk load: statistics and the visibility map."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_auditevent")
    return time.perf_counter() - started


# --- 2. Read throughput --------------------------------------------------------


def _get(client: Client, number: str) -> None:
    response = client.get(CASE_URL.format(number))
    if response.status_code != 200:
        raise RuntimeError(f"GET {CASE_URL.format(number)} answered {response.status_code}")


# --- CPU accounting: the machine may be shared ------------------------------------


def _ticks_to_seconds(ticks: int) -> float:
    return ticks / os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> tuple[float, float] | None:
    """(CPU seconds of the process, of its children it has waited for), if readable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    own = _ticks_to_seconds(int(fields[11]) + int(fields[12]))
    return own, _ticks_to_seconds(int(fields[13]) + int(fields[14]))


def _own_cpu() -> float:
    """This process's CPU and that of the children it has waited for (verify()'s workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy, all cores together (0 if unknown)."""
    try:
        with open("/proc/stat", encoding="ascii") as file:
            fields = [int(value) for value in file.readline().split()[1:9]]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return _ticks_to_seconds(user + nice + system + irq + softirq + steal)


class Cluster:
    """CPU used by the PostgreSQL cluster, when it runs on this machine and can be read."""

    def __init__(self):
        self.postmaster = None
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW data_directory")
                directory = cursor.fetchone()[0]
            with open(os.path.join(directory, "postmaster.pid"), encoding="ascii") as file:
                self.postmaster = int(file.readline())
        except Exception:
            self.postmaster = None

    def cpu(self) -> float | None:
        """The postmaster's CPU, its exited children's (parallel workers) and its live ones'."""
        if self.postmaster is None:
            return None
        total = _process_cpu(self.postmaster)
        if total is None:
            return None
        seconds = sum(total)
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii") as file:
                    fields = file.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.postmaster:
                seconds += _ticks_to_seconds(int(fields[11]) + int(fields[12]))
        return seconds


@dataclass
class Window:
    """CPU spent during a stretch of time: by us (this process, given clients, the
    database cluster) and by the rest of the machine."""

    cluster: Cluster
    started: float = 0.0
    busy: float = 0.0
    database: float | None = None
    own: float = 0.0
    own_process: float = 0.0

    def open(self) -> "Window":
        self.started = time.perf_counter()
        self.busy = machine_busy()
        self.database = self.cluster.cpu()
        self.own = _own_cpu()
        self.own_process = time.process_time()
        return self

    def close(self, clients_cpu: float = 0.0) -> dict:
        seconds = time.perf_counter() - self.started
        if clients_cpu:
            # The clients report their own CPU; as waited-for children they would count twice.
            own = time.process_time() - self.own_process + clients_cpu
        else:
            own = _own_cpu() - self.own

        busy = machine_busy() - self.busy
        after = self.cluster.cpu()
        database = None if self.database is None or after is None else after - self.database
        foreign = None
        if database is not None and busy:
            foreign = max(0.0, (busy - own - database) / seconds)
        return {"seconds": seconds, "own": own, "database": database, "foreign": foreign}


# --- 2. Read throughput (continued) ------------------------------------------------


@dataclass
class Outcome:
    count: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # of the client process while it read
    error: str | None = None


def _reader(index, cookie, numbers, audit_on, seconds, barrier, results):
    """One client process: warm up, wait for the others, read case pages for `seconds`."""
    try:
        with contextlib.nullcontext() if audit_on else bulk.auditing_off():
            client = Client(HTTP_HOST=HOST)
            client.cookies[settings.SESSION_COOKIE_NAME] = cookie
            start = (index * 7) % len(numbers)
            order = numbers[start:] + numbers[:start]
            for number in order[:5]:
                _get(client, number)
            barrier.wait(timeout=300)
            count = 0
            cpu = time.process_time()
            began = time.perf_counter()
            deadline = began + seconds
            while True:
                _get(client, order[count % len(order)])
                count += 1
                if time.perf_counter() >= deadline:
                    break
            results.put(Outcome(count, time.perf_counter() - began, time.process_time() - cpu))
    except BaseException:
        barrier.abort()
        results.put(Outcome(error=traceback.format_exc()))
    finally:
        connections.close_all()


@dataclass
class Run:
    rps: float  # requests per second, all clients together
    cpu_ms: float | None  # CPU per request: the client processes and the database cluster
    foreign: float | None  # cores' worth of CPU the rest of the machine used meanwhile


def run_clients(
    cookies, numbers, *, clients: int, audit_on: bool, seconds: float, cluster: Cluster
) -> Run:
    """Case pages read (200 responses only) by `clients` processes at once."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1)  # and this process, which measures the CPU
    results = context.Queue()
    connections.close_all()  # a forked child must not share the parent's socket
    processes = [
        context.Process(
            target=_reader,
            args=(index, cookies[index], numbers, audit_on, seconds, barrier, results),
        )
        for index in range(clients)
    ]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=300)
        window = Window(cluster).open()
        time.sleep(seconds)
    except Exception:
        window = None
    outcomes = [results.get(timeout=seconds + 600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    failures = [outcome.error for outcome in outcomes if outcome.error]
    if failures or window is None:
        raise CommandError("A client process failed:\n" + (failures or ["(no error)"])[0])
    spent = window.close(sum(outcome.cpu for outcome in outcomes))
    count = sum(outcome.count for outcome in outcomes)
    cpu_ms = None
    if spent["database"] is not None:
        cpu_ms = 1000 * (spent["own"] + spent["database"]) / count
    return Run(sum(o.count / o.seconds for o in outcomes), cpu_ms, spent["foreign"])


def sign_in(username: str, password: str) -> Client:
    """A client signed in with password and authenticator code, through the real pages."""
    from accounts.models import AuthenticatorDevice

    user = get_user_model().objects.get(username=username)
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = AuthenticatorDevice.create_for(user, confirmed=True)
    AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=-1)  # a code works once
    device.refresh_from_db()
    client = Client(HTTP_HOST=HOST)
    response = client.post("/accounts/sign-in/", {"username": username, "password": password})
    if response.status_code != 302:
        raise CommandError(f"Signing {username} in failed ({response.status_code}).")
    token = f"{device.totp().token():0{device.digits}d}"
    response = client.post("/accounts/second-factor/", {"token": token})
    if response.status_code != 302 or "second-factor" in response.get("Location", ""):
        raise CommandError(f"The second factor of {username} failed ({response.status_code}).")
    return client


def _counts() -> tuple[int, int]:
    return AuditEvent.objects.count(), Flag.objects.count()


def audit_work(client: Client, numbers, requests: int = 40) -> dict[str, float]:
    """Median milliseconds per case page in writing the event and in the flag checks."""
    timings: dict[str, list[float]] = {"_append": [], "_flags_for": []}
    originals = {name: getattr(services, name) for name in timings}

    def timed(name):
        def wrapper(*args):
            began = time.perf_counter()
            try:
                return originals[name](*args)
            finally:
                timings[name].append(1000 * (time.perf_counter() - began))

        return wrapper

    try:
        for name in timings:
            setattr(services, name, timed(name))
        for index in range(requests):
            _get(client, numbers[index % len(numbers)])
    finally:
        for name, original in originals.items():
            setattr(services, name, original)
    return {name: statistics.median(values) for name, values in timings.items() if values}


# --- The command -------------------------------------------------------------------


def _rate(value: float) -> str:
    return f"{value:,.0f}"


class Command(BaseCommand):
    help = (
        "Benchmark of the audit trail (issue 5) on a throwaway PostgreSQL database: fills "
        "the audit table, times audit_verify, and times case-page reads with 1 and 8 "
        "clients with auditing on and off. Writes invented events that cannot be deleted: "
        "debug only. Use scripts/audit-bench."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--verify-runs", type=int, default=3)
        parser.add_argument("--seconds", type=float, default=15.0, help="per configuration")
        parser.add_argument("--rounds", type=int, default=3, help="of the 4 configurations")
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--user", default="durres.kreu")
        parser.add_argument("--password", default="")
        parser.add_argument(
            "--max-foreign",
            type=float,
            default=0.25,
            help="cores' worth of other work on the machine above which a run is repeated",
        )
        parser.add_argument("--retries", type=int, default=2, help="of a disturbed run")
        parser.add_argument("--skip-verify", action="store_true")
        parser.add_argument("--skip-reads", action="store_true")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "audit_bench writes invented audit events that can never be deleted: "
                "debug only, on a throwaway database (scripts/audit-bench makes one)."
            )
        if connection.vendor != "postgresql":
            raise CommandError("audit_bench measures PostgreSQL; set DATABASE_URL.")
        # Measured as production runs: no query log, no template debugging.
        settings.DEBUG = False
        warnings.filterwarnings("ignore", message="No directory at")  # static files unbuilt
        rows: list[tuple[str, str, str, str]] = []
        self.stdout.write("Machine")
        for name, value in _machine():
            self.stdout.write(f"  {name:<22} {value}")
        self.stdout.write("")
        if not options["skip_verify"]:
            rows += self.verification(options)
        if not options["skip_reads"]:
            rows += self.reads(options)
        self.table(rows)
        self.stdout.write(f"Load average at the end (1 min): {os.getloadavg()[0]:.2f}")

    def say(self, text: str) -> None:
        self.stderr.write(text)

    def table(self, rows) -> None:
        headers = ("Measure", "Result", "Target", "Met")
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(4)]
        line = "  ".join("-" * width for width in widths)
        self.stdout.write(line)
        self.stdout.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        self.stdout.write(line)
        for row in rows:
            self.stdout.write(
                "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )
        self.stdout.write(line)

    def measured(self, label: str, options, attempt):
        """Run `attempt` until the rest of the machine stays under --max-foreign cores
        meanwhile (at most --retries more times); returns the least disturbed result."""
        best = None
        for tries in range(1 + max(0, options["retries"])):
            result, text, foreign = attempt()
            note = "" if foreign is None else f", other work on the machine {foreign:.2f} cores"
            disturbed = foreign is not None and foreign > options["max_foreign"]
            self.say(f"  {label}: {text}{note}{' (disturbed, again)' if disturbed else ''}")
            if best is None or (foreign or 0) < (best[1] or 0):
                best = (result, foreign)
            if not disturbed:
                break
            if tries < options["retries"]:
                time.sleep(10)
        return best

    # --- 1 ---

    def verification(self, options) -> list[tuple[str, str, str, str]]:
        lanes = services._lanes()
        cluster = Cluster()

        def progress(done, total):
            self.say(f"  filled {done:,} of {total:,}")

        self.say(f"Filling the audit table to {options['events']:,} events in {lanes} lanes...")
        before, added, seconds = fill(options["events"], lanes, progress=progress)
        vacuum = _vacuum_analyze()
        self.say("Signing a checkpoint...")
        try:
            key = signer()
        except KeyMissing as error:
            raise CommandError(str(error)) from error
        started = time.perf_counter()
        made = services.checkpoint_make(signer=key)
        checkpoint_seconds = time.perf_counter() - started

        class Verified(float):
            pass

        def verified(in_python):
            def attempt():
                window = Window(cluster).open()
                report = verify(in_python=in_python)
                spent = window.close()
                if not report.ok:
                    raise CommandError(f"verify() found problems: {report.problems[:3]}")
                result = Verified(report.rate)
                result.report, result.spent = report, spent
                return result, f"{_rate(report.rate)} events/s", spent["foreign"]

            return attempt

        runs = []
        for run in range(max(1, options["verify_runs"])):
            result, _ = self.measured(f"verify() run {run + 1}", options, verified(False))
            runs.append(result)
        python, _ = self.measured("verify(in_python=True)", options, verified(True))
        rate = statistics.median(runs)
        middle = sorted(runs)[len(runs) // 2]
        events = middle.report.events
        fill_text = (
            f"{added:,} added to {before:,} in {seconds:.1f} s ({_rate(added / seconds)}/s)"
            if added
            else f"none needed ({before:,} there)"
        )

        def cpu_note(result):
            spent = result.spent
            if spent["database"] is None:
                return ""
            return (
                f"; CPU per event: PostgreSQL {1e6 * spent['database'] / events:.1f} µs, "
                f"Python {1e6 * spent['own'] / events:.1f} µs"
            )

        return [
            ("Fill (Python chains + COPY)", fill_text, "", ""),
            ("VACUUM ANALYZE after fill", f"{vacuum:.1f} s", "", ""),
            (
                f"Checkpoint {made.number} (audit_checkpoint)",
                f"{made.events:,} events signed in {checkpoint_seconds:.1f} s",
                "",
                "",
            ),
            (
                f"verify(), digests in SQL (median of {len(runs)})",
                f"{_rate(rate)} events/s ({events:,} in {middle.report.seconds:.2f} s"
                f"{cpu_note(middle)})",
                f">= {_rate(VERIFY_TARGET)}/s",
                "yes" if rate >= VERIFY_TARGET else "NO",
            ),
            (
                "verify(in_python=True)",
                f"{_rate(python)} events/s ({python.report.events:,} in "
                f"{python.report.seconds:.2f} s{cpu_note(python)})",
                "(comparison)",
                "",
            ),
        ]

    # --- 2 ---

    def reads(self, options) -> list[tuple[str, str, str, str]]:
        from accounts.demo import DEMO_PASSWORD

        clients = options["clients"]
        seconds = options["seconds"]
        username = options["user"]
        self.say(f"Signing {clients} sessions of {username} in...")
        signed_in = [
            sign_in(username, options["password"] or DEMO_PASSWORD) for _ in range(clients)
        ]
        cookies = [client.cookies[settings.SESSION_COOKIE_NAME].value for client in signed_in]
        client = signed_in[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT number FROM protocol_case ORDER BY number")
            every = [number for (number,) in cursor.fetchall()]
        numbers = []
        request_log = logging.getLogger("django.request")
        level, request_log.level = request_log.level, logging.ERROR  # the 404s are expected
        for number in every:  # the cases this user may open: the view decides
            response = client.get(CASE_URL.format(number))
            if response.status_code == 200:
                numbers.append(number)
            elif response.status_code != 404:
                raise CommandError(f"GET {CASE_URL.format(number)}: {response.status_code}")
        request_log.setLevel(level)
        if not numbers:
            raise CommandError(f"{username} may open none of the {len(every)} cases.")
        events_before, flags_before = _counts()
        _get(client, numbers[0])
        events_after, flags_after = _counts()
        per_request = events_after - events_before
        self.say(
            f"{username} may open {len(numbers)} of {len(every)} cases; one case page "
            f"writes {per_request} audit events and {flags_after - flags_before} flags."
        )
        cluster = Cluster()
        configurations = [(n, on) for n in (1, clients) for on in (True, False)]
        runs: dict[tuple[int, bool], list[Run]] = {c: [] for c in configurations}
        for round_ in range(options["rounds"]):
            # On and off alternate, and the order flips every round.
            order = configurations if round_ % 2 == 0 else configurations[::-1]
            for n, on in order:

                def attempt(n=n, on=on):
                    run = run_clients(
                        cookies, numbers, clients=n, audit_on=on, seconds=seconds, cluster=cluster
                    )
                    text = f"{run.rps:,.1f} requests/s" + (
                        f", {run.cpu_ms:.1f} ms CPU each" if run.cpu_ms is not None else ""
                    )
                    return run, text, run.foreign

                label = f"round {round_ + 1}, {n} client(s), auditing {'on' if on else 'off'}"
                run, _ = self.measured(label, options, attempt)
                runs[(n, on)].append(run)
        median = {c: statistics.median(r.rps for r in values) for c, values in runs.items()}
        work = audit_work(client, numbers)
        user = get_user_model().objects.get(username=username)
        recent = AuditEvent.objects.filter(
            actor_id=user.pk,
            action=Action.CASE_VIEWED,
            occurred_at__gte=timezone.now()
            - timedelta(minutes=settings.MBROJTJE_AUDIT_MANY_CASES_MINUTES),
        ).count()
        rows = [
            (
                "Audit events written by one case page",
                f"{per_request} (flags: {flags_after - flags_before})",
                ">= 1 (auditing on)",
                "yes" if per_request >= 1 else "NO",
            )
        ]
        if work:
            rows.append(
                (
                    "Audit work per case page (1 client, afterwards)",
                    f"writing the event {work.get('_append', 0):.1f} ms, flag checks "
                    f"{work.get('_flags_for', 0):.1f} ms ({username} had opened cases "
                    f"{recent:,} times in the last "
                    f"{settings.MBROJTJE_AUDIT_MANY_CASES_MINUTES} minutes)",
                    "",
                    "",
                )
            )
        foreign = [r.foreign for values in runs.values() for r in values if r.foreign is not None]
        if foreign:
            rows.append(
                (
                    "Other work on the machine during the reads",
                    f"median {statistics.median(foreign):.2f}, at most {max(foreign):.2f} cores",
                    f"<= {options['max_foreign']} (else repeated)",
                    "",
                )
            )
        for n, on in configurations:
            rows.append(
                (
                    f"Case pages/s, {n} client{'s' if n > 1 else ''}, auditing "
                    f"{'on' if on else 'off'}",
                    f"{median[(n, on)]:,.1f} (runs: "
                    + ", ".join(f"{r.rps:,.1f}" for r in runs[(n, on)])
                    + ")",
                    "",
                    "",
                )
            )
        for n in (1, clients):
            off, on = median[(n, False)], median[(n, True)]
            cost = (off - on) / off
            rows.append(
                (
                    f"Audit cost at {n} client{'s' if n > 1 else ''} ((off-on)/off)",
                    f"{cost:.1%}",
                    f"< {AUDIT_COST_TARGET:.0%}",
                    "yes" if cost < AUDIT_COST_TARGET else "NO",
                )
            )
        for on in (True, False):
            ratio = median[(clients, on)] / median[(1, on)]
            rows.append(
                (
                    f"{clients} clients / 1 client, auditing {'on' if on else 'off'}",
                    f"{ratio:.2f}x",
                    f">= {SCALING_TARGET}x on {os.cpu_count()} cores",
                    "yes" if ratio >= SCALING_TARGET else "NO",
                )
            )
        if all(r.cpu_ms is not None for values in runs.values() for r in values):
            cpu = {c: statistics.median(r.cpu_ms for r in values) for c, values in runs.items()}
            for n, on in configurations:
                rows.append(
                    (
                        f"CPU per case page, {n} client{'s' if n > 1 else ''}, auditing "
                        f"{'on' if on else 'off'}",
                        f"{cpu[(n, on)]:.1f} ms (clients + PostgreSQL)",
                        "",
                        "",
                    )
                )
            for n in (1, clients):
                off, on = cpu[(n, False)], cpu[(n, True)]
                rows.append(
                    (
                        f"Audit cost in CPU at {n} client{'s' if n > 1 else ''} ((on-off)/on)",
                        f"{(on - off) / on:.1%}",
                        f"< {AUDIT_COST_TARGET:.0%}",
                        "yes" if (on - off) / on < AUDIT_COST_TARGET else "NO",
                    )
                )
        return rows
