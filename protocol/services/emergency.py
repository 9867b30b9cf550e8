"""Emergency ("break-glass") access to a case outside one's scope, and its review.

A child-protection worker or head of unit (child cases) or a DV coordinator (DV
cases), of any municipality, may open a case they cannot see by writing why:
a child from another municipality found at night, say. The access is read
only, lasts MBROJTJE_EMERGENCY_ACCESS_HOURS, and every opening waits for review
by the gender-equality officer of the case's municipality.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role

from .. import access
from ..auditing import emergency_access_opened
from ..models import Case, EmergencyAccess
from ..stages import TransitionNotAllowed

MIN_JUSTIFICATION_LENGTH = 20


class AccessNotNeeded(Exception):
    """The user can already open the case; no emergency access was recorded."""

    def __init__(self, case: Case):
        self.case = case
        super().__init__(_("You can already open this case: no emergency access is needed."))


def may_open_emergency_access(user: User) -> bool:
    return bool(access.emergency_kinds(user))


def access_hours() -> int:
    hours = settings.MBROJTJE_EMERGENCY_ACCESS_HOURS
    if hours < 1:
        raise ImproperlyConfigured("MBROJTJE_EMERGENCY_ACCESS_HOURS must be at least 1.")
    return hours


@transaction.atomic
def emergency_access_open(*, by: User, case_number: str, justification: str) -> EmergencyAccess:
    """Open a case outside the user's scope, read only, for a few hours.

    Refuses roles that may not (PermissionDenied), a justification shorter than
    MIN_JUSTIFICATION_LENGTH characters, a number of no case of a kind the user
    works on, a case already open to the user (AccessNotNeeded), and a second
    opening while one is running.
    """
    kinds = access.emergency_kinds(by)
    if not kinds:
        raise PermissionDenied
    errors = {}
    justification = justification.strip()
    if len(justification) < MIN_JUSTIFICATION_LENGTH:
        errors["justification"] = _("Explain the emergency in at least %(count)d characters.") % {
            "count": MIN_JUSTIFICATION_LENGTH
        }
    # Case numbers are not secret; a case of a kind the user does not work on is
    # answered like an unknown number, so the kind of a case is not revealed.
    case = Case.objects.filter(number=case_number.strip().upper(), kind__in=kinds).first()
    if case is None:
        errors["case_number"] = _("There is no case of the kind you work on with this number.")
    if errors:
        raise ValidationError(errors)
    running = access.emergency_access_of(by, case)
    if running is not None:
        raise TransitionNotAllowed(
            _("You already have emergency access to this case until %(time)s.")
            % {"time": timezone.localtime(running.expires_at).strftime("%H:%M")}
        )
    if access.can_view_case(by, case):
        raise AccessNotNeeded(case)
    now = timezone.now()
    grant = EmergencyAccess(
        case=case,
        municipality_id=case.municipality_id,
        user=by,
        justification=justification,
        opened_at=now,
        expires_at=now + timedelta(hours=access_hours()),
    )
    grant.full_clean()
    grant.save()
    emergency_access_opened(grant)
    access.forget_emergency_access(by)
    return grant


def may_review_emergency_access(user: User, municipality_id: int | None) -> bool:
    return (
        user.is_active
        and user.has_role(Role.GENDER_EQUALITY_OFFICER)
        and user.municipality_id is not None
        and user.municipality_id == municipality_id
    )


def emergency_accesses_for_review(user: User):
    """The emergency accesses to cases of the officer's municipality, those waiting for
    review first (none for other roles). Identifiers and justifications only."""
    if not may_review_emergency_access(user, user.municipality_id):
        return EmergencyAccess.objects.none()
    return (
        EmergencyAccess.objects.filter(municipality_id=user.municipality_id)
        # The case's number and kind, not the case: the officer reads no case contents.
        .annotate(case_number=F("case__number"), case_kind=F("case__kind"))
        .select_related("user", "reviewed_by")
        .order_by(F("reviewed_at").desc(nulls_first=True), "-opened_at")
    )


@transaction.atomic
def emergency_access_review(*, by: User, access: EmergencyAccess, comment: str) -> EmergencyAccess:
    """The gender-equality officer of the case's municipality marks an emergency access
    reviewed, with a comment. Refuses other users and an access already reviewed."""
    grant = EmergencyAccess.objects.select_for_update().get(pk=access.pk)
    if not may_review_emergency_access(by, grant.municipality_id):
        raise PermissionDenied
    if grant.reviewed_at is not None:
        raise TransitionNotAllowed(_("This emergency access has already been reviewed."))
    if not comment.strip():
        raise ValidationError({"review_comment": _("Write the outcome of the review.")})
    grant.reviewed_at = timezone.now()
    grant.reviewed_by = by
    grant.review_comment = comment.strip()
    grant.full_clean()
    grant.save()
    return grant


def emergency_accesses_of_case(*, by: User, case: Case):
    """The emergency openings of a case, for those in charge of it (the worker and the
    supervisors, who hold `change_case`); none for anyone else."""
    if not access.has_case_permission(by, case, "change_case"):
        return EmergencyAccess.objects.none()
    return case.emergency_accesses.select_related("user", "user__municipality")
