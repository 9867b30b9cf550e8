import pytest

from accounts.roles import Role
from audit.models import Action, AuditEvent, FlagReview
from protocol.services import emergency as emergency_services
from tests.browser.conftest import sign_in_verified
from tests.cases import register_child_case
from tests.factories import MunicipalityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_follows_a_reading_to_its_flag_reviews_it_and_exports(browser, live_server):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    worker = UserFactory(
        username="pmf.dr", municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER]
    )
    colleague = UserFactory(
        username="pmf2.dr", municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER]
    )
    officer = UserFactory(
        username="barazi.dr", municipality=municipality, roles=[Role.GENDER_EQUALITY_OFFICER]
    )
    case = register_child_case(worker)
    emergency_services.emergency_access_open(
        by=colleague,
        case_number=case.number,
        justification="Fëmija u soll natën në polici, pa shoqërues.",
    )

    # The worker opens the case, then sees who has opened it.
    worker_page = browser.new_page(base_url=live_server.url)
    worker_page.set_default_timeout(15_000)
    sign_in_verified(worker_page, worker)
    worker_page.goto(case.get_absolute_url())
    worker_page.get_by_role("link", name="Shihni kush e ka hapur").click()
    assert "pmf.dr" in worker_page.content()

    page = browser.new_page(base_url=live_server.url)
    page.set_default_timeout(15_000)
    sign_in_verified(page, officer)
    page.get_by_role("link", name="Gjurma e auditimit").first.click()
    page.get_by_label("Numri i rastit").fill(case.number)
    page.get_by_role("button", name="Filtro").click()
    table = page.locator("table").first.inner_text()
    assert "pmf.dr" in table
    assert "Hapi një rast" in table
    assert "Arta" not in page.content()  # identifiers only, never the child's name

    page.get_by_role("link", name="Sinjalizimet").first.click()
    assert "pmf2.dr" in page.content()
    page.get_by_label("Përfundimi").first.fill("Folëm me punonjësen: urgjencë e vërtetë.")
    page.get_by_role("button", name="Shëno si të shqyrtuar").first.click()
    assert "Sinjalizimi u shënua si i shqyrtuar." in page.content()
    assert FlagReview.objects.get().reviewer_id == officer.pk

    page.get_by_role("link", name="Gjurma e auditimit").first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Eksporto si CSV").click()
    csv_text = download.value.path().read_text(encoding="utf-8")
    assert case.number in csv_text
    assert "Arta" not in csv_text
    assert AuditEvent.objects.filter(action=Action.EXPORTED, actor_id=officer.pk).exists()
