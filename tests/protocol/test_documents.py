import hashlib
import stat

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.roles import Role
from encryption.fields import Ciphertext
from protocol import documents, services
from protocol.models import (
    CaseKind,
    CaseUserObjectPermission,
    Document,
    DocumentCategory,
    PersonRole,
)
from tests.conftest import signed_in_client
from tests.factories import UserFactory

# A name in the content: what must never appear on disk or to a stranger.
PDF = b"%PDF-1.7\n" + b"Vendim i Gjykates se Rrethit Durres per Arta Hoxha.\n" * 40 + b"%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"Arta Hoxha, raport mjekesor." * 20 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"Arta Hoxha, raport policie." * 20
SECRET = b"Arta Hoxha"

NOT_ACCEPTED = {
    "windows program": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200,
    "html page": b"<!doctype html><html><script>alert(document.cookie)</script></html>",
    "pdf header further in": b"\n%PDF-1.7\n" + b"x" * 100,
    "text": b"Vendim i gjykates\n",
}


@pytest.fixture(autouse=True)
def documents_dir(settings, tmp_path):
    settings.MBROJTJE_DOCUMENTS_DIR = tmp_path / "documents"
    return settings.MBROJTJE_DOCUMENTS_DIR


def register_case(by):
    return services.case_register(
        by=by,
        kind=CaseKind.CHILD,
        people=[services.PersonData(role=PersonRole.CHILD, first_name="Arta", last_name="Hoxha")],
        needs=["neglect"],
        reported_risk_level="medium",
        reported_at=timezone.now(),
        report_channel="phone",
        reporter_kind="school",
        reporter_details="",
        summary="Fëmija vjen në shkollë e uritur.",
    )


@pytest.fixture
def case(worker):
    return register_case(worker)


@pytest.fixture
def colleague(municipality):
    """A worker of the same unit who is not in charge of the case."""
    return UserFactory(
        username="pmf.tjeter.dr", municipality=municipality, roles=[Role.CHILD_PROTECTION_WORKER]
    )


@pytest.fixture
def stranger(other_municipality):
    """The head of the unit of another municipality."""
    return UserFactory(
        username="kreu.tjeter.br", municipality=other_municipality, roles=[Role.HEAD_OF_CPU]
    )


@pytest.fixture
def supervisor(municipality):
    return UserFactory(username="kreu.doc.dr", municipality=municipality, roles=[Role.HEAD_OF_CPU])


def upload(by, case, content=PDF, name="Vendimi per Arta Hoxha.pdf", **fields):
    return documents.document_upload(
        by=by,
        case=case,
        uploaded_file=SimpleUploadedFile(name, content, content_type="application/pdf"),
        category=fields.get("category", DocumentCategory.COURT_DECISION),
        title=fields.get("title", "Vendimi i gjykatës për masën e mbrojtjes"),
    )


def stored_files(folder):
    return sorted(folder.iterdir()) if folder.exists() else []


def assert_nothing_stored(folder):
    assert not Document.objects.exists()
    assert stored_files(folder) == []


def download_url(document):
    return f"/cases/{document.case.number}/documents/{document.pk}/"


def upload_url(case):
    return f"/cases/{case.number}/documents/upload/"


# --- Services ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")],
)
def test_uploaded_content_reads_back_the_same(worker, case, content, content_type):
    document = upload(worker, case, content)

    document = Document.objects.get(pk=document.pk)
    assert document.content_type == content_type
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.original_filename == "Vendimi per Arta Hoxha.pdf"
    assert documents.document_read(by=worker, document=document) == content


def test_file_on_disk_is_encrypted_under_a_random_name(worker, case, documents_dir):
    document = upload(worker, case)

    [path] = stored_files(documents_dir)
    on_disk = path.read_bytes()
    assert path.name == document.storage_name
    assert "Vendimi" not in path.name
    assert SECRET not in on_disk
    assert b"%PDF" not in on_disk
    assert PDF[100:140] not in on_disk
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(documents_dir.stat().st_mode) == 0o700


def test_title_file_name_and_hash_are_encrypted_in_the_row(worker, case):
    document = upload(worker, case)

    for row in (
        Document.objects.filter(pk=document.pk),
        Document.history.filter(id=document.pk),
    ):
        title, filename, sha256 = row.values_list("title", "original_filename", "sha256").get()
        for stored in (title, filename, sha256):
            assert isinstance(stored, Ciphertext)
        assert b"Vendim" not in title + filename
        assert hashlib.sha256(PDF).hexdigest().encode() not in sha256


