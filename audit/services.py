"""The one place that writes the audit trail.

`record()` appends an event to a lane of the hash chain. On PostgreSQL a
writer takes a lane with a transaction-scoped advisory lock that it only
*tries* (it moves on to the next lane when one is busy), so concurrent
readers do not queue behind one lock and the lock can never take part in a
deadlock; it is held until the writer's transaction ends, which keeps the
lane's order equal to its commit order. A change's event is written inside
the change's transaction, so a rolled-back change leaves no event. SQLite
has one writer at a time anyway (IMMEDIATE transactions) and uses lane 0.
"""

import json
import random
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Q
from django.utils import timezone

from . import chain
from .context import Actor, current_actor
from .models import Action, AuditEvent, Checkpoint, Flag, FlagKind, FlagReview, FlagReviewComment

# Namespace of the advisory locks ("audi" in ASCII), so they cannot collide with others.
LOCK_NAMESPACE = 0x61756469


def _lanes() -> int:
    return getattr(settings, "MBROJTJE_AUDIT_LANES", 32)


def _take_lane(cursor) -> int:
    if connection.vendor != "postgresql":
        return 0
    lanes = _lanes()
    # A connection keeps to the lane it had last: usually free, and already
    # held when this transaction wrote an event before (the lock is re-entrant).
    first = getattr(connection, "_audit_lane", None)
    if first is None:
        first = random.randrange(lanes)  # noqa: S311 - spreading load, not a secret
    for offset in range(lanes):
        lane = (first + offset) % lanes
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, lane])
        if cursor.fetchone()[0]:
            connection._audit_lane = lane
            return lane
    # Every lane busy: more writers than lanes. Wait for our own.
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, first])
    return first


def _last_of_lane(cursor, lane: int, *, below: int | None = None) -> tuple[int, bytes] | None:
    """(seq, entry hash) of the last event of `lane` (before position `below`), by its index."""
    cursor.execute(
        "SELECT seq, entry_hash FROM audit_auditevent WHERE lane = %s AND seq < %s "
        "ORDER BY seq DESC LIMIT 1",
        [lane, below or 2**62],
    )
    row = cursor.fetchone()
    return (row[0], bytes(row[1])) if row else None


def _append(values: dict) -> AuditEvent:
    with transaction.atomic():
        with connection.cursor() as cursor:
            lane = _take_lane(cursor)
            # A new statement after the lock: its snapshot sees the last holder's commit.
            head = _last_of_lane(cursor, lane)
        seq, previous = (head[0] + 1, head[1]) if head else (1, chain.genesis(lane))
        event = AuditEvent(lane=lane, seq=seq, **values)
        leaf = chain.leaf_digest(getattr(event, name) for name in chain.FIELD_NAMES)
        event.entry_hash = chain.entry_hash(previous, leaf)
        event.save(force_insert=True)
        return event


# An event's justification is the code of a legal basis (a referral's
# "court_order"), never words someone typed: the trail is append-only and
# hash-chained, so a name written into it could never be removed. Typed reasons
# are stored encrypted on the row they explain (an EmergencyAccess, a
# CaseTransfer...), and the event carries that row's identifier.
JUSTIFICATION_CODE = re.compile(r"[a-z0-9_.:-]{0,40}")


