"""The case file both kinds share, the people in it, and the protocol's records.

A child-protection case and a DV case are one `Case` each, with `kind` saying
which; the kind-specific parts (protection measures, incidents, orders) live in
`cpu` and `dv_cases` and point here. Lists, search, deadlines and permissions
work on this one table.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from encryption import limits
from encryption.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField


class CaseKind(models.TextChoices):
    CHILD = "child", _("Child in need of protection")
    DV = "dv", _("Domestic violence")


class RiskLevel(models.TextChoices):
    HIGH = "high", _("high")
    MEDIUM = "medium", _("medium")
    LOW = "low", _("low")


class Stage(models.TextChoices):
    """Where a case stands in the protocol; the engine (protocol.stages) moves it."""

    REGISTERED = "registered", _("Identification and referral")
    ASSESSED = "assessed", _("Initial assessment done")
    CONFERENCE_HELD = "conference_held", _("Case conference held")
    PLAN_DRAFTED = "plan_drafted", _("Plan awaiting approval")
    MONITORING = "monitoring", _("Implementation and monitoring")
    CLOSURE_PROPOSED = "closure_proposed", _("Closure awaiting approval")
    CLOSED = "closed", _("Closed")


DUE_LABELS = {
    "assessment": _("initial assessment"),
    "risk_assessment": _("risk assessment"),
    "conference": _("case conference"),
    "plan": _("plan"),
    "review": _("review of the plan"),
}


class ProtectionNeed(models.TextChoices):
    """Forms of violence (both kinds) and the child-protection needs (child cases)."""

    PHYSICAL = "physical", _("physical violence")
    PSYCHOLOGICAL = "psychological", _("psychological violence")
    SEXUAL = "sexual", _("sexual violence")
    ECONOMIC = "economic", _("economic violence")
    SOCIAL = "social", _("social violence")
    NEGLECT = "neglect", _("neglect")
    ABANDONMENT = "abandonment", _("abandonment")
    ABUSE = "abuse", _("abuse")
    EXPLOITATION = "exploitation", _("exploitation and forced labour")
    TRAFFICKING = "trafficking", _("trafficking")
    STREET_SITUATION = "street_situation", _("street situation")


DV_FORMS = [
    ProtectionNeed.PHYSICAL,
    ProtectionNeed.PSYCHOLOGICAL,
    ProtectionNeed.SEXUAL,
    ProtectionNeed.ECONOMIC,
    ProtectionNeed.SOCIAL,
]


class ClosureReason(models.TextChoices):
    NO_LONGER_AT_RISK = "no_longer_at_risk", _("no longer at risk")
    MOVED = "moved", _("moved away")
    TRANSFERRED = "transferred", _("transferred to another service")
    CAME_OF_AGE = "came_of_age", _("came of age")
    VICTIM_SAFE = "victim_safe", _("victim safe and supported")
    OTHER = "other", _("other")


class ReportChannel(models.TextChoices):
    IN_PERSON = "in_person", _("in person")
    PHONE = "phone", _("by phone")
    WRITTEN = "written", _("in writing")
    REFERRAL = "referral", _("referred by an institution")
    HOTLINE = "hotline", _("national hotline (116 111 / 116 117)")


class ReporterKind(models.TextChoices):
    SELF = "self", _("the child or the victim")
    FAMILY = "family", _("family member")
    POLICE = "police", _("police")
    SCHOOL = "school", _("school")
    HEALTH = "health", _("health service")
    NGO = "ngo", _("NGO")
    NEIGHBOUR = "neighbour", _("neighbour or community")
    ANONYMOUS = "anonymous", _("anonymous")
    OTHER = "other", _("other")


class Case(models.Model):
    """A case file: a child in need of protection, or a case of domestic violence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=8, choices=CaseKind.choices)
    number = models.CharField(_("case number"), max_length=20, unique=True, editable=False)
    municipality = models.ForeignKey(
        "accounts.Municipality",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("municipality"),
    )
    administrative_unit = models.ForeignKey(
        "accounts.AdministrativeUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("administrative unit"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_cases",
        verbose_name=_("worker in charge"),
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.REGISTERED
    )
    risk_level = models.CharField(
        _("risk level"), max_length=8, choices=RiskLevel.choices, blank=True, default=""
    )
    # What the report said before anyone assessed it: sets the assessment deadline.
    reported_risk_level = models.CharField(
        _("risk level at the report"), max_length=8, choices=RiskLevel.choices
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    report_channel = models.CharField(
        _("how it was reported"), max_length=12, choices=ReportChannel.choices
    )
    reporter_kind = models.CharField(_("who reported"), max_length=12, choices=ReporterKind.choices)
    reporter_details = EncryptedTextField(
        _("reporter's name and contact"), blank=True, null=True, max_length=limits.REASON
    )
    summary = EncryptedTextField(_("what was reported"), max_length=limits.NARRATIVE)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("registered by"),
    )
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True, editable=False)
    conference_at = models.DateTimeField(
        _("case conference at"), null=True, blank=True, editable=False
    )
    plan_approved_at = models.DateTimeField(
        _("plan approved at"), null=True, blank=True, editable=False
    )
    last_review_at = models.DateTimeField(
        _("last review at"), null=True, blank=True, editable=False
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    # The last reopening: the deadlines of the steps taken again count from it.
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True, editable=False)
    closure_reason = models.CharField(
        _("reason for closure"), max_length=20, choices=ClosureReason.choices, blank=True
    )
    # The next deadline, kept with the case so that lists and dashboards can
    # filter and sort on it in SQL; recomputed by every service that moves it.
    next_due_at = models.DateTimeField(_("next due"), null=True, blank=True, editable=False)
    next_due = models.CharField(_("what is due"), max_length=32, blank=True, editable=False)
    duplicate_override_reason = EncryptedTextField(
        _("why registered despite a possible duplicate"),
        blank=True,
        null=True,
        editable=False,
        max_length=limits.REASON,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-registered_at"]
        permissions = [
            ("view_identity", "See the identity and contact of the people in the case"),
            ("view_incidents", "See incidents and narratives"),
            ("view_risk", "See risk assessments"),
            ("view_orders", "See protection orders"),
            ("view_plan", "See the plan"),
            ("view_documents", "See documents"),
        ]
        indexes = [
            models.Index(fields=["municipality", "kind", "stage"]),
            models.Index(fields=["next_due_at"]),
            models.Index(fields=["owner", "stage"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(stage=Stage.CLOSED) | Q(closed_at__isnull=False),
                name="case_closed_has_date",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("protocol:case_detail", kwargs={"number": self.number})

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED

    @property
    def is_overdue(self) -> bool:
        return self.next_due_at is not None and self.next_due_at < timezone.now()

    @property
    def next_due_label(self) -> str:
        return str(DUE_LABELS.get(self.next_due, ""))


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Guardian's per-object permissions with a real foreign key (technical notes)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission"])]


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "permission"])]


class CaseNumberSequence(models.Model):
    """The last number given in a municipality in a year, e.g. DR-2026-0143."""

    municipality = models.ForeignKey("accounts.Municipality", on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "year"], name="case_number_sequence")
        ]

    def __str__(self):
        return f"{self.municipality_id}-{self.year}: {self.last}"


