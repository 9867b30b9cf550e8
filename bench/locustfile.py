"""Virtual users of Mbrojtje for the load test (scripts/load-test runs this file).

Each virtual user signs in as a real user does (the sign-in page, the password,
then an authenticator code or a backup code), then works until the run ends:

* workers and DV coordinators open the dashboard, the case list, their cases,
  search by case number, add notes, and add actions to plans through the
  versioned form that refuses a save based on an old version of the case;
* CCR members open their inbox, referral pages and the shared parts of the
  referred cases, accept new referrals and record what their institution did
  (versioned by the referral);
* the contention test: a few virtual users save the same case's plan, and a few
  the same referral, at the same moment, each with the version it read.

Every request that is not a 2xx or 3xx, and every page that is an error page,
sends a signed-in user back to sign in or lacks what it must show, counts as an
error. A save refused with the app's stale-version message is the right answer
to a stale form, not an error; any other refusal is one. Each save carries a
token that bench/lost_updates.py looks for in the database afterwards.

Environment: LOADTEST_ACCOUNTS (the JSON of `manage.py loadtest_accounts`),
LOADTEST_WRITES (where the journal of writes goes), LOADTEST_THINK (mean
seconds between two steps of a virtual user, 1; 0 for none),
LOADTEST_CONTENDERS (virtual users saving the same case, and the same
referral, at once; 3). Run one locust process only (bench/second_factor.py).
"""

import itertools
import json
import os
import random
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import gevent
from locust import HttpUser, between, constant, events, task
from locust.exception import StopUser

from bench import pages, writes
from bench.second_factor import SecondFactors
from bench.summary import print_summary

ACCOUNTS = json.loads(Path(os.environ["LOADTEST_ACCOUNTS"]).read_text(encoding="utf-8"))
THINK = float(os.environ.get("LOADTEST_THINK", "1"))
CONTENDERS = int(os.environ.get("LOADTEST_CONTENDERS", "3"))
CONTENTION = ACCOUNTS["contention"]
# The contenders of a target start each round at the same moment, on the clock.
ROUND_SECONDS = max(1.0, 2 * THINK)
# Spread of the contenders' saves within a round: they overlap on the server.
SAVE_SPREAD_SECONDS = 0.05
# protocol.models.OPEN_REFERRAL_STATES, as the inbox's filter names them.
OPEN_REFERRAL_STATES = ("new", "accepted", "in_progress")

_by_name = {account["username"]: account for account in ACCOUNTS["accounts"]}
_workers = itertools.cycle([a for a in ACCOUNTS["accounts"] if a["role"] == "worker"])
_members = itertools.cycle([a for a in ACCOUNTS["accounts"] if a["role"] == "member"])
SECOND_FACTORS = SecondFactors(ACCOUNTS["accounts"])
JOURNAL = writes.Journal()
pick = random.Random()  # noqa: S311 - which page a virtual user opens next, not a secret


def _think():
    return between(0.5 * THINK, 1.5 * THINK) if THINK > 0 else constant(0)


