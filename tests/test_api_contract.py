"""The API as outside systems see it: paths, field names, formats and codes of the contract."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.alerts.recording import alerts_record
from tests.factories import D, FinancialYearFactory, InvoiceFactory, UserFactory
from transactions.documents import simple_pdf

CONTRACT_FIELDS = {
    "connected-persons": {"id", "name", "basis", "connected_from", "connected_until"},
    "counterparties": {"id", "name", "connected_person"},
    "agreements": {"id", "title", "connected_person", "signed_on", "board_approved_on"},
    "categories": {
        "id", "agreement", "name", "term_start", "term_end", "currency", "min_independent_quotes",
        "quote_validity_days",
    },
    "caps": {
        "id", "category", "period_start", "period_end", "amount", "actual", "committed", "actual_pct",
        "committed_pct", "remaining",
    },
    "exchange-rates": {"id", "currency", "target_currency", "rate_date", "rate"},
    "purchase-orders": {
        "id", "number", "category", "counterparty", "order_date", "amount", "currency", "recognition",
        "service_start", "service_end", "status", "created_by", "approved_by",
    },
    "quotes": {"id", "purchase_order", "supplier", "quoted_on", "amount", "currency"},
    "invoices": {"id", "purchase_order", "number", "invoice_date", "amount", "currency"},
    "alerts": {"id", "cap", "threshold", "basis", "utilisation_pct", "created_at", "sent_at"},
    "alert-recipients": {"id", "threshold", "email"},
    "financial-years": {
        "id", "year_end", "currency", "revenue", "total_assets", "profit_before_tax", "market_cap",
    },
}  # fmt: skip
MONEY = re.compile(r"^-?\d+\.\d{2}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture
def busy_ledger(ledger, compliance_user):
    """Every resource has at least one row."""
    from compliance.models import AlertRecipient
    from tests.factories import RateFactory

    RateFactory()
    order = ledger.approved("1700000.00", approver=compliance_user, order_date=D("2026-03-02"))
    InvoiceFactory(purchase_order=order, amount=Decimal("12.34"), invoice_date=D("2026-03-31"))
    AlertRecipient.objects.create(threshold=Decimal("80.00"), email="cfo@example.com")
    alerts_record(cap_ids=[cap.pk for cap in ledger.caps])
    FinancialYearFactory(profit_before_tax=Decimal("-5.00"))
    return ledger


@pytest.mark.parametrize("resource", sorted(CONTRACT_FIELDS))
def test_every_resource_lists_the_contracts_fields_in_a_paginated_envelope(busy_ledger, compliance_api, resource):
    body = compliance_api.get(f"/api/{resource}/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] >= 1
    assert CONTRACT_FIELDS[resource] <= set(body["results"][0])


def test_caps_show_money_and_percentages_as_two_place_strings(busy_ledger, compliance_api):
    caps = {c["period_start"]: c for c in compliance_api.get("/api/caps/").json()["results"]}
    cap = caps["2026-01-01"]

    assert cap == {
        **cap,
        "amount": "2000000.00",
        "committed": "1700000.00",
        "actual": "12.34",
        "committed_pct": "85.00",
        "actual_pct": "0.00",
        "remaining": "300000.00",
        "period_end": "2026-12-31",
    }
    for name in ("amount", "committed", "actual", "committed_pct", "actual_pct", "remaining"):
        assert isinstance(cap[name], str) and MONEY.match(cap[name])


def test_an_alert_reports_its_threshold_and_basis_as_the_contract_spells_them(busy_ledger, compliance_api):
    alert = compliance_api.get("/api/alerts/").json()["results"][0]

    assert (alert["threshold"], alert["basis"], alert["utilisation_pct"], alert["sent_at"]) == (
        "80.00", "committed", "85.00", None,
    )  # fmt: skip


def test_recipients_are_configured_per_threshold(busy_ledger, compliance_api):
    created = compliance_api.post(
        "/api/alert-recipients/", {"threshold": "100.00", "email": "company.secretary@example.com"}, format="json"
    )

    assert created.status_code == 201
    assert created.json()["threshold"] == "100.00"
    listed = compliance_api.get("/api/alert-recipients/", {"threshold": "100.00"}).json()
    assert [r["email"] for r in listed["results"]] == ["company.secretary@example.com"]


def test_an_order_goes_from_draft_to_approved_through_the_api(ledger, finance_api, compliance_api):
    created = finance_api.post(
        "/api/purchase-orders/",
        {"number": "PO-API-1", "category": ledger.category.pk, "counterparty": ledger.connected.pk,
         "order_date": "2026-03-02", "amount": "1000.00", "currency": "CNY", "recognition": "on_order_date"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["status"], order["approved_by"], order["amount"]) == ("draft", None, "1000.00")
    for supplier, amount in ((ledger.independents[0], "1100.00"), (ledger.independents[1], "1200.00")):
        quote = finance_api.post(
            "/api/quotes/",
            {"purchase_order": order["id"], "supplier": supplier.pk, "quoted_on": "2026-02-27", "amount": amount,
             "currency": "CNY", "document": SimpleUploadedFile("quote.pdf", simple_pdf("Quotation"))},
            format="multipart",
        )  # fmt: skip
        assert quote.status_code == 201, quote.content

    approved = compliance_api.post(f"/api/purchase-orders/{order['id']}/approve/")

    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] is not None
    caps = {c["period_start"]: c for c in compliance_api.get("/api/caps/").json()["results"]}
    assert caps["2026-01-01"]["committed"] == "1000.00"


def test_a_refused_approval_is_409_with_a_code_and_a_sentence(ledger, compliance_api):
    order = ledger.order("1000.00", quotes=("1100.00",))

    response = compliance_api.post(f"/api/purchase-orders/{order.pk}/approve/")

    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"code", "detail"}
    assert body["code"] == "quote_rule"
    assert body["detail"].endswith(".")


def test_cancelling_through_the_api_returns_the_cancelled_order(ledger, compliance_api):
    order = ledger.approved("1000.00", approver=UserFactory(username="approver"))

    response = compliance_api.post(f"/api/purchase-orders/{order.pk}/cancel/", {"reason": "Duplicate"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellation_reason"] == "Duplicate"
    again = compliance_api.post(f"/api/purchase-orders/{order.pk}/cancel/")
    assert again.status_code == 409


def test_dates_are_iso_days_and_money_never_a_float(busy_ledger, compliance_api):
    order = compliance_api.get("/api/purchase-orders/").json()["results"][0]

    assert DAY.match(order["order_date"])
    assert isinstance(order["amount"], str) and MONEY.match(order["amount"])


def test_the_schema_describes_the_approve_action_and_its_refusal(db, client, auditor_user):
    client.force_login(auditor_user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    approve = schema["paths"]["/api/purchase-orders/{id}/approve/"]["post"]
    assert {"200", "409"} <= set(approve["responses"])
    assert schema["openapi"].startswith("3.")


def test_caps_filter_to_those_live_on_a_day(busy_ledger, compliance_api):
    body = compliance_api.get("/api/caps/", {"on": "2025-12-31"}).json()

    assert [c["period_start"] for c in body["results"]] == ["2025-07-29"]


def test_a_financial_year_reads_as_the_contract_spells_it(busy_ledger, compliance_api):
    year = compliance_api.get("/api/financial-years/").json()["results"][0]

    assert {k: year[k] for k in CONTRACT_FIELDS["financial-years"] - {"id"}} == {
        "year_end": "2025-12-31", "currency": "CNY", "revenue": "1000000000.00", "total_assets": "2000000000.00",
        "profit_before_tax": "-5.00", "market_cap": None,
    }  # fmt: skip


def test_a_financial_year_may_be_entered_with_its_market_capitalisation(db, compliance_api):
    response = compliance_api.post(
        "/api/financial-years/",
        {"year_end": "2024-12-31", "currency": "CNY", "revenue": "7785180000.00", "total_assets": "17592654000.00",
         "profit_before_tax": "-1980566000.00", "market_cap": "15000000000.00"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.content
    assert (response.json()["market_cap"], response.json()["market_cap_currency"]) == ("15000000000.00", "CNY")


@pytest.mark.parametrize("path", ["categories", "connected-persons"])
def test_a_classification_has_the_contracts_fields_and_formats(busy_ledger, compliance_api, path):
    target = busy_ledger.category if path == "categories" else busy_ledger.person

    body = compliance_api.get(f"/api/{path}/{target.pk}/classification/").json()

    assert {"ratios", "highest_ratio", "tier", "provisional", "missing", "obligations"} <= set(body)
    assert body["ratios"]["profits"] is None  # a loss
    assert re.match(r"^\d+\.\d{4}$", body["ratios"]["revenue"])
    assert body["tier"] in {"fully_exempt", "announcement_and_annual_review", "shareholders_approval"}
    assert isinstance(body["provisional"], bool) and isinstance(body["missing"], list)
    assert body["obligations"] and all(isinstance(s, str) for s in body["obligations"])


def test_the_schema_describes_the_classifications(db, client, auditor_user):
    client.force_login(auditor_user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert "/api/categories/{id}/classification/" in schema["paths"]
    assert "/api/connected-persons/{id}/classification/" in schema["paths"]
    assert "/api/financial-years/" in schema["paths"]
