"""Check the whole audit trail: every lane's chain and every signed checkpoint.

What it catches:
- an event changed in place: its entry hash no longer matches its content;
- an event deleted: a gap in its lane's positions, or a lane shorter than a
  checkpoint says it was;
- an event inserted or moved: the hash of the event after it no longer matches;
- the same done by somebody who dropped the triggers and recomputed every hash
  after it: the chain then disagrees with the hashes a checkpoint signed
  (the heads, and an anchor every few events), and the report names the
  stretch of events between the last anchor that agrees and the first that does not;
- a checkpoint deleted, changed or forged: the file outside the database and
  the public key decide, not the table.
What it cannot catch: events appended after the last checkpoint with hashes
recomputed, or removed from the end of a lane after it. Checkpoints are
therefore made often (every few minutes by a timer).
"""

import json
import multiprocessing
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from . import chain
from .models import Checkpoint
from .protection import ENCODING_COLUMN, ENCODING_FUNCTION, stored_encoding_intact
from .signing import payload_digest, read_file, verifier

FETCH = 20_000
# Read in table order, an event may come before the one it follows and wait for
# it; past this many waiting, the trail is read again in chain order.
WAITING_LIMIT = 1_000_000


@dataclass(order=True)
class Problem:
    event_id: int
    message: str = field(compare=False)


@dataclass
class Report:
    events: int = 0
    lanes: int = 0
    checkpoints: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    checkpoint_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.checkpoint_problems

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _signed_checkpoints(report: Report) -> list[dict]:
    """The checkpoints whose signature holds, in order; problems go into the report."""
    key = verifier()
    in_file = read_file()
    in_table = {c.number: c for c in Checkpoint.objects.order_by("number")}
    entries = {}
    for number, made in in_table.items():
        entries[number] = {"payload": made.payload, "signature": made.signature}
    if in_file is None:
        if in_table:
            report.checkpoint_problems.append(
                "The checkpoint file is missing, but the database holds "
                f"{len(in_table)} checkpoints."
            )
    else:
        for entry in in_file:
            number = json.loads(entry["payload"])["number"]
            stored = in_table.get(number)
            if stored is None:
                report.checkpoint_problems.append(
                    f"Checkpoint {number} is in the file but not in the database (deleted)."
                )
            elif stored.payload != entry["payload"] or stored.signature != entry["signature"]:
                report.checkpoint_problems.append(
                    f"Checkpoint {number} in the database differs from the file (changed)."
                )
            entries[number] = entry  # the file wins
    checkpoints = []
    previous = ""
    for number in sorted(entries):
        entry = entries[number]
        try:
            key.verify(bytes.fromhex(entry["signature"]), entry["payload"].encode())
        except (InvalidSignature, ValueError):
            report.checkpoint_problems.append(
                f"Checkpoint {number} does not carry a valid signature (forged or changed)."
            )
            continue
        payload = json.loads(entry["payload"])
        if payload["previous"] != previous:
            report.checkpoint_problems.append(
                f"Checkpoint {number} does not follow the checkpoint before it "
                "(one was removed or replaced)."
            )
        previous = payload_digest(entry["payload"])
        checkpoints.append(payload)
    report.checkpoints = len(checkpoints)
    return checkpoints


def _expectations(checkpoints) -> tuple[dict, dict, dict]:
    """Per lane: {seq: (hash, checkpoint number)}, the furthest seq a checkpoint covered,
    and where the lane starts after pruning: (last pruned seq, its hash)."""
    expected: dict[int, dict[int, tuple[bytes, int]]] = {}
    furthest: dict[int, tuple[int, int]] = {}
    pruned = checkpoints[-1].get("pruned", {}) if checkpoints else {}
    starts = {int(lane): (seq, bytes.fromhex(digest)) for lane, (seq, digest) in pruned.items()}
    for payload in checkpoints:
        number = payload["number"]
        for lane, anchors in payload.get("anchors", {}).items():
            lane_expected = expected.setdefault(int(lane), {})
            for seq, digest in anchors:
                lane_expected[seq] = (bytes.fromhex(digest), number)
        for lane, (seq, digest) in payload["lanes"].items():
            expected.setdefault(int(lane), {})[seq] = (bytes.fromhex(digest), number)
            if seq > furthest.get(int(lane), (0, 0))[0]:
                furthest[int(lane)] = (seq, number)
    return expected, furthest, starts


