import re

import pytest
from django.utils import timezone

from accounts.roles import Role
from protocol.models import Case, Stage
from tests.browser.conftest import sign_in_verified
from tests.browser.test_child_case_flow import field, fill_text
from tests.factories import InstitutionFactory, MunicipalityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def now_local():
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def stage_of(page):
    return page.locator(".badge--stage").inner_text()


def test_dv_case_from_report_to_closure_with_a_court_order(browser, live_server):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    InstitutionFactory(
        municipality=municipality, name="Gjykata e Rrethit Gjyqësor Durrës", kind="court"
    )
    coordinator = UserFactory(
        username="kvdhf.dr", municipality=municipality, roles=[Role.DV_COORDINATOR]
    )
    director = UserFactory(
        username="drejtori.dr",
        first_name="Majlinda",
        last_name="Rexha",
        municipality=municipality,
        roles=[Role.HEAD_OF_SOCIAL_SERVICES],
    )

    page = browser.new_page(base_url=live_server.url)
    page.set_default_timeout(15_000)
    sign_in_verified(page, coordinator)

    page.get_by_role("link", name="Regjistro rast dhune në familje").first.click()
    fill_text(page, "Emri i viktimës", "Mimoza")
    fill_text(page, "Mbiemri i viktimës", "Rama")
    field(page, "Gjinia").select_option("female")
    fill_text(page, "Emri i dhunuesit", "Agim")
    fill_text(page, "Mbiemri i dhunuesit", "Rama")
    field(page, "Viktima është për dhunuesin…").select_option("spouse")
    field(page, "Data e incidentit").fill(timezone.localdate().isoformat())
    page.get_by_label("dhunë fizike").check()
    fill_text(page, "Çfarë ndodhi", "E goditi në banesë para fëmijëve.")
    field(page, "Si u raportua").select_option("in_person")
    field(page, "Kush raportoi").select_option("police")
    field(page, "Niveli i rrezikut sipas raportimit").select_option("high")
    page.get_by_role("button", name="Regjistro rastin").click()
    page.wait_for_url(re.compile(r".*/cases/DR-\d{4}-0001/$"))
    assert "Mimoza Rama" in page.content()

    # Risk assessment with the questionnaire: a yes to a critical question is high risk.
    page.get_by_role("link", name="Vlerëso riskun").first.click()
    field(page, "Data dhe ora e vlerësimit").fill(now_local())
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.locator("input[type=radio][value=yes]").first.check()
    page.get_by_role("button", name="Ruaj vlerësimin").click()
    assert stage_of(page) == "Vlerësimi fillestar i kryer"
    assert "rreziku: i lartë" in page.content()

    # ETN meeting and plan; the director approves it, not the coordinator herself.
    page.get_by_role("link", name="Regjistro tryezën teknike").click()
    field(page, "Mbajtur më").fill(now_local())
    fill_text(page, "Procesverbali", "Takim i ETN.")
    fill_text(page, "Vendimet", "Strehim dhe urdhër mbrojtjeje.")
    page.get_by_role("button", name="Ruaj").click()
    page.get_by_role("link", name="Harto planin").click()
    fill_text(page, "Objektivat", "Siguria e viktimës dhe e fëmijëve.")
    page.get_by_role("button", name="Ruaj").click()
    page.get_by_role("link", name="Shto një veprim në plan").click()
    fill_text(page, "Veprimi", "Ndihmë juridike")
    field(page, "Afati").fill("2030-01-31")
    page.get_by_role("button", name="Ruaj").click()
    page.get_by_role("button", name="Dërgo planin për miratim").click()
    assert page.get_by_role("button", name="Mirato planin").count() == 0
    assert "Askush nuk miraton punën e vet" in page.content()
    assert "Majlinda Rexha" in page.content()

    director_context = browser.new_context(base_url=live_server.url)
    director_page = director_context.new_page()
    director_page.set_default_timeout(15_000)
    sign_in_verified(director_page, director)
    case_url = Case.objects.get().get_absolute_url()
    director_page.goto(case_url)
    director_page.get_by_role("button", name="Mirato planin").click()
    assert stage_of(director_page) == "Zbatimi dhe monitorimi"
    page.goto(case_url)

    # A court order requested and granted.
    page.get_by_role("link", name="Regjistro një kërkesë për urdhër").click()
    field(page, "Urdhri").select_option("umm")
    field(page, "Kërkuar nga").select_option("victim")
    field(page, "Kërkuar më").fill(now_local())
    field(page, "Policia ose gjykata").select_option(label="Gjykata e Rrethit Gjyqësor Durrës")
    fill_text(page, "Masat që vendos urdhri", "Ndalim afrimi.")
    page.get_by_role("button", name="Ruaj").click()
    page.get_by_role("link", name="Regjistro vendimin").click()
    field(page, "Vendimi").select_option("granted")
    field(page, "Vendosur më").fill(now_local())
    field(page, "I vlefshëm nga").fill(timezone.localdate().isoformat())
    field(page, "Skadon më").fill("2030-06-30")
    page.get_by_role("button", name="Ruaj").click()
    assert "në fuqi" in page.content()

    # Review, closure proposed and approved.
    page.get_by_role("link", name="Regjistro një rishikim").click()
    fill_text(page, "Gjetjet", "Viktima në siguri.")
    field(page, "Niveli i rrezikut tani").select_option("low")
    page.get_by_role("button", name="Ruaj").click()
    page.get_by_role("link", name="Propozo mbylljen").click()
    field(page, "Arsyeja e mbylljes").select_option("victim_safe")
    fill_text(page, "Shpjegimi", "Viktima e sigurt, urdhri në fuqi.")
    page.get_by_role("button", name="Ruaj").click()
    assert page.get_by_role("button", name="Mirato mbylljen").count() == 0
    director_page.goto(case_url)
    director_page.get_by_role("button", name="Mirato mbylljen").click()
    assert stage_of(director_page) == "I mbyllur"
    assert Case.objects.get().stage == Stage.CLOSED
    director_context.close()
    page.close()
