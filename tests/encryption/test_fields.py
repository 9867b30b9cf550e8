import base64
import datetime
import json
import uuid

import pytest
from django.core import serializers
from django.core.exceptions import FieldError, ValidationError
from django.db import connection, models
from django.forms import modelform_factory
from django.test.utils import CaptureQueriesContext, isolate_apps

from encryption.fields import (
    Binding,
    Ciphertext,
    DecryptionError,
    EncryptedDateField,
    EncryptedTextField,
    decrypt,
    key_id_of,
)
from tests.encryption.conftest import VALUES
from tests.encryption.models import SampleNote, SampleRecord
from tests.encryption.raw import read_column, write_column

HistoricalSampleRecord = SampleRecord.history.model
FIELDS = list(VALUES)


def clear_bytes(value) -> list[bytes]:
    """Byte strings that would betray `value` if found in a column."""
    if isinstance(value, datetime.date):
        return [value.isoformat().encode()]
    if isinstance(value, dict):
        return [json.dumps(value, ensure_ascii=False).encode(), b"shkolla"]
    return [value.encode(), value.split()[0].encode()]


# --- Round trips -----------------------------------------------------------------


@pytest.mark.parametrize("field_name", FIELDS)
def test_value_survives_save_and_fresh_query(record, field_name):
    fresh = SampleRecord.objects.get(pk=record.pk)

    assert getattr(fresh, field_name) == VALUES[field_name]


@pytest.mark.parametrize("field_name", FIELDS)
def test_history_row_keeps_value_encrypted_and_readable(record, field_name):
    history_row = HistoricalSampleRecord.objects.get(id=record.pk)

    assert getattr(history_row, field_name) == VALUES[field_name]
    stored = read_column(HistoricalSampleRecord, field_name, history_row.pk)
    assert key_id_of(stored) == 1
    # Bound to the live model and the live row, not to the history table.
    assert decrypt(stored, Binding("encryption.samplerecord", field_name, str(record.pk)))
    assert not any(secret in stored for secret in clear_bytes(VALUES[field_name]))


def test_history_records_each_change(record):
    record.text = "Rasti u mbyll."
    record.save()

    texts = [row.text for row in SampleRecord.objects.get(pk=record.pk).history.all()]

    assert texts == ["Rasti u mbyll.", VALUES["text"]]


def test_history_row_restores_the_live_object(record):
    history_row = HistoricalSampleRecord.objects.get(id=record.pk)

    assert history_row.instance.name == VALUES["name"]


@pytest.mark.parametrize("field_name", FIELDS)
def test_none_is_stored_as_null(db, use_keys, field_name):
    empty = SampleRecord.objects.create()

    assert read_column(SampleRecord, field_name, empty.pk) is None
    assert getattr(SampleRecord.objects.get(pk=empty.pk), field_name) is None
    assert SampleRecord.objects.filter(**{f"{field_name}__isnull": True}).count() == 1


def test_deferred_field_is_loaded_and_decrypted_on_access(record):
    fresh = SampleRecord.objects.defer("text").get(pk=record.pk)

    assert "text" in fresh.get_deferred_fields()
    assert fresh.text == VALUES["text"]


# --- What is stored ----------------------------------------------------------------


@pytest.mark.parametrize("field_name", FIELDS)
def test_column_never_holds_clear_value(record, field_name):
    stored = read_column(SampleRecord, field_name, record.pk)

    assert stored is not None
    assert not any(secret in stored for secret in clear_bytes(VALUES[field_name]))


def test_column_holds_version_key_id_and_nonce_then_ciphertext(record):
    stored = read_column(SampleRecord, "name", record.pk)

    assert stored[0] == 1
    assert int.from_bytes(stored[1:3], "big") == 1
    # nonce (12) + UTF-8 of the name + tag (16)
    assert len(stored) == 3 + 12 + len(VALUES["name"].encode()) + 16


