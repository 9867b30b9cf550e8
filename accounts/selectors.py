"""Reads of accounts, limited to what the reader may see."""

import json

from django.db.models import Exists, OuterRef, QuerySet

from audit.models import Action, AuditEvent
from audit.selectors import is_officer

from .models import ActivationLink, AdministrativeAct, AuthenticatorDevice, Institution, User


def accounts_managed_by(user: User) -> QuerySet[User]:
    """The accounts of the administrator's municipality, but their own; none for others."""
    if not user.has_perm("accounts.manage_accounts") or user.municipality_id is None:
        return User.objects.none()
    return (
        User.objects.filter(municipality_id=user.municipality_id, is_superuser=False)
        .exclude(pk=user.pk)
        .select_related("institution")
        .prefetch_related("role_assignments")
        .annotate(
            has_authenticator=Exists(
                AuthenticatorDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
            )
        )
        .order_by("username")
    )


def institutions_of(user: User) -> QuerySet[Institution]:
    """The active institutions of the user's municipality."""
    if user.municipality_id is None:
        return Institution.objects.none()
    return Institution.objects.filter(municipality_id=user.municipality_id, is_active=True)


def activation_link_latest(account: User) -> ActivationLink | None:
    """The account's newest activation link, for its administrator's page."""
    return account.activation_links.order_by("-created_at").first()


def administrative_act_of_event(user: User, event_pk: int) -> AdministrativeAct | None:
    """The act (with its reason) that an audit event of the officer's municipality
    names; None for anyone but a gender-equality officer of that municipality."""
    if not is_officer(user):
        return None
    event = AuditEvent.objects.filter(
        pk=event_pk,
        action=Action.ACCOUNT_ADMINISTERED,
        municipality_id=user.municipality_id,
    ).first()
    if event is None:
        return None
    act_id = json.loads(event.detail or "{}").get("act")
    if not act_id:
        return None
    return (
        AdministrativeAct.objects.select_related("account", "by")
        .filter(pk=act_id, account__municipality_id=user.municipality_id)
        .first()
    )