def record(
    action: str,
    *,
    object_type: str = "",
    object_id="",
    case_id=None,
    case_number: str = "",
    municipality_id: int | None = None,
    part: str = "",
    justification: str = "",
    detail: dict | None = None,
    actor: Actor | None = None,
    flags: tuple[str, ...] = (),
) -> AuditEvent:
    """Append one event. Identifiers only: no name, address or narrative goes in here.

    `municipality_id` is the municipality the event concerns (the case's);
    it defaults to the actor's. Refuses (ValueError) a justification that is not
    a code (see JUSTIFICATION_CODE). `flags` names flag kinds the caller knows the
    event deserves (the audit app knows identifiers, not what a role means):
    raised besides those the rules below find.
    """
    if not JUSTIFICATION_CODE.fullmatch(justification or ""):
        raise ValueError(
            "An audit event's justification is a code, never typed text: store typed "
            "reasons encrypted on the row they explain and record its identifier."
        )
    actor = actor or current_actor()
    event = _append(
        {
            # Stored and hashed at the microsecond, as both databases keep it.
            "occurred_at": timezone.now(),
            "action": str(action),
            "actor_id": actor.user_id,
            "actor_institution_id": actor.institution_id,
            "actor_municipality_id": actor.municipality_id,
            "municipality_id": municipality_id
            if municipality_id is not None
            else actor.municipality_id,
            "object_type": object_type,
            "object_id": str(object_id or ""),
            "case_id": chain.uuid_text(case_id) if case_id else None,
            "case_number": case_number or "",
            "part": part,
            "ip_address": actor.ip_address or "",
            "justification": justification or "",
            "detail": chain.canonical_detail(detail),
        }
    )
    for kind in dict.fromkeys([*_flags_for(event), *flags]):
        Flag.objects.create(
            event=event,
            kind=kind,
            raised_at=event.occurred_at,
            municipality_id=_flagged_to(event, kind),
            actor_id=event.actor_id,
        )
    return event


# --- Flags -------------------------------------------------------------------

# Reads looked at for a burst: enough to hold the threshold's distinct cases many times over.
RECENT_READS_LOOKED_AT = 500

CASE_READS = frozenset(
    {Action.CASE_VIEWED, Action.PART_VIEWED, Action.DOCUMENT_DOWNLOADED, Action.EXPORTED}
)


def _working_hours(moment) -> bool:
    local = timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE))
    start, end = settings.MBROJTJE_WORKING_HOURS
    return local.isoweekday() in settings.MBROJTJE_WORKING_DAYS and start <= local.hour < end


def _flagged_to(event: AuditEvent, kind: str):
    """The municipality whose officer reviews the flag: the one the event concerns, but a
    user's refusals go to the user's own officer, who can act on the account (the cases
    probed may belong to several municipalities, or to none)."""
    if kind == FlagKind.REFUSED_ACCESS and event.actor_municipality_id is not None:
        return event.actor_municipality_id
    return event.municipality_id


def _flags_for(event: AuditEvent) -> list[str]:
    flags = []
    if event.action == Action.BREAK_GLASS:
        flags.append(FlagKind.BREAK_GLASS)
    if event.action == Action.ACCESS_REFUSED and event.actor_id is not None:
        if _refused_often(event):
            flags.append(FlagKind.REFUSED_ACCESS)
        return flags
    # Written by accounts.services when the failures of a client (on one account or
    # across accounts) reach the free tries and its attempts start to wait.
    if event.action == Action.LOCKED_OUT:
        flags.append(FlagKind.FAILED_SIGN_INS)
    if event.action == Action.ACCOUNT_ADMINISTERED and event.object_id != str(event.actor_id or ""):
        # Someone else (an administrator, the platform) acted on the account:
        # every such act is shown to the officer, not only the unusual ones.
        flags.append(FlagKind.ACCOUNT_ADMINISTERED)
    if event.action not in CASE_READS or event.actor_id is None:
        return flags
    if not _working_hours(event.occurred_at):
        flags.append(FlagKind.AFTER_HOURS)
    if (
        event.actor_municipality_id is not None
        and event.municipality_id is not None
        and event.actor_municipality_id != event.municipality_id
    ):
        flags.append(FlagKind.OUTSIDE_MUNICIPALITY)
    if event.action == Action.CASE_VIEWED and _opening_many_cases(event):
        flags.append(FlagKind.MANY_CASES)
    return flags


