"""A municipality whose figures the tests know, built through the real services.

Period of the tests: the last 90 days (a range of dates, so that no test
depends on the day of the year it runs). Durrës, with two administrative units:

| case | kind  | reported | stage now        | unit | needs / forms           | person        |
|------|-------|----------|------------------|------|-------------------------|---------------|
| C1   | child | -30 d    | monitoring       |      | neglect, physical       | girl 6-11 Rom |
| C2   | child | -20 d    | assessed, late   | U1   | abuse                   | boy 12-17 dis |
| C3   | child | -5 d     | registered       | U1   | street situation        | girl 0-5 Egy  |
| C4   | child | -400 d   | closed today     |      | neglect                 | boy 6-11      |
| C5   | child | -500 d   | closed -200 d    |      | neglect                 | boy 6-11      |
| D1   | dv    | -15 d    | registered       |      | physical, psychological | woman 25-59   |
| D2   | dv    | -5 h     | registered       | U2   | economic, sexual        | woman 60+     |
| B1   | child | -10 d    | registered, Berat|      | neglect                 | girl 6-11     |

(Rom: Roma; dis: with disability; Egy: Egyptian. DV cases also have a perpetrator.)

D1 has a UMM granted and a UPMM awaiting decision; D1 and D2 were referred to the
police, who answered after 5 h and 3 h; C1 was referred to the school (new).
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from accounts.models import AdministrativeUnit, Institution
from accounts.roles import Role
from dv_cases import services as dv_services
from protocol import services
from protocol.models import Case, PersonRole, Referral, StageTransition
from protocol.services import referrals as referral_services
from reports.selectors import Period, ReportFilters
from tests.factories import InstitutionFactory, MunicipalityFactory, UserFactory

PERIOD_DAYS = 90

# Names of the cases' people: no reports page may show them.
NAMES = ("Lule", "Zana", "Kreshnik", "Dardan", "Teuta", "Jeta", "Blerta", "Shpresa", "Bora")


@pytest.fixture(autouse=True)
def _english():
    """Labels in English (the msgids): the tests name rows by them."""
    with translation.override("en"):
        yield


def period_filters(**extra) -> ReportFilters:
    today = timezone.localdate()
    return ReportFilters(period=Period.between(today - timedelta(days=PERIOD_DAYS), today), **extra)


def period_query(**extra) -> dict:
    today = timezone.localdate()
    return {
        "date_from": (today - timedelta(days=PERIOD_DAYS)).isoformat(),
        "date_to": today.isoformat(),
        **extra,
    }


def person(role, first, sex, age_group, **flags):
    return services.PersonData(
        role=role,
        first_name=first,
        last_name="Krasniqi",
        sex=sex,
        age_group=age_group,
        address="Rruga e Kavajës 3",
        **flags,
    )


def child_case(by, *, reported_at, first, sex, age_group, needs, risk="medium", unit=None, **flags):
    return services.case_register(
        by=by,
        kind="child",
        people=[person(PersonRole.CHILD, first, sex, age_group, **flags)],
        needs=needs,
        reported_risk_level=risk,
        reported_at=reported_at,
        report_channel="phone",
        reporter_kind="school",
        reporter_details="",
        summary="Raportim nga shkolla.",
        administrative_unit=unit,
    )


def dv_case(by, *, reported_at, first, age_group, forms, unit=None):
    return dv_services.dv_case_register(
        by=by,
        victim=person(PersonRole.VICTIM, first, "female", age_group),
        perpetrator=services.PersonData(
            role=PersonRole.PERPETRATOR,
            first_name="Ilir",
            last_name="Krasniqi",
            sex="male",
            age_group="25-59",
            relationship_to_victim="spouse",
        ),
        incident=dv_services.IncidentData(
            occurred_on=timezone.localtime(reported_at).date(),
            place="Në shtëpi",
            forms=forms,
            narrative="Ngjarja e raportuar.",
        ),
        reported_risk_level="high",
        reported_at=reported_at,
        report_channel="in_person",
        reporter_kind="police",
        reporter_details="",
        administrative_unit=unit,
    )


def fresh(case: Case) -> Case:
    case.refresh_from_db()
    return case


def assess(case, by, *, at, risk):
    services.assessment_record(
        by=by,
        case=case,
        version=case.version,
        risk_level=risk,
        findings="Vizitë.",
        home_visit=True,
        assessed_at=at,
    )
    return fresh(case)


def close(case, worker, head):
    services.closure_propose(
        by=worker, case=case, version=case.version, closure_reason="moved", explanation="U largua."
    )
    case = fresh(case)
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")
    return fresh(case)


def refer(case, by, institution, *, basis):
    return referral_services.referral_create(
        by=by,
        case=case,
        institution=institution,
        parts=["identity"],
        reason="Ndërhyrje.",
        urgency="normal",
        legal_basis=basis,
        due_date=timezone.localdate() + timedelta(days=3),
    )


def answered(referral, member, *, referred_at, after_hours):
    """The member accepts the referral; then both moments are moved to what the test needs."""
    referral_services.referral_answer(
        by=member, referral=referral, version=referral.version, accept=True, answer="Pranohet."
    )
    Referral.objects.filter(pk=referral.pk).update(
        referred_at=referred_at, answered_at=referred_at + timedelta(hours=after_hours)
    )


@dataclass
class World:
    durres: object
    berat: object
    units: list
    users: dict
    cases: dict


@pytest.fixture
def world(db):
    durres = MunicipalityFactory(name="Durrës", code="DR")
    berat = MunicipalityFactory(name="Berat", code="BR")
    units = [
        AdministrativeUnit.objects.create(municipality=durres, name="Njësia 1"),
        AdministrativeUnit.objects.create(municipality=durres, name="Njësia 2"),
    ]
    police = InstitutionFactory(municipality=durres, kind=Institution.Kind.POLICE, name="Policia")
    school = InstitutionFactory(
        municipality=durres, kind=Institution.Kind.EDUCATION, name="Shkolla"
    )
    court = InstitutionFactory(municipality=durres, kind=Institution.Kind.COURT, name="Gjykata")
    users = {
        "worker": UserFactory(
            username="pmf.dr",
            first_name="Elira",
            last_name="Puna",
            municipality=durres,
            roles=[Role.CHILD_PROTECTION_WORKER],
        ),
        "head": UserFactory(username="kreu.dr", municipality=durres, roles=[Role.HEAD_OF_CPU]),
        "coordinator": UserFactory(
            username="kvdhf.dr",
            first_name="Mirela",
            last_name="Koordinata",
            municipality=durres,
            roles=[Role.DV_COORDINATOR],
        ),
        "officer": UserFactory(
            username="barazia.dr", municipality=durres, roles=[Role.GENDER_EQUALITY_OFFICER]
        ),
        "statistician": UserFactory(
            username="statistika", municipality=None, roles=[Role.NATIONAL_STATISTICIAN]
        ),
        "admin": UserFactory(
            username="admin.dr", municipality=durres, roles=[Role.MUNICIPAL_ADMINISTRATOR]
        ),
        "police": UserFactory(
            username="policia.dr",
            municipality=durres,
            institution=police,
            roles=[Role.CCR_MEMBER],
        ),
        "berat_worker": UserFactory(
            username="pmf.br", municipality=berat, roles=[Role.CHILD_PROTECTION_WORKER]
        ),
        "berat_head": UserFactory(username="kreu.br", municipality=berat, roles=[Role.HEAD_OF_CPU]),
    }
    worker, head, coordinator = users["worker"], users["head"], users["coordinator"]
    now = timezone.now()

    c1 = child_case(
        worker,
        reported_at=now - timedelta(days=30),
        first="Lule",
        sex="female",
        age_group="6-11",
        needs=["neglect", "physical"],
        risk="high",
        is_roma=True,
    )
    c1 = assess(c1, worker, at=c1.reported_at + timedelta(hours=10), risk="high")
    services.conference_record(
        by=worker,
        case=c1,
        version=c1.version,
        held_at=c1.assessed_at + timedelta(days=2),
        institutions=[],
        people_present="Nëna",
        minutes="Procesverbali.",
        decisions="PIM.",
    )
    c1 = fresh(c1)
    services.plan_save(
        by=worker, case=c1, version=c1.version, goals="Siguri.", drafted_with_family=True
    )
    c1 = fresh(c1)
    services.plan_action_add(
        by=worker,
        case=c1,
        version=c1.version,
        description="Vizita",
        institution=None,
        due_date=timezone.localdate() + timedelta(days=7),
    )
    c1 = fresh(c1)
    services.case_advance(by=worker, case=c1, version=c1.version, action="submit_plan")
    c1 = fresh(c1)
    services.case_advance(by=head, case=c1, version=c1.version, action="approve_plan")
    c1 = fresh(c1)

    c2 = child_case(
        worker,
        reported_at=now - timedelta(days=20),
        first="Kreshnik",
        sex="male",
        age_group="12-17",
        needs=["abuse"],
        unit=units[0],
        has_disability=True,
    )
    c2 = assess(c2, worker, at=c2.reported_at + timedelta(hours=100), risk="medium")

    c3 = child_case(
        worker,
        reported_at=now - timedelta(days=5),
        first="Zana",
        sex="female",
        age_group="0-5",
        needs=["street_situation"],
        risk="low",
        unit=units[0],
        is_egyptian=True,
    )
    c4 = child_case(
        worker,
        reported_at=now - timedelta(days=400),
        first="Dardan",
        sex="male",
        age_group="6-11",
        needs=["neglect"],
    )
    c4 = close(c4, worker, head)
    c5 = child_case(
        worker,
        reported_at=now - timedelta(days=500),
        first="Bora",
        sex="male",
        age_group="6-11",
        needs=["neglect"],
    )
    c5 = close(c5, worker, head)
    # Closed long ago: outside the period altogether.
    Case.objects.filter(pk=c5.pk).update(closed_at=now - timedelta(days=200))
    StageTransition.objects.filter(case=c5).update(at=now - timedelta(days=300))

    d1 = dv_case(
        coordinator,
        reported_at=now - timedelta(days=15),
        first="Teuta",
        age_group="25-59",
        forms=["physical", "psychological"],
    )
    umm = dv_services.protection_order_record(
        by=coordinator,
        case=d1,
        kind="umm",
        requested_by="victim",
        requested_at=now - timedelta(days=14),
        issuing_institution=court,
        measures="Ndalim afrimi.",
        covers_children=False,
    )
    d1 = fresh(d1)
    dv_services.protection_order_decide(
        by=coordinator,
        order=umm,
        version=d1.version,
        outcome="granted",
        decided_at=now - timedelta(days=13),
        valid_from=timezone.localdate() - timedelta(days=13),
        expires_on=timezone.localdate() + timedelta(days=60),
    )
    d1 = fresh(d1)
    dv_services.protection_order_record(
        by=coordinator,
        case=d1,
        kind="upmm",
        requested_by="police",
        requested_at=now - timedelta(days=14),
        issuing_institution=police,
        measures="Largim.",
        covers_children=False,
    )
    d1 = fresh(d1)
    d2 = dv_case(
        coordinator,
        reported_at=now - timedelta(hours=5),
        first="Jeta",
        age_group="60+",
        forms=["economic", "sexual"],
        unit=units[1],
    )
    police_member = users["police"]
    d1_referral = refer(d1, coordinator, police, basis="consent")
    answered(d1_referral, police_member, referred_at=now - timedelta(days=10), after_hours=5)
    d2_referral = refer(d2, coordinator, police, basis="consent")
    answered(d2_referral, police_member, referred_at=now - timedelta(hours=4), after_hours=3)
    refer(c1, worker, school, basis="child_at_risk")

    b1 = child_case(
        users["berat_worker"],
        reported_at=now - timedelta(days=10),
        first="Shpresa",
        sex="female",
        age_group="6-11",
        needs=["neglect"],
    )
    cases = {"C1": c1, "C2": c2, "C3": c3, "C4": c4, "C5": c5, "D1": d1, "D2": d2, "B1": b1}
    return World(durres, berat, units, users, {key: fresh(case) for key, case in cases.items()})
