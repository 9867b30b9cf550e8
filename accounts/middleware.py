import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.functional import SimpleLazyObject

# Pages anyone may open: signing in, activating an account with its link,
# choosing a language, the health check.
PUBLIC_VIEWS = frozenset({"accounts:sign_in", "accounts:activate", "set_language", "health"})
# Pages for a user who gave a password but no second factor yet.
SECOND_FACTOR_VIEWS = PUBLIC_VIEWS | {
    "accounts:second_factor",
    "accounts:enrol",
    "accounts:sign_out",
}


class SecondFactorRequiredMiddleware:
    """No page but sign-in and enrolment without a password and a verified second factor.

    Decided here once for every URL, the Django admin included, so that a new
    view cannot forget it. Runs after django_otp's OTPMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if view_name in PUBLIC_VIEWS:
            return None
        user = request.user
        if not user.is_authenticated:
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(reverse("accounts:sign_in") + (f"?{query}" if query else ""))
        if not user.is_verified():
            if view_name in SECOND_FACTOR_VIEWS:
                return None
            return redirect("accounts:second_factor")
        if isinstance(user, SimpleLazyObject):
            # Evaluated above; the view gets the user itself. Through the lazy
            # wrapper each attribute costs an exception, and a case page reads
            # the user's attributes a few thousand times (every permission check).
            request.user = user._wrapped
        return None


class NoStoreMiddleware:
    """Nothing the application renders may be kept by a browser or proxy cache.

    Static files are answered by WhiteNoise before this middleware runs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


class LanguageMiddleware:
    """Albanian unless the user chose English with the language switch.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language:
    many office computers in Albania run an English browser, and the users
    expect the system in Albanian all the same.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.available:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Content-Language", language)
        return response


class SlidingSessionMiddleware:
    """A session ends after MBROJTJE_SESSION_IDLE_MINUTES without a request, and
    MBROJTJE_SESSION_MAX_HOURS after signing in however active it is.

    Each request pushes the idle end back, but the session row is rewritten at
    most once a minute rather than at every request (three statements a page):
    the idle limit is kept to within a minute. The absolute limit counts from
    the time the sign-in page stored; a signed-in session without it (from
    before this limit existed) ends at once. Runs after SessionMiddleware and
    before AuthenticationMiddleware, so an ended session has no user.
    """

    KEY = "_active_at"
    SIGNED_IN_KEY = "_signed_in_at"
    EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if session.get(SESSION_KEY) is not None:
            signed_in_at = session.get(self.SIGNED_IN_KEY, 0)
            if time.time() - signed_in_at >= settings.MBROJTJE_SESSION_MAX_HOURS * 3600:
                session.flush()
        response = self.get_response(request)
        if session.session_key and not session.is_empty():
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.EVERY_SECONDS:
                session[self.KEY] = now
        return response

    @classmethod
    def signed_in(cls, request) -> None:
        """Start the absolute lifetime of the session: called when the password is accepted."""
        request.session[cls.SIGNED_IN_KEY] = int(time.time())
