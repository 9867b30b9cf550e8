import json
import os
import re
import subprocess
import sys
from io import StringIO
from itertools import pairwise
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import Client

from accounts.models import Institution, Municipality, RoleAssignment, User
from accounts.roles import Role

ROOT = Path(__file__).resolve().parents[2]

COLLECT_CLEAR_VALUES = """
import json
from django.apps import apps
from encryption.fields import EncryptedField
values = []
for model in apps.get_models():
    fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
    for row in model._default_manager.all() if fields else []:
        for field in fields:
            value = getattr(row, field.attname)
            if value not in (None, "", [], {}):
                values.append(value if isinstance(value, str) else json.dumps(value, default=str))
print(json.dumps(values))
"""


@pytest.fixture(autouse=True)
def accounts_file(tmp_path, monkeypatch):
    """Where seed_demo writes the accounts and codes in these tests: not the worktree's var/."""
    from config.management.commands import demo_accounts, seed_demo

    path = tmp_path / "demo-accounts.txt"
    monkeypatch.setattr(seed_demo, "ACCOUNTS_FILE", path)
    monkeypatch.setattr(demo_accounts, "ACCOUNTS_FILE", path)
    return path


def seed(settings) -> str:
    """What seed_demo says, then what demo_accounts prints (as `make demo` runs them)."""
    settings.DEBUG = True
    output = StringIO()
    call_command("seed_demo", stdout=output)
    call_command("demo_accounts", stdout=output)
    return output.getvalue()


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    seed(settings)
    counts = (User.objects.count(), Institution.objects.count(), RoleAssignment.objects.count())
    seed(settings)
    assert (
        User.objects.count(),
        Institution.objects.count(),
        RoleAssignment.objects.count(),
    ) == counts
    assert Municipality.objects.count() == 2
    for role in Role:
        holders = User.objects.filter(role_assignments__role=role)
        expected = {None} if role == Role.NATIONAL_STATISTICIAN else {"DR", "BR"}
        assert set(holders.values_list("municipality__code", flat=True)) == expected


@pytest.mark.django_db
def test_printed_demo_account_signs_in(settings):
    output = seed(settings)
    match = re.search(r"^(durres\.pmf)\s+(\S+)", output, re.MULTILINE)
    assert match, output
    username, backup_code = match.groups()
    password = re.search(r"Password for all: (\S+)$", output, re.MULTILINE).group(1)
    client = Client()
    client.post("/accounts/sign-in/", {"username": username, "password": password})
    assert client.post("/accounts/second-factor/", {"token": backup_code}).status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_printed_activation_link_lets_the_waiting_account_choose_a_password(settings):
    output = seed(settings)
    url = re.search(r"^http://\S+/accounts/activate/\?t=\S+$", output, re.MULTILINE).group(0)
    client = Client()
    assert client.get(url.removeprefix("http://127.0.0.1:8000"))["Location"] == (
        "/accounts/activate/"
    )
    response = client.post(
        "/accounts/activate/",
        {"new_password": "a long demo passphrase", "new_password_again": "a long demo passphrase"},
    )
    assert response["Location"] == "/accounts/second-factor/enrol/"
    assert User.objects.get(username="durres.pmf3").check_password("a long demo passphrase")


@pytest.mark.django_db
def test_seed_demo_refuses_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(Exception, match="debug only"):
        call_command("seed_demo", stdout=StringIO())


def test_seeded_database_file_holds_no_clear_value_of_an_encrypted_field(tmp_path):
    database = tmp_path / "demo.sqlite3"
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
    }

    def manage(*arguments):
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout

    manage("migrate", "--no-input")
    manage("seed_demo", "--accounts-file", str(tmp_path / "demo-accounts.txt"))
    clear_values = json.loads(manage("shell", "-c", COLLECT_CLEAR_VALUES).strip().splitlines()[-1])
    # Authenticator keys of the accounts, and the people, narratives and minutes of the cases.
    assert len(clear_values) >= 15
    stored = b"".join(
        path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("demo.sqlite3")
    )
    # Values shorter than six bytes turn up by chance in any few megabytes of
    # ciphertext; names are checked whole (first and last name, with the address).
    checked = [value for value in clear_values if len(value.encode("utf-8")) >= 6]
    assert len(checked) >= 100
    found = [value for value in checked if value.encode("utf-8") in stored]
    assert found == []


