"""Everything that changes a case file: registration, the steps of the protocol, notes.

Each service checks the permission through protocol.access, validates, writes
inside one transaction, and refuses an edit based on an older version of the
case (StaleEdit) so that a second person's save never overwrites the first's.
"""

from dataclasses import dataclass, field, fields
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Institution, User
from accounts.notifications import Kind as NotificationKind
from accounts.notifications import notify, requests_settled
from encryption import limits
from encryption.blind_index import blind_index, blind_index_of

from .. import access
from ..deadlines import refresh_next_due
from ..models import (
    Assessment,
    Case,
    CaseConference,
    CaseKind,
    CaseLink,
    CaseNeed,
    CaseNumberSequence,
    ClosureReason,
    Note,
    Person,
    Plan,
    PlanAction,
    Review,
    Stage,
    StageTransition,
)
from ..stages import ACTIONS, TransitionNotAllowed, refusal, reopen_stage


class StaleEdit(Exception):
    """The case changed since the form was opened; nothing was saved."""

    def __init__(self):
        super().__init__(
            _(
                "Someone else changed this case while you were working on it. Nothing was "
                "saved: reload the page to see their changes, then try again."
            )
        )


class PossibleDuplicate(Exception):
    """Someone with the same personal number, or name and date of birth, has a case here."""

    def __init__(self, case_numbers: list[str], hidden: int):
        self.case_numbers = case_numbers
        self.hidden = hidden
        super().__init__(_("This person may already have a case in the municipality."))


# --- People and their blind indexes ------------------------------------------------

NAME_INDEX = "person-name"
PERSONAL_NUMBER_INDEX = "person-personal-number"
NAME_BIRTH_INDEX = "person-name-birth-date"


def person_indexes(
    *, first_name: str, last_name: str, personal_number: str | None, birth_date: date | None
) -> dict[str, str]:
    return {
        "name_index": blind_index_of(first_name, last_name, purpose=NAME_INDEX),
        "personal_number_index": (
            blind_index(personal_number, purpose=PERSONAL_NUMBER_INDEX) if personal_number else ""
        ),
        "name_birth_index": (
            blind_index_of(first_name, last_name, birth_date, purpose=NAME_BIRTH_INDEX)
            if birth_date
            else ""
        ),
    }


@dataclass
class PersonData:
    role: str
    first_name: str
    last_name: str
    personal_number: str | None = None
    birth_date: date | None = None
    address: str | None = None
    phone: str | None = None
    sex: str = ""
    age_group: str = ""
    is_roma: bool = False
    is_egyptian: bool = False
    has_disability: bool = False
    relationship_to_victim: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, values, *, role: str) -> "PersonData":
        """From a form's cleaned data, or a person's fields: whichever of ours it holds."""
        names = {each.name for each in fields(cls)} - {"role", "extra"}
        return cls(role=role, **{name: values[name] for name in names if name in values})


def _person_build(case: Case, data: PersonData) -> Person:
    person = Person(
        case=case,
        role=data.role,
        first_name=data.first_name.strip(),
        last_name=data.last_name.strip(),
        personal_number=(data.personal_number or "").strip().upper() or None,
        birth_date=data.birth_date,
        address=(data.address or "").strip() or None,
        phone=(data.phone or "").strip() or None,
        sex=data.sex,
        age_group=data.age_group or (age_group_of(data.birth_date) if data.birth_date else ""),
        is_roma=data.is_roma,
        is_egyptian=data.is_egyptian,
        has_disability=data.has_disability,
        relationship_to_victim=data.relationship_to_victim,
        **person_indexes(
            first_name=data.first_name,
            last_name=data.last_name,
            personal_number=(data.personal_number or "").strip().upper() or None,
            birth_date=data.birth_date,
        ),
    )
    person.full_clean(exclude=["case"])
    return person


def age_group_of(birth_date: date, on: date | None = None) -> str:
    on = on or timezone.localdate()
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    for upper, group in ((5, "0-5"), (11, "6-11"), (17, "12-17"), (24, "18-24"), (59, "25-59")):
        if age <= upper:
            return group
    return "60+"


