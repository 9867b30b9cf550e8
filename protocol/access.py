"""The one place that decides who may see or change a case and each of its parts.

Views, selectors, downloads and the admin ask here; nothing else reads the
permission tables. Permissions are django-guardian object permissions with
direct foreign keys (CaseUserObjectPermission, CaseGroupObjectPermission):

* the worker in charge holds them as a user;
* the supervisors of the case's municipality (heads of the child protection
  unit for child cases, DV coordinators for DV cases, the director of social
  services for both) hold them through the group of their role and
  municipality, so that a newly appointed head sees the existing cases at once;
* members of the referral mechanism hold `view_case` and the permissions of
  the referred parts through their institution's group, granted when a case is
  referred and removed when the referral ends. Because a referral also ends by
  expiring, and the periodic clean-up (expire_referrals) may not have run yet,
  their access is also checked against an open, unexpired referral here;
* a worker or head (child cases) or DV coordinator (DV cases) who opened a case
  outside their scope in an emergency (EmergencyAccess, "break-glass") may read
  it, never change it, until the access expires. No permission rows are
  granted for it: the unexpired row is checked here at each read.

Nobody approves their own work: a plan or a closure is decided by a
supervisor of the case who is neither its worker in charge nor the person who
submitted it (`may_approve`). Where one DV coordinator is both, the decision
falls to another coordinator or to the director of social services.

A platform superuser reads no case: guardian's own checks would answer yes to
everything for a superuser, so superusers are refused here before any
permission is looked up.
"""

from functools import cache

from django.contrib.auth.models import Group, Permission
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role, institution_group_name, role_group_name

from .models import (
    OPEN_REFERRAL_STATES,
    Case,
    CaseGroupObjectPermission,
    CaseKind,
    CaseUserObjectPermission,
    EmergencyAccess,
    Referral,
    Stage,
    StageTransition,
)


class Part:
    """The parts of a case that can be shared separately."""

    IDENTITY = "identity"
    INCIDENTS = "incidents"
    RISK = "risk"
    ORDERS = "orders"
    PLAN = "plan"
    DOCUMENTS = "documents"

    ALL = (IDENTITY, INCIDENTS, RISK, ORDERS, PLAN, DOCUMENTS)

    LABELS = {
        IDENTITY: _("identity and contact"),
        INCIDENTS: _("incidents, narrative and notes"),
        RISK: _("risk assessment"),
        ORDERS: _("protection orders"),
        PLAN: _("plan, conferences and measures"),
        DOCUMENTS: _("documents"),
    }


# What the worker in charge and the supervisors hold on a case.
FULL_ACCESS = ("view_case", "change_case", *(f"view_{part}" for part in Part.ALL))

# Who supervises the cases of each kind in their municipality: they read all
# of them, approve plans and closures, and reassign. The director of social
# services supervises both kinds, so that a head or a coordinator who is also
# the worker in charge has someone to approve their work.
SUPERVISOR_ROLES = {
    CaseKind.CHILD: frozenset({Role.HEAD_OF_CPU, Role.HEAD_OF_SOCIAL_SERVICES}),
    CaseKind.DV: frozenset({Role.DV_COORDINATOR, Role.HEAD_OF_SOCIAL_SERVICES}),
}

# Who asks for and accepts transfers between municipalities: whoever accepts
# becomes the worker in charge, which the director, who takes no case, is not.
TRANSFER_ROLE = {CaseKind.CHILD: Role.HEAD_OF_CPU, CaseKind.DV: Role.DV_COORDINATOR}


def supervisor_groups(case: Case) -> list[Group]:
    """The groups of the supervisors of the case in its municipality (accounts fills them)."""
    groups = []
    for role in sorted(SUPERVISOR_ROLES[case.kind]):
        group, _created = Group.objects.get_or_create(
            name=role_group_name(case.municipality_id, role)
        )
        groups.append(group)
    return groups


def grant_supervisor_access(case: Case) -> None:
    """Give the case's supervisors (through their groups) what its worker holds."""
    for group in supervisor_groups(case):
        grant_full_access(case, group=group)


