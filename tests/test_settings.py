import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def production_environment(**overrides) -> dict[str, str]:
    """The environment of .env.example with a fresh secret key, as a deployment would have."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "MBROJTJE_", "DATABASE_URL"))
    }
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            environment[key.strip()] = value.strip()
    environment["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    environment.update(overrides)
    return {key: value for key, value in environment.items() if value is not None}


def run_manage(*arguments, environment):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deployment_check_is_clean_with_the_example_environment():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", environment=production_environment()
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY is not set"),
        ({"MBROJTJE_FIELD_KEYS": ""}, "MBROJTJE_FIELD_KEYS is not set"),
        ({"MBROJTJE_FIELD_KEYS": "1:c2hvcnQ="}, "must be 32 bytes"),
        ({"MBROJTJE_FIELD_KEYS": "1:not base64!"}, "not valid base64"),
        ({"MBROJTJE_FIELD_KEYS": "key-without-id"}, "id:key pairs"),
        ({"MBROJTJE_BLIND_INDEX_KEY": ""}, "MBROJTJE_BLIND_INDEX_KEY is not set"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS is not set"),
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG must be"),
    ],
)
def test_production_refuses_to_start_with_a_missing_or_malformed_secret(overrides, message):
    result = run_manage("check", environment=production_environment(**overrides))
    assert result.returncode != 0
    assert message in result.stderr
    # The message names the variable, never a key's value.
    assert "RVhBTVBMRS1PTkxZ" not in result.stderr


def test_production_refuses_the_public_development_keys():
    from encryption.keyring import development_key

    result = run_manage(
        "check",
        environment=production_environment(MBROJTJE_FIELD_KEYS=f"1:{development_key('field-1')}"),
    )
    assert result.returncode != 0
    assert "public development key" in result.stderr


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/accounts/sign-in/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_passwords_are_hashed_with_argon2_first():
    from config import settings

    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def _setting(name: str, environment) -> str:
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        f"from django.conf import settings; print(settings.{name})",
        environment=environment,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_cookies_are_bound_to_the_host():
    environment = production_environment()
    assert _setting("SESSION_COOKIE_NAME", environment) == "__Host-sessionid"
    assert _setting("CSRF_COOKIE_NAME", environment) == "__Host-csrftoken"


def test_development_over_http_keeps_plain_cookie_names():
    environment = production_environment(DJANGO_DEBUG="1", MBROJTJE_HTTPS="0")
    assert _setting("SESSION_COOKIE_NAME", environment) == "sessionid"


@pytest.mark.parametrize("name", ["MBROJTJE_LOCKOUT_THRESHOLD", "MBROJTJE_LOCKOUT_MINUTES"])
def test_the_old_lock_out_variables_stop_start_up(name):
    result = run_manage("check", environment=production_environment(**{name: "5"}))
    assert result.returncode != 0
    assert f"{name} is no longer read" in result.stderr
