"""A role that reads cases (and an administrator's or officer's role, and a new address of
such an account) takes effect only when a second person approves it."""

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.models import Institution, Notification, RequestRefusal, RoleAssignment, User
from accounts.roles import Role
from audit.models import Action, AuditEvent, Flag, FlagKind
from tests.cases import refer, register_child_case
from tests.conftest import signed_in_client
from tests.factories import PASSWORD, InstitutionFactory, UserFactory


@pytest.fixture
def second_admin(municipality):
    return UserFactory(
        username="admin2.dr", municipality=municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR]
    )


def request_account(by, roles, *, username="e.re", institution=None) -> User:
    """An account made by `by`, whose user has already chosen the tests' password."""
    account = services.account_create(
        by=by,
        username=username,
        first_name="Besa",
        last_name="Kraja",
        email=f"{username}@example.invalid",
        roles=set(roles),
        institution=institution,
    ).user
    User.objects.filter(pk=account.pk).update(password=make_password(PASSWORD))
    return account


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


# --- Requesting ---------------------------------------------------------------------


def test_a_role_granted_by_an_administrator_waits_and_grants_nothing(municipal_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    account = fresh(account)
    assert account.roles == set()
    assert account.pending_roles == {Role.HEAD_OF_CPU}
    assert not account.groups.exists()
    assert not account.has_perm("protocol.register_child_case")
    assignment = RoleAssignment.objects.get(user=account)
    assert assignment.assigned_by == municipal_admin
    assert assignment.approved_at is None


def test_the_request_is_notified_to_the_account_and_the_other_administrators(
    municipal_admin, second_admin
):
    account = request_account(municipal_admin, [Role.CHILD_PROTECTION_WORKER])
    assert account.notifications.get().kind == Notification.Kind.ROLE_REQUESTED
    waiting = second_admin.notifications.get()
    assert waiting.kind == Notification.Kind.APPROVAL_WAITING
    assert waiting.target_url == "/accounts/manage/approvals/"
    assert not municipal_admin.notifications.exists()
    assert "Besa" not in waiting.message
    assert "e.re" not in waiting.message


def test_a_member_moved_to_another_institution_waits_for_approval_again(
    municipal_admin, second_admin, municipality
):
    """Else one administrator could move a member of the school to the police and hand
    them the police's referrals alone."""
    police, school = (
        InstitutionFactory(municipality=municipality, kind=kind)
        for kind in (Institution.Kind.POLICE, Institution.Kind.EDUCATION)
    )
    member = UserFactory(municipality=municipality, institution=school, roles=[Role.CCR_MEMBER])
    worker = UserFactory(municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER])
    case = register_child_case(worker)
    refer(worker, case, police)

    services.account_update(
        by=municipal_admin,
        account=member,
        version=member.version,
        first_name=member.first_name,
        last_name=member.last_name,
        email=member.email,
        roles={Role.CCR_MEMBER},
        institution=police,
    )

    member = fresh(member)
    assert member.roles == set()
    assert member.pending_roles == {Role.CCR_MEMBER}
    assert not member.groups.exists()
    assert signed_in_client(member).get(case.get_absolute_url()).status_code == 404
    services.role_requests_approve(by=second_admin, account=member, version=member.version)
    member = fresh(member)
    assert member.roles == {Role.CCR_MEMBER}
    assert signed_in_client(member).get(case.get_absolute_url()).status_code == 200


def test_removing_a_role_takes_effect_at_once(municipal_admin, worker):
    services.account_update(
        by=municipal_admin,
        account=worker,
        version=worker.version,
        first_name="a",
        last_name="b",
        email=worker.email,
        roles={Role.HEAD_OF_CPU},
        institution=None,
    )
    worker = fresh(worker)
    assert worker.roles == set()
    assert worker.pending_roles == {Role.HEAD_OF_CPU}


def test_saving_the_form_again_keeps_the_waiting_roles(municipal_admin):
    account = request_account(municipal_admin, [Role.CHILD_PROTECTION_WORKER])
    client = signed_in_client(municipal_admin)
    page = client.get(f"/accounts/manage/{account.pk}/")
    assert page.context["form"].initial["roles"] == [Role.CHILD_PROTECTION_WORKER]
    assert "në pritje të miratimit nga një administrator tjetër" in page.content.decode()
    listing = client.get("/accounts/manage/").content.decode()
    assert "në pritje të miratimit nga një administrator tjetër" in listing


