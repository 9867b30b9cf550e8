import json
import stat
from binascii import unhexlify
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import totp

from accounts.roles import Role
from protocol.services import referrals as referral_services
from tests.cases import refer, register_child_case, take_to_monitoring
from tests.factories import PASSWORD, InstitutionFactory, UserFactory


@pytest.fixture
def work(worker, head, officer, police_institution):
    """A case in monitoring, owned by the worker and referred to the police, who accepted."""
    case = take_to_monitoring(register_child_case(worker), worker, head)
    referral = refer(worker, case, police_institution)
    referral_services.referral_answer(
        by=officer, referral=referral, version=referral.version, accept=True, answer=""
    )
    return case, referral


def loadtest_accounts(settings, tmp_path, **options):
    settings.DEBUG = True
    path = tmp_path / "accounts.json"
    output = StringIO()
    call_command("loadtest_accounts", output=path, stdout=output, **options)
    return json.loads(path.read_text()), output.getvalue(), path


def sign_in(account, token):
    client = Client()
    response = client.post(
        "/accounts/sign-in/", {"username": account["username"], "password": account["password"]}
    )
    assert response.status_code == 302
    response = client.post("/accounts/second-factor/", {"token": token})
    return client, response


@pytest.mark.django_db
def test_loadtest_accounts_refuses_outside_debug(settings, tmp_path):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="debug only"):
        call_command("loadtest_accounts", output=tmp_path / "accounts.json", stdout=StringIO())
    assert not (tmp_path / "accounts.json").exists()


def test_picks_workers_with_open_cases_and_members_with_open_referrals(
    settings, tmp_path, work, worker, other_worker, officer, municipality
):
    # A member whose institution has no referral, and a worker without a case.
    UserFactory(
        username="shkolla.dr",
        municipality=municipality,
        institution=InstitutionFactory(municipality=municipality, name="Shkolla"),
        roles=[Role.CCR_MEMBER],
    )
    case, referral = work
    data, output, path = loadtest_accounts(settings, tmp_path, workers=5, members=5)
    picked = {account["username"]: account for account in data["accounts"]}
    assert set(picked) == {worker.username, officer.username}
    assert picked[worker.username]["cases"] == [case.number]
    # The contended case is left to the contention test alone.
    assert picked[worker.username]["plan_cases"] == []
    assert data["contention"]["case"] == {
        "number": case.number,
        "username": worker.username,
        "version": case.version,
    }
    referral.refresh_from_db()
    assert data["contention"]["referral"]["id"] == str(referral.pk)
    assert data["contention"]["referral"]["version"] == referral.version
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert picked[worker.username]["password"] not in output


def test_written_accounts_sign_in_with_their_codes_and_not_the_old_password(
    settings, tmp_path, work, worker
):
    data, _output, _path = loadtest_accounts(settings, tmp_path)
    account = next(a for a in data["accounts"] if a["username"] == worker.username)
    key = account["totp"]
    code = totp(unhexlify(key["key_hex"]), key["step"], key["t0"], key["digits"])
    client, response = sign_in(account, f"{code:0{key['digits']}d}")
    assert response.status_code == 302
    assert client.get(f"/cases/{account['cases'][0]}/").status_code == 200
    _client, response = sign_in(account, account["backup_codes"][0])
    assert response.status_code == 302
    old = Client().post("/accounts/sign-in/", {"username": worker.username, "password": PASSWORD})
    assert old.status_code == 200
