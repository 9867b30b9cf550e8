from datetime import timedelta

from django.utils import timezone

from protocol import services
from protocol.deadlines import case_deadlines, next_deadline
from protocol.models import DeadlineSetting
from tests.cases import register_child_case, take_to_monitoring


def test_high_risk_assessment_is_due_within_24_hours(worker):
    reported = timezone.now() - timedelta(hours=1)
    case = register_child_case(worker, risk="high", reported_at=reported)
    assert case.next_due == "assessment"
    assert case.next_due_at == reported + timedelta(hours=24)


def test_other_risk_assessment_is_due_within_72_hours(worker):
    reported = timezone.now() - timedelta(hours=1)
    case = register_child_case(worker, risk="low", reported_at=reported)
    assert case.next_due_at == reported + timedelta(hours=72)


def test_municipality_can_set_its_own_deadline(worker, municipality):
    DeadlineSetting.objects.create(
        municipality=municipality, key="assessment_other_hours", value=48
    )
    reported = timezone.now() - timedelta(hours=1)
    case = register_child_case(worker, risk="low", reported_at=reported)
    assert case.next_due_at == reported + timedelta(hours=48)


def test_late_assessment_is_overdue_and_listed(worker):
    case = register_child_case(worker, risk="high", reported_at=timezone.now() - timedelta(days=2))
    assert case.is_overdue
    assert next_deadline(case).is_overdue


def test_deadlines_follow_the_steps(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    keys = [deadline.key for deadline in case_deadlines(case)]
    assert keys == ["assessment", "conference", "plan", "review"]
    assert case.next_due == "review"
    assert case.next_due_at == case.plan_approved_at + timedelta(days=90)
    conference = case_deadlines(case)[1]
    assert conference.due_at == case.assessed_at + timedelta(days=3)
    assert conference.done_at == case.conference_at
    assert not conference.was_late


def test_review_moves_the_next_review(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    review = services.review_record(
        by=worker, case=case, version=case.version, findings="ok", risk_level="low"
    )
    case.refresh_from_db()
    assert case.next_due_at == review.held_at + timedelta(days=90)


def test_closed_case_has_nothing_due(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    services.closure_propose(
        by=worker, case=case, version=case.version, closure_reason="moved", explanation="x"
    )
    case.refresh_from_db()
    assert case.next_due_at is None
