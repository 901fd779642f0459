"""Sales to the connected person: the pricing rule reversed (not lower than independent customers), and the
caps of a sales category counted through its orders, invoices and cancellations by the same ledger."""

from decimal import Decimal

import pytest

from compliance.caps.approval import purchase_order_approve, purchase_order_cancel
from compliance.caps.documents import invoice_record
from compliance.models import Alert, AnnualCap
from compliance.rules.selectors import caps_with_utilisation
from tests.factories import D, QuoteFactory, RateFactory
from transactions.errors import Refusal
from transactions.models import PurchaseOrder


@pytest.fixture
def approve(compliance_user):
    return lambda order: purchase_order_approve(order_id=order.pk, user=compliance_user)


def refusal_of(approve, order) -> Refusal:
    with pytest.raises(Refusal) as caught:
        approve(order)
    order.refresh_from_db()
    assert order.status == PurchaseOrder.Status.DRAFT, "a refused approval changes nothing"
    return caught.value


def figures(cap: AnnualCap, as_of=None) -> tuple[Decimal, Decimal]:
    cap = caps_with_utilisation(AnnualCap.objects.filter(pk=cap.pk), as_of=as_of).get()
    return cap.committed, cap.actual


# --- pricing_rule ----------------------------------------------------------------------------------


def test_a_sale_priced_below_an_independent_customers_reference_is_refused_saying_by_how_much(ledger, approve):
    order = ledger.sale("99999.99", references=("90000.00", "100000.00"))
    higher = order.quotes.get(amount=Decimal("100000.00"))

    refusal = refusal_of(approve, order)

    assert refusal.code == "pricing_rule"
    assert refusal.detail == (
        f"Sales order {order.number} charges the connected person CNY 99,999.99, CNY 0.01 less than Independent B "
        f"Ltd., an independent customer, was charged (CNY 100,000.00, {higher.reference}, 20 Feb 2026). A sale to a "
        "connected person must not be priced lower than to independent customers."
    )


def test_a_sale_priced_equal_to_the_highest_reference_is_approved(ledger, approve):
    order = approve(ledger.sale("100000.00", references=("90000.00", "100000.00")))

    assert order.status == PurchaseOrder.Status.APPROVED


def test_a_sale_priced_above_every_reference_is_approved_where_a_purchase_would_be_refused(ledger, approve):
    """The rule is reversed: a purchase dearer than its quotes fails the quote rule, a sale passes."""
    sale = approve(ledger.sale("120000.00", references=("90000.00", "100000.00")))
    purchase = ledger.order("120000.00", quotes=("90000.00", "100000.00"))

    assert sale.status == PurchaseOrder.Status.APPROVED
    assert refusal_of(approve, purchase).code == "quote_rule"


def test_a_reference_in_another_currency_is_compared_at_the_order_dates_rate(ledger, approve):
    """USD 100,000.00 dated 20 Feb 2026; the order of 2 Mar 2026 in CNY. At 2 Mar's 7.1 the reference is
    CNY 710,000.00; at 20 Feb's 7.0 it would be 700,000.00, which a price of 703,000.00 would beat."""
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"), rate=Decimal("7.0"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.1"))
    low = ledger.sale("703000.00", references=("600000.00",))
    QuoteFactory(purchase_order=low, supplier=ledger.independents[1], quoted_on=D("2026-02-20"),
                 amount=Decimal("100000.00"), currency="USD", reference="USD-1")  # fmt: skip

    refusal = refusal_of(approve, low)

    # 703,000.00 x 100,000.00 / 710,000.00 = 99,014.0845... -> USD 99,014.08; short by USD 985.92.
    assert refusal.code == "pricing_rule"
    assert "charges the connected person USD 99,014.08, USD 985.92 less than Independent B Ltd." in refusal.detail

    equal = ledger.sale("710000.00", references=("600000.00",), number="SO-EQUAL")
    QuoteFactory(purchase_order=equal, supplier=ledger.independents[1], quoted_on=D("2026-02-20"),
                 amount=Decimal("100000.00"), currency="USD", reference="USD-2")  # fmt: skip
    assert approve(equal).status == PurchaseOrder.Status.APPROVED


