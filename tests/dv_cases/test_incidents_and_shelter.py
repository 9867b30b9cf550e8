from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Institution
from dv_cases.models import Incident, ShelterPlacement
from dv_cases.services import incident_record, shelter_placement_end, shelter_placement_record
from protocol.services import StaleEdit
from protocol.stages import TransitionNotAllowed
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory


def test_new_incident_adds_its_forms_of_violence_to_the_case(coordinator, dv_case):
    client = signed_in_client(coordinator)

    response = client.post(
        f"/cases/dv/{dv_case.number}/incidents/new/",
        {
            "occurred_on": timezone.localdate().isoformat(),
            "forms_of_violence": ["economic", "physical"],
            "narrative": "I mori rrogën.",
            "children_present": "on",
        },
    )

    incident = Incident.objects.get(forms=["economic", "physical"])
    assert response.status_code == 302
    assert response["Location"] == dv_case.get_absolute_url() + f"#incident-{incident.pk}"
    assert set(dv_case.needs.values_list("need", flat=True)) == {
        "physical",
        "psychological",
        "economic",
    }


@pytest.mark.parametrize("forms", [[], ["neglect"], ["physical", "physical"], "physical"])
def test_incident_needs_forms_of_domestic_violence(coordinator, dv_case, forms):
    incident = Incident(
        case=dv_case,
        occurred_on=timezone.localdate(),
        forms=forms,
        narrative="…",
        recorded_by=coordinator,
    )

    with pytest.raises(ValidationError) as refused:
        incident.full_clean()

    assert "forms" in refused.value.message_dict


def test_incident_in_the_future_is_refused(coordinator, dv_case):
    with pytest.raises(ValidationError):
        incident_record(
            by=coordinator,
            case=dv_case,
            occurred_on=timezone.localdate() + timedelta(days=1),
            place="",
            forms=["physical"],
            narrative="…",
            injuries=False,
            children_present=False,
        )


def test_placement_needs_a_shelter(coordinator, dv_case, police):
    with pytest.raises(ValidationError) as refused:
        shelter_placement_record(
            by=coordinator, case=dv_case, shelter=police, placed_on=timezone.localdate(), notes=""
        )

    assert "shelter" in refused.value.message_dict


def test_one_stay_at_a_time_and_a_stay_ends_once(coordinator, dv_case, shelter):
    today = timezone.localdate()
    placement = shelter_placement_record(
        by=coordinator, case=dv_case, shelter=shelter, placed_on=today, notes="Me dy fëmijët."
    )
    with pytest.raises(ValidationError):
        shelter_placement_record(
            by=coordinator, case=dv_case, shelter=shelter, placed_on=today, notes=""
        )
    dv_case.refresh_from_db()

    with pytest.raises(StaleEdit):
        shelter_placement_end(
            by=coordinator, placement=placement, version=dv_case.version - 1, left_on=today
        )
    ended = shelter_placement_end(
        by=coordinator, placement=placement, version=dv_case.version, left_on=today
    )
    dv_case.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        shelter_placement_end(
            by=coordinator, placement=placement, version=dv_case.version, left_on=today
        )

    assert ended.left_on == today
    assert ShelterPlacement.objects.get().notes == "Me dy fëmijët."


def test_shelter_page_offers_active_shelters_of_every_municipality(
    coordinator, dv_case, shelter, municipality
):
    InstitutionFactory(
        municipality=municipality, kind=Institution.Kind.SHELTER, name="Mbyllur", is_active=False
    )

    page = signed_in_client(coordinator).get(f"/cases/dv/{dv_case.number}/shelter/new/")

    assert page.status_code == 200
    assert "Strehëza e Bardhë" in page.content.decode()
    assert "Mbyllur" not in page.content.decode()
