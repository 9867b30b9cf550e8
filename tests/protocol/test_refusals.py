"""A signed-in user who asks for a case, a part, a document, a referral or a meeting they
may not see gets the same 404 as for one that does not exist, and the refusal is recorded."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Institution
from accounts.roles import Role
from audit.models import Action, AuditEvent
from protocol import documents
from protocol.models import DocumentCategory
from protocol.services import meetings as meeting_services
from tests.cases import refer, register_child_case
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db

MISSING = "DR-2026-9999"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _documents_in_a_temporary_folder(settings, tmp_path):
    settings.MBROJTJE_DOCUMENTS_DIR = tmp_path


def refusals_during(action) -> list[AuditEvent]:
    """The ACCESS_REFUSED events written while `action()` runs."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    action()
    return list(AuditEvent.objects.filter(id__gt=last, action=Action.ACCESS_REFUSED).order_by("id"))


def normalised(response, url) -> bytes:
    """The page without what differs between any two pages: the sign-out form's token,
    masked anew each time, and the address asked (the language switch returns to it)."""
    content = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
    return content.replace(url.encode(), b"URL")


def assert_same_404(client, refused_url, missing_url):
    refused, missing = client.get(refused_url), client.get(missing_url)
    assert refused.status_code == missing.status_code == 404
    assert normalised(refused, refused_url) == normalised(missing, missing_url)
    # Expires is the time of the answer (never-cache): two answers a second apart differ.
    assert without_expiry(refused.headers) == without_expiry(missing.headers)


def without_expiry(headers) -> dict:
    return {name: value for name, value in headers.items() if name != "Expires"}


def upload(case, by):
    return documents.document_upload(
        by=by,
        case=case,
        uploaded_file=SimpleUploadedFile("raport.png", PNG, content_type="image/png"),
        category=DocumentCategory.SOCIAL_REPORT,
        title="Raporti social",
    )


@pytest.fixture
def case(worker):
    return register_child_case(worker)


@pytest.fixture
def member(officer, case, worker, police_institution):
    """The police member (conftest's `officer`), with the case referred for its identity only."""
    refer(worker, case, police_institution, parts=("identity",))
    return officer


# --- The case and its parts ------------------------------------------------------------


def test_a_case_one_may_not_see_gives_the_404_of_a_missing_case_and_is_recorded(case, other_worker):
    client = signed_in_client(other_worker)

    [refused_event] = refusals_during(lambda: client.get(f"/cases/{case.number}/"))
    [missing_event] = refusals_during(lambda: client.get(f"/cases/{MISSING}/"))

    assert_same_404(client, f"/cases/{case.number}/", f"/cases/{MISSING}/")
    assert refused_event.actor_id == other_worker.pk
    assert refused_event.actor_municipality_id == other_worker.municipality_id
    assert refused_event.ip_address == "127.0.0.1"
    assert (refused_event.object_type, refused_event.object_id) == ("protocol.case", str(case.pk))
    assert (refused_event.case_number, str(refused_event.case_id)) == (case.number, str(case.pk))
    assert refused_event.municipality_id == case.municipality_id
    assert refused_event.occurred_at is not None
    # A number that does not exist is kept as it was asked, without a case.
    assert (missing_event.case_number, missing_event.case_id) == (MISSING, None)
    assert (missing_event.object_type, missing_event.object_id) == ("protocol.case", "")
    assert missing_event.municipality_id == other_worker.municipality_id
    assert not AuditEvent.objects.filter(action=Action.CASE_VIEWED, actor_id=other_worker.pk)


def test_text_in_the_address_that_is_no_case_number_is_not_kept(case, other_worker):
    client = signed_in_client(other_worker)

    [event] = refusals_during(lambda: client.get("/cases/Arta Hoxha/"))

    assert event.case_number == ""
    assert json.loads(event.detail) == {"malformed_number": True}
    for row in AuditEvent.objects.values_list("object_id", "case_number", "part", "detail"):
        assert "Arta" not in " ".join(row)
        assert "Hoxha" not in " ".join(row)


@pytest.mark.parametrize(
    "page",
    ["", "assessment/", "plan/", "conference/", "review/", "closure/", "documents/upload/"],
)
def test_every_page_of_a_case_one_may_not_see_is_a_refusal(case, other_worker, page):
    client = signed_in_client(other_worker)

    written = refusals_during(lambda: client.get(f"/cases/{case.number}/{page}"))

    assert [(e.case_number, e.actor_id) for e in written] == [(case.number, other_worker.pk)]


@pytest.mark.parametrize(
    ("page", "part"),
    [
        ("assessment/", "risk"),
        ("plan/", "plan"),
        ("conference/", "plan"),
        ("plan/actions/new/", "plan"),
        ("review/", "plan"),
        ("documents/upload/", "documents"),
        ("child/{number}/measures/new/", "plan"),
    ],
)
def test_a_member_asking_for_a_part_not_referred_is_refused_it(case, member, page, part):
    client = signed_in_client(member)
    url = "/cases/" + (page.format(number=case.number) if "{" in page else f"{case.number}/{page}")

    written = refusals_during(lambda: client.get(url))

    assert client.get(url).status_code == 404
    assert [(e.object_type, e.case_number, e.part) for e in written] == [
        ("protocol.case", case.number, part)
    ]