def possible_duplicates(
    *, by: User, municipality_id: int, person: PersonData, exclude_case_id=None
) -> list[Case]:
    """Open cases of the municipality with someone of the same personal number, or the
    same name and date of birth, whose part in the case has not ended (other than the
    case `exclude_case_id`, where the person is being changed or added)."""
    indexes = person_indexes(
        first_name=person.first_name,
        last_name=person.last_name,
        personal_number=(person.personal_number or "").strip().upper() or None,
        birth_date=person.birth_date,
    )
    matches = Person.objects.none()
    if indexes["personal_number_index"]:
        matches |= Person.objects.filter(personal_number_index=indexes["personal_number_index"])
    if indexes["name_birth_index"]:
        matches |= Person.objects.filter(name_birth_index=indexes["name_birth_index"])
    cases = Case.objects.filter(
        municipality_id=municipality_id,
        pk__in=matches.filter(ended_at__isnull=True).values("case_id"),
    ).exclude(stage=Stage.CLOSED)
    if exclude_case_id is not None:
        cases = cases.exclude(pk=exclude_case_id)
    return list(cases)


def refuse_possible_duplicates(
    *,
    by: User,
    municipality_id: int,
    person: PersonData,
    override_reason: str,
    exclude_case_id=None,
) -> None:
    """PossibleDuplicate, naming the cases `by` may open and counting the others, unless
    a reason to save anyway is given; at registration and when people change."""
    if override_reason.strip():
        return
    duplicates = possible_duplicates(
        by=by, municipality_id=municipality_id, person=person, exclude_case_id=exclude_case_id
    )
    if duplicates:
        visible = [case for case in duplicates if access.can_view_case(by, case)]
        raise PossibleDuplicate([case.number for case in visible], len(duplicates) - len(visible))


# --- Registration -----------------------------------------------------------------


def may_work_on(user: User, kind: str, municipality_id: int | None) -> bool:
    """Whether `user` registers and takes charge of cases of `kind` in this municipality."""
    permission = (
        "protocol.register_child_case" if kind == CaseKind.CHILD else "protocol.register_dv_case"
    )
    return (
        municipality_id is not None
        and user.municipality_id == municipality_id
        and user.has_perm(permission)
    )


def _next_case_number(municipality) -> str:
    year = timezone.localdate().year
    sequence, _created = CaseNumberSequence.objects.select_for_update().get_or_create(
        municipality=municipality, year=year
    )
    CaseNumberSequence.objects.filter(pk=sequence.pk).update(last=F("last") + 1)
    sequence.refresh_from_db()
    return f"{municipality.code}-{year}-{sequence.last:04d}"


@transaction.atomic
def case_register(
    *,
    by: User,
    kind: str,
    people: list[PersonData],
    needs: list[str],
    reported_risk_level: str,
    reported_at: datetime,
    report_channel: str,
    reporter_kind: str,
    reporter_details: str,
    summary: str,
    administrative_unit=None,
    owner: User | None = None,
    duplicate_override_reason: str = "",
) -> Case:
    """Register a case in the user's municipality, with its people and forms of need.

    Refuses a user whose role does not register this kind, and a likely duplicate
    unless a reason to register it anyway is given (PossibleDuplicate).
    """
    if not may_work_on(by, kind, by.municipality_id):
        raise PermissionDenied
    owner = owner or by
    if not may_work_on(owner, kind, by.municipality_id):
        raise ValidationError(
            {"owner": _("The worker in charge must work on this kind of case here.")}
        )
    if (
        administrative_unit is not None
        and administrative_unit.municipality_id != by.municipality_id
    ):
        raise ValidationError(
            {"administrative_unit": _("The administrative unit belongs to another municipality.")}
        )
    if not people:
        raise ValidationError(_("A case needs at least one person."))
    refuse_possible_duplicates(
        by=by,
        municipality_id=by.municipality_id,
        person=people[0],
        override_reason=duplicate_override_reason,
    )
    case = Case(
        kind=kind,
        municipality=by.municipality,
        administrative_unit=administrative_unit,
        owner=owner,
        reported_risk_level=reported_risk_level,
        reported_at=reported_at,
        report_channel=report_channel,
        reporter_kind=reporter_kind,
        reporter_details=reporter_details or None,
        summary=summary,
        registered_by=by,
        duplicate_override_reason=duplicate_override_reason.strip() or None,
    )
    case.number = _next_case_number(by.municipality)
    refresh_next_due(case)
    case.full_clean(exclude=["number"])
    built = [_person_build(case, person) for person in people]
    case.save()
    for person in built:
        person.save()
    CaseNeed.objects.bulk_create(CaseNeed(case=case, need=need) for need in sorted(set(needs)))
    StageTransition.objects.create(
        case=case, action="register", from_stage="", to_stage=Stage.REGISTERED, by=by
    )
    access.grant_full_access(case, user=owner)
    access.grant_supervisor_access(case)
    return case


