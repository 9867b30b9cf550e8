"""The journal of the load test's writes, which the lost-update check compares with the
database (bench/lost_updates.py).

Every write carries a token of its own in the text it saves ("load test
lt1a2b3c-000042"), so that the check finds exactly which writes the
database holds without reading any other text.
"""

import itertools
import json
import os
import re
import secrets
from datetime import UTC, datetime

# What a write is, by the form that sends it.
NOTE = "note"  # protocol:note_add (not versioned)
PLAN_ACTION = "plan_action"  # protocol:plan_action_new (versioned: the case)
REFERRAL_ACTION = "referral_action"  # protocol:referral_detail, action form (the referral)
REFERRAL_ANSWER = "referral_answer"  # protocol:referral_detail, answer form (the referral)
KINDS = (NOTE, PLAN_ACTION, REFERRAL_ACTION, REFERRAL_ANSWER)

# How the server answered.
PENDING = "pending"  # sent, no answer yet (the run stopped during the request)
ACCEPTED = "accepted"  # redirected to the saved page
REFUSED = "refused"  # the form again, with the app's stale-version message
FAILED = "failed"  # anything else: an error of the run

TOKEN = re.compile(r"\blt[0-9a-f]{6}-\d{6}\b")


class Journal:
    def __init__(self):
        self.run = f"lt{secrets.token_hex(3)}"
        self.started_at = datetime.now(UTC)
        self.writes: list[dict] = []
        self._numbers = itertools.count(1)

    def new(self, kind: str, target: str, *, contended: bool = False) -> dict:
        """A write about to be sent, with its token; set its outcome once answered."""
        write = {
            "kind": kind,
            "target": target,
            "token": f"{self.run}-{next(self._numbers):06d}",
            "contended": contended,
            "outcome": PENDING,
        }
        self.writes.append(write)
        return write

    def count(self, *, outcome: str, contended: bool | None = None, kind: str | None = None):
        return sum(
            1
            for write in self.writes
            if write["outcome"] == outcome
            and (contended is None or write["contended"] == contended)
            and (kind is None or write["kind"] == kind)
        )

    def save(self, path: str) -> None:
        data = {"run": self.run, "started_at": self.started_at.isoformat(), "writes": self.writes}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(data, file)


def text_of(write: dict) -> str:
    """The text a write saves: invented, and nothing but its token."""
    return f"load test {write['token']}"