@contextmanager
def _rows_decoded():
    """(id, lane, seq, stored hash, leaf digest) in chain order, each digest made in Python."""
    sql = (
        f"SELECT id, lane, seq, entry_hash, {', '.join(chain.FIELD_NAMES)} "  # noqa: S608
        "FROM audit_auditevent ORDER BY lane, seq"
    )

    def rows(cursor):
        while batch := cursor.fetchmany(FETCH):
            yield from (_with_leaf(row) for row in batch)

    with transaction.atomic():
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(sql)
            yield rows(cursor)
        finally:
            cursor.close()


def _with_leaf(row):
    values = list(row[4:])
    occurred = values[2]
    if isinstance(occurred, str):
        occurred = parse_datetime(occurred)
    if occurred.tzinfo is None:  # SQLite keeps UTC without the zone
        occurred = occurred.replace(tzinfo=UTC)
    values[2] = occurred
    if values[10] is not None:  # case_id: SQLite keeps a UUID as 32 hex digits
        values[10] = chain.uuid_text(values[10])
    return row[0], row[1], row[2], bytes(row[3]), chain.leaf_digest(values)


@contextmanager
def _rows_encoded_in_postgresql(ordered: bool, stored: bool = False, part: int = 0, parts: int = 1):
    """(id, lane, seq, stored hash, encoding) of the lanes that are `part` modulo `parts`,
    the encoding read from the column PostgreSQL generated (`stored`) or built in SQL.

    Unless `ordered`, in table order: no sort, and rows streamed as they are
    read, so Python hashes the rows already received while PostgreSQL sends
    the next ones. Results are binary.
    """
    import psycopg
    from psycopg.types.string import ByteaBinaryLoader

    connection.ensure_connection()
    raw = connection.connection
    if stored:  # generated at insert time, as bytes: only read, not built again
        column, text_as_bytes = ENCODING_COLUMN, False
    elif raw.info.encoding == "utf-8":  # Django's client encoding: the text is its UTF-8 bytes
        column, text_as_bytes = chain.LEAF_ENCODING_SQL, True
    else:
        column, text_as_bytes = f"convert_to({chain.LEAF_ENCODING_SQL}, 'UTF8')", False
    sql = f"SELECT id, lane, seq, entry_hash, {column} FROM audit_auditevent"  # noqa: S608
    if parts > 1:
        sql += f" WHERE lane % {int(parts)} = {int(part)}"
    if ordered:
        sql += " ORDER BY lane, seq"
    chunks = psycopg.pq.version() >= 170000  # libpq streams results in chunks
    with transaction.atomic():
        with raw.cursor() as setup:
            # A scan that joined one already running would start mid-table.
            setup.execute("SET LOCAL synchronize_seqscans = off")
        cursor = psycopg.Cursor(raw) if chunks else psycopg.ServerCursor(raw, "audit_verify")
        with cursor:
            if text_as_bytes:
                cursor.adapters.register_loader("text", ByteaBinaryLoader)
            if chunks:
                rows = cursor.stream(sql, binary=True, size=FETCH)
                try:
                    yield rows
                finally:
                    rows.close()
            else:
                cursor.execute(sql, binary=True)
                yield (row for batch in iter(lambda: cursor.fetchmany(FETCH), []) for row in batch)


class _OutOfOrder(Exception):
    """Read in table order, a lane repeats a position or goes back: read in chain order."""


