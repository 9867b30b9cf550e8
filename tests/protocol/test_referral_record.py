"""After a referral ends, the institution keeps its own record of it (the case number, dates,
what it was asked, what it answered and did), never the case's content; nobody else reads it."""

import pytest

from accounts.roles import Role
from audit.models import Action, AuditEvent
from protocol.services import referrals as referral_services
from tests.cases import child, refer, register_child_case
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db

CASE_CONTENT = ("Arta", "Hoxha", "K10101001A", "Dëshmorëve", "0691234567", "pa ngrënë")


def english(user):
    client = signed_in_client(user)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def done_referral(worker, officer):
    referral = refer(worker, register_child_case(worker), officer.institution)
    referral = referral_services.referral_answer(
        by=officer,
        referral=referral,
        version=referral.version,
        accept=True,
        answer="Patrulla niset sot.",
    )
    return referral_services.referral_record_action(
        by=officer,
        referral=referral,
        version=referral.version,
        action_taken="Vizitë e bërë, asnjë rrezik i menjëhershëm.",
        done=True,
    )


def test_the_institution_reads_its_record_of_a_done_referral(done_referral, officer):
    response = english(officer).get(done_referral.get_absolute_url())

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="own-record"' in page
    assert "Kërkohet vizitë e policisë." in page  # what it was asked
    assert "Patrulla niset sot." in page
    assert "Vizitë e bërë, asnjë rrezik i menjëhershëm." in page
    assert done_referral.case.number in page
    for word in CASE_CONTENT:
        assert word not in page
    assert "Open the shared parts of the case" not in page
    event = AuditEvent.objects.filter(action=Action.PART_VIEWED).latest("id")
    assert event.part == "referral-record"
    assert event.object_id == str(done_referral.pk)


def test_the_case_itself_is_closed_to_the_institution(done_referral, officer):
    assert signed_in_client(officer).get(done_referral.case.get_absolute_url()).status_code == 404


def test_past_referrals_list_the_ended_ones_only(done_referral, worker, officer):
    ongoing = refer(
        worker,
        register_child_case(worker, person=child("Besa", "Leka", "K20202002B")),
        officer.institution,
    )

    page = english(officer).get("/cases/referrals/", {"state": "past"}).content.decode()

    assert done_referral.get_absolute_url() in page
    assert ongoing.get_absolute_url() not in page


def test_another_institution_is_refused_the_record(done_referral, municipality):
    school = InstitutionFactory(municipality=municipality, kind="education")
    teacher = UserFactory(municipality=municipality, institution=school, roles=[Role.CCR_MEMBER])

    response = signed_in_client(teacher).get(done_referral.get_absolute_url())

    assert response.status_code == 404
    assert "Patrulla" not in response.content.decode()
    assert "Patrulla" not in english(teacher).get("/cases/referrals/?state=past").content.decode()


def test_a_revoked_referral_keeps_the_answer_without_the_workers_reason(worker, officer):
    referral = refer(worker, register_child_case(worker), officer.institution)
    referral = referral_services.referral_answer(
        by=officer, referral=referral, version=referral.version, accept=True, answer="Pranuar."
    )
    referral_services.referral_revoke(by=worker, referral=referral, reason="Familja u largua.")

    page = english(officer).get(referral.get_absolute_url()).content.decode()

    assert "Pranuar." in page
    assert "Familja u largua." not in page
