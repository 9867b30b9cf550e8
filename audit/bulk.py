"""Appending many events at once, for loading a national-sized or benchmark trail,
and switching auditing off to measure what it costs.

The events are chained exactly as `services._append` chains one: each goes to
a lane, after that lane's head, and its entry hash covers the one before. The
lanes are locked for the whole load, so no writer of the running application
can append between two of them. PostgreSQL takes the rows with one COPY; other
databases through `bulk_create`.

Nothing here raises flags or checks who may do what: it writes what it is
given, so only seeding and benchmark commands call it.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from . import chain, services
from .models import AuditEvent

COLUMNS = (*chain.FIELD_NAMES, "entry_hash")
# Field values of an event as `append_many` takes them: chain.FIELD_NAMES without lane and seq.
VALUE_NAMES = chain.FIELD_NAMES[2:]
_BATCH = 5_000


def append_many(
    events: Iterable[tuple],
    *,
    lanes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Append `events` (tuples in VALUE_NAMES order), spread over the lanes in turn.

    Returns how many were appended. `progress` is called with the running count
    every 10,000 events. One transaction: on any error nothing is appended.
    """
    lanes = lanes or services._lanes()
    leaf_digest, entry_hash = chain.leaf_digest, chain.entry_hash
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        postgresql = connection.vendor == "postgresql"
        if postgresql:
            for lane in range(lanes):
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [services.LOCK_NAMESPACE, lane]
                )
        heads = {lane: (seq, digest) for lane, seq, digest in services.lane_heads(range(lanes))}
        state = [heads.get(lane, (0, chain.genesis(lane))) for lane in range(lanes)]

        def chained():
            nonlocal count
            for values in events:
                lane = count % lanes
                seq, previous = state[lane]
                row = (lane, seq + 1, *values)
                digest = entry_hash(previous, leaf_digest(row))
                state[lane] = (seq + 1, digest)
                count += 1
                if progress is not None and count % 10_000 == 0:
                    progress(count)
                yield (*row, digest)

        if postgresql:
            sql = f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN"
            with connection.connection.cursor() as raw, raw.copy(sql) as copy:
                for row in chained():
                    copy.write_row(row)
        else:
            batch = []
            for row in chained():
                batch.append(AuditEvent(**dict(zip(COLUMNS, row, strict=True))))
                if len(batch) == _BATCH:
                    AuditEvent.objects.bulk_create(batch)
                    batch = []
            AuditEvent.objects.bulk_create(batch)
    return count


@contextmanager
def auditing_off() -> Iterator[None]:
    """Within the block, in this process only, events are built but never written and
    raise no flag: the benchmarks' "auditing off", never the application's."""
    append, flags_for = services._append, services._flags_for

    def built_not_written(values: dict) -> AuditEvent:
        return AuditEvent(lane=0, seq=0, entry_hash=b"", **values)

    services._append = built_not_written
    services._flags_for = lambda event: []
    try:
        yield
    finally:
        services._append, services._flags_for = append, flags_for
