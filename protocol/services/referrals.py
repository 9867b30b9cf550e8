"""Referrals to the coordinated referral mechanism, and the access that follows them.

Access is granted to the institution's group when a case is referred, and
removed when the referral is declined, done, revoked, expires or the case is
closed; protocol.access also checks the referral is open at each read.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Institution, User
from accounts.notifications import Kind as NotificationKind
from accounts.notifications import notify
from accounts.roles import Role
from accounts.selectors import members_of_institutions

from .. import access
from ..auditing import referral_event
from ..models import (
    OPEN_REFERRAL_STATES,
    Case,
    CaseKind,
    LegalBasis,
    Referral,
    ReferralState,
    Urgency,
)
from ..stages import TransitionNotAllowed


def _referral_lock(referral: Referral, version: int | None = None) -> Referral:
    current = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    if version is not None and current.version != version:
        from . import StaleEdit

        raise StaleEdit
    return current


@transaction.atomic
def referral_create(
    *,
    by: User,
    case: Case,
    institution: Institution,
    parts: list[str],
    reason: str,
    urgency: str,
    legal_basis: str,
    due_date: date,
    expires_at: datetime | None = None,
) -> Referral:
    """Refer the case to an institution of its municipality, sharing only `parts`.

    Refuses a user who cannot change the case, an unknown part, and a DV case
    shared without the victim's consent unless a court ordered it.
    """
    if not access.can_change_case(by, case):
        raise PermissionDenied
    errors = {}
    if institution.municipality_id != case.municipality_id or not institution.is_active:
        errors["institution"] = _("Choose an institution of the case's municipality.")
    if not parts or set(parts) - set(access.Part.ALL):
        errors["parts"] = _("Choose what to share.")
    if legal_basis not in LegalBasis.values:
        errors["legal_basis"] = _("Choose the legal basis of the sharing.")
    elif case.kind == CaseKind.DV and legal_basis == LegalBasis.CHILD_AT_RISK:
        errors["legal_basis"] = _(
            "A DV case is shared with the victim's consent, or on a court order."
        )
    if urgency not in Urgency.values:
        errors["urgency"] = _("Choose the urgency.")
    if due_date < timezone.localdate():
        errors["due_date"] = _("The answer cannot be due in the past.")
    now = timezone.now()
    expires_at = expires_at or now + timedelta(days=settings.MBROJTJE_REFERRAL_DAYS)
    if expires_at <= now:
        errors["expires_at"] = _("Access must end after the referral is made.")
    if errors:
        raise ValidationError(errors)
    referral = Referral(
        case=case,
        institution=institution,
        parts=sorted(set(parts)),
        reason=reason.strip(),
        urgency=urgency,
        legal_basis=legal_basis,
        due_date=due_date,
        expires_at=expires_at,
        referred_by=by,
        referred_at=now,
    )
    referral.full_clean()
    referral.save()
    referral_event(referral, "made")
    access.sync_referral_access(case, institution.pk)
    _notify_members(referral, NotificationKind.REFERRAL_NEW)
    return referral


def _notify_members(referral: Referral, kind: str) -> None:
    """The active CCR members of the referral's institution, on the referral's page."""
    notify(
        users=members_of_institutions([referral.institution_id]),
        kind=kind,
        case_number=referral.case.number,
        target_url=referral.get_absolute_url(),
    )


def _notify_workers(referral: Referral, kind: str) -> None:
    """Whoever referred the case and the worker in charge of it, on the case page."""
    notify(
        users=[referral.referred_by, referral.case.owner],
        kind=kind,
        case_number=referral.case.number,
        target_url=referral.case.get_absolute_url() + "#referrals",
    )


def _require_member(by: User, referral: Referral) -> None:
    if not (
        by.is_active
        and by.has_role(Role.CCR_MEMBER)
        and by.institution_id == referral.institution_id
    ):
        raise PermissionDenied


def _end(referral: Referral, state: str) -> None:
    referral.state = state
    referral.closed_at = timezone.now()
    referral.version += 1
    referral.save()
    referral_event(referral, state)
    access.sync_referral_access(referral.case, referral.institution_id)


@transaction.atomic
def referral_answer(
    *, by: User, referral: Referral, version: int, accept: bool, answer: str
) -> Referral:
    """A member accepts or declines a new referral to their institution; a decline needs a
    reason and ends the institution's access."""
    referral = _referral_lock(referral, version)
    _require_member(by, referral)
    if referral.shown_state != ReferralState.NEW:
        raise TransitionNotAllowed(_("This referral has already been answered or has ended."))
    if not accept and not answer.strip():
        raise ValidationError({"answer": _("Give the reason for declining.")})
    referral.answer = answer.strip() or None
    referral.answered_by = by
    referral.answered_at = timezone.now()
    if accept:
        referral.state = ReferralState.ACCEPTED
        referral.version += 1
        referral.save()
        referral_event(referral, "accepted")
    else:
        _end(referral, ReferralState.DECLINED)
    _notify_workers(referral, NotificationKind.REFERRAL_ANSWERED)
    return referral


