"""Encrypted backups of Mbrojtje in one file each, and their restore.

A backup holds the database (PostgreSQL: `pg_dump --format=custom`; SQLite: a
copy made through SQLite's backup API), the files of the documents folder
(encrypted already by the application), a copy of the audit checkpoint file
and a manifest. It does not hold the keys (field keys, blind-index key,
Django's secret key, the audit key pair): without them a restored copy cannot
be read or checked, and with them in the same file one theft would be enough.

Everything is streamed: no member is ever held whole in memory, whatever the
size of the database.

Encryption (format version 1)
-----------------------------
A backup is encrypted to an X25519 public key (`backup_keygen` writes the pair).
The private key stays offline with the operator: the server that makes the
backups cannot read them, nor can whoever takes the server over. The file is

    header  = "mbrojtje-backup\\n" (16 bytes) | version 0x01 (1 byte)
              | chunk size C, big-endian (4 bytes)
              | SHA-256 of the recipient's raw public key (32 bytes)
              | an ephemeral X25519 public key E, new for each backup (32 bytes)
              | salt S, random (16 bytes)
    key     = HKDF-SHA256(X25519(ephemeral private key, recipient public key),
                          salt S, info "mbrojtje-backup v1" | E | recipient public key),
              32 bytes, for AES-256-GCM
    chunk i = AES-256-GCM(key, nonce = i as 11 bytes big-endian | F,
                          plaintext chunk i, associated data = the whole header)
              where F is 0x01 for the last chunk and 0x00 for every other

Every plaintext chunk but the last holds exactly C bytes (1 MiB); the last
holds 0 to C bytes; each sealed chunk is 16 bytes longer; the file ends right
after the last one. This is the STREAM construction (Hoang, Reyhanitabar,
Rogaway and Vizár, 2015), as in age and Tink. A changed byte anywhere, chunks
reordered, dropped or added, or the file cut short (even between two chunks:
the chunk it then ends with was not sealed as the last) make a chunk fail to
authenticate. Each backup has its own key, so counter nonces never repeat.

Public-key encryption hides the content; it does not prove who made the file,
since anyone holding the public key could make one. What vouches for the audit
trail of a restored copy is `audit_verify`, against the checkpoint file and the
audit public key, which the restore runs.

Content (inside the encryption)
-------------------------------
A sequence of members, each a 4-byte big-endian length n and n bytes of UTF-8
JSON `{"name": ...}`, then blocks of a 4-byte big-endian length m > 0 and m
bytes; a zero length ends the member. In this order:

    audit/checkpoints.jsonl   the checkpoint file (its complete lines), copied
                              before the database is dumped, so that every
                              checkpoint it holds is in the dump too
    database.pgdump           pg_dump --format=custom (PostgreSQL), or
    database.sqlite3          a copy through SQLite's backup API; either without
                              the sessions (nobody's session survives a restore)
    documents/<name>          each file of MBROJTJE_DOCUMENTS_DIR, copied after the
                              dump, so that every document the dump knows is there
    manifest.json             last: format, database vendor, when it was made,
                              the heads of the applied Django migrations, and the
                              SHA-256 and size of every other member

Restore
-------
The restore reads the file twice. First it decrypts everything and checks
every member against the manifest, writing the documents, the checkpoint file
and (SQLite) the database only to temporary places beside their targets. Then,
on PostgreSQL, it decrypts again (the header must be the one already checked,
so the authenticated chunks are the same) and streams the dump into
`pg_restore --single-transaction`. Only then are the temporary files moved into
place. A failure at any point leaves the database and the folders as they were.
"""

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader

FORMAT = 1
MAGIC = b"mbrojtje-backup\n"
CHUNK_SIZE = 1 << 20
TAG_SIZE = 16
HEADER = struct.Struct(">16sBI32s32s16s")
HKDF_INFO = b"mbrojtje-backup v1"
# The most read from a source at once, and so the largest block of a member.
BLOCK_SIZE = 1 << 20
# A crafted file could announce any length; refuse what no backup writes.
MAX_BLOCK = 16 << 20
MAX_NAME = 4096

CHECKPOINTS = "audit/checkpoints.jsonl"
DATABASE = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
DOCUMENTS = "documents/"
MANIFEST = "manifest.json"
POSTGRESQL_BIN = Path("/usr/lib/postgresql/15/bin")
# Whoever holds a session key is signed in: sessions never leave the server.
SESSION_TABLE = "django_session"


class BackupError(Exception):
    """What went wrong, for the operator; never carries personal data."""


# --- Keys ------------------------------------------------------------------------


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: X25519PublicKey) -> str:
    """The first 16 bytes of SHA-256 of the raw public key, as groups of hex."""
    digest = hashlib.sha256(_raw(key)).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def _fingerprint_of_digest(digest: bytes) -> str:
    text = digest.hex()[:32]
    return " ".join(text[i : i + 4] for i in range(0, 32, 4))


