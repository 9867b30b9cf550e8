from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.roles import Role
from protocol import access
from protocol.models import (
    CaseGroupObjectPermission,
    CaseTransfer,
    CaseUserObjectPermission,
    EmergencyAccess,
    ReferralState,
    TransferState,
)
from protocol.services import emergency as emergency_services
from protocol.services import transfers as transfer_services
from protocol.stages import TransitionNotAllowed
from tests.cases import refer, register_child_case
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory, MunicipalityFactory, UserFactory

JUSTIFICATION = "Fëmija u gjet natën në stacionin e autobusëve, pa shoqërues."


def english_client(user):
    """Signed in, with the interface in English, for pages whose labels a test reads."""
    client = signed_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def fresh(user):
    """The user as a new request would load it: no permissions cached."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def foreign_worker(other_municipality):
    return UserFactory(
        username="pmf.br", municipality=other_municipality, roles=[Role.CHILD_PROTECTION_WORKER]
    )


@pytest.fixture
def equality_officer(municipality):
    return UserFactory(
        username="barazi.dr", municipality=municipality, roles=[Role.GENDER_EQUALITY_OFFICER]
    )


def request_transfer(head, case, to_municipality, reason="Familja u zhvendos në Berat."):
    return transfer_services.transfer_request(
        by=head, case=case, version=case.version, to_municipality=to_municipality, reason=reason
    )


def open_emergency(user, case, justification=JUSTIFICATION):
    return emergency_services.emergency_access_open(
        by=user, case_number=case.number, justification=justification
    )


# --- Transfers ---------------------------------------------------------------------


def test_accepted_transfer_moves_the_case_and_its_access(
    worker, head, foreign_head, other_municipality, police_institution, officer
):
    case = register_child_case(worker)
    referral = refer(worker, case, police_institution)
    head_client = english_client(head)
    assert (
        "Transfer to another municipality"
        in head_client.get(case.get_absolute_url()).content.decode()
    )
    response = head_client.post(
        case.get_absolute_url() + "transfer/",
        {
            "version": case.version,
            "to_municipality": other_municipality.pk,
            "reason": "Familja u zhvendos në Berat.",
        },
    )
    assert response.status_code == 302
    transfer = CaseTransfer.objects.get(case=case)
    assert transfer.state == TransferState.REQUESTED

    receiving = signed_in_client(foreign_head)
    incoming = receiving.get("/cases/transfers/").content.decode()
    assert case.number in incoming
    assert "Familja u zhvendos në Berat." in incoming
    assert "Durrës" in incoming
    assert "Arta" not in incoming  # no case contents before accepting
    assert "shkollë pa ngrënë" not in incoming
    assert receiving.get(case.get_absolute_url()).status_code == 404

    response = receiving.post(
        f"/cases/transfers/{transfer.pk}/answer/",
        {f"{transfer.pk}-decision": "accept", f"{transfer.pk}-answer": ""},
    )
    assert response.status_code == 302
    version_before = case.version
    case.refresh_from_db()
    assert case.municipality == other_municipality
    assert case.administrative_unit is None
    assert case.owner == foreign_head
    assert case.number.startswith("DR-")  # the number people know stays
    assert case.version == version_before + 1
    assert case.history.first().history_change_reason == f"transfer {transfer.pk}"
    transfer.refresh_from_db()
    assert transfer.state == TransferState.ACCEPTED
    assert transfer.answered_by == foreign_head

    for user in (worker, head, officer):
        assert signed_in_client(user).get(case.get_absolute_url()).status_code == 404
    assert receiving.get(case.get_absolute_url()).status_code == 200
    assert access.can_change_case(fresh(foreign_head), case)
    another_head_there = UserFactory(municipality=other_municipality, roles=[Role.HEAD_OF_CPU])
    assert access.can_view_case(another_head_there, case)
    assert access.is_supervisor(another_head_there, case)
    referral.refresh_from_db()
    assert referral.state == ReferralState.REVOKED
    assert set(
        CaseUserObjectPermission.objects.filter(content_object=case).values_list("user", flat=True)
    ) == {foreign_head.pk}
    assert not CaseGroupObjectPermission.objects.filter(
        content_object=case, group=access.institution_group(police_institution.pk)
    ).exists()


def test_refused_transfer_changes_nothing(worker, head, foreign_head, other_municipality):
    case = register_child_case(worker)
    transfer = request_transfer(head, case, other_municipality)
    with pytest.raises(ValidationError):
        transfer_services.transfer_answer(
            by=foreign_head, transfer=transfer, accept=False, answer=""
        )
    transfer_services.transfer_answer(
        by=foreign_head, transfer=transfer, accept=False, answer="Familja nuk banon këtu."
    )
    transfer.refresh_from_db()
    assert transfer.state == TransferState.REFUSED
    version = case.version
    case.refresh_from_db()
    assert (case.municipality_id, case.owner_id, case.version) == (
        transfer.from_municipality_id,
        worker.pk,
        version,
    )
    assert access.can_change_case(fresh(worker), case)
    assert not access.can_view_case(fresh(foreign_head), case)
    with pytest.raises(TransitionNotAllowed):
        transfer_services.transfer_answer(
            by=foreign_head, transfer=transfer, accept=True, answer=""
        )
    assert (
        case.number not in signed_in_client(foreign_head).get("/cases/transfers/").content.decode()
    )


def test_worker_cannot_request_a_transfer(worker, other_municipality):
    case = register_child_case(worker)
    with pytest.raises(PermissionDenied):
        request_transfer(worker, case, other_municipality)
    client = english_client(worker)
    assert client.get(case.get_absolute_url() + "transfer/").status_code == 404
    assert (
        "Transfer to another municipality"
        not in client.get(case.get_absolute_url()).content.decode()
    )
    assert client.get("/cases/transfers/").status_code == 404
    assert not CaseTransfer.objects.exists()


def test_head_of_a_third_municipality_cannot_answer(worker, head, other_municipality):
    case = register_child_case(worker)
    transfer = request_transfer(head, case, other_municipality)
    third = MunicipalityFactory(name="Vlorë", code="VL")
    third_head = UserFactory(municipality=third, roles=[Role.HEAD_OF_CPU])
    dv_coordinator_there = UserFactory(municipality=other_municipality, roles=[Role.DV_COORDINATOR])
    for user in (third_head, dv_coordinator_there, head):
        with pytest.raises(PermissionDenied):
            transfer_services.transfer_answer(by=user, transfer=transfer, accept=True, answer="")
    client = signed_in_client(third_head)
    assert case.number not in client.get("/cases/transfers/").content.decode()
    response = client.post(
        f"/cases/transfers/{transfer.pk}/answer/", {f"{transfer.pk}-decision": "accept"}
    )
    assert response.status_code == 404
    transfer.refresh_from_db()
    assert transfer.state == TransferState.REQUESTED


def test_one_open_request_per_case_and_never_to_its_own_municipality(
    worker, head, municipality, other_municipality
):
    case = register_child_case(worker)
    with pytest.raises(ValidationError):
        request_transfer(head, case, municipality)
    transfer = request_transfer(head, case, other_municipality)
    with pytest.raises(TransitionNotAllowed):
        request_transfer(head, case, MunicipalityFactory(name="Vlorë", code="VL"))
    transfer_services.transfer_cancel(by=head, transfer=transfer)
    assert request_transfer(head, case, other_municipality).is_open


def test_the_case_page_shows_a_pending_transfer_to_those_in_charge(
    worker, head, other_municipality
):
    case = register_child_case(worker)
    request_transfer(head, case, other_municipality)
    page = english_client(worker).get(case.get_absolute_url()).content.decode()
    assert "Transfer to Berat requested" in page


# --- Emergency access --------------------------------------------------------------


def test_worker_of_another_municipality_reads_a_case_in_an_emergency(worker, foreign_worker):
    case = register_child_case(worker)
    client = english_client(foreign_worker)
    assert client.get(case.get_absolute_url()).status_code == 404
    assert client.get("/cases/emergency/").status_code == 200

    response = client.post(
        "/cases/emergency/", {"case_number": case.number.lower(), "justification": JUSTIFICATION}
    )
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Emergency access until" in page
    assert "recorded for review" in page
    assert "Arta Hoxha" in page
    assert case.number in client.get("/cases/").content.decode()

    # Read only: no change page opens, no change is accepted.
    assert client.get(case.get_absolute_url() + "assessment/").status_code == 404
    assert client.post(case.get_absolute_url() + "notes/", {"text": "x"}).status_code == 404
    assert not case.notes.exists()
    reader = fresh(foreign_worker)
    assert access.can_view_part(reader, case, access.Part.DOCUMENTS)
    assert not access.can_change_case(reader, case)
    grant = EmergencyAccess.objects.get(case=case, user=foreign_worker)
    assert grant.municipality_id == case.municipality_id
    assert grant.reviewed_at is None


def test_no_emergency_notice_once_the_reader_holds_the_case(worker, foreign_worker):
    case = register_child_case(worker)
    open_emergency(foreign_worker, case)
    client = english_client(foreign_worker)
    assert "Emergency access until" in client.get(case.get_absolute_url()).content.decode()

    # Given the case itself (as after a transfer): no longer reading in an emergency.
    access.grant_full_access(case, user=foreign_worker)

    page = client.get(case.get_absolute_url()).content.decode()
    assert "Emergency access until" not in page
    assert "Add the note" in page


def test_emergency_access_lasts_the_configured_hours(worker, foreign_worker, settings):
    settings.MBROJTJE_EMERGENCY_ACCESS_HOURS = 2
    case = register_child_case(worker)
    grant = open_emergency(foreign_worker, case)
    assert grant.expires_at - grant.opened_at == timedelta(hours=2)
    client = signed_in_client(foreign_worker)
    assert client.get(case.get_absolute_url()).status_code == 200

    now = timezone.now()
    EmergencyAccess.objects.filter(pk=grant.pk).update(
        opened_at=now - timedelta(hours=2, seconds=1), expires_at=now - timedelta(seconds=1)
    )
    assert client.get(case.get_absolute_url()).status_code == 404
    assert case.number not in client.get("/cases/").content.decode()
    assert not access.can_view_case(fresh(foreign_worker), case)
    # After it ends, a new emergency needs a new justification (and a new review).
    assert open_emergency(foreign_worker, case).is_active


def test_too_short_a_justification_is_refused(worker, foreign_worker):
    case = register_child_case(worker)
    with pytest.raises(ValidationError) as refused:
        open_emergency(foreign_worker, case, justification="  Urgjent, natën.   ")
    assert "justification" in refused.value.error_dict
    response = signed_in_client(foreign_worker).post(
        "/cases/emergency/", {"case_number": case.number, "justification": "Urgjent."}
    )
    assert response.status_code == 200
    assert not EmergencyAccess.objects.exists()


def test_unknown_number_and_a_case_of_another_kind_get_the_same_answer(worker, other_municipality):
    case = register_child_case(worker)
    dv_coordinator = UserFactory(municipality=other_municipality, roles=[Role.DV_COORDINATOR])
    with pytest.raises(ValidationError) as unknown:
        emergency_services.emergency_access_open(
            by=dv_coordinator, case_number="DR-1999-9999", justification=JUSTIFICATION
        )
    with pytest.raises(ValidationError) as other_kind:
        open_emergency(dv_coordinator, case)
    assert unknown.value.message_dict == other_kind.value.message_dict
    assert not EmergencyAccess.objects.exists()


def test_a_second_opening_while_one_runs_is_refused(worker, foreign_worker):
    case = register_child_case(worker)
    open_emergency(foreign_worker, case)
    with pytest.raises(TransitionNotAllowed):
        open_emergency(fresh(foreign_worker), case)
    assert EmergencyAccess.objects.count() == 1


def test_no_emergency_access_to_a_case_one_can_already_open(worker, head):
    case = register_child_case(worker)
    with pytest.raises(emergency_services.AccessNotNeeded):
        open_emergency(head, case)
    response = signed_in_client(worker).post(
        "/cases/emergency/", {"case_number": case.number, "justification": JUSTIFICATION}
    )
    assert response["Location"] == case.get_absolute_url()
    assert not EmergencyAccess.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.MUNICIPAL_ADMINISTRATOR, Role.CCR_MEMBER, Role.GENDER_EQUALITY_OFFICER]
)
def test_roles_without_case_work_cannot_break_the_glass(worker, other_municipality, role):
    case = register_child_case(worker)
    institution = (
        InstitutionFactory(municipality=other_municipality) if role == Role.CCR_MEMBER else None
    )
    user = UserFactory(municipality=other_municipality, institution=institution, roles=[role])
    client = signed_in_client(user)
    assert client.get("/cases/emergency/").status_code == 404
    response = client.post(
        "/cases/emergency/", {"case_number": case.number, "justification": JUSTIFICATION}
    )
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        open_emergency(user, case)
    assert client.get(case.get_absolute_url()).status_code == 404
    assert not EmergencyAccess.objects.exists()


def test_the_case_worker_sees_that_emergency_access_was_used(worker, foreign_worker):
    case = register_child_case(worker)
    open_emergency(foreign_worker, case)
    page = english_client(worker).get(case.get_absolute_url()).content.decode()
    assert "Emergency access was used on this case" in page
    assert JUSTIFICATION in page
    assert "Berat" in page
    assert "Emergency access until" not in page  # that banner is for the reader only


def test_officer_of_the_case_municipality_reviews_emergency_access(
    worker, foreign_worker, equality_officer, other_municipality
):
    case = register_child_case(worker)
    grant = open_emergency(foreign_worker, case)
    client = english_client(equality_officer)
    home = client.get("/").content.decode()
    assert "Emergency accesses" in home
    page = client.get("/cases/emergency/review/").content.decode()
    assert case.number in page
    assert JUSTIFICATION in page
    assert foreign_worker.username in page
    assert "Arta" not in page  # identifiers and the justification, no case contents
    assert "shkollë pa ngrënë" not in page
    assert client.get(case.get_absolute_url()).status_code == 404

    url = f"/cases/emergency/review/{grant.pk}/"
    response = client.post(url, {f"{grant.pk}-review_comment": ""})
    assert response.status_code == 200
    grant.refresh_from_db()
    assert grant.reviewed_at is None
    response = client.post(url, {f"{grant.pk}-review_comment": "Konfirmuar me policinë."})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == equality_officer
    assert grant.review_comment == "Konfirmuar me policinë."
    with pytest.raises(TransitionNotAllowed):
        emergency_services.emergency_access_review(
            by=equality_officer, access=grant, comment="Sërish."
        )


def test_the_officer_reading_the_justifications_is_recorded(
    worker, foreign_worker, equality_officer
):
    import json

    from audit.models import Action, AuditEvent

    first = open_emergency(foreign_worker, register_child_case(worker))
    second = open_emergency(
        foreign_worker, register_child_case(worker, duplicate_override_reason="Një tjetër fëmijë.")
    )
    client = signed_in_client(equality_officer)

    client.get("/cases/emergency/review/")
    # A review sent without its comment shows the page, and its justifications, again.
    client.post(f"/cases/emergency/review/{first.pk}/", {f"{first.pk}-review_comment": ""})

    reads = AuditEvent.objects.filter(
        action=Action.AUDIT_VIEWED, actor_id=equality_officer.pk
    ).order_by("id")
    assert [read.object_type for read in reads] == ["protocol.emergencyaccess"] * 2
    for read in reads:
        assert json.loads(read.detail) == {
            "accesses": sorted([str(first.pk), str(second.pk)]),
            "count": 2,
        }
        assert JUSTIFICATION not in read.detail + read.justification


def test_officer_of_another_municipality_does_not_see_the_emergency_access(
    worker, foreign_worker, other_municipality
):
    case = register_child_case(worker)
    grant = open_emergency(foreign_worker, case)
    other_officer = UserFactory(
        municipality=other_municipality, roles=[Role.GENDER_EQUALITY_OFFICER]
    )
    client = signed_in_client(other_officer)
    assert case.number not in client.get("/cases/emergency/review/").content.decode()
    response = client.post(
        f"/cases/emergency/review/{grant.pk}/", {f"{grant.pk}-review_comment": "OK, pa problem."}
    )
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        emergency_services.emergency_access_review(by=other_officer, access=grant, comment="OK")
    assert signed_in_client(worker).get("/cases/emergency/review/").status_code == 404


def test_emergency_access_grants_no_permission_rows(worker, foreign_worker):
    """So there is nothing to clean up when it ends: the expiry alone closes it."""
    case = register_child_case(worker)
    before = CaseGroupObjectPermission.objects.count() + CaseUserObjectPermission.objects.count()
    open_emergency(foreign_worker, case)
    after = CaseGroupObjectPermission.objects.count() + CaseUserObjectPermission.objects.count()
    assert after == before


def test_a_dv_case_goes_to_the_receiving_dv_coordinator(municipality, other_municipality):
    from protocol import services
    from tests.cases import child

    coordinator = UserFactory(municipality=municipality, roles=[Role.DV_COORDINATOR])
    case = services.case_register(
        by=coordinator,
        kind="dv",
        people=[child(first="Mira")],
        needs=["physical"],
        reported_risk_level="high",
        reported_at=timezone.now(),
        report_channel="phone",
        reporter_kind="police",
        reporter_details="",
        summary="Sulm.",
    )
    transfer = request_transfer(coordinator, case, other_municipality)
    head_there = UserFactory(municipality=other_municipality, roles=[Role.HEAD_OF_CPU])
    with pytest.raises(PermissionDenied):
        transfer_services.transfer_answer(by=head_there, transfer=transfer, accept=True, answer="")
    assert not transfer_services.transfers_incoming(head_there).exists()
    coordinator_there = UserFactory(municipality=other_municipality, roles=[Role.DV_COORDINATOR])
    transfer_services.transfer_answer(
        by=coordinator_there, transfer=transfer, accept=True, answer=""
    )
    case.refresh_from_db()
    assert case.owner == coordinator_there
    assert access.can_change_case(fresh(coordinator_there), case)
    assert not access.can_view_case(fresh(coordinator), case)
