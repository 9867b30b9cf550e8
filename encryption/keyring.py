"""The keys of field encryption and blind indexes, read from the environment.

Pure Python with no Django import, so that settings can parse and validate the
keys at start-up and refuse to start with a malformed one.
"""

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass

KEY_BYTES = 32


class KeyConfigurationError(ValueError):
    """A key in the environment is missing or malformed."""


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii") + b"==")
    except (binascii.Error, UnicodeEncodeError) as error:
        raise KeyConfigurationError(f"{what} is not valid base64.") from error
    if len(key) != KEY_BYTES:
        raise KeyConfigurationError(
            f"{what} must be {KEY_BYTES} bytes encoded in base64 (it is {len(key)} bytes)."
        )
    return key


@dataclass(frozen=True)
class KeyRing:
    """Field-encryption keys by id; new values are encrypted under the highest id."""

    keys: dict[int, bytes]

    @property
    def current_id(self) -> int:
        return max(self.keys)

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_id]

    @classmethod
    def parse(cls, text: str, variable: str = "MBROJTJE_FIELD_KEYS") -> "KeyRing":
        """Parse `id:base64key,id:base64key`; ids are integers from 1 to 65535."""
        if not text or not text.strip():
            raise KeyConfigurationError(f"{variable} is not set.")
        keys: dict[int, bytes] = {}
        for item in text.split(","):
            key_id_text, separator, key_text = item.strip().partition(":")
            if not separator or not key_id_text.isdigit():
                raise KeyConfigurationError(
                    f"{variable} must be a list of id:key pairs, "
                    "e.g. 1:<base64 key>,2:<base64 key>."
                )
            key_id = int(key_id_text)
            if not 1 <= key_id <= 0xFFFF:
                raise KeyConfigurationError(f"{variable}: key ids run from 1 to 65535.")
            if key_id in keys:
                raise KeyConfigurationError(f"{variable}: key id {key_id} appears twice.")
            keys[key_id] = _decode_key(key_text, f"{variable} key {key_id}")
        return cls(keys=keys)


def parse_blind_index_key(text: str, variable: str = "MBROJTJE_BLIND_INDEX_KEY") -> bytes:
    if not text or not text.strip():
        raise KeyConfigurationError(f"{variable} is not set.")
    return _decode_key(text, variable)


def development_key(purpose: str) -> str:
    """A fixed, public key for development and tests only; settings refuse it outside debug."""
    digest = hashlib.sha256(f"mbrojtje-development-only:{purpose}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def generate_key() -> str:
    """A new random key, for .env files and rotation."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