def keys_generate(public_path: Path, private_path: Path) -> str:
    """Write a new key pair (the private key mode 0600); refuses to overwrite either file.

    Returns the public key's fingerprint.
    """
    public_path, private_path = Path(public_path), Path(private_path)
    if public_path.resolve() == private_path.resolve():
        raise BackupError("The public and the private key need two different files.")
    for path in (private_path, public_path):
        if path.exists():
            raise BackupError(f"{path} exists already; a key is never overwritten.")
    key = X25519PrivateKey.generate()
    for path in (private_path, public_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return fingerprint(key.public_key())


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise BackupError(f"{path} exists already; a key is never overwritten.") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def load_public_key(path: Path) -> X25519PublicKey:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BackupError(
            f"No backup public key at {path}. Make a key pair with "
            "`python manage.py backup_keygen` (see docs/backup.md)."
        ) from None
    except OSError as error:
        raise BackupError(f"Cannot read the backup public key {path}: {error.strerror}.") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        key = None
    if not isinstance(key, X25519PublicKey):
        raise BackupError(f"{path} is not an X25519 public key in PEM (from backup_keygen).")
    return key


def load_private_key(path: Path) -> X25519PrivateKey:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BackupError(f"No private key at {path}.") from None
    except OSError as error:
        raise BackupError(f"Cannot read the private key {path}: {error.strerror}.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise BackupError(
            f"{path} is protected by a passphrase: keep the key on an encrypted medium "
            "instead, and give restore a plain copy of it (openssl pkey -in KEY -out PLAIN)."
        ) from None
    except ValueError:
        key = None
    if not isinstance(key, X25519PrivateKey):
        raise BackupError(f"{path} is not an X25519 private key in PEM (from backup_keygen).")
    return key


def _aead(shared: bytes, salt: bytes, ephemeral: bytes, recipient: bytes) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=HKDF_INFO + ephemeral + recipient
    ).derive(shared)
    return AESGCM(key)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


# --- The encrypted stream --------------------------------------------------------


class _Encrypting:
    """Takes the plaintext in pieces of any size; writes the header and sealed chunks."""

    def __init__(self, file, recipient: X25519PublicKey, chunk_size: int = CHUNK_SIZE):
        ephemeral = X25519PrivateKey.generate()
        ephemeral_raw, recipient_raw = _raw(ephemeral.public_key()), _raw(recipient)
        salt = os.urandom(16)
        self.header = HEADER.pack(
            MAGIC,
            FORMAT,
            chunk_size,
            hashlib.sha256(recipient_raw).digest(),
            ephemeral_raw,
            salt,
        )
        self._aead = _aead(ephemeral.exchange(recipient), salt, ephemeral_raw, recipient_raw)
        self._file = file
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0
        self.written = len(self.header)
        file.write(self.header)

    def write(self, data) -> None:
        self._buffer += data
        # A full chunk is sealed only once more follows: then it is not the last.
        while len(self._buffer) > self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), last=False)
            del self._buffer[: self._chunk_size]

    def close(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, last), chunk, self.header)
        self._file.write(sealed)
        self.written += len(sealed)
        self._index += 1


def _read_full(file, size: int) -> bytes:
    parts, wanted = [], size
    while wanted:
        data = file.read(wanted)
        if not data:
            break
        parts.append(data)
        wanted -= len(data)
    return b"".join(parts)


def _opened(file, key: X25519PrivateKey) -> tuple[bytes, int, AESGCM]:
    """The header of the backup in `file`, its chunk size and the cipher to open it."""
    header = _read_full(file, HEADER.size)
    if len(header) < HEADER.size or not header.startswith(MAGIC):
        raise BackupError("This is not a Mbrojtje backup, or its beginning is damaged.")
    _magic, version, chunk_size, recipient_digest, ephemeral, salt = HEADER.unpack(header)
    if version != FORMAT:
        raise BackupError(
            f"This backup has format version {version}; this version of Mbrojtje reads "
            f"version {FORMAT} only."
        )
    if not 1024 <= chunk_size <= MAX_BLOCK:
        raise BackupError("The header of this backup is damaged (impossible chunk size).")
    recipient = _raw(key.public_key())
    if hashlib.sha256(recipient).digest() != recipient_digest:
        raise BackupError(
            "This backup was encrypted to the key "
            f"{_fingerprint_of_digest(recipient_digest)}, not to the private key given "
            f"({fingerprint(key.public_key())}). Use the private key that belongs to the "
            "public key the backup was made with."
        )
    try:
        shared = key.exchange(X25519PublicKey.from_public_bytes(ephemeral))
    except ValueError:
        raise BackupError("The header of this backup is damaged (bad ephemeral key).") from None
    return header, chunk_size, _aead(shared, salt, ephemeral, recipient)