# --- Moving through the protocol -----------------------------------------------------


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def _lock(case: Case, version: int | None) -> Case:
    """The case as it is now, locked until the transaction ends; StaleEdit if it moved on."""
    current = Case.objects.select_for_update().get(pk=case.pk)
    if version is not None and current.version != version:
        raise StaleEdit
    return current


def _move(
    *, by: User, case: Case, action_name: str, reason: str = "", target: str | None = None
) -> Case:
    """Take `action_name` on the locked `case`: check, change the stage, log, save."""
    why_not = refusal(by, case, action_name)
    if why_not:
        raise TransitionNotAllowed(why_not)
    action = ACTIONS[action_name]
    if action.needs_reason and not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    if len(reason.strip()) > limits.TEXT:
        raise ValidationError(
            {
                "reason": _("The reason is too long (at most %(limit)d characters).")
                % {"limit": limits.TEXT}
            }
        )
    from_stage = case.stage
    target = target or action.target
    if target is None:
        previous = case.transitions.exclude(to_stage=from_stage).order_by("-at").first()
        target = previous.to_stage if previous else Stage.MONITORING
    case.stage = target
    now = timezone.now()
    if action_name == "approve_plan":
        case.plan_approved_at = now
        Plan.objects.filter(case=case).update(approved_at=now, approved_by=by)
    if action_name == "approve_closure":
        case.closed_at = now
        from .referrals import referrals_close_for_case

        # A closed case is shared with nobody any more.
        referrals_close_for_case(case)
    if action_name == "reopen":
        _restart_clocks(case, target, now)
    case.version += 1
    refresh_next_due(case)
    case.save()
    StageTransition.objects.create(
        case=case,
        action=action_name,
        from_stage=from_stage,
        to_stage=target,
        by=by,
        at=now,
        reason=reason.strip() or None,
    )
    _notify_decision(case, action_name, by)
    return case


def _restart_clocks(case: Case, target: str, now: datetime) -> None:
    """A reopened case is open again and takes again the steps from `target` on: the dates
    of those steps are cleared (their records stay), and their deadlines count from now."""
    case.closed_at = None
    case.closure_reason = ""
    case.reopened_at = now
    if target == Stage.REGISTERED:
        case.assessed_at = None
    if target in (Stage.REGISTERED, Stage.ASSESSED):
        case.conference_at = None
        case.plan_approved_at = None
        case.last_review_at = None
        # The plan is kept to be revised; it waits for a new approval.
        Plan.objects.filter(case=case).update(approved_at=None, approved_by=None)


@transaction.atomic
def case_reopen(*, by: User, case: Case, version: int, reason: str) -> Case:
    """Reopen a closed case, with a reason: it keeps its number, history and people, and
    returns to the stage its municipality's ReopenSetting names (a new initial
    assessment by default), with its deadlines counted from now.

    Only a supervisor of the case reopens (access.may_reopen); the worker in charge
    keeps the access they held, and the case may be referred again.
    """
    case = _lock(case, version)
    return _move(by=by, case=case, action_name="reopen", reason=reason, target=reopen_stage(case))


# Who hears of a step: a submission goes to those who may decide it, a decision to the
# worker in charge.
DECISION_NOTIFICATIONS = {
    "submit_plan": NotificationKind.PLAN_SUBMITTED,
    "propose_closure": NotificationKind.CLOSURE_PROPOSED,
    "approve_plan": NotificationKind.PLAN_APPROVED,
    "return_plan": NotificationKind.PLAN_RETURNED,
    "approve_closure": NotificationKind.CLOSURE_APPROVED,
    "reject_closure": NotificationKind.CLOSURE_REFUSED,
    "reopen": NotificationKind.CASE_REOPENED,
}


# A decision answers the submission that asked for it.
SETTLES = {
    "approve_plan": NotificationKind.PLAN_SUBMITTED,
    "return_plan": NotificationKind.PLAN_SUBMITTED,
    "approve_closure": NotificationKind.CLOSURE_PROPOSED,
    "reject_closure": NotificationKind.CLOSURE_PROPOSED,
}