def test_equal_values_are_stored_differently(db, use_keys):
    first = SampleRecord.objects.create(name="Ana")
    second = SampleRecord.objects.create(name="Ana")

    assert read_column(SampleRecord, "name", first.pk) != read_column(
        SampleRecord, "name", second.pk
    )


def test_values_returns_ciphertext_never_clear_text(record):
    row = SampleRecord.objects.values(*FIELDS).get(pk=record.pk)

    for field_name in FIELDS:
        assert isinstance(row[field_name], Ciphertext)
        assert not any(secret in row[field_name] for secret in clear_bytes(VALUES[field_name]))


def test_values_list_returns_ciphertext(record):
    (stored,) = SampleRecord.objects.values_list("text", flat=True)

    assert stored == read_column(SampleRecord, "text", record.pk)


# --- Saving without needless re-encryption ----------------------------------------


def test_saving_without_reading_keeps_stored_ciphertext(record):
    before = read_column(SampleRecord, "text", record.pk)

    SampleRecord.objects.get(pk=record.pk).save()

    assert read_column(SampleRecord, "text", record.pk) == before


def test_saving_read_but_unchanged_value_keeps_stored_ciphertext(record):
    before = read_column(SampleRecord, "details", record.pk)
    fresh = SampleRecord.objects.get(pk=record.pk)
    assert fresh.details == VALUES["details"]

    fresh.save()

    assert read_column(SampleRecord, "details", record.pk) == before


@pytest.mark.parametrize("read_first", [False, True], ids=["unread", "read"])
def test_saving_unchanged_value_under_old_key_moves_it_to_current_key(record, use_keys, read_first):
    loaded = SampleRecord.objects.get(pk=record.pk)
    if read_first:
        assert loaded.text == VALUES["text"]
    use_keys(1, 2)

    loaded.save()

    assert key_id_of(read_column(SampleRecord, "text", record.pk)) == 2
    use_keys(2)
    assert SampleRecord.objects.get(pk=record.pk).text == VALUES["text"]


def test_json_changed_in_place_is_saved(record):
    fresh = SampleRecord.objects.get(pk=record.pk)
    fresh.details["rrezik"] = False
    fresh.save()

    assert SampleRecord.objects.get(pk=record.pk).details["rrezik"] is False


def test_copied_row_with_unread_values_decrypts_under_its_new_key(record):
    copy = SampleRecord.objects.get(pk=record.pk)
    copy.pk = uuid.uuid4()
    copy._state.adding = True
    copy.save()

    assert SampleRecord.objects.get(pk=copy.pk).text == VALUES["text"]


# --- Tampering and copying ciphertexts ---------------------------------------------


@pytest.mark.parametrize(
    ("position", "part"),
    [(0, "version"), (2, "key id"), (5, "nonce"), (20, "ciphertext"), (-1, "tag")],
)
def test_altered_byte_fails_to_decrypt(record, position, part):
    stored = bytearray(read_column(SampleRecord, "text", record.pk))
    stored[position] ^= 0x01
    write_column(SampleRecord, "text", record.pk, bytes(stored))

    fresh = SampleRecord.objects.get(pk=record.pk)
    with pytest.raises(DecryptionError):
        fresh.text  # noqa: B018


def test_truncated_value_fails_to_decrypt(record):
    write_column(SampleRecord, "text", record.pk, read_column(SampleRecord, "text", record.pk)[:20])

    with pytest.raises(DecryptionError, match="truncated"):
        SampleRecord.objects.get(pk=record.pk).text  # noqa: B018


def test_ciphertext_copied_to_another_field_of_same_row_fails(record):
    write_column(SampleRecord, "name", record.pk, read_column(SampleRecord, "text", record.pk))

    fresh = SampleRecord.objects.get(pk=record.pk)
    assert fresh.text == VALUES["text"]
    with pytest.raises(DecryptionError):
        fresh.name  # noqa: B018