def _chunks(file, header: bytes, chunk_size: int, aead: AESGCM):
    """The plaintext chunks, each authenticated before it is given out."""
    sealed_size = chunk_size + TAG_SIZE
    index, offset = 0, len(header)
    current = _read_full(file, sealed_size)
    while True:
        following = _read_full(file, sealed_size) if len(current) == sealed_size else b""
        last = not following
        try:
            yield aead.decrypt(_nonce(index, last), current, header)
        except InvalidTag:
            raise _damaged(aead, index, offset, current, header, last) from None
        if last:
            return
        index, offset, current = index + 1, offset + len(current), following


def _damaged(aead, index, offset, sealed, header, last) -> BackupError:
    if last and len(sealed) >= TAG_SIZE:
        try:
            aead.decrypt(_nonce(index, False), sealed, header)
        except InvalidTag:
            pass
        else:
            return BackupError(
                f"The backup is truncated: it ends after chunk {index} (byte {offset + len(sealed)}"
                "), which was not its last. Copy it again from where it is kept."
            )
    if last and len(sealed) < TAG_SIZE:
        return BackupError(f"The backup is truncated inside chunk {index} (byte {offset}).")
    return BackupError(
        f"Chunk {index} of the backup (from byte {offset}) does not authenticate: the file "
        "was changed, damaged, cut or its parts reordered."
    )


