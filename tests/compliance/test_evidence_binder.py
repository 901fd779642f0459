"""The auditors' evidence binder: every quote document of the year in the archive, each file's SHA-256 in
MANIFEST.txt, the reports as issued; a large year built by the worker with its progress."""

import hashlib
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.base import ContentFile

from compliance.evidence.binders import evidence_binder_build
from compliance.models import EvidenceBinder, IssuedReport, QuoteRuleException
from compliance.reports.evidence import FILE, SHA, write_evidence_binder
from tests.compliance.workbooks import approved_order, quoted
from tests.factories import PDF, D, UserFactory
from transactions.models import PurchaseOrder, Quote


@pytest.fixture
def year_of_orders(ledger):
    first = quoted(ledger, approved_order(ledger, "300000.00", number="PO-1", order_date=D("2026-02-02")))
    quoted(ledger, approved_order(ledger, "500000.00", number="PO-2/B", order_date=D("2026-08-03")))
    approved_order(ledger, "100.00", number="PO-NO-DOCS", order_date=D("2026-09-01"))
    # Another year's order: not in the 2026 binder.
    quoted(ledger, approved_order(ledger, "200.00", number="PO-2025", order_date=D("2025-09-01")))
    exception = QuoteRuleException(
        purchase_order=first, reason="Sole supplier", order_amount=first.amount, order_currency=first.currency,
        order_counterparty=first.counterparty, requested_by=UserFactory(username="requester"),
    )  # fmt: skip
    exception.evidence.save("sole.pdf", ContentFile(PDF), save=False)
    exception.save()
    return ledger


def binder(year: int) -> zipfile.ZipFile:
    output = io.BytesIO()
    write_evidence_binder(year, output)
    return zipfile.ZipFile(io.BytesIO(output.getvalue()))


def manifest(archive: zipfile.ZipFile) -> dict[str, str]:
    lines = archive.read("MANIFEST.txt").decode().splitlines()
    return {path: sha for sha, path in (line.split("  ", 1) for line in lines)}


def test_every_file_of_the_binder_is_in_the_manifest_and_its_hash_verifies(year_of_orders):
    archive = binder(2026)
    listed = manifest(archive)

    assert set(listed) == set(archive.namelist()) - {"MANIFEST.txt"}
    for path, sha in listed.items():
        assert hashlib.sha256(archive.read(path)).hexdigest() == sha, path


def test_every_quote_document_of_the_year_is_in_the_binder_and_no_other_years(year_of_orders):
    archive = binder(2026)
    stored = {
        hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist() if name.startswith("quotes/")
    }

    year_quotes = Quote.objects.filter(purchase_order__order_date__year=2026)
    assert year_quotes.count() == 4
    for quote in year_quotes:
        with quote.document.open("rb") as document:
            assert hashlib.sha256(document.read()).hexdigest() in stored
    assert len([name for name in archive.namelist() if name.startswith("quotes/")]) == 4
    assert not any("PO-2025" in name for name in archive.namelist())
    assert any(name.startswith("exceptions/PO-1/") for name in archive.namelist())


def test_the_index_has_a_row_per_order_and_document_with_its_hash(year_of_orders):
    archive = binder(2026)
    index = openpyxl.load_workbook(io.BytesIO(archive.read("index.xlsx")))["Index"]
    rows = [[cell.value for cell in row] for row in index.iter_rows(min_row=4)]
    listed = manifest(archive)

    # PO-1: two quotes and the exception's evidence; PO-2/B: two quotes; PO-NO-DOCS: its own row.
    assert sorted(row[0] for row in rows) == ["PO-1", "PO-1", "PO-1", "PO-2/B", "PO-2/B", "PO-NO-DOCS"]
    for row in rows:
        if row[FILE]:
            assert listed[row[FILE]] == row[SHA]
    assert [row[7] for row in rows if row[0] == "PO-NO-DOCS"] == ["No document · 沒有文件"]
    # Each row names the governing agreement's board approval.
    assert all("board approved 2025-07-29" in row[11] for row in rows)


def test_the_reports_issued_for_the_year_are_in_the_binder_as_they_were_sent(year_of_orders, finance_api):
    sent = b"".join(finance_api.get("/api/reports/monthly/?month=2026-03").streaming_content)

    archive = binder(2026)
    issued = [name for name in archive.namelist() if name.startswith("issued/monthly/2026-03/")]
    assert len(issued) == 1
    assert archive.read(issued[0]) == sent
    assert IssuedReport.objects.get().sha256 == hashlib.sha256(sent).hexdigest()


