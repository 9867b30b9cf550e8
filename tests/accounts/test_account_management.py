import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from accounts import services
from accounts.models import AuthenticatorDevice, RoleAssignment, User
from accounts.roles import Role
from tests.accounts.test_sign_in import password_only_client
from tests.accounts.test_sign_in_throttling import waits_for_minutes
from tests.conftest import enrolled, signed_in_client, totp_code
from tests.factories import PASSWORD, InstitutionFactory, UserFactory


def account_form(**overrides):
    data = {
        "username": "punonjes.i.ri",
        "first_name": "Besa",
        "last_name": "Kraja",
        "email": "besa@example.invalid",
        "roles": [Role.CHILD_PROTECTION_WORKER],
        "institution": "",
    }
    data.update(overrides)
    return data


def test_administrator_creates_an_account_without_any_password(municipal_admin, mailoutbox):
    client = signed_in_client(municipal_admin)
    response = client.post("/accounts/manage/new/", account_form(), follow=True)
    account = User.objects.get(username="punonjes.i.ri")
    assert response.redirect_chain[-1][0] == f"/accounts/manage/{account.pk}/"
    assert "accounts/manage_password.html" not in [t.name for t in response.templates]
    assert "password" not in response.context
    assert account.municipality == municipal_admin.municipality
    assert account.roles == set()
    assert account.pending_roles == {Role.CHILD_PROTECTION_WORKER}
    assert not account.has_usable_password()
    assert not AuthenticatorDevice.objects.filter(user=account).exists()
    # A new address waits for a second administrator: nothing is sent yet.
    assert account.email_confirmed_at is None
    assert mailoutbox == []
    assert not account.activation_links.exists()
    page = response.content.decode()
    assert "kur një administrator tjetër të miratojë" in page


def test_list_shows_only_the_administrators_municipality(
    municipal_admin, worker, other_municipality
):
    stranger = UserFactory(username="pmf.br", municipality=other_municipality)
    response = signed_in_client(municipal_admin).get("/accounts/manage/")
    page = response.content.decode()
    assert worker.username in page
    assert stranger.username not in page
    assert municipal_admin.username not in [a.username for a in response.context["accounts"]]


def test_administrator_cannot_open_an_account_of_another_municipality(
    municipal_admin, other_municipality
):
    stranger = UserFactory(username="pmf.br", municipality=other_municipality)
    client = signed_in_client(municipal_admin)
    assert client.get(f"/accounts/manage/{stranger.pk}/").status_code == 404
    response = client.post(f"/accounts/manage/{stranger.pk}/deactivate/")
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active


def test_administrator_cannot_change_their_own_account(municipal_admin):
    client = signed_in_client(municipal_admin)
    assert client.get(f"/accounts/manage/{municipal_admin.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.account_update(
            by=municipal_admin,
            account=municipal_admin,
            version=municipal_admin.version,
            first_name="x",
            last_name="y",
            email="x@example.invalid",
            roles={Role.MUNICIPAL_ADMINISTRATOR, Role.HEAD_OF_CPU},
            institution=None,
        )
    assert municipal_admin.roles == {Role.MUNICIPAL_ADMINISTRATOR}


@pytest.mark.parametrize(
    "path", ["/accounts/manage/", "/accounts/manage/new/", "/accounts/manage/1/"]
)
def test_worker_cannot_reach_account_management(worker, path):
    response = signed_in_client(worker).get(path)
    assert response.status_code == 404
    assert b"admin.dr" not in response.content


def test_worker_cannot_give_themselves_a_role(worker):
    with pytest.raises(PermissionDenied):
        services.account_create(
            by=worker,
            username="sock",
            first_name="a",
            last_name="b",
            email="a@example.invalid",
            roles={Role.HEAD_OF_CPU},
        )
    response = signed_in_client(worker).post(
        "/accounts/manage/new/", account_form(roles=[Role.HEAD_OF_CPU])
    )
    assert response.status_code == 404
    assert not User.objects.filter(username="punonjes.i.ri").exists()


def test_administrator_role_does_not_combine_with_a_case_role(municipal_admin):
    response = signed_in_client(municipal_admin).post(
        "/accounts/manage/new/",
        account_form(roles=[Role.MUNICIPAL_ADMINISTRATOR, Role.CHILD_PROTECTION_WORKER]),
    )
    assert response.status_code == 200
    assert "nuk lexon asnjë rast" in response.content.decode()
    assert 'value="Besa"' in response.content.decode()
    assert not User.objects.filter(username="punonjes.i.ri").exists()