class _Plaintext:
    """Reads the decrypted stream in pieces of any size."""

    def __init__(self, chunks):
        self._chunks = chunks
        self._current = b""
        self._position = 0

    def read(self, size: int) -> bytes:
        parts = []
        while size:
            if self._position == len(self._current):
                following = next(self._chunks, None)
                if following is None:
                    break
                self._current, self._position = following, 0
                continue
            piece = self._current[self._position : self._position + size]
            self._position += len(piece)
            size -= len(piece)
            parts.append(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read_exact(self, size: int, what: str) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise BackupError(f"The backup's content ends inside {what}: it is malformed.")
        return data


# --- The archive inside --------------------------------------------------------------


class _Member:
    def __init__(self, archive, name: str):
        self._archive = archive
        self.name = name
        self.size = 0
        self._digest = hashlib.sha256()
        heading = json.dumps({"name": name}).encode()
        archive.sink.write(struct.pack(">I", len(heading)) + heading)

    def write(self, data: bytes) -> None:
        for start in range(0, len(data), BLOCK_SIZE):
            block = data if len(data) <= BLOCK_SIZE else data[start : start + BLOCK_SIZE]
            self._digest.update(block)
            self.size += len(block)
            self._archive.sink.write(struct.pack(">I", len(block)))
            self._archive.sink.write(block)

    def close(self) -> None:
        self._archive.sink.write(struct.pack(">I", 0))
        self._archive.members[self.name] = {"sha256": self._digest.hexdigest(), "size": self.size}


class _ArchiveWriter:
    def __init__(self, sink):
        self.sink = sink
        self.members: dict[str, dict] = {}

    def member(self, name: str) -> _Member:
        return _Member(self, name)

    def finish(self, manifest: dict) -> None:
        member = _Member(self, MANIFEST)
        member.write(json.dumps({**manifest, "members": self.members}, indent=1).encode())
        member.close()


def _checked_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise BackupError("The backup's content is malformed (a member without a name).")
    if name in (CHECKPOINTS, MANIFEST) or name in DATABASE.values():
        return name
    if name.startswith(DOCUMENTS):
        parts = name[len(DOCUMENTS) :].split("/")
        if all(
            part and part not in (".", "..") and not part.startswith(".") and "\x00" not in part
            for part in parts
        ):
            return name
    raise BackupError("The backup holds a member this version of Mbrojtje does not know.")


def _read_archive(file, key, sink_for, *, expected_header: bytes | None = None) -> tuple:
    """Decrypt the backup in `file` and check every member against the manifest.

    `sink_for(name)` gives where a member's bytes go (an object with write and
    close), or None to only hash them. Returns (header, manifest).
    """
    header, chunk_size, aead = _opened(file, key)
    if expected_header is not None and header != expected_header:
        raise BackupError("The backup file changed while it was being restored.")
    plain = _Plaintext(_chunks(file, header, chunk_size, aead))
    found: dict[str, dict] = {}
    manifest_bytes = None
    while manifest_bytes is None:
        heading = plain.read(4)
        if not heading:
            raise BackupError("The backup's content ends before its manifest: it is malformed.")
        if len(heading) < 4:
            raise BackupError("The backup's content ends inside a member: it is malformed.")
        (length,) = struct.unpack(">I", heading)
        if not 0 < length <= MAX_NAME:
            raise BackupError("The backup's content is malformed (a member heading).")
        try:
            name = json.loads(plain.read_exact(length, "a member heading"))["name"]
        except (ValueError, KeyError, TypeError):
            raise BackupError("The backup's content is malformed (a member heading).") from None
        name = _checked_name(name)
        if name in found:
            raise BackupError(f"The backup holds {name} twice: it is malformed.")
        collected = bytearray() if name == MANIFEST else None
        sink = None if collected is not None else sink_for(name)
        digest, size = hashlib.sha256(), 0
        while True:
            (length,) = struct.unpack(">I", plain.read_exact(4, name))
            if length == 0:
                break
            if length > MAX_BLOCK:
                raise BackupError(f"The backup's content is malformed (a block of {name}).")
            data = plain.read_exact(length, name)
            if collected is not None:
                collected += data
                continue
            digest.update(data)
            size += length
            if sink is not None:
                sink.write(data)
        if sink is not None:
            sink.close()
        if collected is not None:
            manifest_bytes = bytes(collected)
        else:
            found[name] = {"sha256": digest.hexdigest(), "size": size}
    if plain.read(1):
        raise BackupError("The backup's content goes on after its manifest: it is malformed.")
    try:
        manifest = json.loads(manifest_bytes)
        complete = (
            isinstance(manifest, dict)
            and {"format", "vendor", "created_at", "migrations", "members"} <= set(manifest)
            and isinstance(manifest["members"], dict)
            and isinstance(manifest["migrations"], dict)
        )
    except ValueError:
        complete = False
    if not complete:
        raise BackupError("The backup's manifest is malformed.")
    listed, vendor = manifest["members"], manifest["vendor"]
    if manifest["format"] != FORMAT:
        raise BackupError(f"The backup's manifest has format {manifest['format']}, not {FORMAT}.")
    for name in sorted(set(listed) | set(found)):
        if name not in found:
            raise BackupError(f"The manifest lists {name}, which the backup does not hold.")
        if name not in listed:
            raise BackupError(f"The backup holds {name}, which its manifest does not list.")
        if listed[name] != found[name]:
            raise BackupError(f"{name} does not match the SHA-256 and size in the manifest.")
    if vendor not in DATABASE or DATABASE[vendor] not in found:
        raise BackupError("The backup holds no database, or not the one its manifest names.")
    return header, manifest


# --- Making a backup -----------------------------------------------------------------


@dataclass
class BackupMade:
    path: Path
    size: int
    seconds: float
    vendor: str
    key: str
    database_bytes: int
    documents: int
    documents_bytes: int
    checkpoint_bytes: int | None


def pg_program(name: str) -> Path:
    """pg_dump or pg_restore: in MBROJTJE_PG_BIN when set, else on PATH, else PostgreSQL 15's."""
    configured = getattr(settings, "MBROJTJE_PG_BIN", None)
    if configured:
        candidates = [Path(configured) / name]
    else:
        on_path = shutil.which(name)
        candidates = [Path(on_path)] if on_path else []
        candidates.append(POSTGRESQL_BIN / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(
        f"{name} was not found ({', '.join(str(c) for c in candidates)}). Install PostgreSQL's "
        "client programs, or set MBROJTJE_PG_BIN to the folder that holds them."
    )


# Django's connection settings as libpq reads them from the environment, so that no
# password (nor anything else) appears on a command line that `ps` shows. OPTIONS
# may hold any libpq parameter (dj-database-url puts ?host=... there).
_LIBPQ_VARIABLES = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "channel_binding": "PGCHANNELBINDING",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "sslmode": "PGSSLMODE",
    "sslcompression": "PGSSLCOMPRESSION",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR",
    "sslsni": "PGSSLSNI",
    "requirepeer": "PGREQUIREPEER",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def pg_environment(settings_dict: dict) -> dict[str, str]:
    """The environment for pg_dump and pg_restore to reach the database Django reaches."""
    environment = dict(os.environ)
    parameters = {
        name: value
        for name, value in (settings_dict.get("OPTIONS") or {}).items()
        if name in _LIBPQ_VARIABLES
    }
    # As in Django's own connection parameters, the main settings win over OPTIONS.
    for setting, name in (
        ("HOST", "host"),
        ("PORT", "port"),
        ("USER", "user"),
        ("PASSWORD", "password"),
        ("NAME", "dbname"),
    ):
        if settings_dict.get(setting):
            parameters[name] = settings_dict[setting]
    for name, value in parameters.items():
        if value not in (None, ""):
            environment[_LIBPQ_VARIABLES[name]] = str(value)
    return environment


def _error_tail(file) -> str:
    file.seek(0)
    text = file.read()[-2000:].decode("utf-8", "replace").strip()
    return text or "(no message)"


def _add_checkpoint_file(archive: _ArchiveWriter) -> int | None:
    """Copy the checkpoint file up to its last complete line (another may be being appended)."""
    path = Path(settings.MBROJTJE_AUDIT_CHECKPOINT_FILE)
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return None
    with file:
        remaining = os.fstat(file.fileno()).st_size
        member = archive.member(CHECKPOINTS)
        held = b""
        while remaining and (data := file.read(min(BLOCK_SIZE, remaining))):
            remaining -= len(data)
            data = held + data
            end = data.rfind(b"\n") + 1
            member.write(data[:end])
            held = data[end:]
        member.close()
    return member.size


def _add_postgresql(archive: _ArchiveWriter) -> int:
    command = [
        str(pg_program("pg_dump")),
        "--format=custom",
        "--no-password",
        f"--exclude-table-data={SESSION_TABLE}",
    ]
    environment = pg_environment(connection.settings_dict)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=environment,
        )
        try:
            member = archive.member(DATABASE["postgresql"])
            while data := process.stdout.read(BLOCK_SIZE):
                member.write(data)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            process.stdout.close()
        status = process.wait()
        if status:
            raise BackupError(f"pg_dump failed (exit status {status}): {_error_tail(errors)}")
    member.close()
    return member.size


def _add_sqlite(archive: _ArchiveWriter) -> int:
    connection.ensure_connection()
    folder = None if connection.is_in_memory_db() else Path(connection.settings_dict["NAME"]).parent
    # Beside the database, with the database's protection, and never left behind.
    with tempfile.TemporaryDirectory(dir=folder, prefix=".backup-") as scratch:
        path = Path(scratch) / "copy.sqlite3"
        copy = sqlite3.connect(path)
        try:
            connection.connection.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            # Zeros over the deleted sessions: they must not linger in free pages.
            copy.execute("PRAGMA secure_delete=ON")
            if copy.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [SESSION_TABLE]
            ).fetchone():
                copy.execute(f"DELETE FROM {SESSION_TABLE}")  # noqa: S608
                copy.commit()
        finally:
            copy.close()
        member = archive.member(DATABASE["sqlite"])
        with path.open("rb") as file:
            while data := file.read(BLOCK_SIZE):
                member.write(data)
        member.close()
    return member.size


