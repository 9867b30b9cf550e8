from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Institution
from accounts.roles import Role
from protocol import services
from protocol.models import CaseKind, PersonRole, Referral
from tests.browser.conftest import sign_in_verified
from tests.browser.test_child_case_flow import field, fill_text
from tests.factories import InstitutionFactory, MunicipalityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dv_case_referred_to_the_police_answered_then_expired(browser, live_server):
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
                role=PersonRole.VICTIM, first_name="Mimoza", last_name="Rama", sex="female"
            )
        ],
        needs=["physical"],
        reported_risk_level="high",
        reported_at=timezone.now(),
        report_channel="in_person",
        reporter_kind="self",
        reporter_details="",
        summary="Sulm në banesë.",
    )

    worker_page = browser.new_page(base_url=live_server.url)
    worker_page.set_default_timeout(15_000)
    sign_in_verified(worker_page, coordinator)
    worker_page.goto(case.get_absolute_url())
    worker_page.get_by_role("link", name="Referoje rastin").click()
    field(worker_page, "Institucioni").select_option(label="Policia Durrës")
    worker_page.get_by_label("identiteti dhe kontakti").check()
    fill_text(worker_page, "Arsyeja e referimit", "Kërkohet urdhër paraprak mbrojtjeje.")
    field(worker_page, "Urgjenca").select_option("urgent")
    field(worker_page, "Baza ligjore e ndarjes së të dhënave").select_option("consent")
    field(worker_page, "Përgjigja pritet deri më").fill(
        (timezone.localdate() + timedelta(days=1)).isoformat()
    )
    worker_page.get_by_role("button", name="Ruaj").click()
    assert "Rasti u referua." in worker_page.content()

    police_page = browser.new_page(base_url=live_server.url)
    police_page.set_default_timeout(15_000)
    sign_in_verified(police_page, officer)
    police_page.get_by_role("link", name="Referimet", exact=True).click()
    police_page.get_by_role("link", name=case.number).click()
    police_page.get_by_label("Prano").check()
    police_page.get_by_role("button", name="Dërgo përgjigjen").click()
    fill_text(police_page, "Çfarë bëri institucioni", "U lëshua UPMM për largim nga banesa.")
    police_page.get_by_role("button", name="Ruaj").click()
    police_page.get_by_role("link", name="Hap pjesët e ndara të rastit").click()
    assert "Mimoza Rama" in police_page.content()
    assert "Sulm në banesë." not in police_page.content()  # incidents were not referred

    worker_page.goto(case.get_absolute_url())
    assert "U lëshua UPMM për largim nga banesa." in worker_page.content()

    # The referral expires: access ends at once, before any clean-up runs.
    Referral.objects.update(
        referred_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    response = police_page.goto(case.get_absolute_url())
    assert response.status == 404
    assert "Mimoza" not in police_page.content()
