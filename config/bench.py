"""The national-scale benchmark (`manage.py bench`): figures, never a verdict in a test.

Each row times one thing the way users meet it, and in the same run the
obvious alternative it is weighed against:

* the lists (a worker's cases, a CCR member's cases, the inbox) against
  django-guardian's `get_objects_for_user` over its generic object-permission
  tables, filled here with the same grants as the direct tables;
* the case page against the same page with auditing off;
* name search through the blind index against decrypting every visible name;
* field encryption against plain text.

Pages are requested through Django's test client (the whole view: middleware,
permission checks, queries, template, audit event), without an HTTP server;
the load test (`scripts/load-test`) measures the server. Timings are wall
clock, so the machine must be otherwise quiet: the table says how busy it was.
"""

import os
import platform
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import guardian.shortcuts
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from accounts.middleware import SlidingSessionMiddleware
from accounts.models import AuthenticatorDevice, User
from accounts.roles import Role
from audit.bulk import auditing_off
from audit.verify import verify
from encryption.fields import Binding, decrypt, encrypt
from protocol import access
from protocol.models import (
    OPEN_REFERRAL_STATES,
    Case,
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    Person,
    Referral,
    Stage,
)
from protocol.selectors import CaseFilters, cases_list, cases_page, referral_inbox
from reports.forms import LONGEST_RANGE_DAYS

PAGE = 25
HOST = "localhost"


@dataclass
class Timing:
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def timed(call: Callable[[], object], runs: int, warmup: int = 2) -> Timing:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return Timing(samples)


@dataclass
class Row:
    what: str
    ours: Timing | None
    alternative_name: str = ""
    alternative: Timing | None = None
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.alternative is None or not self.ours.median:
            return None
        return self.alternative.median / self.ours.median


# --- The people measured -----------------------------------------------------------


@dataclass
class Cast:
    worker: User
    coordinator: User
    member: User
    head: User
    statistician: User
    case: Case
    name: str


def _busiest(role: str, *, by: str) -> User:
    """The active holder of `role` with the most cases (by `by`), in the largest municipality."""
    users = User.objects.filter(is_active=True, role_assignments__role=role)
    if by == "owner":
        users = users.annotate(
            load=Count("owned_cases", filter=~Q(owned_cases__stage=Stage.CLOSED))
        )
    else:  # CCR members: the open referrals to their institution
        users = users.annotate(
            load=Count(
                "institution__referrals",
                filter=Q(
                    institution__referrals__state__in=OPEN_REFERRAL_STATES,
                    institution__referrals__expires_at__gt=timezone.now(),
                ),
            )
        )
    user = users.order_by("-load", "pk").first()
    if user is None:
        raise LookupError(f"No active account with the role {role}: run seed_scale first.")
    return user


def cast() -> Cast:
    worker = _busiest(Role.CHILD_PROTECTION_WORKER, by="owner")
    coordinator = _busiest(Role.DV_COORDINATOR, by="owner")
    head = (
        User.objects.filter(
            is_active=True,
            role_assignments__role=Role.HEAD_OF_CPU,
            municipality_id=worker.municipality_id,
        )
        .order_by("pk")
        .first()
    )
    statistician = (
        User.objects.filter(is_active=True, role_assignments__role=Role.NATIONAL_STATISTICIAN)
        .order_by("pk")
        .first()
    )
    if head is None or statistician is None:
        raise LookupError("No head of the unit or national statistician: run seed_scale first.")
    # A case of the worker's that has come far: a plan, referrals, a long timeline.
    case = (
        Case.objects.filter(owner=worker, stage=Stage.MONITORING)
        .annotate(referred=Count("referrals"))
        .order_by("-referred", "number")
        .first()
    ) or Case.objects.filter(owner=worker).order_by("number").first()
    person = Person.objects.filter(case__owner=coordinator).order_by("pk").first()
    name = f"{person.first_name} {person.last_name}" if person else "Ana Hoxha"
    return Cast(
        worker=worker,
        coordinator=coordinator,
        member=_busiest(Role.CCR_MEMBER, by="referrals"),
        head=head,
        statistician=statistician,
        case=case,
        name=name,
    )


