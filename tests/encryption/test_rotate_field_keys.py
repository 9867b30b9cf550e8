import io
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from encryption.fields import key_id_of
from encryption.management.commands import rotate_field_keys
from tests.encryption.conftest import VALUES
from tests.encryption.models import SampleRecord
from tests.encryption.raw import read_column, write_column

HistoricalSampleRecord = SampleRecord.history.model
FIELDS = list(VALUES)


def rotate(*args: str) -> str:
    """Run the command; returns what it wrote on standard output."""
    out = io.StringIO()
    call_command("rotate_field_keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def stored_key_ids(model) -> set[int]:
    """The key ids of every stored value of every row of `model`."""
    rows = model._base_manager.values_list(*FIELDS)
    return {key_id_of(stored) for row in rows for stored in row if stored is not None}


def summary_line(output: str, model) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(f"{model._meta.label}:")]
    return line


@pytest.fixture
def records(record):
    """Three records under key 1, one of them edited (so with two history rows)."""
    record.text = "Ndryshuar"
    record.save()
    return [record, *(SampleRecord.objects.create(**VALUES) for _ in range(2))]


def test_rotation_moves_live_and_history_rows_to_current_key(records, use_keys):
    assert stored_key_ids(SampleRecord) == stored_key_ids(HistoricalSampleRecord) == {1}
    use_keys(1, 2)

    output = rotate("--batch-size", "2")

    assert stored_key_ids(SampleRecord) == {2}
    assert stored_key_ids(HistoricalSampleRecord) == {2}
    assert summary_line(output, SampleRecord) == (
        "encryption.SampleRecord: 3 rows scanned, 3 rotated, "
        "0 skipped because changed meanwhile, 0 unreadable."
    )
    assert summary_line(output, HistoricalSampleRecord).startswith(
        "encryption.HistoricalSampleRecord: 4 rows scanned, 4 rotated,"
    )


def test_rotated_values_decrypt_once_old_key_is_removed(records, use_keys):
    use_keys(1, 2)
    rotate()
    use_keys(2)

    first = SampleRecord.objects.get(pk=records[0].pk)
    assert first.text == "Ndryshuar"
    assert [row.text for row in first.history.all()] == ["Ndryshuar", VALUES["text"]]
    for record in records[1:]:
        fresh = SampleRecord.objects.get(pk=record.pk)
        assert {name: getattr(fresh, name) for name in FIELDS} == VALUES


def test_rotation_adds_no_history_rows(records, use_keys):
    before = HistoricalSampleRecord.objects.count()
    use_keys(1, 2)

    rotate()

    assert HistoricalSampleRecord.objects.count() == before


def test_second_run_finds_nothing_left_to_rotate(records, use_keys):
    use_keys(1, 2)
    rotate()

    output = rotate()

    assert summary_line(output, SampleRecord).startswith(
        "encryption.SampleRecord: 3 rows scanned, 0 rotated,"
    )


def test_run_after_interruption_rotates_only_what_is_left(records, use_keys):
    use_keys(1, 2)
    first = records[0]
    # As if an earlier run had rotated the first record before being stopped.
    rotate_field_keys.rotate_row(
        SampleRecord,
        rotate_field_keys.encrypted_fields(SampleRecord),
        SampleRecord.objects.values("id", *FIELDS).get(pk=first.pk),
        key_id=2,
    )
    rotated_first = read_column(SampleRecord, "text", first.pk)

    output = rotate()

    assert summary_line(output, SampleRecord).startswith(
        "encryption.SampleRecord: 3 rows scanned, 2 rotated,"
    )
    assert read_column(SampleRecord, "text", first.pk) == rotated_first


def test_dry_run_counts_without_writing(records, use_keys):
    use_keys(1, 2)

    output = rotate("--dry-run")

    assert summary_line(output, SampleRecord) == (
        "encryption.SampleRecord: 3 rows scanned, 3 to rotate."
    )
    assert stored_key_ids(SampleRecord) == {1}


def test_null_values_stay_null(db, use_keys):
    empty = SampleRecord.objects.create(name="Vetëm emri")
    use_keys(1, 2)

    rotate()

    assert read_column(SampleRecord, "text", empty.pk) is None
    assert key_id_of(read_column(SampleRecord, "name", empty.pk)) == 2


def test_row_changed_between_read_and_write_is_not_overwritten(record, use_keys):
    use_keys(1, 2)
    fields = rotate_field_keys.encrypted_fields(SampleRecord)
    (stale_row,) = next(rotate_field_keys.batches(SampleRecord, fields, batch_size=10))
    edited = SampleRecord.objects.get(pk=record.pk)
    edited.text = "Redaktuar ndërkohë"
    edited.save()

    outcome = rotate_field_keys.rotate_row(SampleRecord, fields, stale_row, key_id=2)

    assert outcome == rotate_field_keys.CHANGED
    fresh = SampleRecord.objects.get(pk=record.pk)
    assert fresh.text == "Redaktuar ndërkohë"
    assert fresh.name == VALUES["name"]


def test_command_leaves_row_edited_during_rotation_as_edited(record, use_keys):
    use_keys(1, 2)
    real_rotate_row = rotate_field_keys.rotate_row

    def edit_then_rotate(model, fields, row, key_id):
        if model is SampleRecord:
            edited = SampleRecord.objects.get(pk=row["id"])
            edited.name = "Emër i ri"
            edited.save()
        return real_rotate_row(model, fields, row, key_id)

    with mock.patch.object(rotate_field_keys, "rotate_row", edit_then_rotate):
        output = rotate()

    assert "1 skipped because changed meanwhile" in summary_line(output, SampleRecord)
    fresh = SampleRecord.objects.get(pk=record.pk)
    assert fresh.name == "Emër i ri"
    assert fresh.text == VALUES["text"]
    # The edit itself stored the whole row under the current key.
    assert stored_key_ids(SampleRecord) == {2}


def test_unreadable_value_is_reported_by_row_and_the_rest_rotated(records, use_keys):
    broken = records[1]
    write_column(SampleRecord, "name", broken.pk, read_column(SampleRecord, "text", broken.pk))
    use_keys(1, 2)
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 row"):
        call_command("rotate_field_keys", stdout=io.StringIO(), stderr=err)

    assert f"encryption.samplerecord.name of row {broken.pk}" in err.getvalue()
    assert VALUES["text"] not in err.getvalue()
    assert key_id_of(read_column(SampleRecord, "text", records[2].pk)) == 2
    assert key_id_of(read_column(SampleRecord, "text", broken.pk)) == 1


def test_help_explains_options_and_when_the_old_key_can_be_removed():
    parser = rotate_field_keys.Command().create_parser("manage.py", "rotate_field_keys")

    text = parser.format_help()

    assert "--batch-size" in text
    assert "--dry-run" in text
    assert "old key can be removed" in " ".join(text.split())