# --- Until approved the account reads nothing ---------------------------------------


@pytest.mark.parametrize(
    "role", [Role.CHILD_PROTECTION_WORKER, Role.HEAD_OF_CPU, Role.DV_COORDINATOR, Role.CCR_MEMBER]
)
def test_a_waiting_case_role_reads_no_case_until_approved(
    municipal_admin, second_admin, worker, police_institution, role
):
    case = register_child_case(worker)
    institution = police_institution if role == Role.CCR_MEMBER else None
    if institution:
        refer(worker, case, police_institution)
    account = request_account(municipal_admin, [role], institution=institution)
    client = signed_in_client(account)

    assert client.get("/cases/").status_code == 404
    assert client.get(f"/cases/{case.number}/").status_code == 404
    assert case.number not in client.get("/").content.decode()
    assert not fresh(account).groups.exists()

    services.role_requests_approve(by=second_admin, account=account, version=fresh(account).version)

    assert client.get("/cases/").status_code == 200
    assert fresh(account).roles == {role}
    if role in (Role.HEAD_OF_CPU, Role.CCR_MEMBER):
        # They see what the municipality's head, or the institution, sees: through a group.
        assert fresh(account).groups.exists()
        assert client.get(f"/cases/{case.number}/").status_code == 200


def test_a_waiting_member_is_not_told_of_referrals(municipal_admin, worker, police_institution):
    account = request_account(municipal_admin, [Role.CCR_MEMBER], institution=police_institution)
    Notification.objects.all().delete()
    refer(worker, register_child_case(worker), police_institution)
    assert not account.notifications.exists()


# --- Approving ----------------------------------------------------------------------