class CaseNeed(models.Model):
    """A form of violence or protection need of a case (clear: it is counted in statistics)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="needs")
    need = models.CharField(_("form"), max_length=20, choices=ProtectionNeed.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "need"], name="case_need_unique")]

    def __str__(self):
        return self.need


class AgeGroup(models.TextChoices):
    AGE_0_5 = "0-5", "0-5"
    AGE_6_11 = "6-11", "6-11"
    AGE_12_17 = "12-17", "12-17"
    AGE_18_24 = "18-24", "18-24"
    AGE_25_59 = "25-59", "25-59"
    AGE_60 = "60+", "60+"


class Sex(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")


class PersonRole(models.TextChoices):
    CHILD = "child", _("child")
    PARENT = "parent", _("parent or guardian")
    VICTIM = "victim", _("victim")
    PERPETRATOR = "perpetrator", _("perpetrator")
    HOUSEHOLD_CHILD = "household_child", _("child in the household")


# The roles a person may have in a case of each kind (registration records the
# first two; the others are added on the case page), and the role whose people
# the case is about: a case keeps at least one of them.
PERSON_ROLES_BY_KIND = {
    CaseKind.CHILD: (PersonRole.CHILD, PersonRole.PARENT, PersonRole.HOUSEHOLD_CHILD),
    CaseKind.DV: (PersonRole.VICTIM, PersonRole.PERPETRATOR, PersonRole.HOUSEHOLD_CHILD),
}
MAIN_ROLE = {CaseKind.CHILD: PersonRole.CHILD, CaseKind.DV: PersonRole.VICTIM}


class Relationship(models.TextChoices):
    """Of the victim to the perpetrator."""

    SPOUSE = "spouse", _("spouse")
    FORMER_SPOUSE = "former_spouse", _("former spouse")
    COHABITANT = "cohabitant", _("cohabitant")
    FORMER_COHABITANT = "former_cohabitant", _("former cohabitant")
    PARTNER = "partner", _("intimate partner not living together")
    PARENT = "parent", _("parent")
    CHILD = "child", _("child")
    SIBLING = "sibling", _("sibling")
    OTHER_RELATIVE = "other_relative", _("other relative")
    HOUSEHOLD_MEMBER = "household_member", _("other household member")


class Person(models.Model):
    """Someone in a case. Identity and contact are encrypted; what statistics count is not.

    Exact search goes through blind indexes: of the personal number, of the
    normalised full name, and of the name with the date of birth.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="people")
    role = models.CharField(_("role in the case"), max_length=20, choices=PersonRole.choices)
    first_name = EncryptedCharField(_("first name"), max_length=limits.NAME)
    last_name = EncryptedCharField(_("last name"), max_length=limits.NAME)
    personal_number = EncryptedCharField(_("personal number"), max_length=10, blank=True, null=True)
    birth_date = EncryptedDateField(_("date of birth"), blank=True, null=True)
    address = EncryptedTextField(_("address"), blank=True, null=True, max_length=limits.ADDRESS)
    phone = EncryptedCharField(_("phone"), max_length=limits.PHONE, blank=True, null=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, blank=True)
    age_group = models.CharField(_("age group"), max_length=6, choices=AgeGroup.choices, blank=True)
    is_roma = models.BooleanField(_("Roma"), default=False)
    is_egyptian = models.BooleanField(_("Egyptian"), default=False)
    has_disability = models.BooleanField(_("with disability"), default=False)
    relationship_to_victim = models.CharField(
        _("relationship to the victim"), max_length=20, choices=Relationship.choices, blank=True
    )
    name_index = models.CharField(max_length=64, editable=False, db_index=True)
    personal_number_index = models.CharField(
        max_length=64, blank=True, editable=False, db_index=True
    )
    name_birth_index = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    # A person's part in the case ends (moved out, recorded by mistake); the row
    # and its history stay, and counts of current people leave it out.
    ended_at = models.DateTimeField(_("part in the case ended on"), null=True, blank=True)
    end_reason = EncryptedTextField(
        _("why the part in the case ended"), blank=True, null=True, max_length=limits.REASON
    )
    # Why the person was added or changed despite a possible duplicate (the
    # history keeps each change's reason).
    duplicate_override_reason = EncryptedTextField(
        _("why kept despite a possible duplicate"),
        blank=True,
        null=True,
        editable=False,
        max_length=limits.REASON,
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            # Statistics count the children and victims of a municipality's cases.
            models.Index(fields=["case", "role"], name="person_case_role"),
        ]

    def __str__(self):
        return f"{self.get_role_display()} {self.pk}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class StageTransition(models.Model):
    """One move of a case through the protocol: who, when, from where to where, why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(_("action"), max_length=24)
    from_stage = models.CharField(_("from"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=20, choices=Stage.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = EncryptedTextField(_("reason"), blank=True, null=True, max_length=limits.TEXT)
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["at"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            # A case's moves in order (its page, the time spent in each stage), and the
            # moves of a period across all cases (national statistics).
            models.Index(fields=["case", "at"], name="transition_case_at"),
            models.Index(fields=["at"], name="transition_at"),
        ]

    def __str__(self):
        return f"{self.case_id}: {self.from_stage} → {self.to_stage}"


class DeadlineSetting(models.Model):
    """How long a step of the protocol may take; a municipality may adjust the defaults.

    The defaults (municipality empty) are data, added by a migration, because the
    legal texts behind several of them were not confirmed.
    """

    class Key(models.TextChoices):
        ASSESSMENT_HIGH_RISK_HOURS = (
            "assessment_high_risk_hours",
            _("initial assessment, high risk (hours after the report)"),
        )
        ASSESSMENT_OTHER_HOURS = (
            "assessment_other_hours",
            _("initial assessment, other risk (hours after the report)"),
        )
        CONFERENCE_DAYS = "conference_days", _("case conference (days after the assessment)")
        PLAN_DAYS = "plan_days", _("plan (days after the case conference)")
        REVIEW_DAYS = "review_days", _("review of the plan (days between reviews)")
        DV_RISK_ASSESSMENT_HOURS = (
            "dv_risk_assessment_hours",
            _("DV risk assessment (hours after the report)"),
        )
        UMM_DECISION_HOURS = (
            "umm_decision_hours",
            _("court decision on an immediate protection order (hours after the request)"),
        )
        UM_HEARING_DAYS = (
            "um_hearing_days",
            _("hearing on a protection order (days after the request)"),
        )
        ORDER_EXPIRY_WARNING_DAYS = (
            "order_expiry_warning_days",
            _("warning before a protection order expires (days)"),
        )

    municipality = models.ForeignKey(
        "accounts.Municipality",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("municipality"),
        help_text=_("Empty for the default of every municipality."),
    )
    key = models.CharField(_("deadline"), max_length=32, choices=Key.choices)
    value = models.PositiveIntegerField(_("value"))
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deadline setting")
        verbose_name_plural = _("deadline settings")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "key"], name="deadline_setting_unique_per_municipality"
            ),
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(municipality__isnull=True),
                name="deadline_setting_unique_default",
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="deadline_setting_positive"),
        ]

    def __str__(self):
        return f"{self.key}={self.value}"


# The stages a reopened case may return to; the first is the protocol's default.
REOPEN_STAGES = (Stage.REGISTERED, Stage.ASSESSED, Stage.MONITORING)


class ReopenSetting(models.Model):
    """The stage a reopened case returns to: by default a new initial assessment; a
    municipality may have its own row (configurable, like DeadlineSetting)."""

    municipality = models.ForeignKey(
        "accounts.Municipality",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("municipality"),
        help_text=_("Empty for the default of every municipality."),
    )
    stage = models.CharField(
        _("stage a reopened case returns to"),
        max_length=20,
        choices=[(stage.value, stage.label) for stage in REOPEN_STAGES],
        default=Stage.REGISTERED,
    )
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reopening setting")
        verbose_name_plural = _("reopening settings")
        constraints = [
            # One row per municipality, and one default (a NULL is unique to nothing).
            models.UniqueConstraint(
                Coalesce("municipality", Value(0)), name="reopen_setting_one_per_municipality"
            ),
        ]

    def __str__(self):
        return f"{self.municipality_id or 'default'}: {self.stage}"


class CaseConference(models.Model):
    """A meeting of the GTN (child cases) or the ETN (DV cases) on one case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="conferences")
    held_at = models.DateTimeField(_("held at"))
    institutions_present = models.ManyToManyField(
        "accounts.Institution", blank=True, verbose_name=_("institutions present")
    )
    people_present = EncryptedTextField(
        _("people present"), blank=True, null=True, max_length=limits.TEXT
    )
    minutes = EncryptedTextField(_("minutes"), max_length=limits.NARRATIVE)
    decisions = EncryptedTextField(_("decisions"), max_length=limits.TEXT)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords(m2m_fields=[institutions_present])

    class Meta:
        ordering = ["held_at"]
        verbose_name = _("case conference")
        verbose_name_plural = _("case conferences")

    def __str__(self):
        return f"{self.case_id} {self.held_at:%Y-%m-%d}"

    def get_absolute_url(self):
        return self.case.get_absolute_url() + f"#conference-{self.pk}"


