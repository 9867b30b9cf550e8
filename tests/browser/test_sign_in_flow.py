import base64

import pytest
from django_otp.oath import TOTP

from accounts.roles import Role
from tests.factories import PASSWORD, MunicipalityFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def code_for(base32_key: str) -> str:
    key = base64.b32decode(base32_key.replace(" ", ""))
    return f"{TOTP(key).token():06d}"


def sign_in(page, username):
    page.goto("/accounts/sign-in/")
    page.get_by_label("Emri i përdoruesit").fill(username)
    page.get_by_label("Fjalëkalimi").fill(PASSWORD)
    page.get_by_role("button", name="Vazhdo").click()


def test_first_sign_in_enrols_an_authenticator_then_the_language_switch_works(page):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    UserFactory(username="besa.kraja", municipality=municipality, roles=[Role.HEAD_OF_CPU])

    sign_in(page, "besa.kraja")

    page.wait_for_url("**/accounts/second-factor/enrol/")
    assert page.locator("figure.qr svg").is_visible()
    key = page.get_by_test_id("totp-key").inner_text()
    page.get_by_label("Kodi nga aplikacioni").fill(code_for(key))
    page.get_by_role("button", name="Konfirmo").click()

    codes = page.get_by_test_id("backup-codes").locator("li")
    assert codes.count() == 10
    page.get_by_role("link", name="I ruajta, vazhdo").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Mirë se vini")

    page.get_by_label("Gjuha").select_option("en")
    page.get_by_role("button", name="Ndrysho gjuhën").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_page_without_access_is_denied(page, browser, live_server):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    UserFactory(username="pmf.dr", municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER])

    # Without signing in: the sign-in page, not the accounts of the municipality.
    page.goto("/accounts/manage/")
    assert "/accounts/sign-in/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Hyrja"

    # With a password but no second factor: only the enrolment.
    sign_in(page, "pmf.dr")
    page.goto("/accounts/manage/")
    assert page.url.endswith("/accounts/second-factor/enrol/")

    key = page.get_by_test_id("totp-key").inner_text()
    page.get_by_label("Kodi nga aplikacioni").fill(code_for(key))
    page.get_by_role("button", name="Konfirmo").click()

    # Verified, but a worker manages no accounts.
    response = page.goto("/accounts/manage/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Faqja nuk u gjet"
