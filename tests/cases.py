"""Small builders of cases for tests, through the real services."""

from datetime import date, timedelta

from django.utils import timezone

from protocol import services
from protocol.models import CaseKind, PersonRole, RiskLevel
from protocol.services import referrals as referral_services


def child(first="Arta", last="Hoxha", personal_number="K10101001A", birth=date(2015, 3, 4)):
    return services.PersonData(
        role=PersonRole.CHILD,
        first_name=first,
        last_name=last,
        personal_number=personal_number,
        birth_date=birth,
        address="Rruga e Dëshmorëve 12, Durrës",
        phone="0691234567",
        sex="female",
    )


def register_child_case(by, *, person=None, risk=RiskLevel.MEDIUM, reported_at=None, **extra):
    return services.case_register(
        by=by,
        kind=CaseKind.CHILD,
        people=[person or child()],
        needs=["neglect"],
        reported_risk_level=risk,
        reported_at=reported_at or timezone.now(),
        report_channel="phone",
        reporter_kind="school",
        reporter_details="Mësuesja e klasës",
        summary="Fëmija vjen në shkollë pa ngrënë dhe me shenja lodhjeje.",
        **extra,
    )


def take_to_monitoring(case, worker, head):
    """Assessment, conference, plan with one action, approval: the case ends in monitoring."""
    case = submit_plan(case, worker)
    services.case_advance(by=head, case=case, version=case.version, action="approve_plan")
    case.refresh_from_db()
    return case


def assess_and_confer(case, worker, *, assessed_at=None, held_at=None, risk_level=RiskLevel.HIGH):
    """The initial assessment and the case conference, two and one hours ago by default."""
    now = timezone.now()
    services.assessment_record(
        by=worker,
        case=case,
        version=case.version,
        risk_level=risk_level,
        findings="Vizitë në shtëpi.",
        home_visit=True,
        assessed_at=assessed_at or now - timedelta(hours=2),
    )
    case.refresh_from_db()
    services.conference_record(
        by=worker,
        case=case,
        version=case.version,
        held_at=held_at or now - timedelta(hours=1),
        institutions=[],
        people_present="Nëna",
        minutes="Procesverbali.",
        decisions="PIM.",
    )
    case.refresh_from_db()
    return case


def plan_ready(case, worker, *, risk_level=RiskLevel.HIGH):
    """Assessment, conference, plan with one action: ready to be submitted."""
    case = assess_and_confer(case, worker, risk_level=risk_level)
    services.plan_save(
        by=worker, case=case, version=case.version, goals="Siguri.", drafted_with_family=True
    )
    case.refresh_from_db()
    services.plan_action_add(
        by=worker,
        case=case,
        version=case.version,
        description="Vizita",
        institution=None,
        due_date=timezone.localdate() + timedelta(days=7),
    )
    case.refresh_from_db()
    return case


def submit_plan(case, worker):
    """Assessment, conference, plan with one action, submitted: the plan awaits approval."""
    case = plan_ready(case, worker)
    services.case_advance(by=worker, case=case, version=case.version, action="submit_plan")
    case.refresh_from_db()
    return case


def propose_closure(case, worker):
    services.closure_propose(
        by=worker, case=case, version=case.version, closure_reason="moved", explanation="U largua."
    )
    case.refresh_from_db()
    return case


__all__ = [
    "CaseKind",
    "child",
    "propose_closure",
    "register_child_case",
    "submit_plan",
    "take_to_monitoring",
]


def refer(worker, case, institution, parts=("identity",)):
    """An urgent referral of `case` to `institution`, due in two days."""
    return referral_services.referral_create(
        by=worker,
        case=case,
        institution=institution,
        parts=list(parts),
        reason="Kërkohet vizitë e policisë.",
        urgency="urgent",
        legal_basis="child_at_risk",
        due_date=timezone.localdate() + timedelta(days=2),
    )