def _add_documents(archive: _ArchiveWriter) -> tuple[int, int]:
    """Every file of the documents folder but temporary ones (names starting with a dot)."""
    root = Path(settings.MBROJTJE_DOCUMENTS_DIR)
    count = size = 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue  # an upload or a restore under way
            path = Path(folder) / name
            try:
                file = path.open("rb")
            except FileNotFoundError:
                continue
            with file:
                member = archive.member(DOCUMENTS + path.relative_to(root).as_posix())
                while data := file.read(BLOCK_SIZE):
                    member.write(data)
                member.close()
            count += 1
            size += member.size
    return count, size


def migration_heads(using=None) -> dict[str, list[str]]:
    """Per app, the applied migrations that no other applied migration of it follows."""
    loader = MigrationLoader(using or connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations)
    heads: dict[str, list[str]] = {}
    for app, name in sorted(applied):
        node = loader.graph.node_map.get((app, name))
        if node is None or not any(child in applied and child[0] == app for child in node.children):
            heads.setdefault(app, []).append(name)
    return heads


def backup(output: Path, public_key_path: Path) -> BackupMade:
    """Write one encrypted backup to `output`, which must not exist yet.

    When `output` is a folder, the backup goes into it as
    mbrojtje-<UTC date and time>.backup.
    """
    started = time.perf_counter()
    recipient = load_public_key(public_key_path)
    output = Path(output)
    if output.is_dir():  # for a timer: one file per run, named by when it began
        output = output / f"mbrojtje-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.backup"
    vendor = connection.vendor
    if vendor not in DATABASE:
        raise BackupError(f"Backups of a {vendor} database are not supported.")
    if output.exists():
        raise BackupError(f"{output} exists already: a backup never overwrites another.")
    if not output.parent.is_dir():
        raise BackupError(f"The folder {output.parent} does not exist.")
    if vendor == "postgresql":
        pg_program("pg_dump")  # before anything is written
    # Written under a temporary name, renamed once complete: a backup that
    # exists under its name is whole.
    try:
        handle, temporary = tempfile.mkstemp(
            dir=output.parent, prefix=f".{output.name}.", suffix=".partial"
        )
    except OSError as error:
        raise BackupError(_os_error(error)) from None
    try:
        with os.fdopen(handle, "wb") as file:
            encrypting = _Encrypting(file, recipient)
            archive = _ArchiveWriter(encrypting)
            checkpoint_bytes = _add_checkpoint_file(archive)
            heads = migration_heads()
            if vendor == "postgresql":
                database_bytes = _add_postgresql(archive)
            else:
                database_bytes = _add_sqlite(archive)
            documents, documents_bytes = _add_documents(archive)
            archive.finish(
                {
                    "format": FORMAT,
                    "vendor": vendor,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "migrations": heads,
                }
            )
            encrypting.close()
            file.flush()
            os.fsync(file.fileno())
        if output.exists():
            raise BackupError(f"{output} appeared while the backup was made; it was kept.")
        os.replace(temporary, output)
        _fsync_folder(output.parent)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise BackupError(_os_error(error)) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return BackupMade(
        path=output,
        size=encrypting.written,
        seconds=time.perf_counter() - started,
        vendor=vendor,
        key=fingerprint(recipient),
        database_bytes=database_bytes,
        documents=documents,
        documents_bytes=documents_bytes,
        checkpoint_bytes=checkpoint_bytes,
    )


