"""Bad input gets a clear 400 (or 409 for a refused action) and changes nothing."""

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import override_settings

from compliance.models import AnnualCap
from tests.factories import PDF, CounterpartyFactory, D, RateFactory, UserFactory
from transactions.models import Invoice, PurchaseOrder, Quote


@pytest.fixture
def order_payload(ledger):
    return {
        "number": "PO-2026-0001", "category": ledger.category.pk, "counterparty": ledger.connected.pk,
        "order_date": "2026-03-02", "amount": "1000.00", "currency": "CNY", "recognition": "on_order_date",
    }  # fmt: skip


def snapshot():
    """Every row and every history row that a bad request could have touched."""
    return (
        PurchaseOrder.objects.count(), PurchaseOrder.history.count(), Quote.objects.count(), Quote.history.count(),
        Invoice.objects.count(), AnnualCap.objects.count(), AnnualCap.history.count(),
        sorted((c.pk, c.period_start, c.period_end, c.amount) for c in AnnualCap.objects.all()),
    )  # fmt: skip


def post_refused(client, path, payload, field, *, status=400, **kwargs):
    before = snapshot()
    response = client.post(path, payload, **kwargs)
    assert response.status_code == status, response.content
    assert snapshot() == before
    body = response.json()
    if field:
        assert field in body, body
    return body


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-100.00", "greater than zero"),
        ("0.00", "greater than zero"),
        ("12,000", "A valid number is required"),
        ("abc", "A valid number is required"),
        ("100.123", "no more than 2 decimal places"),
    ],
)
def test_an_order_with_a_bad_amount_is_refused(finance_api, order_payload, amount, message):
    body = post_refused(
        finance_api, "/api/purchase-orders/", {**order_payload, "amount": amount}, "amount", format="json"
    )

    assert message in body["amount"][0]


def test_an_unknown_currency_is_refused(finance_api, order_payload):
    body = post_refused(
        finance_api, "/api/purchase-orders/", {**order_payload, "currency": "RMB"}, "currency", format="json"
    )

    assert "not a valid choice" in body["currency"][0]


def test_a_duplicate_order_number_is_refused(finance_api, order_payload, ledger):
    ledger.order(number="PO-2026-0001")

    body = post_refused(finance_api, "/api/purchase-orders/", order_payload, "number", format="json")
    assert "already exists" in body["number"][0]


def test_an_order_with_a_counterparty_outside_the_agreements_connected_person_is_refused(
    finance_api, order_payload, ledger
):
    payload = {**order_payload, "counterparty": ledger.independents[0].pk}

    body = post_refused(finance_api, "/api/purchase-orders/", payload, "counterparty", format="json")
    assert "is not a company of Xiaomi Group" in body["counterparty"][0]


def test_a_service_period_that_ends_before_it_starts_is_refused(finance_api, order_payload):
    payload = {**order_payload, "recognition": "over_service_period", "service_start": "2026-05-01",
               "service_end": "2026-04-30"}  # fmt: skip

    body = post_refused(finance_api, "/api/purchase-orders/", payload, "service_end", format="json")
    assert "end on or after it starts" in body["service_end"][0]


def test_an_order_spread_over_a_service_period_needs_one(finance_api, order_payload):
    body = post_refused(
        finance_api, "/api/purchase-orders/", {**order_payload, "recognition": "over_service_period"}, "service_start",
        format="json",
    )  # fmt: skip
    assert "Enter the service period" in body["service_start"][0]


@pytest.mark.parametrize(
    "extra",
    [{"status": "approved"}, {"approved_by": 1}, {"created_by": 999}, {"approved_at": "2026-03-02T10:00:00Z"},
     {"cancellation_reason": "x"}, {"is_superuser": True}],
)  # fmt: skip
def test_mass_assignment_of_status_approver_or_audit_fields_is_refused_and_changes_nothing(
    finance_api, order_payload, extra
):
    body = post_refused(
        finance_api, "/api/purchase-orders/", {**order_payload, **extra}, next(iter(extra)), format="json"
    )

    assert body[next(iter(extra))] == ["This field cannot be set."]


def test_mass_assignment_on_an_update_is_refused(finance_api, ledger):
    order = ledger.order()

    response = finance_api.patch(f"/api/purchase-orders/{order.pk}/", {"status": "approved"}, format="json")

    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == "draft"


