import re

import pytest
from django.core import mail

from accounts import services
from accounts.roles import Role
from tests.browser.test_sign_in_flow import code_for
from tests.factories import MunicipalityFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

NEW_PASSWORD = "a long new passphrase 2026"


def test_reset_link_from_the_email_to_a_sign_in_with_a_new_second_factor(page, live_server):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    admin = UserFactory(municipality=municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR])
    coordinator = UserFactory(
        username="arta.koordinatore", municipality=municipality, roles=[Role.DV_COORDINATOR]
    )
    services.account_credentials_reset(by=admin, account=coordinator, reason="New phone.")
    [email] = mail.outbox
    link = re.search(r"http://\S+/accounts/activate/\?t=[\w-]+", email.body).group(0)

    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    page.wait_for_url("**/accounts/activate/")
    assert page.get_by_test_id("activation-username").inner_text() == "arta.koordinatore"
    page.locator("input[name=new_password]").fill(NEW_PASSWORD)
    page.locator("input[name=new_password_again]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Vazhdo").click()

    page.wait_for_url("**/accounts/second-factor/enrol/")
    key = page.get_by_test_id("totp-key").inner_text()
    page.get_by_label("Kodi nga aplikacioni").fill(code_for(key))
    page.get_by_role("button", name="Konfirmo").click()
    assert page.get_by_test_id("backup-codes").locator("li").count() == 10
    page.get_by_role("link", name="I ruajta, vazhdo").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Mirë se vini")

    # The link is spent: opening it again says so, and reveals nothing.
    page.context.clear_cookies()
    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    assert (
        "Lidhja nuk është më e vlefshme" in page.get_by_test_id("activation-invalid").inner_text()
    )
