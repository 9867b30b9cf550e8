from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import Institution
from accounts.roles import Role
from dv_cases import services
from protocol.models import CaseUserObjectPermission, PersonRole
from protocol.services import PersonData
from tests.factories import InstitutionFactory, UserFactory

VICTIM_NAME = ("Drita", "Kelmendi")
VICTIM_PERSONAL_NUMBER = "J85412345K"


@pytest.fixture
def coordinator(municipality):
    return UserFactory(username="kvdhf.dr", municipality=municipality, roles=[Role.DV_COORDINATOR])


@pytest.fixture
def other_coordinator(other_municipality):
    return UserFactory(
        username="kvdhf.br", municipality=other_municipality, roles=[Role.DV_COORDINATOR]
    )


@pytest.fixture
def court(municipality):
    return InstitutionFactory(
        municipality=municipality, kind=Institution.Kind.COURT, name="Gjykata Durrës"
    )


@pytest.fixture
def shelter(other_municipality):
    # In another municipality: victims are often sheltered away from home.
    return InstitutionFactory(
        municipality=other_municipality, kind=Institution.Kind.SHELTER, name="Strehëza e Bardhë"
    )


def register_dv_case(by, *, first_name=VICTIM_NAME[0], last_name=VICTIM_NAME[1], **overrides):
    arguments = {
        "victim": PersonData(
            role=PersonRole.VICTIM,
            first_name=first_name,
            last_name=last_name,
            personal_number=overrides.pop("personal_number", VICTIM_PERSONAL_NUMBER),
            sex="female",
        ),
        "perpetrator": PersonData(
            role=PersonRole.PERPETRATOR,
            first_name="Arben",
            last_name="Kelmendi",
            relationship_to_victim="spouse",
        ),
        "incident": services.IncidentData(
            occurred_on=timezone.localdate() - timedelta(days=1),
            place="Rruga e Dibrës",
            forms=["physical", "psychological"],
            narrative="E goditi me grusht para fëmijëve.",
            injuries=True,
            children_present=True,
        ),
        "reported_risk_level": "high",
        "reported_at": timezone.now() - timedelta(hours=2),
        "report_channel": "in_person",
        "reporter_kind": "police",
        "reporter_details": "",
        **overrides,
    }
    return services.dv_case_register(by=by, **arguments)


@pytest.fixture
def dv_case(coordinator):
    return register_dv_case(coordinator)


def grant(case, user, *codenames):
    """Give `user` some of the per-case permissions, as a referral would."""
    for codename in codenames:
        CaseUserObjectPermission.objects.create(
            content_object=case,
            user=user,
            permission=Permission.objects.get(
                content_type__app_label="protocol", codename=codename
            ),
        )


@pytest.fixture
def reader(municipality, dv_case, police, coordinator):
    """A CCR member to whom every part of the case but documents and the plan was
    referred: they read those and change nothing."""
    from datetime import timedelta

    from django.utils import timezone

    from protocol.services.referrals import referral_create

    user = UserFactory(
        username="police.dr", municipality=municipality, institution=police, roles=[Role.CCR_MEMBER]
    )
    referral_create(
        by=coordinator,
        case=dv_case,
        institution=police,
        parts=["identity", "incidents", "risk", "orders"],
        reason="Për urdhër mbrojtjeje.",
        urgency="urgent",
        legal_basis="consent",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    return user
