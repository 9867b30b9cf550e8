"""The audit trail's tables: events, signed checkpoints, flags and their reviews.

Every table here is append-only: database triggers (migration 0002) refuse
UPDATE, DELETE and TRUNCATE, and the application never tries. Events carry
identifiers only (user, institution, municipality, object, case number), never
names, addresses or narratives.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from encryption import limits
from encryption.fields import EncryptedTextField


class Action(models.TextChoices):
    # Reads of case data
    CASE_VIEWED = "case_viewed", _("Opened a case")
    PART_VIEWED = "part_viewed", _("Opened a part of a case")
    DOCUMENT_DOWNLOADED = "document_downloaded", _("Downloaded a document")
    CASES_LISTED = "cases_listed", _("Listed or searched cases")
    EXPORTED = "exported", _("Exported data")
    # Changes
    CREATED = "created", _("Created a record")
    CHANGED = "changed", _("Changed a record")
    DELETED = "deleted", _("Deleted a record")
    # Access to cases
    ACCESS_GRANTED = "access_granted", _("Granted access to a case")
    ACCESS_REVOKED = "access_revoked", _("Removed access to a case")
    REFERRAL = "referral", _("Referral event")
    BREAK_GLASS = "break_glass", _("Emergency (break-glass) access")
    # Asked for a case, a part, a document or a referral the user may not see.
    ACCESS_REFUSED = "access_refused", _("Access refused")
    # Accounts
    SIGNED_IN = "signed_in", _("Signed in")
    SIGNED_OUT = "signed_out", _("Signed out")
    SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("Failed second factor")
    # The value predates the delays: accounts are no longer locked, a client waits.
    LOCKED_OUT = "locked_out", _("Sign-in attempts delayed")
    ACCOUNT_ADMINISTERED = "account_administered", _("Administered an account")
    # The audit trail's own use
    FLAG_REVIEWED = "flag_reviewed", _("Reviewed a flag")
    AUDIT_VIEWED = "audit_viewed", _("Viewed the audit trail")


READ_ACTIONS = frozenset(
    {
        Action.CASE_VIEWED,
        Action.PART_VIEWED,
        Action.DOCUMENT_DOWNLOADED,
        Action.CASES_LISTED,
        Action.EXPORTED,
        Action.BREAK_GLASS,
    }
)


class AuditEvent(models.Model):
    """One thing somebody did, chained to the event before it in its lane.

    Writers append to one of several lanes (independent hash chains) so that
    many users reading cases at once do not queue behind one lock; a
    checkpoint signs the heads of all lanes together.
    """

    lane = models.PositiveSmallIntegerField(_("lane"))
    seq = models.PositiveBigIntegerField(_("position in the lane"))
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    actor_id = models.BigIntegerField(_("user"), null=True, blank=True)
    actor_institution_id = models.BigIntegerField(_("user's institution"), null=True, blank=True)
    actor_municipality_id = models.BigIntegerField(_("user's municipality"), null=True, blank=True)
    # The municipality the event concerns: the case's, else the user's.
    municipality_id = models.BigIntegerField(_("municipality"), null=True, blank=True)
    object_type = models.CharField(_("object type"), max_length=80, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    case_id = models.UUIDField(_("case id"), null=True, blank=True)
    case_number = models.CharField(_("case number"), max_length=32, blank=True)
    part = models.CharField(_("parts"), max_length=200, blank=True)
    ip_address = models.CharField(_("IP address"), max_length=45, blank=True)
    justification = models.TextField(_("justification"), blank=True)
    # Canonical JSON of identifiers and counts only (see audit.chain).
    detail = models.TextField(_("detail"), blank=True)
    entry_hash = models.BinaryField(_("hash"), max_length=32)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.UniqueConstraint(fields=["lane", "seq"], name="audit_event_lane_seq"),
        ]
        indexes = [
            models.Index(fields=["actor_id", "occurred_at"], name="audit_event_actor"),
            models.Index(fields=["case_number", "occurred_at"], name="audit_event_case"),
            models.Index(fields=["municipality_id", "occurred_at"], name="audit_event_muni"),
            models.Index(
                fields=["actor_municipality_id", "occurred_at"], name="audit_event_actor_muni"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.occurred_at:%Y-%m-%d %H:%M}"


class Checkpoint(models.Model):
    """A signed statement of every lane's head, chained to the checkpoint before.

    The same payload and signature are appended to a file outside the database
    (`MBROJTJE_AUDIT_CHECKPOINT_FILE`); `audit_verify` trusts the public key
    and that file, not this table.
    """

    number = models.PositiveIntegerField(_("number"), unique=True)
    made_at = models.DateTimeField(_("made at"))
    events = models.PositiveBigIntegerField(_("events covered"))
    payload = models.TextField(_("signed payload"))
    signature = models.CharField(_("signature"), max_length=128)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["number"]

    def __str__(self):
        return f"checkpoint {self.number}"


class FlagKind(models.TextChoices):
    BREAK_GLASS = "break_glass", _("Emergency (break-glass) access")
    AFTER_HOURS = "after_hours", _("Access outside working hours")
    MANY_CASES = "many_cases", _("Many cases opened in a short time")
    OUTSIDE_MUNICIPALITY = "outside_municipality", _("Access outside one's municipality")
    FAILED_SIGN_INS = "failed_sign_ins", _("Repeated failed sign-ins")
    REFUSED_ACCESS = "refused_access", _("Many refused accesses in a short time")
    ACCOUNT_ADMINISTERED = "account_administered", _("Administration of an account")
    CASE_ROLE_GRANTED = "case_role_granted", _("A role that reads cases was granted")


class Flag(models.Model):
    """An event that a gender-equality officer must look at."""

    event = models.ForeignKey(
        AuditEvent, on_delete=models.PROTECT, related_name="flags", verbose_name=_("event")
    )
    kind = models.CharField(_("kind"), max_length=40, choices=FlagKind.choices)
    raised_at = models.DateTimeField(_("raised at"))
    # Copied from the event so the list of flags filters without a join.
    municipality_id = models.BigIntegerField(_("municipality"), null=True, blank=True)
    actor_id = models.BigIntegerField(_("user"), null=True, blank=True)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            models.UniqueConstraint(fields=["event", "kind"], name="audit_flag_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["municipality_id", "raised_at"], name="audit_flag_muni"),
            # The burst rule asks, at every case read, whether the reader was flagged lately.
            models.Index(fields=["actor_id", "kind", "raised_at"], name="audit_flag_actor"),
        ]

    def __str__(self):
        return f"{self.kind} on event {self.event_id}"


class FlagReview(models.Model):
    """An officer's conclusion on a flag; written once, never edited.

    The officer's words are in its FlagReviewComment (see there).
    """

    flag = models.OneToOneField(
        Flag, on_delete=models.PROTECT, related_name="review", verbose_name=_("flag")
    )
    reviewer_id = models.BigIntegerField(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"))

    class Meta:
        verbose_name = _("flag review")
        verbose_name_plural = _("flag reviews")

    def __str__(self):
        return f"review of flag {self.flag_id}"

    @property
    def comment(self) -> str:
        written = getattr(self, "written_comment", None)
        return written.comment if written else ""


class FlagReviewComment(models.Model):
    """The officer's comment on a flag, encrypted: it may name the people of a case.

    It sits beside the append-only review rather than in it because encrypted
    values must be re-encrypted in place when a key is rotated
    (rotate_field_keys), which the review's triggers would refuse. A database
    administrator without the field keys cannot forge or move a comment (each is
    bound to its row); one deleted leaves its review without words, which shows.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    review = models.OneToOneField(
        FlagReview,
        on_delete=models.PROTECT,
        related_name="written_comment",
        verbose_name=_("flag review"),
    )
    comment = EncryptedTextField(_("comment"), max_length=limits.REASON)

    class Meta:
        verbose_name = _("flag review comment")
        verbose_name_plural = _("flag review comments")

    def __str__(self):
        return f"comment on review {self.review_id}"


APPEND_ONLY_MODELS = (AuditEvent, Checkpoint, Flag, FlagReview)
