"""Backups: the keys, a round trip into an empty database, and every way a restore is refused.

The restore runs as an operator runs it: `manage.py restore` in a process of
its own, whose DATABASE_URL names a new, empty database (PostgreSQL: one made
beside the test database and dropped afterwards; SQLite: a new file). These
tests run on SQLite and, with DATABASE_URL set, on PostgreSQL.
"""

import io
import os
import secrets
import stat
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.utils import load_backend

from audit.models import AuditEvent
from audit.protection import stored_encoding_intact
from config import backups
from protocol import documents
from protocol.models import Case, Document, DocumentCategory, Person
from tests.cases import child, register_child_case
from tests.conftest import signed_in_client

CHUNK = backups.CHUNK_SIZE + backups.TAG_SIZE
# Random, as the encrypted documents on disk are: a backup of it cannot shrink, so
# the backup spans several chunks.
SCAN = b"%PDF-1.7\n" + secrets.token_bytes(int(2.5 * backups.CHUNK_SIZE))


def quiet():
    return io.StringIO()


@pytest.fixture
def audit_keys(settings, tmp_path):
    """A checkpoint key pair and file of the test's own, as tests/audit does."""
    settings.MBROJTJE_AUDIT_SIGNING_KEY = tmp_path / "audit" / "signing.pem"
    settings.MBROJTJE_AUDIT_VERIFY_KEY = tmp_path / "audit" / "verify.pem"
    settings.MBROJTJE_AUDIT_CHECKPOINT_FILE = tmp_path / "audit" / "checkpoints.jsonl"
    call_command("audit_keygen", stdout=quiet())
    return settings


@pytest.fixture
def documents_dir(settings, tmp_path):
    settings.MBROJTJE_DOCUMENTS_DIR = tmp_path / "documents"
    return settings.MBROJTJE_DOCUMENTS_DIR


@pytest.fixture
def backup_keys(tmp_path):
    public, private = tmp_path / "keys" / "backup.pub", tmp_path / "offline" / "backup.key"
    call_command("backup_keygen", "--public", public, "--private", private, stdout=quiet())
    return public, private


@dataclass
class Target:
    """Where a restore goes: an empty database, and folders that do not exist yet."""

    name: str
    url: str
    documents: Path
    checkpoints: Path

    def environment(self) -> dict:
        return {
            **os.environ,
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": self.url,
            "MBROJTJE_DOCUMENTS_DIR": str(self.documents),
            "MBROJTJE_AUDIT_CHECKPOINT_FILE": str(self.checkpoints),
            "MBROJTJE_AUDIT_VERIFY_KEY": str(settings.MBROJTJE_AUDIT_VERIFY_KEY),
        }

    @contextmanager
    def database(self):
        """A connection to the restored database, as the alias "restored"."""
        backend = load_backend(connection.settings_dict["ENGINE"])
        restored = backend.DatabaseWrapper(
            {**connection.settings_dict, "NAME": self.name}, "restored"
        )
        connections["restored"] = restored  # not in DATABASES: the test case lets it connect
        try:
            yield restored
        finally:
            restored.close()
            del connections["restored"]

    def is_untouched(self) -> bool:
        if connection.vendor == "postgresql":
            with self.database() as restored:
                empty = restored.introspection.table_names() == []
        else:
            empty = not Path(self.name).exists()
        return empty and not self.documents.exists() and not self.checkpoints.exists()


def _postgresql_url(name: str) -> str:
    settings_dict = connection.settings_dict
    options = settings_dict.get("OPTIONS") or {}
    host = settings_dict["HOST"] or options.get("host", "")
    port = settings_dict["PORT"] or options.get("port", "")
    credentials = ""
    if settings_dict["USER"]:
        credentials = quote(settings_dict["USER"], safe="")
        if settings_dict["PASSWORD"]:
            credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
        credentials += "@"
    if host.startswith("/"):  # a unix socket's folder
        query = f"?host={quote(host)}" + (f"&port={port}" if port else "")
        return f"postgres://{credentials}/{quote(name)}{query}"
    return f"postgres://{credentials}{host}{f':{port}' if port else ''}/{quote(name)}"


