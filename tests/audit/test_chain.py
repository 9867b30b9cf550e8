"""The trail resists tampering: triggers refuse edits, the chain and checkpoints catch the rest.

These run on SQLite and, in CI, on PostgreSQL, where `audit_verify` computes
every event's digest in SQL: a passing verification there also proves the SQL
and Python encodings agree byte for byte.
"""

import io
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import chain, protection
from audit.context import Actor
from audit.models import Action, AuditEvent, Checkpoint
from audit.services import record
from audit.verify import verify

# Transactional: a checkpoint reaches its file only once its transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_flags(settings):
    # Flags point at events; these tests delete events the way an attacker would.
    settings.MBROJTJE_WORKING_HOURS = (0, 24)
    settings.MBROJTJE_WORKING_DAYS = frozenset(range(1, 8))
    settings.MBROJTJE_AUDIT_MANY_CASES = 10_000


ACTOR = Actor(user_id=7, institution_id=3, municipality_id=2, ip_address="10.0.0.9")


def fill(count=30):
    """Events with every kind of field value: empty, none, unicode, JSON detail."""
    events = []
    for i in range(count):
        events.append(
            record(
                Action.CASE_VIEWED if i % 3 else Action.CHANGED,
                object_type="protocol.case",
                object_id=uuid.uuid4(),
                case_id=uuid.uuid4() if i % 2 else None,
                case_number=f"DR-2026-{i:04d}",
                municipality_id=2,
                part="identity,risk" if i % 4 else "pëlqim: ë|ç:~",
                justification="court_order" if i % 5 == 0 else "",
                detail={"page": "protocol:case_detail", "n": i, "ë": [1, "|"]},
                actor=ACTOR if i % 7 else Actor(),
            )
        )
    return events


def run_verify(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except CommandError as error:
        return False, out.getvalue() + err.getvalue() + str(error)
    return True, out.getvalue() + err.getvalue()


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_untouched_trail_verifies_in_the_database_and_in_python(checkpoint_keys):
    already = AuditEvent.objects.count()  # the protocol's defaults are recorded too
    fill()
    call_command("audit_checkpoint", stdout=io.StringIO())
    fill(5)

    ok, output = run_verify()
    assert ok, output
    assert f"Checked {already + 35} events" in output
    assert "events per second" in output
    assert run_verify("--in-python")[0]


def test_sql_and_python_encodings_agree(checkpoint_keys):
    if connection.vendor != "postgresql":
        pytest.skip("the SQL encoding is PostgreSQL's")
    events = fill(12)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {chain.LEAF_DIGEST_SQL} FROM audit_auditevent ORDER BY id")  # noqa: S608
        in_sql = {pk: bytes(digest) for pk, digest in cursor.fetchall()}
    for event in events:
        stored = AuditEvent.objects.get(pk=event.pk)
        values = [getattr(stored, name) for name in chain.FIELD_NAMES]
        values[10] = chain.uuid_text(values[10]) if values[10] else None
        assert in_sql[event.pk] == chain.leaf_digest(values)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET case_number = 'XX-2026-0001'",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_checkpoint SET events = 0",
        "DELETE FROM audit_checkpoint",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(checkpoint_keys, statement):
    fill(3)
    call_command("audit_checkpoint", stdout=io.StringIO())

    with pytest.raises(DatabaseError), transaction.atomic():
        sql(statement)

    assert AuditEvent.objects.filter(case_number="DR-2026-0001").count() == 1
    assert Checkpoint.objects.get().events == AuditEvent.objects.count()


def test_truncate_is_refused_on_postgresql(checkpoint_keys):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    fill(2)
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        sql("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.count() == count


def tamper(statement, params=()):
    """What someone with the database's owner rights can do: drop the triggers first."""
    protection.remove(connection)
    sql(statement, params)
    protection.install(connection)


def test_an_event_changed_in_place_is_named(checkpoint_keys):
    events = fill()
    target = events[11]
    tamper("UPDATE audit_auditevent SET actor_id = 999 WHERE id = %s", [target.pk])

    ok, output = run_verify()
    assert not ok
    assert f"First bad event: Event {target.pk} " in output
    assert "does not match its hash" in output


def test_an_event_deleted_from_the_middle_is_caught(checkpoint_keys):
    events = fill()
    target = events[8]
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])

    ok, output = run_verify()
    assert not ok
    assert "were deleted" in output
    assert f"Event {events[9].pk}:" in output