def test_a_member_refused_a_change_of_a_part_referred_is_no_refusal(case, member):
    # The member may see the identity, not change the case: a refused change, not a
    # request for something hidden.
    client = signed_in_client(member)

    written = refusals_during(lambda: client.get(f"/cases/{case.number}/closure/"))

    assert written == []


def test_the_worker_in_charge_is_refused_nothing(case, worker):
    document = upload(case, worker)
    client = signed_in_client(worker)
    pages = ["", "assessment/", "documents/upload/", f"documents/{document.pk}/", "access-log/"]

    written = refusals_during(
        lambda: [client.get(f"/cases/{case.number}/{page}") for page in pages]
    )

    assert written == []


def test_a_member_opening_the_referred_case_is_refused_nothing(case, member):
    client = signed_in_client(member)

    written = refusals_during(lambda: client.get(f"/cases/{case.number}/"))

    assert client.get(f"/cases/{case.number}/").status_code == 200
    assert written == []


# --- Documents -------------------------------------------------------------------------


def test_a_document_of_a_part_not_referred_gives_the_404_of_a_missing_one(case, worker, member):
    document = upload(case, worker)
    client = signed_in_client(member)
    url = f"/cases/{case.number}/documents/{document.pk}/"
    missing = f"/cases/{case.number}/documents/{uuid.uuid4()}/"

    [event] = refusals_during(lambda: client.get(url))

    assert_same_404(client, url, missing)
    assert (event.object_type, event.object_id) == ("protocol.document", str(document.pk))
    assert (event.case_number, event.part, event.actor_id) == (case.number, "documents", member.pk)
    assert not AuditEvent.objects.filter(action=Action.DOCUMENT_DOWNLOADED)


def test_a_document_of_a_case_one_may_not_see_is_refused(case, worker, other_worker):
    document = upload(case, worker)
    client = signed_in_client(other_worker)

    [event] = refusals_during(lambda: client.get(f"/cases/{case.number}/documents/{document.pk}/"))

    assert (event.object_type, event.case_number) == ("protocol.case", case.number)


# --- Referrals and meetings ------------------------------------------------------------


@pytest.fixture
def teacher(municipality):
    school = InstitutionFactory(
        municipality=municipality, name="Shkolla 1", kind=Institution.Kind.EDUCATION
    )
    return UserFactory(
        username="mesuese.dr",
        municipality=municipality,
        institution=school,
        roles=[Role.CCR_MEMBER],
    )


def test_a_referral_to_another_institution_gives_the_404_of_a_missing_one(
    case, worker, police_institution, teacher
):
    referral = refer(worker, case, police_institution)
    client = signed_in_client(teacher)
    url = f"/cases/referrals/{referral.pk}/"
    missing = f"/cases/referrals/{uuid.uuid4()}/"

    [event] = refusals_during(lambda: client.get(url))

    assert_same_404(client, url, missing)
    assert (event.object_type, event.object_id) == ("protocol.referral", str(referral.pk))
    assert (event.case_number, event.actor_id) == (case.number, teacher.pk)
    assert event.actor_institution_id == teacher.institution_id


def test_the_member_reading_its_own_referral_is_refused_nothing(case, member):
    referral = member.institution.referrals.get()
    client = signed_in_client(member)

    written = refusals_during(lambda: client.get(f"/cases/referrals/{referral.pk}/"))

    assert written == []


def test_a_meeting_one_may_not_see_gives_the_404_of_a_missing_one(case, worker, other_worker):
    meeting = meeting_services.meeting_convene(
        by=worker,
        kind="gtn",
        scheduled_at=timezone.now() + timedelta(days=1),
        invited=[],
        cases=[case],
    )
    client = signed_in_client(other_worker)

    [event] = refusals_during(lambda: client.get(f"/meetings/{meeting.pk}/"))

    assert_same_404(client, f"/meetings/{meeting.pk}/", f"/meetings/{uuid.uuid4()}/")
    assert (event.object_type, event.object_id) == ("protocol.meeting", str(meeting.pk))
    assert event.municipality_id == meeting.municipality_id
    assert refusals_during(lambda: signed_in_client(worker).get(f"/meetings/{meeting.pk}/")) == []


# --- What is not a refusal -------------------------------------------------------------


def test_the_signed_out_are_sent_to_sign_in_and_nothing_is_recorded(case, client):
    written = refusals_during(lambda: client.get(f"/cases/{case.number}/"))

    assert client.get(f"/cases/{case.number}/").status_code == 302
    assert written == []


def test_a_page_the_role_lacks_and_an_empty_search_are_no_refusals(case, member, other_worker):
    written = refusals_during(
        lambda: (
            signed_in_client(member).get("/reports/"),
            signed_in_client(other_worker).get("/cases/", {"q": MISSING}),
        )
    )

    assert written == []
