"""A DV victim moves: the coordinator records the new address, and the police, through an
open referral that shares the identity part, read it on the case page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Institution
from accounts.roles import Role
from protocol import services
from protocol.models import CaseKind, Person, PersonRole
from protocol.services import referrals as referral_services
from tests.browser.conftest import sign_in_verified
from tests.browser.test_child_case_flow import fill_text
from tests.factories import InstitutionFactory, MunicipalityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD_ADDRESS = "Rruga Skënderbej 4, Durrës"
NEW_ADDRESS = "Lagjja 13, Rruga Egnatia 88, Durrës"


def test_victims_new_address_is_seen_by_the_police_through_the_referral(browser, live_server):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    police = InstitutionFactory(
        municipality=municipality, name="Policia Durrës", kind=Institution.Kind.POLICE
    )
    coordinator = UserFactory(
        username="kvdhf.dr", municipality=municipality, roles=[Role.DV_COORDINATOR]
    )
    officer = UserFactory(
        username="polic.dr", municipality=municipality, institution=police, roles=[Role.CCR_MEMBER]
    )
    case = services.case_register(
        by=coordinator,
        kind=CaseKind.DV,
        people=[
            services.PersonData(
                role=PersonRole.VICTIM,
                first_name="Mimoza",
                last_name="Rama",
                sex="female",
                address=OLD_ADDRESS,
            ),
            services.PersonData(
                role=PersonRole.PERPETRATOR,
                first_name="Arben",
                last_name="Kelmendi",
                relationship_to_victim="spouse",
            ),
        ],
        needs=["physical"],
        reported_risk_level="high",
        reported_at=timezone.now(),
        report_channel="in_person",
        reporter_kind="self",
        reporter_details="",
        summary="Sulm në banesë.",
    )
    referral = referral_services.referral_create(
        by=coordinator,
        case=case,
        institution=police,
        parts=["identity"],
        reason="Kërkohet urdhër paraprak mbrojtjeje.",
        urgency="urgent",
        legal_basis="consent",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    victim = case.people.get(role=PersonRole.VICTIM)

    coordinator_page = browser.new_page(base_url=live_server.url)
    coordinator_page.set_default_timeout(15_000)
    sign_in_verified(coordinator_page, coordinator)
    coordinator_page.goto(case.get_absolute_url())
    coordinator_page.locator(f"#person-{victim.pk}").get_by_role(
        "link", name="Ndrysho të dhënat"
    ).click()
    fill_text(coordinator_page, "Adresa", NEW_ADDRESS)
    coordinator_page.get_by_role("button", name="Ruaj").click()
    coordinator_page.wait_for_url(f"**{case.get_absolute_url()}#people")
    assert f"Të dhënat e Mimoza Rama në rastin {case.number} u ruajtën." in (
        coordinator_page.content()
    )
    victim_card = coordinator_page.locator(f"#person-{victim.pk}")
    assert victim_card.locator(".current-address").inner_text() == NEW_ADDRESS
    assert Person.objects.get(pk=victim.pk).address == NEW_ADDRESS

    police_page = browser.new_page(base_url=live_server.url)
    police_page.set_default_timeout(15_000)
    sign_in_verified(police_page, officer)
    police_page.goto(referral.get_absolute_url())
    police_page.get_by_role("link", name="Hap pjesët e ndara të rastit").click()
    card = police_page.locator(f"#person-{victim.pk}")
    assert card.locator(".current-address").inner_text() == NEW_ADDRESS
    card.get_by_text("Adresat e mëparshme").click()
    assert OLD_ADDRESS in card.inner_text()
    # The police read the people; they change none of them.
    assert card.get_by_role("link", name="Ndrysho të dhënat").count() == 0
    assert police_page.get_by_role("link", name="Shto një person").count() == 0
    assert "Sulm në banesë." not in police_page.content()