def test_ciphertext_copied_to_same_field_of_another_row_fails(record):
    other = SampleRecord.objects.create(text="Tjetër")
    write_column(SampleRecord, "text", other.pk, read_column(SampleRecord, "text", record.pk))

    with pytest.raises(DecryptionError):
        SampleRecord.objects.get(pk=other.pk).text  # noqa: B018


def test_ciphertext_copied_to_same_named_field_of_another_model_fails(record):
    note = SampleNote.objects.create(id=record.pk, text="Shënim")
    write_column(SampleNote, "text", note.pk, read_column(SampleRecord, "text", record.pk))

    with pytest.raises(DecryptionError):
        SampleNote.objects.get(pk=note.pk).text  # noqa: B018


def test_ciphertext_assigned_to_another_row_through_orm_is_refused_before_writing(record):
    stolen = SampleRecord.objects.values_list("text", flat=True).get(pk=record.pk)
    note = SampleNote(text=Ciphertext(stolen))

    with CaptureQueriesContext(connection) as queries, pytest.raises(DecryptionError):
        note.save()

    assert not [query for query in queries if "INSERT" in query["sql"]]


def test_decryption_error_names_row_but_not_value(record):
    write_column(SampleRecord, "name", record.pk, read_column(SampleRecord, "text", record.pk))

    with pytest.raises(DecryptionError) as caught:
        SampleRecord.objects.get(pk=record.pk).name  # noqa: B018

    message = str(caught.value)
    assert "encryption.samplerecord.name" in message
    assert str(record.pk) in message
    assert "Ëndrita" not in message
    assert "Fëmija" not in message


def test_value_under_removed_key_fails_to_decrypt(record, use_keys):
    use_keys(2)

    with pytest.raises(DecryptionError, match="key id 1"):
        SampleRecord.objects.get(pk=record.pk).text  # noqa: B018


def test_new_values_use_highest_key_and_old_ones_still_decrypt(record, use_keys):
    use_keys(1, 2)
    newer = SampleRecord.objects.create(text="E re")

    assert key_id_of(read_column(SampleRecord, "text", newer.pk)) == 2
    assert key_id_of(read_column(SampleRecord, "text", record.pk)) == 1
    assert SampleRecord.objects.get(pk=record.pk).text == VALUES["text"]


# --- What the fields refuse -------------------------------------------------------------


@pytest.mark.parametrize(
    "lookup",
    [
        {"text": VALUES["text"]},
        {"text": None},
        {"text__icontains": "frikë"},
        {"name__in": ["Ëndrita Çela"]},
        {"born_on__year": 2014},
        {"born_on__gte": datetime.date(2000, 1, 1)},
        {"details__shkolla": "9-vjeçare"},
    ],
    ids=["exact", "exact-none", "icontains", "in", "year", "gte", "json-key"],
)
def test_lookup_other_than_isnull_is_refused(db, lookup):
    with pytest.raises(FieldError, match="only the isnull lookup"):
        SampleRecord.objects.filter(**lookup)


def test_isnull_lookup_works(record):
    assert list(SampleRecord.objects.filter(text__isnull=False)) == [record]
    assert not SampleRecord.objects.filter(text__isnull=True).exists()


def test_update_with_clear_value_is_refused(record):
    with pytest.raises(TypeError, match="cannot write clear values"):
        SampleRecord.objects.filter(pk=record.pk).update(text="E palexueshme")


def test_char_max_length_is_checked_on_clear_value(db, use_keys):
    too_long = SampleRecord(name="x" * 21)

    with pytest.raises(ValidationError) as caught:
        too_long.full_clean()

    assert list(caught.value.error_dict) == ["name"]


def test_invalid_date_is_refused(db, use_keys):
    with pytest.raises(ValidationError):
        SampleRecord(born_on="2014-02-30").full_clean()


# --- Forms and serialisation -----------------------------------------------------------


