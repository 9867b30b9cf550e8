from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import AdministrativeUnit, Institution
from protocol import access, services
from protocol.auditing import case_opened, cases_listed
from protocol.models import CaseKind, PersonRole
from protocol.selectors import case_for
from protocol.stages import TransitionNotAllowed

from .forms import ChildCaseForm, ProtectionMeasureForm
from .services import protection_measure_record


def register(request):
    user = request.user
    if not user.has_perm("protocol.register_child_case"):
        raise Http404
    form = ChildCaseForm(
        request.POST or None,
        units=AdministrativeUnit.objects.filter(municipality_id=user.municipality_id),
    )
    duplicate = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        people = [
            services.PersonData.of(data, role=PersonRole.CHILD),
        ]
        if data["parent_name"].strip():
            first, _space, last = data["parent_name"].strip().partition(" ")
            people.append(
                services.PersonData(
                    role=PersonRole.PARENT,
                    first_name=first,
                    last_name=last or "—",
                    phone=data["parent_phone"],
                )
            )
        try:
            case = services.case_register(
                by=user,
                kind=CaseKind.CHILD,
                people=people,
                needs=data["needs"],
                reported_risk_level=data["reported_risk_level"],
                reported_at=data["reported_at"],
                report_channel=data["report_channel"],
                reporter_kind=data["reporter_kind"],
                reporter_details=data["reporter_details"],
                summary=data["summary"],
                administrative_unit=data["administrative_unit"],
                duplicate_override_reason=data["duplicate_override_reason"],
            )
        except services.PossibleDuplicate as possible:
            duplicate = possible
            cases_listed(request, numbers=possible.case_numbers, detail={"hidden": possible.hidden})
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Case %(number)s registered.") % {"number": case.number})
            return redirect(case)
    return render(request, "cpu/register.html", {"form": form, "duplicate": duplicate})


def measure_new(request, number):
    case = case_for(request.user, number, part=access.Part.PLAN)
    if case.kind != CaseKind.CHILD or not access.can_change_case(request.user, case):
        raise Http404
    courts = Institution.objects.filter(
        municipality_id=case.municipality_id, kind=Institution.Kind.COURT
    )
    form = ProtectionMeasureForm(request.POST or None, courts=courts)
    if request.method == "POST" and form.is_valid():
        try:
            protection_measure_record(by=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        except TransitionNotAllowed as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("The protection measure has been recorded in case %(number)s.")
                % {"number": case.number},
            )
            return redirect(case.get_absolute_url() + "#measures")
    case_opened(request, case)
    return render(
        request,
        "protocol/case_form.html",
        {"case": case, "form": form, "title": _("New protection measure")},
    )
