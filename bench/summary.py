"""The figures of a load test run: requests per second and response times per kind of request."""

from locust.stats import StatsEntry

from bench import writes

PERCENTILES = (0.5, 0.95, 0.99)


def _row(name, entry, seconds) -> str:
    median, p95, p99 = (entry.get_response_time_percentile(p) for p in PERCENTILES)
    rate = entry.num_requests / seconds if seconds else 0.0
    return (
        f"{name:<40} {entry.num_requests:>8} {entry.num_failures:>6} {rate:>8.1f} "
        f"{median:>7} {p95:>7} {p99:>7} {entry.max_response_time or 0:>8.0f}"
    )


def print_summary(stats, journal: writes.Journal, *, users: int, think: float) -> None:
    total = stats.total
    seconds = (
        total.last_request_timestamp - total.start_time if total.last_request_timestamp else 0.0
    )
    print()
    print(
        f"Load test: {users} virtual users for {seconds:.0f} s, think time about "
        f"{think:g} s between steps (response times in ms)"
    )
    print(
        f"{'request':<40} {'count':>8} {'errors':>6} {'req/s':>8} "
        f"{'median':>7} {'p95':>7} {'p99':>7} {'max':>8}"
    )
    for (name, method), entry in sorted(stats.entries.items()):
        print(_row(f"{method} {name}", entry, seconds))
    # Signing in is mostly the cost of Argon2, paid once per session, all at the start.
    working = StatsEntry(stats, "all but signing in", "", use_response_times_cache=False)
    for (name, _method), entry in stats.entries.items():
        if not name.startswith("sign-in"):
            working.extend(entry)
    print(_row("all but signing in", working, seconds))
    print(_row("all requests", total, seconds))
    print(
        "Percentiles as locust keeps them: exact to 100 ms, then rounded to two significant digits."
    )
    if stats.errors:
        print("Errors:")
        for error in stats.errors.values():
            print(f"  {error.occurrences:>6} x {error.method} {error.name}: {error.error}")
    for contended, label in ((False, "the mix"), (True, "the contention test")):
        accepted = journal.count(outcome=writes.ACCEPTED, contended=contended)
        refused = journal.count(outcome=writes.REFUSED, contended=contended)
        failed = journal.count(outcome=writes.FAILED, contended=contended)
        pending = journal.count(outcome=writes.PENDING, contended=contended)
        print(
            f"Writes of {label}: {accepted} accepted, {refused} refused with the "
            f"stale-version message, {failed} failed, {pending} unanswered at the end"
        )
    print(f"Errors in all: {total.num_failures}")