def test_a_reference_in_another_currency_without_the_order_dates_rate_is_refused_no_exchange_rate(ledger, approve):
    order = ledger.sale("710000.00", references=("600000.00",))
    QuoteFactory(purchase_order=order, supplier=ledger.independents[1], quoted_on=D("2026-02-20"),
                 amount=Decimal("100000.00"), currency="USD")  # fmt: skip

    assert refusal_of(approve, order).code == "no_exchange_rate"


def test_references_from_connected_or_the_order_s_own_customer_or_without_documents_do_not_count(ledger, approve):
    order = ledger.sale("100000.00", references=("90000.00",))
    QuoteFactory(purchase_order=order, supplier=ledger.connected_other, quoted_on=D("2026-02-20"),
                 amount=Decimal("90000.00"))  # fmt: skip
    QuoteFactory(purchase_order=order, supplier=ledger.independents[2], quoted_on=D("2026-02-20"),
                 amount=Decimal("90000.00"), document=None, document_name="")  # fmt: skip

    refusal = refusal_of(approve, order)

    assert refusal.code == "pricing_rule"
    assert refusal.detail.startswith(
        f"Sales order {order.number} needs price references from at least 2 independent customers, dated within 90 "
        "days before the order; it has 1. Not counted: the reference of Xiaomi Subsidiary (Xiaomi Subsidiary was "
        "connected"
    )
    assert "the reference of Independent C Ltd. (no quote document)" in refusal.detail


def test_a_reference_older_than_the_validity_window_does_not_count(ledger, approve):
    order = ledger.sale("100000.00", references=("90000.00", "90000.00"), dated=D("2025-12-01"))  # 91 days before

    assert refusal_of(approve, order).code == "pricing_rule"


def test_the_other_gates_apply_to_sales_as_to_purchases(ledger, approve, compliance_user):
    own = ledger.sale(created_by=compliance_user)
    assert refusal_of(approve, own).code == "self_approval"
    assert refusal_of(approve, ledger.sale(order_date=D("2027-01-04"))).code == "outside_term"
    too_big = ledger.sale("800000.01", references=("1000.00", "1000.00"))
    assert refusal_of(approve, too_big).code == "cap_exceeded"
    usd = ledger.sale("1000.00", references=(), currency="USD")
    QuoteFactory(purchase_order=usd, supplier=ledger.independents[0], amount=Decimal("900.00"), currency="USD")
    QuoteFactory(purchase_order=usd, supplier=ledger.independents[1], amount=Decimal("900.00"), currency="USD")
    assert refusal_of(approve, usd).code == "no_exchange_rate"


# --- the sales caps through orders, invoices and cancellations ----------------------------------------


def test_a_sales_caps_figures_and_alerts_follow_its_orders_invoices_and_cancellations(
    ledger, approve, finance_user, compliance_user
):
    ledger.sales_category()
    cap = ledger.sales_caps[1]  # CNY 800,000.00 for 2026
    purchases_cap = ledger.caps[1]

    order = approve(ledger.sale("640000.00", references=("600000.00", "640000.00")))  # 640,000 / 800,000 = 80%
    assert figures(cap) == (Decimal("640000.00"), Decimal("0.00"))
    assert [(a.cap_id, a.threshold, a.basis) for a in Alert.objects.all()] == [(cap.pk, Decimal("80.00"), "committed")]

    invoice_record(
        user=finance_user,
        purchase_order=order,
        number="SI-1",
        invoice_date=D("2026-04-30"),
        amount=Decimal("700000.00"),
        currency="CNY",
    )  # fmt: skip  700,000 / 800,000 = 87.5%
    assert figures(cap) == (Decimal("640000.00"), Decimal("700000.00"))
    assert sorted((a.basis, a.utilisation_pct) for a in Alert.objects.filter(cap=cap)) == [
        ("actual", Decimal("87.50")), ("committed", Decimal("80.00")),
    ]  # fmt: skip

    purchase_order_cancel(order_id=order.pk, user=compliance_user, reason="re-entered", effective_on=D("2026-05-01"))
    # The commitment goes from 1 May; the invoice stays (only a credit note reduces actual).
    assert figures(cap) == (Decimal("0.00"), Decimal("700000.00"))
    assert figures(cap, as_of=D("2026-04-30")) == (Decimal("640000.00"), Decimal("700000.00"))
    # The purchases' cap of the same agreement and period is untouched by the sale.
    assert figures(purchases_cap) == (Decimal("0.00"), Decimal("0.00"))
    assert not Alert.objects.filter(cap=purchases_cap).exists()