def test_a_small_year_is_answered_at_once(year_of_orders, finance_api):
    response = finance_api.get("/api/reports/evidence/?year=2026")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "MANIFEST.txt" in zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()


def test_a_large_year_is_built_in_the_background_with_progress(
    year_of_orders, finance_api, settings, django_capture_on_commit_callbacks
):
    settings.CCT_EVIDENCE_INLINE_MAX_FILES = 2
    with django_capture_on_commit_callbacks(execute=False):
        response = finance_api.get("/api/reports/evidence/?year=2026")

    assert response.status_code == 202
    binder = EvidenceBinder.objects.get()
    assert response["Location"] == f"/api/evidence-binders/{binder.pk}/"
    assert (response.data["status"], response.data["progress"]) == ("queued", 0)
    assert finance_api.get(f"/api/evidence-binders/{binder.pk}/download/").status_code == 409

    assert evidence_binder_build(binder_id=binder.pk) == "done"
    assert evidence_binder_build(binder_id=binder.pk) == "skipped"  # a duplicate delivery builds nothing

    state = finance_api.get(response["Location"]).data
    assert (state["status"], state["progress"]) == ("done", 100)
    body = b"".join(finance_api.get(state["download"]).streaming_content)
    assert hashlib.sha256(body).hexdigest() == state["sha256"]
    assert len(manifest(zipfile.ZipFile(io.BytesIO(body)))) == 4 + 1 + 1  # quotes, evidence, index


def test_the_binder_lists_a_quote_without_its_document(year_of_orders):
    order = approved_order(year_of_orders, "50.00", number="PO-PAPER", order_date=D("2026-10-01"))
    Quote.objects.create(purchase_order=order, supplier=year_of_orders.independents[0], quoted_on=D("2026-09-20"),
                         amount=Decimal("60.00"), currency="CNY")  # fmt: skip
    index = openpyxl.load_workbook(io.BytesIO(binder(2026).read("index.xlsx")))["Index"]

    rows = [[cell.value for cell in row] for row in index.iter_rows(min_row=4) if row[0].value == "PO-PAPER"]
    assert [(row[7], row[FILE]) for row in rows] == [("Quote · 報價 (no document · 沒有文件)", None)]


def test_the_binder_holds_invoices_the_suppliers_independence_and_the_access_undertaking(year_of_orders):
    from compliance.models import AccessUndertaking
    from tests.factories import InvoiceFactory

    supplier = year_of_orders.independents[0]
    supplier.independence_basis, supplier.independence_reference = "declaration", "Declaration of 2026-01-05"
    supplier.save()
    order = PurchaseOrder.objects.get(number="PO-2/B")
    InvoiceFactory(purchase_order=order, number="INV-77", invoice_date=D("2026-09-30"), amount=Decimal("1234.50"))
    undertaking = AccessUndertaking(agreement=year_of_orders.agreement, given_on=D("2026-01-10"), reference="cl. 9")
    undertaking.document.save("access.pdf", ContentFile(PDF), save=False)
    undertaking.save()

    archive = binder(2026)
    book = openpyxl.load_workbook(io.BytesIO(archive.read("index.xlsx")))
    rows = [[cell.value for cell in row] for row in book["Index"].iter_rows(min_row=4)]
    assert [row[8] for row in rows if row[9] == "INV-77"] == ["2026-09-30: CNY 1,234.50"]
    assert "The supplier's written declaration (Declaration of 2026-01-05)" in [row[10] for row in rows]
    agreements = [[cell.value for cell in row] for row in book["Agreements"].iter_rows(min_row=4)]
    undertaking_row = next(row for row in agreements if row[3] == "cl. 9")
    assert manifest(archive)[undertaking_row[4]] == undertaking_row[5]


def test_the_binder_and_the_disclosure_read_a_constant_number_of_queries_whatever_the_orders(year_of_orders):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from compliance.reports.disclosure import write_disclosure

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as binder_queries:
            write_evidence_binder(2026, io.BytesIO())
        with CaptureQueriesContext(connection) as disclosure_queries:
            write_disclosure(2026, io.BytesIO())
        return len(binder_queries), len(disclosure_queries)

    before = counts()
    for number in range(5):
        quoted(year_of_orders, approved_order(year_of_orders, "10.00", number=f"PO-MORE-{number}",
                                              order_date=D("2026-05-05")))  # fmt: skip
    assert counts() == before
