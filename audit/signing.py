"""The checkpoint key pair and the checkpoint file, both kept outside the database.

The private key signs checkpoints (`audit_checkpoint`); the public key and
the file of checkpoints are all `audit_verify` needs to trust. Keep the private
key readable only by the account that runs `audit_checkpoint`, and the
checkpoint file on storage the database administrators cannot write.
"""

import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


class KeyMissing(Exception):
    pass


def payload_digest(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


def generate(private_path: Path, public_path: Path) -> None:
    """Write a new key pair; refuses to overwrite an existing private key."""
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def signer() -> Ed25519PrivateKey:
    path = Path(settings.MBROJTJE_AUDIT_SIGNING_KEY)
    if not path.exists():
        raise KeyMissing(
            f"No checkpoint signing key at {path}. Create one with "
            "`python manage.py audit_keygen` or set MBROJTJE_AUDIT_SIGNING_KEY."
        )
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMissing(f"{path} is not an Ed25519 private key.")
    return key


def verifier() -> Ed25519PublicKey:
    path = Path(settings.MBROJTJE_AUDIT_VERIFY_KEY)
    if not path.exists():
        raise KeyMissing(
            f"No checkpoint public key at {path}. Set MBROJTJE_AUDIT_VERIFY_KEY to the "
            "public key written by `python manage.py audit_keygen`."
        )
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise KeyMissing(f"{path} is not an Ed25519 public key.")
    return key


def append_to_file(checkpoint) -> None:
    path = Path(settings.MBROJTJE_AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"payload": checkpoint.payload, "signature": checkpoint.signature})
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_file() -> list[dict] | None:
    """The checkpoints in the file, or None when there is no file yet."""
    path = Path(settings.MBROJTJE_AUDIT_CHECKPOINT_FILE)
    if not path.exists():
        return None
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