def test_a_sales_cap_takes_only_sales_and_a_purchase_cap_only_purchases(ledger, approve):
    ledger.sales_category()
    approve(ledger.sale("300000.00", references=("1000.00", "1000.00")))
    approve(ledger.order("200000.00", quotes=("300000.00", "300000.00")))

    assert figures(ledger.sales_caps[1]) == (Decimal("300000.00"), Decimal("0.00"))
    assert figures(ledger.caps[1]) == (Decimal("200000.00"), Decimal("0.00"))


# --- the API keeps the two directions apart ---------------------------------------------------------


def test_the_api_takes_sales_at_sales_resources_and_refuses_them_at_purchase_ones(ledger, finance_api, compliance_api):
    sales = ledger.sales_category()
    body = {"number": "SO-API-1", "category": sales.pk, "counterparty": ledger.connected.pk, "order_date": "2026-03-02",
            "amount": "100000.00", "currency": "CNY", "recognition": "on_order_date"}  # fmt: skip

    refused = finance_api.post("/api/purchase-orders/", body, format="json")
    assert refused.status_code == 400
    assert "is a category of sales" in refused.json()["category"][0]
    as_sale_of_purchases = finance_api.post(
        "/api/sales-orders/", {**body, "category": ledger.category.pk}, format="json"
    )
    assert as_sale_of_purchases.status_code == 400
    assert "is a category of purchases" in as_sale_of_purchases.json()["category"][0]

    created = finance_api.post("/api/sales-orders/", body, format="json")
    assert created.status_code == 201, created.content
    sale_id = created.json()["id"]
    for customer in ledger.independents[:2]:
        reference = finance_api.post(
            "/api/price-references/",
            {"sales_order": sale_id, "customer": customer.pk, "dated": "2026-02-20", "amount": "100000.01",
             "currency": "CNY", "reference": f"R-{customer.pk}"},
            format="json",
        )  # fmt: skip
        assert reference.status_code == 201, reference.content
    assert finance_api.post(
        "/api/quotes/",
        {"purchase_order": sale_id, "supplier": ledger.independents[2].pk, "quoted_on": "2026-02-20",
         "amount": "1.00", "currency": "CNY"},
        format="json",
    ).status_code == 400  # fmt: skip

    # Price references need their documents (the category requires them): refused pricing_rule, 409.
    approval = compliance_api.post(f"/api/sales-orders/{sale_id}/approve/")
    assert (approval.status_code, approval.json()["code"]) == (409, "pricing_rule")

    purchase = ledger.order("100.00")
    assert [o["id"] for o in compliance_api.get("/api/purchase-orders/").json()["results"]] == [purchase.pk]
    assert [o["id"] for o in compliance_api.get("/api/sales-orders/").json()["results"]] == [sale_id]
    assert compliance_api.get(f"/api/purchase-orders/{sale_id}/").status_code == 404
    assert compliance_api.get("/api/quotes/").json()["count"] == 2  # the purchase's two quotes
    assert compliance_api.get("/api/price-references/").json()["count"] == 2


