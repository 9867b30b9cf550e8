"""What only child-protection cases have: protection measures (Law 18/2017, art. 58-59)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from encryption import limits
from encryption.fields import EncryptedTextField


class ProtectionMeasure(models.Model):
    class Kind(models.TextChoices):
        SUPERVISION = "supervision", _("specialised supervision in the family")
        EMERGENCY_PLACEMENT = "emergency_placement", _("emergency placement")
        ALTERNATIVE_CARE = "alternative_care", _("placement in alternative care")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        "protocol.Case", on_delete=models.CASCADE, related_name="protection_measures"
    )
    kind = models.CharField(_("measure"), max_length=24, choices=Kind.choices)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    court_confirmed_on = models.DateField(_("confirmed by the court on"), null=True, blank=True)
    court = models.ForeignKey(
        "accounts.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("court"),
    )
    details = EncryptedTextField(_("details"), blank=True, null=True, max_length=limits.TEXT)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["started_on"]
        verbose_name = _("protection measure")
        verbose_name_plural = _("protection measures")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="measure_ends_after_start",
                violation_error_message=_("The measure cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(court_confirmed_on__isnull=True)
                | Q(court_confirmed_on__gte=F("started_on")),
                name="measure_confirmed_after_start",
                violation_error_message=_("The court cannot confirm a measure before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.case_id})"

    def get_absolute_url(self):
        return self.case.get_absolute_url() + "#measures"

    @property
    def needs_court_confirmation(self) -> bool:
        # An emergency placement is decided on the spot and later confirmed by a court.
        return self.kind == self.Kind.EMERGENCY_PLACEMENT and self.court_confirmed_on is None
