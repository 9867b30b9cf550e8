"""Reads of accounts, limited to what the reader may see."""

import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from audit.models import Action, AuditEvent
from audit.selectors import is_officer

from .models import (
    ActivationLink,
    AdministrativeAct,
    AuthenticatorDevice,
    Institution,
    RequestRefusal,
    RoleAssignment,
    User,
)
from .roles import Role
from .throttling import delayed_accounts


def accounts_managed_by(user: User) -> QuerySet[User]:
    """The accounts of the administrator's municipality, but their own; none for others."""
    if not user.has_perm("accounts.manage_accounts") or user.municipality_id is None:
        return User.objects.none()
    return (
        User.objects.filter(municipality_id=user.municipality_id, is_superuser=False)
        .exclude(pk=user.pk)
        .select_related("institution", "email_requested_by")
        .prefetch_related("role_assignments")
        .annotate(
            has_authenticator=Exists(
                AuthenticatorDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
            )
        )
        .order_by("username")
    )


def members_of_institutions(institution_ids) -> QuerySet[User]:
    """The active members of the referral mechanism at these institutions whose role is in
    force: a member whose role waits for approval reads nothing, and hears of nothing."""
    return User.objects.filter(
        is_active=True,
        institution_id__in=institution_ids,
        role_assignments__role=Role.CCR_MEMBER,
        role_assignments__approved_at__isnull=False,
    ).distinct()


def institutions_of(user: User) -> QuerySet[Institution]:
    """The active institutions of the user's municipality."""
    if user.municipality_id is None:
        return Institution.objects.none()
    return Institution.objects.filter(municipality_id=user.municipality_id, is_active=True)


def activation_link_latest(account: User) -> ActivationLink | None:
    """The account's newest activation link, for its administrator's page."""
    return account.activation_links.order_by("-created_at").first()


def administrative_act_of_event(user: User, event_pk: int) -> AdministrativeAct | None:
    """The act (with its reason) that an audit event of the officer's municipality
    names; None for anyone but a gender-equality officer of that municipality."""
    if not is_officer(user):
        return None
    event = AuditEvent.objects.filter(
        pk=event_pk,
        action=Action.ACCOUNT_ADMINISTERED,
        municipality_id=user.municipality_id,
    ).first()
    if event is None:
        return None
    act_id = json.loads(event.detail or "{}").get("act")
    if not act_id:
        return None
    return (
        AdministrativeAct.objects.select_related("account", "by")
        .filter(pk=act_id, account__municipality_id=user.municipality_id)
        .first()
    )


def may_approve_requests(user: User) -> bool:
    """A municipal administrator in force, or the national platform administrator."""
    return user.is_platform_administrator or bool(
        user.is_active and user.municipality_id and user.has_role(Role.MUNICIPAL_ADMINISTRATOR)
    )


def accounts_awaiting_approval(user: User) -> QuerySet[User]:
    """The accounts with roles or a new address waiting for approval that `user` may see:
    those of their municipality (but their own) for an administrator, of every
    municipality for the platform administrator; none for anyone else.

    Whether the user may decide (not having requested any of it) is the service's.
    """
    if user.is_platform_administrator:
        accounts = User.objects.filter(is_superuser=False)
    elif may_approve_requests(user):
        accounts = User.objects.filter(
            municipality_id=user.municipality_id, is_superuser=False
        ).exclude(pk=user.pk)
    else:
        return User.objects.none()
    waiting_role = RoleAssignment.objects.filter(user=OuterRef("pk"), approved_at__isnull=True)
    return (
        accounts.filter(Exists(waiting_role) | ~Q(email_requested=""))
        .select_related("municipality", "institution", "email_requested_by")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.select_related("assigned_by").order_by("role"),
            )
        )
        .order_by("municipality__name", "username")
    )


@dataclass(frozen=True)
class WaitingRequest:
    """What waits on one account, as the approval page shows it."""

    account: User
    roles: list[str]
    new_email: str
    requested_by: list[str]
    requested_at: datetime
    may_decide: bool


def approval_queue(user: User) -> tuple[list[WaitingRequest], list[WaitingRequest]]:
    """What `user` may approve, and apart what they requested themselves (waiting for
    someone else), oldest request first; in a fixed number of queries."""
    labels = dict(Role.choices)
    to_decide, own_requests = [], []
    for account in accounts_awaiting_approval(user):
        waiting = [a for a in account.role_assignments.all() if not a.in_force]
        requesters = {a.assigned_by for a in waiting}
        moments = [a.assigned_at for a in waiting]
        if account.email_requested:
            requesters.add(account.email_requested_by)
            moments.append(account.email_requested_at)
        request = WaitingRequest(
            account=account,
            roles=[str(labels[a.role]) for a in waiting],
            new_email=account.email_requested,
            requested_by=sorted(r.username for r in requesters if r is not None),
            requested_at=min(m for m in moments if m is not None),
            may_decide=user.pk not in {r.pk for r in requesters if r is not None},
        )
        (to_decide if request.may_decide else own_requests).append(request)
    by_age = lambda request: request.requested_at  # noqa: E731
    return sorted(to_decide, key=by_age), sorted(own_requests, key=by_age)


def refusals_of(account: User) -> QuerySet[RequestRefusal]:
    """The refused requests of an account the caller may already manage, newest first."""
    return account.request_refusals.select_related("refused_by", "act").order_by("-refused_at")


@dataclass
class AccountsAwaiting:
    """What waits for a municipal administrator: role requests (theirs to decide, and their
    own waiting for a second administrator), activation links not used yet, and accounts
    whose sign-in is delayed after failed attempts."""

    to_decide: list[WaitingRequest]
    own_requests: list[WaitingRequest]
    not_activated: list[ActivationLink]
    locked: list[User]


def accounts_awaiting_action(user: User) -> AccountsAwaiting:
    """The administrator's queue (empty for anyone who manages no accounts)."""
    to_decide, own_requests = approval_queue(user)
    managed = accounts_managed_by(user)
    not_activated = (
        ActivationLink.objects.filter(
            account__in=managed.values("pk"),
            account__is_active=True,
            used_at__isnull=True,
            withdrawn_at__isnull=True,
        )
        .select_related("account")
        .order_by("created_at")
    )
    usernames = list(managed.filter(is_active=True).values_list("username", flat=True))
    locked = delayed_accounts(usernames)
    return AccountsAwaiting(
        to_decide=to_decide,
        own_requests=own_requests,
        not_activated=list(not_activated[:50]),
        locked=list(managed.filter(username__in=locked)) if locked else [],
    )
