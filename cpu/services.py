"""Changes that only child-protection cases have: their registration and protection measures."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Institution, User
from protocol import access
from protocol.models import Case, CaseKind
from protocol.stages import TransitionNotAllowed

from .models import ProtectionMeasure


@transaction.atomic
def protection_measure_record(
    *,
    by: User,
    case: Case,
    kind: str,
    started_on: date,
    ended_on: date | None,
    court_confirmed_on: date | None,
    court: Institution | None,
    details: str,
) -> ProtectionMeasure:
    """Record a protection measure on an open child case the user may change."""
    if case.kind != CaseKind.CHILD or not access.can_change_case(by, case):
        raise TransitionNotAllowed(_("You cannot change this case."))
    if court is not None and (
        court.municipality_id != case.municipality_id or court.kind != Institution.Kind.COURT
    ):
        raise ValidationError({"court": _("Choose the district court of the municipality.")})
    measure = ProtectionMeasure(
        case=case,
        kind=kind,
        started_on=started_on,
        ended_on=ended_on,
        court_confirmed_on=court_confirmed_on,
        court=court,
        details=details or None,
        decided_by=by,
    )
    measure.full_clean()
    measure.save()
    return measure