@transaction.atomic
def referral_record_action(
    *, by: User, referral: Referral, version: int, action_taken: str, done: bool
) -> Referral:
    """What the institution did (e.g. a preliminary order issued, an examination done);
    `done` completes the referral and ends the access."""
    referral = _referral_lock(referral, version)
    _require_member(by, referral)
    if referral.shown_state not in (ReferralState.ACCEPTED, ReferralState.IN_PROGRESS):
        raise TransitionNotAllowed(_("Accept the referral first; an ended one takes no record."))
    if not action_taken.strip():
        raise ValidationError({"action_taken": _("Say what the institution did.")})
    previous = f"{referral.action_taken}\n" if referral.action_taken else ""
    stamp = timezone.localtime().strftime("%d.%m.%Y %H:%M")
    referral.action_taken = f"{previous}{stamp}: {action_taken.strip()}"
    if done:
        _end(referral, ReferralState.DONE)
    else:
        referral.state = ReferralState.IN_PROGRESS
        referral.version += 1
        referral.save()
        referral_event(referral, "action_recorded")
    _notify_workers(referral, NotificationKind.REFERRAL_ACTION)
    return referral


@transaction.atomic
def referral_revoke(*, by: User, referral: Referral, reason: str) -> Referral:
    """The case's worker takes a referral back; the institution loses access at once."""
    referral = _referral_lock(referral)
    if not access.can_change_case(by, referral.case):
        raise PermissionDenied
    if referral.state not in OPEN_REFERRAL_STATES:
        raise TransitionNotAllowed(_("This referral has already ended."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    referral.answer = (f"{referral.answer}\n" if referral.answer else "") + reason.strip()
    _end(referral, ReferralState.REVOKED)
    _notify_members(referral, NotificationKind.REFERRAL_ENDED)
    return referral


def referrals_close_for_case(case: Case) -> int:
    """End every open referral of a case being closed; returns how many."""
    ended = 0
    for referral in Referral.objects.select_for_update().filter(
        case=case, state__in=OPEN_REFERRAL_STATES
    ):
        _end(referral, ReferralState.REVOKED)
        _notify_members(referral, NotificationKind.REFERRAL_ENDED)
        ended += 1
    return ended


def referrals_expire(*, now: datetime | None = None) -> int:
    """Mark open referrals past their expiry as expired and remove their access."""
    now = now or timezone.now()
    expired = 0
    for referral in Referral.objects.filter(
        state__in=OPEN_REFERRAL_STATES, expires_at__lte=now
    ).select_related("case"):
        with transaction.atomic():
            locked = _referral_lock(referral)
            if locked.state in OPEN_REFERRAL_STATES and locked.expires_at <= now:
                _end(locked, ReferralState.EXPIRED)
                _notify_members(locked, NotificationKind.REFERRAL_ENDED)
                expired += 1
    return expired
