import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from protocol.models import Case, Stage
from tests.cases import child, register_child_case, take_to_monitoring
from tests.conftest import signed_in_client, without_tokens
from tests.factories import UserFactory

REGISTRATION = {
    "first_name": "Arta",
    "last_name": "Hoxha",
    "personal_number": "K10101001A",
    "birth_date": "2015-03-04",
    "sex": "female",
    "address": "Rruga e Dëshmorëve 12",
    "phone": "0691234567",
    "parent_name": "Mira Hoxha",
    "parent_phone": "0690000000",
    "needs": ["neglect", "abuse"],
    "reported_at": "2026-01-05T10:00",
    "report_channel": "phone",
    "reporter_kind": "school",
    "reporter_details": "Mësuesja",
    "reported_risk_level": "high",
    "summary": "Fëmija vjen në shkollë e uritur.",
}

CASE_PAGES = [
    "{}",
    "{}assessment/",
    "{}conference/",
    "{}plan/",
    "{}plan/actions/new/",
    "{}review/",
    "{}closure/",
    "{}reassign/",
]


def test_worker_registers_a_child_case(worker):
    client = signed_in_client(worker)
    response = client.post("/cases/child/new/", REGISTRATION)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Arta Hoxha" in page
    assert "K10101001A" in page
    assert case.people.count() == 2
    assert set(case.needs.values_list("need", flat=True)) == {"neglect", "abuse"}