def test_model_form_shows_and_saves_clear_values(record):
    form_class = modelform_factory(SampleRecord, fields=["text", "name", "born_on", "details"])
    shown = form_class(instance=SampleRecord.objects.get(pk=record.pk))
    assert shown.initial["name"] == VALUES["name"]
    assert shown["born_on"].value() == VALUES["born_on"]

    data = {
        "text": "Tekst i ri",
        "name": VALUES["name"],
        "born_on": "2014-05-17",
        "details": json.dumps(VALUES["details"]),
    }
    submitted = form_class(data, instance=SampleRecord.objects.get(pk=record.pk))
    assert submitted.is_valid(), submitted.errors
    assert submitted.changed_data == ["text"]
    submitted.save()

    assert SampleRecord.objects.get(pk=record.pk).text == "Tekst i ri"


def test_form_fields_are_those_of_the_clear_types(db):
    form = modelform_factory(SampleRecord, fields=["text", "name", "born_on", "details"])()

    kinds = {name: type(field).__name__ for name, field in form.fields.items()}
    assert kinds == {
        "text": "CharField",
        "name": "CharField",
        "born_on": "DateField",
        "details": "JSONField",
    }
    assert type(form.fields["text"].widget).__name__ == "Textarea"
    assert form.fields["name"].max_length == 20


@pytest.mark.parametrize("field_name", ["text", "name", "details"])
def test_serialisation_writes_ciphertext_not_clear_text(record, field_name):
    dumped = serializers.serialize("json", [SampleRecord.objects.get(pk=record.pk)])

    value = json.loads(dumped)[0]["fields"][field_name]
    assert base64.b64decode(value) == read_column(SampleRecord, field_name, record.pk)
    assert not any(secret.decode() in dumped for secret in clear_bytes(VALUES[field_name]))


def test_loading_a_dump_is_refused_rather_than_storing_clear_text(record):
    dumped = serializers.serialize("json", [SampleRecord.objects.get(pk=record.pk)])
    SampleRecord.objects.all().delete()
    (loaded,) = serializers.deserialize("json", dumped)

    with pytest.raises(TypeError, match="raw saves"):
        loaded.save()


# --- System check ------------------------------------------------------------------


@isolate_apps("encryption")
def test_check_flags_model_without_uuid_primary_key():
    class Unbound(models.Model):  # noqa: DJ008
        secret = EncryptedTextField()

        class Meta:
            app_label = "encryption"

    errors = Unbound._meta.get_field("secret").check()

    assert [error.id for error in errors] == ["encryption.E001"]


@isolate_apps("encryption")
def test_check_flags_uuid_primary_key_without_default():
    class Unbound(models.Model):  # noqa: DJ008
        id = models.UUIDField(primary_key=True)
        born_on = EncryptedDateField()

        class Meta:
            app_label = "encryption"

    errors = Unbound._meta.get_field("born_on").check()

    assert [error.id for error in errors] == ["encryption.E001"]


@isolate_apps("encryption")
def test_check_flags_unique_encrypted_field():
    class Unbound(models.Model):  # noqa: DJ008
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        secret = EncryptedTextField(unique=True)

        class Meta:
            app_label = "encryption"

    errors = Unbound._meta.get_field("secret").check()

    assert [error.id for error in errors] == ["encryption.E002"]


def test_check_accepts_uuid_primary_key_with_default_and_history_model():
    for model in (SampleRecord, HistoricalSampleRecord):
        for field_name in FIELDS:
            assert model._meta.get_field(field_name).check() == []


def test_migration_path_and_arguments_round_trip():
    field = SampleRecord._meta.get_field("name")

    _name, path, _args, kwargs = field.deconstruct()

    assert path == "encryption.fields.EncryptedCharField"
    assert kwargs == {"max_length": 20, "null": True, "blank": True}
    assert "editable" not in kwargs
