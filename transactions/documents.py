"""Uploaded documents: what may be uploaded and where it is kept.

A quote's document is evidence for the quote rule and inside information until announced, so it
is stored under PRIVATE_MEDIA_ROOT (never under a served folder) with a random name, and handed
out only by transactions.views.quote_document to a logged-in user with a role. The evidence of a
quote-rule exception follows the same rules under its own address (compliance.views).
"""

import io
import re
import uuid
import warnings
from collections.abc import Callable
from functools import wraps
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpRequest, JsonResponse
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

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
    _validate_document(upload, _("the quote"))


def validate_evidence_document(upload) -> None:
    """The evidence of a quote-rule exception: the same kinds and size as a quote document."""
    _validate_document(upload, _("the evidence"))


def _validate_document(upload, what: str) -> None:
    limit = settings.QUOTE_DOCUMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The document is %(size)s MB; the largest accepted is %(limit)s MB."),
            code="document_too_large",
            params={"size": f"{upload.size / 1_048_576:.1f}", "limit": f"{limit / 1_048_576:.1f}"},
        )
    extension = PurePath(upload.name or "").suffix.lower().lstrip(".")
    if extension not in _SIGNATURES:
        raise ValidationError(
            _("Upload %(what)s as a PDF, PNG or JPEG file."), code="document_type", params={"what": what}
        )
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    content = upload.read()
    upload.seek(position)
    if not any(content.startswith(signature) for signature in _SIGNATURES[extension]):
        raise ValidationError(
            _("The file is named .%(extension)s but its content is not a %(kind)s document."),
            code="document_content",
            params={"extension": extension, "kind": extension.upper()},
        )
    judge_content(content, "pdf" if extension == "pdf" else "image")


# --- Judging the content ----------------------------------------------------------------------------
# A document is opened by whoever reviews it (finance, compliance, the auditors), so it must be a plain
# document: nothing a reader would run, nothing hidden inside, nothing another program would read as
# something else (a polyglot), and nothing that takes the server's memory when opened.

# Markup that makes a file readable as a web page or script by a browser that sniffs it.
_MARKUP = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|script|iframe|svg|object|embed|meta)\b", re.IGNORECASE)
# PDF names that run something, open something or carry files: refused wherever they appear.
_PDF_ACTIVE = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/XFA", "/SubmitForm",
               "/ImportData", "/GoToE"}  # fmt: skip
# An image no larger than this many pixels (a 600 dpi A4 scan is about 35 million).
MAX_IMAGE_PIXELS = 60_000_000


def judge_content(content: bytes, kind: str) -> None:
    """Refuse a PDF or image that is malformed, active, a polyglot or a decompression bomb."""
    if _MARKUP.search(content):
        raise ValidationError(
            _("The file also contains web page markup (HTML or script); upload the document itself."),
            code="document_polyglot",
        )
    if kind == "pdf":
        _judge_pdf(content)
    else:
        _judge_image(content)


def _judge_pdf(content: bytes) -> None:
    if not content.rstrip(b"\x00\t\n\r\f ").endswith(b"%%EOF"):
        raise ValidationError(
            _("The PDF does not end where a PDF ends: it has something else appended, or it is cut short."),
            code="document_polyglot",
        )
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise ValidationError(_("The PDF is encrypted; upload it without a password."), code="document_encrypted")
        if len(reader.pages) == 0:
            raise PdfReadError("no pages")
        found = _active_names(reader)
    except ValidationError:
        raise
    except Exception as error:  # pypdf raises many kinds on broken files; all mean the same here
        raise ValidationError(
            _("The PDF cannot be read (%(reason)s); save it again as a PDF and upload that."),
            code="document_malformed",
            params={"reason": type(error).__name__},
        ) from None
    if found:
        raise ValidationError(
            _("The PDF carries %(what)s, which a document for the records must not; print it to a new PDF first."),
            code="document_active",
            params={"what": ", ".join(sorted(found))},
        )


def _active_names(reader: PdfReader) -> set[str]:
    """The active names used anywhere in the document reachable from its trailer (compressed object
    streams included: pypdf reads them), as keys or as action types."""
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, DictionaryObject):  # streams are dictionaries too
            for name, value in item.items():
                if name in _PDF_ACTIVE:
                    found.add(name)
                if name == "/S" and value in _PDF_ACTIVE:
                    found.add(str(value))
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return found


def _judge_image(content: bytes) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise Image.DecompressionBombError(f"{width} x {height} pixels")
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("The image is too large once opened (over %(limit)s million pixels); scan it at a lower resolution."),
            code="document_too_large",
            params={"limit": MAX_IMAGE_PIXELS // 1_000_000},
        ) from None
    except Exception as error:
        raise ValidationError(
            _("The image cannot be read (%(reason)s); save it again as PNG or JPEG and upload that."),
            code="document_malformed",
            params={"reason": type(error).__name__},
        ) from None
    trailer = content.rstrip(b"\x00")
    if not (trailer.endswith(b"IEND\xaeB`\x82") or trailer.endswith(b"\xff\xd9")):
        raise ValidationError(
            _("The image does not end where an image ends: it has something else appended."),
            code="document_polyglot",
        )


def signed_in_or_token(view: Callable) -> Callable:
    """Like login_required, but an API client may also present its token (`Authorization: Token ...`),
    so the document links the API returns work for the systems that use the API."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated and request.META.get("HTTP_AUTHORIZATION"):
            try:
                found = TokenAuthentication().authenticate(request)
            except AuthenticationFailed as error:
                return JsonResponse({"detail": str(error.detail)}, status=401)
            if found is not None:
                request.user = found[0]
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def private_attachment(stored_file, filename: str) -> FileResponse:
    """A stored private file as a download that browsers neither sniff nor cache."""
    response = FileResponse(stored_file.open("rb"), as_attachment=True, filename=filename or stored_file.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Even if a browser were to display it, nothing in it may run or reach anything.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
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
