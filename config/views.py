"""The home page and the health check: wiring, no business rule."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.roles import CASE_ROLES
from protocol.selectors import dashboard_for


def home(request):
    user = request.user
    dashboard = dashboard_for(user) if user.roles & CASE_ROLES else None
    return render(request, "home.html", {"dashboard": dashboard})


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")
