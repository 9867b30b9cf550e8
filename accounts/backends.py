"""Signing in with a password, and the general permissions that come with a user's roles
(not per-case access)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q, StringAgg, Value

UserModel = get_user_model()


class PasswordBackend(ModelBackend):
    """Django's username and password check, without Django's model permissions.

    Mbrojtje grants no model permission to anyone (roles bring theirs through
    RoleBackend, cases theirs through guardian), so asking the permission
    tables at every `has_perm` would be two queries a page for an empty answer.
    """

    def get_user(self, user_id):
        """The signed-in user with their roles in force, in one query: every page needs both.

        A role waiting for a second person's approval is not counted: it grants nothing.
        """
        user = (
            UserModel._default_manager.annotate(
                role_list=StringAgg(
                    "role_assignments__role",
                    delimiter=Value(","),
                    default="",
                    filter=Q(role_assignments__approved_at__isnull=False),
                )
            )
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        user.__dict__["roles"] = frozenset(role for role in user.role_list.split(",") if role)
        return user

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def has_perm(self, user_obj, perm, obj=None):
        return False


class RoleBackend:
    """Answers `has_perm("app.codename")` from the roles a user holds.

    It authenticates nobody and knows no objects: per-object permissions are
    guardian's, and the case-access function decides on cases.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return set()
        return user_obj.role_permissions()

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)
