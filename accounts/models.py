"""Municipalities, institutions, staff accounts, their roles and second factors."""

import secrets
import time
import uuid
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex
from simple_history.models import HistoricalRecords

from encryption import limits
from encryption.blind_index import blind_index
from encryption.fields import EncryptedCharField, EncryptedTextField

from .roles import ROLE_PERMISSIONS, Role, may_hold_together


class Municipality(models.Model):
    """A bashki. Its code prefixes the case numbers people say on the phone."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(
        _("code"),
        max_length=3,
        unique=True,
        help_text=_("Two or three capital letters, e.g. DR for Durrës."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2,3}$"), name="municipality_code_capitals"
            )
        ]

    def __str__(self):
        return self.name


class AdministrativeUnit(models.Model):
    """A njësi administrative of a municipality."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="administrative_units",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["municipality__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="administrative_unit_unique_name"
            )
        ]

    def __str__(self):
        return self.name


class Institution(models.Model):
    """A member of the coordinated community response (MKR) in a municipality."""

    class Kind(models.TextChoices):
        POLICE = "police", _("State Police")
        PROSECUTION = "prosecution", _("Prosecution office")
        COURT = "court", _("District court")
        HEALTH = "health", _("Health unit")
        EDUCATION = "education", _("School or education office")
        EMPLOYMENT = "employment", _("Employment office")
        STATE_SOCIAL_SERVICE = "state_social_service", _("State Social Service")
        NGO = "ngo", _("NGO")
        SHELTER = "shelter", _("Shelter")
        SOCIAL_SERVICES = "social_services", _("Municipal social services")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="institutions",
        verbose_name=_("municipality"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["municipality__name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "name"], name="institution_unique_name")
        ]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A staff account of one municipality (and, for CCR members, one institution)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("municipality"),
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("institution"),
    )
    # When a second person (or the platform) confirmed the current address.
    # Activation and reset links go only to a confirmed address, never to one
    # younger than its confirmation: whoever controls the address controls the account.
    email_confirmed_at = models.DateTimeField(
        _("e-mail address confirmed at"), null=True, blank=True, editable=False
    )
    # A new address for an account that holds or waits for a role needing
    # confirmation: `email` stays in force until a second person approves it
    # (accounts.services.role_requests_approve). Not a victim's data: plain text.
    email_requested = models.EmailField(_("requested e-mail address"), blank=True)
    email_requested_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("address change requested by"),
    )
    email_requested_at = models.DateTimeField(
        _("address change requested at"), null=True, blank=True, editable=False
    )
    # Incremented by every edit through the account pages, so that a second
    # administrator saving an older form is refused instead of overwriting.
    version = models.PositiveIntegerField(default=1, editable=False)

    # The password hash is not history worth keeping.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["username"]
        permissions = [("manage_accounts", "Manage the accounts of one's municipality")]
        constraints = [
            models.CheckConstraint(
                condition=Q(institution__isnull=True) | Q(municipality__isnull=False),
                name="user_institution_needs_municipality",
            )
        ]

    def __str__(self):
        return self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        """The roles in force: a role waiting for a second person's approval grants nothing."""
        # all() rather than values_list(): list pages prefetch the assignments.
        return frozenset(
            assignment.role for assignment in self.role_assignments.all() if assignment.in_force
        )

    @cached_property
    def pending_roles(self) -> frozenset[str]:
        """The roles requested for the account and waiting for approval (for display only)."""
        return frozenset(
            assignment.role for assignment in self.role_assignments.all() if not assignment.in_force
        )

    @property
    def is_platform_administrator(self) -> bool:
        """The national platform administrator: an active superuser, made on the server
        (`createsuperuser`), with no municipality. The second person for every
        municipality; reads no case (protocol.access refuses superusers)."""
        return self.is_active and self.is_superuser

    @property
    def awaits_approval(self) -> bool:
        return bool(self.pending_roles or self.email_requested)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def role_permissions(self) -> set[str]:
        if not self.is_active:
            return set()
        return set().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in self.roles))

    def get_role_display(self) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels[role]) for role in sorted(self.roles) if role in labels)

    def get_pending_role_display(self) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels[role]) for role in sorted(self.pending_roles) if role in labels)


class SignInThrottle(models.Model):
    """Failed sign-in attempts under one key: an account as typed from one client, or
    one client whatever the account (`account` empty). See accounts/throttling.py.

    Both keys are blind indexes: people type passwords into the username box, and
    the table must not keep them, nor the addresses of the clients.
    """

    account = models.CharField(max_length=64, blank=True)
    client = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    # The clock of forgiving: failures are forgiven one per interval run since.
    counted_at = models.DateTimeField(default=timezone.now, db_index=True)
    blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "client"], name="sign_in_throttle_unique")
        ]

    def __str__(self):
        return f"sign-in throttle {self.pk}"


