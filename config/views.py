"""The home page and the health check: wiring, no business rule."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.roles import CASE_ROLES
from dv_cases.selectors import orders_expiring_soon
from protocol.selectors import dashboard_for


def home(request):
    user = request.user
    has_cases = bool(user.roles & CASE_ROLES)
    return render(
        request,
        "home.html",
        {
            "dashboard": dashboard_for(user) if has_cases else None,
            "expiring_orders": orders_expiring_soon(user) if has_cases else [],
        },
    )


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")
