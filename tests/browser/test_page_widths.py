"""Every page of every role fits a phone's screen, and a desk's, without sideways scrolling.

The pages are the allowed cells of the authorisation matrix (its rules and its world of two
municipalities, a child case and a DV case), so a new page is measured as soon as it has a
rule there. Each user signs in once: the browser takes over the session of the matrix's
signed-in test client. Folded sections are opened before measuring, so what they hide fits too.
"""

import pytest
from django.urls import reverse

from tests import test_authorisation_matrix as matrix

# The matrix's fixture, made visible here under its own name.
world = matrix.world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 390
DESK = 1280
# Files, not pages: the browser downloads them.
DOWNLOADS = {"documents:download", "reports:export", "audit:export"}

# The outermost elements wider than the screen, outside any box that scrolls them itself.
OVERFLOW = """(width) => {
  const scrolls = (element) => {
    for (let node = element.parentElement; node; node = node.parentElement) {
      if (node === document.body) return false;
      if (getComputedStyle(node).overflowX !== "visible") return true;
    }
    return false;
  };
  const describe = (element) => {
    let text = element.tagName.toLowerCase();
    if (element.id) text += "#" + element.id;
    if (typeof element.className === "string" && element.className.trim()) {
      text += "." + element.className.trim().split(/\\s+/).join(".");
    }
    const words = (element.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    const right = Math.round(element.getBoundingClientRect().right);
    return `${text} (right edge ${right} px) "${words}"`;
  };
  const wide = (element) => element && element.getBoundingClientRect().right > width + 0.5;
  const culprits = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (wide(element) && !wide(element.parentElement) && !scrolls(element)) {
      culprits.push(describe(element));
    }
  }
  return culprits.slice(0, 5);
}"""


def pages_of(user, kwargs):
    """The pages `user` may open: the GET rows of the matrix that allow them, as URLs."""
    for name, (method, allowed, filler) in sorted(matrix.RULES.items()):
        if method == "GET" and user in allowed and name not in DOWNLOADS:
            yield name, reverse(name, kwargs=kwargs[filler] if filler else None)


def too_wide(page, width):
    """None if the page fits `width`, otherwise what sticks out."""
    page.set_viewport_size({"width": width, "height": 900})
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width <= width:
        return None
    culprits = page.evaluate(OVERFLOW, width) or ["(no single element found)"]
    return f"{scroll_width} px wide; sticking out: " + "; ".join(culprits)


def test_every_page_of_every_role_fits_a_phone_and_a_desk(world, browser, live_server):
    failures = []
    measured = 0
    for user in matrix.USERS:
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", viewport={"width": PHONE, "height": 900}
        )
        if user != "anonymous":
            session = world["clients"][user].cookies["sessionid"].value
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(15_000)
        for name, url in pages_of(user, world["kwargs"]):
            page.set_viewport_size({"width": PHONE, "height": 900})
            response = page.goto(url, wait_until="domcontentloaded")
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            assert "/accounts/sign-in/" not in page.url or user == "anonymous", (name, user)
            # What folds on a phone must fit once opened.
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            for width in (PHONE, DESK):
                if problem := too_wide(page, width):
                    failures.append(f"{name} as {user} at {width} px ({page.url}): {problem}")
            measured += 1
        context.close()
    assert measured > 100, f"only {measured} pages measured"
    assert failures == [], "\n".join(failures)
