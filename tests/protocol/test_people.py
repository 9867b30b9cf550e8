"""The people of a case after registration: change, add, end; who may; what is kept."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, AuditEvent
from protocol import services
from protocol.models import Person, PersonRole, Sex
from protocol.selectors import people_on_case
from protocol.services import PersonData, PossibleDuplicate, StaleEdit
from protocol.services import emergency as emergency_services
from protocol.services import people as people_services
from protocol.services import referrals as referral_services
from tests.cases import child, register_child_case
from tests.conftest import signed_in_client
from tests.encryption.raw import read_column
from tests.factories import UserFactory

NEW_ADDRESS = "Lagjja 5, Rruga Taulantia 40, Durrës"
OLD_ADDRESS = "Rruga e Dëshmorëve 12, Durrës"


def data_of(person: Person, **changes) -> PersonData:
    values = {name: getattr(person, name) for name in people_services.EDITABLE}
    return PersonData(role=person.role, **{**values, **changes})


@pytest.fixture
def case(worker):
    return register_child_case(worker)


def the_child(case) -> Person:
    return case.people.get(role=PersonRole.CHILD)


def change(by, case, person, **changes):
    case.refresh_from_db()
    return people_services.person_change(
        by=by, person=person, version=case.version, data=data_of(person, **changes)
    )


# --- Services -----------------------------------------------------------------------


def test_worker_changes_every_detail_and_the_indexes_follow(case, worker):
    person = the_child(case)
    version = case.version
    change(
        worker,
        case,
        person,
        first_name="Ardita",
        last_name="Gjoka",
        personal_number="k20202002b",
        birth_date=date(2016, 1, 2),
        address=NEW_ADDRESS,
        phone="0677777777",
        sex="male",
        age_group="",
        is_roma=True,
        is_egyptian=True,
        has_disability=True,
    )
    person.refresh_from_db()
    assert (person.first_name, person.last_name) == ("Ardita", "Gjoka")
    assert person.personal_number == "K20202002B"
    assert person.birth_date == date(2016, 1, 2)
    assert (person.address, person.phone, person.sex) == (NEW_ADDRESS, "0677777777", "male")
    assert person.age_group == services.age_group_of(date(2016, 1, 2))
    assert (person.is_roma, person.is_egyptian, person.has_disability) == (True, True, True)
    indexes = services.person_indexes(
        first_name="Ardita",
        last_name="Gjoka",
        personal_number="K20202002B",
        birth_date=date(2016, 1, 2),
    )
    assert {name: getattr(person, name) for name in indexes} == indexes
    case.refresh_from_db()
    assert case.version == version + 1
    # The search finds the new name and number, no longer the old.
    owner_client = signed_in_client(worker)
    assert case.number in owner_client.get("/cases/", {"q": "Ardita Gjoka"}).content.decode()
    assert case.number in owner_client.get("/cases/", {"q": "K20202002B"}).content.decode()
    assert case.number not in owner_client.get("/cases/", {"q": "K10101001A"}).content.decode()


def test_a_form_opened_before_another_change_is_refused(case, worker, head):
    person = the_child(case)
    seen = case.version
    change(head, case, person, phone="0681111111")
    with pytest.raises(StaleEdit):
        people_services.person_change(
            by=worker, person=person, version=seen, data=data_of(person, address=NEW_ADDRESS)
        )
    person.refresh_from_db()
    assert person.address == OLD_ADDRESS
    assert person.phone == "0681111111"


def test_the_history_keeps_each_version_encrypted(case, worker):
    person = the_child(case)
    change(worker, case, person, address=NEW_ADDRESS)
    rows = list(person.history.order_by("history_date"))
    assert [row.address for row in rows] == [OLD_ADDRESS, NEW_ADDRESS]
    history_model = Person.history.model
    for field_name in ("first_name", "last_name", "personal_number", "address", "phone"):
        assert type(history_model._meta.get_field(field_name)) is type(
            Person._meta.get_field(field_name)
        )
    stored = read_column(history_model, "address", rows[0].pk)
    assert "Dëshmorëve".encode() not in stored
    assert b"K10101001A" not in read_column(history_model, "personal_number", rows[0].pk)
    assert b"Hoxha" not in read_column(history_model, "last_name", rows[0].pk)


def test_one_audit_event_per_change_naming_who_changed_it(case, worker):
    person = the_child(case)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    change(worker, case, person, address=NEW_ADDRESS)
    events = list(AuditEvent.objects.filter(id__gt=before))
    assert [(event.action, event.object_type) for event in events] == [
        (Action.CHANGED, "protocol.person")
    ]
    assert events[0].actor_id == worker.pk
    assert events[0].case_number == case.number
    assert NEW_ADDRESS not in str(events[0].detail)


def test_saving_without_a_change_writes_nothing(case, worker):
    person = the_child(case)
    version = case.version
    change(worker, case, person)
    case.refresh_from_db()
    assert case.version == version
    assert person.history.count() == 1


def test_the_case_page_shows_the_current_and_earlier_addresses(case, worker):
    person = the_child(case)
    change(worker, case, person, address=NEW_ADDRESS)
    (shown, *_others) = people_on_case(case)
    assert shown.address == NEW_ADDRESS
    assert [address for address, _since, _until in shown.earlier_addresses] == [OLD_ADDRESS]
    page = signed_in_client(worker).get(case.get_absolute_url()).content.decode()
    assert NEW_ADDRESS in page
    assert OLD_ADDRESS in page
    assert "Adresat e mëparshme" in page


def test_a_new_personal_number_runs_the_duplicate_check_again(case, worker):
    other = register_child_case(
        worker,
        person=child(first="Besa", last="Leka", personal_number="K30303003C"),
    )
    person = the_child(case)
    with pytest.raises(PossibleDuplicate) as possible:
        change(worker, case, person, personal_number="K30303003C")
    assert possible.value.case_numbers == [other.number]
    person.refresh_from_db()
    assert person.personal_number == "K10101001A"
    case.refresh_from_db()
    people_services.person_change(
        by=worker,
        person=person,
        version=case.version,
        data=data_of(person, personal_number="K30303003C"),
        duplicate_override_reason="Numri i vërtetë, nga gjendja civile.",
    )
    person.refresh_from_db()
    assert person.personal_number == "K30303003C"
    assert person.duplicate_override_reason == "Numri i vërtetë, nga gjendja civile."


def test_a_new_name_and_birth_date_runs_the_duplicate_check_again(case, worker):
    register_child_case(
        worker,
        person=child(first="Besa", last="Leka", personal_number=None, birth=date(2014, 1, 1)),
    )
    person = the_child(case)
    with pytest.raises(PossibleDuplicate):
        change(
            worker, case, person, first_name="Besa", last_name="Leka", birth_date=date(2014, 1, 1)
        )
    # Changing only the phone does not meet the other case.
    change(worker, case, person, phone="0682222222")


def test_the_check_ignores_the_persons_own_case(case, worker):
    person = the_child(case)
    change(worker, case, person, first_name="ARTA", address=NEW_ADDRESS)
    person.refresh_from_db()
    assert person.address == NEW_ADDRESS


def test_add_a_person_in_a_role_of_the_kind(case, worker):
    case.refresh_from_db()
    sibling = people_services.person_add(
        by=worker,
        case=case,
        version=case.version,
        data=PersonData(
            role=PersonRole.HOUSEHOLD_CHILD,
            first_name="Dritan",
            last_name="Hoxha",
            birth_date=date(2019, 6, 1),
            sex="male",
        ),
    )
    assert sibling.case == case
    assert sibling.age_group == services.age_group_of(date(2019, 6, 1))
    assert sibling.name_index
    assert sibling.history.get().history_user == worker
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        people_services.person_add(
            by=worker,
            case=case,
            version=case.version,
            data=PersonData(role=PersonRole.PERPETRATOR, first_name="X", last_name="Y"),
        )


def test_adding_someone_with_an_open_case_asks_for_a_reason(case, worker):
    other = register_child_case(
        worker, person=child(first="Besa", last="Leka", personal_number="K30303003C")
    )
    case.refresh_from_db()
    data = PersonData(
        role=PersonRole.HOUSEHOLD_CHILD,
        first_name="Besa",
        last_name="Leka",
        personal_number="K30303003C",
    )
    with pytest.raises(PossibleDuplicate) as possible:
        people_services.person_add(by=worker, case=case, version=case.version, data=data)
    assert possible.value.case_numbers == [other.number]
    added = people_services.person_add(
        by=worker,
        case=case,
        version=case.version,
        data=data,
        duplicate_override_reason="Motra, me rastin e saj.",
    )
    assert added.duplicate_override_reason == "Motra, me rastin e saj."


def test_end_a_persons_part_keeps_them_and_stops_counting_them(case, worker):
    case.refresh_from_db()
    parent = people_services.person_add(
        by=worker,
        case=case,
        version=case.version,
        data=PersonData(role=PersonRole.PARENT, first_name="Mira", last_name="Hoxha"),
    )
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        people_services.person_end(by=worker, person=parent, version=case.version, reason=" ")
    people_services.person_end(
        by=worker, person=parent, version=case.version, reason="U largua nga shtëpia."
    )
    parent.refresh_from_db()
    assert parent.ended_at is not None
    assert parent.end_reason == "U largua nga shtëpia."
    assert parent.history.count() == 2
    assert b"largua" not in read_column(Person, "end_reason", parent.pk)
    people = people_on_case(case)
    assert people[-1] == parent
    page = signed_in_client(worker).get(case.get_absolute_url()).content.decode()
    assert "përfundoi më" in page
    assert "U largua nga shtëpia." in page
    # An ended person is not changed again, nor ended twice.
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        people_services.person_change(
            by=worker, person=parent, version=case.version, data=data_of(parent, phone="1")
        )


def test_the_last_child_of_a_child_case_is_not_ended(case, worker):
    with pytest.raises(ValidationError):
        people_services.person_end(
            by=worker, person=the_child(case), version=case.version, reason="Gabim."
        )


def test_an_ended_person_is_no_longer_counted_nor_a_duplicate(case, worker):
    other = register_child_case(
        worker, person=child(first="Besa", last="Leka", personal_number="K30303003C")
    )
    other.refresh_from_db()
    besa = the_child(other)
    people_services.person_add(
        by=worker,
        case=other,
        version=other.version,
        data=PersonData(role=PersonRole.CHILD, first_name="Teuta", last_name="Leka"),
    )
    other.refresh_from_db()
    people_services.person_end(
        by=worker, person=besa, version=other.version, reason="Regjistruar gabim."
    )
    matches = services.possible_duplicates(
        by=worker,
        municipality_id=case.municipality_id,
        person=PersonData(
            role="child", first_name="B", last_name="L", personal_number="K30303003C"
        ),
    )
    assert matches == []
    # The case list names the current child of the case.
    page = signed_in_client(worker).get("/cases/").content.decode()
    assert "Teuta Leka" in page
    assert "Besa Leka" not in page


def test_reports_count_a_person_ended_in_the_period_not_one_ended_before(case, worker):
    from reports.selectors import Period, ReportFilters, ReportScope, report_for

    case.refresh_from_db()
    second = people_services.person_add(
        by=worker,
        case=case,
        version=case.version,
        data=PersonData(role=PersonRole.CHILD, first_name="Teuta", last_name="Hoxha", sex="male"),
    )
    case.refresh_from_db()
    people_services.person_end(by=worker, person=second, version=case.version, reason="Gabim.")
    today = timezone.localdate()
    scope = ReportScope(kinds=("child",), municipality_id=case.municipality_id)

    def by_sex(start):
        report = report_for(scope, ReportFilters(period=Period.between(start, today)))
        table = next(table for table in report.tables if table.key == "by_sex")
        return {row.label: row.counts[0] for row in table.rows}[str(Sex.MALE.label)]

    assert by_sex(today - timedelta(days=30)) == 1  # ended within the period
    Person.objects.filter(pk=second.pk).update(ended_at=timezone.now() - timedelta(days=60))
    assert by_sex(today - timedelta(days=30)) == 0


# --- Who may ------------------------------------------------------------------------


def test_supervisor_changes_people_of_the_case(case, head):
    change(head, case, the_child(case), address=NEW_ADDRESS)
    assert the_child(case).address == NEW_ADDRESS


def test_coworker_ccr_member_and_emergency_reader_may_not(
    case, worker, other_worker, officer, police_institution, foreign_head
):
    referral_services.referral_create(
        by=worker,
        case=case,
        institution=police_institution,
        parts=["identity"],
        reason="Vizitë.",
        urgency="urgent",
        legal_basis="child_at_risk",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    emergency_services.emergency_access_open(
        by=foreign_head, case_number=case.number, justification="Fëmija u gjet natën vetëm."
    )
    person = the_child(case)
    for user in (other_worker, officer, foreign_head):
        assert not services.access.can_change_case(user, case)
        case.refresh_from_db()
        with pytest.raises(PermissionDenied):
            people_services.person_change(
                by=user, person=person, version=case.version, data=data_of(person, phone="1")
            )
        with pytest.raises(PermissionDenied):
            people_services.person_add(
                by=user,
                case=case,
                version=case.version,
                data=PersonData(role=PersonRole.PARENT, first_name="X", last_name="Y"),
            )
        with pytest.raises(PermissionDenied):
            people_services.person_end(by=user, person=person, version=case.version, reason="x")
    person.refresh_from_db()
    assert person.phone == "0691234567"


# --- HTTP ---------------------------------------------------------------------------


def url(case, what="", person=None):
    base = f"/cases/{case.number}/people/"
    return base + (f"{person.pk}/" if person else "") + what


def form_of(person, **changes):
    values = {name: getattr(person, name) for name in people_services.EDITABLE}
    values["birth_date"] = values["birth_date"].isoformat() if values["birth_date"] else ""
    values = {name: ("" if value is None else value) for name, value in values.items()}
    for flag in ("is_roma", "is_egyptian", "has_disability"):
        if not values[flag]:
            values.pop(flag)
    return {**values, **changes}


def test_http_edit_then_stale_edit_refused(case, worker):
    client = signed_in_client(worker)
    person = the_child(case)
    page = client.get(url(case, person=person))
    assert page.status_code == 200
    assert "Arta" in page.content.decode()
    response = client.post(
        url(case, person=person), form_of(person, version=case.version, address=NEW_ADDRESS)
    )
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url() + "#people"
    assert the_child(case).address == NEW_ADDRESS
    response = client.post(
        url(case, person=person), form_of(person, version=case.version, phone="0680000000")
    )
    assert response.status_code == 200
    assert "Askush" in response.content.decode() or "ndryshoi" in response.content.decode()
    assert the_child(case).phone == "0691234567"


def test_http_duplicate_shown_then_saved_with_a_reason(case, worker):
    other = register_child_case(
        worker, person=child(first="Besa", last="Leka", personal_number="K30303003C")
    )
    client = signed_in_client(worker)
    person = the_child(case)
    data = form_of(person, version=case.version, personal_number="K30303003C")
    response = client.post(url(case, person=person), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert other.number in page
    assert "duplicate_override_reason" in page
    response = client.post(
        url(case, person=person), {**data, "duplicate_override_reason": "I njëjti fëmijë."}
    )
    assert response.status_code == 302
    assert the_child(case).personal_number == "K30303003C"


def test_http_add_and_end(case, worker):
    client = signed_in_client(worker)
    page = client.get(url(case, "new/")).content.decode()
    assert 'value="household_child"' in page
    assert 'value="perpetrator"' not in page
    response = client.post(
        url(case, "new/"),
        {
            "version": case.version,
            "role": "parent",
            "first_name": "Mira",
            "last_name": "Hoxha",
            "phone": "0690000000",
        },
    )
    assert response.status_code == 302
    parent = case.people.get(role=PersonRole.PARENT)
    case.refresh_from_db()
    response = client.post(
        url(case, "end/", parent), {"version": case.version, "reason": "Jeton jashtë vendit."}
    )
    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.ended_at is not None
    # An ended person has no pages to change any more.
    assert client.get(url(case, person=parent)).status_code == 404
    assert client.get(url(case, "end/", parent)).status_code == 404


def test_http_denials_show_no_people_data(case, worker, other_worker, officer, police_institution):
    referral_services.referral_create(
        by=worker,
        case=case,
        institution=police_institution,
        parts=["identity"],
        reason="Vizitë.",
        urgency="urgent",
        legal_basis="child_at_risk",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    teacher = UserFactory(municipality=case.municipality, roles=[Role.CCR_MEMBER])
    person = the_child(case)
    for user in (other_worker, officer, teacher):
        client = signed_in_client(user)
        for path in (url(case, person=person), url(case, "end/", person), url(case, "new/")):
            response = client.get(path)
            assert response.status_code == 404, (user, path)
            assert "Arta" not in response.content.decode()
            assert "Hoxha" not in response.content.decode()
        response = client.post(
            url(case, person=person), form_of(person, version=case.version, phone="1")
        )
        assert response.status_code == 404
    assert the_child(case).phone == "0691234567"
    # The police, who hold the identity part, read the people but are offered no change.
    page = signed_in_client(officer).get(case.get_absolute_url()).content.decode()
    assert "Arta" in page
    assert url(case, person=person) not in page
    assert url(case, "new/") not in page
