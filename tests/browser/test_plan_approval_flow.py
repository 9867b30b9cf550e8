"""A head of unit who is the worker in charge submits her plan; a second head sees it on her
home, approves it, and the first hears of it on hers."""

import pytest

from accounts.roles import Role
from protocol.models import Case, RiskLevel, Stage
from tests.browser.conftest import sign_in_verified
from tests.cases import plan_ready, register_child_case
from tests.factories import MunicipalityFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def plan_ready_to_submit(worker) -> Case:
    return plan_ready(register_child_case(worker), worker, risk_level=RiskLevel.MEDIUM)


def signed_in_page(browser, live_server, user):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_verified(page, user)
    return page


def test_a_plan_submitted_notified_approved_by_a_second_head(browser, live_server):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    owner = UserFactory(username="kreu1.dr", municipality=municipality, roles=[Role.HEAD_OF_CPU])
    second = UserFactory(username="kreu2.dr", municipality=municipality, roles=[Role.HEAD_OF_CPU])
    case = plan_ready_to_submit(owner)

    # The owner submits her plan: it waits on her home, apart, for another supervisor.
    page = signed_in_page(browser, live_server, owner)
    page.goto(case.get_absolute_url())
    page.get_by_role("button", name="Dërgo planin për miratim").click()
    page.wait_for_load_state()
    case.refresh_from_db()
    assert case.stage == Stage.PLAN_DRAFTED
    page.goto("/")
    own = page.locator("#own-waiting")
    assert case.number in own.inner_text()
    assert case.number not in page.locator("#to-decide").inner_text()
    assert "Mirato planin" not in page.content()

    # The second head is told on her home, and the plan waits for her decision.
    other = signed_in_page(browser, live_server, second)
    notification = other.locator("#notifications").get_by_role(
        "link", name=f"Rasti {case.number}: një plan pret miratimin tuaj"
    )
    assert case.number in other.locator("#to-decide").inner_text()
    notification.click()
    other.wait_for_url(f"**{case.get_absolute_url()}")
    other.get_by_role("button", name="Mirato planin").click()
    other.wait_for_load_state()
    case.refresh_from_db()
    assert case.stage == Stage.MONITORING

    # The owner hears of the approval on her home.
    page.goto("/")
    assert f"Rasti {case.number}: plani u miratua" in page.locator("#notifications").inner_text()
    assert page.locator("#own-waiting").count() == 0
