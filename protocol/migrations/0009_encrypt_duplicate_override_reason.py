"""Encrypt the reason given to register a case despite a duplicate warning.

The reason is typed free text, which may name people. The clear column is
replaced by an encrypted one, in place, for the cases and their history rows;
each value is bound (see encryption.fields) to the live model, the final field
name and the case's primary key, as if the application had saved it. Reversible:
going back decrypts into a clear column again.
"""

from django.db import migrations

import encryption.fields
from encryption.fields import Binding, Ciphertext, decrypt, encrypt

FIELD = "duplicate_override_reason"
SEALED = "duplicate_override_reason_sealed"
BATCH = 500


def _binding(case_pk) -> Binding:
    # Live label and final field name: the values must decrypt once the column is renamed.
    return Binding("protocol.case", FIELD, str(case_pk))


def _rows(model, pk_name: str, case_pk_name: str, column: str):
    """(row pk, case pk, value) of the rows holding a value, a batch at a time by primary key."""
    queryset = model.objects.order_by(pk_name).values_list(pk_name, case_pk_name, column)
    last = None
    while True:
        page = queryset if last is None else queryset.filter(**{f"{pk_name}__gt": last})
        rows = list(page[:BATCH])
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def _models(apps):
    # (model, its primary key, the case primary key its values bind to)
    return [
        (apps.get_model("protocol", "Case"), "id", "id"),
        (apps.get_model("protocol", "HistoricalCase"), "history_id", "id"),
    ]


def seal(apps, schema_editor):
    for model, pk_name, case_pk_name in _models(apps):
        for pk, case_pk, clear in _rows(model, pk_name, case_pk_name, FIELD):
            if clear:
                sealed = encrypt(clear.encode("utf-8"), _binding(case_pk))
                model.objects.filter(**{pk_name: pk}).update(**{SEALED: sealed})


def unseal(apps, schema_editor):
    for model, pk_name, case_pk_name in _models(apps):
        for pk, case_pk, stored in _rows(model, pk_name, case_pk_name, SEALED):
            if stored is not None:
                clear = decrypt(Ciphertext(stored), _binding(case_pk)).decode("utf-8")
                model.objects.filter(**{pk_name: pk}).update(**{FIELD: clear})


def _sealed_field():
    return encryption.fields.EncryptedTextField(
        blank=True,
        editable=False,
        max_length=1000,
        null=True,
        verbose_name="why registered despite a possible duplicate",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("protocol", "0008_text_length_limits"),
    ]

    operations = [
        migrations.AddField(model_name="case", name=SEALED, field=_sealed_field()),
        migrations.AddField(model_name="historicalcase", name=SEALED, field=_sealed_field()),
        migrations.RunPython(seal, unseal),
        migrations.RemoveField(model_name="case", name=FIELD),
        migrations.RemoveField(model_name="historicalcase", name=FIELD),
        migrations.RenameField(model_name="case", old_name=SEALED, new_name=FIELD),
        migrations.RenameField(model_name="historicalcase", old_name=SEALED, new_name=FIELD),
    ]
