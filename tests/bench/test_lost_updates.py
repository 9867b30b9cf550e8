from datetime import timedelta

from django.utils import timezone

from bench import writes
from bench.lost_updates import Check
from protocol import services
from tests.cases import register_child_case

RUN = "lt0a1b2c"


def journal(case, *outcomes):
    return {
        "run": RUN,
        "started_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "writes": [
            {
                "kind": writes.NOTE,
                "target": case.number,
                "token": f"{RUN}-{number:06d}",
                "contended": False,
                "outcome": outcome,
            }
            for number, outcome in enumerate(outcomes, start=1)
        ],
    }


def note_failures(check):
    check.run()
    return [failure for failure in check.failures if failure.startswith(writes.NOTE)]


def saved(worker, case, write):
    services.note_add(by=worker, case=case, text=writes.text_of(write))


def test_check_passes_when_every_accepted_save_is_there_and_no_refused_one(worker):
    case = register_child_case(worker)
    run = journal(case, writes.ACCEPTED, writes.REFUSED, writes.PENDING)
    saved(worker, case, run["writes"][0])
    assert note_failures(Check(run, contention={})) == []


def test_check_finds_an_accepted_save_missing_from_the_database(worker):
    case = register_child_case(worker)
    run = journal(case, writes.ACCEPTED, writes.ACCEPTED)
    saved(worker, case, run["writes"][0])
    assert note_failures(Check(run, contention={})) == [
        "note: 1 accepted saves are not in the database"
    ]


def test_check_finds_a_refused_save_written_all_the_same(worker):
    case = register_child_case(worker)
    run = journal(case, writes.REFUSED)
    saved(worker, case, run["writes"][0])
    assert note_failures(Check(run, contention={})) == ["note: 1 refused saves are in the database"]


def test_check_without_contention_fails(worker):
    case = register_child_case(worker)
    check = Check(journal(case), contention={})
    assert not check.run()
    assert "no contended case: the contention test did not run" in check.failures
