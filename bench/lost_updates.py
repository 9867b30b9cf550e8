"""After a load test: is every accepted save in the database, and no refused one?

Reads the journal of the run's writes (bench/locustfile.py) and the choice of
contended case and referral (`manage.py loadtest_accounts`), then the
database, with the settings of the server (DJANGO_SETTINGS_MODULE and its
environment), and checks for each kind of write that:

* every save the server accepted is there, once (no lost update);
* no save the server refused as stale is there (a refusal writes nothing);
* nothing is there that the run did not send;
* each of them has its one history row (django-simple-history), and the
  contended case's and referral's version went up by exactly the number of saves
  they hold: no save slipped in beside the version check;
* the contention test did make saves collide: some accepted, some refused.

Saves still unanswered when the run stopped may or may not be there. Prints
counts only, never a text, and exits 1 when a check fails.

    python -m bench.lost_updates --accounts ACCOUNTS.json --writes WRITES.json
"""

import argparse
import json
import os
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=Path, required=True)
    parser.add_argument("--writes", type=Path, required=True)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    accounts = json.loads(options.accounts.read_text(encoding="utf-8"))
    journal = json.loads(options.writes.read_text(encoding="utf-8"))
    return 0 if Check(journal, accounts["contention"]).run() else 1


class Check:
    def __init__(self, journal: dict, contention: dict):
        from bench import writes

        self.writes = writes
        self.run_tag = journal["run"]
        self.started_at = datetime.fromisoformat(journal["started_at"])
        self.journal = journal["writes"]
        self.contention = contention
        self.failures: list[str] = []

    def run(self) -> bool:
        print()
        print(f"Lost-update check of run {self.run_tag}:")
        print(
            f"  {'write':<28} {'accepted':>8} {'refused':>8} {'failed':>7} {'unanswered':>10} "
            f"{'in db':>6} {'history':>7} {'lost':>5}"
        )
        for kind in self.writes.KINDS:
            for contended in (False, True):
                self._kind(kind, contended)
        self._contended_versions()
        if self.failures:
            print("LOST OR WRONG UPDATES:")
            for failure in self.failures:
                print(f"  - {failure}")
            return False
        print("No lost update: every accepted save is in the database once, no refused one is.")
        return True

    # --- the tokens the database holds ------------------------------------------------

    def _tokens(self, texts) -> Counter:
        found = Counter()
        for text in texts:
            found.update(
                token
                for token in self.writes.TOKEN.findall(text or "")
                if token.startswith(f"{self.run_tag}-")
            )
        return found

    def _in_database(self, kind: str, targets: set[str]) -> tuple[Counter, Counter]:
        """The run's tokens in the live rows of `kind`, and in the history rows that wrote them."""
        from protocol.models import Note, PlanAction, Referral

        writes = self.writes
        if kind == writes.NOTE:
            rows = Note.objects.filter(case__number__in=targets, written_at__gte=self.started_at)
            history = Note.history.filter(
                history_type="+", case__number__in=targets, written_at__gte=self.started_at
            )
            return self._tokens(n.text for n in rows), self._tokens(n.text for n in history)
        if kind == writes.PLAN_ACTION:
            rows = PlanAction.objects.filter(plan__case__number__in=targets)
            history = PlanAction.history.filter(
                history_type="+", plan__case__number__in=targets, history_date__gte=self.started_at
            )
            return (
                self._tokens(a.description for a in rows),
                self._tokens(a.description for a in history),
            )
        field = "action_taken" if kind == writes.REFERRAL_ACTION else "answer"
        rows = Referral.objects.filter(pk__in=targets)
        # A save changes the referral's row: its history row is the one where its token
        # first appears.
        history, seen = Counter(), {}
        for row in Referral.history.filter(id__in=targets).order_by("history_date", "history_id"):
            tokens = self._tokens([getattr(row, field)])
            history.update(tokens - seen.get(row.id, Counter()))
            seen[row.id] = tokens
        return self._tokens(getattr(r, field) for r in rows), history

    # --- the checks -----------------------------------------------------------------

    def _kind(self, kind: str, contended: bool) -> None:
        writes = self.writes
        sent = [w for w in self.journal if w["kind"] == kind and w["contended"] == contended]
        if not sent:
            return
        by_outcome = {
            outcome: {w["token"] for w in sent if w["outcome"] == outcome}
            for outcome in (writes.ACCEPTED, writes.REFUSED, writes.FAILED, writes.PENDING)
        }
        found, history = self._in_database(kind, {w["target"] for w in sent})
        # Tokens of the other group (the mix or the contention test) on the same rows are
        # counted with that group.
        mine = {w["token"] for w in sent}
        others = {w["token"] for w in self.journal} - mine
        found = Counter({token: n for token, n in found.items() if token not in others})
        history = Counter({token: n for token, n in history.items() if token not in others})
        lost = by_outcome[writes.ACCEPTED] - set(found)
        label = f"{kind}{' (contended)' if contended else ''}"
        print(
            f"  {label:<28} {len(by_outcome[writes.ACCEPTED]):>8} "
            f"{len(by_outcome[writes.REFUSED]):>8} {len(by_outcome[writes.FAILED]):>7} "
            f"{len(by_outcome[writes.PENDING]):>10} {found.total():>6} "
            f"{history.total():>7} {len(lost):>5}"
        )
        if lost:
            self.failures.append(f"{label}: {len(lost)} accepted saves are not in the database")
        if written := by_outcome[writes.REFUSED] & set(found):
            self.failures.append(f"{label}: {len(written)} refused saves are in the database")
        if doubled := [token for token, n in found.items() if n > 1]:
            self.failures.append(f"{label}: {len(doubled)} saves are in the database twice")
        if unknown := set(found) - mine:
            self.failures.append(f"{label}: {len(unknown)} saves in the database were never sent")
        if history != found:
            self.failures.append(f"{label}: the history rows do not match the saved rows")
        if contended and not (by_outcome[writes.ACCEPTED] and by_outcome[writes.REFUSED]):
            self.failures.append(
                f"{label}: the saves did not collide (each round needs accepted and refused "
                "ones): the contention was not tested"
            )

    def _contended_versions(self) -> None:
        from protocol.models import Case, PlanAction, Referral

        for what, kind in (
            ("case", self.writes.PLAN_ACTION),
            ("referral", self.writes.REFERRAL_ACTION),
        ):
            target = self.contention.get(what)
            if not target:
                self.failures.append(f"no contended {what}: the contention test did not run")
                continue
            if what == "case":
                row = Case.objects.get(number=target["number"])
                texts = [a.description for a in PlanAction.objects.filter(plan__case=row)]
            else:
                row = Referral.objects.get(pk=target["id"])
                texts = [row.action_taken]
            sent = {w["token"] for w in self.journal if w["kind"] == kind and w["contended"]}
            if not sent:
                self.failures.append(f"contended {what}: no save was sent")
            saved = sum(n for token, n in self._tokens(texts).items() if token in sent)
            grew = row.version - target["version"]
            print(
                f"  contended {what}: version {target['version']} -> {row.version} (+{grew}), "
                f"{saved} contended saves in the database"
            )
            if grew != saved:
                self.failures.append(
                    f"contended {what}: its version went up by {grew} for {saved} saves"
                )


if __name__ == "__main__":
    sys.exit(main())
