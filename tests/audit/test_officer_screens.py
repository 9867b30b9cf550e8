import csv
import io
import json
from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.roles import Role
from audit import selectors
from audit.context import Actor
from audit.models import Action, AuditEvent, Checkpoint, Flag, FlagKind, FlagReview
from audit.selectors import EventFilters
from audit.services import record
from audit.views import PAGE_SIZE
from tests.cases import register_child_case
from tests.conftest import signed_in_client, without_tokens
from tests.factories import UserFactory

TIRANE = ZoneInfo("Europe/Tirane")
CASE = "DR-2026-0001"
OTHER_CASE = "DR-2026-0002"
BERAT_CASE = "BR-2026-0001"


@pytest.fixture(autouse=True)
def _every_hour_is_working_time(settings):
    # Reads outside working hours raise flags; these tests want only the flags they make.
    settings.MBROJTJE_WORKING_HOURS = (0, 24)
    settings.MBROJTJE_WORKING_DAYS = frozenset(range(1, 8))


@pytest.fixture
def officer(municipality):
    return UserFactory(
        username="barazi.dr", municipality=municipality, roles=[Role.GENDER_EQUALITY_OFFICER]
    )


@pytest.fixture
def foreign_officer(other_municipality):
    return UserFactory(
        username="barazi.br",
        municipality=other_municipality,
        roles=[Role.GENDER_EQUALITY_OFFICER],
    )


@pytest.fixture
def police_member(municipality, police):
    return UserFactory(
        username="polic.dr", municipality=municipality, institution=police, roles=[Role.CCR_MEMBER]
    )


def english_client(user):
    client = signed_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def event(user, action=Action.CASE_VIEWED, *, at=None, **values):
    """One event by `user`, from a fixed address; at a given moment if `at` is set."""
    actor = Actor.of(user, "10.1.2.3")
    if at is None:
        return record(action, actor=actor, **values)
    with mock.patch("django.utils.timezone.now", return_value=at):
        return record(action, actor=actor, **values)


def shown(officer, mine, **filters) -> set[int]:
    """Which of the test's own events the officer's timeline lists with these filters."""
    listed = {e.pk for e in selectors.events_for_officer(officer, EventFilters(**filters))}
    return listed & {e.pk for e in mine}


def page_of(response) -> str:
    assert response.status_code == 200
    return without_tokens(response.content.decode())


# --- Filters and scope -----------------------------------------------------------------


@pytest.fixture
def trail(municipality, worker, head, police_member):
    def local(*args):
        return datetime(*args, tzinfo=TIRANE)

    return {
        "worker_read": event(
            worker, case_number=CASE, municipality_id=municipality.pk, at=local(2026, 3, 10, 23, 30)
        ),
        "police_part": event(
            police_member,
            Action.PART_VIEWED,
            case_number=OTHER_CASE,
            part="identity",
            at=local(2026, 3, 11, 0, 30),
        ),
        "head_change": event(
            head,
            Action.CHANGED,
            case_number=CASE,
            object_type="protocol.case",
            at=local(2026, 3, 12, 12, 0),
        ),
    }


def test_each_filter_narrows_the_timeline(officer, worker, police, trail):
    mine = trail.values()
    ids = {name: e.pk for name, e in trail.items()}
    assert shown(officer, mine) == set(ids.values())
    assert shown(officer, mine, username="PMF.DR") == {ids["worker_read"]}
    assert shown(officer, mine, actor_id=worker.pk) == {ids["worker_read"]}
    assert shown(officer, mine, username="nobody.here") == set()
    assert shown(officer, mine, institution_id=police.pk) == {ids["police_part"]}
    assert shown(officer, mine, case_number=CASE) == {ids["worker_read"], ids["head_change"]}
    assert shown(officer, mine, action=Action.CHANGED) == {ids["head_change"]}


def test_dates_are_days_in_albania_with_both_ends_included(officer, trail):
    mine = trail.values()
    ids = {name: e.pk for name, e in trail.items()}
    # 00:30 on 11 March in Tirana is still 10 March in UTC.
    one_day = {"date_from": date(2026, 3, 11), "date_to": date(2026, 3, 11)}
    assert shown(officer, mine, **one_day) == {ids["police_part"]}
    assert shown(officer, mine, date_to=date(2026, 3, 10)) == {ids["worker_read"]}
    assert shown(officer, mine, date_from=date(2026, 3, 11)) == {
        ids["police_part"],
        ids["head_change"],
    }


def test_timeline_page_applies_the_filter_form(officer, trail):
    client = english_client(officer)
    page = page_of(client.get("/audit/", {"action": Action.CHANGED}))
    assert "protocol.case" in page
    assert "Changed a record" in page
    assert "kreu.dr" in page
    assert "polic.dr" not in page
    page = page_of(client.get("/audit/", {"case": "dr-2026-0002"}))
    assert "polic.dr" in page
    assert "Policia Durrës" in page  # the institution, by name
    assert "identity" in page
    assert "10.1.2.3" in page
    assert "kreu.dr" not in page


