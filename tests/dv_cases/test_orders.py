from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Institution
from dv_cases.models import OrderBreach, ProtectionOrder
from dv_cases.selectors import order_status, orders_expiring_soon
from dv_cases.services import (
    order_breach_record,
    protection_order_decide,
    protection_order_record,
)
from protocol.models import DeadlineSetting
from protocol.services import StaleEdit
from protocol.stages import TransitionNotAllowed
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory

from .conftest import grant, register_dv_case


def request_order(by, case, *, kind="umm", issuer=None, requested_at=None):
    return protection_order_record(
        by=by,
        case=case,
        kind=kind,
        requested_by="victim",
        requested_at=requested_at or timezone.now() - timedelta(hours=1),
        issuing_institution=issuer,
        measures="Largim nga banesa.",
        covers_children=True,
    )


def granted_order(by, case, *, expires_in_days, issuer=None):
    order = request_order(by, case, issuer=issuer)
    case.refresh_from_db()
    today = timezone.localdate()
    return protection_order_decide(
        by=by,
        order=order,
        version=case.version,
        outcome="granted",
        decided_at=timezone.now(),
        valid_from=today,
        expires_on=today + timedelta(days=expires_in_days),
    )


def set_deadline(municipality, key, value):
    DeadlineSetting.objects.update_or_create(
        municipality=municipality, key=key, defaults={"value": value}
    )


# --- Outcomes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "valid_from_days", "expires_in_days", "field"),
    [
        ("pending", None, None, "outcome"),
        ("granted", None, 30, "valid_from"),
        ("partly_granted", None, None, "valid_from"),
        ("rejected", 0, None, "valid_from"),
        ("dismissed", None, 10, "valid_from"),
        ("granted", 0, -1, "__all__"),
    ],
)
def test_decision_outcome_and_dates_are_validated(
    coordinator, dv_case, outcome, valid_from_days, expires_in_days, field
):
    order = request_order(coordinator, dv_case)
    today = timezone.localdate()

    with pytest.raises(ValidationError) as refused:
        protection_order_decide(
            by=coordinator,
            order=order,
            version=dv_case.version,
            outcome=outcome,
            decided_at=timezone.now(),
            valid_from=None if valid_from_days is None else today + timedelta(valid_from_days),
            expires_on=None if expires_in_days is None else today + timedelta(expires_in_days),
        )

    assert field in refused.value.message_dict
    order.refresh_from_db()
    assert (order.outcome, order.decided_at) == ("pending", None)


def test_rejected_order_has_no_validity_and_cannot_be_decided_again(coordinator, dv_case):
    order = request_order(coordinator, dv_case)
    decided = protection_order_decide(
        by=coordinator,
        order=order,
        version=dv_case.version,
        outcome="rejected",
        decided_at=timezone.now(),
        valid_from=None,
        expires_on=None,
    )
    assert (decided.outcome, decided.valid_from) == ("rejected", None)
    dv_case.refresh_from_db()

    with pytest.raises(TransitionNotAllowed):
        protection_order_decide(
            by=coordinator,
            order=order,
            version=dv_case.version,
            outcome="granted",
            decided_at=timezone.now(),
            valid_from=timezone.localdate(),
            expires_on=None,
        )


def test_database_refuses_a_granted_order_without_a_decision_date(coordinator, dv_case):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtectionOrder.objects.create(
            case=dv_case,
            kind="umm",
            requested_by="victim",
            requested_at=timezone.now(),
            outcome="granted",
            valid_from=timezone.localdate(),
            recorded_by=coordinator,
        )


def test_decision_with_a_stale_version_is_refused(coordinator, dv_case):
    order = request_order(coordinator, dv_case)

    with pytest.raises(StaleEdit):
        protection_order_decide(
            by=coordinator,
            order=order,
            version=dv_case.version - 1,
            outcome="rejected",
            decided_at=timezone.now(),
            valid_from=None,
            expires_on=None,
        )


def test_upmm_is_issued_by_the_police_and_umm_by_the_court(coordinator, dv_case, police, court):
    with pytest.raises(ValidationError) as refused:
        request_order(coordinator, dv_case, kind="upmm", issuer=court)
    assert "issuing_institution" in refused.value.message_dict
    with pytest.raises(ValidationError):
        request_order(coordinator, dv_case, kind="umm", issuer=police)

    assert request_order(coordinator, dv_case, kind="upmm", issuer=police).is_pending
    assert request_order(coordinator, dv_case, kind="umm", issuer=court).is_pending


def test_court_of_another_municipality_is_refused(coordinator, dv_case, other_municipality):
    other_court = InstitutionFactory(municipality=other_municipality, kind=Institution.Kind.COURT)

    with pytest.raises(ValidationError):
        request_order(coordinator, dv_case, issuer=other_court)


# --- Deadlines and expiry ------------------------------------------------------------------


def test_umm_decision_is_overdue_after_the_configured_hours(coordinator, dv_case, municipality):
    now = timezone.now()
    order = request_order(coordinator, dv_case, requested_at=now - timedelta(hours=30))

    status = order_status(order, now=now)
    assert status.decision_due_at == order.requested_at + timedelta(hours=48)
    assert not status.is_overdue_decision

    set_deadline(municipality, "umm_decision_hours", 24)
    assert order_status(order, now=now).is_overdue_decision


def test_um_hearing_is_due_after_the_configured_days(coordinator, dv_case):
    now = timezone.now()
    order = request_order(coordinator, dv_case, kind="um", requested_at=now - timedelta(days=16))

    status = order_status(order, now=now)

    assert status.decision_due_at == order.requested_at + timedelta(days=15)
    assert status.is_overdue_decision


