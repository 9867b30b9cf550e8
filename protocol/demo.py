"""Invented cases for the demo, made through the real services so that every
invariant, permission and deadline holds as it would in use."""

import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Institution
from accounts.roles import Role
from audit.context import Actor, acting
from audit.models import Action, AuditEvent

from . import auditing, services
from .models import Case, CaseKind, PersonRole, ProtectionNeed, Relationship, Stage

# Invented people. None shares a name with the demo staff (accounts.demo), whose
# names are stored in clear: the seeding test looks for every encrypted value in
# the database file.
FIRST_NAMES_FEMALE = [
    "Alketa",
    "Bardha",
    "Dorina",
    "Elona",
    "Fjona",
    "Gentiana",
    "Ilda",
    "Jonida",
    "Klejda",
    "Liridona",
    "Mirjeta",
    "Nertila",
    "Rozafa",
    "Sidorela",
    "Vjollca",
    "Xhesika",
]
FIRST_NAMES_MALE = [
    "Albion",
    "Besmir",
    "Dorian",
    "Endrit",
    "Florian",
    "Gezim",
    "Jurgen",
    "Klodian",
    "Luan",
    "Marsel",
    "Noel",
    "Redon",
    "Sokol",
    "Ylber",
]
LAST_NAMES = [
    "Prifti",
    "Kuka",
    "Dushku",
    "Zeneli",
    "Mema",
    "Koçi",
    "Rama",
    "Hasani",
    "Kurti",
    "Vata",
    "Sulaj",
    "Meta",
    "Bejko",
    "Tafaj",
    "Domi",
    "Laçi",
    "Nuri",
    "Qosja",
]
STREETS = [
    "Rruga e Dëshmorëve",
    "Rruga Skënderbeu",
    "Lagjja 5",
    "Rruga Egnatia",
    "Rruga e Kalasë",
    "Lagjja Kryengritja",
    "Rruga Ismail Qemali",
]
CHILD_REPORTS = [
    "Mësuesja njofton se fëmija mungon shpesh dhe vjen i uritur.",
    "Fqinjët dëgjojnë të bërtitura natën; fëmija ka shenja në krahë.",
    "Fëmija u gjet duke lypur pranë tregut gjatë orarit të mësimit.",
    "Mjeku i familjes raporton lëndime të pashpjeguara.",
    "Nëna kërkon ndihmë: babai e përjashton fëmijën nga shtëpia.",
]
DV_REPORTS = [
    "Viktima paraqitet në polici pas një sulmi fizik në shtëpi.",
    "Motra e viktimës telefonon: kërcënime të vazhdueshme me jetë.",
    "Mjeku i urgjencës raporton lëndime nga rrahja.",
    "Viktima tregon kontroll ekonomik dhe izolim nga familja.",
]
# How many cases of each kind stop at each stage: 24 child + 16 DV = 40 a municipality.
CHILD_STAGES = (
    [Stage.REGISTERED] * 5
    + [Stage.ASSESSED] * 4
    + [Stage.CONFERENCE_HELD] * 4
    + [Stage.PLAN_DRAFTED] * 3
    + [Stage.MONITORING] * 5
    + [Stage.CLOSURE_PROPOSED]
    + [Stage.CLOSED] * 2
)
# The DV coordinator is the worker in charge of DV cases: the director of social
# services approves their plans and closures, and two of them await her.
DV_STAGES = (
    [Stage.REGISTERED] * 3
    + [Stage.ASSESSED] * 3
    + [Stage.CONFERENCE_HELD] * 2
    + [Stage.PLAN_DRAFTED]
    + [Stage.MONITORING] * 4
    + [Stage.CLOSURE_PROPOSED]
    + [Stage.CLOSED] * 2
)
CASES_PER_MUNICIPALITY = len(CHILD_STAGES) + len(DV_STAGES)


def _personal_number(rng: random.Random) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f"{rng.choice('HIJK')}{rng.randint(10000000, 99999999)}{rng.choice(letters)}"


def _person(rng, role, *, minor: bool):
    female = rng.random() < (0.5 if minor else 0.85 if role == PersonRole.VICTIM else 0.1)
    first = rng.choice(FIRST_NAMES_FEMALE if female else FIRST_NAMES_MALE)
    age_days = rng.randint(2 * 365, 17 * 365) if minor else rng.randint(19 * 365, 70 * 365)
    return services.PersonData(
        role=role,
        first_name=first,
        last_name=rng.choice(LAST_NAMES),
        personal_number=_personal_number(rng),
        birth_date=timezone.localdate() - timedelta(days=age_days),
        address=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
        phone=f"069{rng.randint(1000000, 9999999)}",
        sex="female" if female else "male",
        is_roma=rng.random() < 0.08,
        is_egyptian=rng.random() < 0.05,
        has_disability=rng.random() < 0.07,
    )