def test_invalid_filters_show_errors_and_no_event(officer, trail):
    client = english_client(officer)
    page = page_of(client.get("/audit/", {"user": "nobody.here", "case": "Arta Hoxha"}))
    assert "No account has this username." in page
    assert "A case number looks like DR-2026-0143." in page
    assert "No event matches." in page


def test_officer_sees_the_staff_reading_another_municipality(
    officer, foreign_officer, worker, other_municipality
):
    home = event(worker, case_number=CASE)
    outside = event(worker, case_number=BERAT_CASE, municipality_id=other_municipality.pk)
    assert shown(officer, [home, outside]) == {home.pk, outside.pk}
    assert shown(foreign_officer, [home, outside]) == {outside.pk}
    # Each event once, though both halves of the officer's scope hold the home one.
    listed = selectors.events_for_officer(officer, EventFilters(username="pmf.dr"), limit=10)
    assert [e.pk for e in listed if e.pk in (home.pk, outside.pk)] == [outside.pk, home.pk]


def test_officer_of_another_municipality_sees_none_of_them(foreign_officer, trail):
    assert shown(foreign_officer, trail.values()) == set()
    client = signed_in_client(foreign_officer)
    timeline = page_of(client.get("/audit/"))
    export = b"".join(client.get("/audit/export.csv").streaming_content).decode()
    case_page = page_of(client.get(f"/audit/cases/{CASE}/"))
    for text in (timeline, export, case_page):
        assert "pmf.dr" not in text
        assert "polic.dr" not in text
    assert CASE not in timeline
    assert CASE not in export
    viewers = selectors.case_viewers(CASE, events=selectors.events_visible_to(foreign_officer))
    assert viewers == []


def test_per_user_page_lists_only_that_user(officer, worker, trail):
    page = page_of(english_client(officer).get(f"/audit/users/{worker.pk}/"))
    assert "pmf.dr" in page
    assert CASE in page
    assert "polic.dr" not in page
    assert "kreu.dr" not in page


def test_per_case_page_says_who_has_seen_the_case(officer, worker, head, trail):
    event(worker, case_number=CASE)
    page = page_of(english_client(officer).get(f"/audit/cases/{CASE}/"))
    assert "Who has seen case DR-2026-0001" in page
    viewers = selectors.case_viewers(CASE, events=selectors.events_visible_to(officer))
    by_user = {viewer.username: viewer for viewer in viewers}
    assert by_user["pmf.dr"].times == 2
    assert by_user["kreu.dr"].times == 1  # a change counts as having seen it
    assert "polic.dr" not in by_user
    assert viewers[0].username == "pmf.dr"  # the most recent first
    assert "polic.dr" not in page


# --- Nobody else -----------------------------------------------------------------------

AUDIT_PAGES = (
    ("GET", "/audit/"),
    ("GET", "/audit/export.csv"),
    ("GET", "/audit/users/{user}/"),
    ("GET", f"/audit/cases/{CASE}/"),
    ("GET", "/audit/flags/"),
    ("GET", "/audit/flags/?reviewed=1"),
    ("POST", "/audit/flags/{flag}/review/"),
)


@pytest.fixture
def statistician(db):
    return UserFactory(municipality=None, roles=[Role.NATIONAL_STATISTICIAN])


@pytest.mark.parametrize(
    "role", ["worker", "head", "police_member", "municipal_admin", "statistician"]
)
def test_other_users_get_404_on_every_audit_page(request, role, worker):
    user = request.getfixturevalue(role)
    flagged = event(worker, Action.BREAK_GLASS, case_number=CASE)
    client = signed_in_client(user)
    for method, path in AUDIT_PAGES:
        url = path.format(user=worker.pk, flag=flagged.flags.get().pk)
        if method == "POST":
            response = client.post(url, {f"{flagged.flags.get().pk}-comment": "Shikuar."})
        else:
            response = client.get(url)
        assert response.status_code == 404, (role, url)
    assert not FlagReview.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.AUDIT_VIEWED).exists()


# --- No case contents ------------------------------------------------------------------


def test_pages_show_identifiers_never_the_people_of_the_case(officer, worker):
    case = register_child_case(worker)
    event(
        worker,
        case_id=case.pk,
        case_number=case.number,
        municipality_id=case.municipality_id,
        part="identity",
    )
    event(worker, Action.BREAK_GLASS, case_number=case.number)
    client = english_client(officer)
    pages = [
        client.get("/audit/"),
        client.get(f"/audit/users/{worker.pk}/"),
        client.get(f"/audit/cases/{case.number}/"),
        client.get("/audit/flags/"),
    ]
    export = client.get("/audit/export.csv")
    texts = [page_of(response) for response in pages]
    texts.append(b"".join(export.streaming_content).decode())
    for text in texts:
        assert case.number in text
        for secret in ("Arta", "Hoxha", "K10101001A", "Dëshmorëve", "0691234567", "pa ngrënë"):
            assert secret not in text


