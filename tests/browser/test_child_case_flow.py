import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from protocol.models import Case, Stage
from tests.browser.conftest import sign_in_verified
from tests.factories import InstitutionFactory, MunicipalityFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def field(page, label):
    # A required field's label ends with a star; match the words before it.
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def fill_text(page, label, value):
    field(page, label).fill(value)


def test_child_case_from_registration_to_closure(browser, live_server):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    InstitutionFactory(
        municipality=municipality, name="Zyra Vendore Arsimore Durrës", kind="education"
    )
    worker = UserFactory(
        username="pmf.dr",
        first_name="Elira",
        last_name="Hoxha",
        municipality=municipality,
        roles=[Role.CHILD_PROTECTION_WORKER],
    )
    head = UserFactory(username="kreu.dr", municipality=municipality, roles=[Role.HEAD_OF_CPU])

    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_verified(page, worker)

    # Registration
    page.get_by_role("link", name="Regjistro rast fëmije").first.click()
    fill_text(page, "Emri i fëmijës", "Arta")
    fill_text(page, "Mbiemri i fëmijës", "Kola")
    fill_text(page, "Numri personal", "K10101001A")
    field(page, "Gjinia").select_option("female")
    page.get_by_label("neglizhim").check()
    field(page, "Si u raportua").select_option("phone")
    field(page, "Kush raportoi").select_option("school")
    field(page, "Niveli i rrezikut sipas raportimit").select_option("high")
    fill_text(page, "Çfarë u raportua", "Fëmija vjen në shkollë e uritur.")
    page.get_by_role("button", name="Regjistro rastin").click()
    page.wait_for_url(re.compile(r".*/cases/DR-\d{4}-0001/$"))
    assert "Arta Kola" in page.content()

    # Initial assessment
    page.get_by_role("link", name="Regjistro vlerësimin fillestar").click()
    field(page, "Niveli i rrezikut").select_option("high")
    # Asked, not proposed: made a minute ago (to the minute, in the server's time zone).
    field(page, "Data dhe ora e vlerësimit").fill(
        (timezone.localtime() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    )
    fill_text(page, "Gjetjet", "Vizitë në shtëpi: mungon ushqimi.")
    page.get_by_role("button", name="Ruaj").click()
    assert page.locator(".badge--stage").inner_text() == "Vlerësimi fillestar i kryer"

    # Case conference
    page.get_by_role("link", name="Regjistro tryezën teknike").click()
    # Held now (to the minute, in the server's time zone): after the assessment.
    field(page, "Mbajtur më").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Zyra Vendore Arsimore Durrës").check()
    fill_text(page, "Procesverbali", "U diskutua situata.")
    fill_text(page, "Vendimet", "Hartohet PIM.")
    page.get_by_role("button", name="Ruaj").click()
    assert page.locator(".badge--stage").inner_text() == "Tryeza teknike e mbajtur"

    # Plan with one action, submitted
    page.get_by_role("link", name="Harto planin").click()
    fill_text(page, "Objektivat", "Ushqim i rregullt dhe frekuentim i shkollës.")
    page.get_by_role("button", name="Ruaj").click()
    page.get_by_role("link", name="Shto një veprim në plan").click()
    fill_text(page, "Veprimi", "Paketë ushqimore mujore")
    field(page, "Afati").fill("2030-01-31")
    page.get_by_role("button", name="Ruaj").click()
    page.get_by_role("button", name="Dërgo planin për miratim").click()
    assert page.locator(".badge--stage").inner_text() == "Plani në pritje të miratimit"
    assert page.get_by_role("button", name="Mirato planin").count() == 0

    # The head approves
    head_context = browser.new_context(base_url=live_server.url)
    head_page = head_context.new_page()
    head_page.set_default_timeout(15_000)
    sign_in_verified(head_page, head)
    case = Case.objects.get()
    head_page.goto(case.get_absolute_url())
    head_page.get_by_role("button", name="Mirato planin").click()
    assert head_page.locator(".badge--stage").inner_text() == "Zbatimi dhe monitorimi"

    # Review, then closure proposed by the worker and approved by the head
    page.goto(case.get_absolute_url())
    page.get_by_role("link", name="Regjistro një rishikim").click()
    fill_text(page, "Gjetjet", "Fëmija frekuenton rregullisht.")
    field(page, "Niveli i rrezikut tani").select_option("low")
    page.get_by_role("button", name="Ruaj").click()
    page.get_by_role("link", name="Propozo mbylljen").click()
    field(page, "Arsyeja e mbylljes").select_option("no_longer_at_risk")
    fill_text(page, "Shpjegimi", "Familja e qëndrueshme.")
    page.get_by_role("button", name="Ruaj").click()
    assert page.locator(".badge--stage").inner_text() == "Mbyllja në pritje të miratimit"

    head_page.goto(case.get_absolute_url())
    head_page.get_by_role("button", name="Mirato mbylljen").click()
    assert head_page.locator(".badge--stage").inner_text() == "I mbyllur"
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    head_context.close()
    context.close()