class Plan(models.Model):
    """The individual protection plan (PIM) of a child, or the safety and support plan (DV)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="plan")
    goals = EncryptedTextField(_("goals"), max_length=limits.TEXT)
    drafted_with_family = models.BooleanField(_("drafted with the family"), default=False)
    drafted_at = models.DateTimeField(_("drafted at"), default=timezone.now)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self):
        return f"plan of {self.case_id}"

    def get_absolute_url(self):
        return self.case.get_absolute_url() + "#plan"


class PlanAction(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")
        NOT_DONE = "not_done", _("not done")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="actions")
    description = EncryptedTextField(_("action"), max_length=limits.REASON)
    institution = models.ForeignKey(
        "accounts.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("responsible institution"),
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date"]
        verbose_name = _("plan action")
        verbose_name_plural = _("plan actions")

    def __str__(self):
        return f"action {self.pk}"


class Review(models.Model):
    """A review (rishikim) of the plan during monitoring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reviews")
    held_at = models.DateTimeField(_("held at"), default=timezone.now)
    findings = EncryptedTextField(_("findings"), max_length=limits.NARRATIVE)
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["held_at"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self):
        return f"review {self.pk}"


class Assessment(models.Model):
    """The initial assessment (child) or risk assessment (DV): home visit, interviews, risk."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assessments")
    assessed_at = models.DateTimeField(_("assessed at"), default=timezone.now)
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    home_visit = models.BooleanField(_("home visit made"), default=False)
    findings = EncryptedTextField(_("findings"), max_length=limits.NARRATIVE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["assessed_at"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")

    def __str__(self):
        return f"assessment {self.pk}"


class Note(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    text = EncryptedTextField(_("note"), max_length=limits.TEXT)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(_("written at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-written_at"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self):
        return f"note {self.pk}"


class CaseLink(models.Model):
    """A DV case and the child-protection case of a child of its household."""

    dv_case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="child_case_links",
        limit_choices_to={"kind": CaseKind.DV},
    )
    child_case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="dv_case_links",
        limit_choices_to={"kind": CaseKind.CHILD},
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dv_case", "child_case"], name="case_link_unique")
        ]

    def __str__(self):
        return f"{self.dv_case_id} ↔ {self.child_case_id}"