# --- Export ----------------------------------------------------------------------------


def test_export_is_the_filtered_timeline_as_csv_and_is_recorded(officer, worker, municipality):
    read = event(worker, case_number=CASE, part='=HYPERLINK("http://x")')
    event(worker, case_number=OTHER_CASE)
    response = english_client(officer).get("/audit/export.csv", {"case": CASE})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["id"] for row in rows] == [str(read.pk)]
    row = rows[0]
    assert row["username"] == "pmf.dr"
    assert row["case_number"] == CASE
    assert row["action"] == Action.CASE_VIEWED
    assert row["ip_address"] == "10.1.2.3"
    assert row["part"] == '\'=HYPERLINK("http://x")'  # not a formula
    assert row["occurred_at"] == timezone.localtime(read.occurred_at, TIRANE).isoformat()

    exported = AuditEvent.objects.get(action=Action.EXPORTED)
    assert exported.actor_id == officer.pk
    assert exported.object_type == "audit.timeline"
    assert json.loads(exported.detail) == {"case": CASE, "rows": 1}
    assert exported.municipality_id == municipality.pk


# --- Flags -----------------------------------------------------------------------------


@pytest.fixture
def flag(worker, municipality):
    flagged = event(
        worker,
        Action.BREAK_GLASS,
        case_number=CASE,
        municipality_id=municipality.pk,
    )
    return Flag.objects.get(event=flagged)


def test_open_flag_shows_the_event_and_its_kind(officer, flag):
    page = page_of(english_client(officer).get("/audit/flags/"))
    assert f'id="flag-{flag.pk}"' in page
    assert "Emergency (break-glass) access" in page
    assert "pmf.dr" in page
    assert CASE in page
    assert "10.1.2.3" in page
    assert flag.kind == FlagKind.BREAK_GLASS
    assert list(selectors.open_flags(officer)) == [flag]


def test_flag_review_needs_a_comment_and_writes_nothing_without(officer, flag):
    client = english_client(officer)
    response = client.post(f"/audit/flags/{flag.pk}/review/", {f"{flag.pk}-comment": "  "})
    assert "Write what you concluded." in page_of(response)
    assert not FlagReview.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.FLAG_REVIEWED).exists()


def test_flag_review_closes_the_flag_and_is_recorded(officer, flag):
    client = english_client(officer)
    url = f"/audit/flags/{flag.pk}/review/"
    response = client.post(url, {f"{flag.pk}-comment": "Konfirmuar me policinë."})
    assert response.status_code == 302
    review = FlagReview.objects.get(flag=flag)
    assert review.reviewer_id == officer.pk
    assert review.comment == "Konfirmuar me policinë."
    reviewed = AuditEvent.objects.get(action=Action.FLAG_REVIEWED)
    assert reviewed.actor_id == officer.pk
    assert reviewed.object_id == str(flag.pk)
    assert list(selectors.open_flags(officer)) == []

    page = page_of(client.get("/audit/flags/", {"reviewed": "1"}))
    assert "Konfirmuar me policinë." in page
    assert "barazi.dr" in page
    assert f'id="flag-{flag.pk}"' not in page_of(client.get("/audit/flags/"))

    response = client.post(url, {f"{flag.pk}-comment": "Sërish."}, follow=True)
    assert "This flag had already been reviewed." in page_of(response)
    assert FlagReview.objects.count() == 1


def test_a_burst_of_refusals_is_flagged_to_the_officer_of_the_users_municipality(
    officer, foreign_officer, worker, settings
):
    settings.MBROJTJE_AUDIT_REFUSALS = 2
    for number in (BERAT_CASE, "BR-2026-0002"):
        event(worker, Action.ACCESS_REFUSED, object_type="protocol.case", case_number=number)

    page = page_of(english_client(officer).get("/audit/flags/"))
    flag = Flag.objects.get(kind=FlagKind.REFUSED_ACCESS)
    assert f'id="flag-{flag.pk}"' in page
    assert "Many refused accesses in a short time" in page
    assert "Access refused" in page
    assert "BR-2026-0002" in page
    assert f'id="flag-{flag.pk}"' not in page_of(
        signed_in_client(foreign_officer).get("/audit/flags/")
    )
    albanian = page_of(signed_in_client(officer).get("/audit/flags/"))
    assert "Shumë kërkesa të refuzuara për akses në pak kohë" in albanian


