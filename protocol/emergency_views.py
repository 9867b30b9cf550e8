"""Transfers of a case between municipalities, and emergency ("break-glass") access.

Every page answers 404 to a user whose role has no business there, as the
case pages do, so that a page does not confirm what exists.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Municipality
from encryption import limits

from . import access
from .auditing import case_opened, cases_listed, emergency_accesses_read
from .forms import VersionedForm
from .models import CaseTransfer, TransferState
from .selectors import case_for
from .services import StaleEdit
from .services import emergency as emergency_services
from .services import transfers as transfer_services
from .stages import TransitionNotAllowed

# --- Forms -------------------------------------------------------------------------


class TransferRequestForm(VersionedForm):
    to_municipality = forms.ModelChoiceField(
        label=gettext_lazy("Receiving municipality"), queryset=Municipality.objects.none()
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the transfer"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "The receiving head of unit or DV coordinator reads this before accepting; "
            "they see the case itself only once they accept."
        ),
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_municipality"].queryset = Municipality.objects.exclude(
            pk=case.municipality_id
        )


class TransferAnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("accept", gettext_lazy("Accept")), ("refuse", gettext_lazy("Refuse"))],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=gettext_lazy("Answer"),
        required=False,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Needed when refusing."),
    )


class EmergencyAccessForm(forms.Form):
    case_number = forms.CharField(label=gettext_lazy("Case number"), max_length=20)
    justification = forms.CharField(
        label=gettext_lazy("Justification"),
        min_length=emergency_services.MIN_JUSTIFICATION_LENGTH,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "What the emergency is and why you need this case now. It is recorded and "
            "reviewed by the gender-equality officer."
        ),
    )


class EmergencyReviewForm(forms.Form):
    review_comment = forms.CharField(
        label=gettext_lazy("Outcome of the review"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Transfers ---------------------------------------------------------------------


def transfer_new(request, number):
    """The case's supervisor asks to transfer it; an open request is shown instead."""
    case = case_for(request.user, number)
    if not access.may_arrange_transfer(request.user, case) or not case.is_open:
        raise Http404
    pending = case.transfers.filter(state=TransferState.REQUESTED).first()
    form = TransferRequestForm(
        request.POST if request.method == "POST" and pending is None else None,
        initial={"version": case.version},
        case=case,
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            transfer_services.transfer_request(
                by=request.user,
                case=case,
                version=data["version"],
                to_municipality=data["to_municipality"],
                reason=data["reason"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        except (TransitionNotAllowed, StaleEdit) as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("The transfer has been requested."))
            return redirect(case)
    case_opened(request, case)
    return render(
        request,
        "protocol/transfers/request.html",
        {
            "case": case,
            "form": form,
            "pending": pending,
            "history": case.transfers.exclude(state=TransferState.REQUESTED).select_related(
                "to_municipality", "answered_by"
            ),
        },
    )


@require_POST
def transfer_cancel(request, number, pk):
    case = case_for(request.user, number)
    if not access.may_arrange_transfer(request.user, case):
        raise Http404
    transfer = get_object_or_404(CaseTransfer, pk=pk, case=case)
    try:
        transfer_services.transfer_cancel(by=request.user, transfer=transfer)
    except TransitionNotAllowed as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("The transfer request has been cancelled."))
    return redirect(case)


def _require_receiving_supervisor(user) -> None:
    if not any(user.has_role(role) for role in access.TRANSFER_ROLE.values()):
        raise Http404


def _incoming_page(request, *, failed=None):
    """The requests to the user's municipality; `failed` is (transfer id, bound form)."""
    rows = []
    for transfer in transfer_services.transfers_incoming(request.user):
        form = TransferAnswerForm(prefix=str(transfer.pk))
        if failed and failed[0] == transfer.pk:
            form = failed[1]
        rows.append({"transfer": transfer, "form": form})
    cases_listed(request, [row["transfer"].case for row in rows])
    return render(request, "protocol/transfers/incoming.html", {"rows": rows})


def transfers_incoming(request):
    """Only the case number, its kind, the sending municipality and the reason: the
    case itself is seen once accepted."""
    _require_receiving_supervisor(request.user)
    return _incoming_page(request)


@require_POST
def transfer_answer(request, pk):
    _require_receiving_supervisor(request.user)
    transfer = get_object_or_404(transfer_services.transfers_incoming(request.user), pk=pk)
    form = TransferAnswerForm(request.POST, prefix=str(transfer.pk))
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        try:
            transfer_services.transfer_answer(
                by=request.user,
                transfer=transfer,
                accept=accept,
                answer=form.cleaned_data["answer"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            _add_errors(form, error)
        except TransitionNotAllowed as refusal:
            form.add_error(None, str(refusal))
        else:
            if accept:
                messages.success(request, _("The case has been transferred to you."))
                return redirect(transfer.case)
            messages.success(request, _("The transfer has been refused."))
            return redirect("protocol:transfers_incoming")
    return _incoming_page(request, failed=(transfer.pk, form))


# --- Emergency access --------------------------------------------------------------


def emergency_open(request):
    """Open a case outside one's scope in an emergency, with a justification."""
    if not emergency_services.may_open_emergency_access(request.user):
        raise Http404
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = emergency_services.emergency_access_open(
                by=request.user,
                case_number=form.cleaned_data["case_number"],
                justification=form.cleaned_data["justification"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        except TransitionNotAllowed as refusal:
            form.add_error(None, str(refusal))
        except emergency_services.AccessNotNeeded as not_needed:
            messages.info(request, str(not_needed))
            return redirect(not_needed.case)
        else:
            return redirect(grant.case)
    return render(
        request,
        "protocol/emergency/open.html",
        {"form": form, "hours": emergency_services.access_hours()},
    )


def _require_officer(user) -> None:
    if not emergency_services.may_review_emergency_access(user, user.municipality_id):
        raise Http404


def _review_page(request, *, failed=None):
    """Who opened which case, when and why; `failed` is (access id, bound form)."""
    rows = []
    grants = list(emergency_services.emergency_accesses_for_review(request.user))
    # The justifications are free text about a case: reading them is a read like any other.
    emergency_accesses_read(grants)
    for grant in grants:
        form = None
        if grant.reviewed_at is None:
            form = EmergencyReviewForm(prefix=str(grant.pk))
            if failed and failed[0] == grant.pk:
                form = failed[1]
        rows.append({"grant": grant, "form": form})
    return render(request, "protocol/emergency/review.html", {"rows": rows})


def emergency_review_list(request):
    _require_officer(request.user)
    return _review_page(request)


@require_POST
def emergency_review(request, pk):
    _require_officer(request.user)
    grant = get_object_or_404(emergency_services.emergency_accesses_for_review(request.user), pk=pk)
    form = EmergencyReviewForm(request.POST, prefix=str(grant.pk))
    if form.is_valid():
        try:
            emergency_services.emergency_access_review(
                by=request.user, access=grant, comment=form.cleaned_data["review_comment"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        except TransitionNotAllowed as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("The emergency access has been marked reviewed."))
            return redirect(reverse("protocol:emergency_review_list") + f"#access-{grant.pk}")
    return _review_page(request, failed=(grant.pk, form))