@pytest.fixture
def target(tmp_path):
    folder = tmp_path / "restored"
    folder.mkdir()
    documents, checkpoints = folder / "documents", folder / "audit" / "checkpoints.jsonl"
    if connection.vendor != "postgresql":
        path = folder / "mbrojtje.sqlite3"
        yield Target(str(path), f"sqlite:///{path}", documents, checkpoints)
        return
    name = f"{connection.settings_dict['NAME']}_restore"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Target(name, _postgresql_url(name), documents, checkpoints)
    finally:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(target: Target, *arguments) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *map(str, arguments)],
        cwd=settings.BASE_DIR,
        env=target.environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def seed(worker, head):
    """Cases, a session, an uploaded scan and a signed checkpoint, through the services."""
    cases = [
        register_child_case(worker, person=child(first=first, personal_number=number))
        for first, number in (("Arta", "K10101001A"), ("Blerina", "K10101002B"), ("Dritan", None))
    ]
    documents.document_upload(
        by=worker,
        case=cases[0],
        uploaded_file=SimpleUploadedFile("vendimi.pdf", SCAN, content_type="application/pdf"),
        category=DocumentCategory.COURT_DECISION,
        title="Vendimi i gjykatës",
    )
    signed_in_client(head)
    call_command("audit_checkpoint", stdout=quiet())
    return cases


def make_backup(tmp_path, public) -> Path:
    path = tmp_path / "mbrojtje-backup.bin"
    call_command("backup", "--output", path, "--public-key", public, stdout=quiet())
    return path


# --- Keys ------------------------------------------------------------------------------


def test_backup_keygen_keeps_the_private_key_to_its_owner_and_never_overwrites(tmp_path):
    public, private = tmp_path / "backup.pub", tmp_path / "offline" / "backup.key"
    out = io.StringIO()
    call_command("backup_keygen", "--public", public, "--private", private, stdout=out)

    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert backups.fingerprint(backups.load_public_key(public)) in out.getvalue()
    pair = backups.load_private_key(private)
    assert backups.fingerprint(pair.public_key()) == backups.fingerprint(
        backups.load_public_key(public)
    )
    before = private.read_bytes(), public.read_bytes()
    for other_public, other_private in (
        (public, tmp_path / "new.key"),
        (tmp_path / "new.pub", private),
    ):
        with pytest.raises(CommandError, match="exists already"):
            call_command(
                "backup_keygen", "--public", other_public, "--private", other_private, stdout=out
            )
        assert not (tmp_path / "new.key").exists()
        assert not (tmp_path / "new.pub").exists()
    assert (private.read_bytes(), public.read_bytes()) == before


def test_without_a_public_key_the_backup_says_how_to_make_one(settings, tmp_path):
    settings.MBROJTJE_BACKUP_PUBLIC_KEY = None

    with pytest.raises(CommandError, match="backup_keygen"):
        call_command("backup", "--output", tmp_path / "backup.bin")
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_a_backup_from_a_newer_version_is_refused_and_one_from_an_older_asks_for_migrate():
    heads = backups.migration_heads()
    latest = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes():
        latest.setdefault(app, []).append(name)
    assert heads == {app: sorted(names) for app, names in latest.items()}
    assert backups.migration_notes(heads) == []

    with pytest.raises(backups.BackupError, match="newer version of Mbrojtje"):
        backups.migration_notes({**heads, "audit": ["0099_from_the_future"]})
    (note,) = backups.migration_notes({**heads, "audit": ["0001_events_checkpoints_flags"]})
    assert f"audit.{latest['audit'][0]}" in note
    assert "migrate" in note