def _notify_decision(case: Case, action_name: str, by: User) -> None:
    """Tell the supervisors who may decide that something waits for them, or the worker in
    charge what was decided; the case number and the kind only (the e-mail goes after the
    commit, so a refused save tells nobody)."""
    kind = DECISION_NOTIFICATIONS.get(action_name)
    if kind is None:
        return
    submitted = action_name in ("submit_plan", "propose_closure")
    settled = SETTLES.get(action_name)
    if settled:
        requests_settled(case_number=case.number, kinds=[settled])
    # After the transition is written: approvers() leaves out who submitted it.
    users = access.approvers(case) if submitted else [case.owner]
    notify(
        # Nobody is told of their own step (a coordinator reopening her own case).
        users=[user for user in users if user.pk != by.pk],
        kind=kind,
        case_number=case.number,
        target_url=case.get_absolute_url(),
    )


@transaction.atomic
def case_advance(*, by: User, case: Case, version: int, action: str, reason: str = "") -> Case:
    """Take a protocol action that needs no record of its own (approve, submit, refuse)."""
    case = _lock(case, version)
    if ACTIONS.get(action) and ACTIONS[action].recorded_by_form:
        raise TransitionNotAllowed(_("This step is recorded with its own form."))
    return _move(by=by, case=case, action_name=action, reason=reason)


@transaction.atomic
def assessment_record(
    *,
    by: User,
    case: Case,
    version: int,
    risk_level: str,
    findings: str,
    home_visit: bool,
    assessed_at: datetime | None = None,
) -> Assessment:
    """Record the initial (or risk) assessment and move the case on; sets its risk level."""
    case = _lock(case, version)
    why_not = refusal(by, case, "assess")
    if why_not:
        raise TransitionNotAllowed(why_not)
    assessment = Assessment(
        case=case,
        risk_level=risk_level,
        findings=findings,
        home_visit=home_visit,
        assessed_at=assessed_at or timezone.now(),
        recorded_by=by,
    )
    assessment.full_clean()
    if assessment.assessed_at > timezone.now():
        raise ValidationError({"assessed_at": _("The assessment cannot be in the future.")})
    if case.reopened_at and assessment.assessed_at < case.reopened_at:
        raise ValidationError(
            {
                "assessed_at": _(
                    "Case %(number)s was reopened on %(date)s: its new assessment comes after."
                )
                % {"number": case.number, "date": _local(case.reopened_at)}
            }
        )
    assessment.save()
    case.risk_level = risk_level
    case.assessed_at = assessment.assessed_at
    _move(by=by, case=case, action_name="assess")
    return assessment


@transaction.atomic
def conference_record(
    *,
    by: User,
    case: Case,
    version: int,
    held_at: datetime,
    institutions: list[Institution],
    people_present: str,
    minutes: str,
    decisions: str,
) -> CaseConference:
    """Record a case conference (GTN / ETN); the first after the assessment moves the case on."""
    case = _lock(case, version)
    if not access.can_change_case(by, case):
        raise TransitionNotAllowed(_("You cannot change this case."))
    if case.assessed_at is None:
        raise TransitionNotAllowed(_("The case conference comes after the initial assessment."))
    if held_at > timezone.now():
        raise ValidationError({"held_at": _("Record a case conference once it has been held.")})
    if held_at < case.assessed_at:
        raise ValidationError(
            {
                "held_at": _(
                    "The case conference comes after the assessment of case %(number)s, "
                    "made on %(date)s."
                )
                % {"number": case.number, "date": _local(case.assessed_at)}
            }
        )
    if case.stage == Stage.ASSESSED and case.reopened_at and held_at < case.reopened_at:
        raise ValidationError(
            {
                "held_at": _(
                    "Case %(number)s was reopened on %(date)s: its new case conference comes after."
                )
                % {"number": case.number, "date": _local(case.reopened_at)}
            }
        )
    conference = CaseConference(
        case=case,
        held_at=held_at,
        people_present=people_present or None,
        minutes=minutes,
        decisions=decisions,
        recorded_by=by,
    )
    conference.full_clean()
    conference.save()
    conference.institutions_present.set(
        [i for i in institutions if i.municipality_id == case.municipality_id]
    )
    if case.stage == Stage.ASSESSED:
        case.conference_at = held_at
        _move(by=by, case=case, action_name="hold_conference")
    else:
        case.version += 1
        case.save()
    return conference


@transaction.atomic
def plan_save(*, by: User, case: Case, version: int, goals: str, drafted_with_family: bool) -> Plan:
    """Write the plan's goals. Refuses before the assessment and the case conference."""
    case = _lock(case, version)
    if not access.can_change_case(by, case):
        raise TransitionNotAllowed(_("You cannot change this case."))
    if case.stage not in (Stage.CONFERENCE_HELD, Stage.MONITORING):
        raise TransitionNotAllowed(
            _("The plan is written after the initial assessment and the case conference.")
        )
    plan = getattr(case, "plan", None) or Plan(case=case)
    plan.goals = goals
    plan.drafted_with_family = drafted_with_family
    plan.version += 0 if plan._state.adding else 1
    plan.full_clean()
    plan.save()
    case.version += 1
    case.save()
    return plan


