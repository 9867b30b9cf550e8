"""Model fields whose values are encrypted at rest with AES-GCM.

A column holds `version (1 byte) | key id (2 bytes, big-endian) | nonce (12 bytes)
| ciphertext and tag`; NULL stays NULL. New values are encrypted under the
highest key id of `settings.FIELD_ENCRYPTION_KEYS`; `manage.py rotate_field_keys`
re-encrypts older values.

Each ciphertext is bound (as AES-GCM associated data, together with the version
and key id) to the live model's label, the field name and the row's primary
key: a value copied into another column or another row does not decrypt. The
primary key must therefore be known before the INSERT, so a model with an
encrypted field needs a UUID primary key with a default (system check
encryption.E001). A django-simple-history row binds to the tracked model and to
the original primary key it keeps, so history rows decrypt as well.

A value is decrypted when first read from the instance, and encrypted in
`pre_save()`, where the row is known; a save keeps the stored ciphertext while
the value is unchanged and under the current key. Hence what the fields refuse:

* lookups other than `isnull`: equality on ciphertexts with random nonces never
  matches; search through a blind index (encryption.blind_index) instead;
* `QuerySet.update()`, `bulk_update()` and raw saves (loaddata) with clear
  values: they bypass `pre_save()`, so there is no row to bind to;
* returning the stored bytes when decryption fails: `DecryptionError` is raised,
  naming the model, field and primary key but never a value;
* saving a new value that its validators refuse, above all one longer than
  `max_length` (counted in characters of the clear text): `ValidationError`, at
  save as at `full_clean()`, since the database cannot check a ciphertext's length.

`values()` and `values_list()` return the stored `Ciphertext`, never clear text.
Serialisation (dumpdata) writes the ciphertext in base64 so that a dump leaving
the server carries no clear text. Such a dump cannot be loaded back with
loaddata (see above): back up with the database's own tools. Django's JSON,
YAML and Python serialisers pass dates and numbers through without asking the
field, so an EncryptedDateField, or an EncryptedJSONField holding a bare number
or boolean, appears in clear in their output: keep tables with such fields out
of dumps that leave the server.
"""

import base64
import datetime
import functools
import json
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django import forms
from django.conf import settings
from django.core import checks, validators
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalChanges

FORMAT_VERSION = 1
_HEADER = struct.Struct(">BH")
_NONCE_BYTES = 12
_TAG_BYTES = 16


class DecryptionError(Exception):
    """A stored value could not be decrypted. The message names the row, never a value."""


class Ciphertext(bytes):
    """Bytes as stored in an encrypted column, never clear text.

    `binding` is the row the bytes were loaded for, when it was known; it lets
    a value that was never read be saved untouched, or moved to a new primary
    key (a copied row) by decrypting it under the row it came from.
    """

    binding: "Binding | None" = None


@dataclass(frozen=True)
class Binding:
    """What a ciphertext is bound to: the live model, the field and the row."""

    label: str
    field: str
    pk: str

    def associated_data(self, header: bytes) -> bytes:
        return header + "\x1f".join((self.label, self.field, self.pk)).encode("utf-8")

    def __str__(self) -> str:
        return f"{self.label}.{self.field} of row {self.pk}"


@functools.lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def encrypt(clear: bytes, binding: Binding) -> Ciphertext:
    """Encrypt `clear` for `binding` under the current key, with a fresh nonce."""
    keyring = settings.FIELD_ENCRYPTION_KEYS
    header = _HEADER.pack(FORMAT_VERSION, keyring.current_id)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aead(keyring.current_key).encrypt(nonce, clear, binding.associated_data(header))
    stored = Ciphertext(header + nonce + sealed)
    stored.binding = binding
    return stored


