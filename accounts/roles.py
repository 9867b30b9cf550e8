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
    HEAD_OF_SOCIAL_SERVICES = "head_of_social_services", _("Director of social services")
    CCR_MEMBER = "ccr_member", _("Member of the coordinated referral mechanism")
    GENDER_EQUALITY_OFFICER = "gender_equality_officer", _("Gender-equality officer")
    MUNICIPAL_ADMINISTRATOR = "municipal_administrator", _("Municipal administrator")
    NATIONAL_STATISTICIAN = "national_statistician", _("National statistician")


# Roles whose holders open case files. Granting one takes a second person's
# confirmation (accounts.services), and none of them goes with a role that
# watches or administers those who read cases.
CASE_ROLES = frozenset(
    {
        Role.CHILD_PROTECTION_WORKER,
        Role.HEAD_OF_CPU,
        Role.DV_COORDINATOR,
        Role.HEAD_OF_SOCIAL_SERVICES,
        Role.CCR_MEMBER,
    }
)

# Roles that take effect only when a second person confirms them (another
# administrator of the municipality, or the national platform administrator):
# those that read cases, and those that grant roles or review the access of
# others (else one administrator could make a second administrator, or an
# officer, of an address he controls). The statistician is the platform's alone.
ROLES_NEEDING_CONFIRMATION = CASE_ROLES | {
    Role.MUNICIPAL_ADMINISTRATOR,
    Role.GENDER_EQUALITY_OFFICER,
}

# Roles whose holders see every case of a kind in their municipality: they are
# members of a group per municipality and role, which holds the per-case
# permissions, so that a newly appointed head sees the existing cases.
MUNICIPAL_GROUP_ROLES = frozenset(
    {Role.HEAD_OF_CPU, Role.DV_COORDINATOR, Role.HEAD_OF_SOCIAL_SERVICES}
)


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
    Role.HEAD_OF_SOCIAL_SERVICES: frozenset(),
    Role.CCR_MEMBER: frozenset(),
    Role.GENDER_EQUALITY_OFFICER: frozenset(),
    Role.MUNICIPAL_ADMINISTRATOR: frozenset({"accounts.manage_accounts"}),
    Role.NATIONAL_STATISTICIAN: frozenset(),
}


# Separation of duties: the one table of which roles one account may hold
# together. Every path that grants a role asks `role_combination_errors`, and
# RoleAssignment.save() asks it again, so no path can forget. The relation is
# symmetric; a role missing from another's row never goes with it.
MAY_HOLD_TOGETHER: dict[str, frozenset[str]] = {
    # The municipality's own social-services staff may cover for each other.
    Role.CHILD_PROTECTION_WORKER: frozenset(
        {Role.HEAD_OF_CPU, Role.DV_COORDINATOR, Role.HEAD_OF_SOCIAL_SERVICES}
    ),
    Role.HEAD_OF_CPU: frozenset(
        {Role.CHILD_PROTECTION_WORKER, Role.DV_COORDINATOR, Role.HEAD_OF_SOCIAL_SERVICES}
    ),
    Role.DV_COORDINATOR: frozenset(
        {Role.CHILD_PROTECTION_WORKER, Role.HEAD_OF_CPU, Role.HEAD_OF_SOCIAL_SERVICES}
    ),
    Role.HEAD_OF_SOCIAL_SERVICES: frozenset(
        {Role.CHILD_PROTECTION_WORKER, Role.HEAD_OF_CPU, Role.DV_COORDINATOR}
    ),
    # A member sees only what is referred to the institution.
    Role.CCR_MEMBER: frozenset(),
    # She reviews the access of those who read cases and administer accounts.
    Role.GENDER_EQUALITY_OFFICER: frozenset(),
    # He hands out roles: holding one that reads cases, or the officer's, would
    # let him grant himself access or review his own acts.
    Role.MUNICIPAL_ADMINISTRATOR: frozenset(),
    # Anonymous figures only, and no municipality.
    Role.NATIONAL_STATISTICIAN: frozenset(),
}

# Why a role stands alone (or nearly), said to the administrator who tried.
_WHY_NOT_TOGETHER = {
    Role.CCR_MEMBER: _(
        "A member of the referral mechanism sees only what is referred to the institution, "
        "so the role does not combine with another role."
    ),
    Role.GENDER_EQUALITY_OFFICER: _(
        "The gender-equality officer reviews the access of others, so she holds no role "
        "that reads cases or administers accounts."
    ),
    Role.MUNICIPAL_ADMINISTRATOR: _(
        "The municipal administrator reads no case and is not the gender-equality officer, "
        "so the role does not combine with another role."
    ),
    Role.NATIONAL_STATISTICIAN: _("The national statistician holds no other role."),
}


def may_hold_together(first: str, second: str) -> bool:
    return first == second or second in MAY_HOLD_TOGETHER.get(first, frozenset())


def role_combination_errors(
    roles: set[str], *, has_municipality: bool, has_institution: bool
) -> list[str]:
    """Why this set of roles cannot be held by one account, as messages for the user.

    The roles are those the account would hold, requested or in force.
    Institutions are for members of the referral mechanism only.
    """
    errors = []
    if not roles:
        errors.append(_("Choose at least one role."))
    refused = {
        role
        for role in roles
        for other in roles
        if not may_hold_together(role, other) and role in _WHY_NOT_TOGETHER
    }
    errors.extend(str(_WHY_NOT_TOGETHER[role]) for role in Role.values if role in refused)
    if Role.NATIONAL_STATISTICIAN in roles:
        if has_municipality:
            errors.append(_("The national statistician belongs to no municipality."))
    elif roles and not has_municipality:
        errors.append(_("This account must belong to a municipality."))
    if Role.CCR_MEMBER in roles and not has_institution:
        errors.append(_("A member of the referral mechanism must belong to an institution."))
    if has_institution and Role.CCR_MEMBER not in roles:
        errors.append(_("Only members of the referral mechanism belong to an institution."))
    return errors
