"""Settings of Mbrojtje, read top to bottom.

Everything that differs between machines comes from the environment
(`.env.example` documents a production environment). Development and tests run
with DJANGO_DEBUG=1, which supplies public development keys; outside debug a
missing or malformed secret stops start-up with a message saying which.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from encryption.keyring import (
    KeyConfigurationError,
    KeyRing,
    development_key,
    parse_blind_index_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)


def secret(name: str, purpose: str) -> str:
    """A secret from the environment; in debug only, a public development value."""
    value = env(name).strip()
    if value:
        return value
    if DEBUG:
        return development_key(purpose)
    raise ImproperlyConfigured(
        f"{name} is not set. Mbrojtje will not start outside debug without it: "
        "see .env.example for how to generate one."
    )


SECRET_KEY = secret("DJANGO_SECRET_KEY", "django-secret-key")
if not DEBUG and development_key("django-secret-key") == SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is the public development key.")

try:
    FIELD_ENCRYPTION_KEYS = KeyRing.parse(
        env("MBROJTJE_FIELD_KEYS") or (f"1:{development_key('field-1')}" if DEBUG else "")
    )
    BLIND_INDEX_KEY = parse_blind_index_key(
        env("MBROJTJE_BLIND_INDEX_KEY") or (development_key("blind-index") if DEBUG else "")
    )
except KeyConfigurationError as error:
    raise ImproperlyConfigured(f"{error} See .env.example for how to generate keys.") from None
_public_keys = {
    parse_blind_index_key(development_key(purpose)) for purpose in ("field-1", "blind-index")
}
if not DEBUG and (
    _public_keys & set(FIELD_ENCRYPTION_KEYS.keys.values()) or BLIND_INDEX_KEY in _public_keys
):
    raise ImproperlyConfigured("A field-encryption or blind-index key is a public development key.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is not set.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "guardian",
    "simple_history",
    "encryption",
    "accounts",
    "audit",
    "protocol",
    "cpu",
    "dv_cases",
    "reports",
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SlidingSessionMiddleware",
    "accounts.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "accounts.middleware.NoStoreMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite under var/ for the demo and quick tests; PostgreSQL in production.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'mbrojtje.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo's readers and writer work at once; IMMEDIATE avoids
    # "database is locked" when a read transaction later writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Parameters bound by the server and statements prepared after their second
    # use on a connection: PostgreSQL parses and analyses each of a page's few
    # dozen queries once per connection instead of at every request (about a
    # tenth of a case page, docs/performance.md). Each execution is still
    # planned for its own values: a generic plan, which PostgreSQL may switch
    # to after five executions, made the ten-year report 40% slower. Needs a
    # session per connection, so no PgBouncer in transaction mode; stop the
    # servers while migrating.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.update(server_side_binding=True, prepare_threshold=2)
    _options["options"] = " ".join(
        filter(None, [_options.get("options"), "-c plan_cache_mode=force_custom_plan"])
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and authentication -----------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.PasswordBackend",
    "accounts.backends.RoleBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:sign_in"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed passwords and second-factor codes make the next try wait, never lock
# an account: per account and client after the free tries, per client across
# accounts after more; 1 s, 2 s, 4 s … up to the maximum. One failure is
# forgiven every so many minutes (accounts/throttling.py, docs/security.md).
for _gone in ("MBROJTJE_LOCKOUT_THRESHOLD", "MBROJTJE_LOCKOUT_MINUTES"):
    if env(_gone).strip():
        raise ImproperlyConfigured(
            f"{_gone} is no longer read: accounts are not locked any more, failed sign-ins "
            "make the next try wait (MBROJTJE_SIGN_IN_* in .env.example). Remove it."
        )
del _gone
MBROJTJE_SIGN_IN_FREE_TRIES = env_int("MBROJTJE_SIGN_IN_FREE_TRIES", 5)
MBROJTJE_SIGN_IN_CLIENT_FREE_TRIES = env_int("MBROJTJE_SIGN_IN_CLIENT_FREE_TRIES", 20)
MBROJTJE_SIGN_IN_MAX_DELAY_MINUTES = env_int("MBROJTJE_SIGN_IN_MAX_DELAY_MINUTES", 15)
MBROJTJE_SIGN_IN_FORGIVE_MINUTES = env_int("MBROJTJE_SIGN_IN_FORGIVE_MINUTES", 60)
# New backup codes and a new password need the password typed this recently.
MBROJTJE_RECENT_AUTH_MINUTES = env_int("MBROJTJE_RECENT_AUTH_MINUTES", 5)
MBROJTJE_BACKUP_CODE_COUNT = 10

OTP_TOTP_ISSUER = env("MBROJTJE_OTP_ISSUER", "Mbrojtje")
OTP_TOTP_THROTTLE_FACTOR = 1

# Sessions end after inactivity (sliding window, kept to the minute by
# accounts.middleware.SlidingSessionMiddleware), when the browser closes, and
# MBROJTJE_SESSION_MAX_HOURS after signing in whatever the activity.
SESSION_IDLE_MINUTES = env_int("MBROJTJE_SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
MBROJTJE_SESSION_MAX_HOURS = env_int("MBROJTJE_SESSION_MAX_HOURS", 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# No CACHES: neither Mbrojtje nor a library it uses reads Django's cache, so the
# default (memory of each process) is never consulted. Sessions, lock-outs and
# second-factor throttling are in the database that every application server
# shares. Whatever starts using the cache must set a shared one first
# (docs/deployment.md, "Several application servers").

# --- Security headers ------------------------------------------------------
# Outside debug the site is served over HTTPS only (behind a reverse proxy
# that sets X-Forwarded-Proto, see docs).
HTTPS = env_bool("MBROJTJE_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# __Host-: the browser takes the cookie only from this host, over HTTPS, for
# every path, so a sibling subdomain cannot plant or overwrite it. The prefix
# needs Secure, hence plain names over http in development.
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
MBROJTJE_BEHIND_PROXY = env_bool("MBROJTJE_BEHIND_PROXY", default=False)
if MBROJTJE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
# No inline script or style anywhere: everything comes from our own static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Languages -------------------------------------------------------------
LANGUAGE_CODE = "sq"
LANGUAGES = [("sq", _("Albanian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Tirane"
USE_TZ = True
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files ------------------------------------------------------------
STATIC_URL = "static/"
# Where collectstatic writes (nginx serves it in production; see docs/deployment.md).
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# How long a referral gives its institution access, unless the worker sets
# another expiry when referring.
MBROJTJE_REFERRAL_DAYS = env_int("MBROJTJE_REFERRAL_DAYS", 30)
# The longest a referral may give access, whatever the worker sets: longer
# needs a new referral, so that sharing is decided again at least this often.
MBROJTJE_REFERRAL_MAX_DAYS = env_int("MBROJTJE_REFERRAL_MAX_DAYS", 365)
if not 0 < MBROJTJE_REFERRAL_DAYS <= MBROJTJE_REFERRAL_MAX_DAYS:
    raise ImproperlyConfigured(
        "MBROJTJE_REFERRAL_DAYS must be at least 1 and at most MBROJTJE_REFERRAL_MAX_DAYS."
    )

# How long emergency ("break-glass") access to a case outside one's scope lasts;
# every opening waits for review by the gender-equality officer.
MBROJTJE_EMERGENCY_ACCESS_HOURS = env_int("MBROJTJE_EMERGENCY_ACCESS_HOURS", 4)

# --- Documents ---------------------------------------------------------------
# Uploaded scans are stored encrypted, outside the web root; back this folder
# up together with the database (and keep the field keys to read either).
MBROJTJE_DOCUMENTS_DIR = Path(env("MBROJTJE_DOCUMENTS_DIR", str(BASE_DIR / "var" / "documents")))
MBROJTJE_DOCUMENT_MAX_BYTES = env_int("MBROJTJE_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)

# --- Audit trail -------------------------------------------------------------
# Checkpoints are signed with an Ed25519 key kept outside the database and the
# repository; `audit_verify` trusts only the public key and the checkpoint
# file, which belongs on storage the database administrators cannot write.
_AUDIT_DIR = BASE_DIR / "var" / "audit"
MBROJTJE_AUDIT_SIGNING_KEY = Path(
    env("MBROJTJE_AUDIT_SIGNING_KEY", str(_AUDIT_DIR / "checkpoint-signing-key.pem"))
)
MBROJTJE_AUDIT_VERIFY_KEY = Path(
    env("MBROJTJE_AUDIT_VERIFY_KEY", str(_AUDIT_DIR / "checkpoint-verify-key.pem"))
)
MBROJTJE_AUDIT_CHECKPOINT_FILE = Path(
    env("MBROJTJE_AUDIT_CHECKPOINT_FILE", str(_AUDIT_DIR / "checkpoints.jsonl"))
)
# Independent hash chains that writers spread over, so they do not wait for each other.
MBROJTJE_AUDIT_LANES = env_int("MBROJTJE_AUDIT_LANES", 32)
# Events are kept this many years; nothing in the application deletes them.
MBROJTJE_AUDIT_RETENTION_YEARS = env_int("MBROJTJE_AUDIT_RETENTION_YEARS", 10)
# Flags for the gender-equality officer: reads outside these hours and days
# (local time, ISO weekdays), and more than this many cases opened in so many minutes.
MBROJTJE_WORKING_HOURS = tuple(
    int(hour) for hour in env("MBROJTJE_WORKING_HOURS", "8-17").split("-", 1)
)
MBROJTJE_WORKING_DAYS = frozenset(range(1, 1 + env_int("MBROJTJE_WORKING_DAYS_PER_WEEK", 5)))
MBROJTJE_AUDIT_MANY_CASES = env_int("MBROJTJE_AUDIT_MANY_CASES", 15)
MBROJTJE_AUDIT_MANY_CASES_MINUTES = env_int("MBROJTJE_AUDIT_MANY_CASES_MINUTES", 10)
# And this many requests for a case, part, document, referral or meeting the user may
# not see (or that does not exist) in so many minutes: someone probing for case numbers.
MBROJTJE_AUDIT_REFUSALS = env_int("MBROJTJE_AUDIT_REFUSALS", 5)
MBROJTJE_AUDIT_REFUSALS_MINUTES = env_int("MBROJTJE_AUDIT_REFUSALS_MINUTES", 10)

# --- Backups -----------------------------------------------------------------
# `manage.py backup` encrypts to this X25519 public key (from `backup_keygen`);
# the private key stays offline, so this server cannot read its own backups.
# Both optional: only the backup commands need them (docs/backup.md).
MBROJTJE_BACKUP_PUBLIC_KEY = env("MBROJTJE_BACKUP_PUBLIC_KEY").strip() or None
# The folder of pg_dump and pg_restore, when not on PATH nor PostgreSQL 15's.
MBROJTJE_PG_BIN = env("MBROJTJE_PG_BIN").strip() or None

# --- E-mail ------------------------------------------------------------------
# E-mails carry no personal data: only that something waits in Mbrojtje.
EMAIL_HOST = env("DJANGO_EMAIL_HOST")
if not DEBUG and not EMAIL_HOST:
    raise ImproperlyConfigured("DJANGO_EMAIL_HOST is not set.")
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("DJANGO_EMAIL_PORT", 587),
                "username": env("DJANGO_EMAIL_HOST_USER"),
                "password": env("DJANGO_EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", default=True),
                "timeout": 20,
            },
        }
        if EMAIL_HOST
        # Debug without a mail server: each e-mail is a file in var/mail/, where
        # a tester finds activation links (the console of `runserver` scrolls away).
        else {
            "BACKEND": "config.mail.ReadableFileBackend",
            "OPTIONS": {"file_path": str(BASE_DIR / "var" / "mail")},
        }
    )
}
del EMAIL_HOST
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", "Mbrojtje <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address users reach Mbrojtje at, for the links in e-mails.
MBROJTJE_BASE_URL = env("MBROJTJE_BASE_URL", "http://127.0.0.1:8000")
# Hours an activation link (new account, reset) can be used, once.
MBROJTJE_ACTIVATION_LINK_HOURS = env_int("MBROJTJE_ACTIVATION_LINK_HOURS", 72)

# --- Logging -----------------------------------------------------------------
# Logs carry identifiers only, and go to the console (journald) alone: Django's
# default mail_admins handler would e-mail request details, POST data included.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# --- Guardian ----------------------------------------------------------------
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
