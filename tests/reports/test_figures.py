"""The figures against the municipality of tests/reports/conftest.py, whose counts are known."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from protocol import services
from protocol.models import DeadlineSetting
from reports.selectors import Period, ReportFilters, ReportScope, report_for, report_scope
from tests.factories import UserFactory

from .conftest import child_case, period_filters

pytestmark = pytest.mark.django_db


def figures(report, key) -> dict[str, list[int]]:
    """A table of the report as {row label: counts (and the row total when there is one)}."""
    table = next(table for table in report.tables if table.key == key)
    return {row.label: row.counts for row in table.rows}


def column(report, key) -> dict[str, int]:
    return {label: counts[0] for label, counts in figures(report, key).items()}


def derived(report, key) -> dict[str, list]:
    table = next(table for table in report.tables if table.key == key)
    return {row.label: row.derived for row in table.rows}


def municipal(world, *kinds):
    return ReportScope(kinds=kinds or ("child", "dv"), municipality_id=world.durres.pk)


def test_cases_new_open_and_closed_in_the_period(world):
    report = report_for(municipal(world), period_filters())

    assert column(report, "summary") == {
        "Open at some time in the period": 6,  # C1-C4, D1, D2; not C5 (closed before), not B1
        "New: reported in the period": 5,
        "Closed in the period": 1,
        "Reopened in the period": 0,
    }


def test_a_reopened_case_counts_as_reopened_and_open(world):
    c5 = world.cases["C5"]
    services.case_reopen(
        by=world.users["head"], case=c5, version=c5.version, reason="Dhuna u përsërit."
    )

    report = report_for(municipal(world), period_filters())

    summary = column(report, "summary")
    assert summary["Reopened in the period"] == 1
    assert summary["Open at some time in the period"] == 7  # C5 is open again
    months = figures(report, "by_month")
    assert sum(counts[2] for counts in months.values()) == 1
    # Before the period, nothing was reopened.
    start = period_filters().period.first_day
    earlier = ReportFilters(
        period=Period.between(start - timedelta(days=200), start - timedelta(days=100))
    )
    assert column(report_for(municipal(world), earlier), "summary")["Reopened in the period"] == 0


def test_cases_by_kind_stage_and_risk_level(world):
    report = report_for(municipal(world), period_filters())

    assert column(report, "by_kind") == {
        "Child in need of protection": 4,
        "Domestic violence": 2,
    }
    assert column(report, "by_stage") == {
        "Identification and referral": 3,
        "Initial assessment done": 1,
        "Case conference held": 0,
        "Plan awaiting approval": 0,
        "Implementation and monitoring": 1,
        "Closure awaiting approval": 0,
        "Closed": 1,
    }
    assert column(report, "by_risk") == {"high": 1, "medium": 1, "low": 0, "not assessed yet": 4}


def test_the_head_counts_child_cases_and_the_coordinator_dv_cases(world):
    head = report_scope(world.users["head"])
    coordinator = report_scope(world.users["coordinator"])

    assert head.kinds == ("child",)
    assert coordinator.kinds == ("dv",)
    assert (
        column(report_for(head, period_filters()), "summary")["Open at some time in the period"]
        == 4
    )
    assert column(report_for(coordinator, period_filters()), "by_kind") == {"Domestic violence": 2}


def test_forms_of_violence_and_needs_count_each_case_once_per_form(world):
    needs = column(report_for(municipal(world), period_filters()), "by_need")

    assert needs["neglect"] == 2  # C1, C4 (not C5, closed before the period)
    assert needs["physical violence"] == 2  # C1, D1
    assert needs["abuse"] == 1
    assert needs["street situation"] == 1
    assert needs["psychological violence"] == 1
    assert needs["economic violence"] == 1
    assert needs["sexual violence"] == 1
    assert needs["trafficking"] == 0


def test_gbvims_core_types_count_distinct_cases(world):
    gbv = column(report_for(municipal(world), period_filters()), "gbvims")

    assert gbv == {
        "Rape": 0,
        "Sexual assault": 1,
        "Physical assault": 2,
        "Forced marriage": 0,
        "Denial of resources, opportunities or services": 1,
        "Psychological or emotional abuse": 1,
    }


def test_children_and_victims_by_sex_age_and_group_leave_out_perpetrators(world):
    report = report_for(municipal(world), period_filters())

    assert column(report, "by_sex") == {"female": 4, "male": 2, "not recorded": 0}
    assert column(report, "by_age") == {
        "0-5": 1,
        "6-11": 2,
        "12-17": 1,
        "18-24": 0,
        "25-59": 1,
        "60+": 1,
        "not recorded": 0,
    }
    assert column(report, "by_group") == {
        "Roma": 1,
        "Egyptian": 1,
        "With disability": 1,
        "Elderly (60 and over)": 1,
    }


def test_cases_by_administrative_unit_and_the_unit_filter(world):
    report = report_for(municipal(world), period_filters())
    assert column(report, "by_unit") == {
        "Njësia 1": 2,
        "Njësia 2": 1,
        "no administrative unit recorded": 3,
    }

    in_unit = report_for(municipal(world), period_filters(unit_id=world.units[0].pk))
    assert column(in_unit, "by_kind") == {"Child in need of protection": 2, "Domestic violence": 0}
    assert "by_unit" not in {table.key for table in in_unit.tables}


def test_new_and_closed_by_month_add_up_to_the_period(world):
    report = report_for(municipal(world), period_filters())
    months = figures(report, "by_month")

    assert sum(counts[0] for counts in months.values()) == 5
    assert sum(counts[1] for counts in months.values()) == 1
    assert len(months) in (3, 4)  # 90 days touch three or four months


def test_a_year_a_quarter_and_a_month_are_periods():
    assert Period.year(2025).first_day.isoformat() == "2025-01-01"
    assert Period.quarter(2024, 1).last_day.isoformat() == "2024-03-31"
    assert Period.quarter(2025, 4).first_day.isoformat() == "2025-10-01"
    assert Period.month(2024, 2).last_day.isoformat() == "2024-02-29"
    assert [month.month for month in Period.quarter(2025, 3).months()] == [7, 8, 9]


def test_protection_orders_by_kind_and_outcome(world):
    orders = figures(report_for(municipal(world), period_filters()), "orders")

    upmm = orders["Preliminary immediate protection order (UPMM, police)"]
    umm = orders["Immediate protection order (UMM, court)"]
    # Columns: awaiting decision, granted, partly granted, rejected, dismissed, refused.
    assert upmm == [1, 0, 0, 0, 0, 0]
    assert umm == [0, 1, 0, 0, 0, 0]


def test_the_head_sees_no_orders_table(world):
    report = report_for(report_scope(world.users["head"]), period_filters())

    assert "orders" not in {table.key for table in report.tables}
    assert "measures" in {table.key for table in report.tables}


def test_referrals_by_institution_and_state_with_the_median_time_to_answer(world):
    report = report_for(municipal(world), period_filters())
    referrals = figures(report, "referrals")

    # Columns: new, accepted, in progress, done, declined, expired, revoked.
    assert referrals["State Police"] == [0, 2, 0, 0, 0, 0, 0]
    assert referrals["School or education office"] == [1, 0, 0, 0, 0, 0, 0]
    answers = derived(report, "referral_answers")
    assert answers["State Police"][0] == pytest.approx(4.0, abs=0.01)  # median of 5 h and 3 h
    assert answers["School or education office"] == [None]
    assert column(report, "referral_answers")["State Police"] == 2


def test_deadlines_met_for_the_cases_reported_in_the_period(world):
    report = report_for(municipal(world), period_filters())
    deadlines = figures(report, "deadlines")

    # [in time, late or overdue]. D2's risk assessment is not due yet: not counted.
    assert deadlines["Initial or risk assessment"] == [1, 3]  # C1 / C2 late, C3 and D1 overdue
    assert deadlines["Case conference"] == [1, 1]  # C1 / C2 overdue
    assert deadlines["Plan approved"] == [0, 1]  # C1 approved weeks after its conference
    assert deadlines["Review of the plan (cases in monitoring now)"] == [1, 0]
    shares = derived(report, "deadlines")
    assert shares["Initial or risk assessment"] == [25.0]


def test_deadlines_follow_the_municipality_own_settings(world):
    DeadlineSetting.objects.create(
        municipality=world.durres, key="assessment_other_hours", value=200
    )

    deadlines = figures(report_for(municipal(world), period_filters()), "deadlines")

    # C2 was assessed 100 h after the report: in time now; C3 (120 h) is not due yet.
    assert deadlines["Initial or risk assessment"] == [2, 1]


def test_median_time_in_each_stage_from_the_stage_changes(world):
    from protocol.models import StageTransition

    c1 = world.cases["C1"]
    start = timezone.now() - timedelta(days=20)
    steps = ["register", "assess", "hold_conference", "submit_plan", "approve_plan"]
    # Four days registered, two assessed, three in conference, one awaiting approval.
    offsets = dict(zip(steps, [0, 4, 6, 9, 10], strict=True))
    for transition in StageTransition.objects.filter(case=c1):
        StageTransition.objects.filter(pk=transition.pk).update(
            at=start + timedelta(days=offsets[transition.action])
        )

    report = report_for(municipal(world, "child"), period_filters())
    stays = figures(report, "time_in_stage")
    days = derived(report, "time_in_stage")

    # Ended stays: registered C1, C2 (assessed) and C4 (closure proposed); the rest C1's.
    assert stays["Identification and referral"] == [3]
    assert stays["Initial assessment done"] == [1]
    assert stays["Implementation and monitoring"] == [0]
    assert stays["Closure awaiting approval"] == [1]
    assert days["Initial assessment done"][0] == pytest.approx(2.0)
    assert days["Case conference held"][0] == pytest.approx(3.0)
    assert days["Plan awaiting approval"][0] == pytest.approx(1.0)
    assert days["Implementation and monitoring"] == [None]


def test_overdue_cases_by_worker_in_charge(world):
    report = report_for(municipal(world), period_filters())

    assert column(report, "overdue_by_worker") == {"Elira Puna": 2, "Mirela Koordinata": 1}
    assert "overdue_by_worker" not in {t.key for t in report.published_tables()}


def test_the_national_view_counts_every_municipality_by_kind(world):
    scope = report_scope(world.users["statistician"])
    report = report_for(scope, period_filters())

    assert scope.national
    assert scope.suppressed
    assert column(report, "summary")["Open at some time in the period"] == 7
    assert figures(report, "by_municipality") == {"Berat": [1, 0], "Durrës": [4, 2]}
    assert "overdue_by_worker" not in {table.key for table in report.tables}

    durres = report_for(scope, period_filters(municipality_id=world.durres.pk))
    assert column(durres, "summary")["Open at some time in the period"] == 6
    assert "by_unit" in {table.key for table in durres.tables}


@pytest.mark.parametrize(
    "roles",
    [
        [Role.CHILD_PROTECTION_WORKER],
        [Role.CCR_MEMBER],
        [Role.MUNICIPAL_ADMINISTRATOR],
        [],
    ],
)
def test_other_roles_have_no_scope(world, roles):
    user = UserFactory(municipality=world.durres, roles=roles)

    with pytest.raises(Http404):
        report_scope(user)


def test_the_figures_take_the_same_queries_whatever_the_number_of_cases(world):
    scope = municipal(world)
    with CaptureQueriesContext(connection) as before:
        report_for(scope, period_filters())
    for index in range(3):
        child_case(
            world.users["worker"],
            reported_at=timezone.now() - timedelta(days=index + 1),
            first=f"Shtesë{index}",
            sex="female",
            age_group="6-11",
            needs=["neglect", "abuse"],
        )
    with CaptureQueriesContext(connection) as after:
        report = report_for(scope, period_filters())

    assert column(report, "summary")["New: reported in the period"] == 8
    assert len(after) == len(before)