def test_invalid_registration_keeps_what_was_typed(worker):
    client = signed_in_client(worker)
    response = client.post(
        "/cases/child/new/", {**REGISTRATION, "personal_number": "123", "needs": []}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Arta"' in page
    assert "dhjetë shenja" in page
    assert not Case.objects.exists()


def test_duplicate_warning_then_registration_with_a_reason(worker):
    register_child_case(worker)
    client = signed_in_client(worker)
    response = client.post("/cases/child/new/", REGISTRATION)
    assert response.status_code == 200
    assert "mund të ketë tashmë" in response.content.decode()
    assert Case.objects.count() == 1
    response = client.post(
        "/cases/child/new/",
        {**REGISTRATION, "duplicate_override_reason": "Rast i ri abuzimi, tjetër nga i pari."},
    )
    assert response.status_code == 302
    assert Case.objects.count() == 2


def test_duplicate_warning_hides_cases_the_worker_cannot_open(worker, other_worker):
    case = register_child_case(other_worker)
    response = signed_in_client(worker).post("/cases/child/new/", REGISTRATION)
    page = response.content.decode()
    assert case.number not in page
    assert "1 rast që nuk mund ta hapni" in page


@pytest.mark.parametrize("path", CASE_PAGES)
def test_users_without_access_get_404_and_no_data(
    worker, other_worker, foreign_head, municipal_admin, municipality, path
):
    case = register_child_case(worker)
    officer = UserFactory(municipality=municipality, roles=[Role.GENDER_EQUALITY_OFFICER])
    no_role = UserFactory(municipality=municipality)
    for user in (other_worker, foreign_head, municipal_admin, officer, no_role):
        client = signed_in_client(user)
        response = client.get(path.format(case.get_absolute_url()))
        assert response.status_code == 404, (user, path)
        page = without_tokens(response.content.decode())
        # The case number is in the address the user typed; nothing of the case may follow.
        for secret in ("Hoxha", "Arta", "uritur", "shkollë pa ngrënë", "Mësuesja", "K10101001A"):
            assert secret not in page


def test_users_without_access_cannot_post(worker, other_worker):
    case = register_child_case(worker)
    client = signed_in_client(other_worker)
    for path in ("notes/", "advance/submit_plan/", "assessment/"):
        response = client.post(case.get_absolute_url() + path, {"text": "x", "version": 1})
        assert response.status_code == 404
    assert case.notes.count() == 0


def test_registration_page_denied_to_roles_that_do_not_register(municipal_admin, municipality):
    coordinator = UserFactory(municipality=municipality, roles=[Role.DV_COORDINATOR])
    for user in (municipal_admin, coordinator):
        assert signed_in_client(user).get("/cases/child/new/").status_code == 404


def test_case_page_shows_only_the_buttons_the_user_may_use(worker, head):
    case = take_to_monitoring(register_child_case(worker), worker, head)
    worker_page = signed_in_client(worker).get(case.get_absolute_url()).content.decode()
    assert "Propozo mbylljen" in worker_page
    assert "Mirato mbylljen" not in worker_page
    case.refresh_from_db()
    client = signed_in_client(worker)
    client.post(
        case.get_absolute_url() + "closure/",
        {"version": case.version, "closure_reason": "moved", "explanation": "U transferua."},
    )
    head_page = signed_in_client(head).get(case.get_absolute_url()).content.decode()
    assert "Mirato mbylljen" in head_page
    worker_page = client.get(case.get_absolute_url()).content.decode()
    assert "Mirato mbylljen" not in worker_page


def test_worker_walks_a_case_through_the_forms(worker, head):
    case = register_child_case(worker)
    client = signed_in_client(worker)
    url = case.get_absolute_url()
    response = client.post(
        url + "assessment/",
        {
            "version": case.version,
            "assessed_at": "2026-01-05T12:00",
            "risk_level": "high",
            "home_visit": "on",
            "findings": "Vizitë në shtëpi.",
        },
    )
    assert response.status_code == 302, response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.ASSESSED


def test_stale_form_is_refused_with_a_message(worker, head):
    case = register_child_case(worker)
    old_version = case.version
    signed_in_client(head).post(
        case.get_absolute_url() + "assessment/",
        {
            "version": old_version,
            "assessed_at": "2026-01-05T12:00",
            "risk_level": "low",
            "findings": "Koka.",
        },
    )
    response = signed_in_client(worker).post(
        case.get_absolute_url() + "assessment/",
        {
            "version": old_version,
            "assessed_at": "2026-01-05T12:00",
            "risk_level": "high",
            "findings": "Imja.",
        },
    )
    assert response.status_code == 200
    assert "Dikush tjetër e ndryshoi këtë rast" in response.content.decode()
    case.refresh_from_db()
    assert case.risk_level == "low"


def test_list_filters_and_search(worker, head):
    first = register_child_case(
        worker,
        person=child(first="Ëndrita", last="Çela", personal_number="J05050505B"),
        risk="high",
    )
    register_child_case(
        worker, person=child(first="Besa", last="Kola", personal_number="K11111111C"), risk="low"
    )
    client = signed_in_client(head)
    page = client.get("/cases/", {"q": "endrita cela"}).content.decode()
    assert first.number in page
    assert "Besa" not in page
    response = client.get("/cases/", {"overdue": "on"})
    assert response.status_code == 200


def test_list_makes_the_same_number_of_queries_for_more_cases(worker, head):
    register_child_case(worker)
    client = signed_in_client(head)
    with CaptureQueriesContext(connection) as few:
        client.get("/cases/")
    for index in range(5):
        register_child_case(
            worker,
            person=child(first=f"Emri{index}", personal_number=f"K1010100{index}Z"),
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/cases/")
    assert len(many) == len(few)


def test_list_pages_the_cases_by_next_due_date(worker):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for index in range(27):
        register_child_case(
            worker,
            person=child(first=f"Emri{index}", personal_number=f"K10101{index:02d}Z"),
            reported_at=now - timedelta(hours=index),
        )
    expected = list(
        Case.objects.order_by("next_due_at", "-registered_at").values_list("number", flat=True)
    )
    client = signed_in_client(worker)

    def numbers_on(page):
        content = client.get("/cases/", {"page": page}).content.decode()
        return [number for number in expected if number in content], content

    first, content = numbers_on(1)
    assert first == expected[:25]
    assert "Emri26" in content  # the earliest due, with its child's name
    second, _content = numbers_on(2)
    assert second == expected[25:]
    assert numbers_on(99)[0] == expected[25:]  # past the end: the last page
    assert numbers_on("x")[0] == expected[:25]


def test_dashboard_shows_my_overdue_cases(worker):
    from datetime import timedelta

    from django.utils import timezone

    case = register_child_case(worker, risk="high", reported_at=timezone.now() - timedelta(days=3))
    page = signed_in_client(worker).get("/").content.decode()
    assert case.number in page
    assert "afat të kaluar" in page


def test_dv_case_and_child_case_are_linked_both_ways(worker, head, municipality):
    from protocol import services
    from protocol.models import CaseKind

    coordinator = UserFactory(municipality=municipality, roles=[Role.DV_COORDINATOR])
    child_case = register_child_case(worker)
    dv_case = services.case_register(
        by=coordinator,
        kind=CaseKind.DV,
        people=[child(first="Mira", last="Kola", personal_number="I70101001A")],
        needs=["physical"],
        reported_risk_level="high",
        reported_at=child_case.reported_at,
        report_channel="phone",
        reporter_kind="police",
        reporter_details="",
        summary="Sulm.",
    )
    coordinator_client = signed_in_client(coordinator)
    response = coordinator_client.post(
        dv_case.get_absolute_url() + "links/", {"other": "DR-1999-9999"}
    )
    assert response.status_code == 302
    assert not dv_case.child_case_links.exists()
    coordinator_client.post(dv_case.get_absolute_url() + "links/", {"other": child_case.number})
    assert dv_case.child_case_links.get().child_case == child_case
    # Each sees the link only to what they may open.
    head_page = signed_in_client(head).get(child_case.get_absolute_url()).content.decode()
    assert dv_case.number not in head_page
    coordinator_page = coordinator_client.get(dv_case.get_absolute_url()).content.decode()
    assert child_case.number not in coordinator_page
    both = UserFactory(municipality=municipality, roles=[Role.HEAD_OF_CPU, Role.DV_COORDINATOR])
    page = signed_in_client(both).get(child_case.get_absolute_url()).content.decode()
    assert dv_case.get_absolute_url() in page


def test_a_too_long_note_is_refused_with_the_limit_and_nothing_is_saved(worker):
    case = register_child_case(worker)
    response = signed_in_client(worker).post(
        case.get_absolute_url() + "notes/", {"text": "x" * 4001}, follow=True
    )
    assert response.status_code == 200
    assert "ka të shumtën 4000 shenja (ka 4001)" in response.content.decode()
    assert not case.notes.exists()
