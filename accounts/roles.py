"""The roles of Mbrojtje, which roles go together, and what each may do in general.

Roles decide what a user may do in general (reach the account pages, register
a case); which cases they may see is decided per object elsewhere.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CHILD_PROTECTION_WORKER = "child_protection_worker", _("Child-protection worker (PMF)")
    HEAD_OF_CPU = "head_of_cpu", _("Head of the child protection unit")
    DV_COORDINATOR = "dv_coordinator", _("Local coordinator against domestic violence")
    CCR_MEMBER = "ccr_member", _("Member of the coordinated referral mechanism")
    GENDER_EQUALITY_OFFICER = "gender_equality_officer", _("Gender-equality officer")
    MUNICIPAL_ADMINISTRATOR = "municipal_administrator", _("Municipal administrator")
    NATIONAL_STATISTICIAN = "national_statistician", _("National statistician")


# Roles whose holders open case files.
CASE_ROLES = frozenset(
    {
        Role.CHILD_PROTECTION_WORKER,
        Role.HEAD_OF_CPU,
        Role.DV_COORDINATOR,
        Role.CCR_MEMBER,
    }
)

# Roles whose holders see every case of a kind in their municipality: they are
# members of a group per municipality and role, which holds the per-case
# permissions, so that a newly appointed head sees the existing cases.
MUNICIPAL_GROUP_ROLES = frozenset({Role.HEAD_OF_CPU, Role.DV_COORDINATOR})


def role_group_name(municipality_id: int, role: str) -> str:
    return f"municipality-{municipality_id}:{role}"


def institution_group_name(institution_id: int) -> str:
    """The group of an institution's members: referrals grant their access to it."""
    return f"institution-{institution_id}"


# General permissions each role brings. Per-case access is not here.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CHILD_PROTECTION_WORKER: frozenset({"protocol.register_child_case"}),
    Role.HEAD_OF_CPU: frozenset({"protocol.register_child_case"}),
    Role.DV_COORDINATOR: frozenset({"protocol.register_dv_case"}),
    Role.CCR_MEMBER: frozenset(),
    Role.GENDER_EQUALITY_OFFICER: frozenset(),
    Role.MUNICIPAL_ADMINISTRATOR: frozenset({"accounts.manage_accounts"}),
    Role.NATIONAL_STATISTICIAN: frozenset(),
}


def role_combination_errors(
    roles: set[str], *, has_municipality: bool, has_institution: bool
) -> list[str]:
    """Why this set of roles cannot be held by one account, as messages for the user.

    Separation of duties: the municipal administrator reads no case, so the role
    does not combine with a case role; the national statistician belongs to no
    municipality and holds nothing else. Institutions are for CCR members only.
    """
    errors = []
    if not roles:
        errors.append(_("Choose at least one role."))
    if Role.NATIONAL_STATISTICIAN in roles:
        if len(roles) > 1:
            errors.append(_("The national statistician holds no other role."))
        if has_municipality:
            errors.append(_("The national statistician belongs to no municipality."))
    elif roles and not has_municipality:
        errors.append(_("This account must belong to a municipality."))
    if Role.MUNICIPAL_ADMINISTRATOR in roles and roles & CASE_ROLES:
        errors.append(
            _(
                "The municipal administrator reads no case, so the role cannot be combined "
                "with a role that works on cases."
            )
        )
    if Role.CCR_MEMBER in roles and roles & (CASE_ROLES - {Role.CCR_MEMBER}):
        errors.append(
            _(
                "A member of the referral mechanism sees only what is referred to the "
                "institution, so the role does not combine with another role that works on cases."
            )
        )
    if Role.CCR_MEMBER in roles and not has_institution:
        errors.append(_("A member of the referral mechanism must belong to an institution."))
    if has_institution and Role.CCR_MEMBER not in roles:
        errors.append(_("Only members of the referral mechanism belong to an institution."))
    return errors
