"""Each kind of read and change writes exactly the events it should, with identifiers only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts import services as account_services
from accounts.roles import Role
from audit.models import Action, AuditEvent, Flag, FlagKind
from protocol import documents, services
from protocol.models import DocumentCategory, Note
from protocol.services import emergency as emergency_services
from protocol.services import referrals as referral_services
from tests.accounts.test_sign_in_throttling import waits_for_minutes
from tests.cases import refer, register_child_case
from tests.conftest import enrolled, signed_in_client
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CHILD_WORDS = ("Arta", "Hoxha", "K10101001A", "Dëshmorëve", "0691234567", "pa ngrënë")


@pytest.fixture(autouse=True)
def _working_hours_all_day(settings):
    settings.MBROJTJE_WORKING_HOURS = (0, 24)
    settings.MBROJTJE_WORKING_DAYS = frozenset(range(1, 8))


def events_during(action):
    """The events written while `action()` runs, oldest first."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    action()
    return list(AuditEvent.objects.filter(id__gt=last).order_by("id"))


def assert_no_case_words():
    for row in AuditEvent.objects.values_list(
        "object_type", "object_id", "case_number", "part", "justification", "detail"
    ):
        text = " ".join(row)
        for word in CHILD_WORDS:
            assert word not in text, (word, row)


# --- Reads ---------------------------------------------------------------------------


def test_case_page_writes_one_read_with_the_parts_shown(worker):
    case = register_child_case(worker)
    client = signed_in_client(worker)

    written = events_during(lambda: client.get(case.get_absolute_url()))

    assert [e.action for e in written] == [Action.CASE_VIEWED]
    event = written[0]
    assert (event.actor_id, event.case_number, event.case_id) == (worker.pk, case.number, case.pk)
    assert event.municipality_id == case.municipality_id
    assert event.actor_municipality_id == worker.municipality_id
    assert event.ip_address == "127.0.0.1"
    assert "identity" in event.part.split(",")
    assert '"page":"protocol:case_detail"' in event.detail
    assert_no_case_words()


def test_a_denied_case_page_writes_no_read(worker, other_worker):
    case = register_child_case(worker)
    client = signed_in_client(other_worker)

    written = events_during(lambda: client.get(case.get_absolute_url()))

    assert client.get(case.get_absolute_url()).status_code == 404
    assert not [e for e in written if e.action == Action.CASE_VIEWED]


def test_list_and_search_record_the_cases_shown_but_never_the_search_words(worker):
    case = register_child_case(worker)
    client = signed_in_client(worker)

    listed = events_during(lambda: client.get("/cases/"))
    searched = events_during(lambda: client.get("/cases/", {"q": "Arta Hoxha"}))

    assert [e.action for e in listed] == [Action.CASES_LISTED]
    assert case.number in listed[0].detail
    assert '"searched":false' in listed[0].detail
    assert [e.action for e in searched] == [Action.CASES_LISTED]
    assert '"searched":true' in searched[0].detail
    assert_no_case_words()


def test_the_dashboard_records_the_cases_it_lists(worker):
    case = register_child_case(worker)
    client = signed_in_client(worker)

    written = events_during(lambda: client.get("/"))

    assert [e.action for e in written] == [Action.CASES_LISTED]
    assert case.number in written[0].detail


@pytest.mark.parametrize(
    "page", ["assessment/", "conference/", "notes/", "referrals/new/", "documents/upload/"]
)
def test_every_page_of_a_case_records_a_read(worker, page):
    case = register_child_case(worker)
    client = signed_in_client(worker)

    def visit():
        response = client.get(f"{case.get_absolute_url()}{page}")
        assert response.status_code in (200, 405)

    written = events_during(visit)
    if page == "notes/":  # POST only: nothing was shown
        assert written == []
    else:
        assert [e.action for e in written] == [Action.CASE_VIEWED]
        assert written[0].case_number == case.number


