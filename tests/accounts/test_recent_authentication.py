"""New backup codes, a new authenticator and a new password need the password typed lately."""

import pytest
from django.test import Client

from accounts.models import AuthenticatorDevice
from accounts.recent_auth import CHECKED_AT_KEY
from audit.models import Action, AuditEvent
from tests.accounts.test_sign_in import password_only_client
from tests.accounts.test_sign_in_throttling import waits_for_minutes
from tests.conftest import enrolled, signed_in_client
from tests.factories import PASSWORD

CONFIRM = "/accounts/me/confirm-password/"


def password_typed_minutes_ago(client, minutes: int) -> None:
    session = client.session
    session[CHECKED_AT_KEY] -= minutes * 60
    session.save()


def test_new_backup_codes_right_after_signing_in_need_no_confirmation(worker):
    response = signed_in_client(worker).post("/accounts/me/backup-codes/")
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10


def test_new_backup_codes_later_ask_for_the_password_first(worker):
    enrolled(worker)
    old_code = worker.backup_codes[0]
    client = signed_in_client(worker)
    password_typed_minutes_ago(client, 6)

    response = client.post("/accounts/me/backup-codes/")

    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM}?next=%2Faccounts%2Fme%2F"
    page = client.get(response["Location"]).content.decode()
    assert "Për siguri, shkruani përsëri fjalëkalimin." in page
    # Nothing was replaced: the old codes still work.
    second = password_only_client(worker)
    assert second.post("/accounts/second-factor/", {"token": old_code}).status_code == 302


def test_the_password_typed_again_opens_the_change_for_a_few_minutes(worker, settings):
    settings.MBROJTJE_RECENT_AUTH_MINUTES = 5
    client = signed_in_client(worker)
    password_typed_minutes_ago(client, 6)

    response = client.post(CONFIRM, {"password": PASSWORD, "next": "/accounts/me/"})

    assert response["Location"] == "/accounts/me/"
    assert client.post("/accounts/me/backup-codes/").status_code == 200


def test_a_wrong_password_on_the_confirmation_page_is_a_failed_attempt(worker, settings):
    settings.MBROJTJE_SIGN_IN_FREE_TRIES = 2
    client = signed_in_client(worker)
    password_typed_minutes_ago(client, 6)
    before = AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED).count()

    response = client.post(CONFIRM, {"password": "not my password"})

    assert "Fjalëkalimi nuk është i saktë." in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED).count() == before + 1
    client.post(CONFIRM, {"password": "still not it"})
    waits_for_minutes()
    response = client.post(CONFIRM, {"password": PASSWORD})
    assert "Shumë përpjekje të dështuara" in response.content.decode()
    assert client.post("/accounts/me/backup-codes/").status_code == 302


def test_the_confirmation_page_goes_nowhere_outside_mbrojtje(worker):
    client = signed_in_client(worker)
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "https://example.com/"})
    assert response["Location"] == "/accounts/me/"


def test_changing_the_password_counts_as_a_recent_password(worker):
    client = signed_in_client(worker)
    password_typed_minutes_ago(client, 30)
    new = "a new long passphrase"
    response = client.post(
        "/accounts/me/password/",
        {"old_password": PASSWORD, "new_password": new, "new_password_again": new},
    )
    assert response["Location"] == "/"
    assert client.post("/accounts/me/backup-codes/").status_code == 200


@pytest.mark.parametrize("minutes", [5, 29])
def test_the_first_enrolment_follows_the_password(worker, minutes):
    client = password_only_client(worker)
    password_typed_minutes_ago(client, minutes)
    assert client.get("/accounts/second-factor/enrol/").status_code == 200


def test_a_browser_left_before_enrolling_cannot_enrol_a_phone_an_hour_later(worker):
    """A person who chose her password but walked away before setting up the app: whoever
    sits at that browser an hour later must not enrol their own phone."""
    client = password_only_client(worker)  # the worker has no authenticator yet
    password_typed_minutes_ago(client, 60)

    response = client.get("/accounts/second-factor/enrol/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/sign-in/"
    assert "hyni përsëri" in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=worker).exists()
    assert "_auth_user_id" not in client.session


def test_the_confirmation_page_is_not_for_anonymous_visitors(db):
    response = Client().get(CONFIRM)
    assert response["Location"].startswith("/accounts/sign-in/")
