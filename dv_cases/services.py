"""Everything that changes the DV part of a case file.

Each service checks through protocol.access that the user may change the case,
validates, and writes inside one transaction. Services that change what others
may be editing at the same time (the risk level, a decision, the end of a stay)
take the case's `version` and refuse a stale one (StaleEdit); records that are
only added (an incident, a request, a breach) lock the case but need no version.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Institution, User
from protocol import services as protocol_services
from protocol.access import can_change_case
from protocol.models import Case, CaseKind, CaseNeed, RiskLevel, Stage
from protocol.services import PersonData, StaleEdit
from protocol.stages import TransitionNotAllowed

from .models import (
    GRANTED_OUTCOMES,
    Incident,
    OrderBreach,
    OrderOutcome,
    ProtectionOrder,
    RiskAssessment,
    RiskQuestionnaire,
    ShelterPlacement,
)


def _changeable(by: User, case: Case, version: int | None = None) -> Case:
    """The DV case locked until the transaction ends, if `by` may change it.

    Refuses (TransitionNotAllowed) a user who may not change it, and (StaleEdit)
    a `version` older than the case's.
    """
    current = Case.objects.select_for_update().select_related("municipality").get(pk=case.pk)
    if current.kind != CaseKind.DV or not can_change_case(by, current):
        raise TransitionNotAllowed(_("You cannot change this case."))
    if version is not None and current.version != version:
        raise StaleEdit
    return current


def _not_in_future(value: date | datetime, field: str, message: str) -> None:
    now = timezone.now() if isinstance(value, datetime) else timezone.localdate()
    if value > now:
        raise ValidationError({field: message})


# --- Registration and incidents -------------------------------------------------------


@dataclass
class IncidentData:
    occurred_on: date
    place: str
    forms: list[str]
    narrative: str
    injuries: bool = False
    children_present: bool = False


@transaction.atomic
def dv_case_register(
    *,
    by: User,
    victim: PersonData,
    perpetrator: PersonData,
    incident: IncidentData,
    reported_risk_level: str,
    reported_at: datetime,
    report_channel: str,
    reporter_kind: str,
    reporter_details: str,
    administrative_unit=None,
    duplicate_override_reason: str = "",
) -> Case:
    """Register a DV case with its victim, perpetrator and first incident, all or nothing.

    Refuses what protocol.services.case_register refuses (a user who does not
    register DV cases, a likely duplicate without a reason: PossibleDuplicate).
    """
    case = protocol_services.case_register(
        by=by,
        kind=CaseKind.DV,
        people=[victim, perpetrator],
        needs=incident.forms,
        reported_risk_level=reported_risk_level,
        reported_at=reported_at,
        report_channel=report_channel,
        reporter_kind=reporter_kind,
        reporter_details=reporter_details,
        # What was reported is the first incident's account.
        summary=incident.narrative,
        administrative_unit=administrative_unit,
        duplicate_override_reason=duplicate_override_reason,
    )
    incident_record(by=by, case=case, **vars(incident))
    return case


@transaction.atomic
def incident_record(
    *,
    by: User,
    case: Case,
    occurred_on: date,
    place: str,
    forms: list[str],
    narrative: str,
    injuries: bool,
    children_present: bool,
) -> Incident:
    """Record an incident; its forms of violence join the case's."""
    case = _changeable(by, case)
    incident = Incident(
        case=case,
        occurred_on=occurred_on,
        place=(place or "").strip() or None,
        forms=sorted(set(forms or [])),
        narrative=narrative,
        injuries=injuries,
        children_present=children_present,
        recorded_by=by,
    )
    incident.full_clean()
    incident.save()
    # The case's forms of violence are what statistics count: keep them complete.
    for form in incident.forms:
        CaseNeed.objects.get_or_create(case=case, need=form)
    return incident


# --- Risk ---------------------------------------------------------------------------


def _findings(questionnaire: RiskQuestionnaire, score: int, risk_level: str, notes: str) -> str:
    summary = _("Questionnaire “%(name)s”: score %(score)s, risk %(level)s.") % {
        "name": questionnaire.name,
        "score": score,
        "level": RiskLevel(risk_level).label,
    }
    return f"{summary}\n\n{notes}".strip()


@transaction.atomic
def risk_assessment_record(
    *,
    by: User,
    case: Case,
    version: int,
    questionnaire: RiskQuestionnaire,
    answers: dict[int, bool],
    notes: str = "",
    assessed_at: datetime | None = None,
) -> RiskAssessment:
    """Assess the risk with a questionnaire and set the case's risk level from the result.

    The first assessment of a registered case is the protocol's risk assessment
    and moves the case on. Refuses a questionnaire not in use and answers that
    leave a question out.
    """
    case = _changeable(by, case, version)
    if not questionnaire.is_active:
        raise ValidationError(_("This questionnaire is no longer in use: open the form again."))
    question_ids = {question.pk for question in questionnaire.questions.all()}
    if set(answers) != question_ids or not all(isinstance(a, bool) for a in answers.values()):
        raise ValidationError(_("Answer every question with yes or no."))
    assessed_at = assessed_at or timezone.now()
    _not_in_future(assessed_at, "assessed_at", _("The assessment cannot be in the future."))
    score, risk_level = questionnaire.evaluate(answers)
    assessment = RiskAssessment(
        case=case,
        questionnaire=questionnaire,
        answers={str(pk): answer for pk, answer in sorted(answers.items())},
        score=score,
        risk_level=risk_level,
        notes=(notes or "").strip() or None,
        assessed_at=assessed_at,
        recorded_by=by,
    )
    assessment.full_clean()
    assessment.save()
    if case.stage == Stage.REGISTERED:
        protocol_services.assessment_record(
            by=by,
            case=case,
            version=case.version,
            risk_level=risk_level,
            findings=_findings(questionnaire, score, risk_level, notes),
            home_visit=False,
            assessed_at=assessed_at,
        )
    else:
        case.risk_level = risk_level
        case.version += 1
        case.save()
    return assessment


