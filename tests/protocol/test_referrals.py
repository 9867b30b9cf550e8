from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from accounts import services as account_services
from accounts.roles import Role, institution_group_name
from protocol import access
from protocol.models import CaseGroupObjectPermission, Referral, ReferralState
from protocol.services import referrals as referral_services
from tests.cases import register_child_case, take_to_monitoring
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory, UserFactory


def refer(worker, case, institution, parts=("identity",), **overrides):
    arguments = {
        "by": worker,
        "case": case,
        "institution": institution,
        "parts": list(parts),
        "reason": "Kërkohet vizitë e policisë.",
        "urgency": "urgent",
        "legal_basis": "child_at_risk",
        "due_date": timezone.localdate() + timedelta(days=2),
    }
    arguments.update(overrides)
    return referral_services.referral_create(**arguments)


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_member_sees_only_the_referred_case_and_parts(worker, officer, police_institution):
    referred = register_child_case(worker)
    other = register_child_case(worker, duplicate_override_reason="tjetër")
    refer(worker, referred, police_institution, parts=["identity"])
    client = signed_in_client(officer)

    page = client.get(referred.get_absolute_url()).content.decode()
    assert "Arta Hoxha" in page  # identity was referred
    assert "shkollë pa ngrënë" not in page  # the narrative was not
    assert client.get(other.get_absolute_url()).status_code == 404
    listing = client.get("/cases/").content.decode()
    assert referred.number in listing
    assert other.number not in listing
    assert not access.can_change_case(fresh(officer), referred)


def test_parts_not_referred_answer_404(worker, officer, police_institution):
    case = register_child_case(worker)
    refer(worker, case, police_institution, parts=["identity"])
    client = signed_in_client(officer)
    for path in ("assessment/", "plan/", "notes/", "referrals/new/"):
        assert client.get(case.get_absolute_url() + path).status_code in (404, 405)
    assert not access.can_view_part(fresh(officer), case, access.Part.DOCUMENTS)


