import smtplib
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import notifications
from accounts.models import Institution, Notification
from accounts.roles import Role
from dv_cases.services import protection_order_decide, protection_order_record
from protocol.services import referrals as referral_services
from tests.cases import child, register_child_case
from tests.conftest import signed_in_client
from tests.dv_cases.conftest import register_dv_case
from tests.factories import InstitutionFactory, UserFactory

Kind = Notification.Kind
BASE_URL = "https://mbrojtje.bashkia.example.al"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.MBROJTJE_BASE_URL = BASE_URL
    mail.outbox = []


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks (the e-mails) of what happens inside, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def refer(by, case, institution, reason="Kërkohet vizitë e policisë në banesë."):
    return referral_services.referral_create(
        by=by,
        case=case,
        institution=institution,
        parts=["identity"],
        reason=reason,
        urgency="urgent",
        legal_basis="child_at_risk",
        due_date=timezone.localdate() + timedelta(days=2),
    )


def test_new_referral_notifies_the_institutions_members_in_app_and_by_email(
    worker, officer, police_institution, municipality, committed
):
    colleague = UserFactory(
        municipality=municipality, institution=police_institution, roles=[Role.CCR_MEMBER]
    )
    departed = UserFactory(
        municipality=municipality, institution=police_institution, roles=[Role.CCR_MEMBER]
    )
    departed.is_active = False
    departed.save()
    school = InstitutionFactory(municipality=municipality, name="Shkolla", kind="education")
    teacher = UserFactory(municipality=municipality, institution=school, roles=[Role.CCR_MEMBER])
    case = register_child_case(worker)

    with committed():
        referral = refer(worker, case, police_institution)

    notified = Notification.objects.filter(kind=Kind.REFERRAL_NEW)
    assert {n.user_id for n in notified} == {officer.pk, colleague.pk}
    assert {n.target_url for n in notified} == {referral.get_absolute_url()}
    assert {n.case_number for n in notified} == {case.number}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [officer.email, colleague.email]
    )
    assert all(len(message.to) == 1 for message in mail.outbox)
    assert not Notification.objects.filter(user__in=[departed, teacher, worker]).exists()
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2


def test_email_names_no_person_place_narrative_or_case_number(
    worker, officer, police_institution, committed
):
    person = child(first="Mirela", last="Dervishaj", personal_number="K15050505B")
    case = register_child_case(worker, person=person)

    with committed():
        refer(worker, case, police_institution, reason="Babai e kërcënoi në Rrugën Egnatia.")

    (message,) = mail.outbox
    text = f"{message.subject}\n{message.body}"
    for secret in (
        "Mirela",
        "Dervishaj",
        "K15050505B",
        "Rruga e Dëshmorëve",  # the child's address
        "0691234567",
        "shkollë pa ngrënë",  # the case's narrative
        "Mësuesja",  # the reporter
        "Egnatia",  # the referral's reason
        case.number,
        "Policia",
    ):
        assert secret not in text, secret
    notification = Notification.objects.get(user=officer)
    assert f"{BASE_URL}/accounts/notifications/{notification.pk}/" in message.body
    assert case.number in notification.message  # in the application only


def test_rolled_back_change_notifies_no_one(worker, officer, police_institution, committed):
    case = register_child_case(worker)

    def refer_then_fail():
        with transaction.atomic():
            refer(worker, case, police_institution)
            raise RuntimeError("something later in the same change fails")

    with committed() as callbacks, pytest.raises(RuntimeError, match="later"):
        refer_then_fail()

    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_user_without_email_is_notified_in_the_application_only(
    worker, officer, police_institution, committed
):
    type(officer).objects.filter(pk=officer.pk).update(email="")
    with committed():
        refer(worker, register_child_case(worker), police_institution)
    assert Notification.objects.filter(user=officer).exists()
    assert mail.outbox == []