def _os_error(error: OSError) -> str:
    """An error of the file system, said plainly: what failed and on which file."""
    if error.filename is not None:
        return f"{error.strerror or error}: {error.filename}."
    return f"{error.strerror or error}."


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- Checking and restoring ------------------------------------------------------------


@dataclass
class Restored:
    manifest: dict
    seconds: float = 0.0
    documents: int = 0
    notes: list[str] = field(default_factory=list)


def _open_backup(path: Path):
    try:
        return Path(path).open("rb")
    except FileNotFoundError:
        raise BackupError(f"No backup at {path}.") from None
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror}.") from None


def check(path: Path, private_key_path: Path) -> dict:
    """Decrypt the whole backup and check it against its manifest; returns the manifest."""
    key = load_private_key(private_key_path)
    with _open_backup(path) as file:
        return _read_archive(file, key, lambda name: None)[1]


class _FileSink:
    def __init__(self, path: Path, mode: int):
        self.path = path
        self._file = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


def _database_tables() -> list[str]:
    """The tables, views and sequences of the configured database (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
            "AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ORDER BY 1"
        )
        return [name for (name,) in cursor.fetchall()]


def _sqlite_tables(path: Path) -> list[str]:
    if not path.exists():
        return []
    # Read-only: looking must not create or change the file.
    reader = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = reader.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    except sqlite3.DatabaseError:
        raise BackupError(f"{path} exists and is not an SQLite database.") from None
    finally:
        reader.close()
    return [name for (name,) in rows]


def _same_start(first: Path, second: Path) -> tuple[bool, int, int]:
    """Whether one file starts with the other, and how many lines each has past the other."""
    extra_first = extra_second = 0
    with first.open("rb") as a, second.open("rb") as b:
        while True:
            block_a, block_b = a.read(BLOCK_SIZE), b.read(BLOCK_SIZE)
            common = min(len(block_a), len(block_b))
            if block_a[:common] != block_b[:common]:
                return False, 0, 0
            if len(block_a) != len(block_b):
                rest_a = block_a[common:] + a.read()
                rest_b = block_b[common:] + b.read()
                if rest_a and rest_b:
                    return False, 0, 0
                extra_first, extra_second = rest_a.count(b"\n"), rest_b.count(b"\n")
                return True, extra_first, extra_second
            if not block_a:
                return True, 0, 0


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as file:
        while block := file.read(BLOCK_SIZE):
            lines += block.count(b"\n")
    return lines


class _Restoring:
    """Temporary places beside every target, moved into place only when all went well."""

    def __init__(self, vendor: str):
        self.vendor = vendor
        self.documents_dir = Path(settings.MBROJTJE_DOCUMENTS_DIR)
        self.checkpoint_file = Path(settings.MBROJTJE_AUDIT_CHECKPOINT_FILE)
        self.sqlite_path = Path(connection.settings_dict["NAME"]) if vendor == "sqlite" else None
        self.created: list[Path] = []  # folders made here, removed again on failure
        self.documents_staging: Path | None = None
        self.documents: list[str] = []
        self.checkpoint_staging: Path | None = None
        self.checkpoint_goes_in = False
        self.database_staging: Path | None = None

    # Before anything is written.
    def check_targets(self) -> Path | None:
        """Refuse a target that is not empty; returns pg_restore on PostgreSQL."""
        program = None
        if self.vendor == "postgresql":
            program = pg_program("pg_restore")
            target = connection.settings_dict["NAME"]
            try:
                tables = _database_tables()
            except DatabaseError as error:
                raise BackupError(
                    f"Cannot reach the database {target}: {str(error).strip()}."
                ) from None
        elif connection.is_in_memory_db():
            tables = connection.introspection.table_names()
            target = "in memory"
            if not tables:
                raise BackupError("The configured SQLite database is in memory: give it a file.")
        else:
            tables = _sqlite_tables(self.sqlite_path)
            target = self.sqlite_path
        if tables:
            shown = ", ".join(tables[:3]) + (", …" if len(tables) > 3 else "")
            raise BackupError(
                f"The database {target} is not empty: it holds {len(tables)} tables or other "
                f"relations ({shown}). A backup is restored only into an empty database "
                "(PostgreSQL: a new one made with createdb; SQLite: a path with no file), "
                "which DATABASE_URL must name."
            )
        if self.documents_dir.exists():
            if not self.documents_dir.is_dir():
                raise BackupError(f"The documents folder {self.documents_dir} is not a folder.")
            if any(self.documents_dir.iterdir()):
                raise BackupError(
                    f"The documents folder {self.documents_dir} is not empty. Restore into an "
                    "empty or missing folder (MBROJTJE_DOCUMENTS_DIR)."
                )
        if self.checkpoint_file.exists() and not self.checkpoint_file.is_file():
            raise BackupError(f"The checkpoint file {self.checkpoint_file} is not a file.")
        return program

    def _folder(self, path: Path) -> None:
        missing = []
        while not path.exists():
            missing.append(path)
            path = path.parent
        for folder in reversed(missing):
            folder.mkdir(mode=0o700)
            self.created.append(folder)

    def _beside(self, target: Path) -> Path:
        self._folder(target.parent)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.restore-")
        os.close(handle)
        os.unlink(name)  # _FileSink creates it anew, exclusively
        return Path(name)

    def sink_for(self, name: str):
        if name == CHECKPOINTS:
            self.checkpoint_staging = self._beside(self.checkpoint_file)
            return _FileSink(self.checkpoint_staging, 0o600)
        if name in DATABASE.values():
            if name != DATABASE[self.vendor]:
                other = "SQLite" if self.vendor == "postgresql" else "PostgreSQL"
                raise BackupError(
                    f"This is a backup of a {other} database; the configured database is not."
                )
            if self.vendor == "sqlite":
                self.database_staging = self._beside(self.sqlite_path)
                return _FileSink(self.database_staging, 0o600)
            return None  # streamed into pg_restore in the second reading
        relative = name[len(DOCUMENTS) :]
        if self.documents_staging is None:
            self._folder(self.documents_dir)
            self.documents_staging = Path(
                tempfile.mkdtemp(dir=self.documents_dir, prefix=".restore-")
            )
        path = self.documents_staging / relative
        self._folder(path.parent)
        self.documents.append(relative)
        return _FileSink(path, 0o600)

    def checkpoint_notes(self) -> list[str]:
        """What becomes of the checkpoint file; refuses one that contradicts the backup's."""
        target, staged = self.checkpoint_file, self.checkpoint_staging
        if staged is None:
            return ["The backup holds no checkpoint file (there was none when it was made)."]
        if not target.exists():
            self.checkpoint_goes_in = True
            return [f"Checkpoint file restored to {target}."]
        continues, extra_target, extra_backup = _same_start(target, staged)
        if not continues:
            raise BackupError(
                f"The checkpoint file {target} and the backup's copy differ: neither "
                "continues the other. Find out why before restoring; audit_verify trusts that file."
            )
        if extra_target:
            kept = _count_lines(staged)
            return [
                f"The checkpoint file {target} was kept: it holds the {kept} checkpoints of "
                f"the backup and {extra_target} later ones, made after it. audit_verify "
                "reports the events they covered as missing: they were lost with everything "
                "written since the backup. Before new checkpoints are signed, set the file "
                "aside for the incident report and keep the backup's part of it: "
                f"mv {target} {target}.lost && head -n {kept} {target}.lost > {target}"
            ]
        if extra_backup:
            return [
                f"The checkpoint file {target} was kept: the backup's copy holds {extra_backup} "
                "more checkpoints, which the restored database holds too."
            ]
        return [f"The checkpoint file {target} was kept: it is the same as the backup's."]

    def put_in_place(self) -> None:
        if self.database_staging is not None:
            connection.close()
            target = self.sqlite_path
            # The emptied target's journal must not be replayed into the restored file.
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            os.replace(self.database_staging, target)
            self.database_staging = None
            _fsync_folder(target.parent)
        if self.documents_staging is not None:
            for relative in self.documents:
                destination = self.documents_dir / relative
                destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.replace(self.documents_staging / relative, destination)
            shutil.rmtree(self.documents_staging)
            self.documents_staging = None
            _fsync_folder(self.documents_dir)
        if self.checkpoint_staging is not None:
            if self.checkpoint_goes_in:
                os.replace(self.checkpoint_staging, self.checkpoint_file)
                _fsync_folder(self.checkpoint_file.parent)
            else:
                self.checkpoint_staging.unlink()
            self.checkpoint_staging = None

    def discard(self) -> None:
        for path in (self.database_staging, self.checkpoint_staging):
            if path is not None:
                path.unlink(missing_ok=True)
        if self.documents_staging is not None:
            shutil.rmtree(self.documents_staging, ignore_errors=True)
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):
                folder.rmdir()