@cache
def _permission_id(codename: str) -> int:
    return Permission.objects.get(
        content_type__app_label="protocol", content_type__model="case", codename=codename
    ).pk


def forget_permission_ids(**kwargs) -> None:
    _permission_id.cache_clear()


def _may_hold_case_access(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and not user.is_superuser)


def _is_referral_reader(user) -> bool:
    return user.has_role(Role.CCR_MEMBER)


def open_referrals(user) -> QuerySet[Referral]:
    """The open, unexpired referrals to the user's institution (none for other roles)."""
    if not _may_hold_case_access(user) or not _is_referral_reader(user) or not user.institution_id:
        return Referral.objects.none()
    return Referral.objects.filter(
        institution_id=user.institution_id,
        state__in=OPEN_REFERRAL_STATES,
        expires_at__gt=timezone.now(),
    )


def _referral_covers(user, case: Case, codename: str) -> bool:
    if codename == "change_case":
        return False
    referrals = open_referrals(user).filter(case=case)
    if codename == "view_case":
        return referrals.exists()
    part = codename.removeprefix("view_")
    return any(part in referral.parts for referral in referrals)


# Who may open a case outside their scope in an emergency, by kind of case.
EMERGENCY_ROLES = {
    CaseKind.CHILD: frozenset({Role.CHILD_PROTECTION_WORKER, Role.HEAD_OF_CPU}),
    CaseKind.DV: frozenset({Role.DV_COORDINATOR}),
}


def emergency_kinds(user) -> list[str]:
    """The kinds of case `user` may open in an emergency (none for other roles)."""
    if not _may_hold_case_access(user):
        return []
    return [kind for kind, roles in EMERGENCY_ROLES.items() if user.roles & roles]


def _emergency_until(user) -> dict:
    # Loaded once per user object (a request), like the permission checker; the
    # expiry is compared at each check, so an access still ends on time.
    until = getattr(user, "_emergency_access_until", None)
    if until is None:
        until = {}
        rows = EmergencyAccess.objects.filter(user=user, expires_at__gt=timezone.now())
        for case_id, expires_at in rows.values_list("case_id", "expires_at"):
            until[case_id] = max(expires_at, until.get(case_id, expires_at))
        user._emergency_access_until = until
    return until


def forget_emergency_access(user) -> None:
    """Drop what `_emergency_until` loaded for `user` (after an access is opened)."""
    user.__dict__.pop("_emergency_access_until", None)


def _emergency_covers(user, case: Case, codename: str) -> bool:
    if codename == "change_case" or case.kind not in emergency_kinds(user):
        return False
    expires_at = _emergency_until(user).get(case.pk)
    return expires_at is not None and expires_at > timezone.now()


