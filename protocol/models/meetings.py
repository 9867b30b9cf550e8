"""Meetings of the technical groups: the GTN (child cases) and the ETN (DV cases)."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from encryption import limits
from encryption.fields import EncryptedTextField

from .cases import Case


class MeetingKind(models.TextChoices):
    GTN = "gtn", _("Intersectoral technical group (GTN)")
    ETN = "etn", _("Interdisciplinary technical team (ETN)")


class Meeting(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey(
        "accounts.Municipality", on_delete=models.PROTECT, related_name="meetings"
    )
    kind = models.CharField(_("group"), max_length=4, choices=MeetingKind.choices)
    scheduled_at = models.DateTimeField(_("date and time"))
    invited = models.ManyToManyField(
        "accounts.Institution", related_name="meetings", verbose_name=_("invited institutions")
    )
    cases = models.ManyToManyField(Case, related_name="meetings", verbose_name=_("agenda"))
    attendance = EncryptedTextField(_("attendance"), blank=True, null=True, max_length=limits.TEXT)
    minutes = EncryptedTextField(_("minutes"), blank=True, null=True, max_length=limits.NARRATIVE)
    decisions = EncryptedTextField(_("decisions"), blank=True, null=True, max_length=limits.TEXT)
    convened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(m2m_fields=[invited, cases])

    class Meta:
        ordering = ["-scheduled_at"]
        verbose_name = _("meeting of the technical group")
        verbose_name_plural = _("meetings of the technical groups")

    def __str__(self):
        return f"{self.kind} {self.scheduled_at:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("meetings:detail", kwargs={"pk": self.pk})
