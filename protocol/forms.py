from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AdministrativeUnit, Institution
from encryption import limits

from .access import Part
from .models import (
    PERSON_ROLES_BY_KIND,
    AgeGroup,
    CaseKind,
    ClosureReason,
    LegalBasis,
    MeetingKind,
    PlanAction,
    Relationship,
    ReportChannel,
    ReporterKind,
    RiskLevel,
    Sex,
    Stage,
    Urgency,
)
from .models.referrals import longest_referral_message


class VersionedForm(forms.Form):
    """Carries the version of the case the user saw, so a stale save is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AssessmentForm(VersionedForm):
    # Asked, not proposed: an assessment is often entered after it was made.
    assessed_at = forms.DateTimeField(
        label=_("Date and time of the assessment"), widget=DateTimeInput()
    )
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    home_visit = forms.BooleanField(label=_("A home visit was made"), required=False)
    findings = forms.CharField(
        label=_("Findings"),
        max_length=limits.NARRATIVE,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What the home visit and the interviews showed."),
    )


class ConferenceForm(VersionedForm):
    held_at = forms.DateTimeField(label=_("Held on"), widget=DateTimeInput())
    institutions = forms.ModelMultipleChoiceField(
        label=_("Institutions present"),
        queryset=Institution.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    people_present = forms.CharField(
        label=_("People present"),
        required=False,
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Family members, the child when old enough, and others."),
    )
    minutes = forms.CharField(
        label=_("Minutes"), max_length=limits.NARRATIVE, widget=forms.Textarea(attrs={"rows": 8})
    )
    decisions = forms.CharField(
        label=_("Decisions"), max_length=limits.TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institutions"].queryset = institutions


class PlanForm(VersionedForm):
    goals = forms.CharField(
        label=_("Goals"), max_length=limits.TEXT, widget=forms.Textarea(attrs={"rows": 6})
    )
    drafted_with_family = forms.BooleanField(label=_("Drafted with the family"), required=False)


class PlanActionForm(VersionedForm):
    description = forms.CharField(
        label=_("Action"), max_length=limits.REASON, widget=forms.Textarea(attrs={"rows": 3})
    )
    institution = forms.ModelChoiceField(
        label=_("Responsible institution"), queryset=Institution.objects.none(), required=False
    )
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions


class PlanActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=PlanAction.Status.choices)


class ReviewForm(VersionedForm):
    findings = forms.CharField(
        label=_("Findings"), max_length=limits.NARRATIVE, widget=forms.Textarea(attrs={"rows": 6})
    )
    risk_level = forms.ChoiceField(label=_("Risk level now"), choices=RiskLevel.choices)


class ReopenForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason for reopening"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What happened since the closure, e.g. the violence returned."),
    )


class ClosureForm(VersionedForm):
    closure_reason = forms.ChoiceField(label=_("Reason for closure"), choices=ClosureReason.choices)
    explanation = forms.CharField(
        label=_("Explanation"), max_length=limits.TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )


class ReasonForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("The note is empty: nothing was added.")},
    )


class ReassignForm(VersionedForm):
    owner = forms.ModelChoiceField(label=_("Worker in charge"), queryset=None)

    def __init__(self, *args, workers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = workers


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=limits.SEARCH,
        help_text=_("Case number, personal number, or full name (exact)."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("all")), *CaseKind.choices]
    )
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("all")), *Stage.choices]
    )
    risk = forms.ChoiceField(
        label=_("Risk level"), required=False, choices=[("", _("all")), *RiskLevel.choices]
    )
    unit = forms.ModelChoiceField(
        label=_("Administrative unit"), required=False, queryset=None, empty_label=_("all")
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Mine only"), required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


def personal_number_field(label=None) -> forms.RegexField:
    return forms.RegexField(
        label=label or _("Personal number"),
        regex=r"^[A-Za-z]\d{8}[A-Za-z]$",
        max_length=10,
        required=False,
        help_text=_("Ten characters, e.g. K10101001A; leave empty if unknown."),
        error_messages={"invalid": _("A personal number has ten characters, e.g. K10101001A.")},
    )


def _not_born_in_the_future(value) -> None:
    if value > timezone.localdate():
        raise forms.ValidationError(_("The date of birth cannot be in the future."))


def birth_date_field() -> forms.DateField:
    return forms.DateField(
        label=_("Date of birth"),
        widget=DateInput(),
        required=False,
        validators=[_not_born_in_the_future],
    )


def address_field() -> forms.CharField:
    return forms.CharField(
        label=_("Address"),
        required=False,
        max_length=limits.ADDRESS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def phone_field() -> forms.CharField:
    return forms.CharField(label=_("Phone"), max_length=limits.PHONE, required=False)


class PersonForm(VersionedForm):
    """A person's identity, contact and counted details, as the case page changes them."""

    first_name = forms.CharField(label=_("First name"), max_length=limits.NAME)
    last_name = forms.CharField(label=_("Last name"), max_length=limits.NAME)
    personal_number = personal_number_field()
    birth_date = birth_date_field()
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices], required=False)
    age_group = forms.ChoiceField(
        label=_("Age group"),
        choices=[("", "—"), *AgeGroup.choices],
        required=False,
        help_text=_("Leave empty to count it from the date of birth."),
    )
    address = address_field()
    phone = phone_field()
    is_roma = forms.BooleanField(label=_("Roma"), required=False)
    is_egyptian = forms.BooleanField(label=_("Egyptian"), required=False)
    has_disability = forms.BooleanField(label=_("With disability"), required=False)
    relationship_to_victim = forms.ChoiceField(
        label=_("Relationship to the victim"),
        choices=[("", "—"), *Relationship.choices],
        required=False,
    )
    duplicate_override_reason = forms.CharField(
        label=_("Save anyway, because…"),
        required=False,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, case_kind, **kwargs):
        super().__init__(*args, **kwargs)
        if case_kind != CaseKind.DV:
            # The relationship of the victim to the perpetrator is asked in DV cases only.
            del self.fields["relationship_to_victim"]


