"""Meetings of the GTN and the ETN."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import Institution

from . import access
from .auditing import cases_listed
from .forms import MeetingForm, MeetingRecordForm
from .models import MeetingKind
from .selectors import meeting_for
from .services import StaleEdit
from .services import meetings as meeting_services


def meeting_list(request):
    user = request.user
    kinds = [kind for kind in MeetingKind.values if meeting_services.may_convene(user, kind)]
    meetings = meeting_services.meetings_visible_to(user).prefetch_related("cases", "invited")
    # The director of social services convenes none, but reads those on her cases.
    supervises = any(user.roles & roles for roles in access.SUPERVISOR_ROLES.values())
    if not kinds and not supervises and not (user.has_role("ccr_member") and user.institution_id):
        raise Http404
    return render(
        request, "protocol/meetings/list.html", {"meetings": meetings, "can_convene": kinds}
    )


def meeting_new(request):
    user = request.user
    kinds = [kind for kind in MeetingKind.values if meeting_services.may_convene(user, kind)]
    if not kinds:
        raise Http404
    cases = meeting_services.agenda_candidates(user, kinds)
    form = MeetingForm(
        request.POST or None,
        institutions=Institution.objects.filter(
            municipality_id=user.municipality_id, is_active=True
        ),
        cases=cases,
        kinds=kinds,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = meeting_services.meeting_convene(
                by=user,
                kind=data["kind"],
                scheduled_at=data["scheduled_at"],
                invited=list(data["invited"]),
                cases=list(data["cases"]),
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("The meeting has been convened."))
            return redirect(meeting)
    return render(request, "protocol/meetings/new.html", {"form": form})


def meeting_detail(request, pk):
    user = request.user
    meeting = meeting_for(user, pk)
    may_read = meeting_services.may_read_minutes(user, meeting)
    form = None
    if may_read:
        form = MeetingRecordForm(
            request.POST or None,
            initial={
                "version": meeting.version,
                "attendance": meeting.attendance,
                "minutes": meeting.minutes,
                "decisions": meeting.decisions,
            },
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                meeting_services.meeting_record(
                    by=user,
                    meeting=meeting,
                    version=data["version"],
                    attendance=data["attendance"],
                    minutes=data["minutes"],
                    decisions=data["decisions"],
                )
            except StaleEdit as refusal:
                form.add_error(None, str(refusal))
            else:
                messages.success(request, _("The record of the meeting has been saved."))
                return redirect(meeting)
    elif request.method == "POST":
        raise Http404
    agenda = [
        {"case": case, "can_open": access.can_view_case(user, case)}
        for case in meeting.cases.order_by("number")
    ]
    cases_listed(request, [row["case"] for row in agenda], detail={"meeting": str(meeting.pk)})
    return render(
        request,
        "protocol/meetings/detail.html",
        {"meeting": meeting, "agenda": agenda, "form": form, "may_read": may_read},
    )
