"""A national-sized invented dataset, for benchmarks and load tests (`seed_scale`).

The demo (`seed_demo`) goes through the real services, case by case; at a
hundred thousand cases that would take hours, so this writes rows in bulk.
What the services would keep in step is kept in step here too, by the same
functions where one exists:

* permissions: the owner and the supervisors' groups hold `access.FULL_ACCESS`,
  the institution of an open referral holds `view_case` and the referred parts;
* plans and closures are approved by a supervisor other than the worker in
  charge (`access.may_approve`), the director where the coordinator is alone;
* the next deadline of every case comes from `protocol.deadlines`;
* audit events are chained by `audit.bulk`, and signed by a checkpoint every
  month of invented history, as the periodic job would sign them;
* encrypted fields are encrypted by their fields (bulk_create calls pre_save),
  and the blind indexes are those `protocol.services.person_indexes` computes.

Everything is invented, from a seeded random generator: names are drawn from
`config.scale_names` (a full name is shared by a few dozen people of the half
million), and the accounts get no usable password (`loadtest_accounts`
gives some of them one).
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import AdministrativeUnit, Institution, Municipality, RoleAssignment, User
from accounts.roles import MUNICIPAL_GROUP_ROLES, Role, institution_group_name, role_group_name
from audit import bulk, chain
from audit.models import Action
from audit.services import checkpoint_make
from config.scale_names import FIRST_NAMES_FEMALE, FIRST_NAMES_MALE, LAST_NAMES
from dv_cases.models import (
    Incident,
    OrderKind,
    OrderOutcome,
    OrderRequester,
    ProtectionOrder,
    RiskAssessment,
    RiskQuestionnaire,
)
from protocol import access, deadlines
from protocol.models import (
    DV_FORMS,
    OPEN_REFERRAL_STATES,
    AgeGroup,
    Assessment,
    Case,
    CaseConference,
    CaseGroupObjectPermission,
    CaseKind,
    CaseNeed,
    CaseNumberSequence,
    CaseUserObjectPermission,
    ClosureReason,
    LegalBasis,
    Person,
    PersonRole,
    Plan,
    PlanAction,
    ProtectionNeed,
    Referral,
    ReferralState,
    ReportChannel,
    ReporterKind,
    Review,
    RiskLevel,
    Sex,
    Stage,
    StageTransition,
    Urgency,
)
from protocol.services import person_indexes

# The 61 municipalities (2015 reform): name, code, population in thousands (rounded).
MUNICIPALITIES = [
    ("Tiranë", "TI", 900), ("Durrës", "DR", 200), ("Elbasan", "EL", 140),
    ("Shkodër", "SH", 135), ("Vlorë", "VL", 130), ("Fier", "FR", 120),
    ("Kamëz", "KA", 105), ("Lushnjë", "LU", 85), ("Korçë", "KO", 75),
    ("Lezhë", "LE", 65), ("Berat", "BR", 60), ("Pogradec", "PG", 60),
    ("Krujë", "KR", 60), ("Dibër", "DI", 61), ("Kurbin", "KB", 50),
    ("Kukës", "KU", 47), ("Maliq", "MQ", 41), ("Kavajë", "KV", 40),
    ("Devoll", "DV", 34), ("Divjakë", "DJ", 34), ("Kuçovë", "KC", 32),
    ("Librazhd", "LB", 31), ("Mallakastër", "ML", 30), ("Bulqizë", "BQ", 30),
    ("Malësi e Madhe", "MA", 30), ("Shijak", "SJ", 28), ("Vau i Dejës", "VD", 28),
    ("Mat", "MT", 27), ("Cërrik", "CR", 27), ("Ura Vajgurore", "UV", 27),
    ("Peqin", "PQ", 26), ("Vorë", "VO", 25), ("Gjirokastër", "GJ", 25),
    ("Gramsh", "GR", 24), ("Prrenjas", "PS", 24), ("Patos", "PT", 23),
    ("Rrogozhinë", "RR", 22), ("Roskovec", "RK", 22), ("Mirditë", "MR", 22),
    ("Dimal", "DM", 21), ("Sarandë", "SR", 20), ("Selenicë", "SE", 20),
    ("Tropojë", "TJ", 20), ("Belsh", "BL", 19), ("Has", "HA", 16), ("Klos", "KS", 15),
    ("Kolonjë", "KL", 12), ("Skrapar", "SK", 12), ("Memaliaj", "MM", 11),
    ("Pukë", "PK", 11), ("Përmet", "PR", 10), ("Poliçan", "PL", 10),
    ("Tepelenë", "TP", 9), ("Konispol", "KN", 8), ("Delvinë", "DL", 8),
    ("Himarë", "HI", 7), ("Këlcyrë", "KE", 6), ("Finiq", "FQ", 5),
    ("Fushë-Arrëz", "FA", 5), ("Libohovë", "LH", 4), ("Dropull", "DP", 4),
    ("Pustec", "PU", 3),
]  # fmt: skip

INSTITUTIONS = [
    (Institution.Kind.POLICE, "Drejtoria Vendore e Policisë {m}"),
    (Institution.Kind.PROSECUTION, "Prokuroria {m}"),
    (Institution.Kind.COURT, "Gjykata e Rrethit Gjyqësor {m}"),
    (Institution.Kind.HEALTH, "Qendra Shëndetësore {m}"),
    (Institution.Kind.EDUCATION, "Zyra Vendore Arsimore {m}"),
    (Institution.Kind.EMPLOYMENT, "Zyra Vendore e Punësimit {m}"),
    (Institution.Kind.STATE_SOCIAL_SERVICE, "Shërbimi Social Shtetëror, dega {m}"),
    (Institution.Kind.SOCIAL_SERVICES, "Drejtoria e Shërbimeve Sociale {m}"),
    (Institution.Kind.NGO, "Qendra Komunitare {m} (OJF)"),
    (Institution.Kind.SHELTER, "Qendra e Emergjencës {m}"),
]
# Where cases of each kind are referred, with weights.
REFERRED_TO = {
    CaseKind.CHILD: [
        (Institution.Kind.EDUCATION, 4),
        (Institution.Kind.HEALTH, 3),
        (Institution.Kind.POLICE, 2),
        (Institution.Kind.STATE_SOCIAL_SERVICE, 2),
        (Institution.Kind.NGO, 1),
    ],
    CaseKind.DV: [
        (Institution.Kind.POLICE, 5),
        (Institution.Kind.COURT, 2),
        (Institution.Kind.HEALTH, 2),
        (Institution.Kind.SHELTER, 1),
        (Institution.Kind.EMPLOYMENT, 1),
        (Institution.Kind.PROSECUTION, 1),
    ],
}
SHARED_PARTS = {
    CaseKind.CHILD: [["identity"], ["identity", "plan"], ["plan"]],
    CaseKind.DV: [["identity", "incidents"], ["identity", "risk", "orders"], ["orders"]],
}
CHILD_NEEDS = [
    ProtectionNeed.NEGLECT,
    ProtectionNeed.PHYSICAL,
    ProtectionNeed.PSYCHOLOGICAL,
    ProtectionNeed.ABUSE,
    ProtectionNeed.STREET_SITUATION,
    ProtectionNeed.EXPLOITATION,
    ProtectionNeed.ABANDONMENT,
    ProtectionNeed.SEXUAL,
]
OPEN_STAGES = [
    Stage.REGISTERED,
    Stage.ASSESSED,
    Stage.CONFERENCE_HELD,
    Stage.PLAN_DRAFTED,
    Stage.MONITORING,
    Stage.CLOSURE_PROPOSED,
]
# The stages a case went through, with the action that moved it there.
MOVES = [
    ("assess", Stage.ASSESSED),
    ("hold_conference", Stage.CONFERENCE_HELD),
    ("submit_plan", Stage.PLAN_DRAFTED),
    ("approve_plan", Stage.MONITORING),
    ("propose_closure", Stage.CLOSURE_PROPOSED),
    ("approve_closure", Stage.CLOSED),
]
# What a case's audit events are, with weights: mostly reads.
CASE_EVENTS = [
    (Action.CASE_VIEWED, 62),
    (Action.PART_VIEWED, 10),
    (Action.CHANGED, 10),
    (Action.CREATED, 4),
    (Action.DOCUMENT_DOWNLOADED, 2),
    (Action.REFERRAL, 2),
]
# Of all events, the share that concern no case: sign-ins, lists, sign-outs.
OTHER_EVENTS = [(Action.SIGNED_IN, 5), (Action.CASES_LISTED, 8), (Action.SIGNED_OUT, 2)]
PARTS = ("identity", "incidents", "risk", "orders", "plan", "documents")
BATCH = 5_000


@dataclass
class Size:
    """How big the invented country is."""

    cases: int = 100_000
    events_per_case: int = 100
    years: int = 10
    seed: int = 2026
    municipalities: int = len(MUNICIPALITIES)


@dataclass
class CaseFacts:
    """What the audit history of a case needs to know, kept in memory for all cases."""

    pk: str
    number: str
    municipality_id: int
    owner: tuple
    supervisors: list
    readers: list = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class Staff:
    """The accounts of one municipality: (id, institution id, municipality id) per role."""

    workers: list = field(default_factory=list)
    heads: list = field(default_factory=list)
    coordinators: list = field(default_factory=list)
    directors: list = field(default_factory=list)
    members: dict = field(default_factory=dict)  # institution kind -> [(id, inst, muni)]


Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    pass


class Country:
    """Seeds one invented country; `seed()` runs every step."""

    def __init__(self, size: Size, progress: Progress = _quiet, signer=None):
        self.size = size
        self.rng = random.Random(size.seed)  # noqa: S311 - invented data, not a secret
        self.progress = progress
        self.signer = signer
        self.now = timezone.now().replace(microsecond=0)
        self.first_day = self.now - timedelta(days=365 * size.years)
        self.municipalities: list[Municipality] = []
        self.units: dict[int, list[int]] = {}
        self.institutions: dict[int, dict[str, int]] = {}
        self.staff: dict[int, Staff] = {}
        self.facts: list[CaseFacts] = []
        self.questionnaire = RiskQuestionnaire.objects.filter(is_active=True).first()
        self.question_ids = (
            [str(pk) for pk in self.questionnaire.questions.values_list("pk", flat=True)]
            if self.questionnaire
            else []
        )
        self.permission_ids = {name: access._permission_id(name) for name in access.FULL_ACCESS}
        self.counts: dict[str, int] = {}
        self.group_ids: dict[str, int] = {}

    def _group_id(self, name: str) -> int:
        """The id of the group of that name (made if missing), asked once per run."""
        if name not in self.group_ids:
            self.group_ids[name] = Group.objects.get_or_create(name=name)[0].pk
        return self.group_ids[name]

    # --- Organisation -----------------------------------------------------------

    def seed(self) -> dict[str, int]:
        started = time.perf_counter()
        with transaction.atomic():
            self.organisation()
        self.cases()
        self.audit_history()
        self.counts["seconds"] = round(time.perf_counter() - started)
        return self.counts

    def organisation(self) -> None:
        chosen = MUNICIPALITIES[: self.size.municipalities]
        for name, code, _population in chosen:
            municipality, _ = Municipality.objects.get_or_create(code=code, defaults={"name": name})
            self.municipalities.append(municipality)
            units = [f"{name} {n}" for n in range(1, 2 + min(8, _population // 15))]
            for unit in units:
                AdministrativeUnit.objects.get_or_create(municipality=municipality, name=unit)
            self.units[municipality.pk] = list(
                municipality.administrative_units.values_list("pk", flat=True)
            )
            by_kind = {}
            for kind, pattern in INSTITUTIONS:
                institution, _ = Institution.objects.get_or_create(
                    municipality=municipality,
                    name=pattern.format(m=name),
                    defaults={"kind": kind},
                )
                by_kind[kind] = institution.pk
            self.institutions[municipality.pk] = by_kind
        self._accounts(chosen)

    def _accounts(self, chosen) -> None:
        """About 2,000 staff nationally: workers by population, two members per institution."""
        rng = self.rng
        unusable = make_password(None)
        users, roles, memberships = [], [], []

        for municipality, (_name, code, population) in zip(
            self.municipalities, chosen, strict=True
        ):
            slug = code.lower()
            wanted = [
                ("pmf", Role.CHILD_PROTECTION_WORKER, None, max(2, population // 5)),
                ("kreu", Role.HEAD_OF_CPU, None, 1),
                ("koordinatori", Role.DV_COORDINATOR, None, max(1, population // 60)),
                ("drejtori", Role.HEAD_OF_SOCIAL_SERVICES, None, 1),
                ("barazia", Role.GENDER_EQUALITY_OFFICER, None, 1),
                ("admin", Role.MUNICIPAL_ADMINISTRATOR, None, 1),
            ] + [
                (f"mkr-{kind}", Role.CCR_MEMBER, kind, 3 if population > 100 else 2)
                for kind, _pattern in INSTITUTIONS
            ]
            for suffix, role, kind, how_many in wanted:
                for n in range(1, how_many + 1):
                    username = f"{slug}.{suffix}.{n}"
                    if User.objects.filter(username=username).exists():
                        continue
                    female = rng.random() < 0.7
                    institution_id = self.institutions[municipality.pk][kind] if kind else None
                    user = User(
                        username=username,
                        first_name=rng.choice(FIRST_NAMES_FEMALE if female else FIRST_NAMES_MALE),
                        last_name=rng.choice(LAST_NAMES),
                        email=f"{username}@scale.mbrojtje.invalid",
                        password=unusable,
                        municipality_id=municipality.pk,
                        institution_id=institution_id,
                    )
                    users.append(user)
                    roles.append((user, role))
                    if role in MUNICIPAL_GROUP_ROLES:
                        memberships.append(
                            (user, self._group_id(role_group_name(municipality.pk, role)))
                        )
                    elif role == Role.CCR_MEMBER:
                        memberships.append(
                            (user, self._group_id(institution_group_name(institution_id)))
                        )
        if not User.objects.filter(username="kombetar.statistika.1").exists():
            statistician = User(
                username="kombetar.statistika.1",
                first_name=rng.choice(FIRST_NAMES_FEMALE),
                last_name=rng.choice(LAST_NAMES),
                email="kombetar.statistika.1@scale.mbrojtje.invalid",
                password=unusable,
            )
            users.append(statistician)
            roles.append((statistician, Role.NATIONAL_STATISTICIAN))
        User.objects.bulk_create(users, batch_size=BATCH)
        created = {user.username: user.pk for user in User.objects.filter(
            username__in=[user.username for user in users]
        ).only("pk", "username")}  # fmt: skip
        RoleAssignment.objects.bulk_create(
            # In force at once: the platform seeding is the second person.
            [
                RoleAssignment(user_id=created[user.username], role=role, approved_at=self.now)
                for user, role in roles
            ],
            batch_size=BATCH,
        )
        through = User.groups.through
        through.objects.bulk_create(
            [through(user_id=created[user.username], group_id=gid) for user, gid in memberships],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        self.counts["staff"] = len(users)
        self._load_staff()

    def _load_staff(self) -> None:
        rows = (
            RoleAssignment.objects.filter(
                user__municipality__in=self.municipalities, user__is_active=True
            )
            .values_list("role", "user_id", "user__institution_id", "user__municipality_id")
            .order_by("user_id")
        )
        role_lists = {
            Role.CHILD_PROTECTION_WORKER: "workers",
            Role.HEAD_OF_CPU: "heads",
            Role.DV_COORDINATOR: "coordinators",
            Role.HEAD_OF_SOCIAL_SERVICES: "directors",
        }
        kinds = {
            pk: kind
            for by_kind in self.institutions.values()
            for kind, pk in by_kind.items()
        }  # fmt: skip
        for role, user_id, institution_id, municipality_id in rows:
            staff = self.staff.setdefault(municipality_id, Staff())
            actor = (user_id, institution_id, municipality_id)
            if role == Role.CCR_MEMBER:
                if institution_id in kinds:
                    staff.members.setdefault(kinds[institution_id], []).append(actor)
            elif role in role_lists:
                getattr(staff, role_lists[role]).append(actor)

    # --- Cases ----------------------------------------------------------------------

    def _cases_per_municipality(self) -> list[tuple[Municipality, int]]:
        populations = [
            population for _n, _c, population in MUNICIPALITIES[: len(self.municipalities)]
        ]
        total = sum(populations)
        shares = [max(1, round(self.size.cases * p / total)) for p in populations]
        shares[0] += self.size.cases - sum(shares)  # the capital takes the rounding
        return list(zip(self.municipalities, shares, strict=True))

    def cases(self) -> None:
        total = self.size.cases
        done = 0
        self.progress("cases", 0, total)
        self.counts.update(dict.fromkeys(
            ["cases", "people", "referrals", "permissions", "transitions", "records"], 0
        ))  # fmt: skip
        with deadlines.settings_read_once():
            for municipality, how_many in self._cases_per_municipality():
                numbers = self._numbers(municipality, how_many)
                for start in range(0, how_many, 2_000):
                    with transaction.atomic():
                        self._case_batch(municipality, numbers[start : start + 2_000])
                    done += min(2_000, how_many - start)
                    self.progress("cases", done, total)

    def _numbers(self, municipality: Municipality, how_many: int) -> list[tuple[datetime, str]]:
        """Registration moments over the years, numbered per municipality and year in order."""
        span = (self.now - self.first_day).total_seconds()
        moments = sorted(
            self.first_day + timedelta(seconds=self.rng.random() * span) for _ in range(how_many)
        )
        numbered, last = [], {}
        sequences = {
            s.year: s
            for s in CaseNumberSequence.objects.filter(municipality=municipality)
        }  # fmt: skip
        for moment in moments:
            year = timezone.localtime(moment).year
            sequence_last = last.get(year, sequences[year].last if year in sequences else 0) + 1
            last[year] = sequence_last
            numbered.append((moment, f"{municipality.code}-{year}-{sequence_last:04d}"))
        for year, value in last.items():
            CaseNumberSequence.objects.update_or_create(
                municipality=municipality, year=year, defaults={"last": value}
            )
        return numbered

    def _stage_of(self, registered_at: datetime) -> str:
        age = (self.now - registered_at).days
        closed_chance = 0.97 if age > 730 else min(0.9, age / 800)
        if self.rng.random() < closed_chance:
            return Stage.CLOSED
        jitter = age * self.rng.uniform(0.6, 1.4)
        if jitter < 4:
            return Stage.REGISTERED
        if jitter < 15:
            return Stage.ASSESSED
        if jitter < 30:
            return Stage.CONFERENCE_HELD
        if jitter < 40:
            return Stage.PLAN_DRAFTED
        return Stage.CLOSURE_PROPOSED if self.rng.random() < 0.1 else Stage.MONITORING

    def _case_batch(self, municipality: Municipality, numbered) -> None:
        rng = self.rng
        staff = self.staff[municipality.pk]
        institutions = self.institutions[municipality.pk]
        rows: dict[str, list] = {name: [] for name in (
            "cases", "people", "needs", "transitions", "assessments", "conferences", "plans",
            "actions", "reviews", "incidents", "risks", "orders", "referrals",
            "user_permissions", "group_permissions",
        )}  # fmt: skip
        supervisor_groups = {
            kind: [
                self._group_id(role_group_name(municipality.pk, role))
                for role in sorted(access.SUPERVISOR_ROLES[kind])
            ]
            for kind in CaseKind.values
        }
        for registered_at, number in numbered:
            kind = CaseKind.DV if rng.random() < 0.5 else CaseKind.CHILD
            owners = staff.coordinators if kind == CaseKind.DV else staff.workers
            supervisors = (
                staff.coordinators if kind == CaseKind.DV else staff.heads
            ) + staff.directors
            owner = rng.choice(owners)
            stage = self._stage_of(registered_at)
            case = self._case(municipality, number, kind, stage, registered_at, owner)
            rows["cases"].append(case)
            self._case_records(case, owner, supervisors, rows)
            facts = CaseFacts(
                pk=chain.uuid_text(case.pk),
                number=number,
                municipality_id=municipality.pk,
                owner=owner,
                supervisors=supervisors,
                start=registered_at,
                end=case.closed_at or self.now,
            )
            for referral in self._referrals(case, institutions, rows):
                facts.readers.extend(staff.members.get(referral, []))
            self.facts.append(facts)
            for codename in access.FULL_ACCESS:
                permission_id = self.permission_ids[codename]
                rows["user_permissions"].append(
                    CaseUserObjectPermission(
                        content_object_id=case.pk, user_id=owner[0], permission_id=permission_id
                    )
                )
                rows["group_permissions"] += [
                    CaseGroupObjectPermission(
                        content_object_id=case.pk, group_id=group_id, permission_id=permission_id
                    )
                    for group_id in supervisor_groups[kind]
                ]
        self._write(rows)

    def _case(self, municipality, number, kind, stage, registered_at, owner) -> Case:
        rng = self.rng
        risk = rng.choices(RiskLevel.values, [2, 5, 4])[0]
        case = Case(
            kind=kind,
            number=number,
            municipality_id=municipality.pk,
            administrative_unit_id=rng.choice(self.units[municipality.pk]),
            owner_id=owner[0],
            stage=stage,
            risk_level=risk,
            reported_risk_level=risk,
            reported_at=registered_at - timedelta(hours=rng.randrange(1, 48)),
            report_channel=rng.choice(ReportChannel.values),
            reporter_kind=rng.choice(ReporterKind.values),
            summary="Raportim i shpikur për provat e shkallës kombëtare.",
            registered_at=registered_at,
            registered_by_id=owner[0],
        )
        moment = registered_at
        reached = OPEN_STAGES.index(stage) if stage != Stage.CLOSED else len(OPEN_STAGES)
        steps = {}
        for index, (action, target) in enumerate(MOVES):
            if index >= reached:
                break
            moment = min(self.now, moment + timedelta(days=rng.uniform(0.5, 12)))
            if target == Stage.MONITORING:
                # Monitoring lasts: the later moves come months afterwards.
                steps[action] = moment
                moment = min(self.now, moment + timedelta(days=rng.uniform(60, 400)))
            else:
                steps[action] = moment
        case.assessed_at = steps.get("assess")
        case.conference_at = steps.get("hold_conference")
        case.plan_approved_at = steps.get("approve_plan")
        if case.plan_approved_at:
            reviewed = case.plan_approved_at + timedelta(days=rng.uniform(60, 120))
            case.last_review_at = reviewed if reviewed < self.now else None
        if stage == Stage.CLOSED:
            case.closed_at = steps["approve_closure"]
            case.closure_reason = rng.choice(ClosureReason.values)
        case.moves = steps  # for the transitions, not a field
        deadlines.refresh_next_due(case)
        return case

    def _case_records(self, case: Case, owner, supervisors, rows) -> None:
        rng = self.rng
        main_role = PersonRole.VICTIM if case.kind == CaseKind.DV else PersonRole.CHILD
        people = [(main_role, rng.random() < 0.75 or case.kind == CaseKind.CHILD)]
        people.append((PersonRole.PERPETRATOR, False))
        people += [
            (PersonRole.HOUSEHOLD_CHILD if case.kind == CaseKind.DV else PersonRole.PARENT, None)
        ] * rng.choice([2, 3, 4])
        for role, female in people:
            rows["people"].append(self._person(case, role, female))
        needs = (
            rng.sample(DV_FORMS, rng.choice([1, 2]))
            if case.kind == CaseKind.DV
            else rng.sample(CHILD_NEEDS, rng.choice([1, 2]))
        )
        rows["needs"] += [CaseNeed(case=case, need=need) for need in needs]
        stage = ""
        rows["transitions"].append(
            StageTransition(
                case=case, action="register", from_stage="", to_stage=Stage.REGISTERED,
                by_id=owner[0], at=case.registered_at,
            )
        )  # fmt: skip
        previous = Stage.REGISTERED
        # Nobody approves their own work; the director is always there to.
        approvers = [supervisor for supervisor in supervisors if supervisor[0] != owner[0]]
        taken_by = {}
        for action, stage in MOVES:
            if action not in case.moves:
                break
            by = rng.choice(approvers)[0] if action.startswith("approve") else owner[0]
            taken_by[action] = by
            rows["transitions"].append(
                StageTransition(
                    case=case, action=action, from_stage=previous, to_stage=stage, by_id=by,
                    at=case.moves[action],
                    reason="Arsye e shpikur." if action == "approve_closure" else None,
                )
            )  # fmt: skip
            previous = stage
        self._protocol_records(case, owner, taken_by.get("approve_plan"), rows)

    def _protocol_records(self, case: Case, owner, plan_approver, rows) -> None:
        rng = self.rng
        if case.kind == CaseKind.DV:
            rows["incidents"].append(
                Incident(
                    case=case, occurred_on=timezone.localdate(case.reported_at),
                    forms=[rng.choice(DV_FORMS).value], narrative="Ngjarje e shpikur.",
                    injuries=rng.random() < 0.3, children_present=rng.random() < 0.4,
                    recorded_by_id=owner[0], recorded_at=case.registered_at,
                )
            )  # fmt: skip
        if case.assessed_at:
            if case.kind == CaseKind.DV and self.questionnaire:
                answers = {qid: rng.random() < 0.3 for qid in self.question_ids}
                rows["risks"].append(
                    RiskAssessment(
                        case=case, questionnaire=self.questionnaire, answers=answers,
                        score=sum(answers.values()), risk_level=case.risk_level,
                        assessed_at=case.assessed_at, recorded_by_id=owner[0],
                    )
                )  # fmt: skip
            else:
                rows["assessments"].append(
                    Assessment(
                        case=case, assessed_at=case.assessed_at, risk_level=case.risk_level,
                        home_visit=rng.random() < 0.7, findings="Vlerësim i shpikur.",
                        recorded_by_id=owner[0],
                    )
                )  # fmt: skip
        if case.kind == CaseKind.DV and rng.random() < 0.5:
            self._order(case, owner, rows)
        if case.conference_at:
            rows["conferences"].append(
                CaseConference(
                    case=case, held_at=case.conference_at, minutes="Procesverbal i shpikur.",
                    decisions="Vendime të shpikura.", recorded_by_id=owner[0],
                )
            )  # fmt: skip
        if "submit_plan" in case.moves:
            plan = Plan(
                case=case, goals="Objektiva të shpikura.", drafted_with_family=rng.random() < 0.6,
                drafted_at=case.moves["submit_plan"], approved_at=case.plan_approved_at,
                approved_by_id=plan_approver if case.plan_approved_at else None,
            )  # fmt: skip
            rows["plans"].append(plan)
            institutions = self.institutions[case.municipality_id]
            for _ in range(2):
                rows["actions"].append(
                    PlanAction(
                        plan=plan, description="Masë e shpikur.",
                        institution_id=rng.choice(list(institutions.values())),
                        due_date=timezone.localdate(plan.drafted_at) + timedelta(days=60),
                        status=rng.choice(PlanAction.Status.values),
                    )
                )  # fmt: skip
        if case.last_review_at:
            rows["reviews"].append(
                Review(
                    case=case, held_at=case.last_review_at, findings="Rishikim i shpikur.",
                    risk_level=case.risk_level, recorded_by_id=owner[0],
                )
            )  # fmt: skip

    def _order(self, case: Case, owner, rows) -> None:
        rng = self.rng
        kind = rng.choice(OrderKind.values)
        issuer = Institution.Kind.POLICE if kind == OrderKind.UPMM else Institution.Kind.COURT
        requested_at = case.registered_at + timedelta(days=rng.uniform(0, 3))
        decided = requested_at + timedelta(days=rng.uniform(0.1, 15))
        outcome = OrderOutcome.PENDING
        valid_from = expires_on = None
        if decided < self.now:
            outcome = rng.choices(OrderOutcome.values[1:], [6, 2, 1, 1, 1])[0]
            if outcome in (OrderOutcome.GRANTED, OrderOutcome.PARTLY_GRANTED):
                valid_from = timezone.localdate(decided)
                expires_on = valid_from + timedelta(days=rng.choice([15, 30, 180, 365]))
        rows["orders"].append(
            ProtectionOrder(
                case=case, kind=kind, requested_by=rng.choice(OrderRequester.values),
                requested_at=requested_at,
                issuing_institution_id=self.institutions[case.municipality_id][issuer],
                decided_at=decided if outcome != OrderOutcome.PENDING else None, outcome=outcome,
                valid_from=valid_from, expires_on=expires_on,
                measures="Masa të shpikura." if valid_from else None,
                covers_children=rng.random() < 0.4, recorded_by_id=owner[0],
                recorded_at=requested_at,
            )
        )  # fmt: skip

    def _person(self, case: Case, role: str, female: bool | None) -> Person:
        rng = self.rng
        if female is None:
            female = rng.random() < 0.5
        first = rng.choice(FIRST_NAMES_FEMALE if female else FIRST_NAMES_MALE)
        last = rng.choice(LAST_NAMES)
        child = role in (PersonRole.CHILD, PersonRole.HOUSEHOLD_CHILD)
        age = rng.randrange(0, 18) if child else rng.randrange(18, 80)
        born = date(timezone.localdate(case.registered_at).year - age, rng.randrange(1, 13), 1)
        born = born.replace(day=rng.randrange(1, 29))
        personal_number = (
            f"{chr(65 + rng.randrange(26))}{rng.randrange(10**8):08d}{chr(65 + rng.randrange(26))}"
            if rng.random() < 0.8
            else None
        )
        return Person(
            case=case,
            role=role,
            first_name=first,
            last_name=last,
            personal_number=personal_number,
            birth_date=born,
            address=f"Rruga e shpikur {rng.randrange(1, 200)}"
            if role != PersonRole.PERPETRATOR
            else None,
            phone=f"06{rng.randrange(7, 10)}{rng.randrange(10**7):07d}",
            sex=Sex.FEMALE if female else Sex.MALE,
            age_group=_age_group(age),
            is_roma=rng.random() < 0.04,
            is_egyptian=rng.random() < 0.03,
            has_disability=rng.random() < 0.05,
            **person_indexes(
                first_name=first, last_name=last, personal_number=personal_number, birth_date=born
            ),
        )

    def _referrals(self, case: Case, institutions: dict, rows) -> list[str]:
        """Referrals of the case; returns the kinds of institution it is open to now."""
        rng = self.rng
        open_to = []
        kinds, weights = zip(*REFERRED_TO[case.kind], strict=True)
        how_many = rng.choices([0, 1, 2, 3], [2, 5, 3, 1])[0]
        for kind in set(rng.choices(kinds, weights, k=how_many)):
            referred_at = case.registered_at + timedelta(days=rng.uniform(0, 20))
            if referred_at >= self.now:
                referred_at = case.registered_at
            expires_at = referred_at + timedelta(days=30)
            if case.closed_at or expires_at < self.now:
                state = rng.choice([ReferralState.DONE, ReferralState.DONE, ReferralState.EXPIRED,
                                    ReferralState.DECLINED, ReferralState.REVOKED])  # fmt: skip
            else:
                state = rng.choice(OPEN_REFERRAL_STATES)
            parts = rng.choice(SHARED_PARTS[case.kind])
            answered = state != ReferralState.NEW
            referral = Referral(
                case=case, institution_id=institutions[kind], parts=parts,
                reason="Arsye e shpikur e referimit.",
                urgency=Urgency.URGENT if rng.random() < 0.3 else Urgency.NORMAL,
                legal_basis=LegalBasis.CONSENT if case.kind == CaseKind.DV
                else LegalBasis.CHILD_AT_RISK,
                due_date=timezone.localdate(referred_at) + timedelta(days=3),
                expires_at=expires_at, state=state, referred_by_id=case.owner_id,
                referred_at=referred_at,
                answered_at=referred_at + timedelta(days=1) if answered else None,
                closed_at=min(self.now, expires_at) if state not in OPEN_REFERRAL_STATES else None,
            )  # fmt: skip
            rows["referrals"].append(referral)
            if state in OPEN_REFERRAL_STATES:
                open_to.append(kind)
                group_id = self._group_id(institution_group_name(institutions[kind]))
                for codename in ["view_case", *(f"view_{part}" for part in parts)]:
                    rows["group_permissions"].append(
                        CaseGroupObjectPermission(
                            content_object_id=case.pk, group_id=group_id,
                            permission_id=self.permission_ids[codename],
                        )
                    )  # fmt: skip
        return open_to

    def _write(self, rows) -> None:
        order = [
            ("cases", Case), ("people", Person), ("needs", CaseNeed),
            ("transitions", StageTransition), ("assessments", Assessment),
            ("conferences", CaseConference), ("plans", Plan), ("actions", PlanAction),
            ("reviews", Review), ("incidents", Incident), ("risks", RiskAssessment),
            ("orders", ProtectionOrder), ("referrals", Referral),
            ("user_permissions", CaseUserObjectPermission),
            ("group_permissions", CaseGroupObjectPermission),
        ]  # fmt: skip
        for name, model in order:
            model.objects.bulk_create(rows[name], batch_size=1_000, ignore_conflicts=(
                name == "group_permissions"
            ))  # fmt: skip
        self.counts["cases"] += len(rows["cases"])
        self.counts["people"] += len(rows["people"])
        self.counts["referrals"] += len(rows["referrals"])
        self.counts["transitions"] += len(rows["transitions"])
        self.counts["permissions"] += len(rows["user_permissions"]) + len(rows["group_permissions"])
        self.counts["records"] += sum(
            len(rows[name])
            for name in ("assessments", "conferences", "plans", "actions", "reviews", "incidents",
                         "risks", "orders")
        )  # fmt: skip

    # --- Audit history --------------------------------------------------------------

    def audit_history(self) -> None:
        """About `events_per_case` events per case, month by month, each month signed."""
        total = self.size.cases * self.size.events_per_case
        if not total or not self.facts:
            return
        appended = 0
        month = self.first_day
        # Each case event brings 0.15 other events on average (see _month_events).
        per_case_day = (
            self.size.events_per_case
            / 1.15
            / max(1, sum((f.end - f.start).days + 1 for f in self.facts) / len(self.facts))
        )
        facts = sorted(self.facts, key=lambda f: f.start)
        self.progress("audit events", 0, total)
        while month < self.now:
            until = min(self.now, month + timedelta(days=30))
            events = self._month_events(facts, month, until, per_case_day)
            events.sort(key=lambda values: values[0])
            appended += bulk.append_many(events)
            if self.signer is not None:
                checkpoint_make(signer=self.signer)
            self.progress("audit events", appended, total)
            month = until
        self.counts["audit_events"] = appended

    def _month_events(self, facts, start, until, per_case_day) -> list[tuple]:
        rng = self.rng
        actions, weights = zip(*CASE_EVENTS, strict=True)
        others, other_weights = zip(*OTHER_EVENTS, strict=True)
        events = []
        for case in facts:
            if case.start >= until:
                break
            if case.end <= start:
                continue
            begin, end = max(case.start, start), min(case.end, until)
            expected = per_case_day * (end - begin).total_seconds() / 86_400
            count = int(expected) + (rng.random() < expected % 1)
            span = (end - begin).total_seconds()
            for _ in range(count):
                moment = begin + timedelta(seconds=rng.random() * span)
                roll = rng.random()
                actor = (
                    case.owner
                    if roll < 0.7 or not (case.readers or case.supervisors)
                    else rng.choice(case.readers)
                    if case.readers and roll < 0.85
                    else rng.choice(case.supervisors)
                )
                action = rng.choices(actions, weights)[0]
                events.append(self._case_event(case, actor, action, moment))
                if rng.random() < 0.15:  # around it: a sign-in, a list or a sign-out
                    action = rng.choices(others, other_weights)[0]
                    events.append(self._other_event(case, actor, action, moment))
        return events

    def _case_event(self, case: CaseFacts, actor, action, moment) -> tuple:
        rng = self.rng
        part = detail = ""
        if action == Action.CASE_VIEWED:
            part = ",".join(rng.sample(PARTS, rng.randrange(1, 4)))
            detail = '{"page":"protocol:case_detail"}'
        elif action in (Action.PART_VIEWED, Action.DOCUMENT_DOWNLOADED):
            part = rng.choice(PARTS)
        elif action == Action.CHANGED:
            detail = '{"fields":["next_due_at","stage"]}'
        user, institution, municipality = actor
        return (
            moment, str(action), user, institution, municipality, case.municipality_id,
            "protocol.case", case.pk, case.pk, case.number, part, _ip(rng), "", detail,
        )  # fmt: skip

    def _other_event(self, case: CaseFacts, actor, action, moment) -> tuple:
        user, institution, municipality = actor
        detail = ""
        object_type = ""
        if action == Action.CASES_LISTED:
            object_type = "protocol.case"
            detail = chain.canonical_detail(
                {"page": "protocol:case_list", "cases": [case.number], "count": 1}
            )
        return (
            moment, str(action), user, institution, municipality, municipality, object_type, "",
            None, "", "", _ip(self.rng), "", detail,
        )  # fmt: skip


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _age_group(age: int) -> str:
    for limit, group in (
        (5, AgeGroup.AGE_0_5),
        (11, AgeGroup.AGE_6_11),
        (17, AgeGroup.AGE_12_17),
        (24, AgeGroup.AGE_18_24),
        (59, AgeGroup.AGE_25_59),
    ):
        if age <= limit:
            return group
    return AgeGroup.AGE_60
