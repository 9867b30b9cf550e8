"""Reads of cases, always starting from what the user may see (protocol.access)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from encryption.blind_index import blind_index

from . import access
from .auditing import access_refused
from .models import (
    MAIN_ROLE,
    OPEN_REFERRAL_STATES,
    PERSON_ROLES_BY_KIND,
    Case,
    CaseLink,
    CaseTransfer,
    EmergencyAccess,
    Meeting,
    Person,
    Referral,
    ReferralState,
    Stage,
)
from .services import PERSONAL_NUMBER_INDEX, may_work_on, person_indexes
from .services.meetings import meetings_visible_to
from .services.transfers import transfers_incoming


def case_for(user: User, number: str, *, part: str = "") -> Case:
    """The case with this number if `user` may open it (and see its `part`, for a page of
    one part); 404 otherwise, whether or not it exists, with the refusal recorded."""
    # By its number, then the one permission check (whose answer the page's
    # other checks reuse) rather than filtering `visible_cases`: the same
    # answer, without building and planning the union of everything the user
    # may open.
    case = (
        Case.objects.select_related("municipality", "administrative_unit", "owner")
        .filter(number=number)
        .first()
    )
    if case is None or not access.can_view_case(user, case):
        asked = case.pk if case else ""
        access_refused(user, object_type="protocol.case", object_id=asked, case=case, number=number)
        raise Http404
    if part and not access.can_view_part(user, case, part):
        access_refused(user, object_type="protocol.case", object_id=case.pk, case=case, part=part)
        raise Http404
    return case


def referral_for(user: User, pk) -> Referral:
    """The referral with this id if it was made to the member's institution; 404 otherwise,
    whether or not it exists, with the refusal recorded."""
    referral = Referral.objects.select_related("case", "institution").filter(pk=pk).first()
    if (
        referral is None
        or not (user.has_role(Role.CCR_MEMBER) and user.institution_id)
        or referral.institution_id != user.institution_id
    ):
        access_refused(
            user,
            object_type="protocol.referral",
            object_id=pk,
            case=referral.case if referral else None,
            part=",".join(referral.parts) if referral else "",
        )
        raise Http404
    return referral


def meeting_for(user: User, pk) -> Meeting:
    """The meeting with this id if `user` convened it, has a case on it or was invited;
    404 otherwise, whether or not it exists, with the refusal recorded (its agenda lists
    case numbers)."""
    meeting = meetings_visible_to(user).filter(pk=pk).first()
    if meeting is None:
        asked = Meeting.objects.filter(pk=pk).values_list("municipality_id", flat=True).first()
        access_refused(user, object_type="protocol.meeting", object_id=pk, municipality_id=asked)
        raise Http404
    return meeting


def linked_cases(case: Case) -> list[Case]:
    """The DV case of a child's household, or the children's cases of a DV case (one query)."""
    links = CaseLink.objects.filter(Q(dv_case=case) | Q(child_case=case)).select_related(
        "dv_case", "child_case"
    )
    return [link.child_case if link.dv_case_id == case.pk else link.dv_case for link in links]


def people_on_case(case: Case) -> list[Person]:
    """The case's people, current ones first, each with `earlier_addresses`: the addresses
    the history recorded before the current one, as (address, from, until), newest first.

    For those who see the identity part only (two queries, whatever the number of people).
    """
    roles = PERSON_ROLES_BY_KIND[case.kind]
    people = sorted(
        case.people.all(),
        key=lambda person: (
            person.ended_at is not None,
            roles.index(person.role) if person.role in roles else len(roles),
        ),
    )
    rows = Person.history.filter(id__in=[person.pk for person in people]).order_by(
        "history_date", "history_id"
    )
    # Each person's address as the history recorded it, one entry per change.
    changes: dict = {}
    for row in rows.only("id", "address", "history_date"):
        seen = changes.setdefault(row.id, [])
        if not seen or seen[-1][0] != row.address:
            seen.append((row.address, row.history_date))
    for person in people:
        seen = changes.get(person.pk, [])
        person.earlier_addresses = [
            (address, since, seen[index + 1][1])
            for index, (address, since) in enumerate(seen[:-1])
            if address
        ][::-1]
    return people


@dataclass(frozen=True)
class CaseFilters:
    kind: str = ""
    stage: str = ""
    risk: str = ""
    overdue: bool = False
    administrative_unit: int | None = None
    query: str = ""
    mine: bool = False


def search_indexes(query: str) -> list[str]:
    """Blind indexes a search text may match: a personal number, or a full name."""
    query = " ".join(query.split())
    if not query:
        return []
    indexes = [blind_index(query.upper(), purpose=PERSONAL_NUMBER_INDEX)]
    parts = query.split(" ")
    # "Ana Maria Hoxha": try every split between first and last name.
    for cut in range(1, len(parts)):
        indexes.append(
            person_indexes(
                first_name=" ".join(parts[:cut]),
                last_name=" ".join(parts[cut:]),
                personal_number=None,
                birth_date=None,
            )["name_index"]
        )
    return indexes


def cases_list(user: User, filters: CaseFilters) -> QuerySet[Case]:
    """The user's visible cases, filtered; a case number, a personal number or a full
    name as the search text (exact, through the blind indexes)."""
    cases = access.visible_cases(user)
    if filters.kind:
        cases = cases.filter(kind=filters.kind)
    if filters.stage:
        cases = cases.filter(stage=filters.stage)
    if filters.risk:
        cases = cases.filter(risk_level=filters.risk)
    if filters.overdue:
        cases = cases.filter(next_due_at__lt=timezone.now())
    if filters.administrative_unit:
        cases = cases.filter(administrative_unit_id=filters.administrative_unit)
    if filters.mine:
        cases = cases.filter(owner=user)
    if filters.query:
        indexes = search_indexes(filters.query)
        by_person = Person.objects.filter(
            Q(personal_number_index__in=indexes) | Q(name_index__in=indexes)
        ).values("case_id")
        # Case numbers are capitals: an equality the unique index answers (iexact is
        # UPPER() on every case in the country).
        by_number = Case.objects.filter(number=filters.query.strip().upper()).values("pk")
        cases = cases.filter(pk__in=by_number.union(by_person))
    return cases.order_by("next_due_at", "-registered_at")


def cases_page(cases: QuerySet[Case], number, per_page: int) -> Page:
    """Page `number` of the ordered `cases` (from `cases_list`), with each case's
    owner, unit and main person.

    The ordered ids of every matching case are read first, then the page's
    rows by primary key: one pass over the user's cases instead of two (a
    count, then the sorted page of wide rows). The 1,688 ids of a coordinator
    cost less than either.
    """
    ids = list(cases.values_list("pk", flat=True))
    page = Paginator(ids, per_page).get_page(number)
    rows = (
        Case.objects.select_related("owner", "administrative_unit")
        .prefetch_related(
            Prefetch(
                "people",
                queryset=Person.objects.filter(role__in=MAIN_ROLE.values(), ended_at__isnull=True),
            )
        )
        .in_bulk(list(page.object_list))
    )
    # A case deleted between the two reads is left out rather than failing the page.
    page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
    return page


@dataclass
class Dashboard:
    by_stage: list[tuple[str, str, int]]
    due_this_week: list[Case]
    overdue: list[Case]
    recently_changed: list[Case]


def dashboard_for(user: User) -> Dashboard:
    """My cases by stage, what falls due this week, what is overdue, what changed lately."""
    mine = access.visible_cases(user).filter(owner=user)
    counts = dict(
        mine.values_list("stage").annotate(total=Count("pk")).values_list("stage", "total")
    )
    now = timezone.now()
    visible = access.visible_cases(user).select_related("owner").exclude(stage=Stage.CLOSED)
    return Dashboard(
        by_stage=[(value, label, counts.get(value, 0)) for value, label in Stage.choices],
        due_this_week=list(
            visible.filter(next_due_at__gte=now, next_due_at__lt=now + timedelta(days=7)).order_by(
                "next_due_at"
            )[:20]
        ),
        overdue=list(visible.filter(next_due_at__lt=now).order_by("next_due_at")[:20]),
        recently_changed=list(
            access.visible_cases(user).select_related("owner").order_by("-updated_at")[:10]
        ),
    )


def referral_inbox(user: User, state: str = "") -> QuerySet[Referral]:
    """The referrals to the member's institution, newest first; those in `state` (as the
    member sees states) when given."""
    referrals = Referral.objects.filter(institution_id=user.institution_id)
    if state:
        referrals = referrals.filter(Referral.in_shown_state(state))
    return referrals.select_related("case").order_by("-referred_at", "pk")


def workers_for(case: Case) -> QuerySet[User]:
    """The active accounts that may take charge of `case` (for reassignment)."""
    candidates = User.objects.filter(municipality_id=case.municipality_id, is_active=True)
    return candidates.filter(
        pk__in=[
            worker.pk
            for worker in candidates.prefetch_related("role_assignments")
            if may_work_on(worker, case.kind, case.municipality_id)
        ]
    )


def referrals_past(user: User) -> QuerySet[Referral]:
    """The referrals to the member's institution that have ended (done, declined, expired,
    revoked, or closed with their case), newest first: the institution's own record."""
    ongoing = Q(state__in=OPEN_REFERRAL_STATES, expires_at__gt=timezone.now())
    return referral_inbox(user).exclude(ongoing)


