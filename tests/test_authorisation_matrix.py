"""Every URL of the project by every kind of user, against the answer each should get.

The list of URLs comes from the URL configuration itself: a view added without
a rule here fails `test_every_url_has_a_rule`. A user who may not use a page
gets 404 (or, signed out, the sign-in page) and none of the subject case's data.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Institution
from accounts.roles import Role
from audit.context import Actor
from audit.models import Action, AuditEvent
from audit.services import record
from dv_cases import services as dv_services
from dv_cases.models import OrderKind, OrderOutcome, OrderRequester
from protocol import documents, services
from protocol.models import CaseKind, EmergencyAccess, PersonRole
from protocol.services import emergency as emergency_services
from protocol.services import meetings as meeting_services
from protocol.services import referrals as referral_services
from protocol.services import transfers as transfer_services
from tests.cases import child, propose_closure, register_child_case, take_to_monitoring
from tests.conftest import signed_in_client, without_tokens
from tests.factories import InstitutionFactory, MunicipalityFactory, UserFactory

USERS = (
    "anonymous",
    "owner",  # child-protection worker in charge of the child case
    "supervisor",  # head of the unit of the case's municipality
    "coworker",  # another worker of the same municipality
    "foreign_head",  # head of the unit of another municipality
    "coordinator",  # DV coordinator in charge of the DV case
    "director",  # director of social services of the cases' municipality
    "foreign_director",  # director of social services of another municipality
    "police",  # CCR member; both cases referred to the police, identity only
    "teacher",  # CCR member of an institution to which nothing was referred
    "admin",  # municipal administrator
    "officer",  # gender-equality officer
    "statistician",  # national statistician
    "no_role",  # a verified account with no role
)
SIGNED_IN = frozenset(USERS) - {"anonymous"}
# The director supervises both kinds of case, as the head and the coordinator do.
CHILD_CASE = frozenset({"owner", "supervisor", "director"})
DV_CASE = frozenset({"coordinator", "director"})
PUBLIC = frozenset(USERS)
# Heads and DV coordinators read their municipality's figures (the foreign head Berat's),
# officers its aggregates, the statistician the national ones.
# Directors read both kinds.
REPORT_READERS = frozenset(
    {
        "supervisor",
        "foreign_head",
        "coordinator",
        "director",
        "foreign_director",
        "officer",
        "statistician",
    }
)

# URL name -> (method, which users may use it, what fills its arguments)
RULES = {
    "home": ("GET", SIGNED_IN, None),
    "health": ("GET", PUBLIC, None),
    "set_language": ("POST", PUBLIC, None),
    "accounts:sign_in": ("GET", PUBLIC, None),
    # Without a link in the session: the same "no longer valid" page (410) for everyone.
    "accounts:activate": ("GET", PUBLIC, None),
    "accounts:sign_out": ("POST", SIGNED_IN, None),
    "accounts:second_factor": ("GET", SIGNED_IN, None),
    "accounts:enrol": ("GET", SIGNED_IN, None),
    "accounts:profile": ("GET", SIGNED_IN, None),
    "accounts:backup_codes_new": ("POST", SIGNED_IN, None),
    "accounts:password_change": ("GET", SIGNED_IN, None),
    "accounts:password_confirm": ("GET", SIGNED_IN, None),
    "accounts:manage_list": ("GET", {"admin"}, None),
    "accounts:manage_create": ("GET", {"admin"}, None),
    "accounts:manage_detail": ("GET", {"admin"}, "account"),
    "accounts:manage_action": ("POST", {"admin"}, "account_action"),
    "accounts:manage_confirm": ("GET", {"admin"}, "account_confirm"),
    "accounts:administrative_act": ("GET", {"officer"}, "administrative_act"),
    # The platform administrator (a superuser) is tested in tests/accounts/test_role_approval.py.
    "accounts:manage_approvals": ("GET", {"admin"}, None),
    "accounts:manage_approve": ("POST", {"admin"}, "waiting_account"),
    "accounts:manage_refuse": ("POST", {"admin"}, "waiting_account"),
    "protocol:case_list": (
        "GET",
        CHILD_CASE
        | DV_CASE
        | {"coworker", "foreign_head", "foreign_director", "police", "teacher"},
        None,
    ),
    "protocol:referral_inbox": ("GET", {"police", "teacher"}, None),
    "protocol:referral_detail": ("GET", {"police"}, "referral"),
    "protocol:case_detail": ("GET", CHILD_CASE | {"police"}, "child"),
    "protocol:assess": ("GET", CHILD_CASE, "child"),
    "protocol:conference": ("GET", CHILD_CASE, "child"),
    "protocol:plan": ("GET", CHILD_CASE, "child"),
    "protocol:plan_action_new": ("GET", CHILD_CASE, "child"),
    "protocol:plan_action_status": ("POST", CHILD_CASE, "plan_action"),
    "protocol:review": ("GET", CHILD_CASE, "child"),
    "protocol:closure": ("GET", CHILD_CASE, "child"),
    "protocol:advance": ("POST", CHILD_CASE, "child_action"),
    "protocol:note_add": ("POST", CHILD_CASE, "child"),
    "protocol:reassign": ("GET", {"supervisor", "director"}, "child"),
    "protocol:reopen": ("GET", {"supervisor", "director"}, "closed_child"),
    "protocol:link_add": ("POST", CHILD_CASE, "child"),
    "protocol:referral_new": ("GET", CHILD_CASE, "child"),
    # People change only by those who change the case: never the police, who read them.
    "protocol:person_new": ("GET", CHILD_CASE, "child"),
    "protocol:person_edit": ("GET", CHILD_CASE, "child_person"),
    "protocol:person_end": ("GET", CHILD_CASE, "child_person"),
    "protocol:referral_revoke": ("POST", CHILD_CASE, "child_referral"),
    "documents:upload": ("GET", CHILD_CASE, "child"),
    "documents:download": ("GET", CHILD_CASE, "document"),
    "cpu:register": ("GET", {"owner", "supervisor", "coworker", "foreign_head"}, None),
    "cpu:measure_new": ("GET", CHILD_CASE, "child"),
    "dv_cases:register": ("GET", {"coordinator"}, None),
    "dv_cases:incident_new": ("GET", DV_CASE, "dv"),
    "dv_cases:risk_assessment_new": ("GET", DV_CASE, "dv"),
    "dv_cases:order_new": ("GET", DV_CASE, "dv"),
    "dv_cases:order_decide": ("GET", DV_CASE, "dv_order"),
    "dv_cases:breach_new": ("GET", DV_CASE, "dv_granted_order"),
    "dv_cases:shelter_new": ("GET", DV_CASE, "dv"),
    "dv_cases:shelter_end": ("GET", DV_CASE, "dv_placement"),
    "meetings:list": (
        "GET",
        CHILD_CASE
        | DV_CASE
        | {"coworker", "foreign_head", "foreign_director", "police", "teacher"},
        None,
    ),
    # The director convenes no meeting.
    "meetings:new": (
        "GET",
        (CHILD_CASE | DV_CASE | {"coworker", "foreign_head"}) - {"director"},
        None,
    ),
    "meetings:detail": ("GET", CHILD_CASE | {"police"}, "meeting"),
    "protocol:transfer_new": ("GET", {"supervisor"}, "child"),
    "protocol:transfer_cancel": ("POST", {"supervisor"}, "child_transfer"),
    "protocol:transfers_incoming": ("GET", {"supervisor", "foreign_head", "coordinator"}, None),
    "protocol:transfer_answer": ("POST", {"foreign_head"}, "transfer"),
    "protocol:emergency_open": (
        "GET",
        {"owner", "supervisor", "coworker", "foreign_head", "coordinator"},
        None,
    ),
    "protocol:emergency_review_list": ("GET", {"officer"}, None),
    "protocol:emergency_review": ("POST", {"officer"}, "emergency_access"),
    "accounts:notifications": ("GET", SIGNED_IN, None),
    "accounts:notifications_mark_read": ("POST", SIGNED_IN, None),
    "accounts:notification_open": ("GET", {"police"}, "notification"),
    "protocol:case_access_log": ("GET", CHILD_CASE, "child"),
    "audit:timeline": ("GET", {"officer"}, None),
    "audit:export": ("GET", {"officer"}, None),
    "audit:user_activity": ("GET", {"officer"}, "account"),
    "audit:case_activity": ("GET", {"officer"}, "child"),
    "audit:flags": ("GET", {"officer"}, None),
    "audit:flag_review": ("POST", {"officer"}, "flag"),
    "reports:dashboard": ("GET", REPORT_READERS, None),
    "reports:yearly": ("GET", REPORT_READERS, None),
    "reports:export": ("GET", REPORT_READERS, "report_format"),
}
# Pages of other kinds with their own tests: the Django admin (superusers only).
NOT_IN_MATRIX = {"admin"}

# A signed-in user refused a page that asks for something they may not see (a case, a
# part of it, a document, a referral, a meeting) is recorded (ACCESS_REFUSED); one refused
# a page that their role lacks, or a change of what they may see, is not.
CASE_OF_FILLER = {
    **dict.fromkeys(
        (
            "child",
            "child_action",
            "plan_action",
            "child_referral",
            "child_transfer",
            "document",
            "child_person",
        ),
        "child",
    ),
    **dict.fromkeys(("dv", "dv_order", "dv_granted_order", "dv_placement"), "dv"),
    "closed_child": "closed_child",
}
CASE_READERS = {
    # Closed: its referrals ended; its worker and supervisors keep reading it.
    "closed_child": {"owner", "supervisor", "director"},
    "child": {"owner", "supervisor", "director", "police"},
    "dv": {"coordinator", "director", "police"},
}
# Pages of the parts the police was not referred (both cases share the identity only).
PARTS_NOT_REFERRED = {
    "protocol:assess",
    "protocol:conference",
    "protocol:plan",
    "protocol:plan_action_new",
    "protocol:plan_action_status",
    "protocol:review",
    "protocol:note_add",
    "documents:upload",
    "documents:download",
    "cpu:measure_new",
    "dv_cases:incident_new",
    "dv_cases:risk_assessment_new",
    "dv_cases:order_new",
    "dv_cases:order_decide",
    "dv_cases:breach_new",
}
OBJECT_PAGES = {"protocol:referral_detail", "meetings:detail"}
# The officer's page of a case number reads the trail, not the case.
NOT_A_CASE_LOOKUP = {"audit:case_activity"}


def is_refusal(name: str, filler: str | None, user: str) -> bool:
    if user == "anonymous":
        return False
    if name in OBJECT_PAGES:
        return True
    case = CASE_OF_FILLER.get(filler)
    if case is None or name in NOT_A_CASE_LOOKUP:
        return False
    return user not in CASE_READERS[case] or (user == "police" and name in PARTS_NOT_REFERRED)


def url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace in NOT_IN_MATRIX:
                continue
            yield from url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_url_has_a_rule():
    names = set(url_names())
    assert names - set(RULES) == set(), "give the new view a rule in the matrix"
    assert set(RULES) - names == set()


@pytest.fixture
def world(db, tmp_path, settings):
    """Two municipalities, one user of each kind, a child case and a DV case with parts."""
    settings.MBROJTJE_DOCUMENTS_DIR = tmp_path
    durres = MunicipalityFactory(name="Durrës", code="DR")
    berat = MunicipalityFactory(name="Berat", code="BR")
    police = InstitutionFactory(municipality=durres, name="Policia", kind=Institution.Kind.POLICE)
    school = InstitutionFactory(municipality=durres, name="Shkolla", kind="education")
    court = InstitutionFactory(municipality=durres, name="Gjykata", kind=Institution.Kind.COURT)
    shelter = InstitutionFactory(municipality=durres, name="Strehëza", kind="shelter")
    users = {
        "owner": UserFactory(municipality=durres, roles=[Role.CHILD_PROTECTION_WORKER]),
        "supervisor": UserFactory(municipality=durres, roles=[Role.HEAD_OF_CPU]),
        "coworker": UserFactory(municipality=durres, roles=[Role.CHILD_PROTECTION_WORKER]),
        "foreign_head": UserFactory(municipality=berat, roles=[Role.HEAD_OF_CPU]),
        "coordinator": UserFactory(municipality=durres, roles=[Role.DV_COORDINATOR]),
        "director": UserFactory(municipality=durres, roles=[Role.HEAD_OF_SOCIAL_SERVICES]),
        "foreign_director": UserFactory(municipality=berat, roles=[Role.HEAD_OF_SOCIAL_SERVICES]),
        "police": UserFactory(municipality=durres, institution=police, roles=[Role.CCR_MEMBER]),
        "teacher": UserFactory(municipality=durres, institution=school, roles=[Role.CCR_MEMBER]),
        "admin": UserFactory(municipality=durres, roles=[Role.MUNICIPAL_ADMINISTRATOR]),
        "officer": UserFactory(municipality=durres, roles=[Role.GENDER_EQUALITY_OFFICER]),
        "statistician": UserFactory(municipality=None, roles=[Role.NATIONAL_STATISTICIAN]),
        "no_role": UserFactory(municipality=durres),
    }
    # A role requested by a second administrator, which "admin" may approve.
    waiting_account = account_services.account_create(
        by=UserFactory(municipality=durres, roles=[Role.MUNICIPAL_ADMINISTRATOR]),
        username="requested.pmf",
        first_name="E",
        last_name="P",
        email="requested@example.invalid",
        roles={Role.CHILD_PROTECTION_WORKER},
    ).user
    child_case = take_to_monitoring(
        register_child_case(users["owner"]), users["owner"], users["supervisor"]
    )
    referral = referral_services.referral_create(
        by=users["owner"],
        case=child_case,
        institution=police,
        parts=["identity"],
        reason="Vizitë.",
        urgency="urgent",
        legal_basis="child_at_risk",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    closed_child = propose_closure(
        register_child_case(
            users["owner"], person=child(first="Bora", last="Leka", personal_number="K20202002B")
        ),
        users["owner"],
    )
    services.case_advance(
        by=users["supervisor"],
        case=closed_child,
        version=closed_child.version,
        action="approve_closure",
    )
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    from django.core.files.uploadedfile import SimpleUploadedFile

    document = documents.document_upload(
        by=users["owner"],
        case=child_case,
        uploaded_file=SimpleUploadedFile("raport.png", png, content_type="image/png"),
        category="social_report",
        title="Raporti social",
    )
    dv_case = services.case_register(
        by=users["coordinator"],
        kind=CaseKind.DV,
        people=[child(first="Mimoza", last="Rama", personal_number="I70101001A")],
        needs=["physical"],
        reported_risk_level="high",
        reported_at=timezone.now() - timedelta(days=2),
        report_channel="phone",
        reporter_kind="police",
        reporter_details="",
        summary="Sulm në banesë.",
    )
    dv_case.people.update(role=PersonRole.VICTIM)
    referral_services.referral_create(
        by=users["coordinator"],
        case=dv_case,
        institution=police,
        parts=["identity"],
        reason="Urdhër.",
        urgency="urgent",
        legal_basis="consent",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    order = dv_services.protection_order_record(
        by=users["coordinator"],
        case=dv_case,
        kind=OrderKind.UMM,
        requested_by=OrderRequester.VICTIM,
        requested_at=timezone.now() - timedelta(days=1),
        issuing_institution=court,
        measures="Ndalim afrimi.",
        covers_children=False,
    )
    granted = dv_services.protection_order_record(
        by=users["coordinator"],
        case=dv_case,
        kind=OrderKind.UMM,
        requested_by=OrderRequester.VICTIM,
        requested_at=timezone.now() - timedelta(days=1),
        issuing_institution=court,
        measures="Largim.",
        covers_children=False,
    )
    dv_case.refresh_from_db()
    dv_services.protection_order_decide(
        by=users["coordinator"],
        order=granted,
        version=dv_case.version,
        outcome=OrderOutcome.GRANTED,
        decided_at=timezone.now() - timedelta(hours=1),
        valid_from=timezone.localdate(),
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    placement = dv_services.shelter_placement_record(
        by=users["coordinator"],
        case=dv_case,
        shelter=shelter,
        placed_on=timezone.localdate(),
        notes="",
    )
    meeting = meeting_services.meeting_convene(
        by=users["owner"],
        kind="gtn",
        scheduled_at=timezone.now() + timedelta(days=1),
        invited=[police],
        cases=[child_case],
    )
    child_case.refresh_from_db()
    transfer = transfer_services.transfer_request(
        by=users["supervisor"],
        case=child_case,
        version=child_case.version,
        to_municipality=berat,
        reason="Familja u zhvendos.",
    )
    emergency = emergency_services.emergency_access_open(
        by=users["foreign_head"],
        case_number=child_case.number,
        justification="Fëmija u gjet natën pa shoqërues.",
    )
    # Ended, so that the foreign head reads no more than the other rows expect.
    ended = timezone.now() - timedelta(hours=1)
    EmergencyAccess.objects.filter(pk=emergency.pk).update(
        opened_at=ended - timedelta(hours=4), expires_at=ended
    )
    # A flagged event of the case's municipality, for the officer's review page.
    flagged = record(
        Action.BREAK_GLASS,
        case_number=child_case.number,
        municipality_id=durres.pk,
        actor=Actor.of(users["foreign_head"]),
    )
    account_services.account_deactivate(
        by=users["admin"],
        account=UserFactory(municipality=durres, roles=[Role.CHILD_PROTECTION_WORKER]),
        reason="Left the municipality.",
    )
    deactivated_event = (
        AuditEvent.objects.filter(action=Action.ACCOUNT_ADMINISTERED).order_by("pk").last()
    )
    kwargs = {
        "flag": {"pk": flagged.flags.get().pk},
        "notification": {"pk": users["police"].notifications.first().pk},
        "child_transfer": {"number": child_case.number, "pk": transfer.pk},
        "transfer": {"pk": transfer.pk},
        "emergency_access": {"pk": emergency.pk},
        "meeting": {"pk": meeting.pk},
        "child": {"number": child_case.number},
        "closed_child": {"number": closed_child.number},
        "child_action": {"number": child_case.number, "action": "review"},
        "plan_action": {"number": child_case.number, "pk": child_case.plan.actions.first().pk},
        "child_referral": {"number": child_case.number, "pk": referral.pk},
        "child_person": {"number": child_case.number, "pk": child_case.people.get().pk},
        "referral": {"pk": referral.pk},
        "document": {"number": child_case.number, "pk": document.pk},
        "dv": {"number": dv_case.number},
        "dv_order": {"number": dv_case.number, "pk": order.pk},
        "dv_granted_order": {"number": dv_case.number, "pk": granted.pk},
        "dv_placement": {"number": dv_case.number, "pk": placement.pk},
        "account": {"pk": users["coworker"].pk},
        "account_action": {"pk": users["coworker"].pk, "action": "unlock"},
        "account_confirm": {"pk": users["coworker"].pk, "action": "reset"},
        "administrative_act": {"event_pk": deactivated_event.pk},
        "waiting_account": {"pk": waiting_account.pk},
        "report_format": {"fmt": "xlsx"},
    }
    clients = {"anonymous": Client()}
    clients.update({key: signed_in_client(user) for key, user in users.items()})
    return {"clients": clients, "kwargs": kwargs, "users": users}


# Words of the subject cases that no denied user may see.
SECRETS = ("Hoxha", "Arta", "Mimoza", "Rama", "K10101001A", "I70101001A", "shkollë pa ngrënë")


def test_every_url_answers_every_user_as_its_rule_says(world):
    from django.urls import reverse

    failures = []
    user_ids = {key: user.pk for key, user in world["users"].items()}
    # Signing out last: it ends the sessions the other rows use.
    for name, (method, allowed, filler) in sorted(
        RULES.items(), key=lambda item: (item[0] == "accounts:sign_out", item[0])
    ):
        url = reverse(name, kwargs=world["kwargs"][filler] if filler else None)
        for user in USERS:
            client = world["clients"][user]
            last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
            response = client.post(url) if method == "POST" else client.get(url)
            refusals = list(
                AuditEvent.objects.filter(id__gt=last, action=Action.ACCESS_REFUSED).values_list(
                    "actor_id", flat=True
                )
            )
            expected = [user_ids[user]] if is_refusal(name, filler, user) else []
            if user not in allowed and refusals != expected:
                failures.append(f"{name} {method} {user}: refusals recorded {refusals}")
            elif user in allowed and refusals:
                failures.append(f"{name} {method} {user}: allowed, yet a refusal recorded")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            page = without_tokens(body.decode(errors="replace"))
            if user in allowed:
                if response.status_code in (403, 404) or (
                    user != "anonymous"
                    and name != "accounts:sign_out"  # it sends everyone to sign in
                    and response.status_code == 302
                    and "/accounts/sign-in/" in response["Location"]
                ):
                    failures.append(f"{name} {method} {user}: refused ({response.status_code})")
            elif user == "anonymous":
                if not (
                    response.status_code == 302
                    and response["Location"].startswith("/accounts/sign-in/")
                ):
                    failures.append(f"{name} {method} anonymous: {response.status_code}")
            elif response.status_code != 404:
                failures.append(f"{name} {method} {user}: {response.status_code}, not 404")
            elif leaked := [secret for secret in SECRETS if secret in page]:
                failures.append(f"{name} {method} {user}: 404 showing {leaked}")
    assert failures == [], "\n".join(failures)


def test_lists_and_dashboards_count_only_visible_cases(world):
    for user in (
        "coworker",
        "foreign_head",
        "foreign_director",
        "teacher",
        "admin",
        "officer",
        "statistician",
    ):
        client = world["clients"][user]
        for path in ("/", "/cases/"):
            response = client.get(path)
            page = without_tokens(response.content.decode())
            for secret in SECRETS:
                assert secret not in page, (user, path, secret)
            assert world["kwargs"]["child"]["number"] not in page, (user, path)
            assert world["kwargs"]["dv"]["number"] not in page, (user, path)
    police_list = world["clients"]["police"].get("/cases/").content.decode()
    assert world["kwargs"]["child"]["number"] in police_list
    assert world["kwargs"]["dv"]["number"] in police_list


def test_search_finds_nothing_the_user_may_not_open(world):
    for user in ("coworker", "foreign_head", "teacher", "coordinator"):
        page = world["clients"][user].get("/cases/", {"q": "Arta Hoxha"}).content.decode()
        assert world["kwargs"]["child"]["number"] not in page, user
    for query in ("Arta Hoxha", "K10101001A"):
        page = world["clients"]["owner"].get("/cases/", {"q": query}).content.decode()
        assert world["kwargs"]["child"]["number"] in page
