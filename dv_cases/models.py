"""What only DV cases have: incidents, risk questionnaires and assessments, protection
orders (UPMM, UMM, UM) and their breaches, shelter placements.

The safety and support plan is protocol's Plan, shared with child cases.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from accounts.models import Institution
from encryption import limits
from encryption.fields import EncryptedCharField, EncryptedJSONField, EncryptedTextField
from protocol.models import DV_FORMS, CaseKind, RiskLevel

DV_FORM_CHOICES = [(form.value, form.label) for form in DV_FORMS]
DV_FORM_VALUES = frozenset(form.value for form in DV_FORMS)


def validate_dv_forms(value) -> None:
    """A non-empty list of distinct forms of violence (physical, psychological, ...)."""
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one form of violence."), code="required")
    if any(form not in DV_FORM_VALUES for form in value) or len(set(value)) != len(value):
        raise ValidationError(_("Choose forms of violence from the list."), code="invalid")


class Incident(models.Model):
    """One episode of violence, as told by the victim or the reporter."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        "protocol.Case",
        on_delete=models.CASCADE,
        related_name="incidents",
        limit_choices_to={"kind": CaseKind.DV},
        verbose_name=_("case"),
    )
    occurred_on = models.DateField(_("date of the incident"))
    place = EncryptedCharField(_("place"), max_length=limits.LINE, blank=True, null=True)
    # Clear, like the case's forms of violence: statistics count them.
    forms = models.JSONField(_("forms of violence"), default=list, validators=[validate_dv_forms])
    narrative = EncryptedTextField(_("what happened"), max_length=limits.NARRATIVE)
    injuries = models.BooleanField(_("injuries"), default=False)
    children_present = models.BooleanField(_("children were present"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_on", "-recorded_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self):
        return f"incident {self.pk}"

    def get_absolute_url(self):
        return self.case.get_absolute_url() + f"#incident-{self.pk}"

    def clean(self):
        if self.occurred_on and self.occurred_on > timezone.localdate():
            raise ValidationError({"occurred_on": _("The incident cannot be in the future.")})

    def get_forms_display(self) -> list[str]:
        labels = dict(DV_FORM_CHOICES)
        return [str(labels[form]) for form in self.forms if form in labels]


# --- Risk -----------------------------------------------------------------------------


class RiskQuestionnaire(models.Model):
    """A risk assessment tool: yes/no questions with weights, and the thresholds of the levels.

    Data, not code: the municipality's experts adjust questions, weights and
    thresholds in the admin. A "yes" to a critical question means high risk
    whatever the score, as in the common DV risk tools.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    is_active = models.BooleanField(
        _("in use"),
        default=False,
        help_text=_("New risk assessments use the questionnaire in use; only one can be."),
    )
    high_threshold = models.PositiveSmallIntegerField(
        _("high risk from score"), help_text=_("A score at or above this is high risk.")
    )
    medium_threshold = models.PositiveSmallIntegerField(
        _("medium risk from score"), help_text=_("A score at or above this is medium risk.")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("risk questionnaire")
        verbose_name_plural = _("risk questionnaires")
        ordering = ["-is_active", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(high_threshold__gt=F("medium_threshold")),
                name="risk_questionnaire_high_above_medium",
                violation_error_message=_(
                    "The score for high risk must be above the score for medium risk."
                ),
            ),
            models.CheckConstraint(
                condition=Q(medium_threshold__gt=0),
                name="risk_questionnaire_medium_above_zero",
                violation_error_message=_("The score for medium risk must be at least 1."),
            ),
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="risk_questionnaire_one_in_use",
                violation_error_message=_(
                    "Another questionnaire is in use: take it out of use first."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    def evaluate(self, answers: dict[int, bool]) -> tuple[int, str]:
        """The score and risk level of `answers` (question id → yes/no)."""
        questions = list(self.questions.all())
        score = sum(question.weight for question in questions if answers.get(question.pk))
        if any(question.is_critical and answers.get(question.pk) for question in questions):
            return score, RiskLevel.HIGH
        if score >= self.high_threshold:
            return score, RiskLevel.HIGH
        if score >= self.medium_threshold:
            return score, RiskLevel.MEDIUM
        return score, RiskLevel.LOW


class RiskQuestion(models.Model):
    questionnaire = models.ForeignKey(
        RiskQuestionnaire,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("questionnaire"),
    )
    order = models.PositiveSmallIntegerField(_("order"))
    # The question as shown to the worker, in the language the tool is written in.
    text = models.TextField(_("question"))
    weight = models.PositiveSmallIntegerField(_("points for a yes"), default=1)
    is_critical = models.BooleanField(
        _("critical"), default=False, help_text=_("A yes means high risk whatever the score.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["questionnaire", "order"]
        verbose_name = _("risk question")
        verbose_name_plural = _("risk questions")
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "order"], name="risk_question_unique_order"
            )
        ]

    def __str__(self):
        return f"{self.questionnaire_id}.{self.order}"


class RiskAssessment(models.Model):
    """A risk assessment of a DV case with a questionnaire: the answers, score and level."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        "protocol.Case",
        on_delete=models.CASCADE,
        related_name="risk_assessments",
        limit_choices_to={"kind": CaseKind.DV},
        verbose_name=_("case"),
    )
    questionnaire = models.ForeignKey(
        RiskQuestionnaire,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("questionnaire"),
    )
    # {"<question id>": true/false}: what the victim said is as sensitive as a narrative.
    answers = EncryptedJSONField(_("answers"))
    score = models.PositiveSmallIntegerField(_("score"))
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    notes = EncryptedTextField(_("notes"), blank=True, null=True, max_length=limits.TEXT)
    assessed_at = models.DateTimeField(_("assessed at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-assessed_at"]
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_level__in=RiskLevel.values), name="risk_assessment_known_level"
            )
        ]

    def __str__(self):
        return f"risk assessment {self.pk}"

    def get_absolute_url(self):
        return self.case.get_absolute_url() + f"#risk-assessment-{self.pk}"


