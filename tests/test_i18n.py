import gettext
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import signed_in_client
from tests.test_authorisation_matrix import RULES, world  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "sq" / "LC_MESSAGES" / "django.po"


def catalogue_entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr values, flags."""
    entries, entry, key = [], None, None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": "", "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] += line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            target = entry["msgstr"] if isinstance(key, int) else entry
            target[key] += _unquote(line)
        else:
            word, _, rest = line.partition(" ")
            if word.startswith("msgstr["):
                key = int(word[7:-1])
                entry["msgstr"][key] = _unquote(rest)
            elif word == "msgstr":
                key = 0
                entry["msgstr"][0] = _unquote(rest)
            else:
                key = word
                entry[key] = _unquote(rest)
    return [entry for entry in entries if entry["msgid"]]


def _unquote(text: str) -> str:
    return text[1:-1].encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def test_every_string_has_an_albanian_translation():
    entries = catalogue_entries(CATALOGUE)
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_matches_the_source():
    with open(CATALOGUE.with_suffix(".mo"), "rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    for entry in catalogue_entries(CATALOGUE):
        if "msgctxt" in entry:
            assert translations.pgettext(entry["msgctxt"], entry["msgid"]) == entry["msgstr"][0]
        elif "msgid_plural" in entry:
            assert (
                translations.ngettext(entry["msgid"], entry["msgid_plural"], 1)
                == entry["msgstr"][0]
            )
        else:
            assert translations.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_catalogue_holds_every_string_of_the_code(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", "var", ".git", "node_modules", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "sq", "--no-obsolete"],
        cwd=copy,
        env={"DJANGO_DEBUG": "1", "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    extracted = {e["msgid"] for e in catalogue_entries(copy / CATALOGUE.relative_to(ROOT))}
    committed = {e["msgid"] for e in catalogue_entries(CATALOGUE)}
    assert extracted - committed == set(), "run `make messages` and translate the new strings"


@pytest.mark.django_db
def test_an_english_browser_still_gets_albanian(client):
    response = client.get("/accounts/sign-in/", headers={"accept-language": "en-US,en;q=0.9"})
    assert '<html lang="sq">' in response.content.decode()
    assert response["Content-Language"] == "sq"


@pytest.mark.django_db
def test_language_switch_turns_the_interface_english(client):
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/accounts/sign-in/"}, follow=True
    )
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Password" in page
    assert "Fjalëkalimi" not in page


@pytest.mark.parametrize(
    ("language", "text"), [("sq", "Faqja nuk u gjet"), ("en", "Page not found")]
)
def test_not_found_page_in_both_languages(worker, language, text):
    client = signed_in_client(worker)
    client.cookies["django_language"] = language
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert text in response.content.decode()


@pytest.mark.parametrize(
    ("language", "text"), [("sq", "Diçka shkoi keq"), ("en", "Something went wrong")]
)
def test_server_error_page_in_both_languages(rf, language, text):
    from django.utils import translation
    from django.views.defaults import server_error

    with translation.override(language):
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert text in response.content.decode()


def test_catalogue_says_albanian_has_two_plural_forms():
    header = CATALOGUE.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in header


@pytest.mark.parametrize(
    ("singular", "plural", "one", "two"),
    [
        ("%(count)d second", "%(count)d seconds", "1 sekondë", "2 sekonda"),
        ("%(count)d minute", "%(count)d minutes", "1 minutë", "2 minuta"),
        ("%(counter)s case", "%(counter)s cases", "1 rast", "2 raste"),
        (
            "A referral gives access for at most %(days)d day; for longer, make a new referral.",
            "A referral gives access for at most %(days)d days; for longer, make a new referral.",
            "1 ditë",
            "2 ditë",
        ),
        (
            "Choose a range of at most %(years)s year.",
            "Choose a range of at most %(years)s years.",
            "1 vit.",
            "2 vjet.",
        ),
    ],
)
def test_albanian_plurals_are_right_for_one_and_two(singular, plural, one, two):
    from django.utils import translation

    with translation.override("sq"):
        for count, expected in ((1, one), (2, two)):
            text = translation.ngettext(singular, plural, count) % {
                "count": count,
                "counter": count,
                "days": count,
                "years": count,
            }
            assert expected in text


def test_a_wait_of_one_second_is_one_sekondë():
    from django.utils import translation

    from accounts.services import TooManyAttempts

    with translation.override("sq"):
        assert "Prisni 1 sekondë dhe" in str(TooManyAttempts(1))
        assert "Prisni 2 sekonda dhe" in str(TooManyAttempts(2))


def test_strings_of_django_and_its_packages_are_translated():
    """Django 6.1's blank choice and the strings its Albanian catalogue, django-otp's and
    simple-history's lack (config/vendor_strings.py) come from our catalogue."""
    from django.db.models.fields import BLANK_CHOICE_LABEL
    from django.utils import translation

    from config import vendor_strings

    source = (ROOT / "config" / "vendor_strings.py").read_text(encoding="utf-8")
    plurals = [
        (e["msgid"], e["msgid_plural"])
        for e in catalogue_entries(CATALOGUE)
        if "msgid_plural" in e and f'"{e["msgid"]}"' in source and e["msgid_plural"] in source
    ]
    assert len(plurals) == len(vendor_strings.PLURAL)
    with translation.override("sq"):
        assert str(BLANK_CHOICE_LABEL) == "- Zgjidhni një mundësi -"
        untranslated = [s for s in vendor_strings.SINGULAR if translation.gettext(s) == s]
        untranslated += [
            singular
            for singular, plural in plurals
            for count, english in ((1, singular), (2, plural))
            if translation.ngettext(singular, plural, count) == english
        ]
    assert untranslated == []


