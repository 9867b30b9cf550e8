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
import time
from dataclasses import dataclass, field
from datetime import UTC

from cryptography.exceptions import InvalidSignature
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from . import chain
from .models import Checkpoint
from .signing import payload_digest, read_file, verifier

FETCH = 20_000


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


def _rows(in_python: bool):
    """(id, lane, seq, stored hash, leaf digest) in chain order, read in large chunks."""
    if connection.vendor == "postgresql" and not in_python:
        sql = (
            f"SELECT id, lane, seq, entry_hash, {chain.LEAF_DIGEST_SQL} "  # noqa: S608 - constants
            "FROM audit_auditevent ORDER BY lane, seq"
        )
        digest_in_sql = True
    else:
        sql = (
            f"SELECT id, lane, seq, entry_hash, {', '.join(chain.FIELD_NAMES)} "  # noqa: S608
            "FROM audit_auditevent ORDER BY lane, seq"
        )
        digest_in_sql = False
    with transaction.atomic():
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(FETCH):
                if digest_in_sql:
                    yield from rows
                else:
                    yield from (_with_leaf(row) for row in rows)
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
    return row[0], row[1], row[2], row[3], chain.leaf_digest(values)


def verify(*, in_python: bool = False, progress=None) -> Report:
    report = Report()
    started = time.perf_counter()
    checkpoints = _signed_checkpoints(report)
    expected, furthest, starts = _expectations(checkpoints)
    sha = chain.entry_hash
    lane = None
    lane_expected: dict = {}
    previous = b""
    next_seq = 1
    broken = False
    last_good_anchor = (0, None)  # (seq, id of the event after it)
    first_id_after_anchor = None
    count = 0

    def close_lane():
        if lane is None:
            return
        seq, number = furthest.get(lane, (0, 0))
        if next_seq - 1 < seq and not broken:
            report.problems.append(
                Problem(
                    last_id or 0,
                    f"Lane {lane} ends at position {next_seq - 1}, but checkpoint {number} "
                    f"covered it up to {seq}: events were deleted from its end.",
                )
            )

    last_id = None
    seen_lanes = set()
    for event_id, event_lane, seq, stored, leaf in _rows(in_python):
        count += 1
        if event_lane != lane:
            close_lane()
            lane = event_lane
            seen_lanes.add(lane)
            lane_expected = expected.get(lane, {})
            pruned_to, previous = starts.get(lane, (0, chain.genesis(lane)))
            next_seq = pruned_to + 1
            broken = False
            last_good_anchor = (0, None)
            first_id_after_anchor = None
        last_id = event_id
        if broken:
            continue
        if first_id_after_anchor is None:
            first_id_after_anchor = event_id
        if seq != next_seq:
            report.problems.append(
                Problem(
                    event_id,
                    f"Event {event_id}: lane {lane} jumps from position {next_seq - 1} to {seq}; "
                    f"the events in between were deleted.",
                )
            )
            broken = True
            continue
        computed = sha(previous, bytes(leaf))
        if computed != bytes(stored):
            report.problems.append(
                Problem(
                    event_id,
                    f"Event {event_id} (lane {lane}, position {seq}) does not match its hash: "
                    "it was changed, or an event before it was inserted, moved or removed.",
                )
            )
            broken = True
            continue
        anchor = lane_expected.get(seq)
        if anchor is not None:
            if anchor[0] != computed:
                report.problems.append(
                    Problem(
                        first_id_after_anchor,
                        f"Lane {lane} disagrees with checkpoint {anchor[1]} at position {seq}: "
                        f"the hashes were rewritten. The first bad event is among events "
                        f"{first_id_after_anchor} to {event_id} (positions "
                        f"{last_good_anchor[0] + 1} to {seq}).",
                    )
                )
                broken = True
                continue
            last_good_anchor = (seq, event_id)
            first_id_after_anchor = None
        previous = computed
        next_seq = seq + 1
        if progress is not None and count % 100_000 == 0:
            progress(count)
    close_lane()
    for missing in sorted(set(furthest) - seen_lanes):
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
    report.lanes = len(seen_lanes)
    report.seconds = time.perf_counter() - started
    return report