def signed_in(user: User) -> Client:
    """A client signed in with a second factor, as after the real sign-in."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = AuthenticatorDevice.create_for(user, confirmed=True)
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    # The session's absolute lifetime counts from here, as after a real sign-in.
    session[SlidingSessionMiddleware.SIGNED_IN_KEY] = int(time.time())
    session.save()
    return client


def _get(client: Client, path: str) -> Callable[[], None]:
    def call():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")

    return call


# --- The alternatives ----------------------------------------------------------------


def generic_permissions_filled() -> int:
    """Copy the direct permission rows into guardian's generic tables, once; their count."""
    content_type = ContentType.objects.get_for_model(Case)
    wanted = CaseUserObjectPermission.objects.count() + CaseGroupObjectPermission.objects.count()
    have = (
        UserObjectPermission.objects.filter(content_type=content_type).count()
        + GroupObjectPermission.objects.filter(content_type=content_type).count()
    )
    if have == wanted:
        return have
    with transaction.atomic():
        UserObjectPermission.objects.filter(content_type=content_type).delete()
        GroupObjectPermission.objects.filter(content_type=content_type).delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO guardian_userobjectpermission "
                    "(permission_id, content_type_id, object_pk, user_id) "
                    "SELECT permission_id, %s, content_object_id::text, user_id "
                    "FROM protocol_caseuserobjectpermission",
                    [content_type.pk],
                )
                cursor.execute(
                    "INSERT INTO guardian_groupobjectpermission "
                    "(permission_id, content_type_id, object_pk, group_id) "
                    "SELECT permission_id, %s, content_object_id::text, group_id "
                    "FROM protocol_casegroupobjectpermission",
                    [content_type.pk],
                )
                cursor.execute(
                    "ANALYZE guardian_userobjectpermission, guardian_groupobjectpermission"
                )
        else:
            UserObjectPermission.objects.bulk_create(
                UserObjectPermission(
                    permission_id=row.permission_id,
                    content_type=content_type,
                    object_pk=str(row.content_object_id),
                    user_id=row.user_id,
                )
                for row in CaseUserObjectPermission.objects.iterator()
            )
            GroupObjectPermission.objects.bulk_create(
                GroupObjectPermission(
                    permission_id=row.permission_id,
                    content_type=content_type,
                    object_pk=str(row.content_object_id),
                    group_id=row.group_id,
                )
                for row in CaseGroupObjectPermission.objects.iterator()
            )
    return wanted


@contextmanager
def generic_permissions():
    """Within the block guardian uses its generic tables for cases, as a project without
    direct foreign-key permission models would."""
    user_model = guardian.shortcuts.get_user_obj_perms_model
    group_model = guardian.shortcuts.get_group_obj_perms_model
    guardian.shortcuts.get_user_obj_perms_model = lambda obj=None: UserObjectPermission
    guardian.shortcuts.get_group_obj_perms_model = lambda obj=None: GroupObjectPermission
    try:
        yield
    finally:
        guardian.shortcuts.get_user_obj_perms_model = user_model
        guardian.shortcuts.get_group_obj_perms_model = group_model


def generic_first_page(user: User) -> tuple[int, list[Case]]:
    """The case list's count and first page, deciding access the generic way."""
    with generic_permissions():
        cases = get_objects_for_user(user, "protocol.view_case", klass=Case)
    if user.has_role(Role.CCR_MEMBER):
        open_referrals = Referral.objects.filter(
            case=OuterRef("pk"),
            institution_id=user.institution_id,
            state__in=OPEN_REFERRAL_STATES,
            expires_at__gt=timezone.now(),
        )
        cases = cases.filter(Exists(open_referrals))
    return _first_page(cases.order_by("next_due_at", "-registered_at"))


def our_first_page(user: User, filters: CaseFilters | None = None) -> tuple[int, list[Case]]:
    """The same through protocol.access: what the case list view runs."""
    return _first_page(cases_list(user, filters or CaseFilters()))


def _first_page(cases) -> tuple[int, list[Case]]:
    # Both sides page the same way, the list view's: only the permissions differ.
    page = cases_page(cases, 1, PAGE)
    return page.paginator.count, list(page.object_list)


