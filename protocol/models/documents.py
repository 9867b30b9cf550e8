"""Documents uploaded to a case: scans of court decisions, medical and police reports.

The row holds what lists need; the content lives in a file of its own under
the documents folder, encrypted (protocol.documents writes and reads it). What
could tell who the document is about, or confirm a guess of its content, is
encrypted in the row as well: the title, the original file name and the
SHA-256 of the content (a hash of a known form letter would confirm it).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from encryption import limits
from encryption.fields import EncryptedCharField

from .cases import Case

__all__ = ["Document", "DocumentCategory", "DocumentType"]


class DocumentCategory(models.TextChoices):
    COURT_DECISION = "court_decision", _("court decision")
    MEDICAL_REPORT = "medical_report", _("medical report")
    POLICE_REPORT = "police_report", _("police report")
    SOCIAL_REPORT = "social_report", _("social report")
    OTHER = "other", _("other")


class DocumentType(models.TextChoices):
    """The kinds of file accepted, recognised by their first bytes (protocol.documents)."""

    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", "JPEG"
    PNG = "image/png", "PNG"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[self.value]


class Document(models.Model):
    """A file of a case, kept encrypted on disk under a random name."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: deleting the row must go through a service that deletes the file
    # too, or the ciphertext would stay on disk with nothing pointing at it.
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="documents", verbose_name=_("case")
    )
    category = models.CharField(_("category"), max_length=20, choices=DocumentCategory.choices)
    title = EncryptedCharField(_("title"), max_length=limits.LINE)
    original_filename = EncryptedCharField(_("original file name"), max_length=255)
    content_type = models.CharField(
        _("file type"), max_length=20, choices=DocumentType.choices, editable=False
    )
    size = models.PositiveBigIntegerField(_("size in bytes"), editable=False)
    sha256 = EncryptedCharField(_("SHA-256 of the content"), max_length=64, editable=False)
    storage_name = models.CharField(max_length=64, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=DocumentType.values), name="document_allowed_type"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="document_not_empty"),
        ]

    def __str__(self):
        return f"{self.category} {self.pk}"

    def get_absolute_url(self):
        return self.case.get_absolute_url() + "#documents"

    @property
    def extension(self) -> str:
        return DocumentType(self.content_type).extension
