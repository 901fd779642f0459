"""Imports of sales (sales orders, price references, sales invoices): the API's columns, the same services as
the sales API (drafts for approval, the pricing rule at approval, the sales caps' ledger and alerts), the
directions kept apart, and the completeness check over receivables."""

import datetime
from decimal import Decimal

import pytest

from compliance.caps.approval import purchase_order_approve
from compliance.models import Alert, CapTotals, Import
from tests.compliance.test_imports import csv_file, run, xlsx_file
from transactions.errors import Refusal
from transactions.models import PriceReference, PurchaseOrder, SalesInvoice, SalesOrder

pytestmark = pytest.mark.django_db

ORDER_HEADER = "number,category,counterparty,order_date,amount,currency"
REFERENCE_HEADER = "sales_order,customer,dated,amount,currency,reference"
SALES_INVOICE_HEADER = "sales_order,number,invoice_date,amount,currency"


@pytest.fixture(autouse=True, params=["set-based", "row by row"])
def path(request, settings):
    """Sales invoices on PostgreSQL take the set-based path of invoices; row by row must answer the same."""
    settings.CCT_IMPORTS_BULK = request.param == "set-based"
    return request.param


@pytest.fixture
def sales(ledger):
    """The sales category "Cloud services" (caps 800,000.00 for 2026), its references not needing documents,
    and customers with ERP codes."""
    category = ledger.sales_category()
    category.quote_documents_required = False
    category.save()
    ledger.connected.erp_code = "C-1001"
    ledger.connected.save()
    ledger.independents[1].erp_code = "C-2002"
    ledger.independents[1].save()
    return category


@pytest.fixture
def sale(ledger, sales):
    return ledger.sale("100000.00", number="SO-2026-001")


def csv_of(header: str, *rows: str):
    return csv_file("\n".join([header, *rows]) + "\n")


