"""The home page and the health check: wiring, no business rule."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from protocol.auditing import cases_listed

from .homes import home_for


def home(request):
    """Each role's part of the first screen (config.homes); every case number it shows is
    recorded as a list read."""
    home = home_for(request.user)
    numbers = home.case_numbers()
    if numbers:
        cases_listed(request, numbers=numbers)
    return render(request, "home.html", {"home": home, "parts": home.parts})


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")
