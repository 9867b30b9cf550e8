from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AdministrativeUnit, Institution
from protocol import access
from protocol.access import Part
from protocol.auditing import case_opened, cases_listed
from protocol.models import Case, CaseKind, PersonRole
from protocol.selectors import case_for
from protocol.services import PersonData, PossibleDuplicate, StaleEdit
from protocol.stages import TransitionNotAllowed

from . import services
from .forms import (
    BreachForm,
    DvCaseForm,
    IncidentForm,
    OrderDecisionForm,
    ProtectionOrderForm,
    RiskAssessmentForm,
    ShelterEndForm,
    ShelterPlacementForm,
)
from .models import ProtectionOrder, ShelterPlacement
from .selectors import active_questionnaire

# Services name some values differently from the forms that collect them.
FORM_FIELD_OF = {"forms": "forms_of_violence"}


def _add_service_error(form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the form's fields, the rest above them."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        name = FORM_FIELD_OF.get(name, name)
        form.add_error(name if name in form.fields else None, errors)


def _save(request, form, save: Callable, case: Case, done: str):
    """Call `save` with a valid form's data; the saved object, or None with the refusal
    shown on the form. `done` says what was done, with %(number)s for the case."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(form.cleaned_data)
    except ValidationError as error:
        _add_service_error(form, error)
    except (TransitionNotAllowed, StaleEdit) as refusal:
        form.add_error(NON_FIELD_ERRORS, str(refusal))
    else:
        messages.success(request, done % {"number": case.number})
        return saved
    return None


def _changeable_case(request, number: str, part: str) -> Case:
    """The DV case if the user may see `part` of it and change it; 404 otherwise, so that
    a page never tells whether a case exists (not seeing the part is a refusal, recorded
    by the lookup)."""
    user = request.user
    case = case_for(user, number, part=part)
    if case.kind != CaseKind.DV or not access.can_change_case(user, case):
        raise Http404
    case_opened(request, case, parts=[part])
    return case


def _form_page(request, case, form, title, *, intro=""):
    return render(
        request,
        "dv_cases/record_form.html",
        {"case": case, "form": form, "title": title, "intro": intro},
    )


# --- Registration -------------------------------------------------------------------------


def register(request):
    user = request.user
    if not user.has_perm("protocol.register_dv_case") or user.municipality_id is None:
        raise Http404
    form = DvCaseForm(
        request.POST or None,
        units=AdministrativeUnit.objects.filter(municipality_id=user.municipality_id),
    )
    duplicate = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.dv_case_register(
                by=user,
                victim=PersonData.of(data, role=PersonRole.VICTIM),
                perpetrator=PersonData(
                    role=PersonRole.PERPETRATOR,
                    first_name=data["perpetrator_first_name"],
                    last_name=data["perpetrator_last_name"],
                    personal_number=data["perpetrator_personal_number"],
                    sex=data["perpetrator_sex"],
                    relationship_to_victim=data["relationship"],
                ),
                incident=services.IncidentData(
                    occurred_on=data["occurred_on"],
                    place=data["place"],
                    forms=data["forms_of_violence"],
                    narrative=data["narrative"],
                    injuries=data["injuries"],
                    children_present=data["children_present"],
                ),
                reported_risk_level=data["reported_risk_level"],
                reported_at=data["reported_at"],
                report_channel=data["report_channel"],
                reporter_kind=data["reporter_kind"],
                reporter_details=data["reporter_details"],
                administrative_unit=data["administrative_unit"],
                duplicate_override_reason=data["duplicate_override_reason"],
            )
        except PossibleDuplicate as possible:
            duplicate = possible
            cases_listed(request, numbers=possible.case_numbers, detail={"hidden": possible.hidden})
        except ValidationError as error:
            _add_service_error(form, error)
        except TransitionNotAllowed as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("Case %(number)s registered.") % {"number": case.number})
            return redirect(case)
    return render(request, "dv_cases/register.html", {"form": form, "duplicate": duplicate})


# --- Incidents and risk ----------------------------------------------------------------


def incident_new(request, number):
    case = _changeable_case(request, number, Part.INCIDENTS)
    form = IncidentForm(request.POST or None)
    incident = _save(
        request,
        form,
        lambda data: services.incident_record(
            by=request.user,
            case=case,
            occurred_on=data["occurred_on"],
            place=data["place"],
            forms=data["forms_of_violence"],
            narrative=data["narrative"],
            injuries=data["injuries"],
            children_present=data["children_present"],
        ),
        case,
        _("The incident has been recorded in case %(number)s."),
    )
    if incident:
        return redirect(incident)
    return _form_page(request, case, form, _("New incident"))


def risk_assessment_new(request, number):
    case = _changeable_case(request, number, Part.RISK)
    questionnaire = active_questionnaire()
    if questionnaire is None:
        return render(request, "dv_cases/risk_form.html", {"case": case, "form": None})
    form = RiskAssessmentForm(
        request.POST or None, initial={"version": case.version}, questionnaire=questionnaire
    )
    assessment = _save(
        request,
        form,
        lambda data: services.risk_assessment_record(
            by=request.user,
            case=case,
            version=data["version"],
            questionnaire=questionnaire,
            answers=form.answers(),
            notes=data["notes"],
            assessed_at=data["assessed_at"],
        ),
        case,
        _("The risk assessment of case %(number)s has been recorded."),
    )
    if assessment:
        return redirect(assessment)
    return render(
        request,
        "dv_cases/risk_form.html",
        {"case": case, "form": form, "questionnaire": questionnaire},
    )


# --- Protection orders --------------------------------------------------------------------


def order_new(request, number):
    case = _changeable_case(request, number, Part.ORDERS)
    form = ProtectionOrderForm(
        request.POST or None,
        institutions=Institution.objects.filter(
            municipality_id=case.municipality_id, is_active=True
        ),
    )
    order = _save(
        request,
        form,
        lambda data: services.protection_order_record(by=request.user, case=case, **data),
        case,
        _("The protection order has been recorded in case %(number)s."),
    )
    if order:
        return redirect(order)
    return _form_page(request, case, form, _("New protection order"))


def _order_of(case, pk) -> ProtectionOrder:
    return get_object_or_404(
        ProtectionOrder.objects.select_related("issuing_institution"), pk=pk, case=case
    )


def order_decide(request, number, pk):
    case = _changeable_case(request, number, Part.ORDERS)
    order = _order_of(case, pk)
    if request.method == "GET" and not order.is_pending:
        messages.info(request, _("This order has already been decided."))
        return redirect(order)
    form = OrderDecisionForm(
        request.POST or None, initial={"version": case.version, "measures": order.measures}
    )
    decided = _save(
        request,
        form,
        lambda data: services.protection_order_decide(by=request.user, order=order, **data),
        case,
        _("The decision on the order has been recorded in case %(number)s."),
    )
    if decided:
        return redirect(decided)
    intro = _("%(order)s, requested on %(date)s.") % {
        "order": order.get_kind_display(),
        "date": timezone.localtime(order.requested_at).strftime("%d.%m.%Y %H:%M"),
    }
    return _form_page(request, case, form, _("Decision on the order"), intro=intro)


def breach_new(request, number, pk):
    case = _changeable_case(request, number, Part.ORDERS)
    order = _order_of(case, pk)
    form = BreachForm(request.POST or None)
    breach = _save(
        request,
        form,
        lambda data: services.order_breach_record(by=request.user, order=order, **data),
        case,
        _("The breach of the order has been recorded in case %(number)s."),
    )
    if breach:
        return redirect(breach)
    intro = _("%(order)s, valid from %(date)s.") % {
        "order": order.get_kind_display(),
        "date": order.valid_from.strftime("%d.%m.%Y") if order.valid_from else "—",
    }
    return _form_page(request, case, form, _("Breach of the order"), intro=intro)


# --- Shelter ------------------------------------------------------------------------------


def shelter_new(request, number):
    case = _changeable_case(request, number, Part.IDENTITY)
    # Any active shelter: victims are often sheltered away from their municipality.
    shelters = Institution.objects.filter(
        kind=Institution.Kind.SHELTER, is_active=True
    ).select_related("municipality")
    form = ShelterPlacementForm(request.POST or None, shelters=shelters)
    placement = _save(
        request,
        form,
        lambda data: services.shelter_placement_record(by=request.user, case=case, **data),
        case,
        _("The placement in a shelter has been recorded in case %(number)s."),
    )
    if placement:
        return redirect(placement)
    return _form_page(request, case, form, _("Placement in a shelter"))


def shelter_end(request, number, pk):
    case = _changeable_case(request, number, Part.IDENTITY)
    placement = get_object_or_404(ShelterPlacement, pk=pk, case=case)
    form = ShelterEndForm(request.POST or None, initial={"version": case.version})
    ended = _save(
        request,
        form,
        lambda data: services.shelter_placement_end(by=request.user, placement=placement, **data),
        case,
        _("The end of the stay in the shelter has been recorded in case %(number)s."),
    )
    if ended:
        return redirect(ended)
    return _form_page(request, case, form, _("End of the stay in the shelter"))