@pytest.mark.django_db
def test_seed_demo_makes_cases_in_every_stage_with_overdue_work_and_expiring_orders(settings):
    from django.utils import timezone

    from dv_cases.models import ProtectionOrder
    from dv_cases.selectors import order_status
    from protocol.models import Case, Stage

    seed(settings)
    for municipality in Municipality.objects.all():
        cases = Case.objects.filter(municipality=municipality)
        assert cases.count() == 40
        assert set(cases.values_list("stage", flat=True)) == set(Stage.values)
        assert set(cases.values_list("kind", flat=True)) == {"child", "dv"}
        assert cases.filter(next_due_at__lt=timezone.now()).exists()
    statuses = [order_status(order) for order in ProtectionOrder.objects.all()]
    assert any(status.expires_soon for status in statuses)
    assert any(status.is_overdue_decision for status in statuses)
    from protocol.models import Referral, ReferralState

    shown = {referral.shown_state for referral in Referral.objects.all()}
    assert shown == set(ReferralState.values) - {ReferralState.REVOKED}
    seed(settings)
    assert Case.objects.count() == 80
    assert Referral.objects.count() == 24


@pytest.mark.django_db
def test_demo_has_a_role_waiting_that_the_second_durres_administrator_approves(settings):
    from accounts import services

    output = seed(settings)
    pmf2 = User.objects.get(username="durres.pmf2")
    admin, admin2 = (User.objects.get(username=f"durres.{name}") for name in ("admin", "admin2"))
    assert "(waiting for approval)" in output
    assert pmf2.roles == set()
    assert pmf2.pending_roles == {Role.CHILD_PROTECTION_WORKER}
    assert RoleAssignment.objects.get(user=pmf2).assigned_by == admin
    assert admin2.notifications.exists()
    services.role_requests_approve(by=admin2, account=pmf2, version=pmf2.version)
    assert User.objects.get(pk=pmf2.pk).roles == {Role.CHILD_PROTECTION_WORKER}
    seed(settings)  # a second run leaves the approval as it was
    assert User.objects.get(pk=pmf2.pk).roles == {Role.CHILD_PROTECTION_WORKER}


@pytest.mark.django_db
def test_seed_demo_has_the_director_approve_the_coordinators_work(settings):
    from protocol import access
    from protocol.models import Case, Plan, Stage, StageTransition

    seed(settings)
    for slug in ("durres", "berat"):
        director = User.objects.get(username=f"{slug}.drejtori")
        coordinator = User.objects.get(username=f"{slug}.koordinatori")
        assert director.roles == {Role.HEAD_OF_SOCIAL_SERVICES}
        dv_cases = Case.objects.filter(municipality=director.municipality, kind="dv")
        assert dv_cases.filter(owner=coordinator).count() == dv_cases.count()
        # Approved plans and closures of the coordinator's cases: by the director.
        assert {plan.approved_by for plan in Plan.objects.filter(case__in=dv_cases)} - {None} == {
            director
        }
        approvals = StageTransition.objects.filter(
            case__in=dv_cases, action__in=["approve_plan", "approve_closure"]
        )
        actions = set(approvals.values_list("action", flat=True))
        assert actions == {"approve_plan", "approve_closure"}
        assert set(approvals.values_list("by", flat=True)) == {director.pk}
        # What awaits: the coordinator is not offered the approval, the director is.
        for stage in (Stage.PLAN_DRAFTED, Stage.CLOSURE_PROPOSED):
            waiting = dv_cases.get(stage=stage)
            assert not access.may_approve(coordinator, waiting)
            assert access.may_approve(director, waiting)
    # Nobody in the demo approved their own work.
    assert not StageTransition.objects.filter(
        action__in=["approve_plan", "approve_closure"], by=F("case__owner")
    ).exists()


@pytest.mark.django_db
def test_demo_accounts_are_printed_last_with_every_role_and_the_count_of_codes(
    settings, accounts_file
):
    output = seed(settings)
    table = output[output.index("Demo accounts. Password for all:") :]
    assert "Each account has 10 backup codes; 3 are shown here." in table
    for user in User.objects.exclude(username="durres.pmf3"):
        row = re.search(rf"^{re.escape(user.username)}\s+((?:\S{{5}}-\S{{5}} ?){{3}})", table, re.M)
        assert row, user.username
    assert accounts_file.stat().st_mode & 0o077 == 0
    # What seed_demo itself says is short: where the table is.
    said = output[: output.index("Demo accounts. Password for all:")]
    assert "backup codes (each works once)" not in said
    assert str(accounts_file) in said


