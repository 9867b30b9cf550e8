"""What the load test reads in Mbrojtje's pages: forms, links, titles, the app's messages.

Messages are looked up in the Albanian catalogue, the language the virtual
users get, from their English source text; so the checks follow the
templates and the translations without copying their words.
"""

import gettext
import html
import re
from html.parser import HTMLParser
from pathlib import Path

_CATALOGUE = gettext.translation(
    "django",
    localedir=Path(__file__).resolve().parent.parent / "locale",
    languages=["sq"],
    fallback=True,
)


def translated(text: str) -> str:
    return _CATALOGUE.gettext(text)


# protocol.services.StaleEdit: the app's refusal of a save based on an old version.
STALE_EDIT = translated(
    "Someone else changed this case while you were working on it. Nothing was "
    "saved: reload the page to see their changes, then try again."
)
# The titles of templates/404.html, 403.html, 403_csrf.html and 500.html.
ERROR_TITLES = frozenset(
    translated(title)
    for title in (
        "Page not found",
        "Access denied",
        "The form has expired",
        "Something went wrong",
    )
)
# Where a session that lost its sign-in is sent.
SIGN_IN_PATHS = ("/accounts/sign-in/", "/accounts/second-factor/", "/accounts/me/password/")

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_CASE_LINK = re.compile(r'href="/cases/([A-Z]{2,3}-\d{4}-\d+)/"')
_REFERRAL_LINK = re.compile(r'href="/cases/referrals/([0-9a-f-]{36})/"')


def title(page: str) -> str:
    match = _TITLE.search(page)
    return html.unescape(match.group(1)).strip() if match else ""


def error_title(page: str) -> str | None:
    """The error page's title if `page` is one of the app's error pages."""
    shown = title(page).removesuffix("· Mbrojtje").strip()
    return shown if shown in ERROR_TITLES else None


def says(page: str, message: str) -> bool:
    return message in html.unescape(page)


def case_numbers(page: str) -> list[str]:
    return list(dict.fromkeys(_CASE_LINK.findall(page)))


def referral_ids(page: str) -> list[str]:
    return list(dict.fromkeys(_REFERRAL_LINK.findall(page)))


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._current = {
                "action": attributes.get("action") or "",
                "method": (attributes.get("method") or "get").lower(),
                "fields": {},
            }
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            name = attributes.get("name")
            if name and attributes.get("type", "text") in ("hidden", "text", "date"):
                self._current["fields"][name] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms(page: str) -> list[dict]:
    """The page's forms: action, method and the values of their hidden and text inputs."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def post_form(page: str, *, action: str = "", values: dict | None = None) -> dict | None:
    """The first POST form of `page` sent to `action` ("" for the page itself) whose inputs
    have `values` (e.g. {"form": "answer"} for the referral page's answer form)."""
    for form in forms(page):
        if form["method"] != "post" or form["action"] != action:
            continue
        if all(form["fields"].get(name) == value for name, value in (values or {}).items()):
            return form
    return None