def search_by_decrypting(user: User, name: str) -> Callable[[], None]:
    """Name search without a blind index: decrypt every visible name and compare."""
    wanted = " ".join(name.lower().split())

    def call():
        people = Person.objects.filter(case__in=access.visible_cases(user)).only(
            "pk", "case_id", "first_name", "last_name"
        )
        found = {
            person.case_id
            for person in people.iterator(chunk_size=2_000)
            if f"{person.first_name} {person.last_name}".lower() == wanted
        }
        list(Case.objects.filter(pk__in=found).order_by("next_due_at")[:PAGE])

    return call


# --- The run --------------------------------------------------------------------------


def machine() -> list[tuple[str, str]]:
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in file if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    database = connection.vendor
    if database == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database += " " + cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            database += f", shared_buffers {cursor.fetchone()[0]}"
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("Database", database),
        ("Python / Django", f"{platform.python_version()} / {__import__('django').get_version()}"),
        ("Load average (1 min) at start", f"{os.getloadavg()[0]:.2f}"),
    ]


def volumes() -> list[tuple[str, str]]:
    from audit.models import AuditEvent

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
        else:
            size = "-"
    permissions = CaseUserObjectPermission.objects.count()
    permissions += CaseGroupObjectPermission.objects.count()
    return [
        ("Cases", f"{Case.objects.count():,}"),
        ("People", f"{Person.objects.count():,}"),
        ("Referrals", f"{Referral.objects.count():,}"),
        ("Staff accounts", f"{User.objects.count():,}"),
        ("Audit events", f"{AuditEvent.objects.count():,}"),
        ("Permission rows (direct)", f"{permissions:,}"),
        ("Database size", size),
    ]


