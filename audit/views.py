"""The gender-equality officer's screens: the timeline, one user's or one case's
activity, the flags and their review, the export.

Every page answers 404 to anyone but an officer of a municipality, as the case
pages do. They show identifiers only (usernames, institution names, case
numbers), never what a case is about. Each page that lists events is itself
recorded (AUDIT_VIEWED): reading the trail leaves a trace too.
"""

import csv
import itertools

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .context import Actor, client_ip
from .forms import CASE_NUMBER, EventFilterForm, FlagReviewForm
from .models import Action
from .selectors import EventFilters
from .services import record
from .spreadsheets import defused

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
EXPORT_BATCH = 2_000


def _require_officer(user) -> None:
    if not selectors.is_officer(user):
        raise Http404


def _before(request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


def _filters(form, **fixed) -> EventFilters:
    data = form.cleaned_data
    institution = data.get("institution")
    values = {
        "username": data.get("user", ""),
        "institution_id": institution.pk if institution else None,
        "case_number": data.get("case", ""),
        "action": data.get("action", ""),
        "date_from": data.get("date_from"),
        "date_to": data.get("date_to"),
    }
    # A page's own filter (its user, its case) takes the place of the form's field.
    return EventFilters(**(values | fixed))


def _detail(filters: EventFilters) -> dict:
    """The filters as the identifiers they are, for the event that records the visit."""
    detail = {
        "user": filters.username,
        "actor": filters.actor_id,
        "institution": filters.institution_id,
        "case": filters.case_number,
        "action": filters.action,
        "from": filters.date_from.isoformat() if filters.date_from else None,
        "to": filters.date_to.isoformat() if filters.date_to else None,
        "before": filters.before,
    }
    return {key: value for key, value in detail.items() if value not in ("", None)}


def _query_without_before(request) -> str:
    query = request.GET.copy()
    query.pop("before", None)
    return query.urlencode()


def _events_page(request, form, *, fixed=None, **visit) -> dict:
    """One page of the officer's events matching the form (and the `fixed` filters of
    the page), and the record of the visit (`visit` names what was looked at).

    One row past the page is read to know whether an older page exists: no count.
    """
    if not form.is_valid():
        return {"form": form, "events": [], "older": None, "query": ""}
    filters = _filters(form, before=_before(request), **(fixed or {}))
    events = list(selectors.events_for_officer(request.user, filters, limit=PAGE_SIZE + 1))
    older = events[PAGE_SIZE - 1].pk if len(events) > PAGE_SIZE else None
    record(Action.AUDIT_VIEWED, detail=_detail(filters), **visit)
    return {
        "form": form,
        "events": selectors.label_actors(events[:PAGE_SIZE]),
        "older": older,
        "newest": filters.before is not None,
        "query": _query_without_before(request),
    }


def timeline(request):
    _require_officer(request.user)
    form = EventFilterForm(request.GET)
    context = _events_page(request, form, object_type="audit.timeline")
    context["checkpoint"] = selectors.last_checkpoint()
    return render(request, "audit/timeline.html", context)


def user_activity(request, pk):
    _require_officer(request.user)
    person = get_object_or_404(get_user_model(), pk=pk)
    form = EventFilterForm(request.GET, without=["user"])
    context = _events_page(
        request,
        form,
        fixed={"actor_id": person.pk},
        object_type="audit.user",
        object_id=person.pk,
    )
    context["person"] = person
    return render(request, "audit/user_activity.html", context)


def case_activity(request, number):
    """Who has seen the case, among the officer's events; the audit app knows no case,
    so a number unknown here is simply an empty page."""
    _require_officer(request.user)
    if not CASE_NUMBER.fullmatch(number):
        raise Http404
    form = EventFilterForm(request.GET, without=["case"])
    context = _events_page(
        request,
        form,
        fixed={"case_number": number},
        object_type="audit.case",
        case_number=number,
    )
    context["number"] = number
    context["viewers"] = selectors.case_viewers(
        number, events=selectors.events_visible_to(request.user)
    )
    return render(request, "audit/case_activity.html", context)


# --- Flags ---------------------------------------------------------------------------


def _flags_page(request, *, failed=None):
    """Open flags (or reviewed ones with `?reviewed=1`), one page; `failed` is
    (flag id, bound form) after a review that could not be saved."""
    reviewed = request.GET.get("reviewed") == "1"
    before = _before(request)
    page = list(selectors.flags(request.user, reviewed=reviewed, before=before)[: PAGE_SIZE + 1])
    older = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    # Each flag shows its event's details and justification: which ones were read is kept.
    record(
        Action.AUDIT_VIEWED,
        object_type="audit.flags",
        detail={
            "reviewed": reviewed,
            "flags": [flag.pk for flag in page[:PAGE_SIZE]],
            **({"before": before} if before else {}),
        },
    )
    rows = []
    for flag in selectors.label_flags(page[:PAGE_SIZE]):
        form = None
        if not reviewed:
            form = FlagReviewForm(prefix=str(flag.pk))
            if failed and failed[0] == flag.pk:
                form = failed[1]
        rows.append({"flag": flag, "form": form})
    return render(
        request,
        "audit/flags.html",
        {
            "rows": rows,
            "reviewed": reviewed,
            "older": older,
            "newest": before is not None,
            "query": _query_without_before(request),
            "before": before,
        },
    )


def flag_list(request):
    _require_officer(request.user)
    return _flags_page(request)


@require_POST
def flag_review(request, pk):
    _require_officer(request.user)
    flag = get_object_or_404(selectors.flags(request.user), pk=pk)
    form = FlagReviewForm(request.POST, prefix=str(flag.pk))
    if form.is_valid():
        try:
            services.flag_review(by=request.user, flag=flag, comment=form.cleaned_data["comment"])
        except services.AlreadyReviewed:
            messages.info(request, _("This flag had already been reviewed."))
            return redirect(reverse("audit:flags") + "?reviewed=1")
        except ValueError:
            form.add_error("comment", _("Write what you concluded."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The flag has been marked reviewed."))
            return redirect("audit:flags")
    return _flags_page(request, failed=(flag.pk, form))


# --- Export --------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id",
    "occurred_at",
    "action",
    "actor_id",
    "username",
    "actor_institution_id",
    "actor_municipality_id",
    "municipality_id",
    "object_type",
    "object_id",
    "case_number",
    "part",
    "ip_address",
    "justification",
)


class _Echo:
    """A file for csv.writer that hands each line back instead of keeping it."""

    def write(self, value):
        return value


def _cell(value) -> str:
    return defused("" if value is None else str(value))


def _export_lines(events, *, actor: Actor, detail: dict):
    """The CSV, line by line, and the record of the export with the number of rows sent.

    The record is written when the download ends, completed or broken off, so it
    counts what actually left; it runs after the view has returned, hence the
    actor named here rather than taken from the request.
    """
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    source = events.iterator(chunk_size=EXPORT_BATCH)
    sent = 0
    try:
        for batch in itertools.batched(source, EXPORT_BATCH):
            for event in selectors.label_actors(batch):
                values = {
                    **{name: getattr(event, name) for name in EXPORT_COLUMNS},
                    "id": event.pk,
                    "occurred_at": timezone.localtime(event.occurred_at).isoformat(),
                }
                yield writer.writerow([_cell(values[name]) for name in EXPORT_COLUMNS])
                sent += 1
    finally:
        source.close()
        record(
            Action.EXPORTED,
            object_type="audit.timeline",
            detail={**detail, "rows": sent},
            actor=actor,
        )


def export_csv(request):
    """The timeline's current filters as CSV, at most EXPORT_LIMIT rows, newest first."""
    _require_officer(request.user)
    form = EventFilterForm(request.GET)
    if not form.is_valid():
        return redirect(reverse("audit:timeline") + "?" + _query_without_before(request))
    filters = _filters(form)
    events = selectors.events_for_officer(request.user, filters, limit=EXPORT_LIMIT)
    response = StreamingHttpResponse(
        _export_lines(
            events,
            actor=Actor.of(request.user, client_ip(request)),
            detail=_detail(filters),
        ),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"audit-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
