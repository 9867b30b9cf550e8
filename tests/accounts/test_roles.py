import pytest
from django.core.exceptions import ValidationError

from accounts.models import RoleAssignment
from accounts.roles import MAY_HOLD_TOGETHER, Role, role_combination_errors
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("roles", "municipality", "institution", "ok"),
    [
        ({Role.CHILD_PROTECTION_WORKER}, True, False, True),
        ({Role.CHILD_PROTECTION_WORKER, Role.HEAD_OF_CPU}, True, False, True),
        ({Role.DV_COORDINATOR, Role.GENDER_EQUALITY_OFFICER}, True, False, False),
        ({Role.HEAD_OF_CPU, Role.GENDER_EQUALITY_OFFICER}, True, False, False),
        ({Role.DV_COORDINATOR, Role.HEAD_OF_SOCIAL_SERVICES}, True, False, True),
        ({Role.GENDER_EQUALITY_OFFICER}, True, False, True),
        ({Role.CCR_MEMBER, Role.GENDER_EQUALITY_OFFICER}, True, True, False),
        ({Role.CCR_MEMBER}, True, True, True),
        ({Role.CCR_MEMBER}, True, False, False),
        ({Role.CHILD_PROTECTION_WORKER}, True, True, False),
        ({Role.MUNICIPAL_ADMINISTRATOR, Role.HEAD_OF_CPU}, True, False, False),
        ({Role.MUNICIPAL_ADMINISTRATOR, Role.GENDER_EQUALITY_OFFICER}, True, False, False),
        ({Role.MUNICIPAL_ADMINISTRATOR, Role.CCR_MEMBER}, True, True, False),
        ({Role.MUNICIPAL_ADMINISTRATOR}, True, False, True),
        ({Role.NATIONAL_STATISTICIAN}, False, False, True),
        ({Role.NATIONAL_STATISTICIAN}, True, False, False),
        ({Role.NATIONAL_STATISTICIAN, Role.GENDER_EQUALITY_OFFICER}, False, False, False),
        ({Role.NATIONAL_STATISTICIAN, Role.MUNICIPAL_ADMINISTRATOR}, False, False, False),
        ({Role.CHILD_PROTECTION_WORKER}, False, False, False),
        (set(), True, False, False),
    ],
)
def test_role_combinations(roles, municipality, institution, ok):
    errors = role_combination_errors(
        roles, has_municipality=municipality, has_institution=institution
    )
    assert (errors == []) is ok


def test_only_the_municipal_administrator_manages_accounts(municipality):
    admin = UserFactory(municipality=municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR])
    head = UserFactory(municipality=municipality, roles=[Role.HEAD_OF_CPU])
    assert admin.has_perm("accounts.manage_accounts")
    assert not head.has_perm("accounts.manage_accounts")


def test_deactivated_administrator_manages_nothing(municipality):
    admin = UserFactory(
        municipality=municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR], is_active=False
    )
    assert not admin.has_perm("accounts.manage_accounts")


def test_the_table_of_roles_held_together_is_symmetric_and_complete():
    assert set(MAY_HOLD_TOGETHER) == set(Role.values)
    for role, others in MAY_HOLD_TOGETHER.items():
        for other in others:
            assert role in MAY_HOLD_TOGETHER[other], (role, other)


@pytest.mark.parametrize(
    ("held", "added"),
    [
        (Role.MUNICIPAL_ADMINISTRATOR, Role.HEAD_OF_CPU),
        (Role.MUNICIPAL_ADMINISTRATOR, Role.GENDER_EQUALITY_OFFICER),
        (Role.GENDER_EQUALITY_OFFICER, Role.DV_COORDINATOR),
        (Role.DV_COORDINATOR, Role.GENDER_EQUALITY_OFFICER),
        (Role.HEAD_OF_CPU, Role.MUNICIPAL_ADMINISTRATOR),
    ],
)
def test_no_path_saves_a_refused_pair_of_roles(municipality, held, added):
    """The model refuses too, for paths that bypass the services (a shell, seeding)."""
    user = UserFactory(municipality=municipality, roles=[held])
    with pytest.raises(ValidationError):
        RoleAssignment.objects.create(user=user, role=added)
    assert set(user.role_assignments.values_list("role", flat=True)) == {held}
