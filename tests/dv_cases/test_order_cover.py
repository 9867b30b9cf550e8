"""The warning that a protection order expires ends when a later order protects the same
person beyond it (the court's UMM after the police's UPMM), on the case page, the home
page and in the reminders (all read dv_cases.selectors)."""

from datetime import timedelta

from django.utils import timezone

from dv_cases.selectors import orders_expiring_soon, orders_of
from dv_cases.services import protection_order_decide
from tests.conftest import signed_in_client

from .test_orders import request_order


def decided(by, case, kind, *, starts_in_days=0, expires_in_days):
    order = request_order(by, case, kind=kind)
    case.refresh_from_db()
    today = timezone.localdate()
    order = protection_order_decide(
        by=by,
        order=order,
        version=case.version,
        outcome="granted",
        decided_at=timezone.now(),
        valid_from=today + timedelta(days=starts_in_days),
        expires_on=today + timedelta(days=expires_in_days),
    )
    case.refresh_from_db()
    return order


def test_a_court_order_ends_the_warning_of_the_police_order(coordinator, dv_case):
    upmm = decided(coordinator, dv_case, "upmm", expires_in_days=2)
    assert orders_expiring_soon(coordinator) == [upmm]
    page = signed_in_client(coordinator).get(dv_case.get_absolute_url()).content.decode()
    assert "skadon më" in page

    umm = decided(coordinator, dv_case, "umm", expires_in_days=60)

    assert orders_expiring_soon(coordinator) == []
    statuses = dict(orders_of(dv_case))
    assert statuses[upmm].covered_by == umm
    assert not statuses[upmm].expires_soon
    page = signed_in_client(coordinator).get(dv_case.get_absolute_url()).content.decode()
    assert "skadon më" not in page


def test_an_order_that_leaves_a_gap_does_not_end_the_warning(coordinator, dv_case):
    upmm = decided(coordinator, dv_case, "upmm", expires_in_days=2)
    decided(coordinator, dv_case, "umm", starts_in_days=5, expires_in_days=60)

    assert orders_expiring_soon(coordinator) == [upmm]
    assert dict(orders_of(dv_case))[upmm].covered_by is None


def test_an_order_expiring_sooner_does_not_cover(coordinator, dv_case):
    um = decided(coordinator, dv_case, "um", expires_in_days=3)
    decided(coordinator, dv_case, "upmm", expires_in_days=1)

    assert um in orders_expiring_soon(coordinator)
    assert dict(orders_of(dv_case))[um].expires_soon