def migration_notes(heads: dict) -> list[str]:
    """Refuse a backup from a newer version of the code; say when this one is newer."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    applied = {(app, name) for app, names in heads.items() for name in names}
    unknown = sorted(
        f"{app}.{name}" for app, name in applied if (app, name) not in loader.disk_migrations
    )
    if unknown:
        raise BackupError(
            "The backup was made by a newer version of Mbrojtje: its migrations "
            f"{', '.join(unknown[:5])} are unknown here. Restore it with that version."
        )
    behind = sorted(
        f"{app}.{name}" for app, name in loader.graph.leaf_nodes() if (app, name) not in applied
    )
    if behind:
        return [
            "This version of Mbrojtje has migrations the backup has not "
            f"({', '.join(behind[:5])}): run `python manage.py migrate` after the restore."
        ]
    return []


class _Feed:
    """Passes the dump to pg_restore's standard input."""

    def __init__(self, process):
        self._process = process

    def write(self, data: bytes) -> None:
        try:
            self._process.stdin.write(data)
        except BrokenPipeError:
            raise _RestoreStopped from None

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self._process.stdin.close()
        # The rest (the documents) was checked in the first reading.
        raise _RestoreStopped


class _RestoreStopped(Exception):
    """pg_restore has all it will read."""


def _pg_restore(file, key, header: bytes, program: Path) -> None:
    settings_dict = connection.settings_dict
    environment = pg_environment(settings_dict)
    connection.close()
    command = [
        str(program),
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        f"--dbname={environment['PGDATABASE']}",
    ]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603
            command, stdin=subprocess.PIPE, stdout=errors, stderr=errors, env=environment
        )
        feed = _Feed(process)
        try:
            _read_archive(
                file,
                key,
                lambda name: feed if name == DATABASE["postgresql"] else None,
                expected_header=header,
            )
        except _RestoreStopped:
            pass
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            if process.stdin and not process.stdin.closed:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
        status = process.wait()
        if status:
            raise BackupError(
                f"pg_restore failed (exit status {status}); it ran in one transaction, so the "
                f"database is as it was: {_error_tail(errors)}"
            )