class RoleAssignment(models.Model):
    """A role of an account: requested by `assigned_by`, in force once `approved_at` is set.

    A role that needs confirmation (roles.ROLES_NEEDING_CONFIRMATION) is created
    waiting when an administrator grants it, and a second person approves it;
    the platform (the server's command line, seeding) grants in force directly,
    with `approved_by` empty.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("account")
    )
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    assigned_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    approved_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    # Empty: requested and waiting. A forgotten approval grants nothing.
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_assignment_unique"),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="role_assignment_known_role"
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | Q(approved_at__isnull=False),
                name="role_assignment_approver_has_time",
            ),
            # The second person is second: neither the one who asked nor the account.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | (
                    ~Q(approved_by=models.F("user"))
                    & (Q(assigned_by__isnull=True) | ~Q(approved_by=models.F("assigned_by")))
                ),
                name="role_assignment_approved_by_another",
            ),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.role}"

    def save(self, *args, **kwargs):
        # Separation of duties holds whatever path grants a role: the account
        # pages, the command line, seeding, a shell.
        self.clean_combination()
        super().save(*args, **kwargs)

    @property
    def in_force(self) -> bool:
        return self.approved_at is not None

    def clean_combination(self) -> None:
        held = RoleAssignment.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
        for other in held.values_list("role", flat=True):
            if not may_hold_together(self.role, other):
                labels = dict(Role.choices)
                raise ValidationError(
                    _("The roles %(first)s and %(second)s cannot be held by one account.")
                    % {"first": labels[self.role], "second": labels[other]}
                )


class ActivationLink(models.Model):
    """A single-use link with which a person sets their password and enrols a new
    second factor: the only way into a new or reset account.

    Only the SHA-256 of the token is stored: the token itself is in the e-mail
    alone, so neither the database nor an administrator can use a link.
    """

    class Purpose(models.TextChoices):
        NEW_ACCOUNT = "new_account", _("new account")
        RESET = "reset", _("reset of password and second factor")

    account = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="activation_links",
        verbose_name=_("account"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    # Null when the platform (the server's command line) made it.
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    # The account's confirmed address when the link was made: where it went.
    sent_to = models.EmailField(_("sent to"))
    sent_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # A newer link, a deactivation or a later reset ends a link that was never used.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("activation link")
        verbose_name_plural = _("activation links")
        ordering = ["-created_at"]
        constraints = [
            # At most one link of an account can be used at any time, even when
            # two administrators send one at the same moment.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(used_at__isnull=True, withdrawn_at__isnull=True),
                name="activation_link_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="activation_link_expires_after_creation",
            ),
        ]

    def __str__(self):
        return f"activation link {self.pk}"

    def is_usable(self, now=None) -> bool:
        return (
            self.used_at is None
            and self.withdrawn_at is None
            and self.expires_at > (now or timezone.now())
        )


class AdministrativeAct(models.Model):
    """The reason an administrator gave for a deactivation or a reset.

    Free text that may name people, so encrypted, and kept out of the audit
    trail, whose event names this row by its id; the gender-equality officer
    reads it from the event.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("administrator")
    )
    what = models.CharField(_("what"), max_length=40)
    reason = EncryptedTextField(_("reason"), max_length=limits.REASON)
    done_at = models.DateTimeField(_("done at"), default=timezone.now)

    class Meta:
        verbose_name = _("administrative act")
        verbose_name_plural = _("administrative acts")

    def __str__(self):
        return f"administrative act {self.pk}"


