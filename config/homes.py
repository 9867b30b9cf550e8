"""Which parts of the home page a user gets, one per role they hold, and the data of each.

Wiring only: every part's data comes from its app's selectors, which already
limit it to what the user may see. A user holding several compatible roles
(a head of unit who also takes cases) gets each of their parts, the decisions
waiting for them first.
"""

from dataclasses import dataclass, field

from accounts.notifications import notifications_for
from accounts.roles import Role
from accounts.selectors import accounts_awaiting_action
from dv_cases.selectors import orders_expiring_soon
from protocol.selectors import dashboard_for, member_home, supervised_kinds, supervisor_queue
from reports.selectors import headline_figures, report_scope

# Unread notifications shown at the top of every home.
NOTIFICATIONS_SHOWN = 5

# The order of the parts on the page.
PARTS = ("supervisor", "worker", "member", "officer", "statistician", "administrator")


@dataclass
class Home:
    notifications: list = field(default_factory=list)
    parts: dict = field(default_factory=dict)  # part name -> its data

    def case_numbers(self) -> set[str]:
        """Every case number the page shows, for the audit record of the list read."""
        numbers = {n.case_number for n in self.notifications if n.case_number}
        supervisor = self.parts.get("supervisor")
        if supervisor:
            numbers |= supervisor.case_numbers()
        worker = self.parts.get("worker")
        if worker:
            dashboard = worker["dashboard"]
            numbers |= {
                case.number
                for case in (
                    *dashboard.due_this_week,
                    *dashboard.overdue,
                    *dashboard.recently_changed,
                )
            }
            numbers |= {order.case.number for order in worker["expiring_orders"]}
        member = self.parts.get("member")
        if member:
            numbers |= member.case_numbers()
        return numbers


def _works_on_cases(user) -> bool:
    return user.has_perm("protocol.register_child_case") or user.has_perm(
        "protocol.register_dv_case"
    )


def home_for(user) -> Home:
    """The parts of the home of `user`, in the order of PARTS."""
    home = Home(
        notifications=list(
            notifications_for(user).filter(read_at__isnull=True)[:NOTIFICATIONS_SHOWN]
        )
    )
    if supervised_kinds(user):
        home.parts["supervisor"] = supervisor_queue(user)
    if _works_on_cases(user):
        home.parts["worker"] = {
            "dashboard": dashboard_for(user),
            "expiring_orders": orders_expiring_soon(user),
        }
    if user.has_role(Role.CCR_MEMBER) and user.institution_id:
        home.parts["member"] = member_home(user)
    if user.has_role(Role.GENDER_EQUALITY_OFFICER):
        home.parts["officer"] = True
    if user.has_role(Role.NATIONAL_STATISTICIAN):
        home.parts["statistician"] = headline_figures(report_scope(user))
    if user.has_perm("accounts.manage_accounts"):
        home.parts["administrator"] = accounts_awaiting_action(user)
    return home