@transaction.atomic
def plan_action_add(
    *,
    by: User,
    case: Case,
    version: int,
    description: str,
    institution: Institution | None,
    due_date: date,
) -> PlanAction:
    case = _lock(case, version)
    if not access.can_change_case(by, case):
        raise TransitionNotAllowed(_("You cannot change this case."))
    plan = getattr(case, "plan", None)
    if plan is None or case.stage not in (Stage.CONFERENCE_HELD, Stage.MONITORING):
        raise TransitionNotAllowed(_("Write the plan's goals first."))
    if institution is not None and institution.municipality_id != case.municipality_id:
        raise ValidationError(
            {"institution": _("The institution belongs to another municipality.")}
        )
    action = PlanAction(
        plan=plan, description=description, institution=institution, due_date=due_date
    )
    action.full_clean()
    action.save()
    case.version += 1
    case.save()
    return action


@transaction.atomic
def plan_action_set_status(*, by: User, action: PlanAction, status: str) -> PlanAction:
    case = _lock(action.plan.case, None)
    if not access.can_change_case(by, case):
        raise TransitionNotAllowed(_("You cannot change this case."))
    action = PlanAction.objects.select_for_update().get(pk=action.pk)
    action.status = status
    action.full_clean()
    action.save()
    return action


@transaction.atomic
def review_record(*, by: User, case: Case, version: int, findings: str, risk_level: str) -> Review:
    """Record a review of the plan during monitoring; the next is due after the interval."""
    case = _lock(case, version)
    why_not = refusal(by, case, "review")
    if why_not:
        raise TransitionNotAllowed(why_not)
    review = Review(case=case, findings=findings, risk_level=risk_level, recorded_by=by)
    review.full_clean()
    review.save()
    case.last_review_at = review.held_at
    case.risk_level = risk_level
    _move(by=by, case=case, action_name="review")
    return review


@transaction.atomic
def closure_propose(
    *, by: User, case: Case, version: int, closure_reason: str, explanation: str
) -> Case:
    """Propose to close the case, with a reason; the supervisor approves or refuses."""
    case = _lock(case, version)
    if closure_reason not in ClosureReason.values:
        raise ValidationError({"closure_reason": _("Choose the reason for closure.")})
    case.closure_reason = closure_reason
    return _move(by=by, case=case, action_name="propose_closure", reason=explanation)


@transaction.atomic
def note_add(*, by: User, case: Case, text: str) -> Note:
    if not access.can_change_case(by, case):
        raise TransitionNotAllowed(_("You cannot change this case."))
    note = Note(case=case, text=text, written_by=by)
    note.full_clean()
    note.save()
    return note


@transaction.atomic
def case_reassign(*, by: User, case: Case, version: int, owner: User) -> Case:
    """Give the case to another worker of the municipality; access moves with it.

    Only a supervisor of the case reassigns (the head or coordinator, or the director).
    """
    case = _lock(case, version)
    if not access.is_supervisor(by, case) or not case.is_open:
        raise PermissionDenied
    if not may_work_on(owner, case.kind, case.municipality_id):
        raise ValidationError(
            {"owner": _("The worker in charge must work on this kind of case here.")}
        )
    if owner.pk == case.owner_id:
        return case
    access.revoke_user_access(case, case.owner)
    access.grant_full_access(case, user=owner)
    case.owner = owner
    case.version += 1
    case.save()
    return case


@transaction.atomic
def cases_link(*, by: User, case: Case, other_number: str) -> CaseLink:
    """Link a DV case and the child-protection case of a child of its household.

    The user changes `case`; the other case is named by its number and must be of
    the other kind in the same municipality. The user need not be able to open it:
    the link shows it only to those who can.
    """
    if not access.can_change_case(by, case):
        raise PermissionDenied
    other = Case.objects.filter(
        number=other_number.strip().upper(), municipality_id=case.municipality_id
    ).first()
    if other is None or other.kind == case.kind:
        raise ValidationError(_("No case of the other kind has this number in the municipality."))
    dv_case, child_case = (case, other) if case.kind == CaseKind.DV else (other, case)
    link, _created = CaseLink.objects.get_or_create(
        dv_case=dv_case, child_case=child_case, defaults={"linked_by": by}
    )
    return link
