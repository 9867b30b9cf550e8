"""The people of a case after registration: correcting and updating their identity and
contact, adding someone found later, ending someone's part in the case.

Only those who may change the case (its worker in charge and its supervisors,
protocol.access.can_change_case) change its people; members of the referral
mechanism and emergency readers never do. Every change is one saved Person row:
simple-history keeps the earlier values (encrypted, as in the live table) and
protocol.auditing turns that history row into the change's one audit event.
The case's version moves on so that a form opened before the change is
refused (StaleEdit); it is moved with an UPDATE, which writes no history of
the case, so that a change of a person is one event, not two.
"""

from dataclasses import replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import access
from ..models import MAIN_ROLE, PERSON_ROLES_BY_KIND, Case, Person
from . import (
    PersonData,
    _lock,
    _person_build,
    refuse_possible_duplicates,
)

# The fields of a person that the edit form changes (the role does not change: end the
# person's part and add them again in the new role).
INDEXES = ("name_index", "personal_number_index", "name_birth_index")
EDITABLE = (
    "first_name",
    "last_name",
    "personal_number",
    "birth_date",
    "address",
    "phone",
    "sex",
    "age_group",
    "is_roma",
    "is_egyptian",
    "has_disability",
    "relationship_to_victim",
)


def _check_may_change_people(by: User, case: Case) -> None:
    if not (
        access.can_change_case(by, case) and access.can_view_part(by, case, access.Part.IDENTITY)
    ):
        raise PermissionDenied


def _bump_version(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1, updated_at=timezone.now())


@transaction.atomic
def person_add(
    *, by: User, case: Case, version: int, data: PersonData, duplicate_override_reason: str = ""
) -> Person:
    """Add someone to the case in a role its kind allows; the duplicate check runs as at
    registration (PossibleDuplicate unless a reason to add them anyway is given)."""
    case = _lock(case, version)
    _check_may_change_people(by, case)
    if data.role not in PERSON_ROLES_BY_KIND[case.kind]:
        raise ValidationError({"role": _("This role does not belong to this kind of case.")})
    refuse_possible_duplicates(
        by=by,
        municipality_id=case.municipality_id,
        person=data,
        override_reason=duplicate_override_reason,
        exclude_case_id=case.pk,
    )
    person = _person_build(case, data)
    person.duplicate_override_reason = duplicate_override_reason.strip() or None
    person.full_clean(exclude=["case"])
    person._history_user = by
    person.save()
    _bump_version(case)
    return person


@transaction.atomic
def person_change(
    *,
    by: User,
    person: Person,
    version: int,
    data: PersonData,
    duplicate_override_reason: str = "",
) -> Person:
    """Correct or update a person's identity, contact and counted details.

    The blind indexes are computed again; a new personal number, or a new name or
    date of birth, runs the duplicate check again. `data.role` is not used.
    """
    case = _lock(person.case, version)
    _check_may_change_people(by, case)
    person = Person.objects.select_for_update().get(pk=person.pk, case=case)
    if not person.is_current:
        raise ValidationError(_("This person's part in the case has ended."))
    # The same normalisation and indexes as at registration.
    built = _person_build(case, replace(data, role=person.role))
    indexes = {name: getattr(built, name) for name in INDEXES}
    identity_changed = (
        indexes["personal_number_index"]
        and indexes["personal_number_index"] != person.personal_number_index
    ) or (indexes["name_birth_index"] and indexes["name_birth_index"] != person.name_birth_index)
    if identity_changed:
        refuse_possible_duplicates(
            by=by,
            municipality_id=case.municipality_id,
            person=data,
            override_reason=duplicate_override_reason,
            exclude_case_id=case.pk,
        )
    values = {name: getattr(built, name) for name in EDITABLE}
    if all(getattr(person, name) == value for name, value in values.items()):
        return person
    for name, value in values.items():
        setattr(person, name, value)
    for name, value in indexes.items():
        setattr(person, name, value)
    person.duplicate_override_reason = (
        duplicate_override_reason.strip() or None if identity_changed else None
    )
    person.full_clean(exclude=["case"])
    person._history_user = by
    person.save()
    _bump_version(case)
    return person


@transaction.atomic
def person_end(*, by: User, person: Person, version: int, reason: str) -> Person:
    """End a person's part in the case, with the reason; the person stays in its history.

    The case keeps at least one current child (child cases) or victim (DV cases):
    add the right one first when the one recorded was a mistake.
    """
    case = _lock(person.case, version)
    _check_may_change_people(by, case)
    person = Person.objects.select_for_update().get(pk=person.pk, case=case)
    if not person.is_current:
        raise ValidationError(_("This person's part in the case has ended."))
    if not reason.strip():
        raise ValidationError({"end_reason": _("Give the reason.")})
    main_role = MAIN_ROLE[case.kind]
    if (
        person.role == main_role
        and not case.people.filter(role=main_role, ended_at__isnull=True)
        .exclude(pk=person.pk)
        .exists()
    ):
        raise ValidationError(
            _("The case must keep at least one %(role)s: add the other person first.")
            % {"role": person.get_role_display()}
        )
    person.ended_at = timezone.now()
    person.end_reason = reason.strip()
    person.full_clean(exclude=["case"])
    person._history_user = by
    person.save()
    _bump_version(case)
    return person
