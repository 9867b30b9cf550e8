from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from encryption import limits
from protocol.forms import (
    CaseRegistrationForm,
    DateInput,
    DateTimeInput,
    VersionedForm,
    address_field,
    birth_date_field,
    personal_number_field,
    phone_field,
)
from protocol.models import Relationship, Sex

from .models import (
    DV_FORM_CHOICES,
    ISSUER_KIND,
    OrderKind,
    OrderOutcome,
    OrderRequester,
)


def _not_future_date(form, field):
    value = form.cleaned_data.get(field)
    if value and value > timezone.localdate():
        form.add_error(field, _("This date cannot be in the future."))


def _not_future_time(form, field):
    value = form.cleaned_data.get(field)
    if value and value > timezone.now():
        form.add_error(field, _("This time cannot be in the future."))


class DvCaseForm(CaseRegistrationForm):
    """Registration of a DV case: the victim, the perpetrator, the first incident, the report."""

    first_name = forms.CharField(label=_("Victim's first name"), max_length=limits.NAME)
    last_name = forms.CharField(label=_("Victim's last name"), max_length=limits.NAME)
    personal_number = personal_number_field()
    birth_date = birth_date_field()
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    address = address_field()
    phone = phone_field()
    is_roma = forms.BooleanField(label=_("Roma"), required=False)
    is_egyptian = forms.BooleanField(label=_("Egyptian"), required=False)
    has_disability = forms.BooleanField(label=_("With disability"), required=False)

    perpetrator_first_name = forms.CharField(
        label=_("Perpetrator's first name"), max_length=limits.NAME
    )
    perpetrator_last_name = forms.CharField(
        label=_("Perpetrator's last name"), max_length=limits.NAME
    )
    perpetrator_personal_number = personal_number_field(_("Perpetrator's personal number"))
    perpetrator_sex = forms.ChoiceField(
        label=_("Perpetrator's sex"), choices=[("", "—"), *Sex.choices], required=False
    )
    relationship = forms.ChoiceField(
        label=_("The victim is the perpetrator's…"), choices=Relationship.choices
    )

    occurred_on = forms.DateField(label=_("Date of the incident"), widget=DateInput())
    place = forms.CharField(
        label=_("Place of the incident"), max_length=limits.LINE, required=False
    )
    forms_of_violence = forms.MultipleChoiceField(
        label=_("Forms of violence"), choices=DV_FORM_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    narrative = forms.CharField(
        label=_("What happened"),
        max_length=limits.NARRATIVE,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    injuries = forms.BooleanField(label=_("The victim was injured"), required=False)
    children_present = forms.BooleanField(label=_("Children were present"), required=False)

    def clean(self):
        data = super().clean()
        _not_future_date(self, "occurred_on")
        occurred_on, reported_at = data.get("occurred_on"), data.get("reported_at")
        if occurred_on and reported_at and occurred_on > timezone.localdate(reported_at):
            self.add_error("occurred_on", _("The incident cannot come after the report."))
        return data


class IncidentForm(forms.Form):
    occurred_on = forms.DateField(label=_("Date of the incident"), widget=DateInput())
    place = forms.CharField(label=_("Place"), max_length=limits.LINE, required=False)
    forms_of_violence = forms.MultipleChoiceField(
        label=_("Forms of violence"), choices=DV_FORM_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    narrative = forms.CharField(
        label=_("What happened"),
        max_length=limits.NARRATIVE,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    injuries = forms.BooleanField(label=_("The victim was injured"), required=False)
    children_present = forms.BooleanField(label=_("Children were present"), required=False)

    def clean(self):
        data = super().clean()
        _not_future_date(self, "occurred_on")
        return data


YES_NO = [("yes", _("yes")), ("no", _("no"))]


class RiskAssessmentForm(VersionedForm):
    """One yes/no field per question of the questionnaire, named after the question's id."""

    # Asked, not proposed: an assessment is often entered after it was made.
    assessed_at = forms.DateTimeField(
        label=_("Date and time of the assessment"), widget=DateTimeInput()
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, questionnaire, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questionnaire.questions.all())
        for question in self.questions:
            self.fields[self.field_name(question)] = forms.ChoiceField(
                label=question.text,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": _("Answer yes or no.")},
            )

    @staticmethod
    def field_name(question) -> str:
        return f"question_{question.pk}"

    def question_fields(self):
        return [(question, self[self.field_name(question)]) for question in self.questions]

    def answers(self) -> dict[int, bool]:
        return {
            question.pk: self.cleaned_data[self.field_name(question)] == "yes"
            for question in self.questions
        }

    def clean(self):
        data = super().clean()
        _not_future_time(self, "assessed_at")
        return data


class ProtectionOrderForm(forms.Form):
    kind = forms.ChoiceField(label=_("Order"), choices=OrderKind.choices)
    requested_by = forms.ChoiceField(label=_("Requested by"), choices=OrderRequester.choices)
    requested_at = forms.DateTimeField(label=_("Requested on"), widget=DateTimeInput())
    issuing_institution = forms.ModelChoiceField(
        label=_("Police or court"),
        queryset=Institution.objects.none(),
        required=False,
        help_text=_("The police issue a UPMM; the court decides a UMM and a UM."),
    )
    measures = forms.CharField(
        label=_("What the order imposes"),
        required=False,
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. to leave the home, to keep away from the victim and the children."),
    )
    covers_children = forms.BooleanField(label=_("The order covers the children"), required=False)

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuing_institution"].queryset = institutions.filter(
            kind__in=set(ISSUER_KIND.values())
        )


class OrderDecisionForm(VersionedForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[choice for choice in OrderOutcome.choices if choice[0] != OrderOutcome.PENDING],
    )
    decided_at = forms.DateTimeField(label=_("Decided on"), widget=DateTimeInput())
    valid_from = forms.DateField(
        label=_("Valid from"),
        widget=DateInput(),
        required=False,
        help_text=_("Only for an order granted in full or in part."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        widget=DateInput(),
        required=False,
        help_text=_("Only for an order granted in full or in part."),
    )
    measures = forms.CharField(
        label=_("What the order imposes"),
        required=False,
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        data = super().clean()
        _not_future_time(self, "decided_at")
        return data


class BreachForm(forms.Form):
    occurred_on = forms.DateField(label=_("Date of the breach"), widget=DateInput())
    description = forms.CharField(
        label=_("What happened"),
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reported_to_police = forms.BooleanField(label=_("Reported to the police"), required=False)


class ShelterPlacementForm(forms.Form):
    shelter = forms.ModelChoiceField(label=_("Shelter"), queryset=Institution.objects.none())
    placed_on = forms.DateField(label=_("Placed on"), widget=DateInput())
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, shelters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shelter"].queryset = shelters


class ShelterEndForm(VersionedForm):
    left_on = forms.DateField(label=_("Left on"), widget=DateInput(), initial=timezone.localdate)
