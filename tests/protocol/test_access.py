from accounts.roles import Role
from protocol import access, services
from protocol.selectors import CaseFilters, cases_list
from tests.cases import child, register_child_case
from tests.factories import UserFactory


def test_owner_and_head_see_and_change(worker, head):
    case = register_child_case(worker)
    for user in (worker, head):
        assert access.can_view_case(user, case)
        assert access.can_change_case(user, case)
        assert access.can_view_part(user, case, access.Part.IDENTITY)


def test_other_worker_and_other_municipality_see_nothing(worker, other_worker, foreign_head):
    case = register_child_case(worker)
    for user in (other_worker, foreign_head):
        assert not access.can_view_case(user, case)
        assert not access.can_change_case(user, case)
        assert list(access.visible_cases(user)) == []


def test_roles_without_case_access_see_nothing(worker, municipal_admin, municipality):
    case = register_child_case(worker)
    officer = UserFactory(municipality=municipality, roles=[Role.GENDER_EQUALITY_OFFICER])
    coordinator = UserFactory(municipality=municipality, roles=[Role.DV_COORDINATOR])
    superuser = UserFactory(municipality=municipality, is_superuser=True)
    for user in (municipal_admin, officer, coordinator, superuser):
        assert not access.can_view_case(user, case)
        assert not access.visible_cases(user).exists()


def test_new_head_sees_existing_cases(worker, municipality):
    case = register_child_case(worker)
    new_head = UserFactory(municipality=municipality, roles=[Role.HEAD_OF_CPU])
    assert access.can_view_case(new_head, case)


def test_reassignment_moves_access(worker, other_worker, head):
    case = register_child_case(worker)
    services.case_reassign(by=head, case=case, version=case.version, owner=other_worker)
    case.refresh_from_db()
    assert case.owner == other_worker
    assert access.can_view_case(UserFactory._meta.model.objects.get(pk=other_worker.pk), case)
    assert not access.can_view_case(UserFactory._meta.model.objects.get(pk=worker.pk), case)


def test_search_by_name_and_personal_number_through_blind_index(worker, head):
    case = register_child_case(
        worker, person=child(first="Ëndrita", last="Çela", personal_number="J05050505B")
    )
    register_child_case(
        worker, person=child(first="Besa", last="Kola", personal_number="K11111111C")
    )
    for query in ("endrita cela", "ËNDRITA  ÇELA", "j05050505b", case.number):
        assert [c.number for c in cases_list(head, CaseFilters(query=query))] == [case.number]
    assert list(cases_list(head, CaseFilters(query="Endrit"))) == []