def test_answer_notifies_the_referrer_and_the_worker_in_charge_once_each(
    worker, head, officer, police_institution, committed
):
    case = register_child_case(worker)
    by_head = refer(head, case, police_institution)
    by_worker = refer(worker, case, police_institution)
    mail.outbox = []

    with committed():
        referral_services.referral_answer(
            by=officer, referral=by_head, version=1, accept=True, answer=""
        )
        referral_services.referral_answer(
            by=officer, referral=by_worker, version=1, accept=False, answer="Jo në juridiksion."
        )

    answered = Notification.objects.filter(kind=Kind.REFERRAL_ANSWERED)
    # The head referred the first, the worker is in charge: both hear of it. The
    # worker referred the second and is in charge: one notification, not two.
    assert sorted(n.user_id for n in answered) == sorted([head.pk, worker.pk, worker.pk])
    assert {n.target_url for n in answered} == {case.get_absolute_url() + "#referrals"}
    assert len(mail.outbox) == 3
    assert not Notification.objects.filter(user=officer, kind=Kind.REFERRAL_ANSWERED).exists()


def test_recorded_action_notifies_the_worker(worker, officer, police_institution):
    referral = refer(worker, register_child_case(worker), police_institution)
    referral_services.referral_answer(
        by=officer, referral=referral, version=1, accept=True, answer=""
    )
    referral_services.referral_record_action(
        by=officer, referral=referral, version=2, action_taken="U lëshua UPMM.", done=True
    )
    assert Notification.objects.filter(user=worker, kind=Kind.REFERRAL_ACTION).count() == 1