class RequestRefusal(models.Model):
    """A second person's refusal of what waited on an account (roles, a new address).

    The words of the refusal are an administrative act's, like every reason an
    administrator types: encrypted there, and read by the officer from the event.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="request_refusals", verbose_name=_("account")
    )
    refused_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("refused by"),
    )
    refused_at = models.DateTimeField(_("refused at"), default=timezone.now)
    roles = models.JSONField(_("roles refused"), default=list, blank=True)
    email_refused = models.BooleanField(_("address change refused"), default=False)
    act = models.OneToOneField(
        AdministrativeAct,
        on_delete=models.PROTECT,
        related_name="refusal",
        verbose_name=_("administrative act"),
    )

    class Meta:
        verbose_name = _("refused request")
        verbose_name_plural = _("refused requests")
        ordering = ["-refused_at"]

    def __str__(self):
        return f"refusal {self.pk}"

    def get_role_display(self) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels[role]) for role in self.roles if role in labels)

    @property
    def reason(self) -> str:
        return self.act.reason


def _new_totp_key() -> str:
    return random_hex(20)


class AuthenticatorDevice(ThrottlingMixin, Device):
    """A TOTP authenticator app on the user's phone."""

    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @classmethod
    def create_for(cls, user, *, confirmed: bool, name: str = "authenticator"):
        device = cls.objects.create(user=user, name=name, confirmed=confirmed)
        AuthenticatorSecret.objects.create(device=device)
        return device

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.secret.key.encode())

    def totp(self) -> TOTP:
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        return totp

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        token = str(token).strip().replace(" ", "")
        verified = False
        if token.isdigit() and len(token) == self.digits:
            totp = self.totp()
            # last_t + 1: a code is accepted once only, even within its window.
            verified = totp.verify(int(token), self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def base32_key(self) -> str:
        """The key as authenticator apps take it when typed by hand."""
        return b32encode(self.bin_key).decode("ascii")

    def config_url(self) -> str:
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = quote(f"{issuer}:{self.user.get_username()}")
        params = urlencode(
            {
                "secret": self.base32_key,
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
                "issuer": issuer,
            }
        )
        return f"otpauth://totp/{label}?{params}"


class AuthenticatorSecret(models.Model):
    """The TOTP key of an authenticator, encrypted: a leaked database must not hand
    over second factors (django-otp's own TOTPDevice stores it in clear).

    A row of its own because an encrypted value is bound to a UUID primary key,
    while django-otp identifies devices by integer ids.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.OneToOneField(
        AuthenticatorDevice, on_delete=models.CASCADE, related_name="secret"
    )
    key = EncryptedCharField(max_length=80, default=_new_totp_key)

    def __str__(self):
        return f"secret of device {self.device_id}"


BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BACKUP_CODE_PURPOSE = "second-factor-backup-code"


def normalise_backup_code(token: str) -> str:
    return "".join(ch for ch in str(token).lower() if ch in BACKUP_CODE_ALPHABET)


def new_backup_code() -> str:
    code = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(10))
    return f"{code[:5]}-{code[5:]}"


class BackupCodeDevice(ThrottlingMixin, Device):
    """Single-use backup codes, kept only as keyed hashes."""

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        code = normalise_backup_code(token)
        used = 0
        if len(code) == 10:
            used, _deleted = self.codes.filter(
                digest=blind_index(code, purpose=BACKUP_CODE_PURPOSE)
            ).delete()
        if used:
            self.throttle_reset(commit=True)
            return True
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self):
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="backup_code_unique")
        ]

    def __str__(self):
        return f"backup code of device {self.device_id}"


class Notification(models.Model):
    """Something waiting for a user in Mbrojtje, shown in the application (and announced
    by an e-mail that says no more than that).

    Nothing sensitive is stored: the message is built at display time from `kind`
    and the case number, so it is read in the user's language.
    """

    class Kind(models.TextChoices):
        REFERRAL_NEW = "referral_new", _("new referral")
        REFERRAL_ANSWERED = "referral_answered", _("referral answered")
        REFERRAL_ACTION = "referral_action", _("action recorded on a referral")
        REFERRAL_ENDED = "referral_ended", _("referral ended")
        DEADLINE_DUE = "deadline_due", _("deadline within a day")
        DEADLINE_OVERDUE = "deadline_overdue", _("deadline passed")
        ORDER_EXPIRING = "order_expiring", _("protection order expiring soon")
        ROLE_REQUESTED = "role_requested", _("a role was requested for your account")
        ROLE_APPROVED = "role_approved", _("the roles of your account were approved")
        ROLE_REFUSED = "role_refused", _("a request for your account was refused")
        APPROVAL_WAITING = "approval_waiting", _("an account waits for approval")
        PLAN_SUBMITTED = "plan_submitted", _("a plan waits for your approval")
        PLAN_APPROVED = "plan_approved", _("the plan was approved")
        PLAN_RETURNED = "plan_returned", _("the plan was returned for changes")
        CLOSURE_PROPOSED = "closure_proposed", _("a closure waits for your decision")
        CLOSURE_APPROVED = "closure_approved", _("the closure was approved")
        CLOSURE_REFUSED = "closure_refused", _("the closure was refused")
        MEETING_INVITED = "meeting_invited", _("your institution is invited to a meeting")
        CASE_REOPENED = "case_reopened", _("a closed case of yours was reopened")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    case_number = models.CharField(_("case number"), max_length=20, blank=True)
    # A path inside Mbrojtje (the case or the referral page), never an outside address.
    target_url = models.CharField(_("link"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_url__startswith="/") & ~Q(target_url__startswith="//"),
                name="notification_target_inside_mbrojtje",
            )
        ]

    def __str__(self):
        return f"notification {self.pk}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("accounts:notification_open", kwargs={"pk": self.pk})

    @property
    def message(self) -> str:
        what = self.get_kind_display()
        if not self.case_number:
            return str(what)
        return _("Case %(number)s: %(what)s") % {"number": self.case_number, "what": what}
