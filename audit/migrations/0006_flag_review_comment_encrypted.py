"""Move the officer's comment on a flag out of the append-only review, encrypted.

The comment is typed free text, which may name the people of a case. It moves
to audit.FlagReviewComment, encrypted and bound to its own row; the review keeps
who reviewed which flag and when. Reversible: going back writes the clear
comments into the reviews again, with the append-only triggers lifted for the
time of the copy.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

import encryption.fields
from encryption.fields import Binding, Ciphertext, decrypt, encrypt


def _binding(comment_pk) -> Binding:
    return Binding("audit.flagreviewcomment", "comment", str(comment_pk))


def seal(apps, schema_editor):
    FlagReview = apps.get_model("audit", "FlagReview")
    FlagReviewComment = apps.get_model("audit", "FlagReviewComment")
    for review_pk, text in FlagReview.objects.order_by("pk").values_list("pk", "comment").iterator():
        comment_pk = uuid.uuid4()
        # Encrypted here rather than by the field, which would refuse a comment
        # written before the length limit existed.
        sealed = encrypt(text.encode("utf-8"), _binding(comment_pk))
        FlagReviewComment.objects.create(id=comment_pk, review_id=review_pk, comment=sealed)


def unseal(apps, schema_editor):
    from audit.protection import install, remove

    FlagReview = apps.get_model("audit", "FlagReview")
    FlagReviewComment = apps.get_model("audit", "FlagReviewComment")
    remove(schema_editor.connection)
    for comment_pk, review_pk, stored in FlagReviewComment.objects.values_list(
        "pk", "review_id", "comment"
    ).iterator():
        text = decrypt(Ciphertext(stored), _binding(comment_pk)).decode("utf-8")
        FlagReview.objects.filter(pk=review_pk).update(comment=text)
    install(schema_editor.connection)


def reinstall_triggers(apps, schema_editor):
    # SQLite drops a table's triggers when Django rebuilds the table to drop a column.
    from audit.protection import install

    install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_access_refused_and_new_flags"),
    ]

    operations = [
        migrations.CreateModel(
            name="FlagReviewComment",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "comment",
                    encryption.fields.EncryptedTextField(max_length=1000, verbose_name="comment"),
                ),
                (
                    "review",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="written_comment",
                        to="audit.flagreview",
                        verbose_name="flag review",
                    ),
                ),
            ],
            options={
                "verbose_name": "flag review comment",
                "verbose_name_plural": "flag review comments",
            },
        ),
        migrations.RunPython(seal, unseal),
        # Blank first, so that going back can add the column again to existing rows.
        migrations.AlterField(
            model_name="flagreview",
            name="comment",
            field=models.TextField(blank=True, verbose_name="comment"),
        ),
        migrations.RemoveField(model_name="flagreview", name="comment"),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