class PersonAddForm(PersonForm):
    role = forms.ChoiceField(label=_("Role in the case"))

    field_order = ["role"]

    def __init__(self, *args, case_kind, **kwargs):
        super().__init__(*args, case_kind=case_kind, **kwargs)
        self.fields["role"].choices = [
            (role.value, role.label) for role in PERSON_ROLES_BY_KIND[case_kind]
        ]


class PersonEndForm(VersionedForm):
    reason = forms.CharField(
        label=_("Why this person's part in the case ends"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. moved out of the household, recorded by mistake."),
    )


class CaseRegistrationForm(forms.Form):
    """What registering any case asks about the report; each kind's form adds its people."""

    administrative_unit = forms.ModelChoiceField(
        label=_("Administrative unit"), queryset=AdministrativeUnit.objects.none(), required=False
    )
    reported_at = forms.DateTimeField(
        label=_("Reported on"), widget=DateTimeInput(), initial=timezone.now
    )
    report_channel = forms.ChoiceField(
        label=_("How it was reported"), choices=ReportChannel.choices
    )
    reporter_kind = forms.ChoiceField(label=_("Who reported"), choices=ReporterKind.choices)
    reporter_details = forms.CharField(
        label=_("Reporter's name and contact"),
        required=False,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reported_risk_level = forms.ChoiceField(
        label=_("Risk level as reported"),
        choices=RiskLevel.choices,
        help_text=_("It sets when the assessment is due."),
    )
    duplicate_override_reason = forms.CharField(
        label=_("Register anyway, because…"),
        required=False,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administrative_unit"].queryset = units

    def clean(self):
        data = super().clean()
        if data.get("reported_at") and data["reported_at"] > timezone.now():
            self.add_error("reported_at", _("The report cannot be in the future."))
        return data


class ReferralForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=None)
    parts = forms.MultipleChoiceField(
        label=_("What to share"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The institution sees only these parts, and only while the referral is open."),
    )
    reason = forms.CharField(
        label=_("Reason for the referral"),
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    legal_basis = forms.ChoiceField(
        label=_("Legal basis of the sharing"), choices=LegalBasis.choices
    )
    due_date = forms.DateField(label=_("Answer due by"), widget=DateInput())
    expires_on = forms.DateField(
        label=_("Access ends on"),
        widget=DateInput(),
        required=False,
        help_text=_("Leave empty for the default period."),
    )

    def clean_expires_on(self):
        # Access ends at 23:59 of the chosen day: the last day allowed is the one
        # before the limit, so that the referral service never refuses what passed here.
        expires_on = self.cleaned_data["expires_on"]
        last_day = timezone.localdate() + timedelta(days=settings.MBROJTJE_REFERRAL_MAX_DAYS - 1)
        if expires_on and expires_on > last_day:
            raise forms.ValidationError(longest_referral_message())
        return expires_on

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        self.fields["parts"].choices = list(Part.LABELS.items())


class ReferralAnswerForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("Answer"),
        choices=[("accept", _("Accept")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when declining."),
    )


class ReferralActionForm(VersionedForm):
    action_taken = forms.CharField(
        label=_("What the institution did"),
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "E.g. preliminary order issued; order decided by the court; examination done; "
            "school attendance followed."
        ),
    )
    done = forms.BooleanField(
        label=_("The referral is done"),
        required=False,
        help_text=_("Access to the case ends when the referral is done."),
    )


class ReferralRevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=limits.REASON, widget=forms.Textarea(attrs={"rows": 2})
    )


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Group"), choices=MeetingKind.choices)
    scheduled_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    invited = forms.ModelMultipleChoiceField(
        label=_("Invited institutions"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    cases = forms.ModelMultipleChoiceField(
        label=_("Agenda"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The cases discussed. Invitees see only what was referred to them."),
    )

    def __init__(self, *args, institutions, cases, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invited"].queryset = institutions
        self.fields["cases"].queryset = cases
        self.fields["cases"].label_from_instance = lambda case: (
            f"{case.number} · {case.get_kind_display()}"
        )
        self.fields["kind"].choices = [c for c in MeetingKind.choices if c[0] in kinds]


class MeetingRecordForm(VersionedForm):
    attendance = forms.CharField(
        label=_("Attendance"),
        required=False,
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    minutes = forms.CharField(
        label=_("Minutes"),
        required=False,
        max_length=limits.NARRATIVE,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    decisions = forms.CharField(
        label=_("Decisions"),
        required=False,
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
