"""Referrals of a case to a member institution of the coordinated referral mechanism."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from encryption import limits
from encryption.fields import EncryptedTextField

from .cases import Case


class ReferralState(models.TextChoices):
    NEW = "new", _("new")
    ACCEPTED = "accepted", _("accepted")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    DECLINED = "declined", _("declined")
    EXPIRED = "expired", _("expired")
    REVOKED = "revoked", _("revoked")


# While a referral is in one of these states (and not past its expiry), the
# institution sees the referred parts.
OPEN_REFERRAL_STATES = (ReferralState.NEW, ReferralState.ACCEPTED, ReferralState.IN_PROGRESS)


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("the victim's recorded consent")
    CHILD_AT_RISK = "child_at_risk", _("a child at risk (without consent)")
    COURT_ORDER = "court_order", _("a court order (without consent)")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("urgent")
    NORMAL = "normal", _("normal")


def longest_referral_message() -> str:
    days = settings.MBROJTJE_REFERRAL_MAX_DAYS
    return ngettext(
        "A referral gives access for at most %(days)d day; for longer, make a new referral.",
        "A referral gives access for at most %(days)d days; for longer, make a new referral.",
        days,
    ) % {"days": days}


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    institution = models.ForeignKey(
        "accounts.Institution",
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("institution"),
    )
    parts = models.JSONField(_("parts shared"))
    reason = EncryptedTextField(_("reason"), max_length=limits.TEXT)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=16, choices=LegalBasis.choices)
    due_date = models.DateField(_("answer due by"))
    expires_at = models.DateTimeField(_("access ends"))
    state = models.CharField(
        _("state"), max_length=12, choices=ReferralState.choices, default=ReferralState.NEW
    )
    # The member's answer, and the worker's reason if the referral is revoked.
    answer = EncryptedTextField(_("answer"), blank=True, null=True, max_length=limits.TEXT)
    # Each record is appended, with its time.
    action_taken = EncryptedTextField(
        _("what the institution did"), blank=True, null=True, max_length=limits.RECORD
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    referred_at = models.DateTimeField(_("referred at"), default=timezone.now)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-referred_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["institution", "state", "expires_at"]),
            # The inbox: an institution's referrals, newest first, a page at a time.
            models.Index(fields=["institution", "-referred_at"], name="referral_inbox"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("referred_at")),
                name="referral_expires_after_it_is_made",
                violation_error_message=_("Access must end after the referral is made."),
            )
        ]

    def __str__(self):
        return f"referral {self.pk}"

    def get_absolute_url(self):
        return reverse("protocol:referral_detail", kwargs={"pk": self.pk})

    def clean(self):
        # Not a CheckConstraint: the limit is a setting, and date arithmetic in a
        # constraint is written differently on SQLite and PostgreSQL.
        super().clean()
        longest = timedelta(days=settings.MBROJTJE_REFERRAL_MAX_DAYS)
        if self.expires_at and self.referred_at and self.expires_at > self.referred_at + longest:
            raise ValidationError({"expires_at": longest_referral_message()})

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REFERRAL_STATES and self.expires_at > timezone.now()

    def get_shown_state_display(self) -> str:
        return str(dict(ReferralState.choices)[self.shown_state])

    @property
    def shown_state(self) -> str:
        """The state as a member sees it: an open referral past its expiry is expired."""
        if self.state in OPEN_REFERRAL_STATES and self.expires_at <= timezone.now():
            return ReferralState.EXPIRED
        return self.state

    @staticmethod
    def in_shown_state(state: str) -> Q:
        """The referrals whose `shown_state` is `state`, as a filter for SQL."""
        now = timezone.now()
        if state == ReferralState.EXPIRED:
            return Q(state=state) | Q(state__in=OPEN_REFERRAL_STATES, expires_at__lte=now)
        if state in OPEN_REFERRAL_STATES:
            return Q(state=state, expires_at__gt=now)
        return Q(state=state)
