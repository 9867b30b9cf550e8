"""Documents of a case: upload, read, list. The content is encrypted at rest.

Each document's content is one file in the documents folder
(`settings.MBROJTJE_DOCUMENTS_DIR`, by default var/documents/), named with
random hex that says nothing about the document. The file holds the content
encrypted with AES-GCM under the current field key (encryption.fields), bound
to the document's id: a file swapped with another document's does not open.

A file is written before its row is saved, inside the one transaction of the
upload, and deleted if the row is not committed, so that a refused or failed
upload leaves nothing behind. Uploads are checked by their content (the first
bytes of a PDF, JPEG or PNG), never by the name or the type the browser sends.
"""

import hashlib
import os
import secrets
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from encryption.fields import Binding, DecryptionError, decrypt, encrypt

from . import access
from .auditing import access_refused
from .models import Case, Document, DocumentType

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# The first bytes of each accepted kind of file.
SIGNATURES = (
    (b"%PDF-", DocumentType.PDF),
    (b"\xff\xd8\xff", DocumentType.JPEG),
    (b"\x89PNG\r\n\x1a\n", DocumentType.PNG),
)


class DocumentDamaged(Exception):
    """The stored file of a document is missing or does not decrypt to what was uploaded.

    The message names the document, never its content or file name.
    """


def documents_dir() -> Path:
    return Path(
        getattr(settings, "MBROJTJE_DOCUMENTS_DIR", settings.BASE_DIR / "var" / "documents")
    )


def max_bytes() -> int:
    return getattr(settings, "MBROJTJE_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES)


def content_binding(document: Document) -> Binding:
    return Binding(label="protocol.document", field="content", pk=str(document.pk))


def may_upload(user: User, case: Case) -> bool:
    return access.can_change_case(user, case) and access.can_view_part(
        user, case, access.Part.DOCUMENTS
    )


def content_type_of(content: bytes) -> str | None:
    """The accepted type `content` starts like, or None."""
    for signature, content_type in SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None


def _file_error(message: str, code: str) -> ValidationError:
    return ValidationError({"file": ValidationError(message, code=code)})


def _checked_content(uploaded_file) -> tuple[bytes, str]:
    """The uploaded bytes and their type; ValidationError if empty, too large or not accepted."""
    limit = max_bytes()
    too_large = _file_error(
        _("The file is larger than %(limit)s. Scan it at a lower resolution.")
        % {"limit": filesizeformat(limit)},
        "too_large",
    )
    if uploaded_file.size is not None and uploaded_file.size > limit:
        raise too_large
    uploaded_file.seek(0)
    content = uploaded_file.read(limit + 1)
    if not content:
        raise _file_error(_("The file is empty."), "empty")
    if len(content) > limit:
        raise too_large
    content_type = content_type_of(content)
    if content_type is None:
        raise _file_error(
            _(
                "Only PDF, JPEG and PNG files can be uploaded. This file is none of them, "
                "whatever its name says."
            ),
            "wrong_type",
        )
    return content, content_type


def _clean_filename(name: str) -> str:
    name = "".join(ch for ch in (name or "") if ch.isprintable()).strip() or "-"
    if len(name) <= 255:
        return name
    suffix = Path(name).suffix[:16]
    return name[: 255 - len(suffix)] + suffix


def _write(storage_name: str, data: bytes) -> Path:
    """Write `data` to the documents folder atomically, readable by this user only."""
    folder = documents_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600 whatever the umask.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")
    path = folder / storage_name
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        # The rename must reach the disk before the row that points to it commits.
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        raise
    return path


def document_upload(*, by: User, case: Case, uploaded_file, category: str, title: str) -> Document:
    """Store an uploaded file of `case`, encrypted; returns the new document.

    Refuses (PermissionDenied) a user who cannot change the case or see its
    documents, and (ValidationError, on "file", "title" or "category") an empty
    file, one above MBROJTJE_DOCUMENT_MAX_BYTES, or one that is not a PDF, JPEG
    or PNG by its content. Nothing is stored when it refuses or fails.

    Runs in its own transaction and cannot be nested in another: a rollback
    after it returned would leave the file on disk with no row.
    """
    if not may_upload(by, case):
        raise PermissionDenied
    content, content_type = _checked_content(uploaded_file)
    document = Document(
        case=case,
        category=category,
        title=(title or "").strip(),
        original_filename=_clean_filename(uploaded_file.name),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_name=secrets.token_hex(32),
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    document.full_clean()
    ciphertext = encrypt(content, content_binding(document))
    path = None
    try:
        with transaction.atomic(durable=True):
            # The case as it is now: it may have been closed since the form was opened.
            current = Case.objects.select_for_update().get(pk=case.pk)
            if not may_upload(by, current):
                raise PermissionDenied
            path = _write(document.storage_name, ciphertext)
            document.save()
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    return document


def documents_visible(*, by: User, case: Case) -> QuerySet[Document]:
    """The documents of `case` if `by` may see them (none otherwise), newest first."""
    if not access.can_view_part(by, case, access.Part.DOCUMENTS):
        return Document.objects.none()
    return Document.objects.filter(case=case).select_related("uploaded_by")


def document_for(*, by: User, case: Case, pk) -> Document:
    """The document of `case` with this id if `by` may see the case's documents; 404
    otherwise, whether or not it exists, with the refusal recorded."""
    document = documents_visible(by=by, case=case).filter(pk=pk).first()
    if document is None:
        access_refused(
            by, object_type="protocol.document", object_id=pk, case=case, part=access.Part.DOCUMENTS
        )
        raise Http404
    return document


def document_read(*, by: User, document: Document) -> bytes:
    """The clear content of `document`, whole and checked, or nothing.

    Refuses with Document.DoesNotExist (a 404 for views) a user who may not see
    the case's documents; raises DocumentDamaged when the file is missing,
    altered or belongs to another document.
    """
    if not access.can_view_part(by, document.case, access.Part.DOCUMENTS):
        raise Document.DoesNotExist
    try:
        stored = (documents_dir() / document.storage_name).read_bytes()
    except FileNotFoundError:
        raise DocumentDamaged(f"The file of document {document.pk} is missing.") from None
    try:
        content = decrypt(stored, content_binding(document))
    except DecryptionError:
        raise DocumentDamaged(
            f"The file of document {document.pk} does not decrypt: altered, truncated, "
            "or another document's."
        ) from None
    # AES-GCM already authenticated the file; this also catches a wrong row.
    if len(content) != document.size or hashlib.sha256(content).hexdigest() != document.sha256:
        raise DocumentDamaged(f"The content of document {document.pk} is not what was uploaded.")
    return content


def download_filename(document: Document) -> str:
    """An ASCII file name that gives nothing away: the original may hold a person's name."""
    day = timezone.localtime(document.uploaded_at).date().isoformat()
    category = document.category.replace("_", "-")
    return f"document-{category}-{day}.{document.extension}"
