"""Reads of accounts, limited to what the reader may see."""

from django.db.models import Exists, OuterRef, QuerySet

from .models import AuthenticatorDevice, Institution, User


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