def _assess(*, case, by, rng, assessed_at):
    services.assessment_record(
        by=by,
        case=case,
        version=case.version,
        risk_level=rng.choice(["high", "medium", "low"]),
        findings="Vizitë në shtëpi dhe bisedë me familjen.",
        home_visit=True,
        assessed_at=assessed_at,
    )


def _advance(case: Case, stage: str, *, worker, supervisor, rng, institutions, assess) -> Case:
    """Take a registered case to `stage` with backdated steps, as the workers would have."""
    order = [
        Stage.REGISTERED,
        Stage.ASSESSED,
        Stage.CONFERENCE_HELD,
        Stage.PLAN_DRAFTED,
        Stage.MONITORING,
        Stage.CLOSURE_PROPOSED,
        Stage.CLOSED,
    ]
    target = order.index(stage)
    start = case.reported_at
    if target >= 1:
        assess(
            case=case,
            by=worker,
            rng=rng,
            assessed_at=start + timedelta(hours=rng.randint(4, 80)),
        )
        case.refresh_from_db()
    if target >= 2:
        services.conference_record(
            by=worker,
            case=case,
            version=case.version,
            held_at=case.assessed_at + timedelta(days=rng.randint(1, 5)),
            institutions=rng.sample(institutions, k=min(3, len(institutions))),
            people_present="Prindi, mësuesja, punonjësi social.",
            minutes="U diskutua situata e familjes dhe nevojat e menjëhershme.",
            decisions="Hartohet plani; ndiqet frekuentimi i shkollës.",
        )
        case.refresh_from_db()
    if target >= 3:
        services.plan_save(
            by=worker,
            case=case,
            version=case.version,
            goals="Siguria dhe mirëqenia e përditshme; mbështetje psiko-sociale.",
            drafted_with_family=True,
        )
        case.refresh_from_db()
        for description in ("Vizitë mujore në familje", "Ndjekja e frekuentimit të shkollës"):
            services.plan_action_add(
                by=worker,
                case=case,
                version=case.version,
                description=description,
                institution=rng.choice(institutions),
                due_date=timezone.localdate() + timedelta(days=rng.randint(-10, 40)),
            )
            case.refresh_from_db()
        services.case_advance(by=worker, case=case, version=case.version, action="submit_plan")
        case.refresh_from_db()
    if target >= 4:
        with acting(_demo_actor(supervisor)):
            services.case_advance(
                by=supervisor, case=case, version=case.version, action="approve_plan"
            )
        case.refresh_from_db()
    if target >= 5:
        services.closure_propose(
            by=worker,
            case=case,
            version=case.version,
            closure_reason=rng.choice(["no_longer_at_risk", "moved"]),
            explanation="Rreziku është ulur; familja bashkëpunon.",
        )
        case.refresh_from_db()
    if target >= 6:
        with acting(_demo_actor(supervisor)):
            services.case_advance(
                by=supervisor, case=case, version=case.version, action="approve_closure"
            )
        case.refresh_from_db()
    return case


