"""Reads of the audit trail for the gender-equality officer and for a case's own workers.

The trail grows to tens of millions of rows, so every list is read newest
first through one of the (column, occurred_at) indexes and paged by keyset
(`before=<id>`): a page costs the same on the first day and the tenth year,
and nothing counts the whole table.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from accounts.roles import Role

from .models import READ_ACTIONS, Action, AuditEvent, Checkpoint, Flag

NEWEST_FIRST = ("-occurred_at", "-id")
CHANGE_ACTIONS = frozenset({Action.CREATED, Action.CHANGED, Action.DELETED})


def is_officer(user) -> bool:
    """A gender-equality officer of a municipality: the only reader of these screens."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.municipality_id
        and user.has_role(Role.GENDER_EQUALITY_OFFICER)
    )


@dataclass(frozen=True)
class EventFilters:
    username: str = ""
    actor_id: int | None = None
    institution_id: int | None = None
    case_number: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    # The keyset: only events older than this one (newest first).
    before: int | None = None


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _older_than(queryset: QuerySet, before: int, field: str) -> QuerySet:
    """The rows after row `before` in (field, id) descending order; none if it does not exist."""
    moment = queryset.model.objects.filter(pk=before).values_list(field, flat=True).first()
    if moment is None:
        return queryset.none()
    # The plain `<=` lets the database walk the (…, field) index from that moment down.
    return queryset.filter(**{f"{field}__lte": moment}).filter(
        Q(**{f"{field}__lt": moment}) | Q(pk__lt=before)
    )


