import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.roles import Role


def create(*arguments) -> str:
    output = StringIO()
    call_command(
        "create_account",
        *arguments,
        "--first-name=Ilir",
        "--last-name=Basha",
        "--email=ilir@example.invalid",
        stdout=output,
    )
    return output.getvalue()


def test_first_municipal_administrator_gets_a_temporary_password(municipality):
    output = create("admin.dr", "--role=municipal_administrator", "--municipality=DR")
    password = re.search(r"shown once\): (\S+)", output).group(1)
    account = User.objects.get(username="admin.dr")
    assert account.roles == {Role.MUNICIPAL_ADMINISTRATOR}
    assert account.municipality == municipality
    assert account.must_change_password
    assert account.check_password(password)


def test_national_statistician_belongs_to_no_municipality(municipality):
    with pytest.raises(CommandError, match="nuk i përket asnjë bashkie"):
        create("stat", "--role=national_statistician", "--municipality=DR")
    create("stat", "--role=national_statistician")
    assert User.objects.get(username="stat").municipality is None


def test_case_roles_are_not_created_from_the_command_line(municipality):
    with pytest.raises(CommandError):
        create("pmf", "--role=child_protection_worker", "--municipality=DR")
    assert not User.objects.filter(username="pmf").exists()