class RestoreIncomplete(BackupError):
    """The database was restored but a file could not be moved into place."""


def restore(path: Path, private_key_path: Path) -> Restored:
    """Restore the backup at `path` into the configured, empty, database and folders.

    Raises BackupError, having changed nothing, when the key is wrong, the
    backup does not check out, or a target is not empty; RestoreIncomplete in
    the unlikely case that a file cannot be moved into place afterwards.
    """
    started = time.perf_counter()
    vendor = connection.vendor
    restoring = None
    try:
        key = load_private_key(private_key_path)
        if vendor not in DATABASE:
            raise BackupError(f"Restoring into a {vendor} database is not supported.")
        with _open_backup(path) as file:
            _opened(file, key)  # the right key, before the target is even looked at
            file.seek(0)
            restoring = _Restoring(vendor)
            program = restoring.check_targets()
            header, manifest = _read_archive(file, key, restoring.sink_for)
            if manifest["vendor"] != vendor:
                raise BackupError(f"This is a backup of a {manifest['vendor']} database.")
            notes = migration_notes(manifest["migrations"])
            notes += restoring.checkpoint_notes()
            if vendor == "postgresql":
                file.seek(0)
                _pg_restore(file, key, header, program)
    except BackupError as error:
        if restoring is not None:
            restoring.discard()
        raise BackupError(f"{error} Nothing was restored.") from None
    except OSError as error:
        if restoring is not None:
            restoring.discard()
        raise BackupError(f"{_os_error(error)} Nothing was restored.") from None
    except BaseException:
        if restoring is not None:
            restoring.discard()
        raise
    try:
        restoring.put_in_place()
    except OSError as error:
        restoring.discard()
        raise RestoreIncomplete(
            f"The database was restored, but a file could not be moved into place: {error}. "
            "Empty the database, the documents folder and the restored checkpoint file, "
            "and restore again."
        ) from None
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # pg_restore leaves the planner without statistics
    return Restored(
        manifest=manifest,
        seconds=time.perf_counter() - started,
        documents=len(restoring.documents),
        notes=notes,
    )