def test_expired_referral_closes_access_before_the_cleanup_runs(
    worker, officer, police_institution
):
    case = register_child_case(worker)
    referral = refer(worker, case, police_institution)
    Referral.objects.filter(pk=referral.pk).update(
        referred_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert signed_in_client(officer).get(case.get_absolute_url()).status_code == 404
    assert CaseGroupObjectPermission.objects.filter(content_object=case).exists()

    output = StringIO()
    call_command("expire_referrals", stdout=output)
    assert "1 referral" in output.getvalue()
    referral.refresh_from_db()
    assert referral.state == ReferralState.EXPIRED
    group = access.institution_group(police_institution.pk)
    assert not CaseGroupObjectPermission.objects.filter(content_object=case, group=group).exists()


def test_accept_record_and_done_then_access_ends(worker, officer, police_institution):
    case = register_child_case(worker)
    referral = refer(worker, case, police_institution)
    client = signed_in_client(officer)
    inbox = client.get("/cases/referrals/").content.decode()
    assert case.number in inbox
    url = referral.get_absolute_url()
    client.post(url, {"form": "answer", "version": 1, "decision": "accept", "answer": ""})
    client.post(
        url,
        {"form": "action", "version": 2, "action_taken": "U lëshua UPMM.", "done": "on"},
    )
    referral.refresh_from_db()
    assert referral.state == ReferralState.DONE
    assert "U lëshua UPMM." in referral.action_taken
    assert client.get(case.get_absolute_url()).status_code == 404
    owner_page = signed_in_client(worker).get(case.get_absolute_url()).content.decode()
    assert "U lëshua UPMM." in owner_page


def test_decline_needs_a_reason_and_ends_access(worker, officer, police_institution):
    case = register_child_case(worker)
    referral = refer(worker, case, police_institution)
    with pytest.raises(ValidationError):
        referral_services.referral_answer(
            by=officer, referral=referral, version=1, accept=False, answer=""
        )
    referral_services.referral_answer(
        by=officer, referral=referral, version=1, accept=False, answer="Jo në juridiksion."
    )
    assert not access.can_view_case(fresh(officer), case)


def test_member_who_leaves_the_institution_loses_access_at_once(
    worker, officer, police_institution, municipality, municipal_admin
):
    case = register_child_case(worker)
    refer(worker, case, police_institution)
    client = signed_in_client(officer)
    assert client.get(case.get_absolute_url()).status_code == 200
    school = InstitutionFactory(municipality=municipality, name="Shkolla", kind="education")
    account_services.account_update(
        by=municipal_admin,
        account=officer,
        version=fresh(officer).version,
        first_name="a",
        last_name="b",
        email="a@example.invalid",
        roles={Role.CCR_MEMBER},
        institution=school,
    )
    assert client.get(case.get_absolute_url()).status_code == 404


def test_other_institution_member_cannot_open_the_referral(
    worker, officer, police_institution, municipality
):
    case = register_child_case(worker)
    referral = refer(worker, case, police_institution)
    school = InstitutionFactory(municipality=municipality, name="Shkolla", kind="education")
    teacher = UserFactory(municipality=municipality, institution=school, roles=[Role.CCR_MEMBER])
    client = signed_in_client(teacher)
    assert client.get(referral.get_absolute_url()).status_code == 404
    assert client.get(case.get_absolute_url()).status_code == 404
    assert case.number not in client.get("/cases/referrals/").content.decode()


def test_closing_the_case_ends_its_referrals(worker, head, officer, police_institution):
    from protocol import services

    case = take_to_monitoring(register_child_case(worker), worker, head)
    refer(worker, case, police_institution)
    services.closure_propose(
        by=worker, case=case, version=case.version, closure_reason="moved", explanation="x"
    )
    case.refresh_from_db()
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")
    assert not access.can_view_case(fresh(officer), case)
    assert not Referral.objects.filter(state__in=["new", "accepted", "in_progress"]).exists()


def test_revoked_referral_ends_access(worker, officer, police_institution):
    case = register_child_case(worker)
    referral = refer(worker, case, police_institution)
    client = signed_in_client(worker)
    client.post(case.get_absolute_url() + f"referrals/{referral.pk}/revoke/", {"reason": "Gabim."})
    referral.refresh_from_db()
    assert referral.state == ReferralState.REVOKED
    assert not access.can_view_case(fresh(officer), case)


def test_dv_case_needs_consent_or_a_court_order(municipality, police_institution):
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
    with pytest.raises(ValidationError):
        refer(coordinator, case, police_institution, legal_basis="child_at_risk")
    assert refer(coordinator, case, police_institution, legal_basis="consent").is_open


def test_only_the_case_owner_refers(worker, other_worker, officer, police_institution):
    case = register_child_case(worker)
    response = signed_in_client(other_worker).get(case.get_absolute_url() + "referrals/new/")
    assert response.status_code == 404
    response = signed_in_client(officer).get("/cases/referrals/")
    assert response.status_code == 200
    assert signed_in_client(worker).get("/cases/referrals/").status_code == 404


def test_inbox_pages_and_filters_states_in_the_database(worker, officer, police_institution):
    expired_by_time = refer(worker, register_child_case(worker), police_institution)
    Referral.objects.filter(pk=expired_by_time.pk).update(
        referred_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    newest = None
    for n in range(26):
        newest = refer(
            worker,
            register_child_case(worker, duplicate_override_reason=f"rast {n}"),
            police_institution,
        )
    client = signed_in_client(officer)

    first = client.get("/cases/referrals/").content.decode()
    assert newest.case.number in first
    assert expired_by_time.case.number not in first  # the oldest, on page 2 of 27 rows
    assert "page=2" in first
    assert expired_by_time.case.number in client.get("/cases/referrals/?page=2").content.decode()

    # Still "new" in the table, but past its end: the member sees it as expired.
    expired = client.get("/cases/referrals/?state=expired").content.decode()
    assert expired_by_time.case.number in expired
    assert newest.case.number not in expired
    assert "state=expired&amp;page" not in expired  # one page only
    new = client.get("/cases/referrals/?state=new").content.decode()
    assert expired_by_time.case.number not in new
    assert "state=new&amp;page=2" in new


# --- The longest a referral may last -------------------------------------------------------


def test_referral_may_give_access_up_to_the_limit(worker, police_institution, settings):
    settings.MBROJTJE_REFERRAL_MAX_DAYS = 365
    case = register_child_case(worker)
    at_limit = timezone.now() + timedelta(days=365) - timedelta(minutes=1)
    referral = refer(worker, case, police_institution, expires_at=at_limit)
    assert referral.expires_at == at_limit


def test_referral_service_refuses_access_beyond_the_limit(worker, police_institution, settings):
    settings.MBROJTJE_REFERRAL_MAX_DAYS = 365
    case = register_child_case(worker)
    with pytest.raises(ValidationError) as refused:
        refer(worker, case, police_institution, expires_at=timezone.now() + timedelta(days=366))
    assert refused.value.message_dict["expires_at"] == [
        "Një referim jep akses për të shumtën 365 ditë; për më gjatë, bëni një referim të ri."
    ]
    assert not Referral.objects.exists()
    assert not CaseGroupObjectPermission.objects.filter(
        content_object=case, group__name=institution_group_name(police_institution.pk)
    ).exists()


def test_referral_form_refuses_an_end_beyond_the_limit_and_names_it(
    worker, police_institution, settings
):
    settings.MBROJTJE_REFERRAL_MAX_DAYS = 30
    case = register_child_case(worker)
    response = signed_in_client(worker).post(
        case.get_absolute_url() + "referrals/new/",
        {
            "institution": police_institution.pk,
            "parts": ["identity"],
            "reason": "Kërkohet vizitë e policisë.",
            "urgency": "urgent",
            "legal_basis": "child_at_risk",
            "due_date": (timezone.localdate() + timedelta(days=2)).isoformat(),
            "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "Një referim jep akses për të shumtën 30 ditë" in response.content.decode()
    assert not Referral.objects.exists()
