"""Everything that changes accounts: signing in, second factors, account management."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import as_user
from audit.models import Action, FlagKind
from audit.services import record
from encryption.blind_index import blind_index

from . import notifications
from .models import (
    BACKUP_CODE_PURPOSE,
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


class AccountLocked(Exception):
    """Too many wrong passwords or codes: the account waits until `until`."""

    def __init__(self, until: datetime):
        self.until = until
        local = timezone.localtime(until)
        super().__init__(
            _(
                "Too many wrong attempts. The account is locked until %(time)s. Try again "
                "later or ask the administrator of your municipality to unlock it."
            )
            % {"time": local.strftime("%H:%M")}
        )


class SecondFactorThrottled(Exception):
    """Wrong codes in a row: the devices wait a few seconds before the next try."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        super().__init__(
            _("Too many wrong codes in a row: wait %(seconds)d seconds and try again.")
            % {"seconds": seconds}
        )


class StaleEdit(Exception):
    """Someone else saved this record after the form was opened."""


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
    """The user whose password this is, or None; refuses a locked account without checking."""
    user = User.objects.filter(username=username).first()
    if user is not None and user.is_locked():
        _account_event(Action.SIGN_IN_FAILED, user, reason="locked")
        raise AccountLocked(user.locked_until)
    authenticated = authenticate(request, username=username, password=password)
    if authenticated is None:
        # Which username was typed is not kept: it may be a password typed in the wrong box.
        _account_event(
            Action.SIGN_IN_FAILED, user, reason="password" if user else "unknown_account"
        )
        if user is not None and user.is_active:
            _count_failure(user)
        return None
    signed_in(user=authenticated, factor="password")
    return authenticated


def second_factor_verify(*, user: User, token: str):
    """The confirmed device that accepts `token` (authenticator code or backup code), or None.

    A wrong code counts towards the lock-out like a wrong password.
    """
    if user.is_locked():
        raise AccountLocked(user.locked_until)
    token = (token or "").strip()
    candidates = []
    if token.replace(" ", "").isdigit():
        candidates = list(AuthenticatorDevice.objects.filter(user=user, confirmed=True))
    elif normalise_backup_code(token):
        candidates = list(BackupCodeDevice.objects.filter(user=user, confirmed=True))
    try:
        _refuse_while_throttled(candidates)
    except SecondFactorThrottled:
        # A try while the devices wait still counts towards the lock-out.
        _account_event(Action.SECOND_FACTOR_FAILED, user, reason="throttled")
        _count_failure(user)
        raise
    for device in candidates:
        if device.verify_token(token):
            User.objects.filter(pk=user.pk).update(failed_sign_in_count=0)
            signed_in(user=user, factor=type(device).__name__)
            return device
    _account_event(Action.SECOND_FACTOR_FAILED, user)
    _count_failure(user)
    return None


def _refuse_while_throttled(devices) -> None:
    # django-otp makes a device wait longer after each wrong code; say so rather
    # than calling a right code wrong.
    for device in devices:
        allowed, details = device.verify_is_allowed()
        if not allowed and details.get("locked_until"):
            seconds = (details["locked_until"] - timezone.now()).total_seconds()
            raise SecondFactorThrottled(max(1, int(seconds + 0.999)))