def decrypt(stored: bytes, binding: Binding) -> bytes:
    """The clear bytes of `stored`, which must have been encrypted for `binding`.

    Raises DecryptionError for an unknown format version, a key id that is not
    configured, and any value altered, truncated or bound to another row or field.
    """
    stored = bytes(stored)
    if len(stored) < _HEADER.size + _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError(f"Cannot decrypt {binding}: the stored value is truncated.")
    version, key_id = _HEADER.unpack_from(stored)
    if version != FORMAT_VERSION:
        raise DecryptionError(f"Cannot decrypt {binding}: unknown format version {version}.")
    key = settings.FIELD_ENCRYPTION_KEYS.keys.get(key_id)
    if key is None:
        raise DecryptionError(
            f"Cannot decrypt {binding}: key id {key_id} is not in MBROJTJE_FIELD_KEYS."
        )
    header, nonce = stored[: _HEADER.size], stored[_HEADER.size : _HEADER.size + _NONCE_BYTES]
    try:
        return _aead(key).decrypt(
            nonce, stored[_HEADER.size + _NONCE_BYTES :], binding.associated_data(header)
        )
    except InvalidTag:
        raise DecryptionError(
            f"Cannot decrypt {binding}: authentication failed (the value was altered, "
            "copied from another row or field, or the key with this id is not the one "
            "it was encrypted with)."
        ) from None


def key_id_of(stored: bytes) -> int | None:
    """The key id a stored value was encrypted under; None if it is not in a known format."""
    if len(stored) < _HEADER.size:
        return None
    version, key_id = _HEADER.unpack_from(stored)
    return key_id if version == FORMAT_VERSION else None


def _live_model(model: type[models.Model]) -> type[models.Model] | None:
    # A simple-history historical model copies the tracked model's fields; its
    # rows bind to the tracked model, not to the history table. Migrations
    # render historical models without `instance_type`: None, nothing to bind to.
    if issubclass(model, HistoricalChanges):
        return getattr(model, "instance_type", None)
    return model


@dataclass(frozen=True)
class _Opened:
    """The stored value an instance's clear value came from (or was last saved as)."""

    ciphertext: Ciphertext
    clear: bytes


class EncryptedAttribute(DeferredAttribute):
    """Decrypts the stored value on first read and keeps the clear value on the instance.

    A data descriptor (it defines __set__), so that it is consulted even once
    the instance's __dict__ holds the value.
    """

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            value = self.field.open(instance, value)
        return value

    def __set__(self, instance, value):
        # A ciphertext set here comes from the database for this row (building
        # the instance, loading a deferred field); pre_save() proves the claim
        # by decrypting it before it is written anywhere.
        if isinstance(value, Ciphertext) and value.binding is None:
            value.binding = self.field.binding_of(instance, required=False)
        instance.__dict__[self.field.attname] = value


