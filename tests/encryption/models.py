"""Test-only models with encrypted fields; their tables are made by this folder's conftest."""

import uuid

from django.db import models
from simple_history.models import HistoricalRecords

from encryption.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
)


class SampleRecord(models.Model):
    """One encrypted field of each kind, with history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    text = EncryptedTextField(null=True, blank=True)
    name = EncryptedCharField(max_length=20, null=True, blank=True)
    born_on = EncryptedDateField(null=True, blank=True)
    details = EncryptedJSONField(null=True, blank=True)
    history = HistoricalRecords(app="encryption")

    class Meta:
        app_label = "encryption"

    def __str__(self):
        return str(self.id)


class SampleNote(models.Model):
    """A second model with a field named like one of SampleRecord's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    text = EncryptedTextField(null=True, blank=True)

    class Meta:
        app_label = "encryption"

    def __str__(self):
        return str(self.id)