def test_document_download_is_recorded(worker, settings, tmp_path):
    settings.MBROJTJE_DOCUMENTS_DIR = tmp_path
    case = register_child_case(worker)
    document = documents.document_upload(
        by=worker,
        case=case,
        uploaded_file=SimpleUploadedFile("v.pdf", b"%PDF-1.7\nx\n%%EOF\n", "application/pdf"),
        category=DocumentCategory.COURT_DECISION,
        title="Vendimi",
    )
    client = signed_in_client(worker)

    written = events_during(
        lambda: client.get(f"{case.get_absolute_url()}documents/{document.pk}/")
    )

    assert [e.action for e in written] == [Action.DOCUMENT_DOWNLOADED]
    assert (written[0].object_type, written[0].object_id) == ("protocol.document", str(document.pk))
    assert written[0].part == "documents"


def test_a_referral_read_by_a_member_records_the_parts(worker, officer, police_institution):
    case = register_child_case(worker)
    referral = refer(worker, case, police_institution, parts=["identity", "plan"])
    client = signed_in_client(officer)

    written = events_during(lambda: client.get(referral.get_absolute_url()))
    inbox = events_during(lambda: client.get("/cases/referrals/"))

    assert [e.action for e in written] == [Action.PART_VIEWED]
    assert written[0].part == "identity,plan"
    assert written[0].actor_institution_id == police_institution.pk
    assert [e.action for e in inbox] == [Action.CASES_LISTED]
    assert case.number in inbox[0].detail


# --- Changes and access ----------------------------------------------------------------


def test_a_change_writes_its_event_in_its_transaction(worker):
    case = register_child_case(worker)

    written = events_during(lambda: services.note_add(by=worker, case=case, text="Vizitë."))

    note = Note.objects.get()
    assert [(e.action, e.object_type) for e in written] == [(Action.CREATED, "protocol.note")]
    assert written[0].object_id == str(note.pk)
    assert written[0].case_number == case.number


def test_a_rolled_back_change_leaves_no_event(worker):
    case = register_child_case(worker)
    before = AuditEvent.objects.count()

    def failing():
        with transaction.atomic():
            services.note_add(by=worker, case=case, text="Vizitë.")
            raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        failing()

    assert AuditEvent.objects.count() == before
    assert not Note.objects.exists()


def test_registration_records_the_records_made_and_the_access_granted(worker):
    written = events_during(lambda: register_child_case(worker))

    actions = {e.action for e in written}
    assert {Action.CREATED, Action.ACCESS_GRANTED} <= actions
    created = {e.object_type for e in written if e.action == Action.CREATED}
    assert {"protocol.case", "protocol.person"} <= created
    grants = [e for e in written if e.action == Action.ACCESS_GRANTED]
    assert any(f'"user":{worker.pk}' in e.detail for e in grants)
    assert_no_case_words()


def test_a_referral_and_its_revocation_are_recorded_with_the_grants(worker, police_institution):
    case = register_child_case(worker)

    made = events_during(lambda: refer(worker, case, police_institution))
    referral = referral_services.Referral.objects.get()
    revoked = events_during(
        lambda: referral_services.referral_revoke(by=worker, referral=referral, reason="U zgjidh.")
    )

    assert next(e for e in made if e.action == Action.REFERRAL).justification == "child_at_risk"
    assert '"event":"made"' in next(e.detail for e in made if e.action == Action.REFERRAL)
    assert any(e.action == Action.ACCESS_GRANTED for e in made)
    assert '"event":"revoked"' in next(e.detail for e in revoked if e.action == Action.REFERRAL)
    assert any(e.action == Action.ACCESS_REVOKED for e in revoked)


def test_break_glass_is_recorded_and_flagged_without_its_words(worker, municipality):
    case = register_child_case(worker)
    stranger = UserFactory(
        username="pmf2.dr", municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER]
    )
    justification = "Arta Hoxha u gjet natën në stacion, pa shoqërues."

    written = events_during(
        lambda: emergency_services.emergency_access_open(
            by=stranger, case_number=case.number, justification=justification
        )
    )

    glass = [e for e in written if e.action == Action.BREAK_GLASS]
    assert len(glass) == 1
    assert glass[0].object_type == "protocol.emergencyaccess"
    assert Flag.objects.filter(event=glass[0], kind=FlagKind.BREAK_GLASS).exists()
    assert_no_case_words()