# --- A round trip ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_an_empty_database_and_its_audit_trail_verifies(
    settings, audit_keys, documents_dir, backup_keys, target, tmp_path, worker, head
):
    public, private = backup_keys
    cases = seed(worker, head)
    settings.MBROJTJE_BACKUP_PUBLIC_KEY = public
    path = tmp_path / "mbrojtje-backup.bin"
    out = io.StringIO()
    call_command("backup", "--output", path, stdout=out)
    assert f"Backup written to {path}" in out.getvalue()
    assert "1 documents" in out.getvalue()
    content = path.read_bytes()
    assert len(content) > 2 * CHUNK
    for clear in (b"PGDMP", b"SQLite format 3", b"%PDF", b"Arta", b"checkpoint"):
        assert clear not in content
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", "--output", path, stdout=quiet())
    assert path.read_bytes() == content

    out = io.StringIO()
    call_command("restore", path, "--private-key", private, "--check", stdout=out)
    assert "every part matches its manifest" in out.getvalue()

    result = manage(target, "restore", path, "--private-key", private)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Checkpoint file restored to" in result.stdout
    assert "The audit trail verifies." in result.stdout
    assert target.checkpoints.read_bytes() == settings.MBROJTJE_AUDIT_CHECKPOINT_FILE.read_bytes()
    document = Document.objects.get()
    restored_scan = target.documents / document.storage_name
    assert restored_scan.read_bytes() == (documents_dir / document.storage_name).read_bytes()
    assert stat.S_IMODE(restored_scan.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.documents.iterdir()) == [document.storage_name]
    with target.database() as restored:
        assert Case.objects.using("restored").count() == len(cases) == Case.objects.count()
        # Decrypted, each value bound to its row, with the same field key.
        names = sorted(person.first_name for person in Person.objects.using("restored"))
        assert names == sorted(person.first_name for person in Person.objects.all())
        assert names == ["Arta", "Blerina", "Dritan"]
        assert AuditEvent.objects.using("restored").count() == AuditEvent.objects.count()
        assert Document.objects.using("restored").get().sha256 == document.sha256
        with restored.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM django_session")
            assert cursor.fetchone() == (0,)  # nobody's session travels
        # The triggers came back with the tables: the copy is append-only too.
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(using="restored"),
            restored.cursor() as cursor,
        ):
            cursor.execute("UPDATE audit_auditevent SET case_number = 'XX-0000-0000'")
        if restored.vendor == "postgresql":
            assert stored_encoding_intact(restored)


# --- Refused ------------------------------------------------------------------------------


def _damaged_copy(path: Path, damage: str) -> None:
    content = bytearray(path.read_bytes())
    header = backups.HEADER.size
    chunks = -(-(len(content) - header) // CHUNK)
    if damage == "a byte changed in the last chunk":
        content[-10] ^= 0x01
    elif damage == "the last chunk cut off":
        del content[header + (chunks - 1) * CHUNK :]
    elif damage == "the file cut inside a chunk":
        del content[header + CHUNK + 1000 :]
    elif damage == "two chunks swapped":
        first, second = header, header + CHUNK
        content[first:second], content[second : second + CHUNK] = (
            content[second : second + CHUNK],
            content[first:second],
        )
    path.write_bytes(bytes(content))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("a byte changed in the last chunk", "does not authenticate"),
        ("the last chunk cut off", "The backup is truncated"),
        (
            "the file cut inside a chunk",
            "does not authenticate: the file was changed, damaged, cut",
        ),
        ("two chunks swapped", "Chunk 0 of the backup (from byte 101) does not authenticate"),
        ("the wrong private key", "not to the private key given"),
    ],
)
def test_a_damaged_backup_or_the_wrong_key_is_refused_and_nothing_changes(
    audit_keys, documents_dir, backup_keys, target, tmp_path, worker, head, damage, message
):
    public, private = backup_keys
    seed(worker, head)
    path = make_backup(tmp_path, public)
    if damage == "the wrong private key":
        private = tmp_path / "another.key"
        call_command(
            "backup_keygen",
            "--public",
            tmp_path / "another.pub",
            "--private",
            private,
            stdout=quiet(),
        )
    else:
        _damaged_copy(path, damage)

    result = manage(target, "restore", path, "--private-key", private)

    assert result.returncode != 0
    assert message in result.stderr
    assert "Nothing was restored." in result.stderr
    assert "Traceback" not in result.stderr
    assert target.is_untouched()
    assert not list(target.documents.parent.iterdir())  # no temporary file left either


@pytest.mark.django_db(transaction=True)
def test_restoring_over_a_database_that_is_not_empty_is_refused_and_changes_nothing(
    audit_keys, documents_dir, backup_keys, tmp_path, worker, head
):
    public, private = backup_keys
    seed(worker, head)
    nightly = tmp_path / "nightly"
    nightly.mkdir()
    call_command("backup", "--output", nightly, "--public-key", public, stdout=quiet())
    (path,) = nightly.glob("mbrojtje-*Z.backup")
    checkpoints = audit_keys.MBROJTJE_AUDIT_CHECKPOINT_FILE.read_bytes()
    register_child_case(worker, person=child(first="Mira", personal_number="K10101009C"))
    events, scans = AuditEvent.objects.count(), sorted(documents_dir.iterdir())

    # The operator forgot to point DATABASE_URL at the new database.
    with pytest.raises(CommandError) as refused:
        call_command("restore", path, "--private-key", private, stdout=quiet())

    assert "is not empty" in str(refused.value)
    assert "Nothing was restored." in str(refused.value)
    assert Case.objects.count() == 4
    assert AuditEvent.objects.count() == events
    assert sorted(documents_dir.iterdir()) == scans
    assert audit_keys.MBROJTJE_AUDIT_CHECKPOINT_FILE.read_bytes() == checkpoints


