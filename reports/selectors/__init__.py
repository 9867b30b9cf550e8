"""The figures, counted in the database: who may see which (scope), the cases (cases)
and how the protocol is kept (compliance).

Every count is a GROUP BY or a conditional aggregate over the cases of the
reader's scope; no case is loaded into Python and no encrypted field is read.
"""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AdministrativeUnit, Municipality
from protocol.models import CaseKind

from ..tables import Table
from . import cases, compliance
from .scope import (
    Counted,
    Period,
    ReportFilters,
    ReportScope,
    counted,
    current_year_filters,
    report_scope,
)

__all__ = [
    "Counted",
    "Headline",
    "Period",
    "Report",
    "ReportFilters",
    "ReportScope",
    "counted",
    "current_year_filters",
    "headline_figures",
    "report_for",
    "report_scope",
]


@dataclass
class Report:
    title: str
    period: Period
    municipality: Municipality | None
    unit: AdministrativeUnit | None
    tables: list[Table]
    # Tables about the municipality's staff: shown on its dashboard, never published.
    internal_keys: frozenset[str] = frozenset({"overdue_by_worker"})

    def published_tables(self) -> list[Table]:
        return [table for table in self.tables if table.key not in self.internal_keys]


def report_for(scope: ReportScope, filters: ReportFilters) -> Report:
    """Every figure of the reader's scope for the filters, each table from one or two queries."""
    chosen = counted(scope, filters)
    municipality = (
        Municipality.objects.filter(pk=chosen.municipality_id).first()
        if chosen.municipality_id
        else None
    )
    unit = (
        AdministrativeUnit.objects.filter(pk=filters.unit_id).first() if filters.unit_id else None
    )
    tables = [
        *cases.case_tables(chosen),
        cases.new_and_closed_by_month(chosen),
        *cases.needs_and_gbvims(chosen),
        *cases.people_tables(chosen),
    ]
    if chosen.municipality_id is None:
        tables.append(cases.by_municipality(chosen))
    elif not filters.unit_id:
        tables.append(cases.by_unit(chosen))
    if CaseKind.CHILD in chosen.kinds:
        tables.append(cases.measures(chosen))
    if CaseKind.DV in chosen.kinds:
        tables.append(cases.orders(chosen))
    tables += [
        *cases.referrals(chosen),
        compliance.deadlines_met(chosen),
        compliance.time_in_stage(chosen),
    ]
    if not scope.national:
        tables.append(compliance.overdue_by_worker(chosen))
    title = municipality.name if municipality else _("All municipalities")
    return Report(
        title=title, period=filters.period, municipality=municipality, unit=unit, tables=tables
    )


@dataclass(frozen=True)
class Headline:
    """One headline figure of this year beside last year's, as the reports show them."""

    label: str
    this_year: str
    last_year: str


@dataclass(frozen=True)
class Headlines:
    this_year: int
    last_year: int
    figures: list[Headline]


def headline_figures(scope: ReportScope, *, today=None) -> Headlines:
    """The summary and the cases by kind of this year and last, from the same tables as the
    reports and with their disclosure control (small counts hidden when the scope says so)."""
    year = (today or timezone.localdate()).year
    shown = {}
    for each in (year, year - 1):
        chosen = counted(scope, ReportFilters(period=Period.year(each), chosen={"year": each}))
        summary, by_kind, *_rest = cases.case_tables(chosen)
        shown[each] = [
            table.shown(suppressed=scope.suppressed, links=False) for table in (summary, by_kind)
        ]
    figures = []
    for now_table, then_table in zip(shown[year], shown[year - 1], strict=True):
        for now_row, then_row in zip(now_table.rows, then_table.rows, strict=True):
            figures.append(
                Headline(
                    label=now_row.label,
                    this_year=now_row.cells[0].text,
                    last_year=then_row.cells[0].text,
                )
            )
    return Headlines(this_year=year, last_year=year - 1, figures=figures)
