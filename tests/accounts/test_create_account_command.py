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


def test_first_municipal_administrator_gets_an_activation_link_not_a_password(
    municipality, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = create("admin.dr", "--role=municipal_administrator", "--municipality=DR")
    account = User.objects.get(username="admin.dr")
    assert account.roles == {Role.MUNICIPAL_ADMINISTRATOR}
    assert account.municipality == municipality
    assert not account.has_usable_password()
    assert account.email_confirmed_at is not None
    assert "Activation link sent to ilir@example.invalid." in output
    assert "password" not in output.lower()
    [email] = mailoutbox
    assert email.to == ["ilir@example.invalid"]
    token = re.search(r"/accounts/activate/\?t=([\w-]+)", email.body).group(1)
    assert token not in output
    link = account.activation_links.get()
    assert link.purpose == "new_account"
    assert link.created_by is None


def test_national_statistician_belongs_to_no_municipality(municipality):
    with pytest.raises(CommandError, match="nuk i përket asnjë bashkie"):
        create("stat", "--role=national_statistician", "--municipality=DR")
    create("stat", "--role=national_statistician")
    assert User.objects.get(username="stat").municipality is None


def test_case_roles_are_not_created_from_the_command_line(municipality):
    with pytest.raises(CommandError):
        create("pmf", "--role=child_protection_worker", "--municipality=DR")
    assert not User.objects.filter(username="pmf").exists()
