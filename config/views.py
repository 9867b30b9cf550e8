"""The home page and the health check: wiring, no business rule."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.roles import CASE_ROLES
from dv_cases.selectors import orders_expiring_soon
from protocol.auditing import cases_listed
from protocol.selectors import dashboard_for


def home(request):
    user = request.user
    has_cases = bool(user.roles & CASE_ROLES)
    dashboard = dashboard_for(user) if has_cases else None
    expiring_orders = orders_expiring_soon(user) if has_cases else []
    if has_cases:
        cases_listed(
            request,
            [*dashboard.due_this_week, *dashboard.overdue, *dashboard.recently_changed],
            numbers=[order.case.number for order in expiring_orders],
        )
    return render(
        request,
        "home.html",
        {"dashboard": dashboard, "expiring_orders": expiring_orders},
    )


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")