# --- Accounts ------------------------------------------------------------------------------


def test_sign_in_and_out_are_recorded(worker):
    enrolled(worker)
    written = events_during(lambda: signed_in_client(worker))
    signed_in = [e for e in written if e.action == Action.SIGNED_IN]
    assert [e.detail for e in signed_in] == [
        '{"factor":"password"}',
        '{"factor":"AuthenticatorDevice"}',
    ]
    assert all(e.actor_id == worker.pk for e in signed_in)


def test_failed_sign_ins_second_factors_and_the_delay_are_recorded(client, worker, settings):
    enrolled(worker)
    settings.MBROJTJE_SIGN_IN_FREE_TRIES = 3

    def attempts():
        client.post("/accounts/sign-in/", {"username": worker.username, "password": "wrong"})
        client.post("/accounts/sign-in/", {"username": "nobody.here", "password": "wrong"})
        client.post("/accounts/sign-in/", {"username": worker.username, "password": PASSWORD})
        client.post("/accounts/second-factor/", {"token": "000000"})
        client.post("/accounts/second-factor/", {"token": "000001"})

    written = events_during(attempts)
    actions = [e.action for e in written]

    assert actions.count(Action.SIGN_IN_FAILED) == 2
    assert Action.SECOND_FACTOR_FAILED in actions
    assert Action.LOCKED_OUT in actions
    delayed = next(e for e in written if e.action == Action.LOCKED_OUT)
    assert delayed.actor_id == worker.pk
    assert delayed.detail == '{"scope":"account"}'
    assert Flag.objects.filter(event=delayed, kind=FlagKind.FAILED_SIGN_INS).exists()
    for event in written:
        assert "nobody.here" not in event.detail
        assert "wrong" not in event.detail


def test_a_client_delayed_on_unknown_names_raises_the_officers_flag(client, settings):
    settings.MBROJTJE_SIGN_IN_CLIENT_FREE_TRIES = 3

    def spraying():
        for name in ("ana.a", "ben.b", "cen.c"):
            client.post("/accounts/sign-in/", {"username": name, "password": "Pranvera2026!"})
        waits_for_minutes()
        client.post("/accounts/sign-in/", {"username": "den.d", "password": "Pranvera2026!"})

    written = events_during(spraying)

    delayed = [e for e in written if e.action == Action.LOCKED_OUT]
    assert [e.detail for e in delayed] == ['{"scope":"client"}']
    assert delayed[0].ip_address == "127.0.0.1"
    assert Flag.objects.filter(event=delayed[0], kind=FlagKind.FAILED_SIGN_INS).exists()
    throttled = [e for e in written if e.action == Action.SIGN_IN_FAILED][-1]
    assert throttled.detail == '{"reason":"throttled"}'


def test_account_administration_is_recorded(municipal_admin):
    written = events_during(
        lambda: account_services.account_create(
            by=municipal_admin,
            username="pmf.new",
            first_name="Ana",
            last_name="Dervishi",
            email="",
            roles={Role.CHILD_PROTECTION_WORKER},
        )
    )
    administered = [e for e in written if e.action == Action.ACCOUNT_ADMINISTERED]
    assert len(administered) == 1
    assert '"what":"created"' in administered[0].detail
    assert administered[0].actor_id == municipal_admin.pk
    assert "Dervishi" not in " ".join(e.detail for e in written)


# --- Flags --------------------------------------------------------------------------------


def test_reading_after_hours_raises_a_flag(worker, settings):
    settings.MBROJTJE_WORKING_HOURS = (0, 0)
    case = register_child_case(worker)
    client = signed_in_client(worker)

    written = events_during(lambda: client.get(case.get_absolute_url()))

    assert Flag.objects.filter(event=written[0], kind=FlagKind.AFTER_HOURS).count() == 1