def test_decided_order_is_not_overdue(coordinator, dv_case):
    order = request_order(coordinator, dv_case, requested_at=timezone.now() - timedelta(hours=50))
    assert order_status(order).is_overdue_decision

    decided = protection_order_decide(
        by=coordinator,
        order=order,
        version=dv_case.version,
        outcome="dismissed",
        decided_at=timezone.now(),
        valid_from=None,
        expires_on=None,
    )

    assert not order_status(decided).is_overdue_decision


def test_expiry_warning_window_follows_the_deadline_setting(
    coordinator, other_coordinator, dv_case, municipality
):
    order = granted_order(coordinator, dv_case, expires_in_days=10)

    # The default window is 7 days.
    assert not order_status(order).expires_soon
    assert orders_expiring_soon(coordinator) == []

    set_deadline(municipality, "order_expiry_warning_days", 14)

    assert order_status(order).expires_soon
    assert orders_expiring_soon(coordinator) == [order]
    assert orders_expiring_soon(other_coordinator) == []


def test_expired_order_is_no_longer_in_force(coordinator, dv_case):
    order = granted_order(coordinator, dv_case, expires_in_days=0)
    tomorrow = timezone.now() + timedelta(days=1)

    assert order_status(order).in_force
    status = order_status(order, now=tomorrow)
    assert (status.in_force, status.expired, status.expires_soon) == (False, True, False)


def test_expiring_orders_leave_out_cases_whose_orders_the_user_may_not_see(
    coordinator, dv_case, reader, worker
):
    order = granted_order(coordinator, dv_case, expires_in_days=2)
    grant(dv_case, worker, "view_case")

    assert orders_expiring_soon(reader) == [order]
    assert orders_expiring_soon(worker) == []


# --- Breaches ---------------------------------------------------------------------------


def test_breach_is_recorded_only_while_the_order_is_valid(coordinator, dv_case):
    order = granted_order(coordinator, dv_case, expires_in_days=30)

    with pytest.raises(ValidationError):
        order_breach_record(
            by=coordinator,
            order=order,
            occurred_on=timezone.localdate() - timedelta(days=1),
            description="U afrua te shtëpia.",
            reported_to_police=True,
        )
    breach = order_breach_record(
        by=coordinator,
        order=order,
        occurred_on=timezone.localdate(),
        description="U afrua te shtëpia.",
        reported_to_police=True,
    )

    assert list(order.breaches.all()) == [breach]


def test_pending_order_cannot_be_breached(coordinator, dv_case):
    order = request_order(coordinator, dv_case)

    with pytest.raises(TransitionNotAllowed):
        order_breach_record(
            by=coordinator,
            order=order,
            occurred_on=timezone.localdate(),
            description="…",
            reported_to_police=False,
        )


# --- Pages ----------------------------------------------------------------------------------


def test_coordinator_requests_decides_and_records_a_breach_through_the_pages(
    coordinator, dv_case, court
):
    client = signed_in_client(coordinator)
    now = timezone.localtime()
    base = f"/cases/dv/{dv_case.number}/orders/"

    response = client.post(
        base + "new/",
        {
            "kind": "umm",
            "requested_by": "social_services",
            "requested_at": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "issuing_institution": court.pk,
            "measures": "Ndalim afrimi.",
            "covers_children": "on",
        },
    )
    order = ProtectionOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == dv_case.get_absolute_url() + f"#order-{order.pk}"
    assert (order.issuing_institution, order.covers_children) == (court, True)

    response = client.post(
        base + f"{order.pk}/decide/",
        {
            "version": dv_case.version,
            "outcome": "partly_granted",
            "decided_at": now.strftime("%Y-%m-%dT%H:%M"),
            "valid_from": now.date().isoformat(),
            "expires_on": (now.date() + timedelta(days=3)).isoformat(),
            "measures": "Ndalim afrimi në 200 metra.",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.outcome, order.measures) == ("partly_granted", "Ndalim afrimi në 200 metra.")

    response = client.post(
        base + f"{order.pk}/breaches/new/",
        {"occurred_on": now.date().isoformat(), "description": "Telefonata kërcënuese."},
    )
    assert response.status_code == 302
    assert OrderBreach.objects.get().reported_to_police is False


def test_decision_page_shows_the_service_refusal_next_to_the_field(coordinator, dv_case):
    order = request_order(coordinator, dv_case)
    client = signed_in_client(coordinator)

    response = client.post(
        f"/cases/dv/{dv_case.number}/orders/{order.pk}/decide/",
        {
            "version": dv_case.version,
            "outcome": "granted",
            "decided_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert response.status_code == 200
    assert 'id="id_valid_from_error"' in response.content.decode()
    order.refresh_from_db()
    assert order.is_pending


def test_decision_page_with_a_stale_version_saves_nothing(coordinator, dv_case):
    order = request_order(coordinator, dv_case)
    client = signed_in_client(coordinator)

    response = client.post(
        f"/cases/dv/{dv_case.number}/orders/{order.pk}/decide/",
        {
            "version": dv_case.version - 1,
            "outcome": "rejected",
            "decided_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert response.status_code == 200
    assert 'class="form-errors"' in response.content.decode()
    order.refresh_from_db()
    assert order.is_pending


def test_order_of_another_case_is_not_found(coordinator, dv_case):
    other_case = register_dv_case(coordinator, personal_number="K80101001B", first_name="Elda")
    order = request_order(coordinator, other_case)

    response = signed_in_client(coordinator).get(
        f"/cases/dv/{dv_case.number}/orders/{order.pk}/decide/"
    )

    assert response.status_code == 404
