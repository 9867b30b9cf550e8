"""The figures of the cases themselves: how many, of which kind, stage, risk, form of
violence, people, place, measures, orders and referrals. Stage and risk level are
as they are now."""

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import AdministrativeUnit, Institution, Municipality
from cpu.models import ProtectionMeasure
from dv_cases.models import OrderKind, OrderOutcome, ProtectionOrder
from protocol.models import (
    DV_FORMS,
    AgeGroup,
    CaseKind,
    Person,
    PersonRole,
    ProtectionNeed,
    Referral,
    ReferralState,
    RiskLevel,
    Sex,
    Stage,
    StageTransition,
)

from .. import gbvims
from ..aggregates import Median, SecondsBetween
from ..tables import Row, Table
from .scope import Counted, in_period


def case_tables(chosen: Counted) -> list[Table]:
    """New, open and closed cases, and cases by kind, stage and risk level: one query."""
    period = chosen.filters.period
    counts = {
        "new": Count("pk", filter=in_period("reported_at", period)),
        "closed": Count("pk", filter=in_period("closed_at", period)),
        "open": Count("pk"),
        **{f"kind_{kind}": Count("pk", filter=Q(kind=kind)) for kind in chosen.kinds},
        **{f"stage_{stage}": Count("pk", filter=Q(stage=stage)) for stage in Stage.values},
        **{f"risk_{risk}": Count("pk", filter=Q(risk_level=risk)) for risk in RiskLevel.values},
        "risk_": Count("pk", filter=Q(risk_level="")),
        "reopened": Count("pk", filter=Exists(reopenings(period))),
    }
    figures = chosen.open_in_period().aggregate(**counts)
    summary = Table(
        "summary",
        _("Cases in the period"),
        [_("Cases")],
        [
            Row(_("Open at some time in the period"), [figures["open"]]),
            Row(_("New: reported in the period"), [figures["new"]]),
            Row(_("Closed in the period"), [figures["closed"]]),
            Row(_("Reopened in the period"), [figures["reopened"]]),
        ],
        chart="bars",
    )
    kind_labels = dict(CaseKind.choices)
    by_kind = Table(
        "by_kind",
        _("Cases by kind"),
        [_("Cases")],
        [
            Row(str(kind_labels[kind]), [figures[f"kind_{kind}"]], link=chosen.link(kind=kind))
            for kind in chosen.kinds
        ],
        column_totals=True,
    )
    by_stage = Table(
        "by_stage",
        _("Cases by stage (now)"),
        [_("Cases")],
        [
            Row(str(label), [figures[f"stage_{value}"]], link=chosen.link(stage=value))
            for value, label in Stage.choices
        ],
        column_totals=True,
    )
    by_risk = Table(
        "by_risk",
        _("Cases by risk level (now)"),
        [_("Cases")],
        [
            *(
                Row(str(label), [figures[f"risk_{value}"]], link=chosen.link(risk=value))
                for value, label in RiskLevel.choices
            ),
            Row(_("not assessed yet"), [figures["risk_"]]),
        ],
        column_totals=True,
    )
    if not chosen.links:
        for table in (by_kind, by_stage, by_risk):
            for row in table.rows:
                row.link = ""
    return [summary, by_kind, by_stage, by_risk]


def reopenings(period) -> QuerySet[StageTransition]:
    """The reopenings of the period, of the case of the outer query (OuterRef "pk").

    A reopened case counts once a period however often it was reopened; it is
    counted as closed when it closes again (its earlier closure stays in its history).
    """
    return StageTransition.objects.filter(
        in_period("at", period), case=OuterRef("pk"), action="reopen"
    )


def new_and_closed_by_month(chosen: Counted) -> Table:
    period = chosen.filters.period
    cases = chosen.cases()
    new = dict(
        cases.filter(in_period("reported_at", period))
        .annotate(month=TruncMonth("reported_at"))
        .values_list("month")
        .annotate(total=Count("pk"))
        .values_list("month", "total")
    )
    closed = dict(
        cases.filter(in_period("closed_at", period))
        .annotate(month=TruncMonth("closed_at"))
        .values_list("month")
        .annotate(total=Count("pk"))
        .values_list("month", "total")
    )
    reopened = dict(
        StageTransition.objects.filter(
            in_period("at", period), action="reopen", case__in=cases.values("pk")
        )
        .annotate(month=TruncMonth("at"))
        .values_list("month")
        .annotate(total=Count("case", distinct=True))
        .values_list("month", "total")
    )
    new, closed = _by_month_key(new), _by_month_key(closed)
    reopened = _by_month_key(reopened)
    return Table(
        "by_month",
        _("New and closed cases by month"),
        [_("New"), _("Closed"), _("Reopened")],
        [
            Row(
                date_format(month, "M Y"),
                [
                    new.get((month.year, month.month), 0),
                    closed.get((month.year, month.month), 0),
                    reopened.get((month.year, month.month), 0),
                ],
            )
            for month in period.months()
        ],
        column_totals=True,
        chart="columns",
    )