def test_the_flags_read_are_recorded_with_the_page(officer, flag):
    client = signed_in_client(officer)

    client.get("/audit/flags/")
    client.post(f"/audit/flags/{flag.pk}/review/", {f"{flag.pk}-comment": "  "})

    visits = AuditEvent.objects.filter(action=Action.AUDIT_VIEWED, actor_id=officer.pk)
    assert [json.loads(visit.detail) for visit in visits.order_by("id")] == [
        {"reviewed": False, "flags": [flag.pk]}
    ] * 2


def test_officer_of_another_municipality_cannot_review_the_flag(foreign_officer, flag):
    client = signed_in_client(foreign_officer)
    assert f'id="flag-{flag.pk}"' not in page_of(client.get("/audit/flags/"))
    response = client.post(f"/audit/flags/{flag.pk}/review/", {f"{flag.pk}-comment": "OK."})
    assert response.status_code == 404
    assert not FlagReview.objects.exists()


# --- Paging, visits, checkpoint --------------------------------------------------------


def test_timeline_pages_by_keyset_even_within_one_microsecond(officer, worker):
    moment = timezone.now()
    # All at the same instant: the page boundary must then follow the id.
    made = [
        event(worker, object_type="test.row", object_id=f"r{i:03d}", at=moment)
        for i in range(PAGE_SIZE + 5)
    ]
    client = english_client(officer)
    first = page_of(client.get("/audit/", {"user": "pmf.dr"}))
    assert all(f"r{i:03d}" in first for i in range(5, PAGE_SIZE + 5))
    assert all(f"r{i:03d}" not in first for i in range(5))
    older = made[5].pk
    assert f"user=pmf.dr&amp;before={older}" in first

    second = page_of(client.get("/audit/", {"user": "pmf.dr", "before": older}))
    assert all(f"r{i:03d}" in second for i in range(5))
    assert all(f"r{i:03d}" not in second for i in range(5, PAGE_SIZE + 5))
    assert "Older" not in second
    assert "Newest" in second


def test_each_page_view_is_recorded_once(officer, trail):
    client = signed_in_client(officer)
    client.get("/audit/", {"case": CASE})
    client.get(f"/audit/cases/{CASE}/")
    client.get("/audit/flags/")
    visits = AuditEvent.objects.filter(action=Action.AUDIT_VIEWED, actor_id=officer.pk)
    assert sorted(visits.values_list("object_type", "case_number")) == [
        ("audit.case", CASE),
        ("audit.flags", ""),
        ("audit.timeline", ""),
    ]
    timeline = visits.get(object_type="audit.timeline")
    assert json.loads(timeline.detail) == {"case": CASE}


def test_timeline_shows_the_last_checkpoint(officer):
    for number, events in ((6, 100), (7, 123)):
        Checkpoint.objects.create(
            number=number, made_at=timezone.now(), events=events, payload="{}", signature="00"
        )
    page = page_of(english_client(officer).get("/audit/"))
    assert "Last signed checkpoint: no. 7" in page
    assert "covering 123 events" in page


def test_officer_navigation_has_the_audit_trail(officer, worker):
    assert 'href="/audit/"' in page_of(english_client(officer).get("/"))
    assert 'href="/audit/"' not in page_of(english_client(worker).get("/"))


# --- The case's own access log ---------------------------------------------------------


def test_owner_and_supervisor_see_who_has_seen_their_case(worker, head, other_worker):
    case = register_child_case(worker)
    event(head, case_id=case.pk, case_number=case.number, municipality_id=case.municipality_id)
    url = f"/cases/{case.number}/access-log/"
    for user in (worker, head):
        page = page_of(english_client(user).get(url))
        assert "Who has seen this case" in page
        assert "kreu.dr" in page
    assert signed_in_client(other_worker).get(url).status_code == 404


def test_police_reading_the_case_through_a_referral_cannot_see_its_access_log(
    worker, police_member, police
):
    from protocol.services import referrals as referral_services

    case = register_child_case(worker)
    referral_services.referral_create(
        by=worker,
        case=case,
        institution=police,
        parts=["identity"],
        reason="Vizitë.",
        urgency="urgent",
        legal_basis="child_at_risk",
        due_date=timezone.localdate(),
    )
    client = signed_in_client(police_member)
    assert client.get(case.get_absolute_url()).status_code == 200
    assert client.get(f"/cases/{case.number}/access-log/").status_code == 404


def test_a_too_long_review_comment_is_refused_and_the_flag_stays_open(officer, flag):
    response = signed_in_client(officer).post(
        f"/audit/flags/{flag.pk}/review/", {f"{flag.pk}-comment": "x" * 1001}
    )
    assert "ka të shumtën 1000 shenja (ka 1001)" in page_of(response)
    assert not FlagReview.objects.exists()
