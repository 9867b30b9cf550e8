"""Invented cases for the demo, made through the real services so that every
invariant, permission and deadline holds as it would in use."""

import random
from datetime import date, datetime, time, timedelta

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
# What the files say varies as real files do: who reported, what they saw, how long.
CHILD_REPORTS = [
    "Mësuesja njofton se fëmija mungon shpesh dhe vjen i uritur.",
    "Fqinjët dëgjojnë të bërtitura natën; fëmija ka shenja në krahë.",
    "Fëmija u gjet duke lypur pranë tregut gjatë orarit të mësimit.",
    "Mjeku i familjes raporton lëndime të pashpjeguara.",
    "Nëna kërkon ndihmë: babai e përjashton fëmijën nga shtëpia.",
    "Gjyshja telefonon: prindërit kanë emigruar dhe fëmijët janë vetëm prej dy javësh.",
    "Psikologia e shkollës vëren se vajza ka ndryshuar sjellje dhe nuk flet më në klasë.",
    "Policia gjeti djalin 13-vjeçar duke punuar natën në një lokal.",
    "Infermierja e qendrës shëndetësore: foshnja nuk është vaksinuar dhe ka peshë të ulët.",
    "Fëmija u largua nga shtëpia dhe u gjet në stacionin e autobusëve.",
    "Drejtori i shkollës raporton se nxënësi vjen me shenja djegieje në duar.",
    "Një OJF njofton për tre vëllezër që flenë në një barakë pa ngrohje.",
]
DV_REPORTS = [
    "Viktima paraqitet në polici pas një sulmi fizik në shtëpi.",
    "Motra e viktimës telefonon: kërcënime të vazhdueshme me jetë.",
    "Mjeku i urgjencës raporton lëndime nga rrahja.",
    "Viktima tregon kontroll ekonomik dhe izolim nga familja.",
    "Djali i madh i viktimës kërkon ndihmë në linjën 116 117.",
    "Viktima, e moshuar, tregon se i biri i merr pensionin dhe e kërcënon.",
    "Ish-bashkëshorti e ndjek te puna dhe i dërgon mesazhe kërcënuese çdo natë.",
    "Patrulla ndërhyn pas thirrjes së fqinjëve; viktima ka plagë në kokë.",
    "Viktima vjen në bashki me fëmijët dhe kërkon strehim.",
    "Mësuesja njofton se nëna e nxënëses ka shenja dhune në fytyrë.",
]
FINDINGS = [
    "Vizitë në shtëpi dhe bisedë me familjen.",
    "Banesa pa ngrohje; fëmijët flenë në një dhomë me të rriturit.",
    "Nëna bashkëpunon; babai refuzoi të takohej.",
    "Fëmija u intervistua në shkollë, në prani të psikologes.",
    "Familja jeton me ndihmë ekonomike; asnjë i rritur nuk punon.",
    "Shenjat në trup përputhen me raportin e mjekut.",
]
PEOPLE_PRESENT = [
    "Prindi, mësuesja, punonjësi social.",
    "Nëna, psikologia e shkollës, inspektori i policisë, mjeku i familjes.",
    "Gjyshja, punonjësi i NJMF, përfaqësuesi i OJF-së.",
    "Fëmija (13 vjeç), nëna, mësuesi kujdestar, punonjësja e shërbimit social.",
]
MINUTES = [
    "U diskutua situata e familjes dhe nevojat e menjëhershme.",
    "Shkolla raportoi mungesat; policia konfirmoi dy thirrje në muajin e fundit.",
    "Familja pranoi mbështetjen; u ra dakord për vizita mujore.",
    "U vlerësua mundësia e kujdesit nga të afërmit; gjyshja pranoi.",
]
DECISIONS = [
    "Hartohet plani; ndiqet frekuentimi i shkollës.",
    "Referim te qendra shëndetësore dhe te psikologu brenda javës.",
    "Kërkohet ndihma ekonomike; shkolla siguron drekën falas.",
    "Policia monitoron banesën; takim i ri pas një muaji.",
]
GOALS = [
    "Siguria dhe mirëqenia e përditshme; mbështetje psiko-sociale.",
    "Kthimi i rregullt në shkollë dhe ushqim i rregullt.",
    "Largimi nga puna në rrugë; regjistrimi në qendrën ditore.",
    "Trajtim mjekësor i plotë dhe mbështetje për nënën.",
]
PLAN_ACTIONS = [
    "Vizitë mujore në familje",
    "Ndjekja e frekuentimit të shkollës",
    "Seanca me psikologun çdo javë",
    "Aplikim për ndihmë ekonomike",
    "Kontroll mjekësor dhe vaksinim",
    "Regjistrim në qendrën ditore",
]
CLOSURE_EXPLANATIONS = [
    "Rreziku është ulur; familja bashkëpunon.",
    "Familja u zhvendos në Tiranë; rasti i kalon NJMF-së atje.",
    "Fëmija ndjek rregullisht shkollën; s'ka më shenja neglizhimi.",
]
# Why a worker refers, by the kind of institution; what the institution answers and does.
REFERRAL_REASONS = {
    Institution.Kind.POLICE: [
        "Viktima kërkon urdhër paraprak; dhunuesi jeton ende në banesë.",
        "Kërcënime të reja pas largimit nga strehëza; kërkohet vlerësimi i policisë.",
        "Dhunuesi u pa pranë shkollës së fëmijëve; kërkohet patrullim.",
        "Shkelje e urdhrit të mbrojtjes e raportuar nga viktima.",
        "Kërkohet shoqërimi i viktimës për të marrë sendet nga shtëpia.",
        "Viktima ka frikë të paraqitet vetë; kërkohet takim në bashki.",
    ],
    Institution.Kind.EDUCATION: [
        "Ndiqni frekuentimin e fëmijës dhe njoftoni çdo mungesë mbi dy ditë.",
        "Kërkohet mbështetje nga psikologu i shkollës, një herë në javë.",
        "Fëmija ka nevojë për mësim shtesë pas mungesave të gjata.",
        "Sigurojini drekën falas dhe librat e vitit shkollor.",
        "Njoftoni menjëherë nëse dikush tjetër vjen ta marrë fëmijën.",
        "Vlerësim për arsim me mbështetje: fëmija ka vështirësi në të nxënë.",
    ],
}
REFERRAL_ACCEPTANCES = [
    "Pranohet.",
    "Pranohet; përgjegjës do të jetë inspektori i zonës.",
    "Pranohet; psikologia e merr fëmijën nga e hëna.",
    "Pranohet, por na dërgoni numrin e telefonit të nënës.",
]
REFERRAL_ACTIONS = {
    Institution.Kind.POLICE: [
        "U lëshua urdhri paraprak i mbrojtjes.",
        "Dhunuesi u shoqërua në komisariat; u nis procedimi.",
        "Patrullë dy herë në ditë pranë banesës për dy javë.",
    ],
    Institution.Kind.EDUCATION: [
        "U ndoq frekuentimi i shkollës.",
        "Tri seanca me psikologen; fëmija merr pjesë rregullisht.",
        "Mungesat ranë nga 12 në 2 në muaj.",
    ],
}
RETURN_REASONS = [
    "Mungon institucioni përgjegjës për mbështetjen psikologjike; plotësojeni.",
    "Afatet janë shumë të gjata për një rrezik të lartë; shkurtojini.",
]
REPORTER_DETAILS = [
    "",
    "",
    "Mësuesja kujdestare e klasës.",
    "Thirrje anonime nga një fqinj.",
    "Inspektori i komisariatit të zonës.",
    "Mjekja e qendrës shëndetësore.",
]
# New cases a month rise and fall, as they do (school terms, holidays, winter): how many
# of the cases past registration were reported in each of the last fourteen calendar
# months, the most recent first, by municipality (its seed). Registered ones are recent.
# The tail reaches into last year, so that this year's figures have last year's to face.
MONTHLY_NEW_CASES = {
    1: (5, 2, 6, 3, 1, 4, 2, 1, 2, 1, 1, 2, 1, 1),
    2: (3, 6, 1, 4, 5, 2, 3, 2, 1, 1, 1, 1, 1, 1),
}
# The child cases with several children (siblings at the same address), by position.
SIBLING_CASES = {1: 2, 17: 3}
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