def test_altered_file_is_refused_whole(worker, case, documents_dir):
    document = upload(worker, case)
    [path] = stored_files(documents_dir)
    altered = bytearray(path.read_bytes())
    altered[len(altered) // 2] ^= 0x01
    path.write_bytes(bytes(altered))

    with pytest.raises(documents.DocumentDamaged):
        documents.document_read(by=worker, document=document)


def test_file_of_another_document_does_not_open(worker, case, documents_dir):
    first = upload(worker, case)
    second = upload(worker, case, PNG)
    first_path = documents_dir / first.storage_name
    first_path.write_bytes((documents_dir / second.storage_name).read_bytes())

    with pytest.raises(documents.DocumentDamaged):
        documents.document_read(by=worker, document=first)


def test_missing_file_is_reported_as_damaged(worker, case, documents_dir):
    document = upload(worker, case)
    (documents_dir / document.storage_name).unlink()

    with pytest.raises(documents.DocumentDamaged):
        documents.document_read(by=worker, document=document)


def test_file_above_the_limit_is_refused_and_nothing_is_stored(
    worker, case, settings, documents_dir
):
    settings.MBROJTJE_DOCUMENT_MAX_BYTES = len(PDF) - 1

    with pytest.raises(ValidationError) as refusal:
        upload(worker, case)

    assert refusal.value.error_dict["file"][0].code == "too_large"
    assert_nothing_stored(documents_dir)


def test_file_of_exactly_the_limit_is_accepted(worker, case, settings):
    settings.MBROJTJE_DOCUMENT_MAX_BYTES = len(PDF)

    assert upload(worker, case).size == len(PDF)


@pytest.mark.parametrize("content", NOT_ACCEPTED.values(), ids=NOT_ACCEPTED.keys())
def test_file_not_pdf_jpeg_or_png_by_content_is_refused_whatever_its_name(
    worker, case, documents_dir, content
):
    with pytest.raises(ValidationError) as refusal:
        upload(worker, case, content, name="vendimi.pdf")

    assert refusal.value.error_dict["file"][0].code == "wrong_type"
    assert_nothing_stored(documents_dir)


def test_empty_file_is_refused(worker, case, documents_dir):
    with pytest.raises(ValidationError) as refusal:
        upload(worker, case, b"")

    assert refusal.value.error_dict["file"][0].code == "empty"
    assert_nothing_stored(documents_dir)


def test_missing_title_is_refused_and_nothing_is_stored(worker, case, documents_dir):
    with pytest.raises(ValidationError) as refusal:
        upload(worker, case, title="  ")

    assert "title" in refusal.value.error_dict
    assert_nothing_stored(documents_dir)


def test_file_is_removed_when_the_row_cannot_be_saved(worker, case, documents_dir, monkeypatch):
    written = []
    real_write = documents._write

    def write_and_remember(storage_name, data):
        written.append(real_write(storage_name, data))
        return written[-1]

    def failing_save(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(documents, "_write", write_and_remember)
    monkeypatch.setattr(Document, "save", failing_save)

    with pytest.raises(RuntimeError):
        upload(worker, case)

    assert len(written) == 1  # The file was written, then removed.
    assert_nothing_stored(documents_dir)


@pytest.mark.django_db(transaction=True)
def test_upload_refuses_to_run_inside_a_transaction_that_could_roll_it_back(
    worker, case, documents_dir
):
    # Were it nested, a rollback after it returned would leave the file with no row.
    with pytest.raises(RuntimeError), transaction.atomic():
        upload(worker, case)

    assert_nothing_stored(documents_dir)


def test_worker_not_in_charge_cannot_upload_or_read(worker, colleague, case, documents_dir):
    document = upload(worker, case)

    with pytest.raises(PermissionDenied):
        upload(colleague, case)
    with pytest.raises(Document.DoesNotExist):
        documents.document_read(by=colleague, document=document)
    assert not documents.documents_visible(by=colleague, case=case).exists()
    assert Document.objects.count() == 1


def test_member_who_may_see_the_case_but_not_its_documents_cannot_read(worker, colleague, case):
    document = upload(worker, case)
    CaseUserObjectPermission.objects.create(
        content_object=case,
        user=colleague,
        permission=Permission.objects.get(content_type__app_label="protocol", codename="view_case"),
    )

    with pytest.raises(Document.DoesNotExist):
        documents.document_read(by=colleague, document=document)
    with pytest.raises(PermissionDenied):
        upload(colleague, case)


def test_supervisor_of_the_municipality_reads_the_documents(worker, supervisor, case):
    document = upload(worker, case)

    assert documents.document_read(by=supervisor, document=document) == PDF
    assert list(documents.documents_visible(by=supervisor, case=case)) == [document]


# --- Pages ------------------------------------------------------------------------


def test_worker_uploads_and_downloads_through_the_pages(worker, case):
    client = signed_in_client(worker)
    assert client.get(upload_url(case)).status_code == 200

    response = client.post(
        upload_url(case),
        {
            "file": SimpleUploadedFile("Raport mjekësor Arta Hoxha.jpg", JPEG, "image/jpeg"),
            "category": DocumentCategory.MEDICAL_REPORT,
            "title": "Raporti i mjekut ligjor",
        },
    )

    document = Document.objects.get()
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url() + "#documents"
    response = client.get(download_url(document))
    assert response.status_code == 200
    assert response.content == JPEG
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == (
        f'attachment; filename="document-medical-report-{timezone.localdate():%Y-%m-%d}.jpg"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_refused_upload_says_why_and_stores_nothing(worker, case, documents_dir):
    client = signed_in_client(worker)

    response = client.post(
        upload_url(case),
        {
            "file": SimpleUploadedFile("vendimi.pdf", NOT_ACCEPTED["html page"], "application/pdf"),
            "category": DocumentCategory.COURT_DECISION,
            "title": "Vendimi",
        },
    )

    assert response.status_code == 200
    assert "Mund të ngarkohen vetëm skedarë PDF, JPEG dhe PNG" in response.content.decode()
    assert 'value="Vendimi"' in response.content.decode()
    assert_nothing_stored(documents_dir)


def test_too_large_upload_page_gives_the_limit_and_stores_nothing(
    worker, case, settings, documents_dir
):
    settings.MBROJTJE_DOCUMENT_MAX_BYTES = 1000
    client = signed_in_client(worker)

    response = client.post(
        upload_url(case),
        {
            "file": SimpleUploadedFile("vendimi.pdf", PDF, "application/pdf"),
            "category": DocumentCategory.COURT_DECISION,
            "title": "Vendimi",
        },
    )

    assert response.status_code == 200
    assert "Skedari është më i madh se" in response.content.decode()
    assert_nothing_stored(documents_dir)


def test_upload_never_writes_the_clear_file_to_a_temporary_file(
    worker, case, settings, monkeypatch
):
    # Django's default would put an upload above this size in a clear temporary file.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100

    def refuse(*args, **kwargs):
        raise AssertionError("the upload went to a temporary file in clear")

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", refuse)
    client = signed_in_client(worker)

    response = client.post(
        upload_url(case),
        {
            "file": SimpleUploadedFile("vendimi.pdf", PDF, "application/pdf"),
            "category": DocumentCategory.COURT_DECISION,
            "title": "Vendimi",
        },
    )

    assert response.status_code == 302
    assert documents.document_read(by=worker, document=Document.objects.get()) == PDF


def test_upload_without_csrf_token_is_refused(worker, case, documents_dir):
    client = signed_in_client(worker)
    client.handler.enforce_csrf_checks = True

    response = client.post(
        upload_url(case),
        {
            "file": SimpleUploadedFile("vendimi.pdf", PDF, "application/pdf"),
            "category": DocumentCategory.COURT_DECISION,
            "title": "Vendimi",
        },
    )

    assert response.status_code == 403
    assert_nothing_stored(documents_dir)


def test_altered_file_gives_an_error_page_without_any_content(worker, case, documents_dir):
    document = upload(worker, case)
    path = documents_dir / document.storage_name
    path.write_bytes(path.read_bytes()[:-1])
    client = signed_in_client(worker)

    response = client.get(download_url(document))

    assert response.status_code == 500
    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")
    assert SECRET not in response.content
    assert str(document.pk) in response.content.decode()


@pytest.mark.parametrize("who", ["colleague", "stranger", "view_case_only"])
def test_user_without_access_to_the_documents_gets_404_and_no_bytes(
    who, worker, colleague, stranger, case, documents_dir
):
    document = upload(worker, case)
    user = stranger if who == "stranger" else colleague
    if who == "view_case_only":
        CaseUserObjectPermission.objects.create(
            content_object=case,
            user=colleague,
            permission=Permission.objects.get(
                content_type__app_label="protocol", codename="view_case"
            ),
        )
    client = signed_in_client(user)

    download = client.get(download_url(document))
    upload_page = client.get(upload_url(case))
    upload_post = client.post(
        upload_url(case),
        {
            "file": SimpleUploadedFile("x.pdf", PDF, "application/pdf"),
            "category": DocumentCategory.OTHER,
            "title": "x",
        },
    )

    assert download.status_code == 404
    assert SECRET not in download.content
    assert upload_page.status_code == 404
    assert upload_post.status_code == 404
    assert Document.objects.count() == 1
    assert len(stored_files(documents_dir)) == 1


def test_document_of_another_case_is_not_found_under_this_one(worker, case):
    other_case = register_case(worker)
    document = upload(worker, case)
    client = signed_in_client(worker)

    response = client.get(f"/cases/{other_case.number}/documents/{document.pk}/")

    assert response.status_code == 404
    assert SECRET not in response.content


def test_supervisor_downloads_from_the_page(worker, supervisor, case):
    document = upload(worker, case)

    response = signed_in_client(supervisor).get(download_url(document))

    assert response.status_code == 200
    assert response.content == PDF


def test_section_lists_the_documents_with_their_links(worker, case):
    document = upload(worker, case)

    html = render_to_string(
        "protocol/documents/section.html",
        {
            "documents": documents.documents_visible(by=worker, case=case),
            "case": case,
            "can_upload": True,
        },
    )

    assert "Vendimi i gjykatës për masën e mbrojtjes" in html
    assert download_url(document) in html
    assert upload_url(case) in html
    assert "Vendimi per Arta Hoxha.pdf" not in html
