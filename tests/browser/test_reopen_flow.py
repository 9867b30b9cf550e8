"""A closed case is reopened by a supervisor with a reason; the case shows the stage it
returned to and a new assessment deadline, counted from the reopening."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from protocol import services
from protocol.models import Stage
from tests.browser.conftest import sign_in_verified
from tests.browser.test_child_case_flow import field
from tests.cases import propose_closure, register_child_case, take_to_monitoring
from tests.factories import MunicipalityFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_supervisor_reopens_a_closed_case(page):
    municipality = MunicipalityFactory(name="Durrës", code="DR")
    worker = UserFactory(
        username="pmf.dr", municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER]
    )
    head = UserFactory(username="kreu.dr", municipality=municipality, roles=[Role.HEAD_OF_CPU])
    case = register_child_case(worker, reported_at=timezone.now() - timedelta(days=120))
    case = propose_closure(take_to_monitoring(case, worker, head), worker)
    services.case_advance(by=head, case=case, version=case.version, action="approve_closure")

    sign_in_verified(page, head)
    page.goto(case.get_absolute_url())
    assert page.locator(".badge--stage").inner_text() == "I mbyllur"
    page.get_by_role("link", name="Rihap rastin").click()
    assert "Identifikimi dhe referimi" in page.content()
    field(page, "Arsyeja e rihapjes").fill("Shkolla raportoi sërish shenja dhune.")
    page.get_by_role("button", name="Rihap rastin").click()

    page.wait_for_url(re.compile(rf".*/cases/{case.number}/$"))
    assert page.locator(".badge--stage").inner_text() == "Identifikimi dhe referimi"
    assert f"Rasti {case.number} u rihap" in page.content()
    case.refresh_from_db()
    assert case.stage == Stage.REGISTERED
    # The new deadline of the initial assessment: 72 hours from the reopening.
    due = timezone.localtime(case.reopened_at + timedelta(hours=72)).strftime("%d.%m.%Y %H:%M")
    deadlines = page.locator("#next").inner_text()
    assert due in deadlines
    assert "Shkolla raportoi sërish shenja dhune." in page.locator("#timeline").inner_text()
    assert page.get_by_role("link", name="Regjistro vlerësimin fillestar").count() == 1