def _opening_many_cases(event: AuditEvent) -> bool:
    """This read makes the user's distinct cases in the window reach the threshold.

    It runs on every case read, so it stays a few index lookups whatever the
    user did before: nothing once a flag covers the window, nothing for a case
    already opened in it, and otherwise a look at the user's last few hundred reads.
    """
    since = event.occurred_at - timedelta(minutes=settings.MBROJTJE_AUDIT_MANY_CASES_MINUTES)
    reads = AuditEvent.objects.filter(
        actor_id=event.actor_id, action=Action.CASE_VIEWED, occurred_at__gte=since
    )
    flagged = Flag.objects.filter(
        actor_id=event.actor_id, kind=FlagKind.MANY_CASES, raised_at__gte=since
    )
    opened_before = reads.filter(case_number=event.case_number).exclude(pk=event.pk)
    # Both questions in one statement: this runs on every case read.
    if AuditEvent.objects.filter(
        Q(pk=event.pk) & (Exists(flagged) | Exists(opened_before))
    ).exists():
        return False
    recent = reads.order_by("-occurred_at").values_list("case_number", flat=True)
    return len(set(recent[:RECENT_READS_LOOKED_AT])) >= settings.MBROJTJE_AUDIT_MANY_CASES


def _refused_often(event: AuditEvent) -> bool:
    """This refusal makes the user's refusals in the window reach the threshold, and no
    flag of the kind covers the window yet: one flag per burst, not one per refusal.

    Two lookups on the (actor, …) indexes, the second reading at most the threshold's
    number of rows: it runs on the request path of every refusal.
    """
    since = event.occurred_at - timedelta(minutes=settings.MBROJTJE_AUDIT_REFUSALS_MINUTES)
    if Flag.objects.filter(
        actor_id=event.actor_id, kind=FlagKind.REFUSED_ACCESS, raised_at__gte=since
    ).exists():
        return False
    threshold = settings.MBROJTJE_AUDIT_REFUSALS
    refusals = AuditEvent.objects.filter(
        actor_id=event.actor_id, action=Action.ACCESS_REFUSED, occurred_at__gte=since
    )
    return len(refusals.values_list("pk", flat=True)[:threshold]) >= threshold


class AlreadyReviewed(Exception):
    pass


def flag_review(*, by, flag: Flag, comment: str) -> FlagReview:
    """Close a flag with the officer's comment; the review is itself an audit event.

    Refuses an empty comment (ValueError), one too long (ValidationError) and a
    flag already reviewed (AlreadyReviewed)."""
    comment = comment.strip()
    if not comment:
        raise ValueError("a review needs a comment")
    with transaction.atomic():
        try:
            with transaction.atomic():
                review = FlagReview.objects.create(
                    flag=flag, reviewer_id=by.pk, reviewed_at=timezone.now()
                )
        except IntegrityError as error:
            raise AlreadyReviewed from error
        written = FlagReviewComment(review=review, comment=comment)
        written.full_clean()
        written.save()
        record(
            Action.FLAG_REVIEWED,
            object_type="audit.flag",
            object_id=flag.pk,
            municipality_id=flag.municipality_id,
            detail={"event": flag.event_id, "kind": flag.kind},
        )
    return review


# --- Checkpoints -------------------------------------------------------------


def lane_heads(lanes) -> list[tuple[int, int, bytes]]:
    """(lane, seq, entry hash) of the last committed event of each of `lanes` that has one.

    One index lookup per lane: a GROUP BY would read the whole table.
    """
    heads = []
    with connection.cursor() as cursor:
        for lane in lanes:
            head = _last_of_lane(cursor, lane)
            if head:
                heads.append((lane, *head))
    return heads


def _last_checkpoint() -> tuple[Checkpoint | None, dict | None]:
    """The last checkpoint and its payload, or (None, None) before the first."""
    previous = Checkpoint.objects.order_by("-number").first()
    return previous, json.loads(previous.payload) if previous else None


def _known_lanes(previous: dict | None) -> range:
    # Lanes the setting gives now, and any a checkpoint saw under an older setting.
    seen = [int(lane) for lane in (previous or {}).get("lanes", {})]
    return range(max([_lanes(), *(lane + 1 for lane in seen)]))


