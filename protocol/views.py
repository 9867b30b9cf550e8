from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AdministrativeUnit, Institution
from accounts.roles import CASE_ROLES

from . import access, services
from .auditing import case_opened, cases_listed
from .deadlines import case_deadlines
from .documents import documents_visible
from .forms import (
    AssessmentForm,
    CaseFilterForm,
    ClosureForm,
    ConferenceForm,
    NoteForm,
    PlanActionForm,
    PlanActionStatusForm,
    PlanForm,
    ReasonForm,
    ReassignForm,
    ReopenForm,
    ReviewForm,
)
from .models import MAIN_ROLE, PlanAction, Stage
from .sections import action_url_name, sections_for
from .selectors import (
    CaseFilters,
    case_for,
    cases_list,
    cases_page,
    linked_cases,
    people_on_case,
    workers_for,
)
from .stages import ACTIONS, TransitionNotAllowed, next_steps, refusal, reopen_stage

PAGE_SIZE = 25


def case_list(request):
    user = request.user
    if not user.roles & CASE_ROLES:
        raise Http404
    units = AdministrativeUnit.objects.filter(municipality_id=user.municipality_id)
    form = CaseFilterForm(request.GET or None, units=units)
    filters = CaseFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = CaseFilters(
            kind=data["kind"],
            stage=data["stage"],
            risk=data["risk"],
            overdue=data["overdue"],
            administrative_unit=data["unit"].pk if data["unit"] else None,
            query=data["q"],
            mine=data["mine"],
        )
    page = cases_page(cases_list(user, filters), request.GET.get("page"), PAGE_SIZE)
    access.prefetch_permissions(user, page.object_list)
    cases_listed(request, page.object_list, searched=bool(filters.query))
    rows = [
        {
            "case": case,
            "name": _main_person_name(user, case),
        }
        for case in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "protocol/case_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "may_use_emergency_access": bool(access.emergency_kinds(user)),
            "receives_transfers": bool(user.roles & set(access.TRANSFER_ROLE.values())),
        },
    )


def _main_person_name(user, case):
    if not access.can_view_part(user, case, access.Part.IDENTITY):
        return None
    people = [p for p in case.people.all() if p.role == MAIN_ROLE[case.kind]]
    return f"{people[0].first_name} {people[0].last_name}" if people else None


def case_detail(request, number):
    user = request.user
    case = case_for(user, number)
    can = {part: access.can_view_part(user, case, part) for part in access.Part.ALL}
    actions = []
    for action in next_steps(user, case):
        url = None
        if action.recorded_by_form:
            url = _action_form_url(case, action.name)
        actions.append({"action": action, "url": url})
    sections = [
        render_to_string(
            section.template, {"case": case, **section.context(user, case)}, request=request
        )
        for section in sections_for(case)
        if can[section.part]
    ]
    plan = getattr(case, "plan", None) if can["plan"] else None
    can_change = access.can_change_case(user, case)
    context = {
        "case": case,
        "can": can,
        "can_change": can_change,
        "is_supervisor": access.is_supervisor(user, case),
        "may_arrange_transfer": access.may_arrange_transfer(user, case),
        "awaiting_decision": _awaiting_decision(user, case),
        "actions": actions,
        "deadlines": case_deadlines(case),
        "people": people_on_case(case) if can["identity"] else [],
        "needs": [need.get_need_display() for need in case.needs.all()],
        "transitions": case.transitions.select_related("by"),
        "assessments": case.assessments.all() if can["risk"] else [],
        "conferences": case.conferences.prefetch_related("institutions_present")
        if can["plan"]
        else [],
        "plan": plan,
        "plan_actions": plan.actions.select_related("institution") if plan else [],
        "reviews": case.reviews.all() if can["plan"] else [],
        "notes": case.notes.select_related("written_by") if can["incidents"] else [],
        "sections": sections,
        "referrals": case.referrals.select_related("institution") if can_change else [],
        "documents": documents_visible(by=user, case=case) if can["documents"] else [],
        "note_form": NoteForm(),
        "reason_form": ReasonForm(initial={"version": case.version}),
        "linked": [other for other in linked_cases(case) if access.can_view_case(user, other)],
    }
    case_opened(request, case, parts=[part for part, shown in can.items() if shown])
    return render(request, "protocol/case_detail.html", context)


