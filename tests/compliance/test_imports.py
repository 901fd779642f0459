"""Imports from the ERP (compliance.imports): all or nothing, idempotent, the same from CSV and .xlsx,
through the same rules as the admin, and hostile files refused with a sentence."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from compliance.imports.engine import import_run
from compliance.imports.services import import_create
from compliance.models import Alert, CapTotals, Import, LedgerEntry
from tests.conftest import client_for
from transactions.models import Invoice, PurchaseOrder

pytestmark = pytest.mark.django_db

INVOICE_HEADER = "purchase_order,number,invoice_date,amount,currency"


def csv_file(text: str, name: str = "rows.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_file(rows: list[list], name: str = "rows.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def run(user, kind: str, upload, *, dry_run: bool = False) -> Import:
    imp = import_create(user=user, kind=kind, file=upload, dry_run=dry_run)
    return import_run(imp.pk)


@pytest.fixture(autouse=True, params=["set-based", "row by row"])
def path(request, settings):
    """Invoices on PostgreSQL take the set-based path; the path of every other kind (and of SQLite) must
    give the same answers."""
    settings.CCT_IMPORTS_BULK = request.param == "set-based"
    return request.param


@pytest.fixture
def order(ledger):
    return ledger.order("1800000.00", quotes=("1900000.00", "1950000.00"), number="PO-2026-001")


def invoices_csv(*rows: str) -> SimpleUploadedFile:
    return csv_file("\n".join([INVOICE_HEADER, *rows]) + "\n")


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row_and_the_column(ledger, order, finance_user):
    upload = invoices_csv(
        "PO-2026-001,INV-1,2026-03-10,1000.00,CNY",
        "PO-2026-001,INV-2,2026-02-30,1000.00,CNY",
        "PO-2026-001,INV-3,2026-03-12,1000.00,CNY",
    )

    imp = run(finance_user, "invoices", upload)

    assert imp.status == Import.Status.FAILED
    assert imp.errors == [
        {"row": 3, "column": "invoice_date", "message": "“2026-02-30” is not a date: write YYYY-MM-DD."}
    ]
    assert not Invoice.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.INVOICE).exists()


def test_the_same_file_twice_creates_once_and_says_the_second_changed_nothing(ledger, order, finance_user):
    rows = ("PO-2026-001,INV-1,2026-03-10,1000.00,CNY", "PO-2026-001,INV-2,2026-03-11,250.50,CNY")

    first = run(finance_user, "invoices", invoices_csv(*rows))
    second = run(finance_user, "invoices", invoices_csv(*rows))

    assert (first.status, first.created, first.unchanged) == ("done", 2, 0)
    assert (second.status, second.created, second.unchanged) == ("done", 0, 2)
    assert Invoice.objects.count() == 2
    assert CapTotals.objects.get(cap=ledger.caps[1]).actual == Decimal("1250.50")


def test_the_same_number_with_other_values_is_an_error(ledger, order, finance_user):
    run(finance_user, "invoices", invoices_csv("PO-2026-001,INV-1,2026-03-10,1000.00,CNY"))

    imp = run(finance_user, "invoices", invoices_csv("PO-2026-001,INV-1,2026-03-10,1001.00,CNY"))

    assert imp.status == "failed"
    assert imp.errors == [
        {"row": 2, "column": "number", "message": "INV-1 is already recorded with other values (amount)."}
    ]
    assert Invoice.objects.get().amount == Decimal("1000.00")


def test_the_same_number_twice_in_a_file_names_the_row_that_gave_it_first(ledger, order, finance_user):
    imp = run(finance_user, "invoices", invoices_csv(
        "PO-2026-001,INV-1,2026-03-10,1000.00,CNY", "PO-2026-001,INV-2,2026-03-10,5.00,CNY",
        "PO-2026-001,INV-1,2026-03-10,1000.00,CNY",
    ))  # fmt: skip

    assert imp.errors == [{"row": 4, "column": "number", "message": "The same document is on row 2."}]
    assert not Invoice.objects.exists()


def test_an_xlsx_and_a_csv_of_the_same_rows_give_the_same_result(ledger, order, finance_user):
    rows = [
        ["PO-2026-001", "INV-1", "2026-03-10", "1000.00", "CNY"],
        ["PO-2026-001", "INV-2", "2026-13-01", "5.00", "CNY"],
        ["nowhere", "INV-3", "2026-03-12", "5.001", "RMB"],
    ]
    from_csv = run(finance_user, "invoices", invoices_csv(*(",".join(row) for row in rows)))
    import datetime

    typed = [[rows[0][0], rows[0][1], datetime.datetime(2026, 3, 10), 1000.0, "CNY"], rows[1], rows[2]]
    from_xlsx = run(finance_user, "invoices", xlsx_file([INVOICE_HEADER.split(","), *typed]))

    assert from_csv.errors == from_xlsx.errors
    assert [(e["row"], e["column"]) for e in from_csv.errors] == [
        (3, "invoice_date"), (4, "purchase_order"), (4, "amount"), (4, "currency"),
    ]  # fmt: skip
    fixed = [rows[0]]
    assert run(finance_user, "invoices", invoices_csv(",".join(fixed[0]))).created == 1
    assert run(finance_user, "invoices", xlsx_file([INVOICE_HEADER.split(","), typed[0]])).unchanged == 1


def test_an_import_crossing_80_percent_records_the_alert_in_its_transaction(ledger, order, finance_user):
    # The 2026 cap is 2,000,000.00: 1,000,000.00 + 700,000.00 is 85% of it, reached on 2026-04-01.
    imp = run(finance_user, "invoices", invoices_csv(
        "PO-2026-001,INV-1,2026-03-10,1000000.00,CNY",
        "PO-2026-001,INV-2,2026-04-01,700000.00,CNY",
    ))  # fmt: skip

    assert imp.status == "done"
    alert = Alert.objects.get()
    assert (alert.cap_id, alert.threshold, alert.basis) == (ledger.caps[1].pk, Decimal("80.00"), "actual")
    assert str(alert.reached_on) == "2026-04-01"
    assert alert.utilisation_pct == Decimal("85.00")
    order.refresh_from_db()
    assert order.invoiced_before_approval


def test_an_invoice_without_the_days_rate_is_refused_as_the_admin_refuses_it(ledger, order, finance_user):
    imp = run(finance_user, "invoices", invoices_csv("PO-2026-001,INV-1,2026-03-10,100.00,USD"))

    assert imp.errors == [
        {
            "row": 2,
            "column": "currency",
            "message": "There is no USD/CNY exchange rate for 10 Mar 2026, the date of invoice INV-1. "
            "Record that day's rate first.",
        }
    ]


def test_the_missing_rate_sentence_reads_in_the_readers_chinese_on_both_paths(ledger, order, finance_user):
    from django.utils import translation

    with translation.override("zh-hant"):
        imp = run(finance_user, "invoices", invoices_csv("PO-2026-001,INV-1,2026-03-10,100.00,USD"))

    assert [error["message"] for error in imp.errors] == [
        "沒有 2026年3月10日 的 USD/CNY 匯率，該日為發票 INV-1 的日期。請先記錄當日匯率。"
    ]


def test_a_formula_looking_cell_is_stored_as_text(ledger, finance_user):
    ledger.connected.erp_code = "V-1001"
    ledger.connected.save()
    header = ["number", "category", "counterparty", "order_date", "amount", "currency", "description"]
    upload = xlsx_file([
        header,
        ["=1+2", ledger.category.pk, "V-1001", "2026-03-02", "100.00", "CNY", '=HYPERLINK("http://x","y")'],
        ["@SUM(A1)", ledger.category.pk, "Xiaomi Corporation", "2026-03-02", "100.00", "CNY", "-2+3"],
    ])  # fmt: skip

    imp = run(finance_user, "purchase_orders", upload)

    assert imp.status == "done", imp.errors
    stored = dict(PurchaseOrder.objects.values_list("number", "description"))
    assert stored == {"=1+2": '=HYPERLINK("http://x","y")', "@SUM(A1)": "-2+3"}
    assert set(PurchaseOrder.objects.values_list("status", flat=True)) == {"draft"}


def test_an_unknown_counterparty_is_a_row_error_never_a_new_counterparty(ledger, finance_user):
    header = "number,category,counterparty,order_date,amount,currency"
    imp = run(
        finance_user, "purchase_orders", csv_file(f"{header}\nPO-9,{ledger.category.pk},V-404,2026-03-02,1.00,CNY\n")
    )

    assert imp.errors == [
        {"row": 2, "column": "counterparty", "message": "No counterparty has the ERP code, name or id “V-404”."}
    ]
    assert not PurchaseOrder.objects.exists()


def test_the_dry_run_writes_nothing_and_says_what_would_be_created(ledger, order, finance_user):
    imp = run(finance_user, "invoices", invoices_csv("PO-2026-001,INV-1,2026-03-10,1700000.00,CNY"), dry_run=True)
    header = "number,category,counterparty,order_date,amount,currency"
    orders = run(
        finance_user,
        "purchase_orders",
        csv_file(f"{header}\nPO-9,{ledger.category.pk},Xiaomi Corporation,2026-03-02,1.00,CNY\n"),
        dry_run=True,
    )

    assert (imp.status, imp.created, orders.status, orders.created) == ("done", 1, "done", 1)
    assert not Invoice.objects.exists()
    assert not Alert.objects.exists()
    assert not LedgerEntry.objects.filter(kind="invoice").exists()
    assert PurchaseOrder.objects.count() == 1


def test_credit_notes_pass_the_admins_check_of_what_remains_of_the_invoice(ledger, order, finance_user):
    run(finance_user, "invoices", invoices_csv("PO-2026-001,INV-1,2026-03-10,1000.00,CNY"))
    header = "invoice,number,credit_date,amount,currency"

    imp = run(
        finance_user,
        "credit_notes",
        csv_file(f"{header}\nINV-1,CN-1,2026-03-20,600.00,CNY\nINV-1,CN-2,2026-03-21,600.00,CNY\n"),
    )

    assert imp.status == "failed"
    assert imp.errors == [
        {"row": 3, "column": "amount", "message": "Only CNY 400.00 of invoice INV-1 remains to be credited."}
    ]
    assert CapTotals.objects.get(cap=ledger.caps[1]).actual == Decimal("1000.00")


# --- Through the API, and hostile files ----------------------------------------------------------------


def test_the_api_answers_202_with_the_queued_import(ledger, order, finance_user):
    api = client_for(finance_user)

    response = api.post(
        "/api/imports/",
        {"kind": "invoices", "file": invoices_csv("PO-2026-001,INV-1,2026-03-10,1.00,CNY")},
        format="multipart",
    )

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    import_run(response.json()["id"])
    body = api.get(f"/api/imports/{response.json()['id']}/").json()
    assert (body["status"], body["rows"], body["progress"], body["created"], body["errors"]) == ("done", 1, 100, 1, [])


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "The file is not a CSV text file"),
        ("rows.csv", (INVOICE_HEADER + "\nPO-1,INV-\xe9,2026-03-10,1.00,CNY\n").encode("latin-1"), "not UTF-8 text"),
        ("rows.xlsx", None, "zip bomb"),
        ("rows.csv", b"a," * 10_000_000 + b"\n", "longer than 65,536 characters"),
        ("rows.xlsx", b"purchase_order,number\n", "not an Excel workbook"),
        ("rows.pdf", b"%PDF-1.4", "Only CSV (UTF-8) and .xlsx files can be imported."),
        ("rows.csv", b"purchase_order,number,colour\n", "Unknown column colour"),
    ],
    ids=["not-csv", "latin-1", "zip-bomb", "ten-million-columns", "not-xlsx", "pdf", "unknown-column"],
)
def test_hostile_files_are_refused_with_a_clear_message(finance_user, name, content, message):
    content = _zip_bomb() if content is None else content

    response = client_for(finance_user).post(
        "/api/imports/", {"kind": "invoices", "file": SimpleUploadedFile(name, content)}, format="multipart"
    )

    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not Import.objects.exists()


def test_a_role_that_may_not_record_the_documents_may_not_import_them(management_user):
    response = client_for(management_user).post(
        "/api/imports/", {"kind": "invoices", "file": invoices_csv()}, format="multipart"
    )

    assert response.status_code == 403


# --- The admin: dry run, preview, confirm ------------------------------------------------------------


def test_the_admin_previews_a_dry_run_then_imports_the_rows_on_confirmation(client, ledger, order, finance_user):
    client.force_login(finance_user)
    bad = invoices_csv("PO-2026-001,INV-1,2026-03-10,1000.00,CNY", "PO-2026-001,INV-2,2026-03-10,1.5.0,CNY")

    client.post("/admin/compliance/import/add/", {"kind": "invoices", "file": bad, "dry_run": "on"})
    checked = import_run(Import.objects.get().pk)
    page = client.get(f"/admin/compliance/import/{checked.pk}/change/").content.decode()

    assert "<td>3</td><td>amount</td><td>“1.5.0” is not an amount" in page
    assert "Import these rows" not in page

    client.post("/admin/compliance/import/add/", {"kind": "invoices", "file": invoices_csv(
        "PO-2026-001,INV-1,2026-03-10,1000.00,CNY"), "dry_run": "on"})  # fmt: skip
    good = import_run(Import.objects.latest("pk").pk)
    assert "Import these rows" in client.get(f"/admin/compliance/import/{good.pk}/change/").content.decode()
    assert not Invoice.objects.exists()

    response = client.post(f"/admin/compliance/import/{good.pk}/confirm/")
    imported = import_run(Import.objects.latest("pk").pk)

    assert response.status_code == 302
    assert (imported.dry_run, imported.status, imported.created) == (False, "done", 1)
    assert Invoice.objects.get().number == "INV-1"


def test_the_admin_refuses_a_hostile_file_on_the_upload_form(client, finance_user):
    client.force_login(finance_user)

    response = client.post("/admin/compliance/import/add/", {"kind": "invoices", "file": SimpleUploadedFile(
        "rows.csv", b"\x89PNG\r\n\x1a\n\0\0"), "dry_run": "on"})  # fmt: skip

    assert response.status_code == 200
    assert "The file is not a CSV text file" in response.content.decode()
    assert not Import.objects.exists()


# --- The completeness check ------------------------------------------------------------------------------


def test_the_completeness_check_lists_what_each_side_lacks_and_the_annual_pack_keeps_it(
    ledger, order, finance_user, compliance_user
):
    import datetime

    from compliance.imports.completeness import completeness_check_record
    from tests.compliance.workbooks import annual, load, rows

    ledger.connected.erp_code = "V-1001"
    ledger.connected.save()
    run(finance_user, "invoices", invoices_csv(
        "PO-2026-001,INV-1,2026-03-10,1000.00,CNY", "PO-2026-001,INV-2,2026-03-11,500.00,CNY",
    ))  # fmt: skip
    erp = csv_file(
        "counterparty,number,date,amount,currency\n"
        "V-1001,INV-1,2026-03-10,1000.00,CNY\n"
        "V-1001,INV-9,2026-03-15,70.00,CNY\n"
    )

    check = completeness_check_record(
        user=compliance_user, connected_person=ledger.person, period_start=datetime.date(2026, 3, 1),
        period_end=datetime.date(2026, 3, 31), file=erp,
    )  # fmt: skip

    assert (check.erp_rows, check.matched, check.complete) == (2, 1, False)
    assert [(d["number"], d["amount"]) for d in check.missing_in_product] == [("INV-9", "70.00")]
    assert [(d["number"], d["amount"], d["counterparty"]) for d in check.missing_in_erp] == [
        ("INV-2", "500.00", "V-1001")
    ]
    sheet = rows(load(annual(2026))["Completeness"])
    assert [(r["Document"].value, r["Result"].value[:10]) for r in sheet] == [
        ("INV-9", "In the ERP"), ("INV-2", "In the pro"),
    ]  # fmt: skip


def test_the_imports_sweep_runs_an_import_whose_task_was_lost(ledger, order, finance_user):
    import datetime

    from django.utils import timezone

    from compliance.tasks import sweep_imports

    lost = import_create(user=finance_user, kind="invoices", file=invoices_csv("PO-2026-001,INV-1,2026-03-10,1.00,CNY"))
    fresh = import_create(
        user=finance_user, kind="invoices", file=invoices_csv("PO-2026-001,INV-2,2026-03-10,1.00,CNY")
    )
    Import.objects.filter(pk=lost.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=3))

    assert sweep_imports() == 1

    assert Import.objects.get(pk=lost.pk).status == "done"
    assert Import.objects.get(pk=fresh.pk).status == "queued"  # its own task may still be on the way
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-1"]
