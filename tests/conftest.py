import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django_otp.oath import TOTP

from accounts.models import AuthenticatorDevice, Institution
from accounts.roles import Role
from accounts.services import backup_codes_replace
from tests.factories import PASSWORD, InstitutionFactory, MunicipalityFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is the production hasher; tests need speed, not its cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the interface's default language. A request in English through
    the test client activates English for the thread (LocaleMiddleware does not undo it),
    and the next test's messages came out in English: a failure that depended on order."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _audit_tables_emptied_after_transactional_tests(request):
    """Let the flush after a transactional test empty the append-only audit tables.

    The triggers refuse DELETE and TRUNCATE, which is how Django empties the
    database after such a test; they are dropped just before, and the
    post_migrate that follows the flush puts them back.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    yield
    if transactional:
        from django.db import connection

        from audit.protection import remove

        remove(connection)


@pytest.fixture
def checkpoint_keys(settings, tmp_path):
    """A fresh signing key pair and checkpoint file, outside the database as in production."""
    settings.MBROJTJE_AUDIT_SIGNING_KEY = tmp_path / "keys" / "signing.pem"
    settings.MBROJTJE_AUDIT_VERIFY_KEY = tmp_path / "keys" / "verify.pem"
    settings.MBROJTJE_AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints" / "checkpoints.jsonl"
    call_command("audit_keygen", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return settings


@pytest.fixture
def municipality(db):
    return MunicipalityFactory(name="Durrës", code="DR")


@pytest.fixture
def other_municipality(db):
    return MunicipalityFactory(name="Berat", code="BR")


def totp_code(device: AuthenticatorDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled(user) -> AuthenticatorDevice:
    """Give `user` a confirmed authenticator and backup codes; returns the authenticator."""
    device = AuthenticatorDevice.create_for(user, confirmed=True)
    user.backup_codes = backup_codes_replace(user=user)
    return device


def signed_in_client(user) -> Client:
    """A client signed in with password and second factor, through the real pages."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first() or enrolled(user)
    # A code is accepted once only; a test may sign the same user in twice.
    AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    client = Client()
    response = client.post("/accounts/sign-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    response = client.post("/accounts/second-factor/", {"token": totp_code(device)})
    assert response.status_code == 302, response.content
    return client


@pytest.fixture
def municipal_admin(municipality):
    return UserFactory(
        username="admin.dr", municipality=municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR]
    )


@pytest.fixture
def worker(municipality):
    return UserFactory(
        username="pmf.dr", municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER]
    )


@pytest.fixture
def police(municipality):
    return InstitutionFactory(municipality=municipality, name="Policia Durrës")


@pytest.fixture
def police_institution(municipality):
    return InstitutionFactory(
        municipality=municipality, name="Policia Durrës", kind=Institution.Kind.POLICE
    )


@pytest.fixture
def officer(municipality, police_institution):
    """A member of the referral mechanism at the police."""
    return UserFactory(
        username="polic.dr",
        municipality=municipality,
        institution=police_institution,
        roles=[Role.CCR_MEMBER],
    )


@pytest.fixture
def head(municipality):
    return UserFactory(username="kreu.dr", municipality=municipality, roles=[Role.HEAD_OF_CPU])


@pytest.fixture
def other_worker(municipality):
    return UserFactory(
        username="pmf2.dr", municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER]
    )


@pytest.fixture
def foreign_head(other_municipality):
    return UserFactory(
        username="kreu.br", municipality=other_municipality, roles=[Role.HEAD_OF_CPU]
    )


def pytest_collection_modifyitems(items):
    # Browser tests last: they are the slowest, and the live server's transactional
    # database is flushed after each, which later transactional tests would feel.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


_CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def without_tokens(page: str) -> str:
    """A page without its CSRF tokens: 64 random letters and digits may spell a short
    name ("Arta") now and then, and a test looking for leaked words must not fail on it."""
    return _CSRF_TOKEN.sub('name="csrfmiddlewaretoken"', page)