def test_events_deleted_from_the_end_are_caught_by_the_checkpoint(checkpoint_keys):
    events = fill(10)
    call_command("audit_checkpoint", stdout=io.StringIO())
    tamper("DELETE FROM audit_auditevent WHERE id >= %s", [events[7].pk])

    ok, output = run_verify()
    assert not ok
    assert "deleted from its end" in output


def test_an_event_inserted_is_caught(checkpoint_keys):
    events = fill(10)
    # Make room at position 5 of the lane and slip a forged event in.
    lane = events[0].lane
    tamper("UPDATE audit_auditevent SET seq = seq + 1000 WHERE lane = %s AND seq >= 5", [lane])
    tamper("UPDATE audit_auditevent SET seq = seq - 999 WHERE lane = %s AND seq >= 1005", [lane])
    forged = AuditEvent(
        lane=lane,
        seq=5,
        occurred_at=events[3].occurred_at,
        action=Action.CASE_VIEWED,
        case_number="DR-2026-9999",
        entry_hash=b"\0" * 32,
    )
    forged.save(force_insert=True)

    ok, output = run_verify()
    assert not ok
    assert f"Event {forged.pk} " in output


def test_two_events_swapped_are_caught(checkpoint_keys):
    events = fill(10)
    first, second = events[3], events[4]
    tamper(
        "UPDATE audit_auditevent SET seq = CASE WHEN id = %s THEN 999 ELSE seq END",
        [first.pk],
    )
    tamper("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [first.seq, second.pk])
    tamper("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [second.seq, first.pk])

    ok, output = run_verify()
    assert not ok
    assert f"Event {second.pk} " in output


def rewrite_chain_from(event_id):
    """What a careful attacker does after an edit: recompute every hash after it."""
    protection.remove(connection)
    rows = list(AuditEvent.objects.order_by("lane", "seq"))
    previous_by_lane = {}
    for row in rows:
        previous = previous_by_lane.get(row.lane, chain.genesis(row.lane))
        values = [getattr(row, name) for name in chain.FIELD_NAMES]
        values[10] = chain.uuid_text(values[10]) if values[10] else None
        digest = chain.entry_hash(previous, chain.leaf_digest(values))
        if row.pk >= event_id:
            sql("UPDATE audit_auditevent SET entry_hash = %s WHERE id = %s", [digest, row.pk])
        previous_by_lane[row.lane] = digest
    protection.install(connection)


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(checkpoint_keys):
    events = fill(40)
    call_command("audit_checkpoint", stdout=io.StringIO())
    fill(5)
    target = events[20]
    protection.remove(connection)
    sql("UPDATE audit_auditevent SET case_number = 'DR-2026-0000' WHERE id = %s", [target.pk])
    rewrite_chain_from(target.pk)

    # The chain itself is consistent again...
    assert not any("does not match its hash" in p.message for p in verify().problems)
    ok, output = run_verify()
    # ...but not with what the checkpoint signed, and the report narrows it down.
    assert not ok
    assert "the hashes were rewritten" in output
    first_id, last_id = (
        int(n) for n in output.split("among events ")[1].split(" (")[0].split(" to ")
    )
    assert first_id <= target.pk <= last_id
    assert last_id - first_id < 16


def test_a_checkpoint_deleted_from_the_database_is_caught_by_the_file(checkpoint_keys):
    fill(5)
    call_command("audit_checkpoint", stdout=io.StringIO())
    fill(2)
    call_command("audit_checkpoint", stdout=io.StringIO())
    tamper("DELETE FROM audit_checkpoint WHERE number = 2")

    ok, output = run_verify()
    assert not ok
    assert "Checkpoint 2 is in the file but not in the database" in output


def test_a_forged_checkpoint_is_caught_by_the_signature(checkpoint_keys):
    fill(5)
    call_command("audit_checkpoint", stdout=io.StringIO())
    count = AuditEvent.objects.count()
    real, forged = f'"events":{count}', f'"events":{count - 1}'
    tamper("UPDATE audit_checkpoint SET payload = replace(payload, %s, %s)", [real, forged])
    path = checkpoint_keys.MBROJTJE_AUDIT_CHECKPOINT_FILE
    escaped = real.replace('"', '\\"'), forged.replace('"', '\\"')
    path.write_text(path.read_text().replace(*escaped))

    ok, output = run_verify()
    assert not ok
    assert "does not carry a valid signature" in output


def test_a_rolled_back_write_leaves_no_event_and_no_gap(checkpoint_keys):
    fill(3)

    def failing_change():
        with transaction.atomic():
            record(Action.CHANGED, object_type="protocol.case", case_number="DR-2026-0100")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_change()
    fill(2)

    assert not AuditEvent.objects.filter(case_number="DR-2026-0100").exists()
    assert run_verify()[0]


def test_checkpoint_without_a_key_says_how_to_make_one(settings, tmp_path):
    settings.MBROJTJE_AUDIT_SIGNING_KEY = tmp_path / "missing.pem"
    with pytest.raises(CommandError, match="audit_keygen"):
        call_command("audit_checkpoint", stdout=io.StringIO())


def test_events_past_retention_are_pruned_only_by_the_operator_and_the_rest_verifies(
    checkpoint_keys,
):
    # A trail that starts twelve years ago: what the retention period covers is known.
    tamper("DELETE FROM audit_auditevent")
    long_ago = timezone.now() - timedelta(days=365 * 12)
    with mock.patch("audit.services.timezone.now", return_value=long_ago):
        fill(6)
    kept = fill(4)
    call_command("audit_checkpoint", stdout=io.StringIO())

    dry = io.StringIO()
    call_command("audit_prune", stdout=dry)
    assert "from the start of each chain: 6." in dry.getvalue()
    assert AuditEvent.objects.count() == 10

    call_command("audit_prune", "--execute", stdout=io.StringIO())

    remaining = AuditEvent.objects.order_by("id").values_list("id", flat=True)
    assert list(remaining) == [event.pk for event in kept]
    ok, output = run_verify()
    assert ok, output
    assert "Checked 4 events" in output
    # The triggers are back: nothing else can delete what is left.
    with pytest.raises(DatabaseError), transaction.atomic():
        sql("DELETE FROM audit_auditevent")


def test_replacing_the_stored_encodings_is_caught(checkpoint_keys):
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL stores the encodings")
    events = fill(5)
    assert protection.stored_encoding_intact(connection)
    assert run_verify()[0]
    # Somebody edits an event and swaps the generated column for a plain copy of the old one.
    protection.remove(connection)
    sql("ALTER TABLE audit_auditevent ADD COLUMN old_encoding bytea")
    sql("UPDATE audit_auditevent SET old_encoding = leaf_encoding")
    sql("ALTER TABLE audit_auditevent DROP COLUMN leaf_encoding")
    sql("ALTER TABLE audit_auditevent RENAME COLUMN old_encoding TO leaf_encoding")
    sql("UPDATE audit_auditevent SET actor_id = 999 WHERE id = %s", [events[2].pk])
    protection.install(connection)

    ok, output = run_verify()
    assert not ok
    assert "were tampered with" in output
    assert f"Event {events[2].pk} " in output
    # Put the generated column back for the tests that follow.
    protection.remove(connection)
    sql("ALTER TABLE audit_auditevent DROP COLUMN leaf_encoding")
    protection.install_stored_encoding(connection)
    protection.install(connection)
    assert protection.stored_encoding_intact(connection)