def own_record_of(referral: Referral) -> str:
    """What the institution answered, without what the case's worker added when taking the
    referral back (a revocation appends its reason to the answer): the answer as it stood
    in the last version before the revocation."""
    if referral.state != ReferralState.REVOKED:
        return referral.answer or ""
    before = referral.history.exclude(state=ReferralState.REVOKED).order_by("-history_date").first()
    return (before.answer if before else "") or ""


# --- The homes of each role ------------------------------------------------------------

# How far ahead the homes look: answers due, access ending, orders expiring.
SOON = timedelta(days=3)
# How long an emergency access to a supervisor's case stays on their home.
EMERGENCY_SHOWN_FOR = timedelta(days=7)
HOME_LIST_LENGTH = 20


@dataclass(frozen=True)
class Waiting:
    """A case that waits for a decision, and since when."""

    case: Case
    since: datetime | None


@dataclass
class SupervisorQueue:
    plans: list[Waiting] = field(default_factory=list)
    closures: list[Waiting] = field(default_factory=list)
    # The supervisor's own plans and closures, waiting for another supervisor.
    own_plans: list[Waiting] = field(default_factory=list)
    own_closures: list[Waiting] = field(default_factory=list)
    transfers: list[CaseTransfer] = field(default_factory=list)
    emergency_accesses: list[EmergencyAccess] = field(default_factory=list)

    def case_numbers(self) -> set[str]:
        waiting = [*self.plans, *self.closures, *self.own_plans, *self.own_closures]
        return {
            *(item.case.number for item in waiting),
            *(grant.case.number for grant in self.emergency_accesses),
        }


