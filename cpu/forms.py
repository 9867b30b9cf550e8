from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from encryption import limits
from protocol.forms import (
    CaseRegistrationForm,
    DateInput,
    address_field,
    birth_date_field,
    personal_number_field,
    phone_field,
)
from protocol.models import ProtectionNeed, Sex

from .models import ProtectionMeasure


class ChildCaseForm(CaseRegistrationForm):
    """Registration of a child in need of protection."""

    first_name = forms.CharField(label=_("Child's first name"), max_length=limits.NAME)
    last_name = forms.CharField(label=_("Child's last name"), max_length=limits.NAME)
    personal_number = personal_number_field()
    birth_date = birth_date_field()
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    address = address_field()
    phone = phone_field()
    is_roma = forms.BooleanField(label=_("Roma"), required=False)
    is_egyptian = forms.BooleanField(label=_("Egyptian"), required=False)
    has_disability = forms.BooleanField(label=_("With disability"), required=False)
    parent_name = forms.CharField(
        label=_("Parent or guardian: first and last name"),
        max_length=2 * limits.NAME,
        required=False,
    )
    parent_phone = forms.CharField(
        label=_("Parent or guardian: phone"), max_length=limits.PHONE, required=False
    )
    needs = forms.MultipleChoiceField(
        label=_("Why the child needs protection"),
        choices=ProtectionNeed.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    summary = forms.CharField(
        label=_("What was reported"),
        max_length=limits.NARRATIVE,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class ProtectionMeasureForm(forms.Form):
    kind = forms.ChoiceField(label=_("Measure"), choices=ProtectionMeasure.Kind.choices)
    started_on = forms.DateField(label=_("From"), widget=DateInput())
    ended_on = forms.DateField(label=_("Until"), widget=DateInput(), required=False)
    court_confirmed_on = forms.DateField(
        label=_("Confirmed by the court on"), widget=DateInput(), required=False
    )
    court = forms.ModelChoiceField(
        label=_("Court"), queryset=Institution.objects.none(), required=False
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, courts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["court"].queryset = courts