class EncryptedField(models.BinaryField):
    """Base of the encrypted fields: a binary column holding the ciphertext.

    Subclasses say how the clear value becomes bytes and back. Not for use
    on its own.
    """

    descriptor_class = EncryptedAttribute
    empty_values = list(validators.EMPTY_VALUES)
    live_model: type[models.Model] | None = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", True)
        super().__init__(*args, **kwargs)

    def to_clear_bytes(self, value) -> bytes:
        raise NotImplementedError

    def from_clear_bytes(self, clear: bytes):
        raise NotImplementedError

    # --- Binding ---------------------------------------------------------------

    def contribute_to_class(self, cls, name, **kwargs):
        super().contribute_to_class(cls, name, **kwargs)
        # An abstract model's fields are copied to each child, which binds its own.
        if not cls._meta.abstract:
            self.live_model = _live_model(cls)

    @property
    def bound_pk_attname(self) -> str:
        """The attribute holding the primary key values are bound to (on history rows too)."""
        return self._live_opts().pk.attname

    def _live_opts(self):
        if self.live_model is None:
            raise ValueError(
                f"{self._where} belongs to a historical model rendered by migrations, which "
                "does not know the tracked model: its values cannot be encrypted or decrypted."
            )
        return self.live_model._meta

    def binding_for_pk(self, pk) -> Binding:
        opts = self._live_opts()
        return Binding(opts.label_lower, self.name, str(opts.pk.to_python(pk)))

    def binding_of(self, instance, *, required: bool = True) -> Binding | None:
        """The binding of `instance`'s row; refuses (ValueError) a row without a primary key."""
        if self.live_model is None and not required:
            return None
        pk = instance.__dict__.get(self.bound_pk_attname)
        if pk is None:
            if required:
                raise ValueError(
                    f"{self._where} cannot be encrypted or decrypted before the row has "
                    "a primary key."
                )
            return None
        return self.binding_for_pk(pk)

    # --- Reading and writing ---------------------------------------------------

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        # PostgreSQL returns memoryview, SQLite bytes.
        return Ciphertext(bytes(value))

    def open(self, instance, stored: Ciphertext):
        """Decrypt `stored` for `instance` and keep the clear value on it."""
        if stored.binding is None:
            stored.binding = self.binding_of(instance)
        clear = decrypt(stored, stored.binding)
        value = self.from_clear_bytes(clear)
        instance.__dict__[self.attname] = value
        instance.__dict__[self._opened_key] = _Opened(stored, clear)
        return value

    @property
    def _opened_key(self) -> str:
        return f"_encrypted_{self.attname}"

    def pre_save(self, model_instance, add):
        """The ciphertext to store: the loaded one while the value is unchanged and
        under the current key, else a fresh one.

        Refuses (DecryptionError) to carry over a never-read ciphertext that does
        not decrypt for the row it was loaded for.
        """
        data = model_instance.__dict__
        value = (
            data[self.attname] if self.attname in data else getattr(model_instance, self.attname)
        )
        if value is None:
            return None
        binding = self.binding_of(model_instance)
        # Reused ciphertexts must be under the current key: an instance loaded
        # before a key rotation and saved after it must not undo the rotation.
        current_key_id = settings.FIELD_ENCRYPTION_KEYS.current_id
        if isinstance(value, Ciphertext):
            # Never read. Decrypting (about a microsecond) proves it belongs to
            # the row it was loaded for; under a new primary key (a copied row)
            # it is encrypted afresh.
            origin = value.binding or binding
            clear = decrypt(value, origin)
            if origin == binding and key_id_of(value) == current_key_id:
                return value
            data[self.attname] = self.from_clear_bytes(clear)
        else:
            clear = self.to_clear_bytes(value)
            opened = data.get(self._opened_key)
            if (
                opened
                and opened.ciphertext.binding == binding
                and opened.clear == clear
                and key_id_of(opened.ciphertext) == current_key_id
            ):
                return opened.ciphertext
            if not opened or opened.clear != clear:
                self._refuse_invalid(value)
        stored = encrypt(clear, binding)
        data[self._opened_key] = _Opened(stored, clear)
        return stored

    def _refuse_invalid(self, value) -> None:
        """Refuse a new value the field's validators refuse (above all, one longer than
        max_length), even when the save skipped full_clean(): the database cannot check
        the length of a ciphertext. Values already stored are carried over unchecked."""
        try:
            self.run_validators(value)
        except ValidationError as error:
            raise ValidationError({self.name: error.error_list}) from None

    def reencrypt(self, stored: bytes, pk) -> Ciphertext:
        """`stored`, of the row with primary key `pk`, encrypted again under the current key."""
        binding = self.binding_for_pk(pk)
        return encrypt(decrypt(stored, binding), binding)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is not None and not isinstance(value, Ciphertext):
            raise TypeError(
                f"{self._where} is encrypted when the model is saved: QuerySet.update(), "
                "bulk_update() and raw saves (loaddata) cannot write clear values into it."
            )
        return super().get_db_prep_value(value, connection, prepared)

    def get_default(self):
        # BinaryField turns an empty default into b""; here defaults are clear values.
        return models.Field.get_default(self)

    def value_to_string(self, obj):
        """Base64 of the ciphertext: a dump must not carry clear text."""
        stored = self.pre_save(obj, add=False)
        return None if stored is None else base64.b64encode(stored).decode("ascii")

    # --- Lookups ---------------------------------------------------------------

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise self._lookup_refused(lookup_name)
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        raise self._lookup_refused(lookup_name)

    def _lookup_refused(self, lookup_name: str) -> FieldError:
        return FieldError(
            f"{self._where} is encrypted: only the isnull lookup works on it, not "
            f"{lookup_name!r}. To find rows by value, filter on a blind index stored "
            "beside it (encryption.blind_index)."
        )

    @property
    def _where(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.label}.{self.name}" if model else type(self).__name__

    # --- Checks and migrations -------------------------------------------------

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._check_primary_key(), *self._check_not_unique()]

    def _check_str_default_value(self):
        # BinaryField refuses str defaults; these fields take clear values.
        return []

    def _check_primary_key(self):
        if issubclass(self.model, HistoricalChanges):
            return []
        pk = self.model._meta.pk
        if isinstance(pk, models.UUIDField) and pk.has_default():
            return []
        return [
            checks.Error(
                "A model with an encrypted field needs a UUIDField primary key with a default.",
                hint="Each value is bound to its row's primary key, which must be known "
                "before the row is inserted: id = models.UUIDField(primary_key=True, "
                "default=uuid.uuid4, editable=False).",
                obj=self,
                id="encryption.E001",
            )
        ]

    def _check_not_unique(self):
        if not (self.unique or self.primary_key):
            return []
        return [
            checks.Error(
                "An encrypted field cannot be unique or a primary key: equal values have "
                "different ciphertexts.",
                hint="Put a unique constraint on a blind index stored beside it.",
                obj=self,
                id="encryption.E002",
            )
        ]

    def deconstruct(self):
        # Field's own, not BinaryField's: editable is True by default here.
        return models.Field.deconstruct(self)


