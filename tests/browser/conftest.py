"""Playwright driving Debian's Chromium against the live test server.

Nothing downloads a browser: `.ci/run` and `make test` install Debian's
chromium package (scripts/ensure-chromium).
"""

import os
from pathlib import Path

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

# Playwright's sync API runs an event loop in this thread; the test's own
# database work is still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class OneRequestAtATime(WSGIServer):
    """The live server answers one request at a time.

    On SQLite the test database is in memory and every thread of the live server
    shares its one connection: Chromium asking for a page and /favicon.ico at once
    made two threads use it together, and a session read failed with "bad parameter
    or other API misuse", signing the user out in the middle of a test. Requests are
    handled in the server's own thread, which already holds the test's connections;
    an unthreaded Django server closes each connection after its answer, so a
    browser's idle keep-alive never blocks the next request.
    """

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


LiveServerThread.server_class = OneRequestAtATime

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGUMENTS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This network is closed: background connections would only fail.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run scripts/ensure-chromium (as root).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGUMENTS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # An English browser: the interface is Albanian all the same.
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in_verified(page, user):
    """Sign `user` in through the pages with a code of an authenticator made for the test."""
    from accounts.models import AuthenticatorDevice
    from tests.conftest import enrolled, totp_code
    from tests.factories import PASSWORD

    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first() or enrolled(user)
    AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    page.goto("/accounts/sign-in/")
    page.get_by_label("Emri i përdoruesit").fill(user.username)
    page.get_by_label("Fjalëkalimi").fill(PASSWORD)
    page.get_by_role("button", name="Vazhdo").click()
    page.get_by_label("Kodi").fill(totp_code(device))
    page.get_by_role("button", name="Verifiko").click()
    page.wait_for_url("**/")