@pytest.mark.django_db(transaction=True)
def test_restoring_into_a_documents_folder_that_is_not_empty_is_refused(
    audit_keys, documents_dir, backup_keys, target, tmp_path, worker, head
):
    public, private = backup_keys
    seed(worker, head)
    path = make_backup(tmp_path, public)
    target.documents.mkdir()
    (target.documents / "left-over").write_bytes(b"x")

    result = manage(target, "restore", path, "--private-key", private)

    assert result.returncode != 0
    assert f"The documents folder {target.documents} is not empty" in result.stderr
    assert sorted(p.name for p in target.documents.iterdir()) == ["left-over"]
    (target.documents / "left-over").unlink()
    target.documents.rmdir()
    assert target.is_untouched()


@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_file_that_goes_past_the_backup_is_kept_and_verification_says_what_is_lost(
    audit_keys, documents_dir, backup_keys, target, tmp_path, worker, head
):
    public, private = backup_keys
    seed(worker, head)
    path = make_backup(tmp_path, public)
    register_child_case(worker, person=child(first="Mira", personal_number="K10101009C"))
    call_command("audit_checkpoint", stdout=quiet())
    # The checkpoint file lives on its own storage, which outlived the server.
    target.checkpoints.parent.mkdir(parents=True)
    later = audit_keys.MBROJTJE_AUDIT_CHECKPOINT_FILE.read_bytes()
    target.checkpoints.write_bytes(later)

    result = manage(target, "restore", path, "--private-key", private)

    assert result.returncode == 1
    assert "was kept: it holds the 1 checkpoints of the backup and 1 later ones" in result.stdout
    assert f"head -n 1 {target.checkpoints}.lost > {target.checkpoints}" in result.stdout
    assert "Checkpoint 2 is in the file but not in the database" in result.stderr
    assert "The restore is complete, but its audit trail does not verify" in result.stderr
    assert target.checkpoints.read_bytes() == later
    with target.database():
        assert Case.objects.using("restored").count() == 3

    # What the restore says to do next: then the restored trail verifies.
    lost = target.checkpoints.rename(f"{target.checkpoints}.lost")
    target.checkpoints.write_bytes(b"".join(lost.read_bytes().splitlines(keepends=True)[:1]))
    result = manage(target, "audit_verify")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_file_that_contradicts_the_backup_is_refused(
    audit_keys, documents_dir, backup_keys, target, tmp_path, worker, head
):
    public, private = backup_keys
    seed(worker, head)
    path = make_backup(tmp_path, public)
    target.checkpoints.parent.mkdir(parents=True)
    target.checkpoints.write_text('{"payload": "another trail", "signature": "00"}\n')

    result = manage(target, "restore", path, "--private-key", private)

    assert result.returncode != 0
    assert "neither continues the other" in result.stderr
    assert "Nothing was restored." in result.stderr
    target.checkpoints.unlink()
    target.checkpoints.parent.rmdir()
    assert target.is_untouched()


@pytest.mark.django_db(transaction=True)
def test_a_failing_pg_restore_leaves_the_database_as_it_was(
    audit_keys, documents_dir, backup_keys, target, tmp_path, worker, head
):
    if connection.vendor != "postgresql":
        pytest.skip("pg_restore is PostgreSQL's")
    public, private = backup_keys
    seed(worker, head)
    path = make_backup(tmp_path, public)
    # No table, so the restore begins; a composite type then takes the name of the
    # cases' primary key, which pg_restore adds after every table is filled.
    with target.database() as restored, restored.cursor() as cursor:
        cursor.execute("CREATE TYPE protocol_case_pkey AS (x integer)")

    result = manage(target, "restore", path, "--private-key", private)

    assert result.returncode != 0
    assert "pg_restore failed" in result.stderr
    assert "protocol_case_pkey" in result.stderr
    assert "the database is as it was" in result.stderr
    assert "Nothing was restored." in result.stderr
    assert target.is_untouched()
