"""The national-sized dataset and the benchmark, at a size a test can afford.

seed_scale writes rows in bulk, around the services: these tests check that
what it writes is what the services would have written (permissions,
deadlines, a verifiable audit trail) and that the benchmark's generic
alternative lists the same cases as protocol.access.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from audit.models import AuditEvent, Checkpoint
from audit.verify import verify
from config import bench
from protocol import access, deadlines
from protocol.models import (
    OPEN_REFERRAL_STATES,
    Case,
    Person,
    Plan,
    Referral,
    Stage,
    StageTransition,
)
from protocol.selectors import CaseFilters

# Transactional: the checkpoints reach their file only once their transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def country(settings, checkpoint_keys):
    settings.DEBUG = True
    output, progress = io.StringIO(), io.StringIO()
    call_command(
        "seed_scale",
        cases=120,
        events_per_case=6,
        municipalities=3,
        years=2,
        stdout=output,
        stderr=progress,
    )
    return output.getvalue(), progress.getvalue()


def test_seeds_cases_people_staff_and_a_verifiable_trail(country):
    output, progress = country
    assert Case.objects.count() == 120
    assert Person.objects.count() >= 3 * 120
    assert {row.split()[0] for row in output.splitlines()} >= {"cases", "people", "staff"}
    assert "cases" in progress
    assert "100.0%" in progress
    assert Case.objects.values("municipality").distinct().count() == 3
    assert set(Case.objects.values_list("stage", flat=True)) >= {Stage.CLOSED, Stage.MONITORING}
    # About six events a case, chained and signed month by month.
    assert 400 <= AuditEvent.objects.count() <= 1_100
    assert Checkpoint.objects.count() >= 24
    report = verify()
    assert report.ok, report.problems


def test_owners_supervisors_and_members_see_what_the_services_would_grant(country):
    for case in Case.objects.select_related("owner")[:40]:
        assert access.can_change_case(case.owner, case) == (case.stage != Stage.CLOSED)
        assert access.can_view_part(case.owner, case, access.Part.IDENTITY)
        supervisors = User.objects.filter(
            municipality_id=case.municipality_id,
            role_assignments__role__in=access.SUPERVISOR_ROLES[case.kind],
        )
        assert {
            supervisor.roles & access.SUPERVISOR_ROLES[case.kind] for supervisor in supervisors
        } == {frozenset({role}) for role in access.SUPERVISOR_ROLES[case.kind]}
        assert all(access.can_view_case(supervisor, case) for supervisor in supervisors)
    member = User.objects.filter(role_assignments__role=Role.CCR_MEMBER).exclude(
        institution__referrals=None
    )[0]
    referred = set(
        Referral.objects.filter(
            institution_id=member.institution_id,
            state__in=OPEN_REFERRAL_STATES,
            expires_at__gt=timezone.now(),
        ).values_list("case_id", flat=True)
    )
    assert set(access.visible_cases(member).values_list("pk", flat=True)) == referred


def test_nobody_approved_their_own_plan_or_closure(country):
    approvals = StageTransition.objects.filter(action__in=["approve_plan", "approve_closure"])
    assert approvals.exists()
    assert not approvals.filter(by=F("case__owner")).exists()
    assert not Plan.objects.filter(approved_by=F("case__owner")).exists()
    assert Plan.objects.filter(approved_by__isnull=False).exists()


def test_next_deadlines_are_the_protocols(country):
    with deadlines.settings_read_once():
        for case in Case.objects.all()[:60]:
            due = deadlines.next_deadline(case)
            assert case.next_due_at == (due.due_at if due else None)


def test_bench_alternative_lists_the_same_cases_and_prints_every_row(country):
    people = bench.cast()
    bench.generic_permissions_filled()
    for user in (people.worker, people.coordinator, people.member):
        assert bench.generic_first_page(user) == bench.our_first_page(user)
    found = bench.our_first_page(people.coordinator, CaseFilters(query=people.name))
    assert found[0] >= 1

    output = io.StringIO()
    call_command("bench", runs=5, stdout=output)
    text = output.getvalue()
    for row in ("Case list page", "CCR inbox page", "Case page", "Name search", "Dashboard",
                "National report", "audit_verify", "Encrypt + decrypt",
                "Machine check at the start", "Machine check at the end"):  # fmt: skip
        assert row in text
    assert verify().ok  # the benchmark's own reads were audited, and still verify


def test_refuses_outside_debug(settings, checkpoint_keys):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="debug only"):
        call_command("seed_scale", cases=10, stdout=io.StringIO())
    with pytest.raises(CommandError, match="debug only"):
        call_command("bench", stdout=io.StringIO())
    assert not Case.objects.exists()
