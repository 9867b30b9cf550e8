from django import forms
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import AdministrativeUnit, Municipality
from protocol.forms import DateInput
from protocol.models import CaseKind

from .selectors import Period, ReportFilters, ReportScope

YEARS_BACK = 10
# A date range longer than this is a mistake, and a slow page.
LONGEST_RANGE_DAYS = 366 * YEARS_BACK


class ReportFilterForm(forms.Form):
    """The period (a year, a quarter or month of it, or a range of dates) and where."""

    year = forms.TypedChoiceField(label=_("Year"), coerce=int, required=False, empty_value=None)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    month = forms.TypedChoiceField(
        label=_("Month"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", _("whole year")), *MONTHS.items()],
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=DateInput(),
        help_text=_("Or a range of dates instead of the year."),
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        queryset=Municipality.objects.none(),
        required=False,
        empty_label=_("all municipalities"),
    )
    unit = forms.ModelChoiceField(
        label=_("Administrative unit"),
        queryset=AdministrativeUnit.objects.none(),
        required=False,
        empty_label=_("all"),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("all")), *CaseKind.choices]
    )

    def __init__(self, *args, scope: ReportScope, yearly: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        this_year = timezone.localdate().year
        self.fields["year"].choices = [
            (year, str(year)) for year in range(this_year, this_year - YEARS_BACK - 1, -1)
        ]
        self.fields["year"].initial = this_year
        self.fields["quarter"].choices = [
            ("", _("whole year")),
            *((number, gettext("Q%(number)s") % {"number": number}) for number in range(1, 5)),
        ]
        if yearly:
            for name in ("quarter", "month", "date_from", "date_to"):
                del self.fields[name]
        if len(scope.kinds) < 2:
            del self.fields["kind"]
        if scope.national:
            self.fields["municipality"].queryset = Municipality.objects.order_by("name")
            municipality_id = self._chosen_municipality_id()
        else:
            del self.fields["municipality"]
            municipality_id = scope.municipality_id
        if municipality_id:
            self.fields["unit"].queryset = AdministrativeUnit.objects.filter(
                municipality_id=municipality_id
            ).order_by("name")
        else:
            del self.fields["unit"]

    def _chosen_municipality_id(self) -> int | None:
        try:
            return int(self.data.get("municipality") or 0) or None
        except (TypeError, ValueError):
            return None

    def clean(self):
        data = super().clean()
        if data.get("quarter") and data.get("month"):
            raise forms.ValidationError(_("Choose a quarter or a month, not both."))
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if bool(date_from) != bool(date_to):
            raise forms.ValidationError(_("Give both dates of the range, or neither."))
        if date_from and date_to:
            if date_from > date_to:
                raise forms.ValidationError(_("The range must end after it starts."))
            if (date_to - date_from).days > LONGEST_RANGE_DAYS:
                raise forms.ValidationError(
                    ngettext(
                        "Choose a range of at most %(years)s year.",
                        "Choose a range of at most %(years)s years.",
                        YEARS_BACK,
                    )
                    % {"years": YEARS_BACK}
                )
        return data

    def filters(self) -> ReportFilters:
        """The filters of a valid form."""
        data = self.cleaned_data
        year = data.get("year") or timezone.localdate().year
        if data.get("date_from"):
            period = Period.between(data["date_from"], data["date_to"])
        elif data.get("quarter"):
            period = Period.quarter(year, data["quarter"])
        elif data.get("month"):
            period = Period.month(year, data["month"])
        else:
            period = Period.year(year)
        municipality = data.get("municipality")
        unit = data.get("unit")
        chosen = {
            "year": None if data.get("date_from") else year,
            "quarter": data.get("quarter"),
            "month": data.get("month"),
            "from": data["date_from"].isoformat() if data.get("date_from") else None,
            "to": data["date_to"].isoformat() if data.get("date_to") else None,
            "municipality": municipality.pk if municipality else None,
            "unit": unit.pk if unit else None,
            "kind": data.get("kind") or None,
        }
        return ReportFilters(
            period=period,
            municipality_id=municipality.pk if municipality else None,
            unit_id=unit.pk if unit else None,
            kind=data.get("kind") or "",
            chosen=chosen,
        )
