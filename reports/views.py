"""The reports pages: the dashboard, its exports, and the yearly report for print."""

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.models import Action
from audit.services import record

from . import exports
from .charts import chart_for
from .forms import ReportFilterForm
from .selectors import Report, ReportScope, current_year_filters, report_for, report_scope

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _filters(request, scope: ReportScope, *, yearly: bool = False):
    """The form and the filters it gives; the current year until a valid form says otherwise."""
    form = ReportFilterForm(request.GET or None, scope=scope, yearly=yearly)
    filters = form.filters() if form.is_valid() else current_year_filters()
    return form, filters


def _figures(report: Report, scope: ReportScope, *, published: bool) -> list[dict]:
    tables = report.published_tables() if published else report.tables
    figures = []
    for table in tables:
        shown = table.shown(suppressed=scope.suppressed or published, links=not published)
        figures.append({"table": shown, "chart": chart_for(shown)})
    return figures


@require_GET
def dashboard(request):
    scope = report_scope(request.user)
    form, filters = _filters(request, scope)
    report = report_for(scope, filters)
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "report": report,
            "scope": scope,
            "figures": _figures(report, scope, published=False),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
def export(request, fmt):
    """The dashboard's figures as CSV or XLSX, always with small counts suppressed."""
    scope = report_scope(request.user)
    if fmt not in CONTENT_TYPES:
        raise Http404
    form, filters = _filters(request, scope)
    if form.is_bound and not form.is_valid():
        # Back to the page, which says what is wrong: never an export of other filters.
        return redirect(f"{reverse('reports:dashboard')}?{request.GET.urlencode()}")
    report = report_for(scope, filters)
    shown = [table.shown(suppressed=True, links=False) for table in report.published_tables()]
    rows, figures = exports.sheet_of(_heading(report), shown)
    if fmt == "csv":
        content = exports.csv_bytes(rows)
    else:
        content = exports.xlsx_bytes(rows, sheet_name=report.title)
    record(
        Action.EXPORTED,
        object_type="reports.figures",
        municipality_id=report.municipality.pk if report.municipality else None,
        detail={**filters.identifiers(), "format": fmt, "rows": figures},
    )
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    name = slugify(f"mbrojtje {report.title} {report.period.label}") or "mbrojtje"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _heading(report: Report) -> list[str]:
    lines = [
        f"Mbrojtje — {report.title}",
        _("Period: %(period)s") % {"period": report.period.label},
    ]
    if report.unit:
        lines.append(_("Administrative unit: %(unit)s") % {"unit": report.unit.name})
    lines.append(
        _(
            "Made on %(date)s. Counts from 1 to 4 are shown as <5; x marks a number hidden so that "
            "they cannot be worked out."
        )
        % {"date": timezone.localdate().isoformat()}
    )
    return lines


@require_GET
def yearly(request):
    """The yearly report laid out for print; published figures, so small counts suppressed."""
    scope = report_scope(request.user)
    form, filters = _filters(request, scope, yearly=True)
    report = report_for(scope, filters)
    figures = _figures(report, scope, published=True)
    record(
        Action.EXPORTED,
        object_type="reports.yearly",
        municipality_id=report.municipality.pk if report.municipality else None,
        detail={
            **filters.identifiers(),
            "format": "print",
            "rows": sum(figure["table"].data_rows for figure in figures),
        },
    )
    return render(
        request,
        "reports/yearly.html",
        {"form": form, "report": report, "scope": scope, "figures": figures},
    )