def test_sales_invoices_go_to_sales_orders_only(ledger, finance_api, compliance_user):
    sale = purchase_order_approve(order_id=ledger.sale("100000.00").pk, user=compliance_user)
    purchase = ledger.order("100.00")
    body = {"number": "SI-9", "invoice_date": "2026-03-31", "amount": "100000.00", "currency": "CNY"}

    assert finance_api.post("/api/invoices/", {**body, "purchase_order": sale.pk}, format="json").status_code == 400
    assert (
        finance_api.post("/api/sales-invoices/", {**body, "sales_order": purchase.pk}, format="json").status_code == 400
    )
    created = finance_api.post("/api/sales-invoices/", {**body, "sales_order": sale.pk}, format="json")
    assert created.status_code == 201, created.content
    assert figures(ledger.sales_caps[1]) == (Decimal("100000.00"), Decimal("100000.00"))
    assert finance_api.get("/api/invoices/").json()["count"] == 0
    assert finance_api.get("/api/sales-invoices/").json()["count"] == 1


def test_a_categorys_direction_cannot_change_once_it_has_orders(ledger, compliance_api):
    sales = ledger.sales_category()
    empty = compliance_api.patch(f"/api/categories/{sales.pk}/", {"direction": "purchase"}, format="json")
    assert (empty.status_code, empty.json()["direction"]) == (200, "purchase")
    compliance_api.patch(f"/api/categories/{sales.pk}/", {"direction": "sale"}, format="json")
    ledger.sale()

    refused = compliance_api.patch(f"/api/categories/{sales.pk}/", {"direction": "purchase"}, format="json")

    assert refused.status_code == 400
    assert "cannot change" in refused.json()["direction"][0]
    sales.refresh_from_db()
    assert sales.direction == "sale"


# --- the admin -----------------------------------------------------------------------------------


