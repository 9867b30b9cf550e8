"""What cases tell the audit trail: reads, changes and grants, as identifiers.

`audit.services.record` is the one writer; this module knows what a case is
(its number, its municipality, the record a row belongs to) so that the audit
app does not have to.
"""

from audit.context import as_user, current_actor
from audit.forms import CASE_NUMBER
from audit.models import Action, AuditEvent
from audit.services import record

from .models import Case


def case_identifiers(case: Case | None) -> dict:
    """What an event says of the case it concerns (nothing when it concerns none)."""
    if case is None:
        return {"case_id": None, "case_number": ""}
    return {
        "case_id": case.pk,
        "case_number": case.number,
        "municipality_id": case.municipality_id,
    }


def _page(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


def case_opened(request, case: Case, *, parts=()) -> None:
    """A page showing `case` was rendered for the request's user; `parts` are those it showed."""
    record(
        Action.CASE_VIEWED,
        object_type="protocol.case",
        object_id=case.pk,
        part=",".join(parts),
        detail={"page": _page(request)},
        **case_identifiers(case),
    )


def part_opened(request, case: Case, *, part: str, object_type: str, object_id) -> None:
    """One record of a part (a document, a referral) was read."""
    action = (
        Action.DOCUMENT_DOWNLOADED if object_type == "protocol.document" else Action.PART_VIEWED
    )
    record(
        action, object_type=object_type, object_id=object_id, part=part, **case_identifiers(case)
    )


def cases_listed(request, cases=(), *, numbers=(), searched: bool = False, detail=None) -> None:
    """A list page showed these cases (or case numbers). Never the search words: they may
    be a name."""
    numbers = sorted({case.number for case in cases} | set(numbers))
    record(
        Action.CASES_LISTED,
        object_type="protocol.case",
        detail={
            "page": _page(request),
            "cases": numbers,
            "count": len(numbers),
            "searched": searched,
            **(detail or {}),
        },
    )


CASE_NUMBER_LENGTH = AuditEvent._meta.get_field("case_number").max_length


def access_refused(
    user,
    *,
    object_type: str,
    object_id="",
    case: Case | None = None,
    number: str = "",
    part: str = "",
    municipality_id: int | None = None,
) -> None:
    """`user` asked for something they may not see, or that does not exist, and gets a 404.

    The lookups that answer 404 call this before raising, so that the user sees
    nothing different. What was asked is kept as identifiers: the case (when it
    exists), else the number as typed, but only if it has the shape of a case
    number; any other text in the address might be a name, and an append-only
    trail could never take it out again. Nothing for the signed out, who are sent
    to sign in before any lookup.
    """
    if not getattr(user, "is_authenticated", False):
        return
    detail = {}
    identifiers = case_identifiers(case) if case is not None else {}
    if case is None and number:
        if CASE_NUMBER.fullmatch(number.upper()):
            identifiers["case_number"] = number[:CASE_NUMBER_LENGTH]
        else:
            detail["malformed_number"] = True
    if municipality_id is not None:
        identifiers.setdefault("municipality_id", municipality_id)
    record(
        Action.ACCESS_REFUSED,
        actor=as_user(user),
        object_type=object_type,
        object_id=object_id,
        part=part,
        detail=detail,
        **identifiers,
    )


def emergency_accesses_read(grants) -> None:
    """The officer's page of emergency accesses showed these justifications: one event for
    the page, naming every access shown, as a list of cases names the cases."""
    ids = sorted(str(grant.pk) for grant in grants)
    record(
        Action.AUDIT_VIEWED,
        object_type="protocol.emergencyaccess",
        detail={"accesses": ids, "count": len(ids)},
    )


# --- Changes, from django-simple-history --------------------------------------

_HISTORY_ACTIONS = {"+": Action.CREATED, "~": Action.CHANGED, "-": Action.DELETED}
# How a row reaches its case, for the models that do not point at it directly.
_CASE_PATHS = ("case", "plan.case", "order.case", "child_case")


def _case_of(instance) -> Case | None:
    if isinstance(instance, Case):
        return instance
    for path in _CASE_PATHS:
        current = instance
        for name in path.split("."):
            if getattr(current, f"{name}_id", None) is None:
                current = None
                break
            current = getattr(current, name)
        if isinstance(current, Case):
            return current
    return None


def history_recorded(sender, instance, history_instance, **kwargs) -> None:
    """Every saved change of a model with history becomes an audit event, in its transaction."""
    case = _case_of(instance)
    actor = current_actor()
    if actor.user_id is None and history_instance.history_user_id is not None:
        # Outside a request (a command, the demo's seeding) the service named who acted.
        actor = as_user(history_instance.history_user)
    record(
        _HISTORY_ACTIONS[history_instance.history_type],
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
        detail={"history_id": history_instance.pk},
        actor=actor,
        # A record of no case (an account, a setting) concerns its own municipality.
        **(
            {"municipality_id": getattr(instance, "municipality_id", None)} | case_identifiers(case)
        ),
    )


# --- Grants and removals of access ---------------------------------------------


def permission_saved(sender, instance, created, **kwargs) -> None:
    if created:
        _permission_event(Action.ACCESS_GRANTED, instance)


def permission_deleted(sender, instance, **kwargs) -> None:
    _permission_event(Action.ACCESS_REVOKED, instance)


def _permission_event(action, permission) -> None:
    case = permission.content_object
    holder = (
        {"user": permission.user_id}
        if hasattr(permission, "user_id")
        else {"group": permission.group.name}
    )
    record(
        action,
        object_type="protocol.case",
        object_id=case.pk,
        detail={"permission": permission.permission.codename, **holder},
        **case_identifiers(case),
    )


def referral_event(referral, event: str) -> None:
    """A referral was made, answered, acted on, revoked, closed or expired."""
    case = referral.case
    record(
        Action.REFERRAL,
        object_type="protocol.referral",
        object_id=referral.pk,
        part=",".join(referral.parts),
        justification=referral.legal_basis or "",
        detail={"event": event, "institution": referral.institution_id, "state": referral.state},
        **case_identifiers(case),
    )


def emergency_access_opened(grant) -> None:
    """The justification's words stay encrypted in the grant, which the officer opens from
    the flag: an append-only trail could never redact a name written into it."""
    case = grant.case
    record(
        Action.BREAK_GLASS,
        actor=as_user(grant.user),
        object_type="protocol.emergencyaccess",
        object_id=grant.pk,
        detail={"expires_at": grant.expires_at.isoformat()},
        **case_identifiers(case),
    )