def _by_month_key(counts: dict) -> dict[tuple[int, int], int]:
    keys = {}
    for month, total in counts.items():
        # TruncMonth gives the local month's first moment (a date on some backends).
        local = timezone.localtime(month) if isinstance(month, datetime) else month
        keys[(local.year, local.month)] = total
    return keys


def needs_and_gbvims(chosen: Counted) -> list[Table]:
    """Cases by form of violence or need, and by GBVIMS core type: one query. A case counts
    once in a core type even when several of its forms map to it."""
    counts = {
        **{f"need_{need}": Count("needs", filter=Q(needs__need=need)) for need in ProtectionNeed},
        **{
            f"core_{core}": Count("pk", distinct=True, filter=Q(needs__need__in=needs))
            for core, needs in gbvims.needs_by_core_type().items()
            if needs
        },
    }
    figures = chosen.open_in_period().aggregate(**counts)
    shown = [
        (value, label)
        for value, label in ProtectionNeed.choices
        if CaseKind.CHILD in chosen.kinds or value in DV_FORMS or figures[f"need_{value}"]
    ]
    by_need = Table(
        "by_need",
        _("Cases by form of violence or protection need"),
        [_("Cases")],
        [Row(str(label), [figures[f"need_{value}"]]) for value, label in shown],
        note=_("A case can have several forms: the rows do not add up to the cases."),
    )
    by_core_type = Table(
        "gbvims",
        _("Cases by GBVIMS core type of gender-based violence"),
        [_("Cases")],
        [
            Row(str(label), [figures.get(f"core_{value}", 0)])
            for value, label in gbvims.CoreType.choices
        ],
        note=gbvims.NOTE,
    )
    return [by_need, by_core_type]


PEOPLE_ROLES = (PersonRole.CHILD, PersonRole.VICTIM)


def people_tables(chosen: Counted) -> list[Table]:
    """The children and victims of the cases by sex, age group and group: one query."""
    elderly = Q(age_group=AgeGroup.AGE_60)
    counts = {
        **{f"sex_{value}": Count("pk", filter=Q(sex=value)) for value in Sex.values},
        "sex_": Count("pk", filter=Q(sex="")),
        **{f"age_{value}": Count("pk", filter=Q(age_group=value)) for value in AgeGroup.values},
        "age_": Count("pk", filter=Q(age_group="")),
        "roma": Count("pk", filter=Q(is_roma=True)),
        "egyptian": Count("pk", filter=Q(is_egyptian=True)),
        "disability": Count("pk", filter=Q(has_disability=True)),
        "elderly": Count("pk", filter=elderly),
    }
    # A person whose part in the case ended before the period is not counted in it.
    figures = (
        Person.objects.filter(case__in=chosen.open_in_period(), role__in=PEOPLE_ROLES)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=chosen.filters.period.start))
        .aggregate(**counts)
    )
    column = [_("Children and victims")]
    not_recorded = _("not recorded")
    return [
        Table(
            "by_sex",
            _("Children and victims by sex"),
            column,
            [
                *(Row(str(label), [figures[f"sex_{value}"]]) for value, label in Sex.choices),
                Row(not_recorded, [figures["sex_"]]),
            ],
            column_totals=True,
        ),
        Table(
            "by_age",
            _("Children and victims by age group"),
            column,
            [
                *(Row(str(label), [figures[f"age_{value}"]]) for value, label in AgeGroup.choices),
                Row(not_recorded, [figures["age_"]]),
            ],
            column_totals=True,
        ),
        Table(
            "by_group",
            _("Children and victims in the groups followed"),
            column,
            [
                Row(_("Roma"), [figures["roma"]]),
                Row(_("Egyptian"), [figures["egyptian"]]),
                Row(_("With disability"), [figures["disability"]]),
                Row(_("Elderly (60 and over)"), [figures["elderly"]]),
            ],
            note=_("A person can be in several groups, or in none."),
        ),
    ]


