"""Activation links: how a new or reset account gets its password and second factor
without anyone else ever seeing them."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import ActivationLink, AdministrativeAct, AuthenticatorDevice, User
from accounts.roles import Role
from audit.models import Action, AuditEvent
from encryption import limits
from tests.conftest import signed_in_client, totp_code
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "a long new passphrase 2026"


def link_token(email) -> str:
    return re.search(r"/accounts/activate/\?t=([\w-]+)", email.body).group(1)


@pytest.fixture
def send(django_capture_on_commit_callbacks, mailoutbox):
    """Run a service and return the e-mail it sent, as after a real commit."""

    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = function(**kwargs)
        return result, mailoutbox[-1]

    return run


def reset(send, admin, account, reason="Lost her phone."):
    return send(services.account_credentials_reset, by=admin, account=account, reason=reason)


def activate(client: Client, token: str, password: str = NEW_PASSWORD):
    opened = client.get(f"/accounts/activate/?t={token}")
    return opened, client.post(
        "/accounts/activate/", {"new_password": password, "new_password_again": password}
    )


def test_reset_link_sets_a_password_then_enrols_a_new_second_factor(municipal_admin, worker, send):
    link, email = reset(send, municipal_admin, worker)
    assert email.to == [worker.email]
    client = Client()
    opened, chosen = activate(client, link_token(email))
    # The token leaves the address bar at once, and no page passes it on.
    assert opened["Location"] == "/accounts/activate/"
    assert opened["Referrer-Policy"] == "no-referrer"
    assert chosen["Location"] == "/accounts/second-factor/enrol/"
    client.get("/accounts/second-factor/enrol/")
    device = AuthenticatorDevice.objects.get(user=worker, confirmed=False)
    done = client.post("/accounts/second-factor/enrol/", {"token": totp_code(device)})
    assert "accounts/backup_codes.html" in [t.name for t in done.templates]
    assert client.get("/").status_code == 200
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)
    link.refresh_from_db()
    assert link.used_at is not None


def test_activation_page_shows_the_username_and_municipality(municipal_admin, worker, send):
    _link, email = reset(send, municipal_admin, worker)
    client = Client()
    client.get(f"/accounts/activate/?t={link_token(email)}")
    page = client.get("/accounts/activate/")
    assert page["Referrer-Policy"] == "no-referrer"
    assert worker.username in page.content.decode()
    assert worker.municipality.name in page.content.decode()


def test_a_link_works_once(municipal_admin, worker, send):
    _link, email = reset(send, municipal_admin, worker)
    token = link_token(email)
    activate(Client(), token)
    again = Client().get(f"/accounts/activate/?t={token}")
    assert again.status_code == 410
    assert "Lidhja nuk është më e vlefshme" in again.content.decode()


@pytest.mark.parametrize(
    "spoil",
    [
        lambda link: ActivationLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1),
            created_at=timezone.now() - timedelta(hours=73),
        ),
        lambda link: ActivationLink.objects.filter(pk=link.pk).update(used_at=timezone.now()),
        lambda link: User.objects.filter(pk=link.account_id).update(is_active=False),
    ],
    ids=["expired", "used", "account-deactivated"],
)
def test_a_spoiled_link_gives_the_same_page_as_an_unknown_one(municipal_admin, worker, send, spoil):
    link, email = reset(send, municipal_admin, worker)
    spoil(link)
    spoiled = Client().get(f"/accounts/activate/?t={link_token(email)}")
    unknown = Client().get("/accounts/activate/?t=not-a-token-at-all")
    assert spoiled.status_code == unknown.status_code == 410
    for response in (spoiled, unknown):
        assert response.templates[0].name == "accounts/activation_invalid.html"
        assert "Lidhja nuk është më e vlefshme" in response.content.decode()
        assert worker.username not in response.content.decode()


def test_a_link_that_expires_after_opening_sets_no_password(municipal_admin, worker, send):
    link, email = reset(send, municipal_admin, worker)
    client = Client()
    client.get(f"/accounts/activate/?t={link_token(email)}")
    ActivationLink.objects.filter(pk=link.pk).update(
        created_at=timezone.now() - timedelta(hours=73),
        expires_at=timezone.now() - timedelta(hours=1),
    )
    response = client.post(
        "/accounts/activate/", {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    )
    assert response.status_code == 410
    worker.refresh_from_db()
    assert not worker.has_usable_password()


def test_link_lasts_the_configured_hours(municipal_admin, worker, send, settings):
    settings.MBROJTJE_ACTIVATION_LINK_HOURS = 5
    link, email = reset(send, municipal_admin, worker)
    assert link.expires_at - link.created_at == timedelta(hours=5)
    assert timezone.localtime(link.expires_at).strftime("%d.%m.%Y %H:%M") in email.body


def test_a_new_link_ends_the_older_one(municipal_admin, worker, send):
    _first, first_email = reset(send, municipal_admin, worker)
    _second, second_email = send(
        services.activation_link_resend, by=municipal_admin, account=worker
    )
    assert Client().get(f"/accounts/activate/?t={link_token(first_email)}").status_code == 410
    assert Client().get(f"/accounts/activate/?t={link_token(second_email)}").status_code == 302


def test_two_tabs_posting_the_same_link_set_one_password(municipal_admin, worker, send):
    _link, email = reset(send, municipal_admin, worker)
    first, second = Client(), Client()
    for client in (first, second):
        client.get(f"/accounts/activate/?t={link_token(email)}")
    first.post(
        "/accounts/activate/", {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    )
    late = second.post(
        "/accounts/activate/",
        {
            "new_password": "another long passphrase",
            "new_password_again": "another long passphrase",
        },
    )
    assert late.status_code == 410
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)


def test_a_weak_password_is_refused_and_the_link_kept(municipal_admin, worker, send):
    link, email = reset(send, municipal_admin, worker)
    client = Client()
    _opened, refused = activate(client, link_token(email), password="short")
    assert refused.status_code == 200
    assert "Ky fjalëkalim është shumë i shkurtër" in refused.content.decode()
    link.refresh_from_db()
    assert link.used_at is None


def test_reset_ends_every_session_of_the_account(municipal_admin, worker, send):
    worker_client = signed_in_client(worker)
    assert worker_client.get("/").status_code == 200
    reset(send, municipal_admin, worker)
    assert worker_client.get("/")["Location"].startswith("/accounts/sign-in/")
    worker.refresh_from_db()
    assert not worker.has_usable_password()
    assert not AuthenticatorDevice.objects.filter(user=worker).exists()
    assert not Client().login(username=worker.username, password=PASSWORD)


def test_reset_through_the_confirmation_page(municipal_admin, worker, mailoutbox):
    client = signed_in_client(municipal_admin)
    page = client.get(f"/accounts/manage/{worker.pk}/reset/confirm/")
    assert page.status_code == 200
    assert worker.email in page.content.decode()
    assert worker.check_password(PASSWORD)  # showing the page changes nothing
    response = client.post(
        f"/accounts/manage/{worker.pk}/reset/confirm/", {"reason": "Lost her phone."}, follow=True
    )
    page = response.content.decode()
    assert f"u dërgua në {worker.email}" in page
    assert "password" not in response.context
    assert "temporary-password" not in page
    assert "accounts/manage_password.html" not in [t.name for t in response.templates]
    worker.refresh_from_db()
    assert not worker.has_usable_password()


@pytest.mark.parametrize("reason", ["", "   ", "x" * (limits.REASON + 1)])
def test_reset_and_deactivation_refuse_a_missing_or_too_long_reason(
    municipal_admin, worker, reason
):
    client = signed_in_client(municipal_admin)
    for action in ("reset", "deactivate"):
        response = client.post(
            f"/accounts/manage/{worker.pk}/{action}/confirm/", {"reason": reason}
        )
        assert response.status_code == 200
    worker.refresh_from_db()
    assert worker.is_active
    assert worker.check_password(PASSWORD)
    assert not ActivationLink.objects.filter(account=worker).exists()
    assert not AdministrativeAct.objects.exists()


def test_the_reason_is_encrypted_and_out_of_the_audit_trail(municipal_admin, worker, send):
    reason = "Ajo më tha se Agim Hoxha i mori telefonin."
    reset(send, municipal_admin, worker, reason=reason)
    [event] = AuditEvent.objects.filter(
        action=Action.ACCOUNT_ADMINISTERED, object_id=str(worker.pk)
    )
    assert "Hoxha" not in str(AuditEvent.objects.values())
    act = AdministrativeAct.objects.get()
    assert f'"act":"{act.pk}"' in event.detail
    assert b"Hoxha" not in bytes(AdministrativeAct.objects.values_list("reason", flat=True)[0])
    assert act.reason == reason


def equality_officer(municipality):
    return UserFactory(municipality=municipality, roles=[Role.GENDER_EQUALITY_OFFICER])


def test_the_officer_reads_the_reason_from_the_event(municipal_admin, worker, send):
    officer = equality_officer(worker.municipality)
    reset(send, municipal_admin, worker, reason="Lost her phone.")
    event = AuditEvent.objects.get(action=Action.ACCOUNT_ADMINISTERED, object_id=str(worker.pk))
    client = signed_in_client(officer)
    timeline = client.get("/audit/").content.decode()
    assert f"/accounts/acts/of-event/{event.pk}/" in timeline
    page = client.get(f"/accounts/acts/of-event/{event.pk}/")
    assert "Lost her phone." in page.content.decode()
    assert AuditEvent.objects.filter(
        action=Action.AUDIT_VIEWED, object_type="accounts.administrativeact"
    ).exists()


def test_only_an_officer_of_the_municipality_reads_a_reason(
    municipal_admin, worker, head, officer, other_municipality, send
):
    reset(send, municipal_admin, worker)
    event = AuditEvent.objects.get(action=Action.ACCOUNT_ADMINISTERED, object_id=str(worker.pk))
    foreign_officer = UserFactory(
        municipality=other_municipality, roles=[Role.GENDER_EQUALITY_OFFICER]
    )
    for reader in (municipal_admin, head, foreign_officer):
        assert (
            signed_in_client(reader).get(f"/accounts/acts/of-event/{event.pk}/").status_code == 404
        )


def test_each_act_is_one_audit_event(municipal_admin, worker, send):
    before = AuditEvent.objects.filter(action=Action.ACCOUNT_ADMINISTERED).count()
    link, _email = reset(send, municipal_admin, worker)
    events = AuditEvent.objects.filter(action=Action.ACCOUNT_ADMINISTERED).order_by("pk")
    assert events.count() == before + 1
    assert f'"activation_link":{link.pk}' in events.last().detail
    assert '"what":"credentials_reset"' in events.last().detail


def test_no_link_goes_to_an_unconfirmed_address(municipal_admin, worker, mailoutbox):
    User.objects.filter(pk=worker.pk).update(email_confirmed_at=None)
    worker.refresh_from_db()
    with pytest.raises(services.LinkNotSent):
        services.account_credentials_reset(by=municipal_admin, account=worker, reason="Phone.")
    worker.refresh_from_db()
    assert worker.check_password(PASSWORD)
    assert not ActivationLink.objects.exists()
    assert mailoutbox == []


def test_a_reset_link_never_goes_to_an_address_waiting_for_confirmation(
    municipal_admin, worker, send
):
    """The administrator who asks for a new address and then a reset gets the link sent
    to the old, confirmed address: the new one is used only once a second person
    confirms it."""
    old_address = worker.email
    services.account_update(
        by=municipal_admin,
        account=worker,
        version=worker.version,
        first_name=worker.first_name,
        last_name=worker.last_name,
        email="someone.else@example.invalid",
        roles=set(worker.roles),
        institution=None,
    )
    worker.refresh_from_db()
    assert worker.email_requested == "someone.else@example.invalid"
    link, email = reset(send, municipal_admin, worker)
    assert email.to == [old_address]
    assert link.sent_to == old_address


def test_an_account_without_a_confirmed_address_gets_no_link(municipal_admin, worker):
    User.objects.filter(pk=worker.pk).update(email_confirmed_at=None)
    worker.refresh_from_db()
    with pytest.raises(services.LinkNotSent):
        services.account_credentials_reset(by=municipal_admin, account=worker, reason="Phone.")
    assert not worker.activation_links.exists()


def test_the_email_carries_the_link_and_nothing_personal(municipal_admin, worker, send):
    link, email = reset(send, municipal_admin, worker)
    text = email.subject + email.body
    for personal in (worker.first_name, worker.last_name, worker.username):
        assert personal not in text
    assert "http://127.0.0.1:8000/accounts/activate/?t=" in email.body
    assert "administratorin" in email.body  # "tell your administrator", in Albanian
    assert "Not expected? Tell your administrator." in email.body
    assert link.token_digest not in email.body
    assert link_token(email) not in str(ActivationLink.objects.values())


def test_approval_sends_the_waiting_link_once(municipal_admin, send, mailoutbox):
    new = services.account_create(
        by=municipal_admin,
        username="pmf.e.re",
        first_name="Besa",
        last_name="Kraja",
        email="besa@example.invalid",
        roles={Role.CHILD_PROTECTION_WORKER},
    )
    assert new.activation_link is None
    # What the second administrator's approval does (branch "roles").
    User.objects.filter(pk=new.user.pk).update(email_confirmed_at=timezone.now())
    approver = UserFactory(
        municipality=municipal_admin.municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR]
    )
    link, email = send(services.activation_send_if_waiting, by=approver, account=new.user)
    assert link.purpose == ActivationLink.Purpose.NEW_ACCOUNT
    assert email.to == ["besa@example.invalid"]
    assert services.activation_send_if_waiting(by=approver, account=new.user) is None
    assert len(mailoutbox) == 1


def test_a_new_account_with_a_confirmed_address_gets_its_link_at_once(municipal_admin, send):
    # On this branch nothing confirms a new address yet; the platform's path does.
    new, email = send(
        services.account_create_by_platform,
        username="admin.tjeter",
        first_name="Ilir",
        last_name="Basha",
        email="ilir@example.invalid",
        role=Role.MUNICIPAL_ADMINISTRATOR,
        municipality=municipal_admin.municipality,
    )
    client = Client()
    _opened, chosen = activate(client, link_token(email))
    assert chosen["Location"] == "/accounts/second-factor/enrol/"
    new.user.refresh_from_db()
    assert new.user.check_password(NEW_PASSWORD)


def test_resend_refuses_an_account_that_has_a_password(municipal_admin, worker):
    response = signed_in_client(municipal_admin).post(
        f"/accounts/manage/{worker.pk}/send-link/", follow=True
    )
    assert response.status_code == 200
    assert not ActivationLink.objects.filter(account=worker).exists()


def test_someone_signed_in_is_signed_out_by_opening_a_link(municipal_admin, worker, send):
    _link, email = reset(send, municipal_admin, worker)
    client = signed_in_client(municipal_admin)
    client.get(f"/accounts/activate/?t={link_token(email)}")
    assert client.get("/accounts/manage/")["Location"].startswith("/accounts/sign-in/")