def test_ccr_member_needs_an_institution_of_the_same_municipality(
    municipal_admin, other_municipality
):
    foreign_police = InstitutionFactory(municipality=other_municipality)
    with pytest.raises(ValidationError):
        services.account_create(
            by=municipal_admin,
            username="polic",
            first_name="a",
            last_name="b",
            email="a@example.invalid",
            roles={Role.CCR_MEMBER},
        )
    with pytest.raises(ValidationError):
        services.account_create(
            by=municipal_admin,
            username="polic",
            first_name="a",
            last_name="b",
            email="a@example.invalid",
            roles={Role.CCR_MEMBER},
            institution=foreign_police,
        )
    assert not User.objects.filter(username="polic").exists()


def test_institution_list_offers_only_own_municipality(municipal_admin, police, other_municipality):
    InstitutionFactory(municipality=other_municipality, name="Policia Berat")
    page = signed_in_client(municipal_admin).get("/accounts/manage/new/").content.decode()
    assert "Policia Durrës" in page
    assert "Policia Berat" not in page


def test_national_statistician_is_not_offered(municipal_admin):
    page = signed_in_client(municipal_admin).get("/accounts/manage/new/").content.decode()
    assert Role.NATIONAL_STATISTICIAN.value not in page


def test_second_save_of_an_old_form_is_refused(municipal_admin, worker):
    client = signed_in_client(municipal_admin)
    form = account_form(version=worker.version, first_name="Elira")
    services.account_update(
        by=UserFactory(
            username="admin2.dr",
            municipality=municipal_admin.municipality,
            roles=[Role.MUNICIPAL_ADMINISTRATOR],
        ),
        account=worker,
        version=worker.version,
        first_name="Ardita",
        last_name="Kola",
        email="a@example.invalid",
        roles={Role.CHILD_PROTECTION_WORKER},
        institution=None,
    )
    response = client.post(f"/accounts/manage/{worker.pk}/", form)
    assert response.status_code == 200
    assert "Dikush tjetër e ndryshoi" in response.content.decode()
    worker.refresh_from_db()
    assert worker.first_name == "Ardita"


def test_roles_are_changed_and_recorded_in_history(municipal_admin, worker):
    response = signed_in_client(municipal_admin).post(
        f"/accounts/manage/{worker.pk}/",
        account_form(version=worker.version, roles=[Role.HEAD_OF_CPU]),
    )
    assert response.status_code == 302
    assert set(RoleAssignment.objects.filter(user=worker).values_list("role", flat=True)) == {
        Role.HEAD_OF_CPU
    }
    assert RoleAssignment.history.filter(user_id=worker.pk, history_type="-").count() == 1
    assert RoleAssignment.objects.get(user=worker).assigned_by == municipal_admin


def test_deactivation_asks_for_a_reason_then_ends_the_sessions(municipal_admin, worker):
    worker_client = signed_in_client(worker)
    admin_client = signed_in_client(municipal_admin)
    page = admin_client.get(f"/accounts/manage/{worker.pk}/deactivate/confirm/")
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    worker.refresh_from_db()
    assert worker.is_active
    response = admin_client.post(
        f"/accounts/manage/{worker.pk}/deactivate/confirm/", {"reason": "Left the unit."}
    )
    assert response["Location"] == f"/accounts/manage/{worker.pk}/"
    assert worker_client.get("/")["Location"].startswith("/accounts/sign-in/")
    admin_client.post(f"/accounts/manage/{worker.pk}/reactivate/")
    worker.refresh_from_db()
    assert worker.is_active


def test_deactivation_is_not_a_single_click(municipal_admin, worker):
    response = signed_in_client(municipal_admin).post(f"/accounts/manage/{worker.pk}/deactivate/")
    assert response.status_code == 404
    worker.refresh_from_db()
    assert worker.is_active


def test_unlock_lifts_the_delays_on_the_account_from_every_client(
    municipal_admin, worker, settings
):
    settings.MBROJTJE_SIGN_IN_FREE_TRIES = 1
    device = enrolled(worker)
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    attacker.post("/accounts/sign-in/", {"username": worker.username, "password": "guess" * 3})
    owner = password_only_client(worker)
    owner.post("/accounts/second-factor/", {"token": "000000"})
    waits_for_minutes()
    manager = signed_in_client(municipal_admin)
    assert "Zhblloko" in manager.get(f"/accounts/manage/{worker.pk}/").content.decode()

    manager.post(f"/accounts/manage/{worker.pk}/unlock/")

    assert "Zhblloko" not in manager.get(f"/accounts/manage/{worker.pk}/").content.decode()
    response = owner.post("/accounts/second-factor/", {"token": totp_code(device)})
    assert response.status_code == 302
    response = attacker.post(
        "/accounts/sign-in/", {"username": worker.username, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_unknown_action_is_not_found(municipal_admin, worker):
    response = signed_in_client(municipal_admin).post(f"/accounts/manage/{worker.pk}/promote/")
    assert response.status_code == 404
