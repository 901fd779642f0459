"""Quote documents are served only to logged-in users with a role, as attachments."""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import PDF, QuoteFactory
from transactions.services import quote_update


def quote_with_document(ledger, user):
    quote = QuoteFactory(purchase_order=ledger.order(quotes=()), supplier=ledger.independents[0])
    return quote_update(quote=quote, user=user, document=SimpleUploadedFile("報價單 Q1.pdf", PDF))


def test_a_logged_in_user_with_a_role_downloads_the_document_as_an_attachment(client, ledger, auditor_user):
    quote = quote_with_document(ledger, auditor_user)
    client.force_login(auditor_user)

    response = client.get(quote.document.url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Q1.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_anonymous_visitor_is_sent_to_log_in(client, ledger, finance_user):
    quote = quote_with_document(ledger, finance_user)

    response = client.get(quote.document.url)

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_path_that_is_no_quotes_document_is_not_found(client, ledger, auditor_user):
    client.force_login(auditor_user)

    assert client.get("/documents/quotes/../../settings.py").status_code == 404
    assert client.get("/documents/quotes/unknown.pdf").status_code == 404


def test_a_user_without_a_role_is_refused(client, ledger, finance_user, norole_user):
    quote = quote_with_document(ledger, finance_user)
    client.force_login(norole_user)

    assert client.get(quote.document.url).status_code == 403


def test_the_api_links_to_the_protected_download(finance_api, ledger, finance_user):
    quote = quote_with_document(ledger, finance_user)

    body = finance_api.get(f"/api/quotes/{quote.pk}/").json()

    assert body["document_url"] == f"http://testserver{quote.document.url}"
    assert body["document_url"].startswith("http://testserver/documents/quotes/")
    assert body["document_name"] == "報價單 Q1.pdf"
