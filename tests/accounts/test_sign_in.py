import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.middleware import SlidingSessionMiddleware
from accounts.models import AuthenticatorDevice, User
from accounts.roles import Role
from tests.conftest import enrolled, signed_in_client, totp_code
from tests.factories import PASSWORD, UserFactory

PROTECTED_PAGES = [
    "/",
    "/accounts/me/",
    "/accounts/me/password/",
    "/accounts/manage/",
    "/accounts/manage/new/",
    "/admin/",
    "/admin/accounts/user/",
]


def password_only_client(user) -> Client:
    client = Client()
    response = client.post("/accounts/sign-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_password_without_second_factor_opens_no_page(worker, path):
    enrolled(worker)
    client = password_only_client(worker)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/second-factor/"


@pytest.mark.django_db
def test_sign_in_page_is_albanian_by_default(client):
    response = client.get("/accounts/sign-in/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="sq">' in page
    assert "Fjalëkalimi" in page


def test_wrong_password_is_refused_without_saying_which_part(client, worker):
    response = client.post(
        "/accounts/sign-in/", {"username": worker.username, "password": "x" * 12}
    )
    assert response.status_code == 200
    assert "Emri i përdoruesit ose fjalëkalimi nuk është i saktë." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_first_sign_in_enrols_an_authenticator_and_shows_backup_codes(worker):
    client = password_only_client(worker)
    assert client.get("/accounts/second-factor/")["Location"] == "/accounts/second-factor/enrol/"
    page = client.get("/accounts/second-factor/enrol/")
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = AuthenticatorDevice.objects.get(user=worker, confirmed=False)
    assert device.base32_key[:4] in page.content.decode()

    response = client.post("/accounts/second-factor/enrol/", {"token": totp_code(device)})

    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200


def test_wrong_code_at_enrolment_confirms_nothing(worker):
    client = password_only_client(worker)
    client.get("/accounts/second-factor/enrol/")
    response = client.post("/accounts/second-factor/enrol/", {"token": "000000"})
    assert response.status_code == 200
    assert "Kodi nuk është i saktë" in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=worker, confirmed=True).exists()
    assert client.get("/")["Location"] == "/accounts/second-factor/"


def test_authenticator_code_opens_the_site(worker):
    device = enrolled(worker)
    client = password_only_client(worker)
    response = client.post("/accounts/second-factor/", {"token": totp_code(device)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_authenticator_code_is_accepted_once(worker):
    device = enrolled(worker)
    code = totp_code(device)
    assert (
        password_only_client(worker).post("/accounts/second-factor/", {"token": code})["Location"]
        == "/"
    )
    second = password_only_client(worker)
    response = second.post("/accounts/second-factor/", {"token": code})
    assert response.status_code == 200
    assert second.get("/").status_code == 302


def test_backup_code_works_once(worker):
    enrolled(worker)
    code = worker.backup_codes[0]
    first = password_only_client(worker)
    assert first.post("/accounts/second-factor/", {"token": code.upper()}).status_code == 302
    assert first.get("/").status_code == 200
    second = password_only_client(worker)
    assert second.post("/accounts/second-factor/", {"token": code}).status_code == 200
    assert second.get("/").status_code == 302


def test_next_page_is_kept_through_both_steps(worker):
    device = enrolled(worker)
    client = Client()
    client.post(
        "/accounts/sign-in/?next=/accounts/me/",
        {"username": worker.username, "password": PASSWORD, "next": "/accounts/me/"},
    )
    response = client.post("/accounts/second-factor/", {"token": totp_code(device)})
    assert response["Location"] == "/accounts/me/"


def test_next_page_elsewhere_is_ignored(worker):
    device = enrolled(worker)
    client = Client()
    client.post(
        "/accounts/sign-in/",
        {"username": worker.username, "password": PASSWORD, "next": "https://example.com/"},
    )
    response = client.post("/accounts/second-factor/", {"token": totp_code(device)})
    assert response["Location"] == "/"


def test_deactivated_account_loses_its_session_at_once(worker):
    client = signed_in_client(worker)
    User.objects.filter(pk=worker.pk).update(is_active=False)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


def test_session_ends_after_inactivity(worker, settings):
    client = signed_in_client(worker)
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date - timezone.now() <= timedelta(minutes=30)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/")["Location"].startswith("/accounts/sign-in/")


def test_activity_pushes_the_end_of_the_session_back(worker):
    client = signed_in_client(worker)
    session = Session.objects.get(session_key=client.session.session_key)
    # Twenty minutes of inactivity: the session has ten minutes left.
    ten_minutes_left = timezone.now() + timedelta(minutes=10)
    Session.objects.filter(pk=session.pk).update(expire_date=ten_minutes_left)
    stored = client.session
    stored[SlidingSessionMiddleware.KEY] = int(time.time()) - 20 * 60
    stored.save()
    Session.objects.filter(pk=session.pk).update(expire_date=ten_minutes_left)

    assert client.get("/").status_code == 200

    session.refresh_from_db()
    assert session.expire_date - timezone.now() > timedelta(minutes=29)


def test_the_session_is_rewritten_at_most_once_a_minute(worker):
    client = signed_in_client(worker)
    client.get("/")
    expire_date = Session.objects.get(session_key=client.session.session_key).expire_date

    client.get("/")

    assert Session.objects.get(session_key=client.session.session_key).expire_date == expire_date


def test_the_session_key_changes_when_the_second_factor_is_verified(worker):
    device = enrolled(worker)
    client = password_only_client(worker)
    key_after_password = client.session.session_key

    client.post("/accounts/second-factor/", {"token": totp_code(device)})

    assert client.session.session_key != key_after_password
    assert not Session.objects.filter(session_key=key_after_password).exists()
    assert client.get("/").status_code == 200


def test_the_key_seen_before_the_second_factor_opens_nothing_after_it(worker):
    device = enrolled(worker)
    client = password_only_client(worker)
    planted = Client()
    planted.cookies["sessionid"] = client.session.session_key
    client.post("/accounts/second-factor/", {"token": totp_code(device)})

    assert planted.get("/")["Location"].startswith("/accounts/sign-in/")


def signed_in_hours_ago(client, hours: float) -> None:
    session = client.session
    session[SlidingSessionMiddleware.SIGNED_IN_KEY] -= int(hours * 3600)
    session.save()


def test_an_active_session_ends_twelve_hours_after_signing_in(worker, settings):
    assert settings.MBROJTJE_SESSION_MAX_HOURS == 12
    client = signed_in_client(worker)
    signed_in_hours_ago(client, 11.9)
    assert client.get("/").status_code == 200

    signed_in_hours_ago(client, 0.2)

    assert client.get("/")["Location"].startswith("/accounts/sign-in/")
    assert client.get("/accounts/me/")["Location"].startswith("/accounts/sign-in/")


def test_the_absolute_lifetime_is_configurable(worker, settings):
    settings.MBROJTJE_SESSION_MAX_HOURS = 1
    client = signed_in_client(worker)
    signed_in_hours_ago(client, 1)
    assert client.get("/")["Location"].startswith("/accounts/sign-in/")


def test_a_signed_in_session_without_its_sign_in_time_ends(worker):
    client = signed_in_client(worker)
    session = client.session
    del session[SlidingSessionMiddleware.SIGNED_IN_KEY]
    session.save()
    assert client.get("/")["Location"].startswith("/accounts/sign-in/")


def test_session_cookie_ends_with_the_browser(worker):
    client = Client()
    device = enrolled(worker)
    client.post("/accounts/sign-in/", {"username": worker.username, "password": PASSWORD})
    response = client.post("/accounts/second-factor/", {"token": totp_code(device)})
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""
    assert cookie["httponly"]


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short pass", "Ky fjalëkalim është shumë i shkurtër"),
        ("123456789012345", "Ky fjalëkalim është tërësisht numerik"),
    ],
)
def test_weak_new_password_is_refused_and_the_old_one_kept(worker, new_password, message):
    client = signed_in_client(worker)
    response = client.post(
        "/accounts/me/password/",
        {
            "old_password": PASSWORD,
            "new_password": new_password,
            "new_password_again": new_password,
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    worker.refresh_from_db()
    assert worker.check_password(PASSWORD)


def test_new_backup_codes_replace_the_old_ones(worker):
    enrolled(worker)
    old_code = worker.backup_codes[0]
    client = signed_in_client(worker)
    response = client.post("/accounts/me/backup-codes/")
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert (
        password_only_client(worker)
        .post("/accounts/second-factor/", {"token": old_code})
        .status_code
        == 200
    )


def test_sign_out_ends_the_session(worker):
    client = signed_in_client(worker)
    assert client.post("/accounts/sign-out/").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/sign-in/")


def test_admin_site_wants_a_staff_account_even_when_verified(worker):
    client = signed_in_client(worker)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_home_shows_the_roles(municipality):
    user = UserFactory(municipality=municipality, roles=[Role.DV_COORDINATOR])
    response = signed_in_client(user).get("/")
    assert "Koordinatori Vendor kundër Dhunës në Familje" in response.content.decode()
