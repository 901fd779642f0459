"""Uploaded documents: what may be uploaded and where it is kept.

A quote's document is evidence for the quote rule and inside information until announced, so it
is stored under PRIVATE_MEDIA_ROOT (never under a served folder) with a random name, and handed
out only by transactions.views.quote_document to a logged-in user with a role. The evidence of a
quote-rule exception follows the same rules under its own address (compliance.views).
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse
from django.utils.deconstruct import deconstructible

# What a file must start with to be what it claims. Checked on the content, not the name.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}
ALLOWED_EXTENSIONS = tuple(_SIGNATURES)


DOCUMENTS_URL = "/documents/"
EVIDENCE_URL = "/evidence/"


def private_storage() -> FileSystemStorage:
    # A callable, so that the location follows the settings in force (tests use a temporary folder).
    # Its URLs point at transactions.views.quote_document, which checks the user before serving.
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=DOCUMENTS_URL)


def evidence_storage() -> FileSystemStorage:
    """Private storage whose URLs point at compliance.views.exception_evidence."""
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=EVIDENCE_URL)


@deconstructible
class RandomName:
    """Store uploads as quotes/<yyyy>/<uuid>.<ext>: no user-chosen path ever reaches the disk."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __call__(self, instance, filename: str) -> str:
        extension = PurePath(filename).suffix.lower().lstrip(".")
        return f"{self.folder}/{uuid.uuid4().hex}.{extension}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RandomName) and other.folder == self.folder


def validate_quote_document(upload) -> None:
    """A PDF, PNG or JPEG, no larger than QUOTE_DOCUMENT_MAX_BYTES, whose content matches its name."""
    _validate_document(upload, "the quote")


def validate_evidence_document(upload) -> None:
    """The evidence of a quote-rule exception: the same kinds and size as a quote document."""
    _validate_document(upload, "the evidence")


def _validate_document(upload, what: str) -> None:
    limit = settings.QUOTE_DOCUMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            "The document is %(size)s MB; the largest accepted is %(limit)s MB.",
            code="document_too_large",
            params={"size": f"{upload.size / 1_048_576:.1f}", "limit": f"{limit / 1_048_576:.1f}"},
        )
    extension = PurePath(upload.name or "").suffix.lower().lstrip(".")
    if extension not in _SIGNATURES:
        raise ValidationError(f"Upload {what} as a PDF, PNG or JPEG file.", code="document_type")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(16)
    upload.seek(position)
    if not any(head.startswith(signature) for signature in _SIGNATURES[extension]):
        raise ValidationError(
            "The file is named .%(extension)s but its content is not a %(kind)s document.",
            code="document_content",
            params={"extension": extension, "kind": extension.upper()},
        )


def private_attachment(stored_file, filename: str) -> FileResponse:
    """A stored private file as a download that browsers neither sniff nor cache."""
    response = FileResponse(stored_file.open("rb"), as_attachment=True, filename=filename or stored_file.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def simple_pdf(*lines: str) -> bytes:
    """A small valid one-page PDF showing `lines` (ASCII): stand-in quote documents for demo data and tests."""
    text = " ".join(
        f"({line.encode('ascii', 'replace').decode().replace(chr(92), '/').replace('(', '[').replace(')', ']')}) Tj T*"
        for line in lines
    )
    stream = f"BT /F1 11 Tf 14 TL 56 780 Td {text} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
