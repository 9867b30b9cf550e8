from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AdministrativeUnit, Institution
from protocol.forms import DateInput, DateTimeInput
from protocol.models import ProtectionNeed, ReportChannel, ReporterKind, RiskLevel, Sex

from .models import ProtectionMeasure


class ChildCaseForm(forms.Form):
    """Registration of a child in need of protection."""

    first_name = forms.CharField(label=_("Child's first name"), max_length=100)
    last_name = forms.CharField(label=_("Child's last name"), max_length=100)
    personal_number = forms.RegexField(
        label=_("Personal number"),
        regex=r"^[A-Za-z]\d{8}[A-Za-z]$",
        required=False,
        help_text=_("Ten characters, e.g. K10101001A; leave empty if unknown."),
        error_messages={"invalid": _("A personal number has ten characters, e.g. K10101001A.")},
    )
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput(), required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    is_roma = forms.BooleanField(label=_("Roma"), required=False)
    is_egyptian = forms.BooleanField(label=_("Egyptian"), required=False)
    has_disability = forms.BooleanField(label=_("With disability"), required=False)
    parent_name = forms.CharField(
        label=_("Parent or guardian: first and last name"), max_length=200, required=False
    )
    parent_phone = forms.CharField(
        label=_("Parent or guardian: phone"), max_length=30, required=False
    )
    administrative_unit = forms.ModelChoiceField(
        label=_("Administrative unit"), queryset=AdministrativeUnit.objects.none(), required=False
    )
    needs = forms.MultipleChoiceField(
        label=_("Why the child needs protection"),
        choices=ProtectionNeed.choices,
        widget=forms.CheckboxSelectMultiple,
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
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reported_risk_level = forms.ChoiceField(
        label=_("Risk level as reported"),
        choices=RiskLevel.choices,
        help_text=_("High risk: the initial assessment is due within 24 hours."),
    )
    summary = forms.CharField(
        label=_("What was reported"), widget=forms.Textarea(attrs={"rows": 5})
    )
    duplicate_override_reason = forms.CharField(
        label=_("Register anyway, because…"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administrative_unit"].queryset = units

    def clean(self):
        data = super().clean()
        if data.get("reported_at") and data["reported_at"] > timezone.now():
            self.add_error("reported_at", _("The report cannot be in the future."))
        if data.get("birth_date") and data["birth_date"] > timezone.localdate():
            self.add_error("birth_date", _("The date of birth cannot be in the future."))
        return data


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
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, courts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["court"].queryset = courts
