"""Every page of dv_cases refuses, with a 404 that tells nothing, whoever may not change
the case: a coordinator of another municipality, a reader of a referred case."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from dv_cases.models import (
    Incident,
    OrderBreach,
    ProtectionOrder,
    RiskAssessment,
    ShelterPlacement,
)
from dv_cases.selectors import active_questionnaire
from dv_cases.services import (
    protection_order_decide,
    protection_order_record,
    shelter_placement_end,
    shelter_placement_record,
)
from protocol.services import PersonData, case_advance, case_register, closure_propose
from tests.conftest import signed_in_client
from tests.factories import UserFactory

from .conftest import VICTIM_NAME


@pytest.fixture
def pages(coordinator, dv_case, court, shelter):
    """Each page of a case with what a valid POST to it would send."""
    now = timezone.localtime()
    today = now.date().isoformat()
    minute = now.strftime("%Y-%m-%dT%H:%M")

    def order():
        return protection_order_record(
            by=coordinator,
            case=dv_case,
            kind="umm",
            requested_by="victim",
            requested_at=timezone.now() - timedelta(hours=1),
            issuing_institution=court,
            measures="",
            covers_children=False,
        )

    pending = order()
    granted = protection_order_decide(
        by=coordinator,
        order=order(),
        version=dv_case.version,
        outcome="granted",
        decided_at=timezone.now(),
        valid_from=timezone.localdate(),
        expires_on=None,
    )
    placement = shelter_placement_record(
        by=coordinator, case=dv_case, shelter=shelter, placed_on=timezone.localdate(), notes=""
    )
    dv_case.refresh_from_db()
    version = dv_case.version
    base = f"/cases/dv/{dv_case.number}/"
    risk = {"version": version, "assessed_at": minute}
    for question in active_questionnaire().questions.all():
        risk[f"question_{question.pk}"] = "yes"
    return {
        "incidents/new/": {
            "occurred_on": today,
            "forms_of_violence": ["physical"],
            "narrative": "Tjetër incident.",
        },
        "risk/new/": risk,
        "orders/new/": {"kind": "um", "requested_by": "victim", "requested_at": minute},
        f"orders/{pending.pk}/decide/": {
            "version": version,
            "outcome": "rejected",
            "decided_at": minute,
        },
        f"orders/{granted.pk}/breaches/new/": {"occurred_on": today, "description": "Shkelje."},
        "shelter/new/": {"shelter": shelter.pk, "placed_on": today},
        f"shelter/{placement.pk}/end/": {"version": version, "left_on": today},
    } | {"base": base}


def snapshot():
    return (
        Incident.objects.count(),
        RiskAssessment.objects.count(),
        list(ProtectionOrder.objects.order_by("pk").values_list("pk", "outcome")),
        OrderBreach.objects.count(),
        list(ShelterPlacement.objects.order_by("pk").values_list("pk", "left_on")),
    )


PAGES = [
    "incidents/new/",
    "risk/new/",
    "orders/new/",
    "decide",
    "breaches",
    "shelter/new/",
    "end",
]


def resolve(pages, name):
    return next(path for path in pages if path != "base" and (path == name or name in path))


@pytest.mark.parametrize("name", PAGES)
def test_coordinator_of_another_municipality_gets_not_found(pages, name, other_coordinator):
    path = resolve(pages, name)
    url = pages["base"] + path
    client = signed_in_client(other_coordinator)
    before = snapshot()

    for response in (client.get(url), client.post(url, pages[path])):
        page = response.content.decode()
        assert response.status_code == 404
        # The page may repeat the address asked for, and nothing of the case.
        for secret in (VICTIM_NAME[1], "Rruga e Dibrës", "Strehëza", 'name="version"'):
            assert secret not in page
    assert snapshot() == before


@pytest.mark.parametrize("name", PAGES)
def test_reader_who_may_not_change_the_case_cannot_post(pages, name, reader):
    path = resolve(pages, name)
    url = pages["base"] + path
    client = signed_in_client(reader)
    before = snapshot()

    assert client.get(url).status_code == 404
    assert client.post(url, pages[path]).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("name", PAGES)
def test_coordinator_of_the_case_can_use_every_page(pages, name, coordinator):
    """The other side of the denials above: the same requests work for the coordinator."""
    path = resolve(pages, name)
    url = pages["base"] + path
    if name == "shelter/new/":
        # One stay at a time: the one the fixture opened ends first.
        placement = ShelterPlacement.objects.get()
        shelter_placement_end(
            by=coordinator,
            placement=placement,
            version=placement.case.version,
            left_on=placement.placed_on,
        )
    client = signed_in_client(coordinator)
    before = snapshot()

    assert client.get(url).status_code in (200, 302)
    response = client.post(url, pages[path])

    assert response.status_code == 302, response.content.decode()
    assert snapshot() != before


def test_child_case_is_not_found_on_dv_pages(worker, coordinator):
    child_case = case_register(
        by=worker,
        kind="child",
        people=[PersonData(role="child", first_name="Ana", last_name="Hoxha")],
        needs=["neglect"],
        reported_risk_level="low",
        reported_at=timezone.now(),
        report_channel="phone",
        reporter_kind="school",
        reporter_details="",
        summary="…",
    )

    response = signed_in_client(worker).get(f"/cases/dv/{child_case.number}/incidents/new/")

    assert response.status_code == 404


def test_closed_case_cannot_be_changed_even_by_its_coordinator(coordinator, dv_case, municipality):
    # Nobody approves their own work: the director approves the coordinator's closure.
    director = UserFactory(municipality=municipality, roles=[Role.HEAD_OF_SOCIAL_SERVICES])
    closure_propose(
        by=coordinator,
        case=dv_case,
        version=dv_case.version,
        closure_reason="victim_safe",
        explanation="Viktima jeton me familjen e saj.",
    )
    dv_case.refresh_from_db()
    case_advance(by=director, case=dv_case, version=dv_case.version, action="approve_closure")
    client = signed_in_client(coordinator)

    for path in ("incidents/new/", "risk/new/", "orders/new/", "shelter/new/"):
        assert client.get(f"/cases/dv/{dv_case.number}/{path}").status_code == 404
