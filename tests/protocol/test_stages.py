from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from protocol import services
from protocol.models import Stage, StageTransition
from protocol.stages import TransitionNotAllowed
from tests.cases import register_child_case, take_to_monitoring


def test_registration_starts_in_identification_with_a_case_number(worker):
    case = register_child_case(worker)
    assert case.stage == Stage.REGISTERED
    year = timezone.localdate().year
    assert case.number == f"DR-{year}-0001"
    assert register_child_case(worker, person=None, duplicate_override_reason="vëlla").number == (
        f"DR-{year}-0002"
    )
    assert StageTransition.objects.filter(case=case, to_stage=Stage.REGISTERED).count() == 1


def test_registration_refused_to_roles_that_do_not_register(municipal_admin):
    with pytest.raises(PermissionDenied):
        register_child_case(municipal_admin)


def test_whole_path_to_closure(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    assert case.stage == Stage.MONITORING
    assert case.plan.approved_by == head

    services.review_record(
        by=worker, case=case, version=case.version, findings="Mirë.", risk_level="low"
    )
    case.refresh_from_db()
    assert case.stage == Stage.MONITORING
    assert case.risk_level == "low"

    services.closure_propose(
        by=worker,
        case=case,
        version=case.version,
        closure_reason="no_longer_at_risk",
        explanation="Familja e qëndrueshme.",
    )
    case.refresh_from_db()
    assert case.stage == Stage.CLOSURE_PROPOSED
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    assert case.closed_at is not None
    actions = list(case.transitions.values_list("action", flat=True))
    assert actions == [
        "register",
        "assess",
        "hold_conference",
        "submit_plan",
        "approve_plan",
        "review",
        "propose_closure",
        "approve_closure",
    ]


def test_no_plan_before_assessment_and_conference(worker):
    case = register_child_case(worker)
    with pytest.raises(TransitionNotAllowed):
        services.plan_save(
            by=worker, case=case, version=case.version, goals="x", drafted_with_family=False
        )
    with pytest.raises(TransitionNotAllowed):
        services.conference_record(
            by=worker,
            case=case,
            version=case.version,
            held_at=timezone.now(),
            institutions=[],
            people_present="",
            minutes="m",
            decisions="d",
        )


def test_plan_without_actions_cannot_be_submitted(worker, head):
    case = register_child_case(worker)
    now = timezone.now()
    services.assessment_record(
        by=worker,
        case=case,
        version=case.version,
        risk_level="low",
        findings="f",
        home_visit=False,
        assessed_at=now - timedelta(hours=1),
    )
    case.refresh_from_db()
    services.conference_record(
        by=worker,
        case=case,
        version=case.version,
        held_at=now,
        institutions=[],
        people_present="",
        minutes="m",
        decisions="d",
    )
    case.refresh_from_db()
    services.plan_save(
        by=worker, case=case, version=case.version, goals="g", drafted_with_family=False
    )
    case.refresh_from_db()
    with pytest.raises(TransitionNotAllowed, match="të paktën një veprim"):
        services.case_advance(by=worker, case=case, version=case.version, action="submit_plan")


def test_only_the_head_approves_the_plan_and_the_closure(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    services.closure_propose(
        by=worker, case=case, version=case.version, closure_reason="moved", explanation="U largua."
    )
    case.refresh_from_db()
    with pytest.raises(TransitionNotAllowed, match="Përgjegjësi"):
        services.case_advance(by=worker, case=case, version=case.version, action="approve_closure")
    case.refresh_from_db()
    assert case.stage == Stage.CLOSURE_PROPOSED


def test_closure_needs_a_reason(worker):
    case = register_child_case(worker)
    with pytest.raises(ValidationError):
        services.closure_propose(
            by=worker,
            case=case,
            version=case.version,
            closure_reason="no_longer_at_risk",
            explanation=" ",
        )
    with pytest.raises(ValidationError):
        services.closure_propose(
            by=worker, case=case, version=case.version, closure_reason="bored", explanation="x"
        )
    case.refresh_from_db()
    assert case.stage == Stage.REGISTERED


def test_refused_closure_returns_to_the_stage_before(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    services.closure_propose(
        by=worker, case=case, version=case.version, closure_reason="moved", explanation="x"
    )
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        services.case_advance(by=head, case=case, version=case.version, action="reject_closure")
    services.case_advance(
        by=head, case=case, version=case.version, action="reject_closure", reason="Ende në rrezik."
    )
    case.refresh_from_db()
    assert case.stage == Stage.MONITORING


def test_closed_case_cannot_be_changed(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    services.closure_propose(
        by=worker, case=case, version=case.version, closure_reason="moved", explanation="x"
    )
    case.refresh_from_db()
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")
    case.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        services.note_add(by=worker, case=case, text="x")


@pytest.mark.parametrize(
    ("action", "stage"),
    [
        ("approve_plan", Stage.REGISTERED),
        ("submit_plan", Stage.REGISTERED),
        ("approve_closure", Stage.REGISTERED),
        ("reject_closure", Stage.REGISTERED),
        ("return_plan", Stage.REGISTERED),
    ],
)
def test_actions_refused_at_the_wrong_stage(worker, head, action, stage):
    case = register_child_case(worker)
    with pytest.raises(TransitionNotAllowed):
        services.case_advance(by=head, case=case, version=case.version, action=action, reason="x")
    case.refresh_from_db()
    assert case.stage == stage


def test_second_save_with_an_old_version_is_refused(worker, head):
    case = register_child_case(worker)
    stale_version = case.version
    services.note_add(by=worker, case=case, text="x")  # notes do not move the version
    services.assessment_record(
        by=worker,
        case=case,
        version=stale_version,
        risk_level="low",
        findings="first",
        home_visit=False,
    )
    with pytest.raises(services.StaleEdit):
        services.assessment_record(
            by=head,
            case=case,
            version=stale_version,
            risk_level="high",
            findings="second",
            home_visit=False,
        )
    case.refresh_from_db()
    assert case.risk_level == "low"
    assert case.assessments.count() == 1