@pytest.mark.django_db
def test_the_blank_choice_of_a_form_is_albanian(worker):
    page = signed_in_client(worker).get("/cases/child/new/").content.decode()
    assert "- Zgjidhni një mundësi -" in page
    assert "Select an option" not in page


class _ReadText(HTMLParser):
    """The text a person reads, in Albanian: text nodes and the attributes that are
    spoken, but not what is marked as another language (the name "English" in the
    language switch)."""

    SPOKEN = ("placeholder", "title", "aria-label", "alt")

    def __init__(self):
        super().__init__()
        self.texts, self._skipped = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style") or attributes.get("lang", "sq") != "sq":
            self._skipped.append(tag)
        if not self._skipped:
            self.texts += [attributes[name] for name in self.SPOKEN if attributes.get(name)]

    def handle_endtag(self, tag):
        if self._skipped and self._skipped[-1] == tag:
            self._skipped.pop()

    def handle_data(self, data):
        if not self._skipped and data.strip():
            self.texts.append(data.strip())


def test_no_page_of_any_role_shows_english(world):  # noqa: F811 - the fixture
    """Every page each user may open, in Albanian: no text is an English source string
    (of the catalogue, or Django's own that a form shows)."""
    from django.urls import reverse

    english = {
        e["msgid"]
        for e in catalogue_entries(CATALOGUE)
        if "msgid_plural" not in e and e["msgstr"][0] != e["msgid"] and "%" not in e["msgid"]
    } | {"- Select an option -", "---------", "This field is required."}
    found = set()
    for name, (method, allowed, filler) in sorted(RULES.items()):
        if method != "GET":
            continue
        url = reverse(name, kwargs=world["kwargs"][filler] if filler else None)
        for user in sorted(allowed):
            response = world["clients"][user].get(url)
            if response.streaming or "html" not in response.get("Content-Type", ""):
                continue
            reader = _ReadText()
            reader.feed(response.content.decode())
            found |= {f"{name} ({user}): {text}" for text in reader.texts if text in english}
    assert sorted(found) == []