def emergency_access_of(user, case: Case) -> EmergencyAccess | None:
    """The user's unexpired emergency access to the case, if they read it by one.

    None for those who hold the case anyway (its worker, its supervisors): they
    are not reading it in an emergency, even if they once opened it so.
    """
    if case.kind not in emergency_kinds(user) or _has_granted_permission(user, case, "view_case"):
        return None
    return (
        EmergencyAccess.objects.filter(user=user, case=case, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def _has_granted_permission(user, case: Case, codename: str) -> bool:
    if case.pk not in getattr(user, "_case_permission_ids", {}):
        prefetch_permissions(user, [case])
    granted = getattr(user, "_case_permission_ids", {}).get(case.pk, ())
    if _permission_id(codename) not in granted:
        return False
    return not _is_referral_reader(user) or _referral_covers(user, case, codename)


def has_case_permission(user, case: Case, codename: str) -> bool:
    if not _may_hold_case_access(user):
        return False
    return _has_granted_permission(user, case, codename) or _emergency_covers(user, case, codename)


def can_view_case(user, case: Case) -> bool:
    return has_case_permission(user, case, "view_case")


def can_change_case(user, case: Case) -> bool:
    return case.is_open and has_case_permission(user, case, "change_case")


def can_view_part(user, case: Case, part: str) -> bool:
    if part not in Part.ALL:
        raise ValueError(f"unknown part {part!r}")
    return can_view_case(user, case) and has_case_permission(user, case, f"view_{part}")


def is_supervisor(user, case: Case) -> bool:
    """The head of the unit (child cases), a DV coordinator (DV cases) or the director of
    social services (both) of its municipality."""
    return (
        _may_hold_case_access(user)
        and user.municipality_id == case.municipality_id
        and bool(user.roles & SUPERVISOR_ROLES[case.kind])
    )


# What awaits a supervisor's decision at a stage, and the step that submitted it.
SUBMISSIONS = {Stage.PLAN_DRAFTED: "submit_plan", Stage.CLOSURE_PROPOSED: "propose_closure"}


def _submissions(case_or_ref, action) -> QuerySet:
    return StageTransition.objects.filter(case=case_or_ref, action=action).order_by("-at")


def submitted_by_id(case: Case) -> int | None:
    """Who submitted what awaits a decision on the case (its plan, its closure), if anything.

    Read from `case.submitter_id` when the case came through `with_submitter`."""
    submission = SUBMISSIONS.get(case.stage)
    if submission is None:
        return None
    if hasattr(case, "submitter_id"):
        return case.submitter_id
    return _submissions(case, submission).values_list("by_id", flat=True).first()


def with_submitter(cases: QuerySet[Case], *, stage: str) -> QuerySet[Case]:
    """`cases`, all at `stage`, each with `submitter_id` and `submitted_at` (of the latest
    submission), so that a list of them asks may_approve without a query a case."""
    latest = _submissions(OuterRef("pk"), SUBMISSIONS[stage])
    return cases.filter(stage=stage).annotate(
        submitter_id=Subquery(latest.values("by_id")[:1]),
        submitted_at=Subquery(latest.values("at")[:1]),
    )


def _own_work_of(case: Case) -> set[int]:
    return {case.owner_id, submitted_by_id(case)} - {None}


def may_approve(user, case: Case) -> bool:
    """Whether `user` may approve or return the case's plan, or approve or refuse its closure.

    A supervisor of the case who is neither its worker in charge nor the one who
    submitted the plan or proposed the closure: nobody approves their own work.
    """
    return is_supervisor(user, case) and user.pk not in _own_work_of(case)


def approvers(case: Case) -> QuerySet[User]:
    """The active accounts that may decide on what awaits on `case` (for the page that
    says whom to ask)."""
    return (
        User.objects.filter(
            is_active=True,
            is_superuser=False,
            municipality_id=case.municipality_id,
            role_assignments__role__in=SUPERVISOR_ROLES[case.kind],
            # A supervisor's role waiting for a second administrator decides nothing yet.
            role_assignments__approved_at__isnull=False,
        )
        .exclude(pk__in=_own_work_of(case))
        .distinct()
        .order_by("last_name", "first_name")
    )


def may_reopen(user, case: Case) -> bool:
    """Whether `user` may reopen the closed `case`: a supervisor of the case who still holds
    its change permission (a closed case keeps the grants of its worker and supervisors).

    The rule that nobody approves their own work does not apply: reopening decides on
    nobody's submitted work, and a coordinator who is also the worker in charge must be
    able to reopen at once when the violence returns. The reason is recorded.
    """
    return (
        case.stage == Stage.CLOSED
        and is_supervisor(user, case)
        and has_case_permission(user, case, "change_case")
    )


def may_arrange_transfer(user, case: Case) -> bool:
    """The head of the unit (child cases) or a DV coordinator (DV cases) of its municipality."""
    return (
        _may_hold_case_access(user)
        and user.municipality_id == case.municipality_id
        and user.has_role(TRANSFER_ROLE[case.kind])
    )


def _group_ids(user: User) -> QuerySet:
    """The ids of the user's groups, as a subquery (without joining auth_group)."""
    return User.groups.through.objects.filter(user=user).values("group_id")


def visible_cases(user: User) -> QuerySet[Case]:
    """The cases `user` may open, as a queryset to filter further.

    One `pk IN (… UNION …)` of the user's rows, the groups' rows and unexpired
    emergency accesses: the database reads the few thousand case ids a user
    holds from the permission indexes and fetches those cases by primary key.
    (An OR of EXISTS per case made it test every case in the country: 0.5 s for
    a count at national size.)
    """
    if not _may_hold_case_access(user):
        return Case.objects.none()
    view = _permission_id("view_case")
    granted = CaseUserObjectPermission.objects.filter(user=user, permission_id=view).values(
        "content_object_id"
    )
    by_group = CaseGroupObjectPermission.objects.filter(
        group_id__in=_group_ids(user), permission_id=view
    ).values("content_object_id")
    ids = granted.union(by_group)
    if _is_referral_reader(user):
        # A member's access is its institution's grants, and only while a referral is open.
        ids = (
            Case.objects.filter(pk__in=ids)
            .filter(Exists(open_referrals(user).filter(case=OuterRef("pk"))))
            .values("pk")
        )
    kinds = emergency_kinds(user)
    if kinds:
        ids = ids.union(
            EmergencyAccess.objects.filter(
                user=user, expires_at__gt=timezone.now(), case__kind__in=kinds
            ).values("case_id")
        )
    return Case.objects.filter(pk__in=ids)


def prefetch_permissions(user, cases) -> None:
    """Load `user`'s permissions on `cases`, held directly or through a group: one query of ids.

    The permission checks read what this loaded; a case not loaded yet is loaded
    alone at its first check. Only the permission ids are read, not guardian's
    rows with their Permission objects (as its ObjectPermissionChecker does): a
    coordinator's page of 25 cases holds 400 of them, and building them cost
    20 ms a page. Kept on the user object, so for one request, as guardian's
    checker keeps its cache.
    """
    if not (_may_hold_case_access(user) and cases):
        return
    ids = [case.pk for case in cases]
    known = getattr(user, "_case_permission_ids", None)
    if known is None:
        known = user._case_permission_ids = {}
    for pk in ids:
        known[pk] = set()
    by_user = CaseUserObjectPermission.objects.filter(user=user, content_object_id__in=ids)
    by_group = CaseGroupObjectPermission.objects.filter(
        group_id__in=_group_ids(user), content_object_id__in=ids
    )
    columns = ("content_object_id", "permission_id")
    rows = by_user.values_list(*columns).union(by_group.values_list(*columns), all=True)
    for case_id, permission_id in rows:
        known[case_id].add(permission_id)


def grant_full_access(case: Case, *, user=None, group=None) -> None:
    for codename in FULL_ACCESS:
        permission_id = _permission_id(codename)
        if user is not None:
            CaseUserObjectPermission.objects.get_or_create(
                content_object=case, user=user, permission_id=permission_id
            )
        if group is not None:
            CaseGroupObjectPermission.objects.get_or_create(
                content_object=case, group=group, permission_id=permission_id
            )


def revoke_user_access(case: Case, user) -> None:
    CaseUserObjectPermission.objects.filter(content_object=case, user=user).delete()


def institution_group(institution_id: int) -> Group:
    group, _created = Group.objects.get_or_create(name=institution_group_name(institution_id))
    return group


def sync_referral_access(case: Case, institution_id: int) -> None:
    """Make the institution's permissions on the case exactly what its open referrals share."""
    group = institution_group(institution_id)
    referrals = Referral.objects.filter(
        case=case,
        institution_id=institution_id,
        state__in=OPEN_REFERRAL_STATES,
        expires_at__gt=timezone.now(),
    )
    wanted = set()
    for referral in referrals:
        wanted |= {"view_case", *(f"view_{part}" for part in referral.parts)}
    wanted_ids = {_permission_id(codename) for codename in wanted}
    CaseGroupObjectPermission.objects.filter(content_object=case, group=group).exclude(
        permission_id__in=wanted_ids
    ).delete()
    for permission_id in wanted_ids:
        CaseGroupObjectPermission.objects.get_or_create(
            content_object=case, group=group, permission_id=permission_id
        )