def _filtered(events: QuerySet, filters: EventFilters) -> QuerySet:
    if filters.username:
        ids = list(
            get_user_model()
            .objects.filter(username__iexact=filters.username)
            .values_list("pk", flat=True)
        )
        events = events.filter(actor_id__in=ids)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.institution_id is not None:
        events = events.filter(actor_institution_id=filters.institution_id)
    if filters.case_number:
        events = events.filter(case_number=filters.case_number)
    if filters.action:
        events = events.filter(action=filters.action)
    # Dates are days in Albania, both ends included.
    if filters.date_from:
        events = events.filter(occurred_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        events = events.filter(occurred_at__lt=_local_midnight(filters.date_to + timedelta(days=1)))
    if filters.before is not None:
        events = _older_than(events, filters.before, "occurred_at")
    return events


def events_visible_to(officer) -> QuerySet[AuditEvent]:
    """The officer's events as one queryset to filter further: those concerning the
    officer's municipality and those by its staff (none for anyone else).

    For reads already narrowed by an index of their own (one case, one user);
    a newest-first list goes through `events_for_officer`.
    """
    if not is_officer(officer):
        return AuditEvent.objects.none()
    municipality = officer.municipality_id
    return AuditEvent.objects.filter(
        Q(municipality_id=municipality) | Q(actor_municipality_id=municipality)
    )


def events_for_officer(officer, filters: EventFilters, *, limit: int | None = None):
    """The officer's events matching `filters`, newest first, at most `limit` of them (a
    page, an export: pass it); none for anyone else.

    Built as two halves joined by UNION ALL, the events concerning the officer's
    municipality and those of its staff elsewhere, each read newest first through
    its own index, (municipality_id, occurred_at) or (actor_municipality_id,
    occurred_at), and stopped at `limit`; PostgreSQL merges the two. One OR over
    both columns would sort every event of the municipality for each page. The
    result can be sliced and iterated, not filtered further.
    """
    if not is_officer(officer):
        return AuditEvent.objects.none()
    municipality = officer.municipality_id
    events = _filtered(AuditEvent.objects.all(), filters)
    concerning = events.filter(municipality_id=municipality)
    # Events of the officer's staff about another municipality (or none): not twice.
    by_staff = events.filter(actor_municipality_id=municipality).exclude(
        municipality_id=municipality
    )
    if limit is not None and connection.features.supports_slicing_ordering_in_compound:
        # SQLite (the demo) cannot limit the halves, and needs not.
        concerning = concerning.order_by(*NEWEST_FIRST)[:limit]
        by_staff = by_staff.order_by(*NEWEST_FIRST)[:limit]
    both = concerning.union(by_staff, all=True).order_by(*NEWEST_FIRST)
    return both if limit is None else both[:limit]


def label_actors(events) -> list[AuditEvent]:
    """Give each event of a page its `username` and `institution_name`, in one query each."""
    events = list(events)
    usernames = dict(
        get_user_model()
        .objects.filter(pk__in={event.actor_id for event in events if event.actor_id})
        .values_list("pk", "username")
    )
    institutions = dict(
        Institution.objects.filter(
            pk__in={event.actor_institution_id for event in events if event.actor_institution_id}
        ).values_list("pk", "name")
    )
    for event in events:
        event.username = usernames.get(event.actor_id, "")
        event.institution_name = institutions.get(event.actor_institution_id, "")
    return events


@dataclass(frozen=True)
class Viewer:
    user_id: int
    username: str
    full_name: str
    institution: str
    last_at: datetime
    times: int


def case_viewers(case_number: str, *, events: QuerySet[AuditEvent] | None = None) -> list[Viewer]:
    """Who has read or changed the case: each user once, with the last time and how often,
    the most recent first. `events` limits it (to an officer's, say); the caller decides
    whether the user may see it."""
    events = AuditEvent.objects.all() if events is None else events
    rows = (
        events.filter(
            case_number=case_number,
            action__in=READ_ACTIONS | CHANGE_ACTIONS,
            actor_id__isnull=False,
        )
        .values("actor_id")
        .annotate(last_at=Max("occurred_at"), times=Count("id"))
        .order_by("-last_at")
    )
    rows = list(rows)
    users = (
        get_user_model()
        .objects.filter(pk__in=[row["actor_id"] for row in rows])
        .select_related("institution")
        .in_bulk()
    )
    viewers = []
    for row in rows:
        user = users.get(row["actor_id"])
        viewers.append(
            Viewer(
                user_id=row["actor_id"],
                username=user.username if user else "",
                full_name=user.get_full_name() if user else "",
                institution=str(user.institution) if user and user.institution else "",
                last_at=row["last_at"],
                times=row["times"],
            )
        )
    return viewers


def flags(officer, *, reviewed: bool | None = None, before: int | None = None) -> QuerySet[Flag]:
    """The flags raised in the officer's municipality (the one the event concerns), newest
    first; open or reviewed ones only when `reviewed` says so. None for anyone else.

    A user reading another municipality's case is flagged to that municipality's
    officer, who can act on it; the staff's own officer still sees the event itself.
    """
    if not is_officer(officer):
        return Flag.objects.none()
    found = Flag.objects.filter(municipality_id=officer.municipality_id)
    if reviewed is not None:
        found = found.filter(review__isnull=not reviewed)
    if before is not None:
        found = _older_than(found, before, "raised_at")
    return found.select_related("event", "review", "review__written_comment").order_by(
        "-raised_at", "-id"
    )


def label_flags(page) -> list[Flag]:
    """Label the events of a page of flags (see `label_actors`) and give each review its
    `reviewer_username`, in one query more."""
    page = list(page)
    label_actors([flag.event for flag in page])
    _label_account_acts([flag.event for flag in page])
    reviews = [review for flag in page if (review := getattr(flag, "review", None))]
    usernames = dict(
        get_user_model()
        .objects.filter(pk__in={review.reviewer_id for review in reviews})
        .values_list("pk", "username")
    )
    for review in reviews:
        review.reviewer_username = usernames.get(review.reviewer_id, "")
    return page


# What an administrative act on an account was (`what` in its detail), as the officer reads it.
ACCOUNT_ACTS = {
    "created": _("account created"),
    "updated": _("account changed"),
    "requests_approved": _("requested roles or address approved"),
    "requests_refused": _("requested roles or address refused"),
    "activation_link_sent": _("activation link sent"),
    "activated_with_link": _("password chosen with an activation link"),
    "credentials_reset": _("password and second factor reset"),
    "activated": _("account reactivated"),
    "deactivated": _("account deactivated"),
    "unlocked": _("sign-in delays lifted"),
    "password_changed": _("password changed by its holder"),
    "backup_codes_replaced": _("new backup codes"),
}
ADDRESS_CHANGES = {
    "requested": _("change requested"),
    "changed": _("changed"),
    "refused": _("change refused"),
}


def _label_account_acts(events) -> None:
    """Give each event about an account its `account_username`, `account_act`, `role_labels`
    (the roles granted, requested or approved), `waiting_labels` and `address_change`:
    identifiers and role names only, in one query."""
    about_accounts = [event for event in events if event.object_type == "accounts.user"]
    usernames = dict(
        get_user_model()
        .objects.filter(pk__in={int(e.object_id) for e in about_accounts if e.object_id.isdigit()})
        .values_list("pk", "username")
    )
    roles = dict(Role.choices)
    for event in about_accounts:
        detail = json.loads(event.detail) if event.detail else {}
        event.account_username = usernames.get(int(event.object_id or 0), "")
        event.account_act = ACCOUNT_ACTS.get(detail.get("what"), detail.get("what", ""))
        event.role_labels = [str(roles.get(role, role)) for role in detail.get("roles", [])]
        event.waiting_labels = [str(roles.get(role, role)) for role in detail.get("waiting", [])]
        event.address_change = ADDRESS_CHANGES.get(detail.get("email"), "")


def open_flags(officer) -> QuerySet[Flag]:
    return flags(officer, reviewed=False)


def last_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-number").first()
