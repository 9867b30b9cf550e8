"""The home page and the health check: wiring, no business rule."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


def home(request):
    return render(request, "home.html")


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")