def test_revoked_and_expired_referrals_notify_the_members(worker, officer, police_institution):
    case = register_child_case(worker)
    revoked = refer(worker, case, police_institution)
    referral_services.referral_revoke(by=worker, referral=revoked, reason="Gabim.")
    expiring = refer(worker, case, police_institution)
    type(expiring).objects.filter(pk=expiring.pk).update(
        referred_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    call_command("expire_referrals", stdout=StringIO())

    ended = Notification.objects.filter(user=officer, kind=Kind.REFERRAL_ENDED)
    assert {n.target_url for n in ended} == {
        revoked.get_absolute_url(),
        expiring.get_absolute_url(),
    }


def test_send_reminders_notifies_the_owner_of_an_overdue_case_once_a_day(
    worker, other_worker, committed
):
    overdue = register_child_case(worker, reported_at=timezone.now() - timedelta(days=10))
    window = overdue.next_due_at - overdue.reported_at
    due_soon = register_child_case(
        other_worker,
        person=child(first="Besa", personal_number="K10101002B"),
        reported_at=timezone.now() - window + timedelta(hours=12),
    )
    later = register_child_case(
        other_worker, person=child(first="Drin", personal_number="K10101003C")
    )
    assert later.next_due_at > timezone.now() + timedelta(hours=24)

    with committed():
        call_command("send_reminders", stdout=StringIO())
    output = StringIO()
    call_command("send_reminders", stdout=output)

    assert "0 deadline reminder(s)" in output.getvalue()
    assert Notification.objects.filter(user=worker).count() == 1
    reminder = Notification.objects.get(user=worker)
    assert reminder.kind == Kind.DEADLINE_OVERDUE
    assert reminder.case_number == overdue.number
    due = Notification.objects.get(user=other_worker)
    assert due.kind == Kind.DEADLINE_DUE
    assert due.case_number == due_soon.number
    assert len(mail.outbox) == 2

    # A new day, a new reminder.
    Notification.objects.update(created_at=timezone.now() - timedelta(days=1))
    call_command("send_reminders", stdout=StringIO())
    assert Notification.objects.filter(user=worker).count() == 2


def test_send_order_reminders_reminds_the_owner_once_a_day(municipality):
    coordinator = UserFactory(municipality=municipality, roles=[Role.DV_COORDINATOR])
    court = InstitutionFactory(municipality=municipality, kind=Institution.Kind.COURT)
    case = register_dv_case(coordinator)
    today = timezone.localdate()
    orders = {}
    for days in (2, 300):
        order = protection_order_record(
            by=coordinator,
            case=case,
            kind="umm",
            requested_by="victim",
            requested_at=timezone.now() - timedelta(hours=1),
            issuing_institution=court,
            measures="Largim nga banesa.",
            # The longer order does not cover the children the expiring one covers, so
            # it does not end the warning (dv_cases.selectors.covering_order).
            covers_children=days == 2,
        )
        case.refresh_from_db()
        orders[days] = protection_order_decide(
            by=coordinator,
            order=order,
            version=case.version,
            outcome="granted",
            decided_at=timezone.now(),
            valid_from=today,
            expires_on=today + timedelta(days=days),
        )
        case.refresh_from_db()

    call_command("send_order_reminders", stdout=StringIO())
    call_command("send_order_reminders", stdout=StringIO())

    (reminder,) = Notification.objects.filter(user=coordinator)
    assert reminder.kind == Kind.ORDER_EXPIRING
    assert reminder.target_url == f"{case.get_absolute_url()}#order-{orders[2].pk}"


def test_notification_page_lists_messages_and_opening_one_marks_it_read(
    worker, officer, police_institution
):
    case = register_child_case(worker)
    referral = refer(worker, case, police_institution)
    client = signed_in_client(officer)
    client.cookies["django_language"] = "en"

    page = client.get("/accounts/notifications/").content.decode()
    assert f"Case {case.number}: new referral" in page
    assert "Notifications (1)" in page
    notification = Notification.objects.get(user=officer)

    response = client.get(notification.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == referral.get_absolute_url()
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "Notifications (0)" in client.get("/accounts/notifications/").content.decode()


def test_mark_all_read(worker, officer, police_institution):
    case = register_child_case(worker)
    refer(worker, case, police_institution)
    refer(worker, case, police_institution)
    client = signed_in_client(officer)

    assert client.get("/accounts/notifications/read/").status_code == 405
    response = client.post("/accounts/notifications/read/")
    assert response.status_code == 302
    assert notifications.unread_count(officer) == 0


def test_a_user_cannot_open_another_users_notification(
    worker, officer, police_institution, municipality
):
    refer(worker, register_child_case(worker), police_institution)
    colleague = UserFactory(
        municipality=municipality, institution=police_institution, roles=[Role.CCR_MEMBER]
    )
    theirs = Notification.objects.get(user=officer)

    for user in (colleague, worker):
        assert signed_in_client(user).get(theirs.get_absolute_url()).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    with pytest.raises(notifications.PermissionDenied):
        notifications.mark_read(by=worker, notification=theirs)
    assert notifications.mark_all_read(by=worker) == 0
    assert (
        theirs.message
        not in signed_in_client(worker).get("/accounts/notifications/").content.decode()
    )


def test_notification_pages_require_sign_in(worker, officer, police_institution, client):
    refer(worker, register_child_case(worker), police_institution)
    notification = Notification.objects.get(user=officer)
    for url in ("/accounts/notifications/", notification.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/sign-in/")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_notification_never_leads_outside_mbrojtje(officer):
    for target in ("https://example.com/", "//example.com/", "/\\example.com", "cases/"):
        with pytest.raises(ValueError, match="page of Mbrojtje"):
            notifications.notify(
                users=[officer], kind=Kind.REFERRAL_NEW, case_number="", target_url=target
            )
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=officer, kind=Kind.REFERRAL_NEW, target_url="//x.example")
    assert not Notification.objects.exists()


class RefusingMailServer(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({email_messages[0].to[0]: (550, b"unknown")})


def test_mail_server_failure_keeps_the_change_and_logs_no_address(
    worker, officer, police_institution, settings, committed, caplog
):
    settings.MAILERS = {
        "default": {"BACKEND": "tests.accounts.test_notifications.RefusingMailServer"}
    }
    with committed():  # no error reaches the worker who referred
        refer(worker, register_child_case(worker), police_institution)

    notification = Notification.objects.get(user=officer)
    assert notification.emailed_at is None
    assert str(notification.pk) in caplog.text
    assert officer.email not in caplog.text
