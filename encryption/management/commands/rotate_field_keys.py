import argparse
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.lookups import Exact
from tqdm import tqdm

from encryption.fields import DecryptionError, EncryptedField, key_id_of

CURRENT, ROTATED, CHANGED = "current", "rotated", "changed"


@dataclass
class Tally:
    scanned: int = 0
    to_rotate: int = 0
    rotated: int = 0
    changed: int = 0
    unreadable: list[str] = field(default_factory=list)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedField]:
    """The encrypted fields stored in `model`'s own table."""
    return [f for f in model._meta.local_concrete_fields if isinstance(f, EncryptedField)]


def models_with_encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedField]]]:
    """Every installed model with encrypted fields, simple-history models included."""
    found = []
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if fields and not model._meta.proxy:
            found.append((model, fields))
    return found


def batches(model, fields: list[EncryptedField], batch_size: int):
    """Rows of `model` as dicts (primary key, bound primary key, stored values), by primary key.

    Keyset pagination: each batch starts after the last primary key of the one
    before, so rows inserted or deleted meanwhile shift nothing.
    """
    pk_attname = model._meta.pk.attname
    names = dict.fromkeys(
        [pk_attname, *(f.bound_pk_attname for f in fields), *(f.attname for f in fields)]
    )
    queryset = model._base_manager.order_by(pk_attname).values(*names)
    last_pk = None
    while True:
        page = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        rows = list(page[:batch_size])
        if not rows:
            return
        yield rows
        last_pk = rows[-1][pk_attname]


def stale_fields(fields: list[EncryptedField], row: dict, key_id: int) -> list[EncryptedField]:
    """The fields of `row` holding a value that is not under `key_id`."""
    return [f for f in fields if row[f.attname] is not None and key_id_of(row[f.attname]) != key_id]


def rotate_row(model, fields: list[EncryptedField], row: dict, key_id: int) -> str:
    """Re-encrypt `row`'s values that are not under `key_id`, unless the row changed since read.

    Returns CURRENT (nothing to do), ROTATED, or CHANGED: the row no longer
    holds what was read (someone saved it meanwhile), so nothing is written and
    a later run picks it up. Raises DecryptionError for a value that cannot be
    decrypted.
    """
    stale = stale_fields(fields, row, key_id)
    if not stale:
        return CURRENT
    new_values = {f.attname: f.reencrypt(row[f.attname], row[f.bound_pk_attname]) for f in stale}
    # Compare-and-swap: write only if every encrypted column still holds what
    # was read, so a concurrent edit is never overwritten with an older value.
    # QuerySet.update() records no simple-history row, on purpose: a rotation
    # changes how a value is stored, not the value.
    as_read = [_holds(f.attname, row[f.attname]) for f in fields]
    matched = model._base_manager.filter(*as_read, pk=row[model._meta.pk.attname]).update(
        **new_values
    )
    return ROTATED if matched else CHANGED


def _holds(attname: str, stored: bytes | None) -> Q | Exact:
    if stored is None:
        return Q(**{f"{attname}__isnull": True})
    # The field refuses equality lookups (meaningless for application code);
    # comparing the stored bytes themselves is exactly what is wanted here.
    return Exact(F(attname), Value(bytes(stored), output_field=models.BinaryField()))


class _ProgressStream:
    """The command's stderr for tqdm, which redraws its bar with carriage returns:
    OutputWrapper would end every write with a newline, and colour it as an error."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.wrapper.flush()

    def isatty(self) -> bool:
        return self.wrapper.isatty()


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the description's paragraphs kept as written."""


class Command(BaseCommand):
    help = """\
Re-encrypt every encrypted field value that is not under the current key.

Run it after adding a new key to MBROJTJE_FIELD_KEYS: new and edited values are
encrypted under the highest key id at once, and this command re-encrypts the
older ones. It walks every model with encrypted fields, their history tables
included, in batches ordered by primary key.

It is safe to run while Mbrojtje is in use, and to interrupt: values already
under the current key are skipped, so running it again continues where it
stopped. A row that someone saves between the command's read and its write is
left as they saved it and counted as "changed meanwhile"; run the command again
to rotate it. A rotation changes how values are stored, not what they are, so it
adds no history records.

Once a run reports 0 left to rotate in every model (check with --dry-run), the
old key can be removed from MBROJTJE_FIELD_KEYS. A value that cannot be
decrypted (altered, or its key already removed) is reported by model, field and
primary key; the command rotates everything else, then exits with status 1.

Output: one summary line per model on standard output; a progress bar per model
on standard error when it is a terminal. Values never appear in the output.
"""

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=500,
            help="Rows read and written per transaction (default: 500).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count the rows that would be rotated; write nothing.",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        key_id = settings.FIELD_ENCRYPTION_KEYS.current_id
        self.stdout.write(f"Current key id: {key_id}.")
        if dry_run:
            self.stdout.write("Dry run: nothing is written.")
        unreadable = []
        for model, fields in models_with_encrypted_fields():
            tally = self.rotate_model(model, fields, key_id, batch_size, dry_run)
            self.stdout.write(self.summary(model, tally, dry_run))
            unreadable += tally.unreadable
        for message in unreadable:
            self.stderr.write(message)
        if unreadable:
            raise CommandError(f"{len(unreadable)} row(s) could not be decrypted (listed above).")

    def rotate_model(self, model, fields, key_id: int, batch_size: int, dry_run: bool) -> Tally:
        tally = Tally()
        with tqdm(
            total=model._base_manager.count(),
            desc=model._meta.label,
            unit=" rows",
            file=_ProgressStream(self.stderr),
            disable=None,
        ) as progress:
            for rows in batches(model, fields, batch_size):
                with transaction.atomic():
                    for row in rows:
                        self.rotate_one(model, fields, row, key_id, dry_run, tally)
                tally.scanned += len(rows)
                progress.update(len(rows))
        return tally

    def rotate_one(self, model, fields, row, key_id: int, dry_run: bool, tally: Tally) -> None:
        if not stale_fields(fields, row, key_id):
            return
        tally.to_rotate += 1
        if dry_run:
            return
        try:
            outcome = rotate_row(model, fields, row, key_id)
        except DecryptionError as error:
            tally.unreadable.append(str(error))
            return
        if outcome == ROTATED:
            tally.rotated += 1
        elif outcome == CHANGED:
            tally.changed += 1

    def summary(self, model, tally: Tally, dry_run: bool) -> str:
        label = model._meta.label
        if dry_run:
            return f"{label}: {tally.scanned} rows scanned, {tally.to_rotate} to rotate."
        return (
            f"{label}: {tally.scanned} rows scanned, {tally.rotated} rotated, "
            f"{tally.changed} skipped because changed meanwhile, "
            f"{len(tally.unreadable)} unreadable."
        )
