"""Notices on the case page about emergency access and a pending transfer.

Tags rather than context of the case view, so that the case page need only
include them; what each user may see is decided here, through protocol.access.
"""

from django import template

from .. import access
from ..models import TransferState
from ..services.emergency import emergency_accesses_of_case

register = template.Library()


@register.inclusion_tag("protocol/emergency/case_notice.html", takes_context=True)
def emergency_notice(context, case):
    """To a user reading in an emergency, until when; to those in charge, every opening."""
    user = context["request"].user
    return {
        "mine": access.emergency_access_of(user, case),
        "used": list(emergency_accesses_of_case(by=user, case=case)),
    }


@register.inclusion_tag("protocol/transfers/case_notice.html", takes_context=True)
def transfer_notice(context, case):
    """A transfer awaiting an answer, to those in charge of the case."""
    user = context["request"].user
    pending = None
    if access.has_case_permission(user, case, "change_case"):
        pending = (
            case.transfers.filter(state=TransferState.REQUESTED)
            .select_related("to_municipality")
            .first()
        )
    return {"pending": pending}