def by_unit(chosen: Counted) -> Table:
    counts = dict(
        chosen.open_in_period()
        .values_list("administrative_unit")
        .annotate(total=Count("pk"))
        .values_list("administrative_unit", "total")
    )
    units = AdministrativeUnit.objects.filter(municipality_id=chosen.municipality_id)
    rows = [
        Row(unit.name, [counts.get(unit.pk, 0)], link=chosen.link(unit=unit.pk))
        for unit in units.order_by("name")
    ]
    rows.append(Row(_("no administrative unit recorded"), [counts.get(None, 0)]))
    if not chosen.links:
        for row in rows:
            row.link = ""
    return Table(
        "by_unit", _("Cases by administrative unit"), [_("Cases")], rows, column_totals=True
    )


def by_municipality(chosen: Counted) -> Table:
    counts = {
        (municipality, kind): total
        for municipality, kind, total in chosen.open_in_period()
        .values_list("municipality", "kind")
        .annotate(total=Count("pk"))
        .values_list("municipality", "kind", "total")
    }
    kind_labels = dict(CaseKind.choices)
    return Table(
        "by_municipality",
        _("Cases by municipality and kind"),
        [str(kind_labels[kind]) for kind in chosen.kinds],
        [
            Row(name, [counts.get((pk, kind), 0) for kind in chosen.kinds])
            for pk, name in Municipality.objects.order_by("name").values_list("pk", "name")
        ],
        row_totals=True,
        column_totals=True,
        chart="bars",
    )


def measures(chosen: Counted) -> Table:
    period = chosen.filters.period
    counts = dict(
        ProtectionMeasure.objects.filter(
            case__in=chosen.cases(),
            started_on__gte=period.first_day,
            started_on__lte=period.last_day,
        )
        .values_list("kind")
        .annotate(total=Count("pk"))
        .values_list("kind", "total")
    )
    return Table(
        "measures",
        _("Protection measures for children started in the period"),
        [_("Measures")],
        [
            Row(str(label), [counts.get(value, 0)])
            for value, label in ProtectionMeasure.Kind.choices
        ],
        column_totals=True,
    )


def orders(chosen: Counted) -> Table:
    period = chosen.filters.period
    counts = {
        (kind, outcome): total
        for kind, outcome, total in ProtectionOrder.objects.filter(
            in_period("requested_at", period), case__in=chosen.cases()
        )
        .values_list("kind", "outcome")
        .annotate(total=Count("pk"))
        .values_list("kind", "outcome", "total")
    }
    return Table(
        "orders",
        _("Protection orders requested in the period, by order and outcome"),
        [str(label) for label in OrderOutcome.labels],
        [
            Row(str(label), [counts.get((kind, outcome), 0) for outcome in OrderOutcome.values])
            for kind, label in OrderKind.choices
        ],
        row_totals=True,
        column_totals=True,
    )


def referrals(chosen: Counted) -> list[Table]:
    """Referrals made in the period by kind of institution and state, and the median time
    from the referral to the institution's answer: two queries."""
    period = chosen.filters.period
    referrals = Referral.objects.filter(in_period("referred_at", period), case__in=chosen.cases())
    counts = {
        (kind, state): total
        for kind, state, total in referrals.values_list("institution__kind", "state")
        .annotate(total=Count("pk"))
        .values_list("institution__kind", "state", "total")
    }
    answers = {
        kind: (answered, median)
        for kind, answered, median in referrals.values_list("institution__kind")
        .annotate(
            answered=Count("answered_at"),
            median=Median(SecondsBetween("referred_at", "answered_at")),
        )
        .values_list("institution__kind", "answered", "median")
    }
    kinds = Institution.Kind.choices
    by_state = Table(
        "referrals",
        _("Referrals made in the period, by institution and state"),
        [str(label) for label in ReferralState.labels],
        [
            Row(str(label), [counts.get((kind, state), 0) for state in ReferralState.values])
            for kind, label in kinds
        ],
        row_totals=True,
        column_totals=True,
    )
    answer_time = Table(
        "referral_answers",
        _("Time the institutions took to answer a referral"),
        [_("Referrals answered")],
        [
            Row(
                str(label),
                [answers.get(kind, (0, None))[0]],
                derived=[_hours(answers.get(kind, (0, None))[1])],
            )
            for kind, label in kinds
        ],
        derived_columns=[_("Median time to answer (hours)")],
        chart="",
    )
    return [by_state, answer_time]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600