def test_another_administrator_approves_and_the_role_is_in_force(municipal_admin, second_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    services.role_requests_approve(by=second_admin, account=account, version=fresh(account).version)
    account = fresh(account)
    assert account.roles == {Role.HEAD_OF_CPU}
    assert account.groups.filter(name__endswith=":head_of_cpu").exists()
    assignment = RoleAssignment.objects.get(user=account)
    assert (assignment.assigned_by, assignment.approved_by) == (municipal_admin, second_admin)
    assert account.email_confirmed_at is not None
    assert account.notifications.filter(kind=Notification.Kind.ROLE_APPROVED).exists()


def refused_approval(by, account, version=None):
    before = (
        list(RoleAssignment.objects.filter(user=account).values_list("role", "approved_at")),
        fresh(account).email,
        fresh(account).version,
    )
    events = AuditEvent.objects.count()
    with pytest.raises((services.ApprovalNotAllowed, services.StaleEdit, PermissionDenied)) as e:
        services.role_requests_approve(
            by=by, account=account, version=fresh(account).version if version is None else version
        )
    after = (
        list(RoleAssignment.objects.filter(user=account).values_list("role", "approved_at")),
        fresh(account).email,
        fresh(account).version,
    )
    assert after == before
    assert AuditEvent.objects.count() == events
    return e.value


def test_the_requester_cannot_approve_their_own_request(municipal_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    error = refused_approval(municipal_admin, account)
    assert "vetë" in str(error)


def test_no_one_approves_what_waits_on_their_own_account(municipal_admin, second_admin):
    services.account_update(
        by=municipal_admin,
        account=second_admin,
        version=second_admin.version,
        first_name="a",
        last_name="b",
        email="tjeter@example.invalid",
        roles={Role.MUNICIPAL_ADMINISTRATOR},
        institution=None,
    )
    assert fresh(second_admin).email_requested == "tjeter@example.invalid"
    error = refused_approval(second_admin, second_admin)
    assert isinstance(error, services.ApprovalNotAllowed)


def test_an_administrator_of_another_municipality_cannot_approve(
    municipal_admin, other_municipality
):
    foreign_admin = UserFactory(
        municipality=other_municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR]
    )
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    assert isinstance(refused_approval(foreign_admin, account), PermissionDenied)
    response = signed_in_client(foreign_admin).post(
        f"/accounts/manage/approvals/{account.pk}/approve/",
        {f"{account.pk}-version": fresh(account).version},
    )
    assert response.status_code == 404
    assert fresh(account).roles == set()


def test_a_non_administrator_cannot_approve(municipal_admin, head):
    account = request_account(municipal_admin, [Role.CHILD_PROTECTION_WORKER])
    assert isinstance(refused_approval(head, account), PermissionDenied)


def test_an_administrator_whose_own_role_waits_cannot_approve(municipal_admin, second_admin):
    newcomer = request_account(municipal_admin, [Role.MUNICIPAL_ADMINISTRATOR], username="adm3")
    account = request_account(second_admin, [Role.HEAD_OF_CPU])
    assert isinstance(refused_approval(newcomer, account), PermissionDenied)


def test_nothing_waiting_is_refused(second_admin, worker):
    error = refused_approval(second_admin, worker)
    assert str(error) == "Asgjë nuk pret miratim në këtë llogari."


def test_an_approval_of_an_older_version_is_refused(municipal_admin, second_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    assert isinstance(
        refused_approval(second_admin, account, version=fresh(account).version - 1),
        services.StaleEdit,
    )


def test_a_second_approval_of_the_same_page_is_refused(municipal_admin, second_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    version = fresh(account).version
    services.role_requests_approve(by=second_admin, account=account, version=version)
    platform = UserFactory(municipality=None, is_superuser=True)
    assert isinstance(refused_approval(platform, account, version=version), services.StaleEdit)


# --- Refusing -----------------------------------------------------------------------


def test_refusal_drops_what_waited_and_keeps_the_reason_encrypted(municipal_admin, second_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    refusal = services.role_requests_refuse(
        by=second_admin,
        account=account,
        version=fresh(account).version,
        reason="Nuk punon në NJMF, e konfirmova me Drejtorinë.",
    )
    account = fresh(account)
    assert account.roles == set()
    assert account.pending_roles == set()
    assert RequestRefusal.objects.get().reason.startswith("Nuk punon")
    assert refusal.roles == [Role.HEAD_OF_CPU]
    event = AuditEvent.objects.filter(action=Action.ACCOUNT_ADMINISTERED).latest("pk")
    assert "Drejtorin" not in event.detail
    # The officer reads the words from the act the event names, as for a reset.
    assert str(refusal.act.pk) in event.detail
    assert refusal.act.what == "requests_refused"
    assert account.notifications.filter(kind=Notification.Kind.ROLE_REFUSED).exists()


def test_refusal_needs_a_reason_and_changes_nothing_without_one(municipal_admin, second_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    with pytest.raises(ValidationError):
        services.role_requests_refuse(
            by=second_admin, account=account, version=fresh(account).version, reason="  "
        )
    assert fresh(account).pending_roles == {Role.HEAD_OF_CPU}
    response = signed_in_client(second_admin).post(
        f"/accounts/manage/approvals/{account.pk}/refuse/",
        {f"{account.pk}-version": fresh(account).version, f"{account.pk}-reason": ""},
    )
    assert response.status_code == 200
    assert fresh(account).pending_roles == {Role.HEAD_OF_CPU}


def test_the_requester_cannot_refuse_either(municipal_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    with pytest.raises(services.ApprovalNotAllowed):
        services.role_requests_refuse(
            by=municipal_admin, account=account, version=fresh(account).version, reason="x"
        )
    assert not RequestRefusal.objects.exists()


# --- The pages ----------------------------------------------------------------------


def test_the_queue_shows_what_waits_and_the_second_administrator_approves(
    municipal_admin, second_admin
):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    client = signed_in_client(second_admin)
    page = client.get("/accounts/manage/approvals/").content.decode()
    assert "e.re" in page
    assert "Përgjegjës i Njësisë për Mbrojtjen e Fëmijëve" in page
    assert "admin.dr" in page  # who requested
    response = client.post(
        f"/accounts/manage/approvals/{account.pk}/approve/",
        {f"{account.pk}-version": fresh(account).version},
        follow=True,
    )
    assert "tani është në fuqi" in response.content.decode()
    assert fresh(account).roles == {Role.HEAD_OF_CPU}


def test_the_requester_sees_the_request_apart_and_cannot_approve_it(municipal_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    client = signed_in_client(municipal_admin)
    response = client.get("/accounts/manage/approvals/")
    assert response.context["rows"] == []
    assert [r.account.pk for r in response.context["own_requests"]] == [account.pk]
    assert "në pritje të një administratori tjetër" in response.content.decode()
    response = client.post(
        f"/accounts/manage/approvals/{account.pk}/approve/",
        {f"{account.pk}-version": fresh(account).version},
        follow=True,
    )
    assert "Këtë ndryshim e kërkuat vetë" in response.content.decode()
    assert fresh(account).roles == set()


def test_refusal_through_the_page(municipal_admin, second_admin):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    response = signed_in_client(second_admin).post(
        f"/accounts/manage/approvals/{account.pk}/refuse/",
        {f"{account.pk}-version": fresh(account).version, f"{account.pk}-reason": "Gabim."},
        follow=True,
    )
    assert "U refuzua" in response.content.decode()
    assert fresh(account).pending_roles == set()


@pytest.mark.parametrize("path", ["/accounts/manage/approvals/"])
def test_the_queue_is_not_found_for_others(worker, head, path):
    for user in (worker, head):
        assert signed_in_client(user).get(path).status_code == 404


def test_the_platform_administrator_approves_in_every_municipality_and_reads_no_case(
    municipal_admin, other_municipality, worker
):
    case = register_child_case(worker)
    berat_admin = UserFactory(
        username="admin.br", municipality=other_municipality, roles=[Role.MUNICIPAL_ADMINISTRATOR]
    )
    durres_account = request_account(municipal_admin, [Role.HEAD_OF_CPU], username="kreu.i.ri")
    berat_account = request_account(berat_admin, [Role.DV_COORDINATOR], username="koord.i.ri")
    platform = UserFactory(username="platforma", municipality=None, is_superuser=True)
    client = signed_in_client(platform)

    page = client.get("/accounts/manage/approvals/").content.decode()
    assert "kreu.i.ri" in page
    assert "koord.i.ri" in page
    client.post(
        f"/accounts/manage/approvals/{berat_account.pk}/approve/",
        {f"{berat_account.pk}-version": fresh(berat_account).version},
    )
    assert fresh(berat_account).roles == {Role.DV_COORDINATOR}
    assert fresh(durres_account).roles == set()
    assert client.get("/cases/").status_code == 404
    assert client.get(f"/cases/{case.number}/").status_code == 404
    assert client.get("/accounts/manage/").status_code == 404


# --- The address ----------------------------------------------------------------------


def address_mails():
    return [
        m
        for m in mail.outbox
        if m.subject == "Mbrojtje: adresa e postës elektronike e llogarisë suaj"
    ]


def change_address(by, account, email):
    return services.account_update(
        by=by,
        account=account,
        version=fresh(account).version,
        first_name=account.first_name,
        last_name=account.last_name,
        email=email,
        roles=set(fresh(account).roles | fresh(account).pending_roles),
        institution=account.institution,
    )


def test_a_new_address_of_a_case_role_account_waits_and_the_old_address_hears_of_it(
    municipal_admin, second_admin, worker, django_capture_on_commit_callbacks
):
    old = worker.email
    with django_capture_on_commit_callbacks(execute=True):
        change_address(municipal_admin, worker, "sulmuesi@example.invalid")
    worker = fresh(worker)
    assert worker.email == old
    assert worker.email_requested == "sulmuesi@example.invalid"
    assert [message.to for message in address_mails()] == [[old]]
    assert "sulmuesi" not in address_mails()[0].body
    assert "http" not in address_mails()[0].body

    with django_capture_on_commit_callbacks(execute=True):
        services.role_requests_approve(by=second_admin, account=worker, version=worker.version)
    worker = fresh(worker)
    assert worker.email == "sulmuesi@example.invalid"
    assert worker.email_requested == ""
    assert [message.to for message in address_mails()] == [[old], [old]]
    assert "u ndryshua" in address_mails()[1].body
    event = AuditEvent.objects.filter(action=Action.ACCOUNT_ADMINISTERED).latest("pk")
    assert '"email":"changed"' in event.detail


def test_a_refused_address_change_keeps_the_old_address(
    municipal_admin, second_admin, worker, django_capture_on_commit_callbacks
):
    old = worker.email
    with django_capture_on_commit_callbacks(execute=True):
        change_address(municipal_admin, worker, "sulmuesi@example.invalid")
        services.role_requests_refuse(
            by=second_admin, account=worker, version=fresh(worker).version, reason="E panjohur."
        )
    worker = fresh(worker)
    assert (worker.email, worker.email_requested) == (old, "")
    assert RequestRefusal.objects.get().email_refused
    assert [message.to for message in address_mails()] == [[old], [old]]
    assert "u refuzua" in address_mails()[1].body


def test_an_address_waiting_is_shown_to_the_approver(municipal_admin, second_admin, worker):
    change_address(municipal_admin, worker, "e.re@example.invalid")
    page = signed_in_client(second_admin).get("/accounts/manage/approvals/").content.decode()
    assert "e.re@example.invalid" in page


def test_a_new_account_address_is_confirmed_at_the_approval(municipal_admin, second_admin):
    account = request_account(municipal_admin, [Role.CHILD_PROTECTION_WORKER])
    assert fresh(account).email_confirmed_at is None
    services.role_requests_approve(by=second_admin, account=account, version=fresh(account).version)
    assert fresh(account).email_confirmed_at is not None


# --- The officer ----------------------------------------------------------------------


def test_every_act_on_an_account_by_someone_else_is_flagged_and_an_approval_of_a_case_role_too(
    municipal_admin, second_admin
):
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    assert list(Flag.objects.values_list("kind", flat=True)) == [FlagKind.ACCOUNT_ADMINISTERED]
    services.role_requests_approve(by=second_admin, account=account, version=fresh(account).version)
    approval = AuditEvent.objects.filter(action=Action.ACCOUNT_ADMINISTERED).latest("pk")
    assert set(approval.flags.values_list("kind", flat=True)) == {
        FlagKind.ACCOUNT_ADMINISTERED,
        FlagKind.CASE_ROLE_GRANTED,
    }
    assert {flag.municipality_id for flag in Flag.objects.all()} == {account.municipality_id}


def test_approving_an_administrator_is_no_case_role_grant(municipal_admin, second_admin):
    account = request_account(municipal_admin, [Role.MUNICIPAL_ADMINISTRATOR])
    services.role_requests_approve(by=second_admin, account=account, version=fresh(account).version)
    assert not Flag.objects.filter(kind=FlagKind.CASE_ROLE_GRANTED).exists()


def test_acts_on_ones_own_account_raise_no_flag(worker):
    services.backup_codes_replace(user=worker)
    assert not Flag.objects.exists()


def test_the_officer_sees_the_grant_with_the_account_and_the_role(municipal_admin, second_admin):
    officer = UserFactory(
        username="barazia.dr",
        municipality=municipal_admin.municipality,
        roles=[Role.GENDER_EQUALITY_OFFICER],
    )
    account = request_account(municipal_admin, [Role.HEAD_OF_CPU])
    services.role_requests_approve(by=second_admin, account=account, version=fresh(account).version)
    page = signed_in_client(officer).get("/audit/flags/").content.decode()
    assert "U dha një rol që lexon raste" in page
    assert "Administrim i një llogarie" in page
    assert "e.re" in page
    assert "Përgjegjës i Njësisë për Mbrojtjen e Fëmijëve" in page
    assert "u miratuan rolet ose adresa e kërkuar" in page
    assert "Besa" not in page  # usernames, not names


# --- The platform paths ----------------------------------------------------------------


def test_the_command_line_grants_in_force_at_once(municipality):
    new = services.account_create_by_platform(
        username="admin.i.pare",
        first_name="a",
        last_name="b",
        email="a@example.invalid",
        role=Role.MUNICIPAL_ADMINISTRATOR,
        municipality=municipality,
    )
    account = fresh(new.user)
    assert account.roles == {Role.MUNICIPAL_ADMINISTRATOR}
    assignment = RoleAssignment.objects.get(user=account)
    assert assignment.approved_by is None
    assert assignment.approved_at is not None
    assert account.email_confirmed_at is not None
    assert not Group.objects.filter(user=account).exists()