def _count_failure(user: User) -> None:
    # update() on purpose: counters are not history, and two failures at once
    # must both count.
    User.objects.filter(pk=user.pk).update(failed_sign_in_count=F("failed_sign_in_count") + 1)
    user.refresh_from_db(fields=["failed_sign_in_count", "locked_until"])
    if user.failed_sign_in_count >= settings.MBROJTJE_LOCKOUT_THRESHOLD:
        until = timezone.now() + timedelta(minutes=settings.MBROJTJE_LOCKOUT_MINUTES)
        User.objects.filter(pk=user.pk).update(failed_sign_in_count=0, locked_until=until)
        _account_event(Action.LOCKED_OUT, user, until=until.isoformat())
        raise AccountLocked(until)


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
    municipal administrator comes first). A wrong code counts towards the lock-out.
    """
    if user.is_locked():
        raise AccountLocked(user.locked_until)
    if AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        raise PermissionDenied
    device = authenticator_pending(user=user)
    _refuse_while_throttled([device])
    # Verified outside the transaction below, so that a wrong code is still
    # counted when the error rolls the transaction back.
    if not device.verify_token(token):
        _account_event(Action.SECOND_FACTOR_FAILED, user, reason="enrolment")
        _count_failure(user)
        raise ValidationError(
            _("The code is not right. Check the time on your phone and type the newest code.")
        )
    with transaction.atomic():
        device.confirmed = True
        device.save()
        AuthenticatorDevice.objects.filter(user=user, confirmed=False).delete()
        User.objects.filter(pk=user.pk).update(failed_sign_in_count=0)
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


def _temporary_password() -> str:
    # 21 characters from a 31-letter alphabet (about 100 bits), easy to read aloud.
    return "-".join(new_backup_code() for _ in range(2)) + secrets.choice("23456789")


@dataclass(frozen=True)
class NewAccount:
    user: User
    temporary_password: str


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
    """Create an account in the administrator's municipality with a temporary password.

    Its roles that need confirmation wait for a second person's approval, and so
    does its address. The new user must replace the password and enrol an
    authenticator at first sign-in.
    """
    _require_manager_of(by)
    _validate_roles(by=by, roles=roles, institution=institution)
    return _account_insert(
        by=by,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
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
    the application can create these roles. The role and the address are in
    force at once: the IT unit on the server is the second person.
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
        municipality=municipality,
        institution=None,
        roles={role},
    )


def _account_insert(
    *, by, username, first_name, last_name, email, municipality, institution, roles
):
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    password = _temporary_password()
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        municipality=municipality,
        institution=institution,
        must_change_password=True,
    )
    if not _needs_confirmation(by, roles):
        user.email_confirmed_at = timezone.now()
    user.set_password(password)
    user.full_clean()
    user.save()
    requested, _removed = _set_roles(by=by, user=user, roles=roles)
    _administered(by, user, "created", roles=sorted(roles), waiting=sorted(requested))
    if requested:
        _request_announced(by=by, account=user)
    return NewAccount(user=user, temporary_password=password)


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
    account.institution = institution
    account.version += 1
    account.full_clean()
    account.save()
    requested, removed = _set_roles(by=by, user=account, roles=roles)  # also moves the group
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


def _set_roles(*, by: User | None, user: User, roles: set[str]) -> tuple[set[str], set[str]]:
    """Make `roles` the account's roles, in force or waiting; returns (waiting, removed).

    A removed role ends at once, whether in force or waiting: taking access away
    needs nobody's confirmation. A new role waits for approval when it needs
    confirmation and an administrator grants it.
    """
    current = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    removed = current - roles
    for assignment in RoleAssignment.objects.filter(user=user, role__in=removed):
        assignment.delete()
    waiting = set()
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
    if account.is_superuser or not (
        by.is_platform_administrator
        or (
            by.is_active
            and by.has_role(Role.MUNICIPAL_ADMINISTRATOR)
            and by.municipality_id is not None
            and by.municipality_id == account.municipality_id
        )
    ):
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
    _administered(
        by,
        account,
        "requests_approved",
        flags=(FlagKind.CASE_ROLE_GRANTED,) if set(roles) & CASE_ROLES else (),
        roles=roles,
        requested_by=sorted(pk for pk in requested_by if pk is not None),
        **({"email": address} if address else {}),
    )
    notifications.notify(
        users=[account],
        kind=Notification.Kind.ROLE_APPROVED,
        case_number="",
        target_url=reverse("accounts:profile"),
    )
    if address_confirmed:
        _address_confirmed(by=by, account=account)
    return account


def _address_confirmed(*, by: User, account: User) -> None:
    """The account's address has just been confirmed by a second person.

    The activation link is sent here once the activation branch lands: to an
    account never activated, `activation_link_send(by=by, account=account,
    purpose=...)`. Nothing is sent before the address is confirmed.
    """


@transaction.atomic
def role_requests_refuse(*, by: User, account: User, version: int, reason: str) -> RequestRefusal:
    """Drop everything waiting on the account (its roles and a new address), with a reason
    kept encrypted. Refuses as `role_requests_approve` does, and an empty reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Write why you refuse the request.")})
    account = _locked(account)
    waiting = _require_decider(by=by, account=account, version=version)
    refusal = RequestRefusal(
        account=account,
        refused_by=by,
        roles=[assignment.role for assignment in waiting],
        email_refused=bool(account.email_requested),
        reason=reason,
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
    # The reason stays with the refusal, encrypted: the trail names the refusal only.
    _administered(
        by,
        account,
        "requests_refused",
        roles=refusal.roles,
        refusal=str(refusal.pk),
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
def account_set_active(*, by: User, account: User, active: bool) -> User:
    """Deactivate (the sessions end at their next request) or reactivate an account."""
    account = _locked(account)
    _require_manager_of(by, account)
    account.is_active = active
    account.version += 1
    account.save()
    _administered(by, account, "activated" if active else "deactivated")
    return account


@transaction.atomic
def account_second_factor_reset(*, by: User, account: User) -> None:
    """Remove the account's authenticator and backup codes: it enrols anew at next sign-in.

    Any session verified with the old device stops being verified at once.
    """
    _require_manager_of(by, account)
    AuthenticatorDevice.objects.filter(user=account).delete()
    BackupCodeDevice.objects.filter(user=account).delete()
    _administered(by, account, "second_factor_reset")


@transaction.atomic
def account_password_reset(*, by: User, account: User) -> str:
    """A new temporary password, to be replaced at next sign-in; returned in clear once."""
    account = _locked(account)
    _require_manager_of(by, account)
    password = _temporary_password()
    account.set_password(password)
    account.must_change_password = True
    account.version += 1
    account.save()
    _administered(by, account, "password_reset")
    return password


@transaction.atomic
def account_unlock(*, by: User, account: User) -> None:
    """End a lock-out, and the waiting time of the account's devices."""
    _require_manager_of(by, account)
    User.objects.filter(pk=account.pk).update(locked_until=None, failed_sign_in_count=0)
    for model in (AuthenticatorDevice, BackupCodeDevice):
        model.objects.filter(user=account).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )
    _administered(by, account, "unlocked")


# --- The user's own account ---------------------------------------------------


def password_change(*, user: User, old_password: str, new_password: str) -> None:
    """Replace one's own password; the old one must be given and the new one pass the validators."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": _("The current password is not right.")})
    if old_password == new_password:
        raise ValidationError({"new_password": _("Choose a password different from the old one.")})
    validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save()
    _administered(user, user, "password_changed")
