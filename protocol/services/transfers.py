"""Transfers of a case to another municipality, and the access that moves with it.

The supervisor of the case (head of the child protection unit, or DV
coordinator) asks; a supervisor of the same kind in the receiving municipality
accepts or refuses. The director of social services takes no part: whoever
accepts becomes the worker in charge (access.TRANSFER_ROLE). On acceptance the
case keeps its number (people know it), belongs to the receiving municipality,
and only its new owner and the receiving supervisors hold access; the referrals
of the sending municipality end.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Municipality, User

from .. import access
from ..deadlines import refresh_next_due
from ..models import (
    Case,
    CaseGroupObjectPermission,
    CaseTransfer,
    CaseUserObjectPermission,
    TransferState,
)
from ..stages import TransitionNotAllowed
from . import _lock
from .referrals import referrals_close_for_case


def may_answer_transfer(user: User, transfer: CaseTransfer) -> bool:
    """A supervisor of the case's kind in the receiving municipality."""
    return (
        user.is_active
        and not user.is_superuser
        and user.municipality_id == transfer.to_municipality_id
        and user.has_role(access.TRANSFER_ROLE[transfer.case.kind])
    )


def transfers_incoming(user: User):
    """The transfers awaiting an answer from `user`: to their municipality, of the kinds
    they supervise (none for other roles)."""
    kinds = [kind for kind, role in access.TRANSFER_ROLE.items() if user.has_role(role)]
    if not kinds or user.municipality_id is None or not user.is_active or user.is_superuser:
        return CaseTransfer.objects.none()
    return CaseTransfer.objects.filter(
        to_municipality_id=user.municipality_id,
        case__kind__in=kinds,
        state=TransferState.REQUESTED,
    ).select_related("case", "from_municipality")


def _transfer_lock(transfer: CaseTransfer) -> CaseTransfer:
    return CaseTransfer.objects.select_for_update().select_related("case").get(pk=transfer.pk)


@transaction.atomic
def transfer_request(
    *, by: User, case: Case, version: int, to_municipality: Municipality, reason: str
) -> CaseTransfer:
    """Ask to move an open case to another municipality.

    Only the case's supervisor asks; refuses the case's own municipality and a
    second request while one awaits an answer.
    """
    case = _lock(case, version)
    if not access.may_arrange_transfer(by, case) or not case.is_open:
        raise PermissionDenied
    errors = {}
    if to_municipality.pk == case.municipality_id:
        errors["to_municipality"] = _("Choose another municipality than the case's own.")
    if not reason.strip():
        errors["reason"] = _("Give the reason for the transfer.")
    if errors:
        raise ValidationError(errors)
    if CaseTransfer.objects.filter(case=case, state=TransferState.REQUESTED).exists():
        raise TransitionNotAllowed(_("A transfer of this case already awaits an answer."))
    transfer = CaseTransfer(
        case=case,
        from_municipality_id=case.municipality_id,
        to_municipality=to_municipality,
        reason=reason.strip(),
        requested_by=by,
    )
    transfer.full_clean()
    transfer.save()
    return transfer


@transaction.atomic
def transfer_cancel(*, by: User, transfer: CaseTransfer) -> CaseTransfer:
    """The sending supervisor withdraws a request that has not been answered."""
    transfer = _transfer_lock(transfer)
    if not access.may_arrange_transfer(by, transfer.case):
        raise PermissionDenied
    if not transfer.is_open:
        raise TransitionNotAllowed(_("This transfer has already been answered."))
    transfer.state = TransferState.CANCELLED
    transfer.answered_by = by
    transfer.answered_at = timezone.now()
    transfer.save()
    return transfer


def _move_case(*, by: User, case: Case, transfer: CaseTransfer) -> None:
    """Give the locked `case` to the receiving municipality with `by` as its owner."""
    old_groups = access.supervisor_groups(case)
    # Institutions of the sending municipality lose their access with their referrals.
    referrals_close_for_case(case)
    CaseUserObjectPermission.objects.filter(content_object=case).delete()
    CaseGroupObjectPermission.objects.filter(content_object=case, group__in=old_groups).delete()
    case.municipality_id = transfer.to_municipality_id
    case.administrative_unit = None
    case.owner = by
    case.version += 1
    # Deadlines may be set differently in the receiving municipality.
    refresh_next_due(case)
    case._change_reason = f"transfer {transfer.pk}"
    case.save()
    access.grant_full_access(case, user=by)
    access.grant_supervisor_access(case)


@transaction.atomic
def transfer_answer(*, by: User, transfer: CaseTransfer, accept: bool, answer: str) -> CaseTransfer:
    """The receiving supervisor accepts (the case and its access move) or refuses
    (a reason is needed; nothing else changes).

    Refuses anyone but a supervisor of the case's kind in the receiving
    municipality, an answered request, and a case closed in the meantime.
    """
    transfer = _transfer_lock(transfer)
    if not may_answer_transfer(by, transfer):
        raise PermissionDenied
    if not transfer.is_open:
        raise TransitionNotAllowed(_("This transfer has already been answered or cancelled."))
    if not accept and not answer.strip():
        raise ValidationError({"answer": _("Give the reason for refusing.")})
    if accept:
        case = _lock(transfer.case, None)
        if not case.is_open or case.municipality_id != transfer.from_municipality_id:
            raise TransitionNotAllowed(_("The case can no longer be transferred."))
        _move_case(by=by, case=case, transfer=transfer)
    transfer.state = TransferState.ACCEPTED if accept else TransferState.REFUSED
    transfer.answer = answer.strip() or None
    transfer.answered_by = by
    transfer.answered_at = timezone.now()
    transfer.save()
    return transfer
