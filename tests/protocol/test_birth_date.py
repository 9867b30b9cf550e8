"""A date of birth in the future is refused on every form that asks it, in Albanian."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from accounts.models import AdministrativeUnit
from cpu.forms import ChildCaseForm
from dv_cases.forms import DvCaseForm
from protocol.forms import PersonForm

TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make",
    [
        lambda data: ChildCaseForm(data, units=AdministrativeUnit.objects.none()),
        lambda data: DvCaseForm(data, units=AdministrativeUnit.objects.none()),
        lambda data: PersonForm(data, case_kind="dv"),
    ],
    ids=["child registration", "DV registration", "change of a person"],
)
def test_a_birth_date_in_the_future_is_refused(make):
    with translation.override("sq"):
        form = make({"birth_date": TOMORROW})
        assert not form.is_valid()
        assert form.errors["birth_date"] == ["Datëlindja nuk mund të jetë në të ardhmen."]