# --- Protection orders ----------------------------------------------------------------


@transaction.atomic
def protection_order_record(
    *,
    by: User,
    case: Case,
    kind: str,
    requested_by: str,
    requested_at: datetime,
    issuing_institution: Institution | None,
    measures: str,
    covers_children: bool,
) -> ProtectionOrder:
    """Record a request for a protection order, awaiting the decision.

    Refuses an issuer that is not the municipality's police (UPMM) or court (UMM, UM).
    """
    case = _changeable(by, case)
    _not_in_future(requested_at, "requested_at", _("The request cannot be in the future."))
    order = ProtectionOrder(
        case=case,
        kind=kind,
        requested_by=requested_by,
        requested_at=requested_at,
        issuing_institution=issuing_institution,
        measures=(measures or "").strip() or None,
        covers_children=covers_children,
        recorded_by=by,
    )
    order.full_clean()
    order.save()
    return order


@transaction.atomic
def protection_order_decide(
    *,
    by: User,
    order: ProtectionOrder,
    version: int,
    outcome: str,
    decided_at: datetime,
    valid_from: date | None,
    expires_on: date | None,
    measures: str | None = None,
) -> ProtectionOrder:
    """Record the decision on an order awaiting one.

    A granted order needs the date it is valid from; an order not granted takes
    no dates of validity. `measures`, when given, replaces what the order imposes
    (a partly granted order imposes less than was asked). Refuses an order
    already decided.
    """
    case = _changeable(by, order.case, version)
    order = ProtectionOrder.objects.select_for_update().get(pk=order.pk, case=case)
    if not order.is_pending:
        raise TransitionNotAllowed(_("This order has already been decided."))
    if outcome not in OrderOutcome.values or outcome == OrderOutcome.PENDING:
        raise ValidationError({"outcome": _("Choose the outcome of the decision.")})
    _not_in_future(decided_at, "decided_at", _("Record a decision once it has been taken."))
    granted = outcome in GRANTED_OUTCOMES
    if granted and valid_from is None:
        raise ValidationError({"valid_from": _("Give the date the order is valid from.")})
    if not granted and (valid_from or expires_on):
        raise ValidationError(
            {"valid_from": _("An order that was not granted has no dates of validity.")}
        )
    order.outcome = outcome
    order.decided_at = decided_at
    order.valid_from = valid_from
    order.expires_on = expires_on
    if measures is not None and measures.strip():
        order.measures = measures.strip()
    order.case = case
    order.full_clean()
    order.save()
    case.version += 1
    case.save()
    return order


@transaction.atomic
def order_breach_record(
    *,
    by: User,
    order: ProtectionOrder,
    occurred_on: date,
    description: str,
    reported_to_police: bool,
) -> OrderBreach:
    """Record a breach of a granted order, on a day the order was valid."""
    case = _changeable(by, order.case)
    order = ProtectionOrder.objects.get(pk=order.pk, case=case)
    if not order.is_granted:
        raise TransitionNotAllowed(_("Only an order that was granted can be breached."))
    _not_in_future(occurred_on, "occurred_on", _("The breach cannot be in the future."))
    if occurred_on < order.valid_from or (order.expires_on and occurred_on > order.expires_on):
        raise ValidationError(
            {"occurred_on": _("The order was not valid on that day: check the date.")}
        )
    breach = OrderBreach(
        order=order,
        occurred_on=occurred_on,
        description=description,
        reported_to_police=reported_to_police,
        recorded_by=by,
    )
    breach.full_clean()
    breach.save()
    return breach


# --- Shelter ------------------------------------------------------------------------------


@transaction.atomic
def shelter_placement_record(
    *, by: User, case: Case, shelter: Institution, placed_on: date, notes: str
) -> ShelterPlacement:
    """Record that the victim moved into a shelter (of any municipality: victims are
    often sheltered away from home). Refuses a second stay while one is open."""
    case = _changeable(by, case)
    if not shelter.is_active:
        raise ValidationError({"shelter": _("This shelter is no longer active.")})
    _not_in_future(placed_on, "placed_on", _("Record a stay once it has started."))
    placement = ShelterPlacement(
        case=case,
        shelter=shelter,
        placed_on=placed_on,
        notes=(notes or "").strip() or None,
        recorded_by=by,
    )
    placement.full_clean()
    placement.save()
    return placement


@transaction.atomic
def shelter_placement_end(
    *, by: User, placement: ShelterPlacement, version: int, left_on: date
) -> ShelterPlacement:
    """Record the day the victim left the shelter. Refuses a stay that has already ended."""
    case = _changeable(by, placement.case, version)
    placement = ShelterPlacement.objects.select_for_update().get(pk=placement.pk, case=case)
    if not placement.is_current:
        raise TransitionNotAllowed(_("This stay has already ended."))
    _not_in_future(left_on, "left_on", _("Record the end of a stay once it has ended."))
    placement.left_on = left_on
    placement.full_clean()
    placement.save()
    case.version += 1
    case.save()
    return placement
