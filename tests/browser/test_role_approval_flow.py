import pytest

from accounts.models import User
from accounts.roles import Role
from tests.browser.conftest import sign_in_verified
from tests.factories import MunicipalityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_one_administrator_requests_a_role_and_another_approves_it(browser, live_server):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    requester = UserFactory(
        username="admin.dr", municipality=municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR]
    )
    approver = UserFactory(
        username="admin2.dr", municipality=municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR]
    )

    page = browser.new_page(base_url=live_server.url)
    page.set_default_timeout(15_000)
    sign_in_verified(page, requester)
    page.get_by_role("link", name="Llogaritë").first.click()
    page.get_by_role("link", name="Llogari e re").click()
    page.locator("#id_username").fill("kreu.i.ri")
    page.locator("#id_first_name").fill("Besa")
    page.locator("#id_last_name").fill("Kraja")
    page.locator("#id_email").fill("besa@example.invalid")
    page.get_by_label("Përgjegjës i Njësisë për Mbrojtjen e Fëmijëve (NJMF)").check()
    page.get_by_role("button", name="Krijo llogarinë").click()
    account = User.objects.get(username="kreu.i.ri")
    assert account.roles == set()
    page.goto("/accounts/manage/")
    assert "në pritje të miratimit nga një administrator tjetër" in page.content()
    page.goto("/accounts/manage/approvals/")
    assert page.get_by_test_id("request-kreu.i.ri").count() == 0  # not for the requester

    other = browser.new_page(base_url=live_server.url)
    other.set_default_timeout(15_000)
    sign_in_verified(other, approver)
    other.get_by_role("link", name="Në pritje të miratimit").first.click()
    request = other.get_by_test_id("request-kreu.i.ri")
    assert "admin.dr" in request.inner_text()
    request.get_by_role("button", name="Mirato").click()
    assert "tani është në fuqi" in other.content()
    assert User.objects.get(username="kreu.i.ri").roles == {Role.HEAD_OF_CPU}
