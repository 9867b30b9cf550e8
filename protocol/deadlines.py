"""Deadlines of the protocol, computed from what happened on a case and its risk level.

How long each step may take is data (DeadlineSetting): a default row per key,
and optionally a municipality's own. Nothing here holds a number of days.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from .models import DUE_LABELS, Case, CaseKind, DeadlineSetting, RiskLevel, Stage

Key = DeadlineSetting.Key


class MissingDeadlineSetting(LookupError):
    pass


# Every setting, read once for a bulk computation (see settings_read_once).
_all_settings: ContextVar[dict[str, dict[int | None, int]] | None] = ContextVar(
    "deadline_settings", default=None
)


def _table(settings) -> dict[str, dict[int | None, int]]:
    """key -> {municipality id, or None for the default: value} of the settings given."""
    table: dict[str, dict[int | None, int]] = {}
    for key, municipality_id, value in settings.values_list("key", "municipality_id", "value"):
        table.setdefault(key, {})[municipality_id] = value
    return table


@contextmanager
def settings_read_once() -> Iterator[None]:
    """Within the block, deadlines use the settings as they were when it began: for
    computing the deadlines of many cases at once without a query for each."""
    token = _all_settings.set(_table(DeadlineSetting.objects.all()))
    try:
        yield
    finally:
        _all_settings.reset(token)


def _settings_of(municipality_id: int) -> dict[str, int]:
    """Every deadline setting for the municipality: its own value, else the default."""
    table = _all_settings.get()
    if table is None:
        table = _table(
            DeadlineSetting.objects.filter(
                Q(municipality_id=municipality_id) | Q(municipality__isnull=True)
            )
        )
    values = {}
    for key, by_owner in table.items():
        if municipality_id in by_owner:
            values[key] = by_owner[municipality_id]
        elif None in by_owner:
            values[key] = by_owner[None]
    return values


def setting_value(municipality_id: int, key: str) -> int:
    """The municipality's own value of `key`, else the default."""
    return _value(_settings_of(municipality_id), key)


def _value(settings: dict[str, int], key: str) -> int:
    if key in settings:
        return settings[key]
    raise MissingDeadlineSetting(f"No deadline setting {key!r}: run the migrations.")


@dataclass(frozen=True)
class Deadline:
    key: str
    due_at: datetime
    done_at: datetime | None

    @property
    def label(self):
        return DUE_LABELS[self.key]

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()

    @property
    def was_late(self) -> bool:
        return self.done_at is not None and self.done_at > self.due_at


def _start(case: Case, since: datetime, done_at: datetime | None) -> datetime:
    """When the clock of a step starts: at `since` (the report, the step before), or at
    the case's reopening if that came later and the step was not done before it.

    A reopened case takes its steps again, and their deadlines count from the
    reopening, not from the original report; a step done before the reopening
    (when the case returned to a later stage) keeps its old deadline.
    """
    reopened_at = case.reopened_at
    if reopened_at is None or reopened_at <= since:
        return since
    if done_at is not None and done_at < reopened_at:
        return since
    return reopened_at


def _assessment_deadline(case: Case, settings: dict[str, int]) -> Deadline:
    if case.kind == CaseKind.DV:
        key, name = Key.DV_RISK_ASSESSMENT_HOURS, "risk_assessment"
    elif case.reported_risk_level == RiskLevel.HIGH:
        key, name = Key.ASSESSMENT_HIGH_RISK_HOURS, "assessment"
    else:
        key, name = Key.ASSESSMENT_OTHER_HOURS, "assessment"
    hours = _value(settings, key)
    start = _start(case, case.reported_at, case.assessed_at)
    return Deadline(name, start + timedelta(hours=hours), case.assessed_at)


def case_deadlines(case: Case) -> list[Deadline]:
    """Every deadline the case has met or now faces, in the order of the protocol."""
    settings = _settings_of(case.municipality_id)
    deadlines = [_assessment_deadline(case, settings)]
    if case.assessed_at:
        days = _value(settings, Key.CONFERENCE_DAYS)
        start = _start(case, case.assessed_at, case.conference_at)
        deadlines.append(Deadline("conference", start + timedelta(days=days), case.conference_at))
    if case.conference_at:
        days = _value(settings, Key.PLAN_DAYS)
        start = _start(case, case.conference_at, case.plan_approved_at)
        deadlines.append(Deadline("plan", start + timedelta(days=days), case.plan_approved_at))
    if case.plan_approved_at and case.stage in (Stage.MONITORING, Stage.CLOSURE_PROPOSED):
        days = _value(settings, Key.REVIEW_DAYS)
        since = _start(case, case.last_review_at or case.plan_approved_at, None)
        deadlines.append(Deadline("review", since + timedelta(days=days), None))
    return deadlines


def next_deadline(case: Case) -> Deadline | None:
    """What is due next on an open case; None once it is closed or awaiting closure."""
    if case.stage in (Stage.CLOSED, Stage.CLOSURE_PROPOSED):
        return None
    pending = [deadline for deadline in case_deadlines(case) if deadline.done_at is None]
    return min(pending, key=lambda deadline: deadline.due_at) if pending else None


def refresh_next_due(case: Case) -> None:
    """Keep `next_due_at` / `next_due` on the case in step with its deadlines (not saved)."""
    deadline = next_deadline(case)
    case.next_due_at = deadline.due_at if deadline else None
    case.next_due = deadline.key if deadline else ""