def test_demo_accounts_refuses_outside_debug_and_without_a_seed(settings, accounts_file):
    settings.DEBUG = True
    with pytest.raises(Exception, match=r"run `manage\.py seed_demo` first"):
        call_command("demo_accounts", stdout=StringIO())
    accounts_file.write_text("codes")
    settings.DEBUG = False
    with pytest.raises(Exception, match="debug only"):
        call_command("demo_accounts", stdout=StringIO())


@pytest.mark.django_db
def test_demo_files_vary_as_real_ones_do(settings):
    from collections import Counter

    from django.db.models import Count, Q
    from django.utils import timezone

    from dv_cases.models import Incident
    from protocol.models import Case, Referral

    seed(settings)
    assert len(set(Referral.objects.values_list("reason", flat=True))) >= 8
    assert len({case.summary for case in Case.objects.all()}) >= 15
    assert len({incident.narrative for incident in Incident.objects.all()}) >= 5
    for municipality in Municipality.objects.all():
        months = Counter(
            timezone.localtime(case.reported_at).strftime("%Y-%m")
            for case in Case.objects.filter(municipality=municipality)
        )
        counts = [months[month] for month in sorted(months)]
        # The number of new cases a month rises and falls, by several cases.
        assert max(counts) - min(counts) >= 4, counts
        rises = [later > earlier for earlier, later in pairwise(counts)]
        assert True in rises, counts
        assert False in rises, counts
    several = Case.objects.annotate(
        children=Count("people", filter=Q(people__role="child"))
    ).filter(children__gte=2)
    assert several.filter(municipality__code="DR").exists()
    family = several.first()
    children = family.people.filter(role="child")
    assert len({child.last_name for child in children}) == 1
    assert len({child.address for child in children}) == 1


@pytest.mark.django_db
def test_demo_tells_returned_plans_a_reopened_case_and_a_victim_who_moved(settings):
    from protocol.models import Case, Person, Plan, Referral, Stage, StageTransition

    seed(settings)
    for municipality in Municipality.objects.all():
        returned = StageTransition.objects.filter(
            case__municipality=municipality, action="return_plan"
        )
        assert returned.count() == 2
        for transition in returned:
            assert transition.reason
            assert transition.by != transition.case.owner
            # Then changed and submitted again.
            assert StageTransition.objects.filter(
                case=transition.case, action="submit_plan", at__gt=transition.at
            ).exists()
        waiting = Case.objects.get(pk=returned.get(case__kind="child").case_id)
        assert waiting.stage == Stage.PLAN_DRAFTED
        approved = Plan.objects.get(case_id=returned.get(case__kind="dv").case_id)
        assert approved.case.stage == Stage.MONITORING
        # Approved by the director, a second supervisor, not the coordinator in charge.
        assert approved.approved_by.username.endswith(".drejtori")
        assert approved.approved_by != approved.case.owner
        plans = Plan.objects.filter(case__municipality=municipality, approved_by__isnull=False)
        assert plans.exclude(approved_by=F("case__owner")).count() == plans.count()
        # A closed case reopened by a supervisor with a reason, back to a new assessment.
        reopening = StageTransition.objects.get(case__municipality=municipality, action="reopen")
        assert reopening.reason
        assert reopening.from_stage == Stage.CLOSED
        assert reopening.case.stage == Stage.REGISTERED
        assert reopening.case.next_due in ("assessment", "risk_assessment")
        # A victim who moved: two addresses in her history, the police referral open.
        # (The address is encrypted: found by reading, not by a query.)
        victim = next(
            person
            for person in Person.objects.filter(case__municipality=municipality, role="victim")
            if (person.address or "").startswith("Rruga e Kavajës, pallati 14")
        )
        addresses = {row.address for row in victim.history.all()}
        assert len(addresses) == 2
        assert Referral.objects.filter(
            case=victim.case,
            institution__kind="police",
            state__in=["new", "accepted", "in_progress"],
        ).exists()
        # Meetings of the coming days, their invited institutions told.
        from accounts.models import Notification
        from protocol.models import Meeting

        meetings = Meeting.objects.filter(municipality=municipality)
        assert sorted(meetings.values_list("kind", flat=True)) == ["etn", "gtn"]
        police = municipality.staff.get(username__endswith=".policia")
        assert Notification.objects.filter(user=police, kind="meeting_invited").count() == 2