class _Lane:
    """One lane's chain, checked position by position from where it starts."""

    __slots__ = (
        "expected",
        "first_id_after_anchor",
        "last_good_anchor",
        "last_id",
        "next_seq",
        "number",
        "previous",
        "stopped_at",
        "waiting",
    )

    def __init__(self, number: int, expected: dict, start):
        pruned_to, previous = start or (0, chain.genesis(number))
        self.number = number
        self.expected = expected
        self.previous = previous
        self.next_seq = pruned_to + 1  # None once a problem is found: nothing more is said
        self.stopped_at = None  # the position of that problem
        self.last_good_anchor = (0, None)  # (seq, id of the event after it)
        self.first_id_after_anchor = None
        self.last_id = None
        # Events read before the one they follow: {seq: (id, stored hash, leaf digest)}.
        self.waiting: dict[int, tuple] = {}

    def stop(self, problem: Problem, problems) -> None:
        problems.append(problem)
        self.stopped_at, self.next_seq = self.next_seq, None

    def take(self, event_id, seq, stored, computed, problems) -> None:
        """The event at the next position, whose entry hash should be `computed`."""
        self.last_id = event_id
        if self.first_id_after_anchor is None:
            self.first_id_after_anchor = event_id
        if computed != stored:
            self.stop(
                Problem(
                    event_id,
                    f"Event {event_id} (lane {self.number}, position {seq}) does not match its "
                    "hash: it was changed, or an event before it was inserted, moved or removed.",
                ),
                problems,
            )
            return
        anchor = self.expected.get(seq)
        if anchor is not None:
            if anchor[0] != computed:
                self.stop(
                    Problem(
                        self.first_id_after_anchor,
                        f"Lane {self.number} disagrees with checkpoint {anchor[1]} at position "
                        f"{seq}: the hashes were rewritten. The first bad event is among events "
                        f"{self.first_id_after_anchor} to {event_id} (positions "
                        f"{self.last_good_anchor[0] + 1} to {seq}).",
                    ),
                    problems,
                )
                return
            self.last_good_anchor = (seq, event_id)
            self.first_id_after_anchor = None
        self.previous = computed
        self.next_seq = seq + 1

    def take_waiting(self, problems) -> int:
        """Check the waiting events that now follow on; returns how many stopped waiting."""
        before = len(self.waiting)
        while self.next_seq in self.waiting:
            seq = self.next_seq
            event_id, stored, leaf = self.waiting.pop(seq)
            self.take(event_id, seq, stored, sha256(self.previous + leaf).digest(), problems)
        return before - len(self.waiting)

    def gap(self, event_id, seq, problems) -> None:
        self.stop(
            Problem(
                event_id,
                f"Event {event_id}: lane {self.number} jumps from position {self.next_seq - 1} "
                f"to {seq}; the events in between were deleted.",
            ),
            problems,
        )

    def close(self, furthest, problems) -> None:
        if self.next_seq is not None and self.waiting:  # the next position never came
            seq = min(self.waiting)
            self.gap(self.waiting[seq][0], seq, problems)
        if self.next_seq is None:
            return
        seq, number = furthest.get(self.number, (0, 0))
        if self.next_seq - 1 < seq:
            problems.append(
                Problem(
                    self.last_id or 0,
                    f"Lane {self.number} ends at position {self.next_seq - 1}, but checkpoint "
                    f"{number} covered it up to {seq}: events were deleted from its end.",
                )
            )


def _check(rows, report, expected, starts, *, ordered, hash_leaf, progress):
    """Run every row through its lane's chain; returns the lanes and the number of rows.

    Unless `ordered`, rows may come in any order: an event read before the one
    it follows waits for it (few do, as rows lie in the table roughly in the
    order they were written). A repeated or backward position, or too many
    waiting, raises _OutOfOrder: the answer would then depend on the order.
    """
    lanes: dict[int, _Lane] = {}
    problems = report.problems
    waiting = 0
    count = 0
    for event_id, number, seq, stored, leaf in rows:
        count += 1
        if progress is not None and count % 100_000 == 0:
            progress(count)
        lane = lanes.get(number)
        if lane is None:
            lane = lanes[number] = _Lane(number, expected.get(number, {}), starts.get(number))
        if hash_leaf:
            leaf = sha256(leaf).digest()
        if seq == lane.next_seq:
            computed = sha256(lane.previous + leaf).digest()  # chain.entry_hash
            if (
                computed == stored
                and lane.first_id_after_anchor is not None
                and seq not in lane.expected
            ):
                lane.previous = computed  # the usual case, without a call
                lane.next_seq = seq + 1
                lane.last_id = event_id
            else:
                lane.take(event_id, seq, stored, computed, problems)
            if lane.waiting:
                waiting -= lane.take_waiting(problems)
        elif lane.next_seq is None:  # past a problem
            if not ordered and seq <= lane.stopped_at:
                raise _OutOfOrder
        elif ordered:
            lane.gap(event_id, seq, problems)
        elif seq < lane.next_seq or seq in lane.waiting:
            raise _OutOfOrder
        else:
            lane.waiting[seq] = (event_id, stored, leaf)
            waiting += 1
            if waiting > WAITING_LIMIT:
                raise _OutOfOrder
    return lanes, count


