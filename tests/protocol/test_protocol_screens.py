"""The protocol screens: next steps in protocol order with the writing of the plan, event
times asked rather than proposed, review forms starting from the case's values, success
messages and refusals that name the case."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.roles import Role
from protocol import services
from protocol.models import RiskLevel, Stage
from protocol.services import meetings as meeting_services
from protocol.stages import next_steps
from tests.cases import (
    assess_and_confer,
    propose_closure,
    register_child_case,
    take_to_monitoring,
)
from tests.conftest import signed_in_client
from tests.factories import UserFactory


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def assessed_and_conferred(worker, case):
    """An assessment three days ago and the conference two days ago, entered today."""
    now = timezone.now()
    return assess_and_confer(
        case,
        worker,
        assessed_at=now - timedelta(days=3),
        held_at=now - timedelta(days=2),
        risk_level=RiskLevel.MEDIUM,
    )


def next_steps_card(page: str) -> str:
    return page[page.index('id="actions"') :].split("</section>")[0]


def test_next_steps_include_drafting_the_plan_after_the_conference(worker):
    case = assessed_and_conferred(worker, register_child_case(worker))
    assert case.stage == Stage.CONFERENCE_HELD
    assert [step.name for step in next_steps(worker, case)] == ["write_plan", "propose_closure"]

    card = next_steps_card(signed_in_client(worker).get(case.get_absolute_url()).content.decode())
    assert "Harto planin" in card
    assert f'href="{case.get_absolute_url()}plan/"' in card

    services.plan_save(
        by=worker, case=case, version=case.version, goals="Siguri.", drafted_with_family=True
    )
    case.refresh_from_db()
    assert [step.name for step in next_steps(worker, case)] == [
        "edit_plan",
        "add_plan_action",
        "propose_closure",
    ]
    services.plan_action_add(
        by=worker,
        case=case,
        version=case.version,
        description="Vizita",
        institution=None,
        due_date=timezone.localdate() + timedelta(days=7),
    )
    case.refresh_from_db()
    # In the order of the protocol: the plan is written, then submitted.
    assert [step.name for step in next_steps(worker, case)] == [
        "edit_plan",
        "add_plan_action",
        "submit_plan",
        "propose_closure",
    ]


def test_readers_and_supervisors_deciding_get_no_plan_steps(worker, head, other_worker):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    assert [step.name for step in next_steps(worker, case)] == [
        "edit_plan",
        "add_plan_action",
        "review",
        "propose_closure",
    ]
    assert next_steps(other_worker, case) == []
    case = propose_closure(case, worker)
    assert [step.name for step in next_steps(head, case)] == ["approve_closure", "reject_closure"]


def test_the_assessment_time_is_asked_not_proposed(worker):
    case = register_child_case(worker, reported_at=timezone.now() - timedelta(days=5))
    client = signed_in_client(worker)
    page = client.get(case.get_absolute_url() + "assessment/").content.decode()
    field = re.search(r"<input[^>]*name=\"assessed_at\"[^>]*>", page).group(0)
    assert "value=" not in field
    assert "required" in field

    response = client.post(
        case.get_absolute_url() + "assessment/",
        {"version": case.version, "risk_level": "medium", "findings": "Vizitë."},
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.stage == Stage.REGISTERED


def test_a_conference_is_entered_after_the_fact(worker):
    case = register_child_case(worker, reported_at=timezone.now() - timedelta(days=5))
    client = signed_in_client(worker)
    now = timezone.now()
    response = client.post(
        case.get_absolute_url() + "assessment/",
        {
            "version": case.version,
            "assessed_at": local(now - timedelta(days=3)),
            "risk_level": "medium",
            "findings": "Vizitë.",
        },
        follow=True,
    )
    assert f"Vlerësimi fillestar u regjistrua për rastin {case.number}." in (
        response.content.decode()
    )
    case.refresh_from_db()
    response = client.post(
        case.get_absolute_url() + "conference/",
        {
            "version": case.version,
            "held_at": local(now - timedelta(days=2)),
            "minutes": "Procesverbali.",
            "decisions": "PIM.",
        },
        follow=True,
    )
    assert f"Tryeza teknike u regjistrua për rastin {case.number}." in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.CONFERENCE_HELD


def test_a_conference_before_the_assessment_is_refused_naming_the_case(worker):
    case = assessed_and_conferred(worker, register_child_case(worker))
    with pytest.raises(ValidationError) as refused:
        services.conference_record(
            by=worker,
            case=case,
            version=case.version,
            held_at=case.assessed_at - timedelta(hours=1),
            institutions=[],
            people_present="",
            minutes="M.",
            decisions="D.",
        )
    assert case.number in str(refused.value)


def test_the_review_form_starts_from_the_current_risk_level(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    services.review_record(
        by=worker, case=case, version=case.version, findings="Mirë.", risk_level=RiskLevel.LOW
    )
    page = signed_in_client(worker).get(case.get_absolute_url() + "review/").content.decode()
    assert re.search(r'<option value="low"[^>]*selected', page)
    assert not re.search(r'<option value="high"[^>]*selected', page)


def test_approvals_say_what_was_done_to_which_case(worker, head):
    from tests.cases import submit_plan

    case = submit_plan(register_child_case(worker), worker)
    response = signed_in_client(head).post(
        case.get_absolute_url() + "advance/approve_plan/", {"version": case.version}, follow=True
    )
    assert f"Plani i rastit {case.number} u miratua." in response.content.decode()


def test_a_refused_agenda_names_the_case_and_why(worker, head, municipality):
    coordinator = UserFactory(
        username="kvdhf.dr", municipality=municipality, roles=[Role.DV_COORDINATOR]
    )
    child_case = register_child_case(worker)
    with pytest.raises(ValidationError) as refused:
        meeting_services.meeting_convene(
            by=coordinator,
            kind="etn",
            scheduled_at=timezone.now() + timedelta(days=1),
            invited=[],
            cases=[child_case],
        )
    assert child_case.number in str(refused.value)

    closed = propose_closure(register_child_case(worker, duplicate_override_reason="vëlla"), worker)
    services.case_advance(by=head, case=closed, version=closed.version, action="approve_closure")
    closed.refresh_from_db()
    response = signed_in_client(worker).post(
        "/meetings/new/",
        {
            "kind": "gtn",
            "scheduled_at": local(timezone.now() + timedelta(days=1)),
            "cases": [child_case.pk],
        },
    )
    assert response.status_code == 302
    with pytest.raises(ValidationError) as refused:
        meeting_services.meeting_convene(
            by=worker,
            kind="gtn",
            scheduled_at=timezone.now() + timedelta(days=1),
            invited=[],
            cases=[child_case, closed],
        )
    message = " ".join(refused.value.messages)
    assert closed.number in message
    assert child_case.number not in message


def test_a_dv_case_asks_for_its_risk_assessment_in_its_own_words(municipality):
    from tests.dv_cases.conftest import register_dv_case

    coordinator = UserFactory(municipality=municipality, roles=[Role.DV_COORDINATOR])
    case = register_dv_case(coordinator)

    card = next_steps_card(
        signed_in_client(coordinator).get(case.get_absolute_url()).content.decode()
    )
    assert "Regjistro vlerësimin e riskut" in card
    assert "vlerësimin fillestar" not in card


def test_the_meeting_form_offers_only_cases_the_user_may_put_on_its_agenda(
    worker, head, municipality
):
    coordinator = UserFactory(municipality=municipality, roles=[Role.DV_COORDINATOR])
    mine = register_child_case(worker)
    closed = propose_closure(register_child_case(worker, duplicate_override_reason="vëlla"), worker)
    services.case_advance(by=head, case=closed, version=closed.version, action="approve_closure")
    from tests.dv_cases.conftest import register_dv_case

    dv_case = register_dv_case(coordinator)

    page = signed_in_client(worker).get("/meetings/new/").content.decode()
    assert mine.number in page
    assert closed.number not in page
    assert dv_case.number not in page
    page = signed_in_client(coordinator).get("/meetings/new/").content.decode()
    assert dv_case.number in page
    assert mine.number not in page
