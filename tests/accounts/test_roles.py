import pytest

from accounts.roles import Role, role_combination_errors
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("roles", "municipality", "institution", "ok"),
    [
        ({Role.CHILD_PROTECTION_WORKER}, True, False, True),
        ({Role.CHILD_PROTECTION_WORKER, Role.HEAD_OF_CPU}, True, False, True),
        ({Role.DV_COORDINATOR, Role.GENDER_EQUALITY_OFFICER}, True, False, True),
        ({Role.CCR_MEMBER}, True, True, True),
        ({Role.CCR_MEMBER}, True, False, False),
        ({Role.CHILD_PROTECTION_WORKER}, True, True, False),
        ({Role.MUNICIPAL_ADMINISTRATOR, Role.HEAD_OF_CPU}, True, False, False),
        ({Role.MUNICIPAL_ADMINISTRATOR, Role.GENDER_EQUALITY_OFFICER}, True, False, True),
        ({Role.NATIONAL_STATISTICIAN}, False, False, True),
        ({Role.NATIONAL_STATISTICIAN}, True, False, False),
        ({Role.NATIONAL_STATISTICIAN, Role.GENDER_EQUALITY_OFFICER}, False, False, False),
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
