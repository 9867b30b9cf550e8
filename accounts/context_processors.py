from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .notifications import unread_count
from .roles import CASE_ROLES, Role
from .selectors import may_approve_requests

# Who reads the figures of reports/ (which decides, per page, what each of them sees).
REPORT_ROLES = frozenset(
    {
        Role.HEAD_OF_CPU,
        Role.DV_COORDINATOR,
        Role.HEAD_OF_SOCIAL_SERVICES,
        Role.GENDER_EQUALITY_OFFICER,
        Role.NATIONAL_STATISTICIAN,
    }
)


def navigation(request):
    """The navigation of the base layout, by role; empty until the second factor is verified.

    Worked out once per request: a page that renders parts of itself separately
    (the case page's sections) runs the context processors for each part."""
    cached = getattr(request, "_mbrojtje_navigation", None)
    if cached is None:
        cached = request._mbrojtje_navigation = _navigation(request)
    return cached


def _navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"navigation": []}
    items = [(_("Home"), reverse("home"))]
    if user.roles & CASE_ROLES:
        items.append((_("Cases"), reverse("protocol:case_list")))
    if Role.CCR_MEMBER in user.roles:
        items.append((_("Referrals"), reverse("protocol:referral_inbox")))
    if Role.GENDER_EQUALITY_OFFICER in user.roles and user.municipality_id:
        items.append((_("Emergency accesses"), reverse("protocol:emergency_review_list")))
        items.append((_("Audit trail"), reverse("audit:timeline")))
    if user.roles & CASE_ROLES:
        items.append((_("Meetings"), reverse("meetings:list")))
    if user.roles & REPORT_ROLES:
        items.append((_("Reports"), reverse("reports:dashboard")))
    if user.has_perm("accounts.manage_accounts") and user.municipality_id:
        items.append((_("Accounts"), reverse("accounts:manage_list")))
    if may_approve_requests(user):
        items.append((_("Awaiting approval"), reverse("accounts:manage_approvals")))
    items.append((_("My account"), reverse("accounts:profile")))
    # The item whose address is the longest start of this page's is the current one.
    matching = [
        url
        for _label, url in items
        if request.path == url or (url != "/" and request.path.startswith(url))
    ]
    current = max(matching, key=len, default=None)
    return {
        "navigation": [
            {"label": label, "url": url, "current": url == current} for label, url in items
        ],
        "unread_notifications": unread_count(user),
    }
