"""Submitting a plan or a closure tells the supervisors who may decide; the decision tells the
worker in charge; a meeting's invitation tells the invited institutions. Never a name."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Notification
from accounts.notifications import email_text
from accounts.roles import Role
from protocol import services
from protocol.services import meetings as meeting_services
from tests.cases import child, propose_closure, register_child_case, submit_plan, take_to_monitoring
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
CHILD_WORDS = ("Arta", "Hoxha", "K10101001A", "Dëshmorëve", "0691234567")


def kinds_of(user):
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def assert_no_personal_data():
    for notification in Notification.objects.all():
        subject, body = email_text(notification)
        text = " ".join(
            [notification.case_number, notification.target_url, notification.message, subject, body]
        )
        for word in CHILD_WORDS:
            assert word not in text


@pytest.fixture
def director(municipality):
    return UserFactory(municipality=municipality, roles=[Role.HEAD_OF_SOCIAL_SERVICES])


def test_a_submitted_plan_tells_the_supervisors_and_not_the_worker(worker, head, director):
    case = submit_plan(register_child_case(worker), worker)

    for supervisor in (head, director):
        assert kinds_of(supervisor) == [Kind.PLAN_SUBMITTED]
        notification = Notification.objects.get(user=supervisor)
        assert notification.case_number == case.number
        assert notification.target_url == case.get_absolute_url()
    assert kinds_of(worker) == []
    assert_no_personal_data()


def test_a_supervisor_who_submits_her_own_plan_is_not_asked_to_approve_it(head, director):
    submit_plan(register_child_case(head), head)

    assert kinds_of(head) == []
    assert kinds_of(director) == [Kind.PLAN_SUBMITTED]


def test_a_foreign_supervisor_hears_nothing(worker, head, foreign_head):
    submit_plan(register_child_case(worker), worker)

    assert kinds_of(foreign_head) == []


def test_approving_and_returning_the_plan_tell_the_worker(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    assert Kind.PLAN_APPROVED in kinds_of(worker)

    other = submit_plan(
        register_child_case(worker, person=child("Besa", "Leka", "K20202002B")), worker
    )
    services.case_advance(
        by=head, case=other, version=other.version, action="return_plan", reason="Shtoni afatet."
    )
    assert Kind.PLAN_RETURNED in kinds_of(worker)
    assert Notification.objects.filter(
        user=worker, kind=Kind.PLAN_RETURNED, case_number=other.number
    ).exists()
    assert case.number != other.number
    assert_no_personal_data()


def test_a_proposed_closure_tells_the_supervisors_and_its_decision_the_worker(worker, head):
    case = propose_closure(register_child_case(worker), worker)
    assert kinds_of(head) == [Kind.CLOSURE_PROPOSED]

    services.case_advance(
        by=head, case=case, version=case.version, action="reject_closure", reason="Jo ende."
    )
    assert kinds_of(worker) == [Kind.CLOSURE_REFUSED]

    case.refresh_from_db()
    case = propose_closure(case, worker)
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")
    assert sorted(kinds_of(worker)) == sorted([Kind.CLOSURE_REFUSED, Kind.CLOSURE_APPROVED])
    assert_no_personal_data()


def test_a_decision_settles_the_requests_the_other_supervisors_had_not_read(worker, head, director):
    case = submit_plan(register_child_case(worker), worker)
    assert Notification.objects.filter(
        user=director, kind=Kind.PLAN_SUBMITTED, read_at__isnull=True
    ).exists()

    services.case_advance(by=head, case=case, version=case.version, action="approve_plan")

    # Nothing asks the director any more for a decision the head took.
    assert not Notification.objects.filter(kind=Kind.PLAN_SUBMITTED, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=director, kind=Kind.PLAN_SUBMITTED).exists()


def test_a_reopening_tells_the_worker_in_charge_and_not_the_supervisor_who_reopened(worker, head):
    case = propose_closure(register_child_case(worker), worker)
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")
    case.refresh_from_db()
    Notification.objects.all().delete()

    services.case_reopen(
        by=head, case=case, version=case.version, reason="Shkolla njoftoi mungesa të reja."
    )

    assert kinds_of(worker) == [Kind.CASE_REOPENED]
    assert kinds_of(head) == []
    assert_no_personal_data()


def test_the_email_goes_only_once_the_decision_is_committed(
    worker, head, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit_plan(register_child_case(worker), worker)

    assert [message.to for message in mail.outbox] == [[head.email]]
    assert "Arta" not in mail.outbox[0].body


def test_an_invitation_tells_the_members_of_the_invited_institutions_only(worker, municipality):
    school = InstitutionFactory(municipality=municipality, kind="education")
    police = InstitutionFactory(municipality=municipality, kind="police")
    teacher = UserFactory(municipality=municipality, institution=school, roles=[Role.CCR_MEMBER])
    policeman = UserFactory(municipality=municipality, institution=police, roles=[Role.CCR_MEMBER])
    case = register_child_case(worker)

    meeting = meeting_services.meeting_convene(
        by=worker,
        kind="gtn",
        scheduled_at=timezone.now() + timedelta(days=2),
        invited=[school],
        cases=[case],
    )

    notification = Notification.objects.get(user=teacher)
    assert notification.kind == Kind.MEETING_INVITED
    assert notification.target_url == meeting.get_absolute_url()
    assert notification.case_number == ""
    assert kinds_of(policeman) == []
    assert_no_personal_data()
