"""Uploaded documents are judged by their content: hostile files, built here, are refused; plain ones are
stored and handed out only as attachment downloads, to a signed-in user or an API token."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from transactions.documents import validate_quote_document


def pdf(build=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if build:
        build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_javascript(writer: PdfWriter) -> None:
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('hello');")}
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def with_launch(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )


def with_attachment(writer: PdfWriter) -> None:
    writer.add_attachment("invoice.exe", b"MZ\x90\x00 not a document")


def image(kind: str, size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb() -> bytes:
    """A small, well-formed PNG header claiming 100,000 x 100,000 pixels (10 gigapixels once opened)."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def judge(name: str, content: bytes) -> None:
    validate_quote_document(SimpleUploadedFile(name, content))


def refusal(name: str, content: bytes) -> str:
    with pytest.raises(ValidationError) as refused:
        judge(name, content)
    return " ".join(refused.value.messages)


def test_plain_documents_are_accepted():
    judge("quote.pdf", pdf())
    judge("quote.png", image("PNG"))
    judge("quote.jpg", image("JPEG"))


def test_a_pdf_carrying_javascript_is_refused():
    assert "/JavaScript" in refusal("quote.pdf", pdf(with_javascript))


def test_a_pdf_whose_javascript_name_is_disguised_is_refused():
    disguised = pdf(with_javascript).replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in disguised

    assert "/JavaScript" in refusal("quote.pdf", disguised)


def test_a_pdf_with_a_launch_action_is_refused():
    assert "/Launch" in refusal("quote.pdf", pdf(with_launch))


def test_a_pdf_with_an_embedded_file_is_refused():
    assert "/EmbeddedFile" in refusal("quote.pdf", pdf(with_attachment))


@pytest.mark.parametrize(
    "content",
    [
        pdf()[: len(pdf()) // 2],  # cut short
        b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",  # no document in it
        b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n",
    ],
    ids=["truncated", "no-root", "garbage"],
)
def test_a_malformed_pdf_is_refused(content):
    message = refusal("quote.pdf", content)
    assert "cannot be read" in message or "does not end where a PDF ends" in message


def test_a_pdf_html_polyglot_is_refused():
    polyglot = pdf().replace(b"%PDF-1.3\n", b"%PDF-1.3\n%<html><body><script>alert(document.cookie)</script>\n", 1)
    assert polyglot.startswith(b"%PDF-") and b"<script>" in polyglot

    assert "web page markup" in refusal("quote.pdf", polyglot)


def test_a_pdf_with_an_archive_appended_is_refused():
    assert "does not end where a PDF ends" in refusal("quote.pdf", pdf() + b"PK\x03\x04" + b"\x00" * 64)


def test_a_decompression_bomb_png_is_refused():
    assert "too large once opened" in refusal("quote.png", png_bomb())


def test_an_image_with_a_script_appended_is_refused():
    assert "web page markup" in refusal("quote.png", image("PNG") + b"<script>alert(1)</script>")
    assert "does not end where an image ends" in refusal("quote.jpg", image("JPEG") + b"PK\x03\x04zipped")


def test_a_png_named_jpg_or_a_broken_image_is_refused():
    assert "not a JPG document" in refusal("quote.jpg", image("PNG"))
    broken = image("PNG")
    assert "cannot be read" in refusal("quote.png", broken[:40] + b"\x00" * 20 + broken[60:])


# --- Downloads ---------------------------------------------------------------------------------------


@pytest.fixture
def stored_quote(finance_api, ledger):
    order = ledger.order(quotes=())
    response = finance_api.post(
        "/api/quotes/",
        {"purchase_order": order.pk, "supplier": ledger.independents[0].pk, "quoted_on": "2026-02-20",
         "amount": "110000.00", "currency": "CNY", "document": SimpleUploadedFile("offer.pdf", pdf())},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()


def test_the_document_link_the_api_gives_works_with_the_api_token_and_downloads(stored_quote, finance_user):
    token = Token.objects.create(user=finance_user)
    client = APIClient()

    response = client.get(stored_quote["document_url"], HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="offer.pdf"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == pdf()


def test_the_document_link_refuses_a_wrong_token_and_sends_others_to_sign_in(stored_quote):
    client = APIClient()

    assert client.get(stored_quote["document_url"], HTTP_AUTHORIZATION="Token not-a-token").status_code == 401
    anonymous = client.get(stored_quote["document_url"])
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
