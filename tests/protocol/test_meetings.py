from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Institution
from accounts.roles import Role
from protocol.models import Meeting
from protocol.services import meetings as meeting_services
from protocol.services import referrals as referral_services
from tests.cases import child, register_child_case
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory, UserFactory


@pytest.fixture
def school(municipality):
    return InstitutionFactory(municipality=municipality, name="Shkolla", kind="education")


@pytest.fixture
def teacher(municipality, school):
    return UserFactory(municipality=municipality, institution=school, roles=[Role.CCR_MEMBER])


def convene(worker, cases, invited):
    return meeting_services.meeting_convene(
        by=worker,
        kind="gtn",
        scheduled_at=timezone.now() + timedelta(days=2),
        invited=invited,
        cases=cases,
    )


def test_worker_convenes_a_gtn_and_records_minutes(worker, school):
    case = register_child_case(worker)
    client = signed_in_client(worker)
    response = client.post(
        "/meetings/new/",
        {
            "kind": "gtn",
            "scheduled_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "invited": [school.pk],
            "cases": [case.pk],
        },
    )
    meeting = Meeting.objects.get()
    assert response["Location"] == meeting.get_absolute_url()
    client.post(
        meeting.get_absolute_url(),
        {"version": 1, "attendance": "Mësuesja", "minutes": "U diskutua.", "decisions": "PIM."},
    )
    meeting.refresh_from_db()
    assert meeting.minutes == "U diskutua."


def test_invitee_sees_the_agenda_and_only_referred_cases(worker, school, teacher):
    referred = register_child_case(worker)
    not_referred = register_child_case(
        worker, person=child(first="Besa", personal_number="K22222222B")
    )
    referral_services.referral_create(
        by=worker,
        case=referred,
        institution=school,
        parts=["identity"],
        reason="Frekuentimi.",
        urgency="normal",
        legal_basis="child_at_risk",
        due_date=timezone.localdate() + timedelta(days=3),
    )
    meeting = convene(worker, [referred, not_referred], [school])
    meeting_services.meeting_record(
        by=worker, meeting=meeting, version=1, attendance="", minutes="Sekrete.", decisions=""
    )
    client = signed_in_client(teacher)
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert referred.number in page
    assert not_referred.number in page
    assert f'href="{referred.get_absolute_url()}"' in page
    assert f'href="{not_referred.get_absolute_url()}"' not in page
    assert "Sekrete." not in page
    assert client.get(not_referred.get_absolute_url()).status_code == 404
    assert (
        client.post(meeting.get_absolute_url(), {"version": 2, "minutes": "x"}).status_code == 404
    )


def test_uninvited_and_other_municipality_see_no_meeting(
    worker, other_worker, foreign_head, school, municipality
):
    meeting = convene(worker, [register_child_case(worker)], [school])
    police = InstitutionFactory(
        municipality=municipality, name="Policia", kind=Institution.Kind.POLICE
    )
    officer = UserFactory(municipality=municipality, institution=police, roles=[Role.CCR_MEMBER])
    for user in (other_worker, foreign_head, officer):
        assert signed_in_client(user).get(meeting.get_absolute_url()).status_code == 404


def test_agenda_holds_only_the_conveners_cases_of_the_groups_kind(worker, other_worker, school):
    others = register_child_case(other_worker)
    with pytest.raises(ValidationError):
        convene(worker, [others], [school])
    with pytest.raises(ValidationError):
        convene(worker, [], [school])
    with pytest.raises(PermissionDenied):
        meeting_services.meeting_convene(
            by=worker, kind="etn", scheduled_at=timezone.now(), invited=[], cases=[]
        )
