"""Transfers of a case to another municipality, and emergency ("break-glass") access.

A transfer moves the case, and the access to it, to the receiving municipality
once its supervisor accepts. Emergency access lets a worker open a case outside
their scope for a few hours, read only, with a written justification that the
gender-equality officer reviews afterwards; it grants no permission rows, so it
ends by itself when `expires_at` passes (protocol.access checks it at each read).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from encryption import limits
from encryption.fields import EncryptedTextField

from .cases import Case


class TransferState(models.TextChoices):
    REQUESTED = "requested", _("awaiting an answer")
    ACCEPTED = "accepted", _("accepted")
    REFUSED = "refused", _("refused")
    CANCELLED = "cancelled", _("cancelled")


class CaseTransfer(models.Model):
    """A request to move a case to another municipality, and its answer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_municipality = models.ForeignKey(
        "accounts.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("from municipality"),
    )
    to_municipality = models.ForeignKey(
        "accounts.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("to municipality"),
    )
    reason = EncryptedTextField(_("reason for the transfer"), max_length=limits.REASON)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=12, choices=TransferState.choices, default=TransferState.REQUESTED
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer = EncryptedTextField(_("answer"), blank=True, null=True, max_length=limits.REASON)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("case transfer")
        verbose_name_plural = _("case transfers")
        indexes = [models.Index(fields=["to_municipality", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state=TransferState.REQUESTED),
                name="case_transfer_one_open_per_case",
                violation_error_message=_("A transfer of this case already awaits an answer."),
            ),
            models.CheckConstraint(
                condition=~Q(from_municipality=F("to_municipality")),
                name="case_transfer_to_another_municipality",
                violation_error_message=_("A case is transferred to another municipality."),
            ),
        ]

    def __str__(self):
        return f"transfer {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state == TransferState.REQUESTED


class EmergencyAccess(models.Model):
    """One opening of a case outside the user's scope, in an emergency.

    `municipality` is the case's municipality when it was opened: its
    gender-equality officer reviews the event even if the case moves later.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="emergency_accesses")
    municipality = models.ForeignKey(
        "accounts.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("municipality of the case"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="emergency_accesses",
        verbose_name=_("opened by"),
    )
    justification = EncryptedTextField(_("justification"), max_length=limits.REASON)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    expires_at = models.DateTimeField(_("access ends"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    review_comment = EncryptedTextField(
        _("review comment"), blank=True, null=True, max_length=limits.REASON
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        indexes = [
            models.Index(fields=["user", "expires_at"]),
            models.Index(fields=["municipality", "reviewed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("opened_at")),
                name="emergency_access_ends_after_it_opens",
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True) | Q(reviewed_by__isnull=False),
                name="emergency_access_review_has_reviewer",
            ),
        ]

    def __str__(self):
        return f"emergency access {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()
