"""The Django admin of the platform administrator grants no role and moves no group."""

import pytest

from accounts.models import RoleAssignment
from accounts.roles import Role
from tests.conftest import signed_in_client
from tests.factories import UserFactory


@pytest.fixture
def platform_client(db):
    platform = UserFactory(
        username="platforma", municipality=None, is_superuser=True, is_staff=True
    )
    return signed_in_client(platform)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/auth/group/",
        "/admin/auth/group/add/",
        "/admin/accounts/roleassignment/add/",
    ],
)
def test_the_admin_has_no_page_for_groups_or_roles(platform_client, path):
    assert platform_client.get(path).status_code == 404


def test_the_admin_cannot_change_an_account_or_its_roles(platform_client, municipality):
    worker = UserFactory(municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER])
    url = f"/admin/accounts/user/{worker.pk}/change/"
    assert platform_client.get(url).status_code == 200  # read only
    response = platform_client.post(
        url, {"username": worker.username, "is_superuser": "on", "groups": []}
    )
    assert response.status_code == 403
    assert set(RoleAssignment.objects.filter(user=worker).values_list("role", flat=True)) == {
        Role.CHILD_PROTECTION_WORKER
    }
    worker.refresh_from_db()
    assert not worker.is_superuser
