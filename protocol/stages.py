"""The protocol as data: which action moves a case from which stage to which, and who may.

Both kinds of case follow the same engine; they differ in who supervises (the
head of the child protection unit, or the DV coordinator; the director of
social services for both) and in the words. The supervisor's decisions (the
actions marked `supervisor_only`) are never taken by the worker in charge of
the case or by whoever submitted what is decided (access.may_approve).
Records that complete a step (an assessment, a case conference, a plan) are
written by their own services, which then ask the engine to move the case.
"""

from dataclasses import dataclass, replace

from django.utils.translation import gettext_lazy as _

from .access import Part, can_change_case, can_view_part, is_supervisor, may_approve, may_reopen
from .models import REOPEN_STAGES, Case, CaseKind, ReopenSetting, Stage

OPEN_STAGES = frozenset(Stage.values) - {Stage.CLOSED, Stage.CLOSURE_PROPOSED}


class TransitionNotAllowed(Exception):
    """The action is not possible for this user on this case now; the message says why."""


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: back to the stage before the last move
    supervisor_only: bool = False
    needs_reason: bool = False
    # Done through a form of its own (it records an assessment, a conference, ...).
    recorded_by_form: bool = False


ACTIONS = {
    action.name: action
    for action in [
        Action(
            "assess",
            _("Record the initial assessment"),
            frozenset({Stage.REGISTERED}),
            Stage.ASSESSED,
            recorded_by_form=True,
        ),
        Action(
            "hold_conference",
            _("Record the case conference"),
            frozenset({Stage.ASSESSED}),
            Stage.CONFERENCE_HELD,
            recorded_by_form=True,
        ),
        Action(
            "submit_plan",
            _("Submit the plan for approval"),
            frozenset({Stage.CONFERENCE_HELD}),
            Stage.PLAN_DRAFTED,
        ),
        Action(
            "approve_plan",
            _("Approve the plan"),
            frozenset({Stage.PLAN_DRAFTED}),
            Stage.MONITORING,
            supervisor_only=True,
        ),
        Action(
            "return_plan",
            _("Return the plan for changes"),
            frozenset({Stage.PLAN_DRAFTED}),
            Stage.CONFERENCE_HELD,
            supervisor_only=True,
            needs_reason=True,
        ),
        Action(
            "review",
            _("Record a review"),
            frozenset({Stage.MONITORING}),
            Stage.MONITORING,
            recorded_by_form=True,
        ),
        Action(
            "propose_closure",
            _("Propose closure"),
            OPEN_STAGES,
            Stage.CLOSURE_PROPOSED,
            needs_reason=True,
            recorded_by_form=True,
        ),
        Action(
            "approve_closure",
            _("Approve the closure"),
            frozenset({Stage.CLOSURE_PROPOSED}),
            Stage.CLOSED,
            supervisor_only=True,
        ),
        Action(
            "reject_closure",
            _("Refuse the closure"),
            frozenset({Stage.CLOSURE_PROPOSED}),
            None,
            supervisor_only=True,
            needs_reason=True,
        ),
        Action(
            "reopen",
            _("Reopen the case"),
            frozenset({Stage.CLOSED}),
            None,  # the stage of the municipality's ReopenSetting (reopen_stage)
            supervisor_only=True,
            needs_reason=True,
            recorded_by_form=True,
        ),
    ]
}


def refusal(user, case: Case, action_name: str) -> str | None:
    """Why `user` may not take `action_name` on `case` now, or None when they may."""
    action = ACTIONS.get(action_name)
    if action is None:
        return str(_("This action does not exist."))
    if action.name == "reopen":
        # Reopening decides on nobody's submitted work (access.may_reopen).
        return _reopen_refusal(user, case)
    if not can_change_case(user, case):
        return str(_("You cannot change this case."))
    if case.stage not in action.sources:
        return str(_("This action is not possible at the stage the case is in."))
    if action.supervisor_only and not is_supervisor(user, case):
        if case.kind == CaseKind.CHILD:
            return str(
                _(
                    "Only the head of the child protection unit or the director of social "
                    "services can do this."
                )
            )
        return str(_("Only a DV coordinator or the director of social services can do this."))
    if action.supervisor_only and not may_approve(user, case):
        return str(OWN_WORK_REFUSALS[case.stage])
    return _condition_refusal(case, action_name)