# --- Protection orders --------------------------------------------------------------


class OrderKind(models.TextChoices):
    UPMM = "upmm", _("Preliminary immediate protection order (UPMM, police)")
    UMM = "umm", _("Immediate protection order (UMM, court)")
    UM = "um", _("Protection order (UM, court, after a hearing)")


class OrderRequester(models.TextChoices):
    VICTIM = "victim", _("the victim")
    POLICE = "police", _("the police")
    PROSECUTOR = "prosecutor", _("the prosecutor")
    SOCIAL_SERVICES = "social_services", _("social services or the DV coordinator")
    OTHER = "other", _("other")


class OrderOutcome(models.TextChoices):
    # The court's words: pranuar, pranuar pjesërisht, rrëzuar, pushuar, refuzuar.
    PENDING = "pending", pgettext_lazy("order outcome", "awaiting decision")
    GRANTED = "granted", pgettext_lazy("order outcome", "granted")
    PARTLY_GRANTED = "partly_granted", pgettext_lazy("order outcome", "partly granted")
    REJECTED = "rejected", pgettext_lazy("order outcome", "rejected")
    DISMISSED = "dismissed", pgettext_lazy("order outcome", "dismissed")
    REFUSED = "refused", pgettext_lazy("order outcome", "refused")


GRANTED_OUTCOMES = (OrderOutcome.GRANTED, OrderOutcome.PARTLY_GRANTED)

# Who issues each kind of order.
ISSUER_KIND = {
    OrderKind.UPMM: Institution.Kind.POLICE,
    OrderKind.UMM: Institution.Kind.COURT,
    OrderKind.UM: Institution.Kind.COURT,
}


