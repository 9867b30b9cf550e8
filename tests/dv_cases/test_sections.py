"""The DV sections of the case page: what they show, to whom, with which warnings."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from dv_cases.services import (
    protection_order_decide,
    protection_order_record,
    shelter_placement_record,
)
from tests.conftest import signed_in_client

from .conftest import grant


def case_page(user, case):
    client = signed_in_client(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def orders(coordinator, dv_case, court):
    def request(hours_ago):
        return protection_order_record(
            by=coordinator,
            case=dv_case,
            kind="umm",
            requested_by="police",
            requested_at=timezone.now() - timedelta(hours=hours_ago),
            issuing_institution=court,
            measures="Largim nga banesa.",
            covers_children=True,
        )

    overdue = request(hours_ago=60)
    expiring = protection_order_decide(
        by=coordinator,
        order=request(hours_ago=5),
        version=dv_case.version,
        outcome="granted",
        decided_at=timezone.now(),
        valid_from=timezone.localdate(),
        expires_on=timezone.localdate() + timedelta(days=3),
    )
    return overdue, expiring


def test_coordinator_sees_incidents_orders_with_warnings_and_links(
    coordinator, dv_case, orders, shelter
):
    overdue, expiring = orders
    shelter_placement_record(
        by=coordinator, case=dv_case, shelter=shelter, placed_on=timezone.localdate(), notes=""
    )

    page = case_page(coordinator, dv_case)

    assert "E goditi me grusht para fëmijëve." in page
    assert "The decision on the Immediate protection order (UMM, court) is overdue." in page
    expiry = (timezone.localdate() + timedelta(days=3)).strftime("%d.%m.%Y")
    assert f"expires on {expiry}" in page
    assert f"/cases/dv/{dv_case.number}/orders/{overdue.pk}/decide/" in page
    assert f"/cases/dv/{dv_case.number}/orders/{expiring.pk}/breaches/new/" in page
    assert f"/cases/dv/{dv_case.number}/risk/new/" in page
    assert "Strehëza e Bardhë" in page


def test_reader_without_the_identity_part_does_not_see_the_shelter(
    coordinator, dv_case, shelter, orders, worker
):
    shelter_placement_record(
        by=coordinator, case=dv_case, shelter=shelter, placed_on=timezone.localdate(), notes=""
    )
    grant(dv_case, worker, "view_case", "view_orders")

    page = case_page(worker, dv_case)

    assert "Largim nga banesa." in page
    assert "Strehëza e Bardhë" not in page
    assert "E goditi me grusht" not in page
    # Reading is not changing: no link to the pages that would refuse anyway.
    assert "/cases/dv/" not in page