class Visitor(HttpUser):
    abstract = True
    wait_time = _think()

    def choose_account(self) -> dict:
        raise NotImplementedError

    def on_start(self):
        self.account = self.choose_account()
        self.sign_in()

    # --- requests ---------------------------------------------------------------

    def page(self, path: str, name: str, *, expect: str | None = None) -> str | None:
        """GET a page as a browser does (following redirects); None when it was an error."""
        with self.client.get(path, name=name, catch_response=True) as response:
            problem = _page_problem(response)
            if problem is None and expect is not None and expect not in response.text:
                problem = "the page lacks what it must show"
            if problem:
                response.failure(problem)
                return None
            response.success()
            return response.text

    def form_page(self, path, name, *, action="", values=None, expect=None, signing_in=False):
        """A page and its POST form sent to `action`; (None, None) and an error without it."""
        with self.client.get(path, name=name, catch_response=True) as response:
            problem = _page_problem(response, signing_in=signing_in)
            form = None if problem else pages.post_form(response.text, action=action, values=values)
            if problem is None and form is None:
                problem = "the page has no such form"
            if problem is None and expect is not None and expect not in response.text:
                problem = "the page lacks what it must show"
            if problem:
                response.failure(problem)
                return None, None
            response.success()
            return response.text, form

    def save(self, path, form, data, name, write, *, follow_name=None) -> str:
        """POST a form without following the redirect; the write's outcome."""
        data = {"csrfmiddlewaretoken": form["fields"]["csrfmiddlewaretoken"], **data}
        with self.client.post(
            path, data=data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code == 302 and not _to_sign_in(location):
                write["outcome"] = writes.ACCEPTED
                response.success()
            elif response.status_code == 200 and pages.says(response.text, pages.STALE_EDIT):
                write["outcome"] = writes.REFUSED
                response.success()
            else:
                write["outcome"] = writes.FAILED
                response.failure(_save_problem(response))
        if write["outcome"] == writes.ACCEPTED and follow_name:
            self.page(location, follow_name)
        return write["outcome"]

    # --- signing in ---------------------------------------------------------------

    def sign_in(self):
        username = self.account["username"]
        _page, form = self.form_page("/accounts/sign-in/", "sign-in: page", signing_in=True)
        if form is None:
            raise StopUser
        data = {
            "csrfmiddlewaretoken": form["fields"]["csrfmiddlewaretoken"],
            "next": "",
            "username": username,
            "password": self.account["password"],
        }
        if not self._signed_in_step(
            "/accounts/sign-in/", data, "sign-in: password", "/accounts/second-factor/"
        ):
            raise StopUser
        with SECOND_FACTORS.signing_in(username):
            _page, form = self.form_page(
                "/accounts/second-factor/", "sign-in: code page", signing_in=True
            )
            if form is None:
                raise StopUser
            token, kind = SECOND_FACTORS.code(username)
            data = {"csrfmiddlewaretoken": form["fields"]["csrfmiddlewaretoken"], "token": token}
            if not self._signed_in_step(
                "/accounts/second-factor/", data, f"sign-in: {kind} code", "/"
            ):
                raise StopUser
        self.page("/", "dashboard")

    def _signed_in_step(self, path, data, name, next_path) -> bool:
        with self.client.post(
            path, data=data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            location = urlsplit(response.headers.get("Location", "")).path
            if response.status_code == 302 and location == next_path:
                response.success()
                return True
            response.failure(f"HTTP {response.status_code}, not sent on to {next_path}")
            return False

    # --- the versioned update of a case ---------------------------------------------

    def plan_action_add(self, number, *, contended, wait_before_save=0.0):
        path = f"/cases/{number}/plan/actions/new/"
        prefix = "contention: " if contended else ""
        _page, form = self.form_page(path, f"{prefix}plan action: form", expect=number)
        if form is None:
            return
        gevent.sleep(wait_before_save)
        write = JOURNAL.new(writes.PLAN_ACTION, number, contended=contended)
        data = {
            "version": form["fields"]["version"],
            "description": writes.text_of(write),
            "institution": "",
            "due_date": (date.today() + timedelta(days=30)).isoformat(),
        }
        self.save(
            path,
            form,
            data,
            f"{prefix}plan action: save",
            write,
            follow_name=None if contended else "case page",
        )


class Worker(Visitor):
    """A child-protection worker or DV coordinator working on their own cases."""

    weight = 2

    def choose_account(self):
        return next(_workers)

    def a_case(self) -> str:
        return pick.choice(self.account["cases"])

    @task(2)
    def dashboard(self):
        self.page("/", "dashboard")

    @task(2)
    def case_list(self):
        self.page(pick.choice(["/cases/", "/cases/?mine=on"]), "case list")

    @task(6)
    def case_page(self):
        number = self.a_case()
        self.page(f"/cases/{number}/", "case page", expect=number)

    @task(2)
    def search_by_number(self):
        number = self.a_case()
        self.page(f"/cases/?q={number}", "case search", expect=f'href="/cases/{number}/"')

    @task(1)
    def note_add(self):
        number = self.a_case()
        action = f"/cases/{number}/notes/"
        _page, form = self.form_page(f"/cases/{number}/", "case page", action=action)
        if form is None:
            return
        write = JOURNAL.new(writes.NOTE, number)
        data = {"text": writes.text_of(write)}
        self.save(action, form, data, "note: add", write, follow_name="case page")

    @task(1)
    def plan_action(self):
        if self.account["plan_cases"]:
            self.plan_action_add(pick.choice(self.account["plan_cases"]), contended=False)


class Member(Visitor):
    """A member of the referral mechanism working on the referrals to their institution."""

    weight = 1

    def choose_account(self):
        return next(_members)

    def on_start(self):
        # The open referrals, by state, as the inbox last showed them: members work on those.
        self.open_referrals: dict[str, list[str]] = {}
        super().on_start()
        for state in OPEN_REFERRAL_STATES:
            self.inbox_page(state)

    def a_referral(self) -> str | None:
        referrals = [pk for pks in self.open_referrals.values() for pk in pks]
        return pick.choice(referrals) if referrals else None

    def inbox_page(self, state: str) -> None:
        page = self.page(
            "/cases/referrals/" + (f"?state={state}" if state else ""), "referral inbox"
        )
        if page is not None and state:
            self.open_referrals[state] = pages.referral_ids(page)

    @task(3)
    def inbox(self):
        self.inbox_page(pick.choice(("", *OPEN_REFERRAL_STATES)))

    @task(4)
    def referral_page(self):
        if referral := self.a_referral():
            self.page(f"/cases/referrals/{referral}/", "referral page")

    @task(2)
    def shared_case(self):
        if not (referral := self.a_referral()):
            return
        page = self.page(f"/cases/referrals/{referral}/", "referral page")
        numbers = pages.case_numbers(page or "")
        if numbers:
            self.page(f"/cases/{numbers[0]}/", "case page (shared parts)", expect=numbers[0])

    @task(1)
    def answer_or_record(self):
        referral = self.a_referral()
        if referral is None or referral == (CONTENTION.get("referral") or {}).get("id"):
            return
        path = f"/cases/referrals/{referral}/"
        page = self.page(path, "referral page")
        if page is None:
            return
        answer = pages.post_form(page, values={"form": "answer"})
        action = pages.post_form(page, values={"form": "action"})
        if answer:
            write = JOURNAL.new(writes.REFERRAL_ANSWER, referral)
            data = {
                "form": "answer",
                "version": answer["fields"]["version"],
                "decision": "accept",
                "answer": writes.text_of(write),
            }
            self.save(path, answer, data, "referral: accept", write, follow_name="referral page")
        elif action:
            write = JOURNAL.new(writes.REFERRAL_ACTION, referral)
            data = {
                "form": "action",
                "version": action["fields"]["version"],
                "action_taken": writes.text_of(write),
            }
            name = "referral: record action"
            self.save(path, action, data, name, write, follow_name="referral page")


def _next_round():
    gevent.sleep(ROUND_SECONDS - time.time() % ROUND_SECONDS)


class CaseContender(Visitor):
    """Saves an action to the contended case's plan at the same moment as the others."""

    abstract = not CONTENTION.get("case")
    fixed_count = CONTENDERS
    wait_time = constant(0)

    def choose_account(self):
        return _by_name[CONTENTION["case"]["username"]]

    @task
    def save_with_the_others(self):
        _next_round()
        self.plan_action_add(
            CONTENTION["case"]["number"],
            contended=True,
            wait_before_save=pick.uniform(0, SAVE_SPREAD_SECONDS),
        )


class ReferralContender(Visitor):
    """Records an action on the contended referral at the same moment as the others."""

    abstract = not CONTENTION.get("referral")
    fixed_count = CONTENDERS
    wait_time = constant(0)

    def choose_account(self):
        return _by_name[CONTENTION["referral"]["username"]]

    @task
    def save_with_the_others(self):
        _next_round()
        referral = CONTENTION["referral"]["id"]
        path = f"/cases/referrals/{referral}/"
        _page, form = self.form_page(path, "contention: referral page", values={"form": "action"})
        if form is None:
            return
        gevent.sleep(pick.uniform(0, SAVE_SPREAD_SECONDS))
        write = JOURNAL.new(writes.REFERRAL_ACTION, referral, contended=True)
        data = {
            "form": "action",
            "version": form["fields"]["version"],
            "action_taken": writes.text_of(write),
        }
        self.save(path, form, data, "contention: referral action save", write)


def _to_sign_in(location: str) -> bool:
    return urlsplit(location).path.startswith(pages.SIGN_IN_PATHS)


def _page_problem(response, *, signing_in=False) -> str | None:
    if not 200 <= response.status_code < 400:
        return f"HTTP {response.status_code}"
    if not signing_in and _to_sign_in(response.url or ""):
        return "sent back to sign in"
    if title := pages.error_title(response.text):
        return f"error page: {title}"
    return None


def _save_problem(response) -> str:
    if response.status_code == 200:
        if title := pages.error_title(response.text):
            return f"error page: {title}"
        return "the form came back without the stale-version message"
    if response.status_code == 302:
        return "sent back to sign in"
    return f"HTTP {response.status_code}"


@events.quitting.add_listener
def _at_the_end(environment, **kwargs):
    if path := os.environ.get("LOADTEST_WRITES"):
        JOURNAL.save(path)
    users = environment.parsed_options.num_users if environment.parsed_options else 0
    print_summary(environment.stats, JOURNAL, users=users, think=THINK)
    if environment.stats.total.num_failures:
        environment.process_exit_code = 1