# Said to a supervisor who is the worker in charge, or who submitted what is decided.
OWN_WORK_REFUSALS = {
    Stage.PLAN_DRAFTED: _(
        "The plan must be approved by another supervisor, not by the worker in charge of the "
        "case or the person who submitted it."
    ),
    Stage.CLOSURE_PROPOSED: _(
        "The closure must be approved by another supervisor, not by the worker in charge of "
        "the case or the person who proposed it."
    ),
}


def _reopen_refusal(user, case: Case) -> str | None:
    # A closed case is changed by nobody (can_change_case), but its supervisors reopen it.
    if case.stage != Stage.CLOSED:
        return str(_("Only a closed case can be reopened."))
    if not may_reopen(user, case):
        return str(_("Only a supervisor of the case can reopen it."))
    return None


def reopen_stage(case: Case) -> str:
    """The stage `case` returns to when reopened: its municipality's setting, else the
    default row, else a new initial assessment; never a stage the case had not reached
    (a case closed before its plan was approved cannot return to monitoring)."""
    settings = {
        row.municipality_id: row.stage
        for row in ReopenSetting.objects.filter(municipality_id=case.municipality_id)
        | ReopenSetting.objects.filter(municipality__isnull=True)
    }
    wanted = settings.get(case.municipality_id) or settings.get(None) or Stage.REGISTERED
    reached = {
        Stage.REGISTERED: True,
        Stage.ASSESSED: case.assessed_at is not None,
        Stage.MONITORING: case.plan_approved_at is not None,
    }
    candidates = REOPEN_STAGES[: REOPEN_STAGES.index(wanted) + 1]
    return next(stage for stage in reversed(candidates) if reached[stage])


def _condition_refusal(case: Case, action_name: str) -> str | None:
    if action_name == "submit_plan":
        plan = getattr(case, "plan", None)
        if plan is None or not plan.actions.exists():
            return str(_("The plan needs at least one action before it is submitted."))
    return None


def available_actions(user, case: Case) -> list[Action]:
    """The actions `user` may take on `case` now, for its buttons."""
    return [action for name, action in ACTIONS.items() if refusal(user, case, name) is None]


# Steps of the plan that are not moves of the engine: the plan is written and its
# actions added between the case conference and the plan's submission, and kept up
# to date during monitoring (services.plan_save, plan_action_add).
WRITE_PLAN = Action(
    "write_plan",
    _("Draft the plan"),
    frozenset({Stage.CONFERENCE_HELD, Stage.MONITORING}),
    None,
    recorded_by_form=True,
)
EDIT_PLAN = Action(
    "edit_plan",
    _("Edit the plan's goals"),
    frozenset({Stage.CONFERENCE_HELD, Stage.MONITORING}),
    None,
    recorded_by_form=True,
)
ADD_PLAN_ACTION = Action(
    "add_plan_action",
    _("Add an action to the plan"),
    frozenset({Stage.CONFERENCE_HELD, Stage.MONITORING}),
    None,
    recorded_by_form=True,
)


def _plan_steps(user, case: Case) -> list[Action]:
    if case.stage not in WRITE_PLAN.sources or not can_change_case(user, case):
        return []
    if not can_view_part(user, case, Part.PLAN):
        return []
    if getattr(case, "plan", None) is None:
        return [WRITE_PLAN]
    return [EDIT_PLAN, ADD_PLAN_ACTION]


# Where a kind of case names a step in its own words (the DV assessment is of the risk).
KIND_LABELS = {
    (CaseKind.DV, "assess"): _("Record the risk assessment"),
}


def next_steps(user, case: Case) -> list[Action]:
    """Every step `user` may take on `case` now, in the order of the protocol: the
    engine's actions, with the writing of the plan before its submission."""
    steps = [
        replace(step, label=KIND_LABELS.get((case.kind, step.name), step.label))
        for step in available_actions(user, case)
    ]
    plan_steps = _plan_steps(user, case)
    if not plan_steps:
        return steps
    names = [step.name for step in steps]
    at = next(
        (
            names.index(name)
            for name in ("submit_plan", "review", "propose_closure")
            if name in names
        ),
        len(steps),
    )
    return steps[:at] + plan_steps + steps[at:]
