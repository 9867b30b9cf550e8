"""Who reads which figures, and the cases a reader's figures count for the chosen filters.

Figures count the cases of a municipality and kind whether or not the reader
may open each one: that is what the supervisors' groups hold anyway
(protocol.access.SUPERVISOR_ROLES), and the officer and the statistician open
no case. Which case a link leads to is decided by the case list, through
protocol.access.

Periods: a case counts in a period while it is open at some time in it
(reported before the period ends, not closed before it starts); it is new in
the period when reported in it, closed when closed in it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from protocol.access import SUPERVISOR_ROLES
from protocol.models import Case, CaseKind


@dataclass(frozen=True)
class ReportScope:
    """The cases a reader's figures count, and how the figures may be shown.

    `municipality_id` is None for the national statistician: every municipality.
    `drill_down_kinds` are the kinds whose figures link to the case list.
    `suppressed`: small counts are hidden (the figures leave the municipality).
    """

    kinds: tuple[str, ...]
    municipality_id: int | None
    drill_down_kinds: frozenset[str] = frozenset()
    suppressed: bool = False

    @property
    def national(self) -> bool:
        return self.municipality_id is None


def report_scope(user: User) -> ReportScope:
    """The reader's scope; 404 for every role that reads no figures."""
    if not (user.is_authenticated and user.is_active) or user.is_superuser:
        raise Http404
    if user.has_role(Role.NATIONAL_STATISTICIAN):
        return ReportScope(kinds=tuple(CaseKind.values), municipality_id=None, suppressed=True)
    if user.municipality_id is None:
        raise Http404
    supervised = frozenset(kind for kind, roles in SUPERVISOR_ROLES.items() if user.roles & roles)
    if user.has_role(Role.GENDER_EQUALITY_OFFICER):
        kinds = tuple(CaseKind.values)
    elif supervised:
        kinds = tuple(kind for kind in CaseKind.values if kind in supervised)
    else:
        raise Http404
    return ReportScope(
        kinds=kinds, municipality_id=user.municipality_id, drill_down_kinds=supervised
    )


# --- Filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    label: str

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first_day, time.min))

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return timezone.make_aware(datetime.combine(self.last_day + timedelta(days=1), time.min))

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31), str(year))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        first = date(year, 3 * quarter - 2, 1)
        label = _("Q%(number)s %(year)s") % {"number": quarter, "year": year}
        return cls(first, _month_end(year, 3 * quarter), label)

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        first = date(year, month, 1)
        return cls(first, _month_end(year, month), date_format(first, "F Y"))

    @classmethod
    def between(cls, first_day: date, last_day: date) -> "Period":
        label = f"{date_format(first_day, 'd.m.Y')} - {date_format(last_day, 'd.m.Y')}"
        return cls(first_day, last_day, label)

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        months, day = [], self.first_day.replace(day=1)
        while day <= self.last_day:
            months.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return months


def _month_end(year: int, month: int) -> date:
    return (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class ReportFilters:
    period: Period
    municipality_id: int | None = None  # the statistician's choice of one municipality
    unit_id: int | None = None
    kind: str = ""
    # The filters as the reader chose them, for the audit record of an export.
    chosen: dict = field(default_factory=dict, compare=False)

    def identifiers(self) -> dict:
        return {key: value for key, value in self.chosen.items() if value not in ("", None)}


def current_year_filters() -> ReportFilters:
    year = timezone.localdate().year
    return ReportFilters(period=Period.year(year), chosen={"year": year})


# --- The cases counted ------------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """The reader's scope narrowed by the filters."""

    scope: ReportScope
    filters: ReportFilters
    kinds: tuple[str, ...]
    municipality_id: int | None

    @property
    def links(self) -> bool:
        return bool(self.kinds) and set(self.kinds) <= self.scope.drill_down_kinds

    def cases(self) -> QuerySet[Case]:
        """Every case of the scope and filters, whatever its dates."""
        cases = Case.objects.filter(kind__in=self.kinds)
        if self.municipality_id is not None:
            cases = cases.filter(municipality_id=self.municipality_id)
        if self.filters.unit_id:
            cases = cases.filter(administrative_unit_id=self.filters.unit_id)
        return cases

    def open_in_period(self) -> QuerySet[Case]:
        period = self.filters.period
        return self.cases().filter(
            Q(reported_at__lt=period.end),
            Q(closed_at__isnull=True) | Q(closed_at__gte=period.start),
        )

    def reported_in_period(self) -> QuerySet[Case]:
        period = self.filters.period
        return self.cases().filter(reported_at__gte=period.start, reported_at__lt=period.end)

    def link(self, **params) -> str:
        """The case list filtered to the cases of a figure (kind fixed when there is one)."""
        if len(self.kinds) == 1:
            params = {"kind": self.kinds[0], **params}
        if self.filters.unit_id and "unit" not in params:
            params["unit"] = self.filters.unit_id
        return f"{reverse('protocol:case_list')}?{urlencode(params)}"


def counted(scope: ReportScope, filters: ReportFilters) -> Counted:
    kinds = tuple(kind for kind in scope.kinds if not filters.kind or kind == filters.kind)
    municipality_id = scope.municipality_id if not scope.national else filters.municipality_id
    return Counted(scope=scope, filters=filters, kinds=kinds, municipality_id=municipality_id)


def in_period(name: str, period: Period) -> Q:
    return Q(**{f"{name}__gte": period.start, f"{name}__lt": period.end})
