"""How the protocol is kept: deadlines met for each step, time spent in each stage, and
overdue cases by worker. Deadlines are those of the cases reported in the period."""

from datetime import timedelta
from itertools import groupby

from django.db.models import Case as CaseWhen
from django.db.models import Count, DateTimeField, F, Min, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from protocol.models import CaseKind, DeadlineSetting, RiskLevel, Stage, StageTransition

from ..aggregates import Median, SecondsBetween
from ..tables import Row, Table
from .scope import Counted

DAY = 86400.0

Key = DeadlineSetting.Key


class _Limits:
    """The deadline settings of the municipalities counted: each key's default, and the
    municipalities that set their own value, grouped by value. One query."""

    def __init__(self, municipality_id: int | None):
        rows = DeadlineSetting.objects.all()
        if municipality_id is not None:
            rows = rows.filter(Q(municipality_id=municipality_id) | Q(municipality__isnull=True))
        self.defaults, self.own = {}, {}
        for municipality, key, value in rows.values_list("municipality_id", "key", "value"):
            if municipality is None:
                self.defaults[key] = value
            else:
                self.own.setdefault(key, []).append((value, municipality))

    def due(self, key: str, unit: str, *, since, among: Q | None = None) -> list[When]:
        """When the step of `key` fell due, counted from `since` (for the cases `among`):
        the municipality's own limit where it has one, else the default."""
        among = among if among is not None else Q(pk__isnull=False)
        whens = []
        own = sorted(self.own.get(key, []))
        for value, group in groupby(own, key=lambda pair: pair[0]):
            municipalities = [municipality for _value, municipality in group]
            whens.append(
                When(
                    among & Q(municipality_id__in=municipalities),
                    then=since + timedelta(**{unit: value}),
                )
            )
        if key in self.defaults:
            whens.append(When(among, then=since + timedelta(**{unit: self.defaults[key]})))
        return whens


def _due(*whens: When) -> CaseWhen:
    return CaseWhen(*whens, default=None, output_field=DateTimeField())


def deadlines_met(chosen: Counted) -> Table:
    """For the cases reported in the period, each step of the protocol done in time or not
    (late, or still not done past its deadline): one query. The review counts the cases
    in monitoring now whose review is, or is not, overdue."""
    limits = _Limits(chosen.municipality_id)
    now = timezone.now()
    child = Q(kind=CaseKind.CHILD)
    high = Q(reported_risk_level=RiskLevel.HIGH)
    reported = F("reported_at")
    due = {
        "assessment": _due(
            *limits.due(
                Key.ASSESSMENT_HIGH_RISK_HOURS, "hours", since=reported, among=child & high
            ),
            *limits.due(Key.ASSESSMENT_OTHER_HOURS, "hours", since=reported, among=child & ~high),
            *limits.due(
                Key.DV_RISK_ASSESSMENT_HOURS, "hours", since=reported, among=Q(kind=CaseKind.DV)
            ),
        ),
        "conference": _due(*limits.due(Key.CONFERENCE_DAYS, "days", since=F("assessed_at"))),
        "plan": _due(*limits.due(Key.PLAN_DAYS, "days", since=F("conference_at"))),
        "review": _due(
            *limits.due(
                Key.REVIEW_DAYS,
                "days",
                since=Coalesce("last_review_at", "plan_approved_at"),
                among=Q(stage=Stage.MONITORING, plan_approved_at__isnull=False),
            )
        ),
    }
    done = {
        "assessment": "assessed_at",
        "conference": "conference_at",
        "plan": "plan_approved_at",
    }
    counts = {}
    for step, done_at in done.items():
        counts[f"{step}_met"] = Count("pk", filter=Q(**{f"{done_at}__lte": F(f"{step}_due")}))
        counts[f"{step}_missed"] = Count(
            "pk",
            filter=Q(**{f"{done_at}__gt": F(f"{step}_due")})
            | Q(**{f"{done_at}__isnull": True, f"{step}_due__lt": now}),
        )
    # The review has no done moment: it is met while its next date is still ahead.
    counts["review_met"] = Count("pk", filter=Q(review_due__gte=now))
    counts["review_missed"] = Count("pk", filter=Q(review_due__lt=now))
    figures = (
        chosen.reported_in_period()
        .annotate(**{f"{step}_due": expression for step, expression in due.items()})
        .aggregate(**counts)
    )
    labels = {
        "assessment": _("Initial or risk assessment"),
        "conference": _("Case conference"),
        "plan": _("Plan approved"),
        "review": _("Review of the plan (cases in monitoring now)"),
    }
    rows = []
    for step, label in labels.items():
        met, missed = figures[f"{step}_met"], figures[f"{step}_missed"]
        share = 100 * met / (met + missed) if met + missed else None
        rows.append(Row(label, [met, missed], derived=[share]))
    return Table(
        "deadlines",
        _("Deadlines of the protocol met, for the cases reported in the period"),
        [_("In time"), _("Late or overdue")],
        rows,
        row_totals=True,
        column_totals=True,
        derived_columns=[_("Share in time (%)")],
        derived_format="{:.0f}",
        chart="",
        note=_(
            "A step not done yet counts only once its deadline has passed. Deadlines are the "
            "municipality's own settings where it has them."
        ),
    )