def sales_order_form(ledger, **overrides) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from transactions.documents import simple_pdf

    data = {
        "number": "SO-ADMIN-1", "category": ledger.sales_category().pk, "counterparty": ledger.connected.pk,
        "description": "Cloud hosting", "order_date": "2026-03-02", "amount": "100000.00",
        "currency": "CNY", "recognition": "on_order_date", "service_start": "", "service_end": "",
        "quotes-TOTAL_FORMS": "2", "quotes-INITIAL_FORMS": "0", "quotes-MIN_NUM_FORMS": "0",
        "quotes-MAX_NUM_FORMS": "1000",
        "quotes-0-supplier": ledger.independents[0].pk, "quotes-0-quoted_on": "2026-02-20",
        "quotes-0-amount": "95000.00", "quotes-0-currency": "CNY", "quotes-0-reference": "C-17",
        "quotes-1-supplier": ledger.independents[1].pk, "quotes-1-quoted_on": "2026-02-25",
        "quotes-1-amount": "100000.00", "quotes-1-currency": "CNY", "quotes-1-reference": "C-18",
        "invoices-TOTAL_FORMS": "0", "invoices-INITIAL_FORMS": "0", "invoices-MIN_NUM_FORMS": "0",
        "invoices-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for number in (0, 1):
        data[f"quotes-{number}-document"] = SimpleUploadedFile(f"ref {number}.pdf", simple_pdf("Contract"))
    data.update(overrides)
    return data


def test_finance_enters_a_sale_with_its_references_and_compliance_approves_it_in_the_admin(
    client, ledger, finance_user, compliance_user
):
    client.force_login(finance_user)
    refused = client.post("/admin/transactions/salesorder/add/", sales_order_form(ledger, category=ledger.category.pk))
    assert refused.status_code == 200  # a purchase category is not offered for a sale
    assert not PurchaseOrder.objects.exists()

    response = client.post("/admin/transactions/salesorder/add/", sales_order_form(ledger))
    assert response.status_code == 302, response.context and response.context["errors"]
    order = PurchaseOrder.objects.get(number="SO-ADMIN-1")
    page = client.get(f"/admin/transactions/salesorder/{order.pk}/change/").content.decode()
    assert "The sale passes" in page
    assert "priced CNY 0.00 at or above the highest counted reference" in page
    assert "Pricing rule" in page
    assert "approve-order" not in page
    assert client.get(f"/admin/transactions/purchaseorder/{order.pk}/change/").status_code == 302  # not a purchase
    assert "SO-ADMIN-1" not in client.get("/admin/transactions/purchaseorder/").content.decode()

    client.force_login(compliance_user)
    assert "approve-order" in client.get(f"/admin/transactions/salesorder/{order.pk}/change/").content.decode()
    client.post(f"/admin/transactions/salesorder/{order.pk}/approve/")
    order.refresh_from_db()
    assert order.status == "approved"


def test_the_history_of_a_sale_its_references_and_its_invoices_reads_in_the_admin(
    client, ledger, approve, finance_user, compliance_user
):
    sale = approve(ledger.sale("300000.00", references=("1000.00", "1000.00")))
    invoice = invoice_record(user=finance_user, purchase_order=sale, number="SI-H1", invoice_date=sale.order_date,
                             amount=Decimal("1000.00"), currency="CNY")  # fmt: skip
    reference = sale.quotes.first()
    client.force_login(compliance_user)

    order_page = client.get(f"/admin/transactions/salesorder/{sale.pk}/history/")
    reference_page = client.get(f"/admin/transactions/pricereference/{reference.pk}/history/")
    invoice_page = client.get(f"/admin/transactions/salesinvoice/{invoice.pk}/history/")

    assert [order_page.status_code, reference_page.status_code, invoice_page.status_code] == [200, 200, 200]
    assert "approved" in order_page.content.decode()
    assert "SI-H1" in invoice_page.content.decode()


# --- reports, dashboard and classification keep the two directions apart ----------------------------


@pytest.fixture
def both_directions(ledger, approve, finance_user):
    """March 2026: a purchase of CNY 200,000.00 invoiced 150,000.00, and a sale of CNY 300,000.00 invoiced
    120,000.00, both to Xiaomi Group under the same agreement."""
    ledger.sales_category()
    purchase = approve(ledger.order("200000.00", quotes=("300000.00", "300000.00")))
    sale = approve(ledger.sale("300000.00", references=("1000.00", "1000.00")))
    invoice_record(user=finance_user, purchase_order=purchase, number="PI-1", invoice_date=D("2026-03-20"),
                   amount=Decimal("150000.00"), currency="CNY")  # fmt: skip
    invoice_record(user=finance_user, purchase_order=sale, number="SI-1", invoice_date=D("2026-03-20"),
                   amount=Decimal("120000.00"), currency="CNY")  # fmt: skip
    return ledger


def test_the_monthly_report_lists_purchase_caps_then_sales_caps_each_with_its_own_figures(both_directions):
    from tests.compliance.workbooks import load, money, monthly, rows

    summary = rows(load(monthly(D("2026-03-01")))["Summary"])

    assert [(r["Direction"].value, r["Category"].value) for r in summary] == [
        ("Purchases · 採購", "IDC services"), ("Sales · 銷售", "Cloud services"),
    ]  # fmt: skip
    purchases, sales = summary
    assert (money(purchases["Annual cap"]), money(purchases["Committed"]), money(purchases["Actual"])) == (
        Decimal("2000000.00"), Decimal("200000.00"), Decimal("150000.00"),
    )  # fmt: skip
    assert (money(sales["Annual cap"]), money(sales["Committed"]), money(sales["Actual"])) == (
        Decimal("800000.00"), Decimal("300000.00"), Decimal("120000.00"),
    )  # fmt: skip


def test_the_directors_report_never_adds_a_purchase_cap_to_a_sales_cap(both_directions):
    from tests.compliance.workbooks import directors, load, money, rows

    people = rows(load(directors(D("2026-01-01")))["Connected persons"])

    # The caps of the half year: purchases 2,000,000.00, sales 800,000.00; never 2,800,000.00 together.
    assert [(r["Direction"].value, r["Connected person"].value, money(r["Annual caps"]), money(r["Committed"]),
             money(r["Actual"])) for r in people] == [
        ("Purchases · 採購", "Xiaomi Group", Decimal("2000000.00"), Decimal("200000.00"), Decimal("150000.00")),
        ("Sales · 銷售", "Xiaomi Group", Decimal("800000.00"), Decimal("300000.00"), Decimal("120000.00")),
    ]  # fmt: skip


def test_the_annual_pack_lists_the_two_directions_apart(both_directions):
    from tests.compliance.workbooks import annual, load, rows

    summary = rows(load(annual(2026))["Summary"])

    assert [(r["Direction"].value, r["Category"].value) for r in summary] == [
        ("Purchases · 採購", "IDC services"), ("Sales · 銷售", "Cloud services"),
    ]  # fmt: skip


def test_the_dashboard_shows_purchase_and_sales_caps_in_their_own_sections(client, both_directions, management_user):
    import datetime
    import zoneinfo

    import time_machine

    with time_machine.travel(datetime.datetime(2026, 3, 25, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Hong_Kong"))):
        client.force_login(management_user)
        html = client.get("/admin/dashboard/").content.decode()

    purchases = html[html.index('id="live-caps-purchase"') : html.index('id="live-caps-sale"')]
    sales = html[html.index('id="live-caps-sale"') :]
    assert f'data-cap="{both_directions.caps[1].pk}"' in purchases
    assert f'data-cap="{both_directions.sales_caps[1].pk}"' not in purchases
    assert f'data-cap="{both_directions.sales_caps[1].pk}"' in sales
    assert "Sales to connected persons" in html


def test_a_connected_person_is_classified_on_purchases_and_on_sales_each_aggregated_apart(ledger):
    """Revenue CNY 1,000,000,000. Caps starting in 2026: purchases 2,000,000.00 (0.2%), sales 800,000.00 (0.08%);
    added together they would be 2,800,000.00 (0.28%), which the product never computes."""
    from compliance.rules.classification import connected_person_classification
    from tests.factories import FinancialYearFactory

    FinancialYearFactory(year_end=D("2025-12-31"))
    ledger.sales_category()

    person = connected_person_classification(ledger.person, on=D("2026-06-30"))
    sales = connected_person_classification(ledger.person, on=D("2026-06-30"), direction="sale")

    assert person.numerator == Decimal("2000000.00")
    assert sales.numerator == Decimal("800000.00")
    assert "sales caps" in sales.basis


def test_the_directors_report_lists_a_draft_sale_the_pricing_rule_would_refuse_and_says_why(ledger):
    from tests.compliance.workbooks import directors, load, rows

    order = ledger.sale("99999.99", references=("90000.00", "100000.00"))

    exceptions = rows(load(directors(D("2026-01-01")))["Exceptions"])

    [row] = [r for r in exceptions if r["Order"].value == order.number]
    assert (
        row["Detail"].value == "Priced CNY 0.01 below the price charged to Independent B Ltd., an independent customer."
    )


def test_the_quotes_sheet_shows_a_sale_dearer_than_its_references_as_more_favourable(ledger, approve):
    # Sold for 100,000.00 against references of 90,000.00 and 95,000.00: 10,000.00 (11.11% of 90,000.00) and
    # 5,000.00 (5.26% of 95,000.00) more favourable to the group; a purchase's sign would be the reverse.
    from tests.compliance.workbooks import load, money, monthly, rows

    sale = approve(ledger.sale("100000.00", references=("90000.00", "95000.00"), order_date=D("2026-03-02")))
    quotes = [row for row in rows(load(monthly(D("2026-03-01")))["Quotes"]) if row["Order"].value == sale.number]

    favourable = sorted((money(row["More favourable by"]), round(row["More favourable by %"].value, 4),
                         row["Lowest counted quote (sale: highest)"].value) for row in quotes)  # fmt: skip
    assert favourable == [
        (Decimal("5000.00"), 0.0526, "Yes · 是"),  # the highest reference is the one the sale is held against
        (Decimal("10000.00"), 0.1111, None),
    ]