def _check_all(
    report, expected, starts, *, in_sql, ordered, progress, stored=False, part=0, parts=1
):
    if in_sql:
        reading = _rows_encoded_in_postgresql(ordered, stored, part, parts)
    else:
        reading = _rows_decoded()
    with reading as rows:
        return _check(
            rows, report, expected, starts, ordered=ordered, hash_leaf=in_sql, progress=progress
        )


def _check_lanes(report, expected, starts, furthest, *, in_sql, stored, progress, part, parts):
    """Check the lanes whose number is `part` modulo `parts`; returns their numbers and count."""
    try:
        # In SQL the table is read as it lies; in Python, in chain order.
        lanes, count = _check_all(
            report,
            expected,
            starts,
            in_sql=in_sql,
            ordered=not in_sql,
            progress=progress,
            stored=stored,
            part=part,
            parts=parts,
        )
    except _OutOfOrder:
        report.problems.clear()
        lanes, count = _check_all(
            report,
            expected,
            starts,
            in_sql=in_sql,
            ordered=True,
            progress=progress,
            stored=stored,
            part=part,
            parts=parts,
        )
    for number in sorted(lanes):
        lanes[number].close(furthest, report.problems)
    return set(lanes), count


def _check_part(arguments):
    """One process's share of the lanes (run in a forked child with its own connection)."""
    expected, starts, furthest, stored, part, parts = arguments
    report = Report()
    numbers, count = _check_lanes(
        report,
        expected,
        starts,
        furthest,
        in_sql=True,
        stored=stored,
        progress=None,
        part=part,
        parts=parts,
    )
    connection.close()
    return report.problems, numbers, count


def _processes() -> int:
    # The lanes are independent chains: on PostgreSQL, outside a transaction (a
    # forked child cannot share one), each core checks a share of them.
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def verify(*, in_python: bool = False, progress=None) -> Report:
    report = Report()
    started = time.perf_counter()
    checkpoints = _signed_checkpoints(report)
    expected, furthest, starts = _expectations(checkpoints)
    in_sql = connection.vendor == "postgresql" and not in_python
    stored = in_sql and stored_encoding_intact(connection)
    if in_sql and not stored:
        report.checkpoint_problems.append(
            "The encodings PostgreSQL stores with the events were tampered with (the "
            f"{ENCODING_COLUMN} column or the {ENCODING_FUNCTION} function is not what "
            "migration audit 0004 made); the events were checked from their columns instead."
        )
    processes = _processes() if in_sql else 1
    if processes > 1:
        connection.close()  # never share one connection between processes
        context = multiprocessing.get_context("fork")
        shares = [
            (expected, starts, furthest, stored, part, processes) for part in range(processes)
        ]
        with context.Pool(processes) as pool:
            results = pool.map(_check_part, shares)
        lanes, count = set(), 0
        for problems, numbers, counted in results:
            report.problems.extend(problems)
            lanes |= numbers
            count += counted
    else:
        lanes, count = _check_lanes(
            report,
            expected,
            starts,
            furthest,
            in_sql=in_sql,
            stored=stored,
            progress=progress,
            part=0,
            parts=1,
        )
    for missing in sorted(set(furthest) - set(lanes)):
        seq, number = furthest[missing]
        if seq <= starts.get(missing, (0,))[0]:
            continue  # pruned whole
        report.problems.append(
            Problem(
                0,
                f"Lane {missing} is empty, but checkpoint {number} covered it up to "
                f"position {seq}: its events were deleted.",
            )
        )
    report.problems.sort()
    report.events = count
    report.lanes = len(lanes)
    report.seconds = time.perf_counter() - started
    return report
