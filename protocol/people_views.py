"""Changing the people of a case: edit a person, add one, end one's part in the case.

Each page is for those who may change the case and see its identity part (the
worker in charge and the supervisors); anyone else gets the 404 of a case they
may not see or change, with nothing of the people in it.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from . import access
from .auditing import case_opened, cases_listed
from .forms import PersonAddForm, PersonEndForm, PersonForm
from .models import Person
from .services import PersonData, PossibleDuplicate, StaleEdit
from .services import people as people_services
from .views import _changeable_case


def _people_case(request, number):
    return _changeable_case(request, number, access.Part.IDENTITY)


def _current_person_of(case, pk) -> Person:
    """A person whose part in the case has not ended: only they are changed or ended."""
    return get_object_or_404(Person, pk=pk, case=case, ended_at__isnull=True)


def _save_person(request, case, form, save, title, done):
    """Validate, call the service, turn its refusals into form errors; the page otherwise."""
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            person = save(form.cleaned_data)
        except PossibleDuplicate as possible:
            duplicate = possible
            cases_listed(request, numbers=possible.case_numbers, detail={"hidden": possible.hidden})
        except ValidationError as error:
            form.add_error(None, error)
        except StaleEdit as refusal:
            form.add_error(None, str(refusal))
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, done(person))
            return redirect(case.get_absolute_url() + "#people")
    case_opened(request, case, parts=[access.Part.IDENTITY])
    return render(
        request,
        "protocol/people/person_form.html",
        {"case": case, "form": form, "title": title, "duplicate": duplicate},
    )


def person_new(request, number):
    case = _people_case(request, number)
    form = PersonAddForm(
        request.POST or None, initial={"version": case.version}, case_kind=case.kind
    )

    def save(data):
        return people_services.person_add(
            by=request.user,
            case=case,
            version=data["version"],
            data=PersonData.of(data, role=data["role"]),
            duplicate_override_reason=data["duplicate_override_reason"],
        )

    return _save_person(
        request,
        case,
        form,
        save,
        _("Add a person to the case"),
        lambda person: (
            _("%(name)s was added to case %(number)s.")
            % {"name": f"{person.first_name} {person.last_name}", "number": case.number}
        ),
    )


def person_edit(request, number, pk):
    case = _people_case(request, number)
    person = _current_person_of(case, pk)
    initial = {name: getattr(person, name) for name in people_services.EDITABLE}
    form = PersonForm(
        request.POST or None,
        initial={**initial, "version": case.version},
        case_kind=case.kind,
    )

    def save(data):
        return people_services.person_change(
            by=request.user,
            person=person,
            version=data["version"],
            data=PersonData.of(data, role=person.role),
            duplicate_override_reason=data["duplicate_override_reason"],
        )

    return _save_person(
        request,
        case,
        form,
        save,
        _("Change %(name)s (%(role)s)")
        % {"name": f"{person.first_name} {person.last_name}", "role": person.get_role_display()},
        lambda person: (
            _("The details of %(name)s in case %(number)s were saved.")
            % {"name": f"{person.first_name} {person.last_name}", "number": case.number}
        ),
    )


def person_end(request, number, pk):
    case = _people_case(request, number)
    person = _current_person_of(case, pk)
    form = PersonEndForm(request.POST or None, initial={"version": case.version})

    def save(data):
        return people_services.person_end(
            by=request.user, person=person, version=data["version"], reason=data["reason"]
        )

    return _save_person(
        request,
        case,
        form,
        save,
        _("End the part of %(name)s (%(role)s) in the case")
        % {"name": f"{person.first_name} {person.last_name}", "role": person.get_role_display()},
        lambda person: (
            _("The part of %(name)s in case %(number)s has ended.")
            % {"name": f"{person.first_name} {person.last_name}", "number": case.number}
        ),
    )
