"""Failed sign-ins make the next try of that client wait; they never lock an account."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from accounts import throttling
from accounts.models import SignInThrottle
from tests.conftest import enrolled, signed_in_client, totp_code
from tests.factories import PASSWORD

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
WAIT = "Shumë përpjekje të dështuara. Prisni"
WRONG = "Emri i përdoruesit ose fjalëkalimi nuk është i saktë."


def waits_for_minutes():
    """As if many more failures had come: every delay now runs for ten minutes."""
    SignInThrottle.objects.filter(blocked_until__isnull=False).update(
        blocked_until=timezone.now() + timedelta(minutes=10)
    )


def sign_in(client, username, password="wrong guess 1"):  # noqa: S107
    return client.post("/accounts/sign-in/", {"username": username, "password": password})


@pytest.fixture
def few_tries(settings):
    settings.MBROJTJE_SIGN_IN_FREE_TRIES = 3
    settings.MBROJTJE_SIGN_IN_CLIENT_FREE_TRIES = 6
    return settings


def test_after_the_free_tries_the_right_password_waits_unchecked(worker, few_tries):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        assert WRONG in sign_in(attacker, worker.username).content.decode()

    response = sign_in(attacker, worker.username, PASSWORD)

    assert response.status_code == 429
    assert f"{WAIT} 1 sekondë dhe provoni përsëri." in response.content.decode()
    assert "_auth_user_id" not in attacker.session


def test_the_wait_is_said_in_minutes_with_albanian_plurals(worker, few_tries):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        sign_in(attacker, worker.username)
    waits_for_minutes()
    assert f"{WAIT} 10 minuta" in sign_in(attacker, worker.username).content.decode()


def test_the_owner_signs_in_from_elsewhere_while_the_attacker_waits(worker, few_tries):
    device = enrolled(worker)
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        sign_in(attacker, worker.username)
    waits_for_minutes()
    assert sign_in(attacker, worker.username, PASSWORD).status_code == 429

    owner = Client(REMOTE_ADDR=OWNER)
    assert sign_in(owner, worker.username, PASSWORD).status_code == 302
    assert owner.post("/accounts/second-factor/", {"token": totp_code(device)}).status_code == 302
    assert owner.get("/").status_code == 200


def _answer(response, username) -> tuple[int, str]:
    page = response.content.decode().replace(username, "USERNAME")
    return response.status_code, re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_unknown_and_existing_usernames_get_the_same_answers(worker, few_tries):
    known, unknown = Client(REMOTE_ADDR=ATTACKER), Client(REMOTE_ADDR=OWNER)
    answers = {"known": [], "unknown": []}
    for attempt in range(5):
        password = PASSWORD if attempt == 4 else f"wrong guess {attempt}"
        answers["known"].append(_answer(sign_in(known, worker.username, password), "pmf.dr"))
        answers["unknown"].append(_answer(sign_in(unknown, "xyz.qw", password), "xyz.qw"))

    assert answers["known"] == answers["unknown"]
    assert [status for status, _page in answers["known"]] == [200, 200, 200, 429, 429]


def test_a_client_trying_many_accounts_waits_after_its_higher_allowance(
    worker, other_worker, few_tries
):
    sprayer = Client(REMOTE_ADDR=ATTACKER)
    for number in range(6):
        assert sign_in(sprayer, f"emer.{number}", "Pranvera2026!").status_code == 200

    assert sign_in(sprayer, worker.username, PASSWORD).status_code == 429
    assert sign_in(Client(REMOTE_ADDR=OWNER), other_worker.username, PASSWORD).status_code == 302


def test_wrong_codes_count_with_wrong_passwords_for_the_same_client(worker, few_tries):
    device = enrolled(worker)
    client = Client(REMOTE_ADDR=ATTACKER)
    sign_in(client, worker.username)
    assert sign_in(client, worker.username, PASSWORD).status_code == 302
    client.post("/accounts/second-factor/", {"token": "000000"})
    client.post("/accounts/second-factor/", {"token": "000001"})
    waits_for_minutes()

    response = client.post("/accounts/second-factor/", {"token": totp_code(device)})

    assert response.status_code == 200
    assert WAIT in response.content.decode()
    assert client.get("/")["Location"] == "/accounts/second-factor/"


def test_a_right_password_alone_does_not_clear_the_count_of_wrong_codes(worker, few_tries):
    enrolled(worker)
    client = Client(REMOTE_ADDR=ATTACKER)
    for code in ("000000", "000001"):
        sign_in(client, worker.username, PASSWORD)
        client.post("/accounts/second-factor/", {"token": code})
    sign_in(client, worker.username, PASSWORD)
    client.post("/accounts/second-factor/", {"token": "000002"})
    waits_for_minutes()

    assert sign_in(Client(REMOTE_ADDR=ATTACKER), worker.username, PASSWORD).status_code == 429


def test_the_owners_sign_in_does_not_clear_the_attackers_count(worker, few_tries):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    sign_in(attacker, worker.username)
    sign_in(attacker, worker.username)
    signed_in_client(worker)  # the owner, from the test client's own address

    sign_in(attacker, worker.username)
    waits_for_minutes()

    assert sign_in(attacker, worker.username, PASSWORD).status_code == 429


def test_a_completed_sign_in_clears_the_count_of_its_own_client(worker, few_tries):
    sign_in(Client(), worker.username)
    sign_in(Client(), worker.username)
    signed_in_client(worker)

    sign_in(Client(), worker.username)
    sign_in(Client(), worker.username)

    assert sign_in(Client(), worker.username, PASSWORD).status_code == 302


def test_the_name_is_counted_as_typed_whatever_its_case(worker, few_tries):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for username in ("PMF.DR", "Pmf.Dr", "pmf.dr"):
        sign_in(attacker, username)
    assert sign_in(attacker, worker.username, PASSWORD).status_code == 429


def test_the_wait_passes(worker, few_tries):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        sign_in(attacker, worker.username)
    SignInThrottle.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))

    assert sign_in(attacker, worker.username, PASSWORD).status_code == 302


def test_delays_double_after_the_free_tries_up_to_the_maximum(settings):
    settings.MBROJTJE_SIGN_IN_MAX_DELAY_MINUTES = 15
    delays = [throttling.delay_after(failures, 5).total_seconds() for failures in range(4, 12)]
    assert delays == [0, 1, 2, 4, 8, 16, 32, 64]
    assert throttling.delay_after(50, 5) == timedelta(minutes=15)


def test_quiet_time_forgives_failures(worker, few_tries):
    few_tries.MBROJTJE_SIGN_IN_FORGIVE_MINUTES = 60
    attacker = Client(REMOTE_ADDR=ATTACKER)
    sign_in(attacker, worker.username)
    sign_in(attacker, worker.username)
    # Two hours later two failures are forgiven: two more are free again.
    SignInThrottle.objects.update(counted_at=timezone.now() - timedelta(hours=2, minutes=1))
    sign_in(attacker, worker.username)
    sign_in(attacker, worker.username)

    assert sign_in(attacker, worker.username, PASSWORD).status_code == 302


def test_the_table_keeps_neither_the_name_typed_nor_the_address(worker, few_tries):
    sign_in(Client(REMOTE_ADDR=ATTACKER), "my secret password")
    rows = list(SignInThrottle.objects.values_list("account", "client"))
    assert rows
    for account, client in rows:
        for clear in ("my secret password", "secret", ATTACKER):
            assert clear not in account
            assert clear not in client


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("::ffff:203.0.113.9", "203.0.113.9", True),
        ("203.0.113.9", "203.0.113.10", False),
    ],
)
def test_an_ipv6_client_is_its_64_network(first, second, same):
    assert (throttling.client_network(first) == throttling.client_network(second)) is same


def test_wrong_current_passwords_on_the_password_page_count(worker, few_tries):
    client = signed_in_client(worker)
    form = {"new_password": "a new long passphrase", "new_password_again": "a new long passphrase"}
    for attempt in range(3):
        response = client.post(
            "/accounts/me/password/", {"old_password": f"guess {attempt}", **form}
        )
        assert "Fjalëkalimi i tanishëm nuk është i saktë." in response.content.decode()
    waits_for_minutes()

    response = client.post("/accounts/me/password/", {"old_password": PASSWORD, **form})

    assert response.status_code == 200
    assert WAIT in response.content.decode()
    worker.refresh_from_db()
    assert worker.check_password(PASSWORD)
    # The same count as signing in from this client.
    assert sign_in(Client(), worker.username, PASSWORD).status_code == 429


def test_an_attempt_is_counted_before_its_password_is_checked(worker, few_tries):
    # Parallel tries must not all pass the check before any of them is counted.
    counted_while_checking = []

    def authenticate(request, **credentials):
        counted_while_checking.append(
            SignInThrottle.objects.get(account=throttling.account_key("pmf.dr")).failures
        )

    with mock.patch("accounts.services.authenticate", authenticate):
        sign_in(Client(REMOTE_ADDR=ATTACKER), worker.username)

    assert counted_while_checking == [1]


def test_a_right_password_at_the_last_free_try_leaves_no_wait(worker, few_tries):
    device = enrolled(worker)
    client = Client(REMOTE_ADDR=OWNER)
    sign_in(client, worker.username)
    sign_in(client, worker.username)

    assert sign_in(client, worker.username, PASSWORD).status_code == 302
    response = client.post("/accounts/second-factor/", {"token": totp_code(device)})

    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_frequent_right_sign_ins_do_not_postpone_forgiving(worker, other_worker, few_tries):
    office = Client(REMOTE_ADDR=OWNER)
    sign_in(office, "emer.gabim")
    for _ in range(2):
        # Forty minutes pass, and a colleague signs in from the same office.
        SignInThrottle.objects.update(counted_at=F("counted_at") - timedelta(minutes=40))
        sign_in(Client(REMOTE_ADDR=OWNER), other_worker.username, PASSWORD)

    assert SignInThrottle.objects.get(account="").failures == 0