def _months_ago(rng, *, count: int, counts: tuple[int, ...]) -> list[int]:
    """`count` months ago (1 = last month), as many of each as `counts` says, shuffled."""
    months = [month for month, n in enumerate(counts, start=1) for _ in range(n)]
    months = (months * (count // len(months) + 1))[:count]
    rng.shuffle(months)
    return months


def _reported_in(rng, months_ago: int) -> datetime:
    """A working hour of a day in the calendar month `months_ago` before this one, at
    least 15 days ago (the later steps of the case follow it, and are past too)."""
    today = timezone.localdate()
    year, month = today.year, today.month - months_ago
    while month < 1:
        year, month = year - 1, month + 12
    day = min(date(year, month, rng.randint(1, 28)), today - timedelta(days=rng.randint(15, 18)))
    return timezone.make_aware(datetime.combine(day, time(rng.randint(7, 19), rng.randint(0, 59))))


def _siblings(rng, child, count: int) -> list:
    """`count` brothers and sisters of `child`, at the same address."""
    siblings = []
    for _ in range(count):
        sibling = _person(rng, PersonRole.CHILD, minor=True)
        sibling.last_name, sibling.address = child.last_name, child.address
        siblings.append(sibling)
    return siblings


def _assess(*, case, by, rng, assessed_at):
    services.assessment_record(
        by=by,
        case=case,
        version=case.version,
        risk_level=rng.choice(["high", "medium", "low"]),
        findings=rng.choice(FINDINGS),
        home_visit=True,
        assessed_at=assessed_at,
    )


def _advance(
    case: Case, stage: str, *, worker, supervisor, rng, institutions, assess, returned=False
) -> Case:
    """Take a registered case to `stage` with backdated steps, as the workers would have.

    `returned`: the supervisor first returns the plan for changes, and the worker changes
    and submits it again (it then waits, or is approved if `stage` is past the plan).
    """
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
            people_present=rng.choice(PEOPLE_PRESENT),
            minutes=rng.choice(MINUTES),
            decisions=rng.choice(DECISIONS),
        )
        case.refresh_from_db()
    if target >= 3:
        services.plan_save(
            by=worker,
            case=case,
            version=case.version,
            goals=rng.choice(GOALS),
            drafted_with_family=rng.random() < 0.8,
        )
        case.refresh_from_db()
        for description in rng.sample(PLAN_ACTIONS, k=rng.randint(2, 4)):
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
        if returned:
            with acting(_demo_actor(supervisor)):
                services.case_advance(
                    by=supervisor,
                    case=case,
                    version=case.version,
                    action="return_plan",
                    reason=rng.choice(RETURN_REASONS),
                )
            case.refresh_from_db()
            services.plan_save(
                by=worker,
                case=case,
                version=case.version,
                goals=f"{case.plan.goals} Mbështetje psikologjike nga qendra shëndetësore.",
                drafted_with_family=True,
            )
            case.refresh_from_db()
            services.case_advance(by=worker, case=case, version=case.version, action="submit_plan")
            case.refresh_from_db()
    if target >= 4:
        with acting(_demo_actor(supervisor)):
            services.case_advance(
                by=supervisor, case=case, version=case.version, action="approve_plan"
            )
        case = _plan_steps_dated_after_the_conference(case, rng)
        case = _reviews_held_since_the_approval(case, worker, rng)
    if target >= 5:
        services.closure_propose(
            by=worker,
            case=case,
            version=case.version,
            closure_reason=rng.choice(["no_longer_at_risk", "moved"]),
            explanation=rng.choice(CLOSURE_EXPLANATIONS),
        )
        case.refresh_from_db()
    if target >= 6:
        with acting(_demo_actor(supervisor)):
            services.case_advance(
                by=supervisor, case=case, version=case.version, action="approve_closure"
            )
        case.refresh_from_db()
    return case


def _plan_steps_dated_after_the_conference(case: Case, rng) -> Case:
    """The demo takes every step today; in a real file the plan is submitted, perhaps
    returned, and approved in the days after the case conference. The steps are dated so,
    and the review falls due from the approval (some reviews are overdue, as they are)."""
    from .deadlines import refresh_next_due
    from .models import Plan, StageTransition

    case.refresh_from_db()
    moment = case.conference_at
    for step in case.transitions.filter(
        action__in=["submit_plan", "return_plan", "approve_plan"]
    ).order_by("at"):
        moment = min(
            timezone.now(), moment + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 8))
        )
        StageTransition.objects.filter(pk=step.pk).update(at=moment)
    Plan.objects.filter(case=case).update(approved_at=moment)
    case.plan_approved_at = moment
    refresh_next_due(case)
    Case.objects.filter(pk=case.pk).update(
        plan_approved_at=moment, next_due_at=case.next_due_at, next_due=case.next_due
    )
    case.refresh_from_db()
    return case


