from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from dv_cases.models import Incident
from protocol.models import Case, Stage
from protocol.services import PersonData, case_register
from tests.conftest import signed_in_client
from tests.factories import UserFactory

from .conftest import VICTIM_PERSONAL_NUMBER, register_dv_case

URL = "/cases/dv/new/"


def form_data(**changes):
    now = timezone.localtime()
    data = {
        "first_name": "Mimoza",
        "last_name": "Hoxha",
        "personal_number": "I95215123B",
        "birth_date": "1995-02-15",
        "sex": "female",
        "address": "Lagjja 4, Durrës",
        "phone": "0691234567",
        "is_roma": "on",
        "perpetrator_first_name": "Gentian",
        "perpetrator_last_name": "Hoxha",
        "perpetrator_personal_number": "",
        "perpetrator_sex": "male",
        "relationship": "spouse",
        "occurred_on": (now.date() - timedelta(days=1)).isoformat(),
        "place": "Në banesë",
        "forms_of_violence": ["physical", "economic"],
        "narrative": "Kërcënime dhe goditje.",
        "injuries": "on",
        "reported_at": now.strftime("%Y-%m-%dT%H:%M"),
        "report_channel": "in_person",
        "reporter_kind": "self",
        "reporter_details": "",
        "reported_risk_level": "medium",
        "administrative_unit": "",
        "duplicate_override_reason": "",
    }
    data.update(changes)
    return data


def test_coordinator_registers_a_dv_case_with_victim_perpetrator_and_first_incident(coordinator):
    client = signed_in_client(coordinator)

    response = client.post(URL, form_data())

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    assert (case.kind, case.stage, case.owner, case.municipality) == (
        "dv",
        Stage.REGISTERED,
        coordinator,
        coordinator.municipality,
    )
    victim = case.people.get(role="victim")
    perpetrator = case.people.get(role="perpetrator")
    assert (victim.first_name, victim.personal_number, victim.is_roma) == (
        "Mimoza",
        "I95215123B",
        True,
    )
    assert (perpetrator.first_name, perpetrator.relationship_to_victim) == ("Gentian", "spouse")
    incident = Incident.objects.get(case=case)
    assert incident.forms == ["economic", "physical"]
    assert incident.narrative == "Kërcënime dhe goditje."
    assert (incident.injuries, incident.children_present) == (True, False)
    assert set(case.needs.values_list("need", flat=True)) == {"physical", "economic"}


def test_invalid_registration_keeps_what_was_typed_and_shows_errors_by_the_fields(coordinator):
    client = signed_in_client(coordinator)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = client.post(
        URL, form_data(narrative="", occurred_on=tomorrow, forms_of_violence=["neglect"])
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Mimoza"' in page
    assert 'value="I95215123B"' in page
    assert "Lagjja 4, Durrës" in page
    assert 'id="id_narrative_error"' in page
    assert 'id="id_occurred_on_error"' in page
    assert 'id="id_forms_of_violence_error"' in page
    assert not Case.objects.exists()


def test_possible_duplicate_warns_then_registers_with_a_reason(coordinator):
    existing = register_dv_case(coordinator)
    client = signed_in_client(coordinator)
    data = form_data(personal_number=VICTIM_PERSONAL_NUMBER)

    warned = client.post(URL, data)

    assert warned.status_code == 200
    assert existing.number in warned.content.decode()
    assert 'name="duplicate_override_reason"' in warned.content.decode()
    assert Case.objects.count() == 1

    registered = client.post(
        URL, {**data, "duplicate_override_reason": "Incident i ri, pas pajtimit."}
    )

    assert registered.status_code == 302
    new = Case.objects.exclude(pk=existing.pk).get()
    assert new.duplicate_override_reason == "Incident i ri, pas pajtimit."
    assert new.incidents.count() == 1


def test_duplicate_warning_counts_cases_the_coordinator_cannot_open(coordinator, worker):
    child_case = case_register(
        by=worker,
        kind="child",
        people=[
            PersonData(
                role="child", first_name="Ana", last_name="Hoxha", personal_number="L10101001A"
            )
        ],
        needs=["neglect"],
        reported_risk_level="low",
        reported_at=timezone.now(),
        report_channel="phone",
        reporter_kind="school",
        reporter_details="",
        summary="Mungesa në shkollë.",
    )
    client = signed_in_client(coordinator)
    client.cookies["django_language"] = "en"

    response = client.post(URL, form_data(personal_number="L10101001A"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "1 other case you cannot open" in page
    assert child_case.number not in page
    assert Case.objects.filter(kind="dv").count() == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_child_protection_worker_cannot_open_dv_registration(worker, method):
    client = signed_in_client(worker)

    response = getattr(client, method)(URL, form_data() if method == "post" else None)

    assert response.status_code == 404
    assert not Case.objects.exists()


def test_ccr_member_cannot_open_dv_registration(municipality, police):
    member = UserFactory(municipality=municipality, institution=police, roles=[Role.CCR_MEMBER])

    assert signed_in_client(member).get(URL).status_code == 404
