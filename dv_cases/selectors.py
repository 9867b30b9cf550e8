"""Reads of DV records: the deadlines and expiry of protection orders, and what the
case page and the dashboard show, always limited to what the user may see."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.models import User
from protocol import access
from protocol.deadlines import MissingDeadlineSetting, setting_value
from protocol.models import Case, CaseKind, DeadlineSetting, Stage

from .models import (
    GRANTED_OUTCOMES,
    OrderBreach,
    OrderKind,
    OrderOutcome,
    ProtectionOrder,
    RiskQuestionnaire,
)

Key = DeadlineSetting.Key


@dataclass(frozen=True)
class OrderDeadlines:
    """The deadline settings that apply to the orders of one municipality."""

    umm_decision_hours: int
    um_hearing_days: int
    expiry_warning_days: int

    @classmethod
    def of(cls, municipality_id: int) -> "OrderDeadlines":
        return cls(
            umm_decision_hours=setting_value(municipality_id, Key.UMM_DECISION_HOURS),
            um_hearing_days=setting_value(municipality_id, Key.UM_HEARING_DAYS),
            expiry_warning_days=setting_value(municipality_id, Key.ORDER_EXPIRY_WARNING_DAYS),
        )


def covering_order(order: ProtectionOrder, others) -> ProtectionOrder | None:
    """A later order among `others` that protects the same person beyond `order`'s expiry,
    leaving no day uncovered: e.g. the court's UMM after the police's UPMM. Orders of a
    DV case protect its victim; one that covers the children is covered only by another
    that covers them too. Then `order` expiring needs no warning."""
    if order.expires_on is None:
        return None
    for other in others:
        if (
            other.pk != order.pk
            and other.case_id == order.case_id
            and other.outcome in GRANTED_OUTCOMES
            and other.valid_from is not None
            and other.valid_from <= order.expires_on + timedelta(days=1)
            and (other.expires_on is None or other.expires_on > order.expires_on)
            and (other.covers_children or not order.covers_children)
        ):
            return other
    return None


@dataclass(frozen=True)
class OrderStatus:
    # When the court must decide (UMM) or hold the hearing (UM); None for a UPMM,
    # which the police issue on the spot.
    decision_due_at: datetime | None
    is_overdue_decision: bool
    in_force: bool
    expires_soon: bool
    expired: bool
    # A later order that protects the same person beyond this one's expiry.
    covered_by: ProtectionOrder | None = None


def order_status(
    order: ProtectionOrder,
    *,
    deadlines: OrderDeadlines | None = None,
    now: datetime | None = None,
) -> OrderStatus:
    """Whether the decision on `order` is late, and whether it is in force, expiring or expired.

    Pass `deadlines` when looking at several orders of one municipality, to read
    the settings once.
    """
    deadlines = deadlines or OrderDeadlines.of(order.case.municipality_id)
    now = now or timezone.now()
    today = timezone.localdate(now)
    due_at = None
    if order.kind == OrderKind.UMM:
        due_at = order.requested_at + timedelta(hours=deadlines.umm_decision_hours)
    elif order.kind == OrderKind.UM:
        due_at = order.requested_at + timedelta(days=deadlines.um_hearing_days)
    pending = order.outcome == OrderOutcome.PENDING
    granted = order.outcome in GRANTED_OUTCOMES
    started = granted and order.valid_from is not None and order.valid_from <= today
    expired = granted and order.expires_on is not None and order.expires_on < today
    expires_soon = (
        granted
        and order.expires_on is not None
        and today <= order.expires_on <= today + timedelta(days=deadlines.expiry_warning_days)
    )
    return OrderStatus(
        decision_due_at=due_at,
        is_overdue_decision=pending and due_at is not None and due_at < now,
        in_force=started and not expired,
        expires_soon=expires_soon,
        expired=expired,
    )


def _warning_days(municipality_ids: set[int]) -> dict[int, int]:
    """The expiry warning window of each municipality, in one query."""
    rows = DeadlineSetting.objects.filter(key=Key.ORDER_EXPIRY_WARNING_DAYS).filter(
        Q(municipality_id__in=municipality_ids) | Q(municipality__isnull=True)
    )
    values = {row.municipality_id: row.value for row in rows}
    if None not in values and not municipality_ids <= values.keys():
        raise MissingDeadlineSetting(
            f"No deadline setting {Key.ORDER_EXPIRY_WARNING_DAYS!r}: run the migrations."
        )
    return {pk: values.get(pk, values.get(None)) for pk in municipality_ids}


def orders_expiring_soon(user: User, *, today: date | None = None) -> list[ProtectionOrder]:
    """Orders in force on open DV cases `user` may see, with their orders part, that expire
    within the warning window of the case's municipality; the soonest first."""
    today = today or timezone.localdate()
    cases = access.visible_cases(user).filter(kind=CaseKind.DV).exclude(stage=Stage.CLOSED)
    in_force = ProtectionOrder.objects.filter(
        case__in=cases, outcome__in=GRANTED_OUTCOMES, expires_on__gte=today
    )
    municipality_ids = set(
        in_force.order_by().values_list("case__municipality_id", flat=True).distinct()
    )
    if not municipality_ids:
        return []
    window = Q()
    for municipality_id, days in _warning_days(municipality_ids).items():
        window |= Q(
            case__municipality_id=municipality_id, expires_on__lte=today + timedelta(days=days)
        )
    orders = list(in_force.filter(window).select_related("case").order_by("expires_on"))
    granted = ProtectionOrder.objects.filter(
        case_id__in={order.case_id for order in orders},
        outcome__in=GRANTED_OUTCOMES,
        valid_from__isnull=False,
    )
    by_case: dict = {}
    for other in granted:
        by_case.setdefault(other.case_id, []).append(other)
    orders = [order for order in orders if not covering_order(order, by_case[order.case_id])]
    access.prefetch_permissions(user, list({order.case for order in orders}))
    return [order for order in orders if access.can_view_part(user, order.case, access.Part.ORDERS)]


def orders_of(case: Case) -> list[tuple[ProtectionOrder, OrderStatus]]:
    """The case's orders with their breaches, each with its status (for the case page)."""
    orders = case.protection_orders.select_related("issuing_institution").prefetch_related(
        Prefetch("breaches", queryset=OrderBreach.objects.order_by("occurred_on"))
    )
    deadlines = OrderDeadlines.of(case.municipality_id)
    now = timezone.now()
    orders = list(orders)
    statuses = []
    for order in orders:
        status = order_status(order, deadlines=deadlines, now=now)
        covered_by = covering_order(order, orders)
        if covered_by is not None:
            status = replace(status, expires_soon=False, covered_by=covered_by)
        statuses.append((order, status))
    return statuses


def active_questionnaire() -> RiskQuestionnaire | None:
    """The questionnaire new risk assessments use, with its questions."""
    return RiskQuestionnaire.objects.filter(is_active=True).prefetch_related("questions").first()


@dataclass(frozen=True)
class AnsweredQuestion:
    text: str
    answer: bool | None
    is_critical: bool


def answered_questions(assessment) -> list[AnsweredQuestion]:
    """The questions of an assessment's questionnaire with the answers given (None:
    a question added to the questionnaire after this assessment)."""
    answers = assessment.answers or {}
    return [
        AnsweredQuestion(question.text, answers.get(str(question.pk)), question.is_critical)
        for question in assessment.questionnaire.questions.all()
    ]
