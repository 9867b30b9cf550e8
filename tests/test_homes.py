"""Each role's home: what it shows, and that nothing of another role, nor a case the user may
not see, shows (config.homes, the selectors of each part)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import throttling
from accounts.models import ActivationLink
from accounts.roles import Role
from audit.models import Action, AuditEvent
from protocol.selectors import member_home, supervisor_queue
from protocol.services import emergency as emergency_services
from protocol.services import meetings as meeting_services
from protocol.services import transfers as transfer_services
from tests.cases import (
    child,
    propose_closure,
    refer,
    register_child_case,
    submit_plan,
    take_to_monitoring,
)
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db

WORKER_PART = "My cases by stage"
SUPERVISOR_PART = "Waiting for your decision"
MEMBER_PART = "New referrals to answer"
STATISTICIAN_PART = "National figures"
ADMINISTRATOR_PART = "Accounts waiting for you"
OFFICER_PART = "Review of access"
PARTS = (
    WORKER_PART,
    SUPERVISOR_PART,
    MEMBER_PART,
    STATISTICIAN_PART,
    ADMINISTRATOR_PART,
    OFFICER_PART,
)


def home_of(user) -> str:
    client = signed_in_client(user)
    client.cookies["django_language"] = "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def assert_parts(page: str, *expected: str) -> None:
    for part in PARTS:
        assert (part in page) == (part in expected), part


def listed_numbers() -> str:
    return " ".join(
        AuditEvent.objects.filter(action=Action.CASES_LISTED).values_list("detail", flat=True)
    )


@pytest.fixture
def director(municipality):
    return UserFactory(municipality=municipality, roles=[Role.HEAD_OF_SOCIAL_SERVICES])


# --- Supervisors ------------------------------------------------------------------------


def test_the_head_leads_with_the_plans_and_closures_she_may_decide(worker, head):
    plan = submit_plan(register_child_case(worker), worker)
    closure = propose_closure(
        register_child_case(worker, person=child("Besa", "Leka", "K20202002B")), worker
    )

    queue = supervisor_queue(head)
    assert [item.case for item in queue.plans] == [plan]
    assert [item.case for item in queue.closures] == [closure]
    assert queue.plans[0].since is not None

    page = home_of(head)
    assert_parts(page, SUPERVISOR_PART, WORKER_PART)
    assert page.index(SUPERVISOR_PART) < page.index(WORKER_PART)
    assert plan.number in page
    assert closure.number in page
    assert "waiting for" in page
    assert plan.number in listed_numbers()
    assert closure.number in listed_numbers()


def test_her_own_plan_waits_apart_and_goes_to_the_director(head, director):
    plan = submit_plan(register_child_case(head), head)

    queue = supervisor_queue(head)
    assert queue.plans == []
    assert [item.case for item in queue.own_plans] == [plan]
    assert [item.case for item in supervisor_queue(director).plans] == [plan]
    page = home_of(director)
    assert_parts(page, SUPERVISOR_PART)
    assert plan.number in page


def test_a_foreign_head_and_a_worker_see_no_queue(worker, head, foreign_head, other_worker):
    plan = submit_plan(register_child_case(worker), worker)

    assert supervisor_queue(foreign_head).plans == []
    assert plan.number not in home_of(foreign_head)
    page = home_of(other_worker)
    assert_parts(page, WORKER_PART)
    assert plan.number not in page


def test_transfers_and_emergency_accesses_wait_with_their_age(
    worker, head, foreign_head, municipality, other_municipality
):
    sent = register_child_case(foreign_head)
    transfer_services.transfer_request(
        by=foreign_head,
        case=sent,
        version=sent.version,
        to_municipality=municipality,
        reason="Familja u zhvendos.",
    )
    mine = register_child_case(worker)
    emergency_services.emergency_access_open(
        by=foreign_head, case_number=mine.number, justification="Fëmija u gjet natën në Berat."
    )

    queue = supervisor_queue(head)
    assert [transfer.case for transfer in queue.transfers] == [sent]
    assert [grant.case for grant in queue.emergency_accesses] == [mine]
    page = home_of(head)
    # The transfer is not hers until she accepts it: its kind and municipality, no number.
    assert sent.number not in page
    assert "/cases/transfers/" in page
    assert mine.number in page
    assert "still open" in page
    # The emergency access is not the worker's to see on her home.
    assert "Emergency accesses to your cases" not in home_of(worker)


# --- Workers ----------------------------------------------------------------------------


def test_the_worker_keeps_her_dashboard_and_hears_of_the_approval(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)

    page = home_of(worker)
    assert_parts(page, WORKER_PART)
    assert case.number in page
    assert "the plan was approved" in page


# --- Members of the referral mechanism --------------------------------------------------


def test_a_member_sees_new_referrals_expiring_access_and_meetings(worker, officer, municipality):
    case = register_child_case(worker)
    referral = refer(worker, case, officer.institution)
    meeting = meeting_services.meeting_convene(
        by=worker,
        kind="gtn",
        scheduled_at=timezone.now() + timedelta(days=2),
        invited=[officer.institution],
        cases=[case],
    )

    home = member_home(officer)
    assert home.to_answer == [referral]
    assert home.overdue == []
    assert home.meetings == [meeting]
    page = home_of(officer)
    assert_parts(page, MEMBER_PART)
    assert case.number in page
    assert meeting.get_absolute_url() in page
    assert "Arta" not in page
    assert case.number in listed_numbers()


def test_an_overdue_answer_and_an_ending_access_are_flagged(worker, officer):
    case = register_child_case(worker)
    referral = refer(worker, case, officer.institution)
    type(referral).objects.filter(pk=referral.pk).update(
        due_date=timezone.localdate() - timedelta(days=1),
        expires_at=timezone.now() + timedelta(days=1),
    )

    home = member_home(officer)
    assert home.overdue == [referral]
    assert home.to_answer == []
    assert home.expiring == [referral]
    assert "answer was due on" in home_of(officer)


def test_another_institution_sees_none_of_it(worker, officer, municipality):
    school = InstitutionFactory(municipality=municipality, kind="education")
    teacher = UserFactory(municipality=municipality, institution=school, roles=[Role.CCR_MEMBER])
    case = register_child_case(worker)
    refer(worker, case, officer.institution)

    assert member_home(teacher).to_answer == []
    page = home_of(teacher)
    assert_parts(page, MEMBER_PART)
    assert case.number not in page


# --- The statistician, the administrator, the officer -----------------------------------


def test_the_statistician_sees_this_year_against_last_with_links(worker, head):
    for number in range(6):
        register_child_case(worker, person=child("Emri", f"Mbiemri{number}", f"K3030300{number}C"))
    statistician = UserFactory(municipality=None, roles=[Role.NATIONAL_STATISTICIAN])

    page = home_of(statistician)
    assert_parts(page, STATISTICIAN_PART)
    year = timezone.localdate().year
    assert f"/reports/?year={year}" in page
    assert f"/reports/?year={year - 1}" in page
    assert "<strong>6</strong>" in page
    assert not AuditEvent.objects.filter(action=Action.CASES_LISTED).exists()


def test_the_statistician_sees_small_counts_hidden(worker):
    register_child_case(worker)
    statistician = UserFactory(municipality=None, roles=[Role.NATIONAL_STATISTICIAN])

    assert "<strong>&lt;5</strong>" in home_of(statistician)


def test_the_administrator_sees_accounts_awaiting_action(municipal_admin, municipality, worker):
    newcomer = UserFactory(municipality=municipality, username="i.ri")
    ActivationLink.objects.create(
        account=newcomer,
        purpose=ActivationLink.Purpose.NEW_ACCOUNT,
        token_digest="a" * 64,
        expires_at=timezone.now() + timedelta(days=3),
        sent_to=newcomer.email,
    )
    locked = UserFactory(municipality=municipality, username="e.bllokuar")
    throttling.SignInThrottle.objects.create(
        account=throttling.account_key(locked.username),
        client="x",
        failures=9,
        blocked_until=timezone.now() + timedelta(minutes=5),
    )
    case = register_child_case(worker)

    page = home_of(municipal_admin)
    assert_parts(page, ADMINISTRATOR_PART)
    assert f"/accounts/manage/{newcomer.pk}/" in page
    assert f"/accounts/manage/{locked.pk}/" in page
    assert case.number not in page
    assert not AuditEvent.objects.filter(action=Action.CASES_LISTED).exists()


def test_the_officer_sees_her_review_and_no_case(worker, municipality):
    officer = UserFactory(municipality=municipality, roles=[Role.GENDER_EQUALITY_OFFICER])
    case = register_child_case(worker)

    page = home_of(officer)
    assert_parts(page, OFFICER_PART)
    assert case.number not in page


def test_an_age_under_a_minute_is_just_now_not_zero_minutes():
    from django.utils import timezone, translation

    from protocol.templatetags.ages import waiting_age

    with translation.override("sq"):
        assert waiting_age(timezone.now()) == "pak çastesh"
        assert waiting_age(timezone.now() - timezone.timedelta(days=3)) == "3\xa0ditë"