def test_an_approved_order_cannot_be_edited(finance_api, ledger):
    order = ledger.approved("100.00", approver=UserFactory(username="approver"))
    before = snapshot()

    response = finance_api.patch(f"/api/purchase-orders/{order.pk}/", {"amount": "1.00"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "order_not_draft"
    assert snapshot() == before


# --- Caps --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "field", "message"),
    [
        (("2026-06-01", "2027-05-31"), "period_start", "not inside the term"),
        (("2025-07-01", "2025-08-31"), "period_start", "not inside the term"),
        (("2026-12-31", "2026-12-01"), "period_end", "must end on or after it starts"),
    ],
)
def test_a_cap_outside_the_term_or_ending_before_it_starts_is_refused(compliance_api, ledger, period, field, message):
    payload = {"category": ledger.category.pk, "period_start": period[0], "period_end": period[1], "amount": "1.00"}

    body = post_refused(compliance_api, "/api/caps/", payload, field, format="json")
    assert message in " ".join(body[field])


def test_overlapping_cap_periods_are_refused(compliance_api, ledger):
    ledger.category.term_end = D("2027-12-31")
    ledger.category.save()
    payload = {"category": ledger.category.pk, "period_start": "2026-12-31", "period_end": "2027-12-31",
               "amount": "1000.00"}  # fmt: skip

    body = post_refused(compliance_api, "/api/caps/", payload, "period_start", format="json")
    assert "overlaps the cap for 1 Jan 2026 to 31 Dec 2026" in body["period_start"][0]


def test_a_cap_with_a_negative_amount_is_refused(compliance_api, ledger):
    ledger.category.term_end = D("2027-12-31")
    ledger.category.save()
    payload = {"category": ledger.category.pk, "period_start": "2027-01-01", "period_end": "2027-12-31",
               "amount": "-5.00"}  # fmt: skip

    post_refused(compliance_api, "/api/caps/", payload, "amount", format="json")


@pytest.mark.postgres
def test_the_database_itself_refuses_overlapping_periods(ledger):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AnnualCap.objects.create(
            category=ledger.category, period_start=D("2026-06-01"), period_end=D("2026-06-30"), amount=Decimal("1.00")
        )


def test_shrinking_a_term_below_its_caps_is_refused(compliance_api, ledger):
    response = compliance_api.patch(f"/api/categories/{ledger.category.pk}/", {"term_end": "2026-06-30"}, format="json")

    assert response.status_code == 400
    assert "would fall outside the term" in response.json()["term_end"][0]
    ledger.category.refresh_from_db()
    assert ledger.category.term_end == D("2026-12-31")


# --- Invoices ----------------------------------------------------------------------------------


def test_an_invoice_without_a_rate_for_its_date_is_refused_with_409(finance_api, ledger):
    order = ledger.approved("100.00", approver=UserFactory(username="approver"))
    payload = {"purchase_order": order.pk, "number": "FP-1", "invoice_date": "2026-04-01", "amount": "10.00",
               "currency": "USD"}  # fmt: skip

    body = post_refused(finance_api, "/api/invoices/", payload, None, status=409, format="json")
    assert body["code"] == "no_exchange_rate"
    assert "USD/CNY" in body["detail"]
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-04-01"))
    assert finance_api.post("/api/invoices/", payload, format="json").status_code == 201


def test_a_duplicate_invoice_number_is_refused(finance_api, ledger):
    order = ledger.approved("100.00", approver=UserFactory(username="approver"))
    order.invoices.create(number="FP-1", invoice_date=D("2026-04-01"), amount=Decimal("10.00"), currency="CNY")
    payload = {"purchase_order": order.pk, "number": "FP-1", "invoice_date": "2026-04-02", "amount": "10.00",
               "currency": "CNY"}  # fmt: skip

    post_refused(finance_api, "/api/invoices/", payload, "number", format="json")


# --- Quote documents -------------------------------------------------------------------------------


def upload(name: str, content: bytes) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def quote_payload(ledger, document):
    order = ledger.order(quotes=())
    return {"purchase_order": order.pk, "supplier": ledger.independents[0].pk, "quoted_on": "2026-02-20",
            "amount": "110000.00", "currency": "CNY", "document": document}  # fmt: skip


def test_an_html_file_renamed_pdf_is_refused(finance_api, ledger):
    payload = quote_payload(ledger, upload("quote.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"))
    stored_before = set(settings.PRIVATE_MEDIA_ROOT.rglob("*"))

    body = post_refused(finance_api, "/api/quotes/", payload, "document", format="multipart")
    assert "its content is not a PDF document" in body["document"][0]
    assert set(settings.PRIVATE_MEDIA_ROOT.rglob("*")) == stored_before


def test_a_file_that_is_not_a_pdf_or_image_is_refused(finance_api, ledger):
    body = post_refused(
        finance_api, "/api/quotes/", quote_payload(ledger, upload("quote.docx", b"PK\x03\x04")), "document",
        format="multipart",
    )  # fmt: skip
    assert "PDF, PNG or JPEG" in body["document"][0]


@override_settings(QUOTE_DOCUMENT_MAX_BYTES=1024)
def test_an_oversized_document_is_refused(finance_api, ledger):
    body = post_refused(
        finance_api, "/api/quotes/", quote_payload(ledger, upload("quote.pdf", PDF + b"0" * 2048)), "document",
        format="multipart",
    )  # fmt: skip
    assert "the largest accepted is" in body["document"][0]


def test_a_real_pdf_is_stored_privately_under_a_random_name(finance_api, ledger):
    response = finance_api.post("/api/quotes/", quote_payload(ledger, upload("offer 1.pdf", PDF)), format="multipart")

    assert response.status_code == 201, response.content
    quote = Quote.objects.get(pk=response.json()["id"])
    assert quote.document_name == "offer 1.pdf"
    stored = settings.PRIVATE_MEDIA_ROOT / quote.document.name
    assert stored.read_bytes() == PDF
    assert "offer" not in quote.document.name
    assert not str(stored).startswith(str(settings.STATIC_ROOT))


def test_an_unknown_counterparty_is_a_field_error(finance_api, order_payload):
    post_refused(finance_api, "/api/purchase-orders/", {**order_payload, "counterparty": 987654}, "counterparty",
                 format="json")  # fmt: skip


def test_a_counterparty_with_a_duplicate_name_is_refused(compliance_api, ledger):
    CounterpartyFactory(name="Same Name Ltd.")

    response = compliance_api.post("/api/counterparties/", {"name": "Same Name Ltd."}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()