def seed_cases(municipality, *, seed: int, dv_assess=None, dv_parts=None) -> list[Case]:
    """About 40 cases in every stage and of both kinds; nothing if the demo already has them.

    `dv_assess` and `dv_parts` let dv_cases (which protocol does not import) make a DV
    case's risk assessment with its questionnaire, and add its incidents and orders.
    """
    if Case.objects.filter(municipality=municipality).count() >= CASES_PER_MUNICIPALITY:
        return []
    rng = random.Random(seed)  # noqa: S311 - invented demo data, repeatable on purpose
    staff = {
        role: municipality.staff.filter(role_assignments__role=role).first()
        for role in (
            Role.CHILD_PROTECTION_WORKER,
            Role.HEAD_OF_CPU,
            Role.DV_COORDINATOR,
            Role.HEAD_OF_SOCIAL_SERVICES,
        )
    }
    institutions = list(Institution.objects.filter(municipality=municipality))
    units = list(municipality.administrative_units.all())
    made = []
    plans = [(CaseKind.CHILD, stage) for stage in CHILD_STAGES] + [
        (CaseKind.DV, stage) for stage in DV_STAGES
    ]
    for index, (kind, stage) in enumerate(plans):
        if kind == CaseKind.CHILD:
            worker = staff[Role.CHILD_PROTECTION_WORKER] if index % 3 else staff[Role.HEAD_OF_CPU]
            # Nobody approves their own work: the head's own cases go to the director.
            supervisor = (
                staff[Role.HEAD_OF_CPU] if index % 3 else staff[Role.HEAD_OF_SOCIAL_SERVICES]
            )
            people = [
                _person(rng, PersonRole.CHILD, minor=True),
                _person(rng, PersonRole.PARENT, minor=False),
            ]
            needs = rng.sample(
                [
                    ProtectionNeed.NEGLECT,
                    ProtectionNeed.ABUSE,
                    ProtectionNeed.PHYSICAL,
                    ProtectionNeed.PSYCHOLOGICAL,
                    ProtectionNeed.STREET_SITUATION,
                    ProtectionNeed.ABANDONMENT,
                ],
                k=2,
            )
            summary = rng.choice(CHILD_REPORTS)
        else:
            worker = staff[Role.DV_COORDINATOR]
            supervisor = staff[Role.HEAD_OF_SOCIAL_SERVICES]
            victim = _person(rng, PersonRole.VICTIM, minor=False)
            perpetrator = _person(rng, PersonRole.PERPETRATOR, minor=False)
            perpetrator.relationship_to_victim = rng.choice(
                [
                    Relationship.SPOUSE,
                    Relationship.FORMER_SPOUSE,
                    Relationship.COHABITANT,
                    Relationship.PARTNER,
                    Relationship.CHILD,
                ]
            )
            people = [victim, perpetrator]
            needs = rng.sample(
                [
                    ProtectionNeed.PHYSICAL,
                    ProtectionNeed.PSYCHOLOGICAL,
                    ProtectionNeed.ECONOMIC,
                    ProtectionNeed.SEXUAL,
                ],
                k=2,
            )
            summary = rng.choice(DV_REPORTS)
        # Early stages were reported recently; some are late on purpose (overdue).
        days_ago = rng.randint(0, 4) if stage == Stage.REGISTERED else rng.randint(15, 200)
        # Attributed to the worker in the audit trail, as if done at their desk.
        with acting(_demo_actor(worker)):
            case = services.case_register(
                by=worker,
                kind=kind,
                people=people,
                needs=needs,
                reported_risk_level=rng.choice(["high", "medium", "low"]),
                reported_at=timezone.now() - timedelta(days=days_ago, hours=rng.randint(0, 20)),
                report_channel=rng.choice(["phone", "in_person", "referral", "written"]),
                reporter_kind=rng.choice(["school", "police", "health", "family", "neighbour"]),
                reporter_details="",
                summary=summary,
                administrative_unit=rng.choice(units) if units else None,
            )
            is_dv = kind == CaseKind.DV
            case = _advance(
                case,
                stage,
                worker=worker,
                supervisor=supervisor,
                rng=rng,
                institutions=institutions,
                assess=dv_assess if is_dv and dv_assess else _assess,
            )
            if is_dv and dv_parts and case.is_open:
                dv_parts(case=case, by=worker, rng=rng)
                case.refresh_from_db()
        made.append(case)
    return made


def _demo_actor(user) -> Actor:
    # Invented addresses of the municipal network, one per account.
    return Actor.of(user, f"10.20.{user.municipality_id or 0}.{10 + user.pk % 200}")


def seed_referrals(municipality) -> int:
    """Referrals in every state to the demo's police and school, so that their inboxes are
    real; nothing if the municipality already has referrals."""
    from .models import Referral
    from .services import referrals as referral_services

    if Referral.objects.filter(case__municipality=municipality).exists():
        return 0
    police = Institution.objects.filter(municipality=municipality, kind="police").first()
    school = Institution.objects.filter(municipality=municipality, kind="education").first()
    members = {
        institution.pk: municipality.staff.filter(institution=institution).first()
        for institution in (police, school)
    }
    open_cases = Case.objects.filter(municipality=municipality).exclude(stage=Stage.CLOSED)
    plans = [
        (CaseKind.DV, police, ["identity", "incidents", "orders"], "consent"),
        (CaseKind.CHILD, school, ["identity", "plan"], "child_at_risk"),
    ]
    made = 0
    for kind, institution, parts, basis in plans:
        cases = list(open_cases.filter(kind=kind).order_by("number")[:6])
        for case, state in zip(
            cases, ["new", "accepted", "in_progress", "done", "declined", "expired"], strict=False
        ):
            with acting(_demo_actor(case.owner)):
                referral = referral_services.referral_create(
                    by=case.owner,
                    case=case,
                    institution=institution,
                    parts=parts,
                    reason="Kërkohet ndërhyrja e institucionit sipas planit.",
                    urgency="urgent" if state == "new" else "normal",
                    legal_basis=basis,
                    due_date=timezone.localdate() + timedelta(days=3),
                )
            member = members[institution.pk]
            with acting(_demo_actor(member)):
                if state in ("accepted", "in_progress", "done"):
                    referral_services.referral_answer(
                        by=member,
                        referral=referral,
                        version=referral.version,
                        accept=True,
                        answer="Pranohet.",
                    )
                    referral.refresh_from_db()
                if state in ("in_progress", "done"):
                    referral_services.referral_record_action(
                        by=member,
                        referral=referral,
                        version=referral.version,
                        action_taken="U lëshua urdhri paraprak i mbrojtjes."
                        if institution == police
                        else "U ndoq frekuentimi i shkollës.",
                        done=state == "done",
                    )
                if state == "declined":
                    referral_services.referral_answer(
                        by=member,
                        referral=referral,
                        version=referral.version,
                        accept=False,
                        answer="Nuk është në kompetencën tonë.",
                    )
            if state == "expired":
                # Demo only: move the referral into the past, then let the clean-up expire it.
                Referral.objects.filter(pk=referral.pk).update(
                    referred_at=timezone.now() - timedelta(days=40),
                    expires_at=timezone.now() - timedelta(days=10),
                )
                referral_services.referrals_expire()
            made += 1
    return made