def checkpoint_make(*, signer, anchors_every: int = 16, pruned: dict | None = None) -> Checkpoint:
    """Sign the heads of all lanes, chained to the previous checkpoint.

    Besides the heads, the payload carries the hash of every `anchors_every`-th
    event since the previous checkpoint: if somebody later rewrites the chain,
    `audit_verify` can name the stretch of events that changed, not only the lane.
    It also carries where each lane now starts once old events were pruned
    (`pruned`: lane -> [last pruned seq, its hash]), so verification can begin there.
    """
    from .signing import append_to_file, payload_digest

    with transaction.atomic():
        previous, before = _last_checkpoint()
        heads = lane_heads(_known_lanes(before))
        since = before["lanes"] if before else {}
        pruned = {**(before or {}).get("pruned", {}), **(pruned or {})}
        anchors = {}
        with connection.cursor() as cursor:
            for lane, seq, _ in heads:
                start = since.get(str(lane), [0])[0]
                cursor.execute(
                    "SELECT seq, entry_hash FROM audit_auditevent WHERE lane = %s "
                    "AND seq > %s AND seq <= %s AND seq %% %s = 0 ORDER BY seq",
                    [lane, start, seq, anchors_every],
                )
                anchors[str(lane)] = [[s, bytes(h).hex()] for s, h in cursor.fetchall()]
        payload = {
            "number": previous.number + 1 if previous else 1,
            "made_at": timezone.now().isoformat(),
            "events": sum(seq - pruned.get(str(lane), [0])[0] for lane, seq, _ in heads),
            "lanes": {str(lane): [seq, digest.hex()] for lane, seq, digest in heads},
            "anchors": anchors,
            "pruned": pruned,
            "previous": payload_digest(previous.payload) if previous else "",
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        made = Checkpoint.objects.create(
            number=payload["number"],
            made_at=timezone.now(),
            events=payload["events"],
            payload=text,
            signature=signer.sign(text.encode()).hex(),
        )
        # Outside the database too, once committed: `audit_verify` trusts the file,
        # and a checkpoint in the file but not in the table means one was deleted.
        transaction.on_commit(lambda: append_to_file(made))
    return made


# --- Retention ---------------------------------------------------------------


def retention_cutoff(now=None):
    now = now or timezone.now()
    years = settings.MBROJTJE_AUDIT_RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def prunable(now=None) -> dict[int, tuple[int, bytes, int]]:
    """Per lane: (last seq to prune, its hash, how many) for the events past the retention period.

    A lane is pruned from its start up to the first event still within the
    period, so what remains is a whole chain from a signed starting point.
    """
    cutoff = retention_cutoff(now)
    _previous, before = _last_checkpoint()
    already = (before or {}).get("pruned", {})
    found = {}
    with connection.cursor() as cursor:
        for lane in _known_lanes(before):
            cursor.execute(
                "SELECT MIN(seq) FROM audit_auditevent WHERE lane = %s AND occurred_at >= %s",
                [lane, cutoff],
            )
            keep_from = cursor.fetchone()[0]
            # Up to the first event still kept, or the whole lane when none is.
            last = _last_of_lane(cursor, lane, below=keep_from)
            if last:
                start = already.get(str(lane), [0])[0]
                found[lane] = (*last, last[0] - start)
    return found


@transaction.atomic
def prune(*, signer, now=None) -> int:
    """Delete the events (and their flags) past the retention period; returns how many.

    For the operator's command line only (`audit_prune`), in a maintenance
    window: the append-only triggers are lifted inside this one transaction,
    after a signed checkpoint has recorded where each lane will start.
    """
    from .protection import install, remove

    found = prunable(now)
    if not found:
        return 0
    checkpoint_make(
        signer=signer,
        pruned={str(lane): [seq, digest.hex()] for lane, (seq, digest, _) in found.items()},
    )
    remove(connection)
    deleted = 0
    for lane, (seq, _digest, _count) in found.items():
        old = AuditEvent.objects.filter(lane=lane, seq__lte=seq)
        FlagReviewComment.objects.filter(review__flag__event__in=old).delete()
        FlagReview.objects.filter(flag__event__in=old).delete()
        Flag.objects.filter(event__in=old).delete()
        deleted += old.delete()[0]
    install(connection)
    return deleted
