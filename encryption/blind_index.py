"""Blind indexes: keyed hashes that let an encrypted value be found by equality.

An app stores `blind_index(value, purpose=...)` in a
`CharField(max_length=64, db_index=True)` beside the encrypted field and
filters on it. A blind index reveals which rows hold equal values, so use one
only on high-entropy values (a personal number) or compound values (normalised
name and birth date), never on a short list of possible values. A missing value
is stored as NULL, not as the index of an empty string.

Each purpose has its own key, derived from `settings.BLIND_INDEX_KEY`, so the
indexes of two purposes cannot be matched against each other.
"""

import datetime
import functools
import hashlib
import hmac
import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Albanian's two letters with diacritics, folded so that a name typed without
# them (common on phones and foreign keyboards) finds the same person.
_ALBANIAN_FOLDING = str.maketrans({"ë": "e", "Ë": "e", "ç": "c", "Ç": "c"})

# A control character that normalise() turns into a space (str.split() treats
# it as whitespace), so it can never occur inside a normalised part.
_PART_SEPARATOR = "\x1f"


def normalise(value: str) -> str:
    """The form of `value` that is indexed: NFC, case-folded, ë→e and ç→c,
    whitespace collapsed to single spaces and stripped."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())
    return " ".join(folded.translate(_ALBANIAN_FOLDING).split())


def blind_index(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA256 of normalise(value) under the key of `purpose`.

    Refuses a value that is not a string and an empty purpose.
    """
    if not isinstance(value, str):
        raise TypeError(f"blind_index() takes a string, not {type(value).__name__}.")
    return _digest(normalise(value), purpose)


def blind_index_of(*parts: str | datetime.date, purpose: str) -> str:
    """Blind index of a compound value, e.g. (first name, last name, birth date).

    Each string part is normalised; a date counts as its ISO form. Refuses
    an empty list of parts and parts of any other type.
    """
    if not parts:
        raise ValueError("blind_index_of() needs at least one part.")
    return _digest(_PART_SEPARATOR.join(_normalised_part(part) for part in parts), purpose)


def _normalised_part(part: str | datetime.date) -> str:
    # datetime is a date too, but a time of day would make equal days differ.
    if isinstance(part, datetime.date) and not isinstance(part, datetime.datetime):
        return part.isoformat()
    if isinstance(part, str):
        return normalise(part)
    raise TypeError(f"A blind index part is a string or a date, not {type(part).__name__}.")


def _digest(normalised: str, purpose: str) -> str:
    key = _index_key(settings.BLIND_INDEX_KEY, purpose)
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=64)
def _index_key(root_key: bytes, purpose: str) -> bytes:
    if not purpose:
        raise ValueError("A blind index needs a purpose, e.g. 'child-personal-number'.")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode("utf-8"))
    return hkdf.derive(root_key)
