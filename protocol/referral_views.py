"""Referring a case to an institution, and the institution's inbox and answers."""

from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Institution
from accounts.roles import Role

from . import access
from .auditing import case_opened, cases_listed, part_opened
from .forms import ReferralActionForm, ReferralAnswerForm, ReferralForm, ReferralRevokeForm
from .models import Referral, ReferralState
from .selectors import case_for, own_record_of, referral_for, referral_inbox, referrals_past
from .services import StaleEdit
from .services import referrals as referral_services
from .stages import TransitionNotAllowed
from .views import PAGE_SIZE

# What the audit trail names as read when an ended referral's page is opened.
ENDED_RECORD = "referral-record"

# The inbox's filter for every referral that has ended, whatever the way.
PAST = "past"


def _require_member(user):
    if not (user.has_role(Role.CCR_MEMBER) and user.institution_id):
        raise Http404


def inbox(request):
    """The referrals to the member's institution, by state, a page at a time."""
    user = request.user
    _require_member(user)
    state = request.GET.get("state", "")
    if state not in (*ReferralState.values, PAST):
        state = ""
    referrals = referrals_past(user) if state == PAST else referral_inbox(user, state)
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    cases_listed(request, [referral.case for referral in page.object_list])
    return render(
        request,
        "protocol/referrals/inbox.html",
        {
            "page": page,
            "state": state,
            "states": [*ReferralState.choices, (PAST, _("past referrals"))],
            "query": f"state={state}" if state else "",
        },
    )


def referral_detail(request, pk):
    referral = referral_for(request.user, pk)
    answer_form = ReferralAnswerForm(initial={"version": referral.version})
    action_form = ReferralActionForm(initial={"version": referral.version})
    if request.method == "POST":
        kind = request.POST.get("form")
        form = (ReferralAnswerForm if kind == "answer" else ReferralActionForm)(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if kind == "answer":
                    referral_services.referral_answer(
                        by=request.user,
                        referral=referral,
                        version=data["version"],
                        accept=data["decision"] == "accept",
                        answer=data["answer"],
                    )
                else:
                    referral_services.referral_record_action(
                        by=request.user,
                        referral=referral,
                        version=data["version"],
                        action_taken=data["action_taken"],
                        done=data["done"],
                    )
            except ValidationError as error:
                form.add_error(None, error)
            except (TransitionNotAllowed, StaleEdit) as refusal:
                form.add_error(None, str(refusal))
            else:
                messages.success(
                    request,
                    (
                        _("Your answer to the referral of case %(number)s has been saved.")
                        if kind == "answer"
                        else _(
                            "What your institution did on the referral of case %(number)s "
                            "has been saved."
                        )
                    )
                    % {"number": referral.case.number},
                )
                return redirect(referral)
        if kind == "answer":
            answer_form = form
        else:
            action_form = form
    is_open = referral.is_open
    part_opened(
        request,
        referral.case,
        # An ended referral shows only the institution's own record of it, no part.
        part=",".join(referral.parts) if is_open else ENDED_RECORD,
        object_type="protocol.referral",
        object_id=referral.pk,
    )
    return render(
        request,
        "protocol/referrals/detail.html",
        {
            "referral": referral,
            "is_open": is_open,
            "own_answer": "" if is_open else own_record_of(referral),
            "answer_form": answer_form,
            "action_form": action_form,
            "parts": [access.Part.LABELS[part] for part in referral.parts],
        },
    )


def referral_new(request, number):
    case = case_for(request.user, number)
    if not access.can_change_case(request.user, case):
        raise Http404
    institutions = Institution.objects.filter(
        municipality_id=case.municipality_id, is_active=True
    ).exclude(kind=Institution.Kind.SOCIAL_SERVICES)
    form = ReferralForm(request.POST or None, institutions=institutions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires_at = None
        if data["expires_on"]:
            expires_at = timezone.make_aware(datetime.combine(data["expires_on"], time(23, 59)))
        try:
            referral_services.referral_create(
                by=request.user,
                case=case,
                institution=data["institution"],
                parts=data["parts"],
                reason=data["reason"],
                urgency=data["urgency"],
                legal_basis=data["legal_basis"],
                due_date=data["due_date"],
                expires_at=expires_at,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "expires_at" in error.error_dict:
                # The form asks for a day; the service speaks of the moment access ends.
                error.error_dict["expires_on"] = error.error_dict.pop("expires_at")
            form.add_error(None, error)
        else:
            messages.success(request, _("The case has been referred."))
            return redirect(case.get_absolute_url() + "#referrals")
    case_opened(request, case)
    return render(
        request,
        "protocol/case_form.html",
        {"case": case, "form": form, "title": _("Refer the case")},
    )


@require_POST
def referral_revoke(request, number, pk):
    case = case_for(request.user, number)
    if not access.can_change_case(request.user, case):
        raise Http404
    referral = get_object_or_404(Referral, pk=pk, case=case)
    form = ReferralRevokeForm(request.POST)
    if form.is_valid():
        try:
            referral_services.referral_revoke(
                by=request.user, referral=referral, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, TransitionNotAllowed) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("The referral has been revoked."))
    else:
        messages.error(request, _("Give the reason: nothing was changed."))
    return redirect(case.get_absolute_url() + "#referrals")