def run(*, runs: int = 50, verify_runs: int = 1, out=print) -> list[Row]:
    if not settings.DEBUG:
        raise RuntimeError("bench signs users in and writes audit events: debug only.")
    people = cast()
    out("Preparing: guardian's generic tables ...")
    generic_rows = generic_permissions_filled()
    out(f"  {generic_rows:,} generic permission rows, the same grants as the direct tables.")
    rows: list[Row] = [_machine_check_row("start", runs)]
    slow = max(3, runs // 10)

    worker = signed_in(people.worker)
    member = signed_in(people.member)
    head = signed_in(people.head)
    coordinator = signed_in(people.coordinator)
    statistician = signed_in(people.statistician)
    out(f"Measuring, {runs} runs a row ...")

    rows.append(
        Row(
            f"Case list page, worker ({visible(people.worker):,} cases)",
            timed(_get(worker, "/cases/"), runs),
            target="p95 < 50 ms",
        )
    )
    rows.append(_against_generic("  its query: first page and count", people.worker, runs, slow))
    rows.append(
        Row(
            f"Case list page, DV coordinator ({visible(people.coordinator):,} cases)",
            timed(_get(coordinator, "/cases/"), runs),
            target="p95 < 50 ms",
        )
    )
    rows.append(
        _against_generic("  its query: first page and count", people.coordinator, runs, slow)
    )
    inbox_size = referral_inbox(people.member).count()
    rows.append(
        Row(
            f"CCR inbox page ({inbox_size:,} referrals)",
            timed(_get(member, "/cases/referrals/"), runs),
            target="p95 < 50 ms",
        )
    )
    rows.append(
        _against_generic(
            f"  member's cases query ({visible(people.member):,} open)", people.member, runs, slow
        )
    )
    case_page = _get(worker, f"/cases/{people.case.number}/")
    ours = timed(case_page, runs)
    with auditing_off():
        without = timed(case_page, runs)
    rows.append(
        Row(
            "Case page (owner)",
            ours,
            "auditing off",
            without,
            target="p95 < 30 ms",
            note="alternative is cheaper by design: the cost of auditing",
        )
    )
    search = CaseFilters(query=people.name)
    rows.append(
        Row(
            "Name search, blind index, DV coordinator",
            timed(lambda: our_first_page(people.coordinator, search), runs),
            "decrypt every visible name",
            timed(search_by_decrypting(people.coordinator, people.name), 3, warmup=1),
            target="< 20 ms",
        )
    )
    rows.append(
        Row(
            "  the search page",
            timed(_get(coordinator, "/cases/?q=" + people.name.replace(" ", "+")), runs),
        )
    )
    rows.append(
        Row(
            "Dashboard, head of the unit",
            timed(_get(head, "/"), runs),
            target="< 300 ms",
        )
    )
    rows.append(
        Row(
            "National report, this year",
            timed(_get(statistician, "/reports/"), slow),
            target="< 2 s",
        )
    )
    today = timezone.localdate()
    start = today - timedelta(days=LONGEST_RANGE_DAYS)
    rows.append(
        Row(
            f"National report, longest range ({start} - {today})",
            timed(
                _get(statistician, f"/reports/?date_from={start}&date_to={today}"),
                slow,
                warmup=1,
            ),
            target="< 2 s",
        )
    )
    rows.append(_verify_row(verify_runs))
    rows.append(_field_row(runs))
    rows.append(_machine_check_row("end", runs))
    return rows


def _machine_check_row(when: str, runs: int) -> Row:
    """The same pure-Python work at the start and the end of the run: on a shared virtual
    machine the speed of the cores drifts, and two different figures say the rows between
    them were measured on a machine that changed."""
    return Row(
        f"Machine check at the {when}: sum of 1,000,000 integers",
        timed(lambda: sum(range(1_000_000)), runs),
        note="no target; compare start and end",
    )


def _against_generic(what: str, user: User, runs: int, slow: int) -> Row:
    """The list's query through protocol.access beside guardian's generic tables."""
    return Row(
        what,
        timed(lambda: our_first_page(user), runs),
        "get_objects_for_user, generic",
        timed(lambda: generic_first_page(user), slow),
        target=">= 10x faster",
    )


def visible(user: User) -> int:
    return access.visible_cases(user).count()


def _verify_row(runs: int) -> Row:
    reports = []

    def check():
        report = verify()
        if not report.ok:
            raise RuntimeError("audit_verify failed on the benchmark database")
        reports.append(report)

    ours = timed(check, runs, warmup=0)
    events = reports[-1].events
    in_python = timed(lambda: verify(in_python=True), 1, warmup=0)
    rate = events / statistics.median(ours.samples)
    return Row(
        f"audit_verify, {events:,} events",
        ours,
        "digests in Python",
        in_python,
        target=">= 500,000 events/s",
        note=f"{rate:,.0f} events/s",
    )


def _field_row(runs: int) -> Row:
    """A name through the field's encryption and decryption, against plain text."""
    binding = Binding("protocol.person", "first_name", "00000000-0000-4000-8000-000000000000")
    names = [f"Emri{n}".encode() for n in range(1_000)]

    def sealed_and_opened():
        for name in names:
            decrypt(encrypt(name, binding), binding)

    def plain():
        for name in names:
            name.decode().encode()

    ours = timed(sealed_and_opened, runs)
    alternative = timed(plain, runs)
    per_value = ours.median * 1000 / len(names)
    return Row(
        "Encrypt + decrypt 1,000 names",
        ours,
        "plain text",
        alternative,
        note=f"{per_value:.1f} µs a name",
    )


def table(rows: list[Row]) -> list[str]:
    lines = [
        f"{'what':<52} {'median':>9} {'p95':>9}  {'alternative':<30} {'median':>9} "
        f"{'p95':>9} {'ratio':>7}  target / note",
    ]
    for row in rows:
        ours = f"{row.ours.median:9.1f} {row.ours.p95:9.1f}" if row.ours else " " * 19
        alternative = (
            f"{row.alternative_name:<30} {row.alternative.median:9.1f} {row.alternative.p95:9.1f}"
            if row.alternative
            else " " * 50
        )
        ratio = f"{row.ratio:6.1f}x" if row.ratio else " " * 7
        note = "; ".join(part for part in (row.target, row.note) if part)
        lines.append(f"{row.what:<52} {ours}  {alternative} {ratio}  {note}")
    return lines
