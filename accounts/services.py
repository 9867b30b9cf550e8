"""Everything that changes accounts: signing in, second factors, account management."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.context import as_user
from audit.models import Action, FlagKind
from audit.services import record
from encryption import limits
from encryption.blind_index import blind_index

from . import notifications, throttling
from .models import (
    BACKUP_CODE_PURPOSE,
    ActivationLink,
    AdministrativeAct,
    AuthenticatorDevice,
    BackupCode,
    BackupCodeDevice,
    Institution,
    Municipality,
    Notification,
    RequestRefusal,
    RoleAssignment,
    User,
    new_backup_code,
    normalise_backup_code,
)
from .roles import (
    CASE_ROLES,
    MUNICIPAL_GROUP_ROLES,
    ROLES_NEEDING_CONFIRMATION,
    Role,
    institution_group_name,
    role_combination_errors,
    role_group_name,
)
from .selectors import may_approve_requests


class TooManyAttempts(Exception):
    """Failed attempts from this client: the next one waits `seconds`, unchecked until then."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        super().__init__(
            _("Too many failed attempts. Wait %(wait)s and try again.")
            % {"wait": _duration(seconds)}
        )


def _duration(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = (seconds + 59) // 60
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class StaleEdit(Exception):
    """Someone else saved this record after the form was opened."""


class LinkNotSent(Exception):
    """No activation link can go to this account now (no confirmed address, deactivated)."""


logger = logging.getLogger(__name__)


class ApprovalNotAllowed(Exception):
    """This user may not decide on what waits on this account; the message says why."""


# --- Signing in -------------------------------------------------------------


def _account_event(action: str, account: User | None, **detail) -> None:
    """An event about signing in to `account`, whoever is (or is not yet) signed in."""
    record(
        action,
        object_type="accounts.user",
        object_id=account.pk if account else "",
        actor=as_user(account),
        detail=detail,
    )


def _administered(
    by: User | None, account: User, what: str, *, flags: tuple[str, ...] = (), **detail
) -> None:
    """An administrative action on `account`; `by` is None for the server's command line.

    Raises an ACCOUNT_ADMINISTERED flag for the officer when `by` is someone else
    (audit.services); `flags` names more.
    """
    record(
        Action.ACCOUNT_ADMINISTERED,
        actor=as_user(by) if by else None,
        object_type="accounts.user",
        object_id=account.pk,
        municipality_id=account.municipality_id,
        detail={"what": what, **detail},
        flags=flags,
    )


def signed_in(*, user: User, factor: str) -> None:
    """Record a completed sign-in step: the password, then the second factor."""
    _account_event(Action.SIGNED_IN, user, factor=factor)


def signed_out(*, user: User) -> None:
    _account_event(Action.SIGNED_OUT, user)


def sign_in_check_password(*, request, username: str, password: str) -> User | None:
    """The user whose password this is, or None.

    While the client must wait after failures on this name (or on any name),
    refuses with TooManyAttempts without checking the password. A name that
    does not exist takes the same path, the same queries and the same answers
    as one that does (Django's backend runs the hasher for it too).
    """
    keys = throttling.keys_for(username)
    user = User.objects.filter(username=username).first()
    charge = _attempt(keys, Action.SIGN_IN_FAILED, user)
    authenticated = authenticate(request, username=username, password=password)
    if authenticated is None:
        # Which username was typed is not kept: it may be a password typed in the wrong box.
        reason = "password" if user else "unknown_account"
        _failure(charge, Action.SIGN_IN_FAILED, user, reason=reason)
        return None
    # The password alone clears nothing: wrong codes after it keep counting.
    throttling.refund(keys)
    signed_in(user=authenticated, factor="password")
    return authenticated


def _attempt(keys, action: str, user: User | None, **detail) -> throttling.Charge:
    """Count an attempt before checking it; refuse it unchecked while its client waits."""
    charge = throttling.charge(keys)
    if charge.seconds_to_wait:
        _account_event(action, user, reason="throttled", **detail)
        raise TooManyAttempts(charge.seconds_to_wait)
    return charge


def _failure(charge: throttling.Charge, action: str, user: User | None, **detail) -> None:
    """Record a failed attempt (already counted); the event of a delay that starts raises
    the officer's flag of repeated failed sign-ins."""
    _account_event(action, user, **detail)
    for scope in charge.delays_started:
        _account_event(Action.LOCKED_OUT, user, scope=scope)


def password_confirm(*, user: User, password: str) -> None:
    """Check the signed-in user's password again before a sensitive change.

    Refuses with ValidationError (a failure for the throttle) or TooManyAttempts.
    """
    keys = throttling.keys_for(user.get_username())
    charge = _attempt(keys, Action.SIGN_IN_FAILED, user, step="confirmation")
    if not user.check_password(password):
        _failure(charge, Action.SIGN_IN_FAILED, user, reason="password", step="confirmation")
        raise ValidationError({"password": _("The password is not right.")})
    throttling.refund(keys)
    signed_in(user=user, factor="password_confirmation")


def second_factor_verify(*, user: User, token: str):
    """The confirmed device that accepts `token` (authenticator code or backup code), or None.

    A wrong code is a failed attempt like a wrong password, under the same keys;
    django-otp's waiting time of each device applies besides. A right code
    clears this client's failures on the account.
    """
    keys = throttling.keys_for(user.get_username())
    charge = _attempt(keys, Action.SECOND_FACTOR_FAILED, user)
    token = (token or "").strip()
    candidates = []
    if token.replace(" ", "").isdigit():
        candidates = list(AuthenticatorDevice.objects.filter(user=user, confirmed=True))
    elif normalise_backup_code(token):
        candidates = list(BackupCodeDevice.objects.filter(user=user, confirmed=True))
    device_wait = _device_wait(candidates)
    if device_wait:
        # A try while the devices wait still counts.
        _failure(charge, Action.SECOND_FACTOR_FAILED, user, reason="device_throttled")
        raise TooManyAttempts(device_wait)
    for device in candidates:
        if device.verify_token(token):
            throttling.success(keys)
            signed_in(user=user, factor=type(device).__name__)
            return device
    _failure(charge, Action.SECOND_FACTOR_FAILED, user)
    return None


def _device_wait(devices) -> int:
    # django-otp makes a device wait longer after each wrong code; say so rather
    # than calling a right code wrong.
    for device in devices:
        allowed, details = device.verify_is_allowed()
        if not allowed and details.get("locked_until"):
            seconds = (details["locked_until"] - timezone.now()).total_seconds()
            return max(1, int(seconds + 0.999))
    return 0


# --- Second factor ------------------------------------------------------------


def authenticator_pending(*, user: User) -> AuthenticatorDevice:
    """The authenticator being enrolled; the same one across reloads of the page."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = AuthenticatorDevice.create_for(user, confirmed=False)
    return device


def authenticator_confirm(*, user: User, token: str) -> tuple[AuthenticatorDevice, list[str]]:
    """Confirm the pending authenticator with a code from it; returns it and fresh backup codes.

    Refuses when the user already has a confirmed authenticator (a reset by the
    municipal administrator comes first). A wrong code is a failed attempt.
    """
    if AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        raise PermissionDenied
    keys = throttling.keys_for(user.get_username())
    charge = _attempt(keys, Action.SECOND_FACTOR_FAILED, user, step="enrolment")
    device = authenticator_pending(user=user)
    device_wait = _device_wait([device])
    if device_wait:
        _failure(charge, Action.SECOND_FACTOR_FAILED, user, reason="device_throttled")
        raise TooManyAttempts(device_wait)
    # Verified outside the transaction below, so that a wrong code is still
    # counted when the error rolls the transaction back.
    if not device.verify_token(token):
        _failure(charge, Action.SECOND_FACTOR_FAILED, user, reason="enrolment")
        raise ValidationError(
            _("The code is not right. Check the time on your phone and type the newest code.")
        )
    with transaction.atomic():
        device.confirmed = True
        device.save()
        AuthenticatorDevice.objects.filter(user=user, confirmed=False).delete()
        throttling.success(keys)
        signed_in(user=user, factor="enrolment")
        return device, backup_codes_replace(user=user)


@transaction.atomic
def backup_codes_replace(*, user: User) -> list[str]:
    """New single-use backup codes; the old ones stop working. Returns the codes in clear once."""
    BackupCodeDevice.objects.filter(user=user).delete()
    device = BackupCodeDevice.objects.create(user=user, name="backup", confirmed=True)
    codes = [new_backup_code() for _ in range(settings.MBROJTJE_BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(
        BackupCode(
            device=device,
            digest=blind_index(normalise_backup_code(code), purpose=BACKUP_CODE_PURPOSE),
        )
        for code in codes
    )
    _administered(user, user, "backup_codes_replaced")
    return codes


def backup_codes_remaining(*, user: User) -> int:
    return BackupCode.objects.filter(device__user=user, device__confirmed=True).count()


# --- Account management by the municipal administrator -------------------------


def _require_manager_of(by: User, account: User | None = None) -> None:
    """Only a municipal administrator, within their own municipality, never on themselves."""
    if not by.has_perm("accounts.manage_accounts") or by.municipality_id is None:
        raise PermissionDenied
    if account is not None:
        if account.pk == by.pk or account.municipality_id != by.municipality_id:
            raise PermissionDenied
        if account.is_superuser:
            raise PermissionDenied


def _validate_roles(*, by: User, roles: set[str], institution: Institution | None) -> None:
    errors = role_combination_errors(
        roles, has_municipality=True, has_institution=institution is not None
    )
    if Role.NATIONAL_STATISTICIAN in roles:
        errors.append(_("Only the national level creates national accounts."))
    if institution is not None and institution.municipality_id != by.municipality_id:
        errors.append(_("The institution belongs to another municipality."))
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class NewAccount:
    user: User
    # None while the address waits for a second administrator's confirmation.
    activation_link: ActivationLink | None


@transaction.atomic
def account_create(
    *,
    by: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    roles: set[str],
    institution: Institution | None = None,
) -> NewAccount:
    """Create an account in the administrator's municipality, without a password.

    Its roles that need confirmation wait for a second person's approval, and so
    does its address. The person sets a password, and
    enrols an authenticator, through the activation link sent to the address
    once it is confirmed; until then nobody can sign in to it.
    """
    _require_manager_of(by)
    _validate_roles(by=by, roles=roles, institution=institution)
    return _account_insert(
        by=by,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        email_confirmed_at=None,
        municipality=by.municipality,
        institution=institution,
        roles=roles,
    )


@transaction.atomic
def account_create_by_platform(
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    municipality: Municipality | None,
) -> NewAccount:
    """A municipal administrator or national statistician, made by the national IT unit.

    For the server's command line only (`manage.py create_account`): no user of
    the application can create these roles. The national IT unit is the second
    person here, so the address it gives counts as confirmed and the activation
    link goes at once.
    """
    if role not in (Role.MUNICIPAL_ADMINISTRATOR, Role.NATIONAL_STATISTICIAN):
        raise ValidationError(_("Other accounts are created by the municipal administrator."))
    errors = role_combination_errors(
        {role}, has_municipality=municipality is not None, has_institution=False
    )
    if errors:
        raise ValidationError(errors)
    return _account_insert(
        by=None,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        email_confirmed_at=timezone.now(),
        municipality=municipality,
        institution=None,
        roles={role},
    )


def _account_insert(
    *,
    by,
    username,
    first_name,
    last_name,
    email,
    email_confirmed_at,
    municipality,
    institution,
    roles,
) -> NewAccount:
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        email_confirmed_at=email_confirmed_at,
        municipality=municipality,
        institution=institution,
    )
    if not _needs_confirmation(by, roles):
        user.email_confirmed_at = user.email_confirmed_at or timezone.now()
    user.set_unusable_password()
    user.full_clean()
    user.save()
    requested, _removed = _set_roles(by=by, user=user, roles=roles)
    link = None
    if user.email_confirmed_at is not None:
        link = activation_link_send(by=by, account=user, purpose=ActivationLink.Purpose.NEW_ACCOUNT)
    _administered(
        by,
        user,
        "created",
        roles=sorted(roles),
        waiting=sorted(requested),
        activation_link=link.pk if link else None,
    )
    if requested:
        _request_announced(by=by, account=user)
    return NewAccount(user=user, activation_link=link)


@transaction.atomic
def account_update(
    *,
    by: User,
    account: User,
    version: int,
    first_name: str,
    last_name: str,
    email: str,
    roles: set[str],
    institution: Institution | None,
) -> User:
    """Change names, e-mail, roles and institution; refuses an edit based on an older version.

    `roles` are those the account is to hold, in force or waiting: a new role that
    needs confirmation waits for a second person, a removed one ends at once. A
    new address of an account that holds or would hold such a role waits too;
    the old address hears of every change.
    """
    account = _locked(account)
    _require_manager_of(by, account)
    _require_version(account, version)
    _validate_roles(by=by, roles=roles, institution=institution)
    held = account.roles | account.pending_roles
    account.first_name, account.last_name = first_name, last_name
    address = _address_change(by=by, account=account, email=email, roles=held | roles)
    # A member moved to another institution would read that institution's
    # referrals: as much a new grant as a new role, so it waits for approval too.
    moved = account.institution_id != (institution.pk if institution else None)
    account.institution = institution
    account.version += 1
    account.full_clean()
    account.save()
    requested, removed = _set_roles(
        by=by, user=account, roles=roles, again={Role.CCR_MEMBER} if moved else set()
    )  # also moves the group
    _administered(
        by,
        account,
        "updated",
        roles=sorted(roles),
        institution=account.institution_id,
        **({"waiting": sorted(requested)} if requested else {}),
        **({"removed": sorted(removed)} if removed else {}),
        **({"email": address} if address else {}),
    )
    if requested or address == notifications.ADDRESS_CHANGE_REQUESTED:
        _request_announced(by=by, account=account)
    return account


def _require_version(account: User, version: int) -> None:
    if account.version != version:
        raise StaleEdit(
            _(
                "Someone else changed this account while you were editing it. "
                "Nothing was saved: reload the page to see their changes."
            )
        )


def _locked(account: User) -> User:
    # The row as it is now, locked until the transaction ends: saving the copy
    # a view loaded earlier could undo another administrator's edit.
    return User.objects.select_for_update().get(pk=account.pk)


def _needs_confirmation(by: User | None, roles) -> bool:
    """Whether granting `roles` takes a second person. The platform (`by` None: the
    server's command line, seeding) is the second person itself."""
    return by is not None and bool(set(roles) & ROLES_NEEDING_CONFIRMATION)


def _address_change(*, by: User, account: User, email: str, roles: set[str]) -> str:
    """Apply a change of the account's address: at once, or waiting for approval when the
    account holds or would hold a role that needs confirmation (whoever controls the
    address controls the account). Returns what happened, "" when nothing did."""
    if email == account.email or (email == account.email_requested and email):
        return ""
    old_address = account.email
    if _needs_confirmation(by, roles):
        account.email_requested = email
        account.email_requested_by = by
        account.email_requested_at = timezone.now()
        what = notifications.ADDRESS_CHANGE_REQUESTED
    else:
        account.email = email
        account.email_confirmed_at = timezone.now()
        _address_request_cleared(account)
        what = notifications.ADDRESS_CHANGED
    notifications.address_change_announce(account=account, old_address=old_address, what=what)
    return what


def _address_request_cleared(account: User) -> None:
    account.email_requested = ""
    account.email_requested_by = None
    account.email_requested_at = None


def _set_roles(
    *, by: User | None, user: User, roles: set[str], again: set[str] = frozenset()
) -> tuple[set[str], set[str]]:
    """Make `roles` the account's roles, in force or waiting; returns (waiting, removed).

    A removed role ends at once, whether in force or waiting: taking access away
    needs nobody's confirmation. A new role waits for approval when it needs
    confirmation and an administrator grants it; so does a role held already
    that is in `again` (its meaning changed, e.g. a member's institution).
    """
    current = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    removed = current - roles
    for assignment in RoleAssignment.objects.filter(user=user, role__in=removed):
        assignment.delete()
    waiting = set()
    for assignment in RoleAssignment.objects.filter(user=user, role__in=roles & current & again):
        if _needs_confirmation(by, {assignment.role}):
            waiting.add(assignment.role)
            assignment.assigned_by, assignment.assigned_at = by, timezone.now()
            assignment.approved_by = assignment.approved_at = None
            assignment.save()
    for role in sorted(roles - current):
        if _needs_confirmation(by, {role}):
            waiting.add(role)
        RoleAssignment.objects.create(
            user=user,
            role=role,
            assigned_by=by,
            approved_at=None if role in waiting else timezone.now(),
        )
    _roles_changed(user)
    role_groups_sync(user=user)
    return waiting, removed


def _roles_changed(user: User) -> None:
    """Forget what `user` remembered of its roles (cached or prefetched)."""
    user.__dict__.pop("roles", None)
    user.__dict__.pop("pending_roles", None)
    getattr(user, "_prefetched_objects_cache", {}).pop("role_assignments", None)


def role_groups_sync(*, user: User) -> None:
    """Put the account in the groups of its municipal roles, and in no other role group."""
    wanted = set()
    if user.municipality_id is not None:
        wanted = {
            role_group_name(user.municipality_id, role)
            for role in user.roles & MUNICIPAL_GROUP_ROLES
        }
    if user.institution_id is not None and Role.CCR_MEMBER in user.roles:
        wanted.add(institution_group_name(user.institution_id))
    for group in user.groups.filter(
        Q(name__startswith="municipality-") | Q(name__startswith="institution-")
    ):
        if group.name not in wanted:
            user.groups.remove(group)
    for name in wanted:
        group, _created = Group.objects.get_or_create(name=name)
        user.groups.add(group)


def _reason_checked(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Write why you do this.")})
    if len(reason) > limits.REASON:
        raise ValidationError(
            {
                "reason": ngettext(
                    "Write at most %(count)d character.",
                    "Write at most %(count)d characters.",
                    limits.REASON,
                )
                % {"count": limits.REASON}
            }
        )
    return reason


def _act_recorded(*, by: User, account: User, what: str, reason: str) -> AdministrativeAct:
    act = AdministrativeAct(account=account, by=by, what=what, reason=reason)
    act.full_clean()
    act.save()
    return act


# --- The second person: approving what waits on an account -----------------------


def _request_announced(*, by: User, account: User) -> None:
    """Tell the account that something was requested for it, and the administrators who
    may approve it that it waits."""
    notifications.notify(
        users=[account],
        kind=Notification.Kind.ROLE_REQUESTED,
        case_number="",
        target_url=reverse("accounts:profile"),
    )
    notifications.notify(
        users=approvers_of(account).exclude(pk=by.pk),
        kind=Notification.Kind.APPROVAL_WAITING,
        case_number="",
        target_url=reverse("accounts:manage_approvals"),
    )


def approvers_of(account: User):
    """The administrators in force of the account's municipality, but the account itself:
    those who may approve what waits on it (the requester is refused later)."""
    return (
        User.objects.filter(
            municipality_id=account.municipality_id,
            is_active=True,
            role_assignments__role=Role.MUNICIPAL_ADMINISTRATOR,
            role_assignments__approved_at__isnull=False,
        )
        .exclude(pk=account.pk)
        .distinct()
    )


def _waiting_on(account: User) -> list[RoleAssignment]:
    return list(
        RoleAssignment.objects.select_for_update()
        .filter(user=account, approved_at__isnull=True)
        .order_by("role")
    )


def _require_decider(*, by: User, account: User, version: int) -> list[RoleAssignment]:
    """What waits on `account`, locked, if `by` may approve or refuse it; refuses otherwise.

    A municipal administrator in force of the account's municipality, or the
    national platform administrator (an active superuser, who has no
    municipality); never the account itself, never one who requested any of it.
    """
    of_this_municipality = by.is_platform_administrator or (
        by.municipality_id == account.municipality_id
    )
    if account.is_superuser or not (may_approve_requests(by) and of_this_municipality):
        raise PermissionDenied
    if by.pk == account.pk:
        raise ApprovalNotAllowed(_("No one approves what waits on their own account."))
    _require_version(account, version)
    waiting = _waiting_on(account)
    if not waiting and not account.email_requested:
        raise ApprovalNotAllowed(_("Nothing waits for approval on this account."))
    requesters = {assignment.assigned_by_id for assignment in waiting}
    if account.email_requested:
        requesters.add(account.email_requested_by_id)
    if by.pk in requesters:
        raise ApprovalNotAllowed(
            _(
                "You requested this change yourself: another administrator of the "
                "municipality, or the national platform administrator, must approve it."
            )
        )
    return waiting


@transaction.atomic
def role_requests_approve(*, by: User, account: User, version: int) -> User:
    """Put in force everything waiting on the account (its roles and a new address) in one
    act. Refuses anyone but a second person (see `_require_decider`), an account
    with nothing waiting, and a version older than the account's."""
    account = _locked(account)
    waiting = _require_decider(by=by, account=account, version=version)
    now = timezone.now()
    requested_by = {assignment.assigned_by_id for assignment in waiting}
    for assignment in waiting:
        assignment.approved_by, assignment.approved_at = by, now
        assignment.save()
    address = ""
    if account.email_requested:
        requested_by.add(account.email_requested_by_id)
        notifications.address_change_announce(
            account=account, old_address=account.email, what=notifications.ADDRESS_CHANGED
        )
        account.email = account.email_requested
        _address_request_cleared(account)
        address = notifications.ADDRESS_CHANGED
    address_confirmed = bool(address) or account.email_confirmed_at is None
    if address_confirmed:
        account.email_confirmed_at = now
    account.version += 1
    account.full_clean()
    account.save()
    _roles_changed(account)
    role_groups_sync(user=account)
    roles = sorted(assignment.role for assignment in waiting)
    # A new account's link goes with the approval that confirms its address, in the
    # same act (one event for the officer).
    link = activation_send_if_waiting(by=by, account=account) if address_confirmed else None
    _administered(
        by,
        account,
        "requests_approved",
        flags=(FlagKind.CASE_ROLE_GRANTED,) if set(roles) & CASE_ROLES else (),
        roles=roles,
        requested_by=sorted(pk for pk in requested_by if pk is not None),
        **({"email": address} if address else {}),
        **({"activation_link": link.pk} if link else {}),
    )
    notifications.notify(
        users=[account],
        kind=Notification.Kind.ROLE_APPROVED,
        case_number="",
        target_url=reverse("accounts:profile"),
    )
    return account


@transaction.atomic
def role_requests_refuse(*, by: User, account: User, version: int, reason: str) -> RequestRefusal:
    """Drop everything waiting on the account (its roles and a new address), with a reason
    kept encrypted. Refuses as `role_requests_approve` does, and an empty reason."""
    reason = _reason_checked(reason)
    account = _locked(account)
    waiting = _require_decider(by=by, account=account, version=version)
    act = _act_recorded(by=by, account=account, what="requests_refused", reason=reason)
    refusal = RequestRefusal(
        account=account,
        refused_by=by,
        roles=[assignment.role for assignment in waiting],
        email_refused=bool(account.email_requested),
        act=act,
    )
    refusal.full_clean()
    refusal.save()
    for assignment in waiting:
        assignment.delete()
    if refusal.email_refused:
        notifications.address_change_announce(
            account=account,
            old_address=account.email,
            what=notifications.ADDRESS_CHANGE_REFUSED,
        )
        _address_request_cleared(account)
    account.version += 1
    account.full_clean()
    account.save()
    _roles_changed(account)
    # The reason stays with the act, encrypted: the trail names the act only.
    _administered(
        by,
        account,
        "requests_refused",
        roles=refusal.roles,
        act=str(act.pk),
        **({"email": notifications.ADDRESS_CHANGE_REFUSED} if refusal.email_refused else {}),
    )
    notifications.notify(
        users=[account],
        kind=Notification.Kind.ROLE_REFUSED,
        case_number="",
        target_url=reverse("accounts:profile"),
    )
    return refusal


@transaction.atomic
def account_deactivate(*, by: User, account: User, reason: str) -> User:
    """Deactivate an account, for a reason: its sessions end at their next request and
    its unused activation links stop working. Refuses an empty or too long reason."""
    account = _locked(account)
    _require_manager_of(by, account)
    reason = _reason_checked(reason)
    account.is_active = False
    account.version += 1
    account.save()
    _links_withdraw(account)
    act = _act_recorded(by=by, account=account, what="deactivated", reason=reason)
    _administered(by, account, "deactivated", act=str(act.pk))
    return account


@transaction.atomic
def account_reactivate(*, by: User, account: User) -> User:
    """Reactivate an account; it signs in with what it had (a reset is a separate act)."""
    account = _locked(account)
    _require_manager_of(by, account)
    account.is_active = True
    account.version += 1
    account.save()
    _administered(by, account, "activated")
    return account


@transaction.atomic
def account_credentials_reset(*, by: User, account: User, reason: str) -> ActivationLink:
    """Take away the account's password and second factor and send it a reset link, for a
    reason; every session of the account ends at once.

    Refuses (LinkNotSent, nothing changed) when the account has no confirmed address
    or is deactivated, and an empty or too long reason (ValidationError).
    """
    account = _locked(account)
    _require_manager_of(by, account)
    reason = _reason_checked(reason)
    # A new password hash changes the session's authentication hash, so Django
    # ends every session of the account at its next request; deleting the
    # devices also ends the verification django-otp keeps in each session.
    account.set_unusable_password()
    account.version += 1
    account.save()
    AuthenticatorDevice.objects.filter(user=account).delete()
    BackupCodeDevice.objects.filter(user=account).delete()
    link = activation_link_send(by=by, account=account, purpose=ActivationLink.Purpose.RESET)
    act = _act_recorded(by=by, account=account, what="credentials_reset", reason=reason)
    _administered(by, account, "credentials_reset", act=str(act.pk), activation_link=link.pk)
    return link


@transaction.atomic
def account_unlock(*, by: User, account: User) -> None:
    """End the waiting after failed sign-ins on the account, from every client, and the
    waiting time of its devices. The waiting of a client across accounts stays."""
    _require_manager_of(by, account)
    throttling.account_clear(account.get_username())
    for model in (AuthenticatorDevice, BackupCodeDevice):
        model.objects.filter(user=account).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )
    _administered(by, account, "unlocked")


# --- The user's own account ---------------------------------------------------


def password_change(*, user: User, old_password: str, new_password: str) -> None:
    """Replace one's own password; the old one must be given and the new one pass the validators.

    A wrong current password is a failed attempt; while the client waits the
    current password is not checked (TooManyAttempts).
    """
    keys = throttling.keys_for(user.get_username())
    charge = _attempt(keys, Action.SIGN_IN_FAILED, user, step="password_change")
    if not user.check_password(old_password):
        _failure(charge, Action.SIGN_IN_FAILED, user, reason="password", step="password_change")
        raise ValidationError({"old_password": _("The current password is not right.")})
    throttling.refund(keys)
    if old_password == new_password:
        raise ValidationError({"new_password": _("Choose a password different from the old one.")})
    validate_password(new_password, user)
    user.set_password(new_password)
    user.save()
    _administered(user, user, "password_changed")


# --- Activation links ---------------------------------------------------------------


def _token_digest(token: str) -> str:
    # A plain hash suffices: the token has 256 random bits, so a digest read from
    # the database cannot be turned back into a usable link.
    return hashlib.sha256(token.encode()).hexdigest()


def _links_withdraw(account: User) -> None:
    ActivationLink.objects.filter(
        account=account, used_at__isnull=True, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())


def activation_link_send(*, by: User | None, account: User, purpose: str) -> ActivationLink:
    """Make a single-use link for `account` and e-mail it to the account's confirmed
    address, once the transaction commits; older unused links of the account stop working.

    The one path by which anyone is given access to an account. It records no
    event of its own: the act that calls it (creation, reset, approval) does, naming
    the link. Refuses (LinkNotSent, nothing sent) a deactivated account and an
    address that no second person confirmed: a waiting new address is never used.
    """
    if by is not None:
        _require_manager_of(by, account)
    if not account.is_active:
        raise LinkNotSent(_("The account is deactivated: reactivate it first."))
    if not account.email or account.email_confirmed_at is None:
        raise LinkNotSent(
            _(
                "No link was sent: the account's e-mail address has not been confirmed by "
                "a second administrator yet."
            )
        )
    link, token = activation_link_issue(by=by, account=account, purpose=purpose)
    # Sent only once everything is committed: a rolled-back reset sends nothing.
    transaction.on_commit(partial(_activation_email_send, link, token))
    return link


def activation_link_issue(
    *, by: User | None, account: User, purpose: str
) -> tuple[ActivationLink, str]:
    """The new link and its token in clear, not e-mailed. Only activation_link_send, and
    seed_demo for the demo's own account waiting for activation, call it."""
    _links_withdraw(account)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    link = ActivationLink(
        account=account,
        purpose=purpose,
        token_digest=_token_digest(token),
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(hours=settings.MBROJTJE_ACTIVATION_LINK_HOURS),
        sent_to=account.email,
    )
    link.full_clean()
    link.save()
    return link, token


def activation_url(token: str) -> str:
    """The address in the e-mail. The token rides in the query string, which neither
    nginx nor gunicorn logs (docs/security.md)."""
    return f"{settings.MBROJTJE_BASE_URL.rstrip('/')}{reverse('accounts:activate')}?t={token}"


def _activation_email_send(link: ActivationLink, token: str) -> None:
    # The person's language is not known yet: the installation's, with an English line.
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = activation_email_text(link, token)
    try:
        EmailMessage(subject=subject, body=body, to=[link.sent_to]).send()
    except Exception as error:
        # Logged by identifier and error class only: an SMTP error quotes the address.
        # The administrator sees the link as not sent and can send a new one.
        logger.error("Activation link %s could not be e-mailed: %s.", link.pk, type(error).__name__)
        return
    ActivationLink.objects.filter(pk=link.pk).update(sent_at=timezone.now())


def activation_email_text(link: ActivationLink, token: str) -> tuple[str, str]:
    """Subject and body of the e-mail carrying a link: the link, its expiry, nothing personal."""
    expires = timezone.localtime(link.expires_at).strftime("%d.%m.%Y %H:%M")
    subject = _("Mbrojtje: set your password")
    body = _(
        "An account of Mbrojtje is waiting for you. Open this link to choose your "
        "password and set up your authenticator app:\n%(link)s\n\n"
        "The link works once, until %(expires)s.\n\n"
        "If you did not expect this e-mail, do not open the link and tell the "
        "administrator of your municipality.\n\n"
        "Mbrojtje: set your password and authenticator app with the link above, "
        "usable once until %(expires)s. Not expected? Tell your administrator."
    ) % {"link": activation_url(token), "expires": expires}
    return subject, body


def activation_link_resend(*, by: User, account: User) -> ActivationLink:
    """A new link for an account that has no password (never activated, or reset and not
    used in time); the older one stops working. Refuses an account that has a password:
    giving access to it again is a reset, with a reason."""
    with transaction.atomic():
        account = _locked(account)
        _require_manager_of(by, account)
        if account.has_usable_password():
            raise LinkNotSent(_("The account has a password: reset it instead."))
        link = activation_link_send(by=by, account=account, purpose=_waiting_purpose(account))
        _administered(by, account, "activation_link_sent", activation_link=link.pk)
        return link


def _waiting_purpose(account: User) -> str:
    if account.activation_links.filter(purpose=ActivationLink.Purpose.RESET).exists():
        return ActivationLink.Purpose.RESET
    return ActivationLink.Purpose.NEW_ACCOUNT


@transaction.atomic
def activation_send_if_waiting(*, by: User | None, account: User) -> ActivationLink | None:
    """Send the first activation link of a new account, if it waits for one: called when a
    second administrator confirms the account's address. Returns None when the account
    was activated already or has a usable link."""
    account = _locked(account)
    if (
        account.has_usable_password()
        or account.activation_links.filter(used_at__isnull=False).exists()
    ):
        return None
    if any(link.is_usable() for link in account.activation_links.all()):
        return None
    return activation_link_send(by=by, account=account, purpose=ActivationLink.Purpose.NEW_ACCOUNT)


def activation_link_find(token: str) -> ActivationLink | None:
    """The usable link of this token, or None (unknown, used, withdrawn, expired, or its
    account deactivated): the caller cannot tell which, nor can the visitor."""
    if not token or len(token) > 100:
        return None
    return _usable_link(token_digest=_token_digest(token))


def activation_link_get(pk) -> ActivationLink | None:
    """The usable link with this id (kept in the visitor's session), or None."""
    return _usable_link(pk=pk)


def _usable_link(**lookup) -> ActivationLink | None:
    link = (
        ActivationLink.objects.select_related("account", "account__municipality")
        .filter(**lookup)
        .first()
    )
    return link if link is not None and _usable(link) else None


def _usable(link: ActivationLink) -> bool:
    return link.is_usable() and link.account.is_active


class LinkUnusable(Exception):
    """The link was used, withdrawn or expired meanwhile."""


def account_activate(*, link: ActivationLink, password: str) -> User:
    """Use the link once: set the account's own password. The caller then signs the person
    in with the password factor, and they enrol a new authenticator.

    Refuses (LinkUnusable) a link used meanwhile, in another tab or by someone else,
    withdrawn or expired; a password the validators refuse (ValidationError).
    """
    validate_password(password, link.account)
    with transaction.atomic():
        # Locked: of two tabs posting the same link at once, the second waits here
        # and then finds it used.
        link = ActivationLink.objects.select_for_update().get(pk=link.pk)
        account = _locked(link.account)
        link.account = account
        if not _usable(link):
            raise LinkUnusable
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        account.set_password(password)
        account.save()
        throttling.account_clear(account.get_username())
        # Whatever second factor was left (none after a reset) must not outlive the link.
        AuthenticatorDevice.objects.filter(user=account).delete()
        BackupCodeDevice.objects.filter(user=account).delete()
        _administered(account, account, "activated_with_link", activation_link=link.pk)
        return account
