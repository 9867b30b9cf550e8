"""Reopening a closed case: a supervisor's act with a reason; the case keeps its number,
history and people, returns to the stage its municipality's ReopenSetting names (a
new initial assessment by default), and its deadlines count from the reopening."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.roles import Role
from protocol import access, services
from protocol.deadlines import case_deadlines
from protocol.models import ReopenSetting, RiskLevel, Stage
from protocol.stages import TransitionNotAllowed, available_actions, reopen_stage
from tests.cases import propose_closure, register_child_case, take_to_monitoring
from tests.conftest import signed_in_client
from tests.dv_cases.conftest import register_dv_case
from tests.factories import UserFactory

REASON = "Mësuesja raportoi sërish shenja dhune."


def closed_case(worker, head, *, reported_at=None):
    case = register_child_case(worker, reported_at=reported_at)
    case = propose_closure(take_to_monitoring(case, worker, head), worker)
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")
    case.refresh_from_db()
    return case


def reopen(by, case, reason=REASON):
    services.case_reopen(by=by, case=case, version=case.version, reason=reason)
    case.refresh_from_db()
    return case


def test_reopened_case_returns_to_a_new_assessment_with_its_number_people_and_history(worker, head):
    case = closed_case(worker, head, reported_at=timezone.now() - timedelta(days=200))
    number, people = case.number, set(case.people.values_list("pk", flat=True))
    before = timezone.now()

    case = reopen(head, case)

    assert case.stage == Stage.REGISTERED
    assert case.number == number
    assert set(case.people.values_list("pk", flat=True)) == people
    assert case.closed_at is None
    assert case.closure_reason == ""
    assert case.reopened_at >= before
    # The earlier steps stay in the history; their dates on the case are cleared.
    assert case.assessments.count() == 1
    assert case.conferences.count() == 1
    assert case.assessed_at is None
    assert case.conference_at is None
    assert case.plan_approved_at is None
    assert case.plan.approved_at is None
    transition = case.transitions.order_by("-at").first()
    assert (transition.action, transition.from_stage, transition.to_stage, transition.by) == (
        "reopen",
        Stage.CLOSED,
        Stage.REGISTERED,
        head,
    )
    assert transition.reason == REASON


def test_the_assessment_clock_restarts_at_the_reopening(worker, head):
    case = closed_case(worker, head, reported_at=timezone.now() - timedelta(days=200))
    case = reopen(head, case)

    assessment = case_deadlines(case)[0]
    # Medium risk at the report: 72 hours (the default), from the reopening.
    assert assessment.due_at == case.reopened_at + timedelta(hours=72)
    assert assessment.done_at is None
    assert not assessment.is_overdue
    assert case.next_due == "assessment"
    assert case.next_due_at == case.reopened_at + timedelta(hours=72)


def test_after_the_reopening_the_protocol_runs_again(worker, head):
    case = reopen(head, closed_case(worker, head))
    with pytest.raises(ValidationError) as refused:
        services.assessment_record(
            by=worker,
            case=case,
            version=case.version,
            risk_level=RiskLevel.HIGH,
            findings="Para rihapjes.",
            home_visit=False,
            assessed_at=case.reopened_at - timedelta(hours=1),
        )
    assert case.number in str(refused.value)

    services.assessment_record(
        by=worker,
        case=case,
        version=case.version,
        risk_level=RiskLevel.HIGH,
        findings="Vizitë pas rihapjes.",
        home_visit=True,
    )
    case.refresh_from_db()
    assert case.stage == Stage.ASSESSED
    conference = case_deadlines(case)[1]
    assert conference.key == "conference"
    assert conference.due_at == case.assessed_at + timedelta(days=3)


def test_the_worker_in_charge_keeps_access_and_only_supervisors_reopen(
    worker, head, other_worker, foreign_head
):
    case = closed_case(worker, head)
    for user in (worker, other_worker, foreign_head):
        with pytest.raises(TransitionNotAllowed):
            reopen(user, case)
    with pytest.raises(ValidationError):
        reopen(head, case, reason="  ")
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED

    case = reopen(head, case)
    assert access.can_change_case(worker, case)
    assert [action.name for action in available_actions(worker, case)] == [
        "assess",
        "propose_closure",
    ]
    with pytest.raises(TransitionNotAllowed):
        reopen(head, case)  # open again: nothing to reopen


def test_a_stale_reopening_is_refused(worker, head):
    case = closed_case(worker, head)
    with pytest.raises(services.StaleEdit):
        services.case_reopen(by=head, case=case, version=case.version - 1, reason=REASON)


def test_the_coordinator_in_charge_reopens_her_own_case(municipality):
    """Reopening decides on nobody's work: the rule that nobody approves their own work
    does not stop the coordinator who is the worker in charge."""
    coordinator = UserFactory(
        username="kvdhf.dr", municipality=municipality, roles=[Role.DV_COORDINATOR]
    )
    director = UserFactory(
        username="drejtor.dr", municipality=municipality, roles=[Role.HEAD_OF_SOCIAL_SERVICES]
    )
    case = propose_closure(
        take_to_monitoring(register_dv_case(coordinator), coordinator, director), coordinator
    )
    services.case_advance(by=director, case=case, version=case.version, action="approve_closure")
    case.refresh_from_db()
    assert not access.may_approve(coordinator, case)

    case = reopen(coordinator, case)
    assert case.stage == Stage.REGISTERED
    assert case_deadlines(case)[0].key == "risk_assessment"


def test_a_municipality_may_return_reopened_cases_to_monitoring(worker, head, municipality):
    ReopenSetting.objects.create(municipality=municipality, stage=Stage.MONITORING)
    case = closed_case(worker, head)
    approved_at = case.plan_approved_at

    case = reopen(head, case)

    assert case.stage == Stage.MONITORING
    assert case.plan_approved_at == approved_at
    assert case.assessed_at is not None
    review = case_deadlines(case)[-1]
    assert review.key == "review"
    assert review.due_at == case.reopened_at + timedelta(days=90)


def test_a_case_never_returns_to_a_stage_it_had_not_reached(worker, head, municipality):
    ReopenSetting.objects.create(municipality=municipality, stage=Stage.MONITORING)
    case = propose_closure(register_child_case(worker), worker)
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")
    case.refresh_from_db()
    assert reopen_stage(case) == Stage.REGISTERED


def test_the_default_row_is_data(worker, head):
    ReopenSetting.objects.filter(municipality=None).update(stage=Stage.ASSESSED)
    case = reopen(head, closed_case(worker, head))
    assert case.stage == Stage.ASSESSED
    assert case.assessed_at is not None
    assert case.conference_at is None
    conference = case_deadlines(case)[1]
    assert conference.due_at == case.reopened_at + timedelta(days=3)


# --- Pages ----------------------------------------------------------------------------


def test_the_supervisor_reopens_from_the_case_page(worker, head):
    case = closed_case(worker, head)
    client = signed_in_client(head)
    page = client.get(case.get_absolute_url()).content.decode()
    assert f'href="{case.get_absolute_url()}reopen/"' in page

    form = client.get(f"{case.get_absolute_url()}reopen/")
    assert form.status_code == 200
    assert "Identifikimi dhe referimi" in form.content.decode()

    response = client.post(
        f"{case.get_absolute_url()}reopen/",
        {"version": case.version, "reason": REASON},
        follow=True,
    )
    case.refresh_from_db()
    assert case.stage == Stage.REGISTERED
    text = response.content.decode()
    assert f"Rasti {case.number} u rihap" in text
    due = timezone.localtime(case.next_due_at).strftime("%d.%m.%Y %H:%M")
    assert due in text  # the new assessment deadline, counted from the reopening
    worker_page = signed_in_client(worker).get(case.get_absolute_url()).content.decode()
    assert f'href="{case.get_absolute_url()}assessment/"' in worker_page


def test_reopening_is_refused_without_a_reason_and_to_others(worker, head, other_worker):
    case = closed_case(worker, head)
    url = f"{case.get_absolute_url()}reopen/"
    response = signed_in_client(head).post(url, {"version": case.version, "reason": ""})
    assert response.status_code == 200
    for user in (worker, other_worker):
        client = signed_in_client(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"version": case.version, "reason": REASON}).status_code == 404
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    worker_page = signed_in_client(worker).get(case.get_absolute_url()).content.decode()
    assert "reopen/" not in worker_page
