"""Changes to one's own sign-in need the password typed within the last few minutes.

A session left open on an office computer, or a stolen session cookie, must not
be enough to make new backup codes, enrol another authenticator or set a new
password. The time of the last password check is kept in the session; the
sign-in page, the confirmation page and the password-change page (which asks
for the current password) set it.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

CHECKED_AT_KEY = "_password_checked_at"
# The first enrolment follows the password, but installing an authenticator app
# on a phone may take longer than the few minutes of a recent password.
ENROLMENT_MINUTES = 30


def password_checked(request) -> None:
    request.session[CHECKED_AT_KEY] = int(time.time())


def password_recent(request, *, minutes: int | None = None) -> bool:
    """The password was checked within `minutes` (MBROJTJE_RECENT_AUTH_MINUTES by default)."""
    minutes = settings.MBROJTJE_RECENT_AUTH_MINUTES if minutes is None else minutes
    return time.time() - request.session.get(CHECKED_AT_KEY, 0) < minutes * 60


def recent_password_required(*, come_back_to: str):
    """Send a user whose password is not recent to the confirmation page first.

    Afterwards they come back to `come_back_to` (a URL name): a form that was
    posted is shown again rather than posted again behind their back.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if password_recent(request):
                return view(request, *args, **kwargs)
            query = urlencode({"next": reverse(come_back_to)})
            return redirect(f"{reverse('accounts:password_confirm')}?{query}")

        return wrapper

    return decorator
