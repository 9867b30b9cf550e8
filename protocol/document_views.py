"""Pages of a case's documents: the upload form and the download.

The list itself is part of the case page (protocol/documents/section.html).
"""

import logging
from io import BytesIO

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_safe

from encryption import limits

from . import documents
from .access import Part
from .auditing import case_opened, part_opened
from .models import Document, DocumentCategory
from .selectors import case_for

logger = logging.getLogger(__name__)

FILE_FIELD = "file"


class DocumentUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        # protocol.documents refuses an empty file, with its own message.
        allow_empty_file=True,
        help_text=gettext_lazy("A PDF, JPEG or PNG file: a scan or a photo of the document."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"}
        ),
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=DocumentCategory.choices)
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=limits.LINE,
        help_text=gettext_lazy("What the document is, e.g. the court and the date of a decision."),
    )


class BoundedMemoryUploadHandler(FileUploadHandler):
    """Keeps the uploaded file in memory, never in a clear temporary file on disk.

    Django writes uploads above FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file
    in clear; a medical report must not touch the disk unencrypted. At most one
    byte more than the limit is kept, enough for the service to refuse it as too
    large with the real size; any other file in the request is dropped.
    """

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.buffer = None
        self.taken = False

    def new_file(self, field_name, *args, **kwargs):
        if field_name != FILE_FIELD or self.taken:
            raise SkipFile
        super().new_file(field_name, *args, **kwargs)
        self.taken = True
        self.buffer = BytesIO()

    def receive_data_chunk(self, raw_data, start):
        room = self.limit + 1 - self.buffer.tell()
        if room > 0:
            self.buffer.write(raw_data[:room])

    def file_complete(self, file_size):
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


@csrf_exempt
def upload(request, number):
    # The upload handlers must be set before the body is read, and the CSRF
    # check reads it: the check is made just below, by csrf_protect, instead.
    request.upload_handlers = [BoundedMemoryUploadHandler(request, documents.max_bytes())]
    return _upload(request, number)


@csrf_protect
def _upload(request, number):
    case = case_for(request.user, number, part=Part.DOCUMENTS)
    if not documents.may_upload(request.user, case):
        raise Http404
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            documents.document_upload(
                by=request.user,
                case=case,
                uploaded_file=form.cleaned_data["file"],
                category=form.cleaned_data["category"],
                title=form.cleaned_data["title"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The document was uploaded."))
            return redirect(case.get_absolute_url() + "#documents")
    case_opened(request, case)
    return render(
        request,
        "protocol/documents/upload.html",
        {"case": case, "form": form, "max_bytes": documents.max_bytes()},
    )


def _add_errors(form, error: ValidationError) -> None:
    """The service's errors next to the form's fields; those of other fields above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else NON_FIELD_ERRORS, errors)


@require_safe
def download(request, number, pk):
    # The case first, then the document: a member who may open the case but not its
    # documents is refused the document by its id.
    case = case_for(request.user, number)
    document = documents.document_for(by=request.user, case=case, pk=pk)
    try:
        content = documents.document_read(by=request.user, document=document)
    except Document.DoesNotExist:
        raise Http404 from None
    except documents.DocumentDamaged:
        logger.exception("Document %s of case %s cannot be read.", document.pk, case.pk)
        return render(
            request,
            "protocol/documents/damaged.html",
            {"case": case, "document": document},
            status=500,
        )
    part_opened(
        request, case, part="documents", object_type="protocol.document", object_id=document.pk
    )
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=documents.download_filename(document)
    )
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
