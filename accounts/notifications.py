"""Notifications: what waits for a user in Mbrojtje, in the application and by e-mail.

The in-app notification names the case by its number. The e-mail says only that
something of a kind waits, with a link to the notification itself: no name,
address, narrative or case number (the case page's address holds the number),
because an e-mail may be read by others than the person it is addressed to.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, time
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .models import Notification, User

logger = logging.getLogger(__name__)

Kind = Notification.Kind


def is_inside_mbrojtje(url: str) -> bool:
    """A path of this site ("/cases/..."), not an address elsewhere ("//host", "https:")."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=set())


# --- Services ------------------------------------------------------------------


def notify(
    *, users: Iterable[User], kind: str, case_number: str, target_url: str
) -> list[Notification]:
    """Notify each active user once, in the application and, after the transaction
    commits, by an e-mail without details; returns the notifications created.

    Refuses an unknown kind and a target outside Mbrojtje (ValueError).
    """
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not is_inside_mbrojtje(target_url):
        raise ValueError("a notification links to a page of Mbrojtje only")
    recipients = {user.pk: user for user in users if user is not None and user.is_active}
    created = []
    for user in recipients.values():
        notification = Notification(
            user=user, kind=kind, case_number=case_number, target_url=target_url
        )
        notification.full_clean()
        notification.save()
        created.append(notification)
        if user.email:
            # Sent only once the change is committed: a rolled-back change sends nothing.
            transaction.on_commit(partial(_send_email, notification, user.email))
    return created


def _send_email(notification: Notification, address: str) -> None:
    # In the language of the installation: the recipient's own choice of language
    # lives in their browser's cookie, not here.
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = email_text(notification)
    if _mail(subject, body, address, what=f"Notification e-mail {notification.pk}"):
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())


def _mail(subject: str, body: str, address: str, *, what: str) -> bool:
    """Send one e-mail; False, logged without the address, when it could not be sent."""
    try:
        EmailMessage(subject=subject, body=body, to=[address]).send()
    except Exception as error:
        # The change is committed already: a mail server that is down must not turn it
        # into an error page. Logged by identifier and error class only (an SMTP error
        # quotes the address); a notification keeps emailed_at empty.
        logger.error("%s could not be sent: %s.", what, type(error).__name__)
        return False
    return True


ADDRESS_CHANGE_REQUESTED = "requested"
ADDRESS_CHANGED = "changed"
ADDRESS_CHANGE_REFUSED = "refused"


def address_change_announce(*, account: User, old_address: str, what: str) -> None:
    """Tell the old address of `account`, once the transaction commits, that its address
    was changed (or a change requested, or refused): whoever controls the address
    controls the account, so its owner must hear of it where they still read mail.

    No name, no new address, no link: the e-mail only says whom to call.
    """
    if not old_address:
        return
    transaction.on_commit(partial(_send_address_change, account.pk, old_address, what))


def _send_address_change(account_id: int, address: str, what: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = address_change_text(what)
    _mail(subject, body, address, what=f"Address-change e-mail for account {account_id}")


def address_change_text(what: str) -> tuple[str, str]:
    """Subject and body of the e-mail to an account's old address."""
    events = {
        ADDRESS_CHANGE_REQUESTED: _(
            "An administrator of your municipality asked to change the e-mail address of "
            "your Mbrojtje account. The change takes effect only when a second "
            "administrator approves it."
        ),
        ADDRESS_CHANGED: _("The e-mail address of your Mbrojtje account has been changed."),
        ADDRESS_CHANGE_REFUSED: _(
            "A request to change the e-mail address of your Mbrojtje account was refused: "
            "the address stays as it was."
        ),
    }
    subject = _("Mbrojtje: the e-mail address of your account")
    body = _(
        "%(event)s\n\n"
        "If you did not expect this, call the head of your unit and the gender-equality "
        "officer of your municipality at once: whoever controls the address of an account "
        "can take it over.\n\n"
        "This e-mail gives no details and contains no link. Do not reply to it."
    ) % {"event": events[what]}
    return subject, body


def email_text(notification: Notification) -> tuple[str, str]:
    """Subject and body of the e-mail announcing `notification`: the kind, the link, nothing
    more (no case number, no name)."""
    link = settings.MBROJTJE_BASE_URL.rstrip("/") + notification.get_absolute_url()
    subject = _("Mbrojtje: something waits for you")
    body = _(
        "Something waits for you in Mbrojtje: %(what)s.\n\n"
        "Open it here (you will be asked to sign in):\n%(link)s\n\n"
        "For the protection of the people concerned, this e-mail gives no details. "
        "Do not reply to it."
    ) % {"what": notification.get_kind_display(), "link": link}
    return subject, body


def mark_read(*, by: User, notification: Notification) -> Notification:
    """Mark one of the user's own notifications read; refuses anyone else's."""
    if notification.user_id != by.pk:
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def mark_all_read(*, by: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(user=by, read_at__isnull=True).update(read_at=timezone.now())


def requests_settled(*, case_number: str, kinds: Iterable[str]) -> int:
    """A submission was decided: the "waiting for your decision" notifications of it that
    its other deciders have not read yet no longer wait, and are marked read so that no
    home page asks for a decision already taken. Returns how many."""
    return Notification.objects.filter(
        case_number=case_number, kind__in=list(kinds), read_at__isnull=True
    ).update(read_at=timezone.now())


def mail_destination() -> str:
    """Where outgoing mail goes, for the commands that tell a tester in debug."""
    mailer = settings.MAILERS["default"]
    folder = mailer.get("OPTIONS", {}).get("file_path")
    if folder:
        return f"a file in {folder}"
    if mailer["BACKEND"].endswith("console.EmailBackend"):
        return "the console"
    return mailer.get("OPTIONS", {}).get("host") or mailer["BACKEND"]


# --- Selectors -----------------------------------------------------------------


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at")


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def already_notified(
    *,
    user: User,
    kind: str,
    case_number: str,
    target_url: str | None = None,
    since: datetime | None = None,
) -> bool:
    """Whether `user` has had a notification of this kind on this case (and, if given, this
    target) since `since`, by default since midnight: reminders go out once a day however
    often the job runs."""
    since = since or datetime.combine(
        timezone.localdate(), time.min, tzinfo=timezone.get_current_timezone()
    )
    notifications = Notification.objects.filter(
        user=user, kind=kind, case_number=case_number, created_at__gte=since
    )
    if target_url is not None:
        notifications = notifications.filter(target_url=target_url)
    return notifications.exists()