def supervised_kinds(user: User) -> list[str]:
    """The kinds of case `user` supervises in their municipality (none for other roles)."""
    if user.municipality_id is None:
        return []
    return [kind for kind, roles in access.SUPERVISOR_ROLES.items() if user.roles & roles]


def supervisor_queue(user: User) -> SupervisorQueue:
    """What waits for a supervisor, oldest first: plans and closures they may decide (and,
    apart, their own waiting for another supervisor), transfers to their municipality,
    and emergency accesses of others to their cases in the last days.

    Only cases they may open are named: a transfer shows its kind and the sending
    municipality, its number only on the page of incoming transfers (until accepted, the
    case is not theirs).
    """
    kinds = supervised_kinds(user)
    queue = SupervisorQueue()
    if not kinds:
        return queue
    mine = access.visible_cases(user).filter(municipality_id=user.municipality_id, kind__in=kinds)
    for stage, decide, own in (
        (Stage.PLAN_DRAFTED, queue.plans, queue.own_plans),
        (Stage.CLOSURE_PROPOSED, queue.closures, queue.own_closures),
    ):
        waiting = (
            access.with_submitter(mine, stage=stage)
            .select_related("owner")
            .order_by("submitted_at")[:HOME_LIST_LENGTH]
        )
        for case in waiting:
            item = Waiting(case=case, since=case.submitted_at)
            # Nobody decides on their own work: theirs waits for another supervisor.
            (decide if access.may_approve(user, case) else own).append(item)
    queue.transfers = list(transfers_incoming(user).order_by("requested_at")[:HOME_LIST_LENGTH])
    queue.emergency_accesses = list(
        EmergencyAccess.objects.filter(
            case__in=mine,
            opened_at__gte=timezone.now() - EMERGENCY_SHOWN_FOR,
        )
        .exclude(user=user)
        .select_related("case", "user")
        .order_by("-opened_at")[:HOME_LIST_LENGTH]
    )
    return queue


@dataclass
class MemberHome:
    to_answer: list[Referral]
    overdue: list[Referral]
    expiring: list[Referral]
    meetings: list[Meeting]
    in_progress: int

    @property
    def to_answer_count(self) -> int:
        return len(self.to_answer) + len(self.overdue)

    def case_numbers(self) -> set[str]:
        referrals = [*self.to_answer, *self.overdue, *self.expiring]
        return {referral.case.number for referral in referrals}


def member_home(user: User) -> MemberHome:
    """A member's open referrals: new ones to answer (by due date), answers overdue, access
    ending within SOON; and the coming meetings the institution is invited to."""
    open_referrals = access.open_referrals(user).select_related("case")
    today = timezone.localdate()
    now = timezone.now()
    new = open_referrals.filter(state=ReferralState.NEW).order_by("due_date", "referred_at")
    meetings = Meeting.objects.none()
    if user.institution_id and user.municipality_id:
        meetings = Meeting.objects.filter(
            municipality_id=user.municipality_id,
            invited__id=user.institution_id,
            scheduled_at__gte=now - timedelta(hours=2),
        )
    return MemberHome(
        to_answer=list(new.filter(due_date__gte=today)[:HOME_LIST_LENGTH]),
        overdue=list(new.filter(due_date__lt=today)[:HOME_LIST_LENGTH]),
        expiring=list(
            open_referrals.filter(expires_at__lte=now + SOON).order_by("expires_at")[
                :HOME_LIST_LENGTH
            ]
        ),
        meetings=list(meetings.order_by("scheduled_at")[:HOME_LIST_LENGTH]),
        in_progress=open_referrals.exclude(state=ReferralState.NEW).count(),
    )