def time_in_stage(chosen: Counted) -> Table:
    """The median days a case stayed in each stage: from its first move into the stage in
    the period to its first move out of it after that, for stays that have ended. One
    query: first moves per case and stage, then the median of each stage over the cases."""
    period = chosen.filters.period
    stages = [value for value in Stage.values if value != Stage.CLOSED]
    moves = StageTransition.objects.filter(at__gte=period.start, case__in=chosen.cases())
    first_moves = moves.values("case_id").annotate(
        **{
            f"into_{stage}": Min("at", filter=Q(to_stage=stage) & ~Q(from_stage=stage))
            for stage in stages
        },
        **{
            f"out_of_{stage}": Min("at", filter=Q(from_stage=stage) & ~Q(to_stage=stage))
            for stage in stages
        },
    )
    stays = {}
    for stage in stages:
        entered, left = F(f"into_{stage}"), F(f"out_of_{stage}")
        ended = Q(
            **{
                f"into_{stage}__lt": period.end,
                f"out_of_{stage}__isnull": False,
                f"out_of_{stage}__gte": entered,
            }
        )
        stays[f"stays_{stage}"] = Count("case_id", filter=ended)
        stays[f"median_{stage}"] = Median(SecondsBetween(entered, left), filter=ended)
    figures = first_moves.aggregate(**stays)
    return Table(
        "time_in_stage",
        _("Time spent in each stage"),
        [_("Stays ended")],
        [
            Row(
                str(label),
                [figures[f"stays_{value}"]],
                derived=[_days(figures[f"median_{value}"])],
            )
            for value, label in Stage.choices
            if value != Stage.CLOSED
        ],
        derived_columns=[_("Median days in the stage")],
        chart="",
        note=_(
            "The first stay of each case in each stage that began in the period and has "
            "ended, from the stage changes."
        ),
    )


def overdue_by_worker(chosen: Counted) -> Table:
    """Open cases whose next deadline has passed, by worker in charge (now, not the period)."""
    rows = (
        chosen.cases()
        .exclude(stage=Stage.CLOSED)
        .filter(next_due_at__lt=timezone.now())
        .values_list("owner__first_name", "owner__last_name", "owner__username")
        .annotate(total=Count("pk"))
        .order_by("-total", "owner__last_name", "owner__first_name")
    )
    return Table(
        "overdue_by_worker",
        _("Overdue cases by worker in charge (now)"),
        [_("Overdue cases")],
        [
            Row(f"{first} {last}".strip() or username, [total])
            for first, last, username, total in rows
        ],
        column_totals=True,
        note=_("Open cases whose next deadline has passed."),
    )


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / DAY
