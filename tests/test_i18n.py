import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import signed_in_client

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
