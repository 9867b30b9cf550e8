import re

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from encryption import limits

from .models import Action

# A case number as protocol gives them, e.g. DR-2026-0143.
CASE_NUMBER = re.compile(r"[A-Z]{2,3}-\d{4}-\d{1,8}")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class InstitutionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        # Every municipality has its police, its school: the name alone is ambiguous.
        return f"{obj.name} ({obj.municipality})"


class EventFilterForm(forms.Form):
    """The timeline's filters. Each value is an identifier (an existing username, a case
    number), so that what the officer typed can be recorded with the visit."""

    user = forms.CharField(label=_("Username"), required=False, max_length=150)
    institution = InstitutionChoiceField(
        label=_("Institution"),
        required=False,
        queryset=Institution.objects.select_related("municipality"),
        empty_label=_("all"),
    )
    case = forms.CharField(
        label=_("Case number"),
        required=False,
        max_length=20,
        help_text=_("For example DR-2026-0143."),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("all")), *Action.choices]
    )
    date_from = forms.DateField(label=_("From (date)"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To (date)"), required=False, widget=DateInput())

    def __init__(self, *args, without=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The per-user and per-case pages fix that filter themselves.
        for name in without:
            del self.fields[name]

    def clean_user(self):
        username = self.cleaned_data["user"].strip()
        if username and not get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("No account has this username."))
        return username

    def clean_case(self):
        number = self.cleaned_data["case"].strip().upper()
        if number and not CASE_NUMBER.fullmatch(number):
            raise forms.ValidationError(_("A case number looks like DR-2026-0143."))
        return number

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date comes before the start date."))
        return data


class FlagReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Conclusion"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What you found and what was done. It is recorded and cannot be changed."),
        error_messages={"required": _("Write what you concluded.")},
    )
