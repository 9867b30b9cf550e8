"""Meetings of the GTN and the ETN: several cases on one agenda, with invited institutions.

Invitees see the agenda (case numbers) and, on each case, only what was referred
to their institution; the minutes are for those who work on the cases.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Institution, User
from accounts.notifications import Kind as NotificationKind
from accounts.notifications import notify
from accounts.roles import Role
from accounts.selectors import members_of_institutions

from .. import access
from ..models import Case, CaseKind, Meeting, MeetingKind, Stage

KIND_OF_CASES = {MeetingKind.GTN: CaseKind.CHILD, MeetingKind.ETN: CaseKind.DV}
CONVENERS = {
    MeetingKind.GTN: {Role.CHILD_PROTECTION_WORKER, Role.HEAD_OF_CPU},
    MeetingKind.ETN: {Role.DV_COORDINATOR},
}


def may_convene(user: User, kind: str) -> bool:
    return (
        user.is_active and user.municipality_id is not None and bool(user.roles & CONVENERS[kind])
    )


@transaction.atomic
def meeting_convene(
    *,
    by: User,
    kind: str,
    scheduled_at: datetime,
    invited: list[Institution],
    cases: list[Case],
) -> Meeting:
    """Convene a GTN (child cases) or ETN (DV cases) meeting on cases the user works on."""
    if kind not in MeetingKind.values or not may_convene(by, kind):
        raise PermissionDenied
    errors = {}
    if not cases:
        errors["cases"] = _("Put at least one case on the agenda.")
    else:
        refused = _agenda_refusals(by, kind, cases)
        if refused:
            errors["cases"] = refused
    if any(institution.municipality_id != by.municipality_id for institution in invited):
        errors["invited"] = _("Invite institutions of your municipality.")
    if errors:
        raise ValidationError(errors)
    meeting = Meeting(
        municipality_id=by.municipality_id, kind=kind, scheduled_at=scheduled_at, convened_by=by
    )
    meeting.full_clean()
    meeting.save()
    meeting.invited.set(invited)
    meeting.cases.set(cases)
    # The meeting's page, no case number: an invitation may cover several cases.
    notify(
        users=members_of_institutions([institution.pk for institution in invited]),
        kind=NotificationKind.MEETING_INVITED,
        case_number="",
        target_url=meeting.get_absolute_url(),
    )
    return meeting


def _agenda_refusals(by: User, kind: str, cases: list[Case]) -> list[str]:
    """Why each case that cannot be on the agenda of a `kind` meeting is refused, by number."""
    refused = []
    for case in sorted(cases, key=lambda case: case.number):
        if case.kind != KIND_OF_CASES[kind]:
            refused.append(
                _(
                    "Case %(number)s cannot be on the agenda: the %(group)s discusses only "
                    "cases of this kind: %(kind)s."
                )
                % {
                    "number": case.number,
                    "group": MeetingKind(kind).label,
                    "kind": CaseKind(KIND_OF_CASES[kind]).label,
                }
            )
        elif not access.can_change_case(by, case):
            refused.append(
                _(
                    "Case %(number)s cannot be on the agenda: it is closed, or you do not "
                    "work on it."
                )
                % {"number": case.number}
            )
    return refused


def agenda_candidates(user: User, kinds: list[str]) -> QuerySet[Case]:
    """The open cases `user` may put on the agenda of a meeting of one of `kinds`: of the
    kinds those meetings discuss, and that the user works on (can change). The form
    offers only these, so that it never offers a case and then refuses it."""
    readable = list(
        access.visible_cases(user)
        .exclude(stage=Stage.CLOSED)
        .filter(kind__in=[KIND_OF_CASES[kind] for kind in kinds])
    )
    access.prefetch_permissions(user, readable)
    workable = [case.pk for case in readable if access.can_change_case(user, case)]
    return Case.objects.filter(pk__in=workable).order_by("number")


def may_read_minutes(user: User, meeting: Meeting) -> bool:
    """The convener, and whoever may change every case on the agenda."""
    if meeting.convened_by_id == user.pk:
        return True
    cases = list(meeting.cases.all())
    return bool(cases) and all(access.can_change_case(user, case) for case in cases)


@transaction.atomic
def meeting_record(
    *, by: User, meeting: Meeting, version: int, attendance: str, minutes: str, decisions: str
) -> Meeting:
    """Write who attended, the minutes and the decisions; refuses a stale form."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not may_read_minutes(by, meeting):
        raise PermissionDenied
    if meeting.version != version:
        from . import StaleEdit

        raise StaleEdit
    meeting.attendance = attendance.strip() or None
    meeting.minutes = minutes.strip() or None
    meeting.decisions = decisions.strip() or None
    meeting.version += 1
    meeting.save()
    return meeting


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    """Meetings the user convened, has a case on, or whose institution is invited."""
    if not user.is_active or user.municipality_id is None:
        return Meeting.objects.none()
    condition = Q(convened_by=user) | Q(cases__in=access.visible_cases(user))
    if user.has_role(Role.CCR_MEMBER) and user.institution_id:
        condition |= Q(invited__id=user.institution_id)
    return (
        Meeting.objects.filter(municipality_id=user.municipality_id)
        .filter(condition)
        .distinct()
        .order_by("-scheduled_at")
    )