class _EncryptedString(EncryptedField):
    """Text fields: the clear value is a str, stored as UTF-8."""

    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def to_clear_bytes(self, value) -> bytes:
        return self.to_python(value).encode("utf-8")

    def from_clear_bytes(self, clear: bytes) -> str:
        return clear.decode("utf-8")


class EncryptedTextField(_EncryptedString):
    """Encrypted text, up to max_length characters when it is set; a textarea in forms."""

    description = _("Encrypted text")

    def formfield(self, **kwargs):
        if self.choices is None:
            kwargs.setdefault("widget", forms.Textarea)
        return super().formfield(**{"max_length": self.max_length, **kwargs})


class EncryptedCharField(_EncryptedString):
    """Encrypted single-line text; max_length is checked on the clear value."""

    description = _("Encrypted string (up to %(max_length)s)")

    def formfield(self, **kwargs):
        defaults = {"max_length": self.max_length}
        if self.null:
            defaults["empty_value"] = None
        return super().formfield(**{**defaults, **kwargs})


class EncryptedDateField(EncryptedField):
    """An encrypted date (without time), stored as its ISO form."""

    description = _("Encrypted date")
    empty_strings_allowed = False
    default_error_messages = models.DateField.default_error_messages

    def to_python(self, value):
        # Django's own date parsing, with the same messages.
        return models.DateField.to_python(self, value)

    def to_clear_bytes(self, value) -> bytes:
        return self.to_python(value).isoformat().encode("ascii")

    def from_clear_bytes(self, clear: bytes) -> datetime.date:
        return datetime.date.fromisoformat(clear.decode("ascii"))

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.DateField, **kwargs})


class EncryptedJSONField(EncryptedField):
    """Encrypted JSON. None is stored as NULL, so a JSON null cannot be told apart from it."""

    description = _("Encrypted JSON")
    empty_strings_allowed = False
    default_error_messages = {"invalid": _("Value must be valid JSON.")}

    def to_python(self, value):
        return value

    def to_clear_bytes(self, value) -> bytes:
        return json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")

    def from_clear_bytes(self, clear: bytes):
        return json.loads(clear)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})