class ProtectionOrder(models.Model):
    """A request for a protection order and the decision on it. An order for a mother
    covers her children when the request says so."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        "protocol.Case",
        on_delete=models.CASCADE,
        related_name="protection_orders",
        limit_choices_to={"kind": CaseKind.DV},
        verbose_name=_("case"),
    )
    kind = models.CharField(_("order"), max_length=4, choices=OrderKind.choices)
    requested_by = models.CharField(
        _("requested by"), max_length=16, choices=OrderRequester.choices
    )
    requested_at = models.DateTimeField(_("requested at"))
    issuing_institution = models.ForeignKey(
        "accounts.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind__in": [Institution.Kind.POLICE, Institution.Kind.COURT]},
        verbose_name=_("police or court"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=OrderOutcome.choices, default=OrderOutcome.PENDING
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    measures = EncryptedTextField(
        _("what the order imposes"), blank=True, null=True, max_length=limits.TEXT
    )
    covers_children = models.BooleanField(_("covers the children"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("protection order")
        verbose_name_plural = _("protection orders")
        indexes = [models.Index(fields=["outcome", "expires_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=OrderOutcome.values), name="order_known_outcome"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(expires_on__gte=F("valid_from")),
                name="order_expires_after_start",
                violation_error_message=_("An order cannot expire before it is valid."),
            ),
            models.CheckConstraint(
                condition=Q(outcome=OrderOutcome.PENDING, decided_at__isnull=True)
                | (~Q(outcome=OrderOutcome.PENDING) & Q(decided_at__isnull=False)),
                name="order_decision_has_date",
                violation_error_message=_("A decided order needs the date of the decision."),
            ),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True) | Q(decided_at__gte=F("requested_at")),
                name="order_decided_after_request",
                violation_error_message=_("An order cannot be decided before it was requested."),
            ),
            # Only an order in force has dates of validity: expiry warnings rely on it.
            models.CheckConstraint(
                condition=(Q(outcome__in=GRANTED_OUTCOMES) & Q(valid_from__isnull=False))
                | (
                    ~Q(outcome__in=GRANTED_OUTCOMES)
                    & Q(valid_from__isnull=True, expires_on__isnull=True)
                ),
                name="order_validity_only_when_granted",
                violation_error_message=_(
                    "A granted order needs the date it is valid from; an order not granted "
                    "has no dates of validity."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.pk}"

    def get_absolute_url(self):
        return self.case.get_absolute_url() + f"#order-{self.pk}"

    @property
    def is_granted(self) -> bool:
        return self.outcome in GRANTED_OUTCOMES

    @property
    def is_pending(self) -> bool:
        return self.outcome == OrderOutcome.PENDING

    def clean(self):
        institution = self.issuing_institution
        if institution is None:
            return
        expected = ISSUER_KIND.get(self.kind)
        if expected and institution.kind != expected:
            message = (
                _("A UPMM is issued by the police.")
                if expected == Institution.Kind.POLICE
                else _("This order is issued by the court.")
            )
            raise ValidationError({"issuing_institution": message})
        if self.case_id and institution.municipality_id != self.case.municipality_id:
            raise ValidationError(
                {"issuing_institution": _("Choose the police or court of the municipality.")}
            )


class OrderBreach(models.Model):
    """A breach of a protection order (shkelje e urdhrit)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(
        ProtectionOrder,
        on_delete=models.CASCADE,
        related_name="breaches",
        verbose_name=_("protection order"),
    )
    occurred_on = models.DateField(_("date of the breach"))
    description = EncryptedTextField(_("what happened"), max_length=limits.TEXT)
    reported_to_police = models.BooleanField(_("reported to the police"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["occurred_on"]
        verbose_name = _("breach of an order")
        verbose_name_plural = _("breaches of orders")

    def __str__(self):
        return f"breach {self.pk}"

    def get_absolute_url(self):
        return self.order.get_absolute_url()


# --- Shelter -----------------------------------------------------------------------------


class ShelterPlacement(models.Model):
    """A stay of the victim (and children) in a shelter. Which shelter is as sensitive as
    an address: it is shown only to those who see the identity part of the case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        "protocol.Case",
        on_delete=models.CASCADE,
        related_name="shelter_placements",
        limit_choices_to={"kind": CaseKind.DV},
        verbose_name=_("case"),
    )
    shelter = models.ForeignKey(
        "accounts.Institution",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Institution.Kind.SHELTER},
        verbose_name=_("shelter"),
    )
    placed_on = models.DateField(_("placed on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True, null=True, max_length=limits.TEXT)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-placed_on"]
        verbose_name = _("shelter placement")
        verbose_name_plural = _("shelter placements")
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("placed_on")),
                name="shelter_placement_leaves_after_arrival",
                violation_error_message=_("The stay cannot end before it starts."),
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(left_on__isnull=True),
                name="shelter_placement_one_current",
                violation_error_message=_(
                    "The victim is still placed in a shelter: record the end of that stay first."
                ),
            ),
        ]

    def __str__(self):
        return f"shelter placement {self.pk}"

    def get_absolute_url(self):
        return self.case.get_absolute_url() + "#shelter"

    @property
    def is_current(self) -> bool:
        return self.left_on is None

    def clean(self):
        if self.shelter_id and self.shelter.kind != Institution.Kind.SHELTER:
            raise ValidationError({"shelter": _("Choose a shelter.")})
