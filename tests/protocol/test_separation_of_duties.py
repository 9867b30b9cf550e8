"""Nobody approves their own work: a plan or a closure is decided by a supervisor of the
case who is neither its worker in charge nor the person who submitted it. The
director of social services supervises both kinds of case of the municipality."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from accounts.models import RoleAssignment
from accounts.roles import Role, role_group_name
from protocol import access, services
from protocol.models import CaseGroupObjectPermission, Stage
from protocol.services import transfers
from protocol.stages import TransitionNotAllowed
from reports.selectors.scope import report_scope
from tests.cases import propose_closure, register_child_case, submit_plan, take_to_monitoring
from tests.conftest import signed_in_client
from tests.dv_cases.conftest import register_dv_case
from tests.factories import UserFactory

OWN_PLAN = "Plani duhet të miratohet nga një mbikëqyrës tjetër"
OWN_CLOSURE = "Mbyllja e rastit duhet të miratohet nga një mbikëqyrës tjetër"


@pytest.fixture
def coordinator(municipality):
    return UserFactory(
        username="kvdhf.dr",
        first_name="Mirela",
        last_name="Dervishi",
        municipality=municipality,
        roles=[Role.DV_COORDINATOR],
    )


@pytest.fixture
def second_coordinator(municipality):
    return UserFactory(
        username="kvdhf2.dr",
        first_name="Besa",
        last_name="Kuqi",
        municipality=municipality,
        roles=[Role.DV_COORDINATOR],
    )


@pytest.fixture
def director(municipality):
    return UserFactory(
        username="drejtori.dr",
        first_name="Majlinda",
        last_name="Rexha",
        municipality=municipality,
        roles=[Role.HEAD_OF_SOCIAL_SERVICES],
    )


@pytest.fixture
def foreign_director(other_municipality):
    return UserFactory(
        username="drejtori.br",
        municipality=other_municipality,
        roles=[Role.HEAD_OF_SOCIAL_SERVICES],
    )


def advance(by, case, action, reason=""):
    case.refresh_from_db()
    services.case_advance(by=by, case=case, version=case.version, action=action, reason=reason)
    case.refresh_from_db()
    return case


# --- The rule, through the services --------------------------------------------------


@pytest.mark.parametrize(
    ("action", "reason"), [("approve_plan", ""), ("return_plan", "Shtoni një veprim.")]
)
def test_coordinator_cannot_decide_on_the_plan_of_their_own_dv_case(
    coordinator, director, action, reason
):
    case = submit_plan(register_dv_case(coordinator), coordinator)

    with pytest.raises(TransitionNotAllowed, match=OWN_PLAN):
        advance(coordinator, case, action, reason)

    case.refresh_from_db()
    assert case.stage == Stage.PLAN_DRAFTED
    assert case.plan.approved_at is None
    assert not case.transitions.filter(action=action).exists()


@pytest.mark.parametrize(
    ("action", "reason"), [("approve_closure", ""), ("reject_closure", "Ende në rrezik.")]
)
def test_coordinator_cannot_decide_on_the_closure_of_their_own_dv_case(
    coordinator, director, action, reason
):
    case = take_to_monitoring(register_dv_case(coordinator), coordinator, director)
    case = propose_closure(case, coordinator)

    with pytest.raises(TransitionNotAllowed, match=OWN_CLOSURE):
        advance(coordinator, case, action, reason)

    case.refresh_from_db()
    assert case.stage == Stage.CLOSURE_PROPOSED
    assert case.closed_at is None


def test_another_coordinator_approves_the_plan_and_the_closure(coordinator, second_coordinator):
    case = submit_plan(register_dv_case(coordinator), coordinator)

    case = advance(second_coordinator, case, "approve_plan")
    assert case.stage == Stage.MONITORING
    assert case.plan.approved_by == second_coordinator

    case = advance(second_coordinator, propose_closure(case, coordinator), "approve_closure")
    assert case.stage == Stage.CLOSED


def test_director_approves_plans_and_closures_of_both_kinds(coordinator, head, director):
    # The head is the worker in charge of this child case: the director decides.
    child_case = submit_plan(register_child_case(head), head)
    dv_case = submit_plan(register_dv_case(coordinator), coordinator)
    with pytest.raises(TransitionNotAllowed, match=OWN_PLAN):
        advance(head, child_case, "approve_plan")

    for case, worker in ((child_case, head), (dv_case, coordinator)):
        case = advance(director, case, "approve_plan")
        assert case.plan.approved_by == director
        case = advance(director, propose_closure(case, worker), "approve_closure")
        assert case.stage == Stage.CLOSED


def test_supervisor_who_submitted_the_plan_does_not_approve_it(
    coordinator, second_coordinator, director
):
    # The second coordinator (who holds the case through the coordinators' group)
    # submits the plan of the first one's case: neither of them approves it.
    case = register_dv_case(coordinator)
    case = submit_plan(case, second_coordinator)

    for supervisor in (coordinator, second_coordinator):
        with pytest.raises(TransitionNotAllowed, match=OWN_PLAN):
            advance(supervisor, case, "approve_plan")
    assert {user.pk for user in access.approvers(case)} == {director.pk}

    assert advance(director, case, "approve_plan").stage == Stage.MONITORING


def test_closure_proposed_by_the_director_goes_to_another_supervisor(
    coordinator, second_coordinator, director
):
    case = take_to_monitoring(register_dv_case(coordinator), coordinator, director)
    case = propose_closure(case, director)

    with pytest.raises(TransitionNotAllowed, match=OWN_CLOSURE):
        advance(director, case, "approve_closure")
    assert advance(second_coordinator, case, "approve_closure").stage == Stage.CLOSED


def test_a_worker_still_cannot_approve_and_the_message_names_who_can(worker, head):
    case = submit_plan(register_child_case(worker), worker)

    with pytest.raises(TransitionNotAllowed, match="Drejtori i shërbimeve sociale"):
        advance(worker, case, "approve_plan")


# --- What the director sees and does ---------------------------------------------------


def test_director_sees_every_case_of_the_municipality_and_none_elsewhere(
    worker, coordinator, director, foreign_director
):
    child_case = register_child_case(worker)
    dv_case = register_dv_case(coordinator)

    assert set(access.visible_cases(director)) == {child_case, dv_case}
    assert access.can_change_case(director, dv_case)
    assert all(access.can_view_part(director, dv_case, part) for part in access.Part.ALL)
    assert not access.visible_cases(foreign_director).exists()
    assert not access.can_view_case(foreign_director, child_case)
    assert not access.is_supervisor(foreign_director, child_case)


def test_director_appointed_later_sees_the_existing_cases(municipality, worker, coordinator):
    cases = {register_child_case(worker), register_dv_case(coordinator)}

    director = UserFactory(municipality=municipality, roles=[Role.HEAD_OF_SOCIAL_SERVICES])

    assert set(access.visible_cases(director)) == cases


def test_migration_grants_the_director_group_on_cases_made_before_the_role(
    municipality, worker, coordinator, director
):
    child_case = register_child_case(worker)
    dv_case = register_dv_case(coordinator)
    group = Group.objects.get(name=role_group_name(municipality.pk, Role.HEAD_OF_SOCIAL_SERVICES))
    # As the cases stood before the role existed: only the heads' and coordinators' groups.
    CaseGroupObjectPermission.objects.filter(group=group).delete()
    director.__dict__.pop("_case_permission_ids", None)
    assert not access.visible_cases(director).exists()

    migration = importlib.import_module("protocol.migrations.0010_director_reads_existing_cases")
    migration.grant_director_access(global_apps, None)
    migration.grant_director_access(global_apps, None)  # a second run adds nothing

    assert set(access.visible_cases(director)) == {child_case, dv_case}
    assert CaseGroupObjectPermission.objects.filter(group=group).count() == 2 * len(
        access.FULL_ACCESS
    )
    assert access.may_approve(director, submit_plan(dv_case, coordinator))


def test_director_reassigns_a_case(worker, other_worker, director):
    case = register_child_case(worker)

    services.case_reassign(by=director, case=case, version=case.version, owner=other_worker)

    case.refresh_from_db()
    assert case.owner == other_worker


def test_director_neither_asks_for_nor_receives_transfers(
    worker, head, director, other_municipality, foreign_director, foreign_head
):
    case = register_child_case(worker)
    with pytest.raises(PermissionDenied):
        transfers.transfer_request(
            by=director,
            case=case,
            version=case.version,
            to_municipality=other_municipality,
            reason="Familja u shpërngul.",
        )
    transfer = transfers.transfer_request(
        by=head,
        case=case,
        version=case.version,
        to_municipality=other_municipality,
        reason="Familja u shpërngul.",
    )

    assert not transfers.transfers_incoming(foreign_director).exists()
    assert list(transfers.transfers_incoming(foreign_head)) == [transfer]
    with pytest.raises(PermissionDenied):
        transfers.transfer_answer(by=foreign_director, transfer=transfer, accept=True, answer="")


def test_accepted_transfer_gives_the_case_to_the_receiving_directors_group(
    worker, head, other_municipality, foreign_director, foreign_head, director
):
    case = register_child_case(worker)
    transfer = transfers.transfer_request(
        by=head,
        case=case,
        version=case.version,
        to_municipality=other_municipality,
        reason="Familja u shpërngul.",
    )
    transfers.transfer_answer(by=foreign_head, transfer=transfer, accept=True, answer="")

    case.refresh_from_db()
    assert access.can_view_case(foreign_director, case)
    director.__dict__.pop("_case_permission_ids", None)
    assert not access.visible_cases(director).exists()


def test_director_reads_the_figures_of_both_kinds(director):
    scope = report_scope(director)

    assert set(scope.kinds) == {"child", "dv"}
    assert scope.drill_down_kinds == {"child", "dv"}
    assert scope.municipality_id == director.municipality_id


# --- The case page --------------------------------------------------------------------


def test_case_page_offers_the_approval_to_the_director_not_to_the_coordinator(
    coordinator, director
):
    case = submit_plan(register_dv_case(coordinator), coordinator)
    approve_url = f"/cases/{case.number}/advance/approve_plan/"

    own_page = signed_in_client(coordinator).get(case.get_absolute_url()).content.decode()
    assert approve_url not in own_page
    assert "/advance/return_plan/" not in own_page
    assert "Askush nuk miraton punën e vet" in own_page
    assert "Majlinda Rexha" in own_page

    director_page = signed_in_client(director).get(case.get_absolute_url()).content.decode()
    assert approve_url in director_page
    assert "Askush nuk miraton punën e vet" not in director_page


def test_coordinator_posting_the_approval_of_their_own_plan_changes_nothing(coordinator, director):
    case = submit_plan(register_dv_case(coordinator), coordinator)
    client = signed_in_client(coordinator)

    response = client.post(
        f"/cases/{case.number}/advance/approve_plan/", {"version": case.version}, follow=True
    )

    assert OWN_PLAN in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.PLAN_DRAFTED
    assert case.plan.approved_at is None


def test_director_approves_the_closure_over_http(coordinator, director):
    case = take_to_monitoring(register_dv_case(coordinator), coordinator, director)
    case = propose_closure(case, coordinator)

    response = signed_in_client(director).post(
        f"/cases/{case.number}/advance/approve_closure/", {"version": case.version}
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED


def test_lone_coordinator_is_told_whom_to_have_appointed(coordinator, head):
    # No second coordinator, no director: nobody may approve, and the page says so.
    case = submit_plan(register_dv_case(coordinator), coordinator)
    assert not access.approvers(case).exists()

    page = signed_in_client(coordinator).get(case.get_absolute_url()).content.decode()

    assert "Askush tjetër në bashki nuk mund ta miratojë." in page
    assert "të caktojë një Drejtor të shërbimeve sociale" in page
    assert "/advance/approve_plan/" not in page


def test_director_of_another_municipality_gets_not_found(coordinator, foreign_director):
    case = submit_plan(register_dv_case(coordinator), coordinator)
    client = signed_in_client(foreign_director)

    assert client.get(case.get_absolute_url()).status_code == 404
    response = client.post(f"/cases/{case.number}/advance/approve_plan/", {"version": case.version})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.stage == Stage.PLAN_DRAFTED


def test_a_director_whose_role_waits_is_not_named_as_approver(coordinator, municipality):
    """A role still waiting for a second administrator decides nothing, so the case page
    must not send the coordinator to that person."""
    waiting = UserFactory(municipality=municipality)
    RoleAssignment.objects.create(user=waiting, role=Role.HEAD_OF_SOCIAL_SERVICES)
    case = submit_plan(register_dv_case(coordinator), coordinator)

    assert not access.may_approve(waiting, case)
    assert not access.approvers(case).exists()