def seed_activity(municipality, *, visitor=None) -> int:
    """A working day of reads for the audit trail, with something for the officer to review.

    Workers open their cases, the police read what was referred to them, the head
    of the unit opens many cases in a row, a worker of another municipality
    (`visitor`) opens a case with emergency access, and somebody guesses the
    school's password until the sign-in waits (then the administrator unlocks it).
    Nothing if the municipality's cases were already read. Returns the events written.
    """
    from accounts.services import TooManyAttempts, account_unlock, sign_in_check_password

    from .models import Referral, ReferralState
    from .services.emergency import emergency_access_open

    cases = Case.objects.filter(municipality=municipality).order_by("number")
    if AuditEvent.objects.filter(
        action=Action.CASE_VIEWED, municipality_id=municipality.pk
    ).exists():
        return 0
    before = AuditEvent.objects.count()
    staff = {
        assignment_role: municipality.staff.filter(role_assignments__role=assignment_role).first()
        for assignment_role in (
            Role.CHILD_PROTECTION_WORKER,
            Role.HEAD_OF_CPU,
            Role.DV_COORDINATOR,
            Role.MUNICIPAL_ADMINISTRATOR,
        )
    }
    all_parts = ["identity", "risk", "incidents", "plan", "orders", "documents"]
    for user in (staff[Role.CHILD_PROTECTION_WORKER], staff[Role.DV_COORDINATOR]):
        with acting(_demo_actor(user)):
            mine = list(cases.filter(owner=user).exclude(stage=Stage.CLOSED)[:8])
            auditing.cases_listed(None, mine)
            for case in mine:
                auditing.case_opened(None, case, parts=all_parts)
    head = staff[Role.HEAD_OF_CPU]
    with acting(_demo_actor(head)):
        # More cases than the flag's threshold, one after the other.
        for case in cases.filter(kind=CaseKind.CHILD)[:18]:
            auditing.case_opened(None, case, parts=all_parts)
    for referral in Referral.objects.filter(
        case__municipality=municipality,
        state__in=[ReferralState.ACCEPTED, ReferralState.IN_PROGRESS],
    ).select_related("case"):
        member = municipality.staff.filter(institution_id=referral.institution_id).first()
        with acting(_demo_actor(member)):
            auditing.part_opened(
                None,
                referral.case,
                part=",".join(referral.parts),
                object_type="protocol.referral",
                object_id=referral.pk,
            )
    if visitor is not None:
        target = cases.filter(kind=CaseKind.CHILD).exclude(stage=Stage.CLOSED).last()
        with acting(_demo_actor(visitor)):
            emergency_access_open(
                by=visitor,
                case_number=target.number,
                justification="Fëmija u soll në polici natën; duhej parë plani i mbrojtjes.",
            )
            auditing.case_opened(None, target, parts=all_parts)
    school = municipality.staff.filter(role_assignments__role=Role.CCR_MEMBER).last()
    with acting(Actor(ip_address="185.12.40.7")):
        for _attempt in range(settings.MBROJTJE_SIGN_IN_FREE_TRIES + 1):
            try:
                sign_in_check_password(
                    request=None,
                    username=school.username,
                    password="Pranvera2026!",  # noqa: S106 - a wrong guess, on purpose
                )
            except TooManyAttempts:
                break
    with acting(_demo_actor(staff[Role.MUNICIPAL_ADMINISTRATOR])):
        account_unlock(by=staff[Role.MUNICIPAL_ADMINISTRATOR], account=school)
    return AuditEvent.objects.count() - before