def _awaiting_decision(user, case):
    """For the worker in charge, and a supervisor who may not decide because the work is
    their own: who else may approve what awaits (None when nothing awaits, or when the
    user decides it)."""
    if case.stage not in access.SUBMISSIONS or access.may_approve(user, case):
        return None
    if not (case.owner_id == user.pk or access.is_supervisor(user, case)):
        return None
    return {"approvers": list(access.approvers(case))}


def _action_form_url(case, action_name):
    url_name = action_url_name(case.kind, action_name) or {
        "assess": "protocol:assess",
        "hold_conference": "protocol:conference",
        "review": "protocol:review",
        "propose_closure": "protocol:closure",
        "reopen": "protocol:reopen",
        "write_plan": "protocol:plan",
        "edit_plan": "protocol:plan",
        "add_plan_action": "protocol:plan_action_new",
    }.get(action_name)
    try:
        return reverse(url_name, kwargs={"number": case.number}) if url_name else None
    except NoReverseMatch:
        return None


def _changeable_case(request, number, part=""):
    """The case if the user may change it (and see `part`, on a page of one part); 404
    otherwise. Only not seeing it is a refusal: a reader refused a change may see it."""
    case = case_for(request.user, number, part=part)
    if not access.can_change_case(request.user, case):
        raise Http404
    return case


def _record(
    request, number, form_class, save, title, done, *, part="", form_kwargs=None, initial=None
):
    """A page with one form that records a step of the protocol on a case (on its `part`).

    `done` says what was done, with %(number)s for the case's number; `initial` may be a
    function of the case (to start from its current values)."""
    case = _changeable_case(request, number, part)
    form_kwargs = form_kwargs(case) if callable(form_kwargs) else (form_kwargs or {})
    initial = initial(case) if callable(initial) else initial
    form = form_class(
        request.POST or None, initial={"version": case.version, **(initial or {})}, **form_kwargs
    )
    if request.method == "POST" and form.is_valid():
        try:
            save(case, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        except (TransitionNotAllowed, services.StaleEdit) as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, done % {"number": case.number})
            return redirect(case)
    case_opened(request, case)
    return render(request, "protocol/case_form.html", {"case": case, "form": form, "title": title})


def assess(request, number):
    return _record(
        request,
        number,
        AssessmentForm,
        lambda case, data: services.assessment_record(
            by=request.user,
            case=case,
            version=data["version"],
            risk_level=data["risk_level"],
            findings=data["findings"],
            home_visit=data["home_visit"],
            assessed_at=data["assessed_at"],
        ),
        _("Initial assessment"),
        _("The initial assessment of case %(number)s has been recorded."),
        part=access.Part.RISK,
    )


def _institutions(case):
    return Institution.objects.filter(municipality_id=case.municipality_id, is_active=True)


def conference(request, number):
    return _record(
        request,
        number,
        ConferenceForm,
        lambda case, data: services.conference_record(
            by=request.user,
            case=case,
            version=data["version"],
            held_at=data["held_at"],
            institutions=list(data["institutions"]),
            people_present=data["people_present"],
            minutes=data["minutes"],
            decisions=data["decisions"],
        ),
        _("Case conference"),
        _("The case conference of case %(number)s has been recorded."),
        part=access.Part.PLAN,
        form_kwargs=lambda case: {"institutions": _institutions(case)},
    )


def plan(request, number):
    case = case_for(request.user, number, part=access.Part.PLAN)
    existing = getattr(case, "plan", None)
    return _record(
        request,
        number,
        PlanForm,
        lambda case, data: services.plan_save(
            by=request.user,
            case=case,
            version=data["version"],
            goals=data["goals"],
            drafted_with_family=data["drafted_with_family"],
        ),
        _("Plan"),
        _("The plan of case %(number)s has been saved."),
        part=access.Part.PLAN,
        initial={"goals": existing.goals, "drafted_with_family": existing.drafted_with_family}
        if existing
        else None,
    )


def plan_action_new(request, number):
    return _record(
        request,
        number,
        PlanActionForm,
        lambda case, data: services.plan_action_add(
            by=request.user,
            case=case,
            version=data["version"],
            description=data["description"],
            institution=data["institution"],
            due_date=data["due_date"],
        ),
        _("New action of the plan"),
        _("The action has been added to the plan of case %(number)s."),
        part=access.Part.PLAN,
        form_kwargs=lambda case: {"institutions": _institutions(case)},
    )