def test_reading_a_case_of_another_municipality_raises_a_flag(worker, other_municipality):
    case = register_child_case(worker)
    visitor = UserFactory(
        username="pmf.br",
        municipality=other_municipality,
        roles=[Role.CHILD_PROTECTION_WORKER],
    )
    from protocol import access

    access.grant_full_access(case, user=visitor)
    client = signed_in_client(visitor)

    written = events_during(lambda: client.get(case.get_absolute_url()))

    read = [e for e in written if e.action == Action.CASE_VIEWED]
    assert Flag.objects.filter(event=read[0], kind=FlagKind.OUTSIDE_MUNICIPALITY).exists()


def test_opening_many_cases_quickly_raises_one_flag(worker, settings):
    settings.MBROJTJE_AUDIT_MANY_CASES = 3
    cases = [register_child_case(worker, duplicate_override_reason=f"rast {i}") for i in range(5)]
    client = signed_in_client(worker)

    for case in cases:
        client.get(case.get_absolute_url())

    flags = Flag.objects.filter(kind=FlagKind.MANY_CASES)
    assert flags.count() == 1
    assert flags.get().event.case_number == cases[2].number


def refuse(user, at=None):
    """One refusal by `user` (a typed number that does not exist), at `at` if given."""
    from unittest import mock

    from audit.context import Actor
    from audit.services import record

    def write():
        return record(Action.ACCESS_REFUSED, actor=Actor.of(user), case_number="DR-2026-9999")

    if at is None:
        return write()
    with mock.patch("django.utils.timezone.now", return_value=at):
        return write()


def test_refusals_in_a_burst_raise_one_flag_for_the_users_own_officer(
    worker, foreign_head, settings
):
    settings.MBROJTJE_AUDIT_REFUSALS = 3
    case = register_child_case(worker)
    client = signed_in_client(foreign_head)

    for number in (case.number, "DR-2026-0002", "DR-2026-0003", "DR-2026-0004", "DR-2026-0005"):
        assert client.get(f"/cases/{number}/").status_code == 404

    flag = Flag.objects.get(kind=FlagKind.REFUSED_ACCESS)
    assert flag.event.case_number == "DR-2026-0003"
    assert flag.actor_id == foreign_head.pk
    # The case probed is Durrës's (so is its refusal); the account to act on is Berat's.
    assert flag.municipality_id == foreign_head.municipality_id
    first = AuditEvent.objects.filter(action=Action.ACCESS_REFUSED).order_by("id").first()
    assert (first.case_number, first.municipality_id) == (case.number, worker.municipality_id)


def test_refusals_raise_a_flag_once_per_window_and_again_in_a_later_burst(worker, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.MBROJTJE_AUDIT_REFUSALS = 2
    settings.MBROJTJE_AUDIT_REFUSALS_MINUTES = 10
    start = timezone.now() - timedelta(hours=2)

    made = [refuse(worker, start + timedelta(minutes=m)) for m in (0, 6, 12, 15, 40, 52, 53)]

    flagged = Flag.objects.filter(kind=FlagKind.REFUSED_ACCESS).order_by("raised_at")
    # 0 and 6 make a burst; 12 and 15 fall within 10 minutes of that flag; 40 is alone;
    # 52 and 53 are a new burst.
    assert [flag.event_id for flag in flagged] == [made[1].pk, made[6].pk]


def test_refusals_spread_out_raise_no_flag(worker, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.MBROJTJE_AUDIT_REFUSALS = 3
    start = timezone.now() - timedelta(hours=3)

    for minutes in range(0, 120, 11):
        refuse(worker, start + timedelta(minutes=minutes))

    assert not Flag.objects.filter(kind=FlagKind.REFUSED_ACCESS).exists()
    assert not Flag.objects.exclude(kind=FlagKind.REFUSED_ACCESS).exists()