def day(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


# --- Each kind, from CSV and from .xlsx --------------------------------------------------------------


def test_sales_orders_from_csv_and_from_xlsx_give_the_same_orders_as_drafts(ledger, sales, finance_user):
    rows = [
        ["SO-1", str(sales.pk), "C-1001", "2026-03-02", "100000.00", "CNY"],
        ["SO-2", str(sales.pk), "Xiaomi Subsidiary", "2026-03-05", "2,500.50", "CNY"],
    ]
    typed = [
        ["SO-1", sales.pk, "C-1001", day("2026-03-02"), 100000, "CNY"],
        ["SO-2", sales.pk, "Xiaomi Subsidiary", day("2026-03-05"), 2500.5, "CNY"],
    ]

    from_csv = run(finance_user, "sales_orders", csv_of(ORDER_HEADER, *(",".join(f'"{c}"' for c in r) for r in rows)))
    from_xlsx = run(finance_user, "sales_orders", xlsx_file([ORDER_HEADER.split(","), *typed]))

    assert (from_csv.status, from_csv.created, from_csv.unchanged) == ("done", 2, 0), from_csv.errors
    assert (from_xlsx.status, from_xlsx.created, from_xlsx.unchanged) == ("done", 0, 2), from_xlsx.errors
    stored = SalesOrder.objects.order_by("number")
    assert [(o.number, o.counterparty.name, o.amount, o.status) for o in stored] == [
        ("SO-1", "Xiaomi Corporation", Decimal("100000.00"), "draft"),
        ("SO-2", "Xiaomi Subsidiary", Decimal("2500.50"), "draft"),
    ]
    assert {o.created_by_id for o in stored} == {finance_user.pk}


def test_price_references_from_csv_and_from_xlsx_name_the_order_and_the_customer_each_way(ledger, sales, finance_user):
    order = ledger.sale("100000.00", references=(), number="SO-2026-001")
    a, b, c = ledger.independents
    rows = [
        ["SO-2026-001", "Independent A Ltd.", "2026-02-20", "95000.00", "CNY", "OFFER-A"],  # by name
        [str(order.pk), "C-2002", "2026-02-21", "98000.00", "CNY", "OFFER-B"],  # the order by id, the code
        ["SO-2026-001", str(c.pk), "2026-02-22", "99000.00", "CNY", "OFFER-C"],  # the customer by id
    ]
    typed = [[r[0], r[1], day(r[2]), float(r[3]), r[4], r[5]] for r in rows]
    typed[1][0], typed[2][1] = order.pk, c.pk

    from_csv = run(finance_user, "price_references", csv_of(REFERENCE_HEADER, *(",".join(r) for r in rows)))
    from_xlsx = run(finance_user, "price_references", xlsx_file([REFERENCE_HEADER.split(","), *typed]))

    assert (from_csv.status, from_csv.created, from_csv.unchanged) == ("done", 3, 0), from_csv.errors
    assert (from_xlsx.status, from_xlsx.created, from_xlsx.unchanged) == ("done", 0, 3), from_xlsx.errors
    stored = PriceReference.objects.filter(purchase_order=order).order_by("quoted_on")
    assert [(r.supplier_id, str(r.quoted_on), r.amount, r.reference) for r in stored] == [
        (a.pk, "2026-02-20", Decimal("95000.00"), "OFFER-A"),
        (b.pk, "2026-02-21", Decimal("98000.00"), "OFFER-B"),
        (c.pk, "2026-02-22", Decimal("99000.00"), "OFFER-C"),
    ]


def test_sales_invoices_from_csv_and_from_xlsx_give_the_same_result_and_errors(ledger, sale, finance_user):
    rows = [
        ["SO-2026-001", "SI-1", "2026-03-10", "1000.00", "CNY"],
        ["SO-2026-001", "SI-2", "2026-02-30", "5.00", "CNY"],
        ["SO-404", "SI-3", "2026-03-12", "5.001", "CNY"],
    ]
    typed = [["SO-2026-001", "SI-1", day("2026-03-10"), 1000.0, "CNY"], rows[1], rows[2]]

    from_csv = run(finance_user, "sales_invoices", csv_of(SALES_INVOICE_HEADER, *(",".join(r) for r in rows)))
    from_xlsx = run(finance_user, "sales_invoices", xlsx_file([SALES_INVOICE_HEADER.split(","), *typed]))

    assert from_csv.errors == from_xlsx.errors
    assert from_csv.errors == [
        {"row": 3, "column": "invoice_date", "message": "“2026-02-30” is not a date: write YYYY-MM-DD."},
        {"row": 4, "column": "sales_order", "message": "No sales order has the number or id “SO-404”."},
        {"row": 4, "column": "amount", "message": from_csv.errors[2]["message"]},
    ]
    assert "two decimals" in from_csv.errors[2]["message"]
    assert not SalesInvoice.objects.exists()

    good = run(finance_user, "sales_invoices", csv_of(SALES_INVOICE_HEADER, ",".join(rows[0])))
    again = run(finance_user, "sales_invoices", xlsx_file([SALES_INVOICE_HEADER.split(","), typed[0]]))
    assert (good.created, again.created, again.unchanged) == (1, 0, 1)
    # The sales cap of 2026 counts it; the purchase cap does not.
    assert CapTotals.objects.get(cap=ledger.sales_caps[1]).actual == Decimal("1000.00")
    assert not CapTotals.objects.filter(cap__category=ledger.category, actual__gt=0).exists()


# --- The rules of sales ------------------------------------------------------------------------------


def test_a_sale_below_an_independent_reference_arrives_as_a_draft_and_approval_applies_the_pricing_rule(
    ledger, sales, finance_user, compliance_user
):
    orders = run(finance_user, "sales_orders", csv_of(ORDER_HEADER, f"SO-9,{sales.pk},C-1001,2026-03-02,100000.00,CNY"))
    references = run(finance_user, "price_references", csv_of(
        REFERENCE_HEADER,
        "SO-9,Independent A Ltd.,2026-02-20,90000.00,CNY,OFFER-A",
        "SO-9,C-2002,2026-02-20,120000.00,CNY,OFFER-B",
    ))  # fmt: skip

    assert (orders.status, references.status) == ("done", "done"), (orders.errors, references.errors)
    order = SalesOrder.objects.get(number="SO-9")
    assert order.status == PurchaseOrder.Status.DRAFT

    with pytest.raises(Refusal) as refused:
        purchase_order_approve(order_id=order.pk, user=compliance_user)

    # 120,000.00 - 100,000.00 = 20,000.00 below Independent B's reference.
    assert refused.value.code == "pricing_rule"
    assert "charges the connected person CNY 100,000.00, CNY 20,000.00 less than Independent B Ltd." in (
        refused.value.detail
    )
    order.refresh_from_db()
    assert order.status == PurchaseOrder.Status.DRAFT


@pytest.mark.parametrize(
    ("kind", "header", "row", "column", "message"),
    [
        ("purchase_orders", ORDER_HEADER, "PO-9,{sales},C-1001,2026-03-02,1.00,CNY", "category",
         "“Cloud services” is a category of sales to the connected person; enter its orders under sales orders."),
        ("quotes", "purchase_order,supplier,quoted_on,amount,currency", "SO-2026-001,C-2002,2026-02-20,1.00,CNY",
         "purchase_order",
         "“Cloud services” is a category of sales to the connected person; enter its orders under sales orders."),
        ("invoices", "purchase_order,number,invoice_date,amount,currency", "SO-2026-001,INV-1,2026-03-10,1.00,CNY",
         "purchase_order",
         "“Cloud services” is a category of sales to the connected person; enter its orders under sales orders."),
        ("sales_orders", ORDER_HEADER, "SO-9,{purchases},C-1001,2026-03-02,1.00,CNY", "category",
         "“IDC services” is a category of purchases from the connected person; enter its orders under purchase "
         "orders."),
        ("price_references", REFERENCE_HEADER, "PO-2026-001,C-2002,2026-02-20,1.00,CNY,R", "sales_order",
         "“IDC services” is a category of purchases from the connected person; enter its orders under purchase "
         "orders."),
        ("sales_invoices", SALES_INVOICE_HEADER, "PO-2026-001,SI-1,2026-03-10,1.00,CNY", "sales_order",
         "“IDC services” is a category of purchases from the connected person; enter its orders under purchase "
         "orders."),
    ],
    ids=["purchase-order", "quote", "invoice", "sales-order", "price-reference", "sales-invoice"],
)  # fmt: skip
def test_a_kind_naming_a_category_or_order_of_the_other_direction_is_a_row_error(
    ledger, sale, finance_user, kind, header, row, column, message
):
    ledger.order("1000.00", number="PO-2026-001")
    upload = csv_of(header, row.format(sales=ledger.sales.pk, purchases=ledger.category.pk))
    before = (PurchaseOrder.objects.count(), SalesInvoice.objects.count())

    imp = run(finance_user, kind, upload)

    assert imp.status == Import.Status.FAILED
    assert imp.errors == [{"row": 2, "column": column, "message": message}]
    assert (PurchaseOrder.objects.count(), SalesInvoice.objects.count()) == before


def test_a_sales_invoice_import_crossing_80_percent_of_a_sales_cap_records_the_alert(ledger, sale, finance_user):
    # The 2026 sales cap is 800,000.00: 500,000.00 + 200,000.00 = 700,000.00 is 87.5% of it, reached on 1 April.
    imp = run(finance_user, "sales_invoices", csv_of(
        SALES_INVOICE_HEADER,
        "SO-2026-001,SI-1,2026-03-10,500000.00,CNY",
        "SO-2026-001,SI-2,2026-04-01,200000.00,CNY",
    ))  # fmt: skip

    assert imp.status == "done", imp.errors
    alert = Alert.objects.get()
    assert (alert.cap_id, alert.threshold, alert.basis) == (ledger.sales_caps[1].pk, Decimal("80.00"), "actual")
    assert str(alert.reached_on) == "2026-04-01"
    assert alert.utilisation_pct == Decimal("87.50")
    sale.refresh_from_db()
    assert sale.invoiced_before_approval


def test_the_same_sales_file_twice_creates_once(ledger, sale, finance_user):
    rows = ("SO-2026-001,SI-1,2026-03-10,1000.00,CNY", "SO-2026-001,SI-2,2026-03-11,250.50,CNY")

    first = run(finance_user, "sales_invoices", csv_of(SALES_INVOICE_HEADER, *rows))
    second = run(finance_user, "sales_invoices", csv_of(SALES_INVOICE_HEADER, *rows))
    order_row = f"SO-7,{ledger.sales.pk},C-1001,2026-03-02,9.00,CNY"
    orders = [run(finance_user, "sales_orders", csv_of(ORDER_HEADER, order_row)) for _ in range(2)]

    assert (first.status, first.created, first.unchanged) == ("done", 2, 0)
    assert (second.status, second.created, second.unchanged) == ("done", 0, 2)
    assert [(o.created, o.unchanged) for o in orders] == [(1, 0), (0, 1)]
    assert SalesInvoice.objects.count() == 2
    assert SalesOrder.objects.filter(number="SO-7").count() == 1
    # 1,000.00 + 250.50, once.
    assert CapTotals.objects.get(cap=ledger.sales_caps[1]).actual == Decimal("1250.50")


# --- The completeness check ------------------------------------------------------------------------------


def test_the_completeness_check_lists_a_sales_invoice_the_product_lacks_and_one_the_erp_lacks(
    ledger, sale, finance_user, compliance_user
):
    from compliance.imports.completeness import completeness_check_record

    run(finance_user, "sales_invoices", csv_of(
        SALES_INVOICE_HEADER, "SO-2026-001,SI-1,2026-03-10,1000.00,CNY", "SO-2026-001,SI-2,2026-03-11,500.00,CNY",
    ))  # fmt: skip
    erp = csv_file(
        "counterparty,number,date,amount,currency\n"
        "C-1001,SI-1,2026-03-10,1000.00,CNY\n"
        "C-1001,SI-9,2026-03-15,70.00,CNY\n"
    )

    check = completeness_check_record(
        user=compliance_user, connected_person=ledger.person, period_start=datetime.date(2026, 3, 1),
        period_end=datetime.date(2026, 3, 31), file=erp,
    )  # fmt: skip

    assert (check.erp_rows, check.matched, check.complete) == (2, 1, False)
    assert [(d["number"], d["amount"]) for d in check.missing_in_product] == [("SI-9", "70.00")]
    assert [(d["number"], d["amount"], d["counterparty"]) for d in check.missing_in_erp] == [
        ("SI-2", "500.00", "C-1001")
    ]


# --- Through the API -----------------------------------------------------------------------------------


def test_the_api_imports_sales_invoices_and_refuses_a_role_that_may_not_record_them(
    ledger, sale, finance_user, management_user
):
    from compliance.imports.engine import import_run
    from tests.conftest import client_for

    upload = csv_of(SALES_INVOICE_HEADER, "SO-2026-001,SI-1,2026-03-10,1.00,CNY")
    response = client_for(finance_user).post(
        "/api/imports/", {"kind": "sales_invoices", "file": upload}, format="multipart"
    )
    refused = client_for(management_user).post(
        "/api/imports/", {"kind": "sales_orders", "file": csv_of(ORDER_HEADER)}, format="multipart"
    )

    assert response.status_code == 202, response.content
    imported = import_run(response.json()["id"])
    assert (imported.status, imported.created) == ("done", 1)
    assert SalesInvoice.objects.get().number == "SI-1"
    assert refused.status_code == 403