def _reviews_held_since_the_approval(case: Case, worker, rng) -> Case:
    """Most workers hold the plan's reviews about when they fall due; a few are late. A
    plan approved months ago gets its reviews, dated; the last may still be overdue."""
    from .deadlines import refresh_next_due, setting_value
    from .models import DeadlineSetting, Review, StageTransition

    interval = timedelta(days=setting_value(case.municipality_id, DeadlineSetting.Key.REVIEW_DAYS))
    held = case.plan_approved_at + interval
    while held < timezone.now() - timedelta(days=1) and rng.random() < 0.8:
        held = held + timedelta(days=rng.randint(-7, 5))
        review = services.review_record(
            by=worker,
            case=case,
            version=case.version,
            findings=rng.choice(FINDINGS),
            risk_level=case.risk_level or "medium",
        )
        Review.objects.filter(pk=review.pk).update(held_at=held)
        step = case.transitions.filter(action="review").order_by("-at").first()
        StageTransition.objects.filter(pk=step.pk).update(at=held)
        case.refresh_from_db()
        case.last_review_at = held
        refresh_next_due(case)
        Case.objects.filter(pk=case.pk).update(
            last_review_at=held, next_due_at=case.next_due_at, next_due=case.next_due
        )
        case.refresh_from_db()
        held = held + interval
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
    # One plan of each kind was returned for changes and submitted again: the child one
    # waits again for the head, the DV one the director (not its coordinator) approved.
    returned_plans = {
        plans.index((CaseKind.CHILD, Stage.PLAN_DRAFTED)),
        plans.index((CaseKind.DV, Stage.MONITORING)),
    }
    months_ago = _months_ago(
        rng,
        count=sum(stage != Stage.REGISTERED for _kind, stage in plans),
        counts=MONTHLY_NEW_CASES.get(seed, MONTHLY_NEW_CASES[1]),
    )
    for index, (kind, stage) in enumerate(plans):
        if kind == CaseKind.CHILD:
            worker = staff[Role.CHILD_PROTECTION_WORKER] if index % 3 else staff[Role.HEAD_OF_CPU]
            # Nobody approves their own work: the head's own cases go to the director.
            supervisor = (
                staff[Role.HEAD_OF_CPU] if index % 3 else staff[Role.HEAD_OF_SOCIAL_SERVICES]
            )
            first_child = _person(rng, PersonRole.CHILD, minor=True)
            parent = _person(rng, PersonRole.PARENT, minor=False)
            # Siblings share the family name and the home; the parent lives there too.
            parent.last_name, parent.address = first_child.last_name, first_child.address
            people = [
                first_child,
                *_siblings(rng, first_child, SIBLING_CASES.get(index, 0)),
                parent,
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
            if rng.random() < 0.4:
                # The children who live with the victim: the order covers them too.
                for _ in range(rng.randint(1, 2)):
                    child = _person(rng, PersonRole.HOUSEHOLD_CHILD, minor=True)
                    child.last_name, child.address = perpetrator.last_name, victim.address
                    people.append(child)
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
        # Early stages were reported recently; some are late on purpose (overdue). The
        # others over the last fourteen months, more in some months than in others.
        if stage == Stage.REGISTERED:
            reported_at = timezone.now() - timedelta(
                days=rng.randint(0, 4), hours=rng.randint(0, 20)
            )
        else:
            reported_at = _reported_in(rng, months_ago.pop())
        # Attributed to the worker in the audit trail, as if done at their desk.
        with acting(_demo_actor(worker)):
            case = services.case_register(
                by=worker,
                kind=kind,
                people=people,
                needs=needs,
                reported_risk_level=rng.choice(["high", "medium", "low"]),
                reported_at=reported_at,
                report_channel=rng.choice(["phone", "in_person", "referral", "written"]),
                reporter_kind=rng.choice(["school", "police", "health", "family", "neighbour"]),
                reporter_details=rng.choice(REPORTER_DETAILS),
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
                returned=index in returned_plans,
            )
            if is_dv and dv_parts and case.is_open:
                dv_parts(case=case, by=worker, rng=rng)
                case.refresh_from_db()
        made.append(case)
    return made


def seed_stories(municipality) -> list[str]:
    """Stories of a case over time that the stage plans of `seed_cases` do not tell, made
    through the services after the cases, referrals and their answers; one line each.

    Already told by `seed_cases`: siblings on one case (SIBLING_CASES), a child plan
    returned for changes and submitted again, a DV plan returned and then approved by the
    director rather than by the coordinator in charge.
    """
    told: list[str] = []
    reopened = _reopen_a_closed_case(municipality)
    if reopened:
        told.append(f"{reopened.number}: closed, then reopened when the risk returned.")
    moved = _move_a_victim(municipality)
    if moved:
        told.append(f"{moved.number}: the victim moved; the police read the new address.")
    told.extend(_convene_meetings(municipality))
    return told


REOPEN_REASONS = [
    "Shkolla njoftoi se fëmija mungon përsëri prej dy javësh dhe ka shenja neglizhimi.",
    "Policia raportoi një incident të ri në banesë; rreziku u rikthye.",
]


def _reopen_a_closed_case(municipality) -> Case | None:
    """A supervisor reopens the newest closed case of the municipality, when the violence
    or the neglect returns (issue 14, "Reopening")."""
    from . import access

    case = (
        Case.objects.filter(municipality=municipality, stage=Stage.CLOSED)
        .order_by("-closed_at")
        .first()
    )
    if case is None:
        return None
    supervisor = next(
        (user for user in municipality.staff.order_by("pk") if access.may_reopen(user, case)),
        None,
    )
    if supervisor is None:
        return None
    rng = random.Random(f"reopen-{municipality.pk}")  # noqa: S311 - invented demo data
    with acting(_demo_actor(supervisor)):
        return services.case_reopen(
            by=supervisor, case=case, version=case.version, reason=rng.choice(REOPEN_REASONS)
        )


def _move_a_victim(municipality) -> Case | None:
    """A DV victim moves to a relative's flat; the worker records the new address, which
    the police read through their open referral sharing the identity (issue 14, "People on
    a case")."""
    from .models import OPEN_REFERRAL_STATES, Person, Referral
    from .services.people import EDITABLE, person_change

    referral = (
        Referral.objects.filter(
            case__municipality=municipality,
            case__kind=CaseKind.DV,
            institution__kind="police",
            state__in=OPEN_REFERRAL_STATES,
        )
        .exclude(case__stage=Stage.CLOSED)
        .order_by("case__number")
        .first()
    )
    if referral is None or "identity" not in referral.parts:
        return None
    case = referral.case
    victim = Person.objects.filter(case=case, role=PersonRole.VICTIM, ended_at=None).first()
    if victim is None:
        return None
    data = services.PersonData.of(
        {name: getattr(victim, name) for name in EDITABLE}
        | {"address": f"Rruga e Kavajës, pallati 14, shkalla 2, ap. 9, {municipality.name}"},
        role=victim.role,
    )
    with acting(_demo_actor(case.owner)):
        person_change(by=case.owner, person=victim, version=case.version, data=data)
    return case


def _convene_meetings(municipality) -> list[str]:
    """The head convenes the GTN and the coordinator the ETN for the coming days, on a few
    of their cases, inviting the police and the school: the members' homes list them."""
    from .models import MeetingKind
    from .services import meetings as meeting_services

    invited = list(
        Institution.objects.filter(municipality=municipality, kind__in=["police", "education"])
    )
    told = []
    for kind, role, days in (
        (MeetingKind.GTN, Role.HEAD_OF_CPU, 3),
        (MeetingKind.ETN, Role.DV_COORDINATOR, 5),
    ):
        convener = next(
            (user for user in municipality.staff.order_by("pk") if user.has_role(role)), None
        )
        if convener is None:
            continue
        cases = list(meeting_services.agenda_candidates(convener, [kind])[:3])
        if not cases:
            continue
        day = timezone.localdate() + timedelta(days=days)
        with acting(_demo_actor(convener)):
            meeting = meeting_services.meeting_convene(
                by=convener,
                kind=kind,
                scheduled_at=timezone.make_aware(datetime.combine(day, time(10, 0))),
                invited=[i for i in invited if kind == MeetingKind.GTN or i.kind == "police"],
                cases=cases,
            )
        told.append(f"{meeting.get_kind_display()} on {day:%d.%m.%Y}: {len(cases)} cases.")
    return told


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
    rng = random.Random(municipality.pk)  # noqa: S311 - invented demo data
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
                    reason=rng.choice(REFERRAL_REASONS[institution.kind]),
                    urgency="urgent" if state == "new" or rng.random() < 0.3 else "normal",
                    legal_basis=basis,
                    due_date=timezone.localdate() + timedelta(days=rng.choice([1, 3, 5, 7, 10])),
                )
            member = members[institution.pk]
            with acting(_demo_actor(member)):
                if state in ("accepted", "in_progress", "done"):
                    referral_services.referral_answer(
                        by=member,
                        referral=referral,
                        version=referral.version,
                        accept=True,
                        answer=rng.choice(REFERRAL_ACCEPTANCES),
                    )
                    referral.refresh_from_db()
                if state in ("in_progress", "done"):
                    referral_services.referral_record_action(
                        by=member,
                        referral=referral,
                        version=referral.version,
                        action_taken=rng.choice(REFERRAL_ACTIONS[institution.kind]),
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