@require_POST
def plan_action_status(request, number, pk):
    case = _changeable_case(request, number, access.Part.PLAN)
    action = get_object_or_404(PlanAction, pk=pk, plan__case=case)
    form = PlanActionStatusForm(request.POST)
    if form.is_valid():
        services.plan_action_set_status(
            by=request.user, action=action, status=form.cleaned_data["status"]
        )
        messages.success(
            request,
            _("The status of the action of the plan of case %(number)s has been saved.")
            % {"number": case.number},
        )
    return redirect(case.get_absolute_url() + "#plan")


def review(request, number):
    return _record(
        request,
        number,
        ReviewForm,
        lambda case, data: services.review_record(
            by=request.user,
            case=case,
            version=data["version"],
            findings=data["findings"],
            risk_level=data["risk_level"],
        ),
        _("Review of the plan"),
        _("The review of the plan of case %(number)s has been recorded."),
        part=access.Part.PLAN,
        # The form starts from the case's risk level now, not from the first choice.
        initial=lambda case: {"risk_level": case.risk_level or case.reported_risk_level},
    )


def closure(request, number):
    return _record(
        request,
        number,
        ClosureForm,
        lambda case, data: services.closure_propose(
            by=request.user,
            case=case,
            version=data["version"],
            closure_reason=data["closure_reason"],
            explanation=data["explanation"],
        ),
        _("Propose closure"),
        _("The closure of case %(number)s has been proposed for approval."),
    )


def _advance_done(action):
    """What the success message says an action of the engine did, to the case %(number)s."""
    return {
        "submit_plan": _("The plan of case %(number)s has been submitted for approval."),
        "approve_plan": _("The plan of case %(number)s has been approved."),
        "return_plan": _("The plan of case %(number)s has been returned for changes."),
        "approve_closure": _("Case %(number)s has been closed."),
        "reject_closure": _("The closure of case %(number)s has been refused."),
    }.get(action, _("Case %(number)s has been updated."))


@require_POST
def advance(request, number, action):
    case = _changeable_case(request, number)
    if action not in ACTIONS:
        raise Http404
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was not complete: nothing was changed."))
        return redirect(case)
    try:
        services.case_advance(
            by=request.user,
            case=case,
            version=form.cleaned_data["version"],
            action=action,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except (TransitionNotAllowed, services.StaleEdit) as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _advance_done(action) % {"number": case.number})
    return redirect(case)


@require_POST
def note_add(request, number):
    case = _changeable_case(request, number, access.Part.INCIDENTS)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(by=request.user, case=case, text=form.cleaned_data["text"])
        messages.success(request, _("The note has been added."))
    else:
        # Empty or too long; browsers stop typing at the limit, so this is rare.
        messages.error(request, " ".join(form.errors["text"]))
    return redirect(case.get_absolute_url() + "#notes")


def reassign(request, number):
    case = case_for(request.user, number)
    if not access.is_supervisor(request.user, case) or not case.is_open:
        raise Http404
    return _record(
        request,
        number,
        ReassignForm,
        lambda case, data: services.case_reassign(
            by=request.user, case=case, version=data["version"], owner=data["owner"]
        ),
        _("Reassign the case"),
        _("Case %(number)s has been reassigned."),
        form_kwargs={"workers": workers_for(case)},
        initial={"owner": case.owner_id},
    )


@require_POST
def link_add(request, number):
    """Link this case with one of the other kind (a DV case and a child case)."""
    case = _changeable_case(request, number)
    try:
        services.cases_link(by=request.user, case=case, other_number=request.POST.get("other", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The cases are linked."))
    return redirect(case.get_absolute_url() + "#links")


def reopen(request, number):
    """A supervisor reopens a closed case with a reason (services.case_reopen)."""
    user = request.user
    case = case_for(user, number)
    if refusal(user, case, "reopen"):
        raise Http404
    form = ReopenForm(request.POST or None, initial={"version": case.version})
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_reopen(
                by=user,
                case=case,
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except (TransitionNotAllowed, services.StaleEdit) as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                _("Case %(number)s has been reopened: %(stage)s.")
                % {"number": case.number, "stage": case.get_stage_display()},
            )
            return redirect(case)
    case_opened(request, case)
    stage = Stage(reopen_stage(case))
    return render(
        request,
        "protocol/case_form.html",
        {
            "case": case,
            "form": form,
            "title": _("Reopen the case"),
            "intro": _(
                "Case %(number)s keeps its number, history and people. It returns to the "
                "stage: %(stage)s. Its deadlines count from the reopening."
            )
            % {"number": case.number, "stage": stage.label},
            "submit": _("Reopen the case"),
        },
    )
