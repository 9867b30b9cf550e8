"""Who has seen a case, for the worker in charge and the case's supervisor (issue 5).

The audit trail answers from identifiers alone; whether this user may ask is
decided here, from the case.
"""

from django.http import Http404
from django.shortcuts import render

from audit.models import Action
from audit.selectors import case_viewers
from audit.services import record

from . import access
from .auditing import case_identifiers
from .selectors import case_for


def case_access_log(request, number):
    """The users who read or changed the case, with the last time and how often; 404 for
    anyone but its worker in charge and its supervisors."""
    case = case_for(request.user, number)
    if not (case.owner_id == request.user.pk or access.is_supervisor(request.user, case)):
        raise Http404
    record(
        Action.AUDIT_VIEWED,
        object_type="audit.case",
        **case_identifiers(case),
    )
    return render(
        request,
        "protocol/case_access_log.html",
        {"case": case, "viewers": case_viewers(case.number)},
    )
