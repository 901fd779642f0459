"""The auditors' evidence binder of a financial year (contract v2): a .zip holding

- `index.xlsx`: one row per order of the year and each of its documents (quotes, quote-rule exception
  evidence, invoices), with the supplier's independence basis, the governing agreement's board approval,
  the document's place in the archive and its SHA-256; an order without a document still has its row;
  the reports issued for the year; the agreements with their board approval and access undertakings;
- `quotes/<order>/…` and `exceptions/<order>/…`: every quote document and every quote-rule exception's
  evidence of the year's orders, as stored;
- `issued/<kind>/…`: the reports issued for the year as they were sent or downloaded (IssuedReport);
- `undertakings/…`: the counterparties' access undertakings (Rule 14A.58) of the orders' agreements;
- `MANIFEST.txt`: `<sha256>  <path>` for every other file of the archive.

The year's orders are those dated in it and those counted in a cap period overlapping it. Documents are
read from storage one at a time, so memory does not grow with the year. Small years are built in the
request; large ones by the worker (compliance.tasks.build_evidence_binder), reporting progress."""

import datetime
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.db.models import Prefetch, Q

from compliance.models import AccessUndertaking, AnnualCap, IssuedReport, QuoteRuleException
from compliance.reports.annual_review import year_bounds
from compliance.reports.workbook import Column, Kind, ReportWorkbook
from transactions.models import Counterparty, FrameworkAgreement, Invoice, PurchaseOrder, Quote

T, M, DAY = Kind.TEXT, Kind.MONEY, Kind.DATE
INDEX_COLUMNS = [
    Column("Order", "訂單", T, 18),
    Column("Order date", "訂單日期", DAY, 12),
    Column("Category", "交易類別", T, 26),
    Column("Counterparty", "交易對手", T, 28),
    Column("Currency", "貨幣", T, 9),
    Column("Amount", "金額", M, 16),
    Column("Status", "狀態", T, 11),
    Column("Document", "文件", T, 22),
    Column("Supplier or detail", "供應商或詳情", T, 28),
    Column("Reference", "參考編號", T, 18),
    Column("Independence of the supplier", "供應商獨立性依據", T, 34),
    Column("Agreement and board approval", "框架協議及董事會批准", T, 40),
    Column("File in the binder", "檔案位置", T, 48),
    Column("SHA-256", "SHA-256", T, 66),
]
FILE, SHA = 12, 13  # the columns of the file and its hash, counted from 0
CHUNK = 1 << 20
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Entry:
    """A stored file and where it goes in the archive."""

    path: str
    field: object  # a FieldFile


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "file"


def _year_order_ids(year: int):
    start, end = year_bounds(year)
    caps = AnnualCap.objects.filter(period_start__lte=end, period_end__gte=start)
    counted = Q(order_date__range=(start, end)) | Q(ledger_entries__cap__in=caps)
    return PurchaseOrder.objects.filter(counted).values("pk").distinct()


def binder_orders(year: int) -> list[PurchaseOrder]:
    """The year's orders with their quotes and quote-rule exceptions (three queries)."""
    return list(
        PurchaseOrder.objects.filter(pk__in=_year_order_ids(year))
        .select_related("category__agreement", "counterparty")
        .prefetch_related(
            Prefetch("quotes", queryset=Quote.objects.select_related("supplier").order_by("quoted_on", "pk")),
            Prefetch("invoices", queryset=Invoice.objects.order_by("invoice_date", "pk")),
            Prefetch("quote_rule_exceptions", queryset=QuoteRuleException.objects.order_by("requested_at", "pk")),
        )
        .order_by("order_date", "number")
    )


def binder_issued_reports(year: int) -> list[IssuedReport]:
    return list(IssuedReport.objects.filter(year=year).order_by("kind", "period", "issued_at", "pk"))


def binder_size(year: int) -> int:
    """How many files the binder would hold (its quotes, evidence and issued reports): three queries."""
    orders = PurchaseOrder.objects.filter(
        Q(order_date__year=year)
        | Q(ledger_entries__cap__period_start__year__lte=year, ledger_entries__cap__period_end__year__gte=year)
    ).values("pk")
    quotes = Quote.objects.filter(purchase_order__in=orders).exclude(document="").count()
    exceptions = QuoteRuleException.objects.filter(purchase_order__in=orders).count()
    return quotes + exceptions + IssuedReport.objects.filter(year=year).count()


def _copy(archive: zipfile.ZipFile, entry: Entry) -> str:
    """Copy a stored file into the archive, hashing it on the way."""
    digest = hashlib.sha256()
    with entry.field.open("rb") as source, archive.open(entry.path, "w", force_zip64=True) as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
    return digest.hexdigest()


def _write_bytes(archive: zipfile.ZipFile, path: str, data: bytes) -> str:
    archive.writestr(path, data)
    return hashlib.sha256(data).hexdigest()


def write_evidence_binder(year: int, output: BinaryIO, progress: Progress | None = None) -> None:
    """Write the binder of `year` to `output` (seekable), calling `progress(percent)` as files are added."""
    orders = binder_orders(year)
    issued = binder_issued_reports(year)
    total = sum(
        sum(1 for q in o.quotes.all() if q.document) + len(o.quote_rule_exceptions.all()) for o in orders
    ) + len(issued)
    advance = _advancer(total, progress)
    manifest: list[tuple[str, str]] = []
    index_rows: list[list] = []
    agreements: dict[int, FrameworkAgreement] = {}
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for order in orders:
            agreements.setdefault(order.category.agreement_id, order.category.agreement)
            index_rows += _add_order_documents(archive, manifest, order, advance)
        agreement_rows = _add_agreement_documents(archive, manifest, agreements)
        issued_rows = _add_issued_reports(archive, manifest, issued, advance)
        index = io.BytesIO()
        _index_workbook(year, index_rows, issued_rows, agreement_rows).save(index)
        manifest.append((_write_bytes(archive, "index.xlsx", index.getvalue()), "index.xlsx"))
        lines = [f"{sha}  {path}" for sha, path in sorted(manifest, key=lambda item: item[1])]
        archive.writestr("MANIFEST.txt", "\n".join(lines) + "\n")
    if progress:
        progress(100)


def _advancer(total: int, progress: Progress | None) -> Callable[[], None]:
    """A callback counting the files added and reporting the percentage done (at most 99 until the end)."""
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if progress and total:
            progress(min(99, done * 100 // total))

    return advance


def _add_order_documents(
    archive: zipfile.ZipFile, manifest: list[tuple[str, str]], order: PurchaseOrder, advance: Callable[[], None]
) -> list[list]:
    """Copy an order's quote documents and quote-rule exception evidence; its index rows, invoices included
    (no file kept), or one row saying it has no document."""
    base = [order.number, order.order_date, str(order.category), str(order.counterparty), order.currency,
            order.amount, order.status]  # fmt: skip
    approval = _board_approval(order.category.agreement)
    folder = _safe(order.number)
    index_rows: list[list] = []
    for quote in order.quotes.all():
        if not quote.document:
            index_rows.append([*base, "Quote · 報價 (no document · 沒有文件)", str(quote.supplier),
                               quote.reference or None, _independence(quote.supplier), approval,
                               None, None])  # fmt: skip
            continue
        name = _safe(quote.document_name or quote.document.name.rsplit("/", 1)[-1])
        path = f"quotes/{folder}/{quote.pk}-{name}"
        sha = _copy(archive, Entry(path, quote.document))
        manifest.append((sha, path))
        index_rows.append([*base, "Quote · 報價", str(quote.supplier), quote.reference or None,
                           _independence(quote.supplier), approval, path, sha])  # fmt: skip
        advance()
    for exception in order.quote_rule_exceptions.all():
        name = _safe(exception.evidence_name or exception.evidence.name.rsplit("/", 1)[-1])
        path = f"exceptions/{folder}/{exception.pk}-{name}"
        sha = _copy(archive, Entry(path, exception.evidence))
        manifest.append((sha, path))
        detail = f"{exception.get_status_display()}: {exception.reason}"[:300]
        index_rows.append([*base, "Quote-rule exception evidence · 報價規則例外證據", detail, None, None,
                           approval, path, sha])  # fmt: skip
        advance()
    for invoice in order.invoices.all():
        index_rows.append([*base, "Invoice · 發票 (no file kept · 系統不存檔)",
                           f"{invoice.invoice_date:%Y-%m-%d}: {invoice.currency} {invoice.amount:,.2f}",
                           invoice.number, None, approval, None, None])  # fmt: skip
    if not index_rows:
        index_rows.append([*base, "No document · 沒有文件", None, None, None, approval, None, None])
    return index_rows


def _add_agreement_documents(
    archive: zipfile.ZipFile, manifest: list[tuple[str, str]], agreements: dict[int, FrameworkAgreement]
) -> list[list]:
    """Copy the agreements' access undertakings; their rows, then each agreement's board approval."""
    agreement_rows: list[list] = []
    undertakings = list(
        AccessUndertaking.objects.filter(agreement_id__in=agreements).order_by("agreement_id", "given_on", "pk")
    )
    for undertaking in undertakings:
        path, sha = None, None
        if undertaking.document:
            name = _safe(undertaking.document.name.rsplit("/", 1)[-1])
            path = f"undertakings/{undertaking.agreement_id}-{undertaking.pk}-{name}"
            sha = _copy(archive, Entry(path, undertaking.document))
            manifest.append((sha, path))
        agreement_rows.append([str(agreements[undertaking.agreement_id]),
                               "Access undertaking (Rule 14A.58) · 查閱承諾",
                               f"{undertaking.given_on:%Y-%m-%d}", undertaking.reference, path, sha])  # fmt: skip
    for agreement in agreements.values():
        agreement_rows.append([str(agreement), "Board approval · 董事會批准", _board_approval(agreement),
                               agreement.abstaining_directors or None, None, None])  # fmt: skip
    return agreement_rows


def _add_issued_reports(
    archive: zipfile.ZipFile,
    manifest: list[tuple[str, str]],
    issued: list[IssuedReport],
    advance: Callable[[], None],
) -> list[list]:
    """Copy the reports issued for the year, each with how, when and to whom it was issued."""
    issued_rows: list[list] = []
    for report in issued:
        stamp = f"{report.issued_at:%Y%m%dT%H%M%S}"
        path = f"issued/{report.kind}/{report.period}/{stamp}-{report.pk}-{_safe(report.filename)}"
        sha = _copy(archive, Entry(path, report.file))
        manifest.append((sha, path))
        issued_rows.append([report.get_kind_display(), report.period, report.get_how_display(),
                            report.issued_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                            report.issued_to or None, report.sha256, path, sha])  # fmt: skip
        advance()
    return issued_rows


ISSUED_COLUMNS = [
    Column("Report", "報告", T, 24),
    Column("Period", "期間", T, 10),
    Column("How", "方式", T, 12),
    Column("Issued at", "發出時間", T, 20),
    Column("Issued to", "發送對象", T, 30),
    Column("SHA-256 when issued", "發出時的SHA-256", T, 66),
    Column("File in the binder", "檔案位置", T, 48),
    Column("SHA-256 in the binder", "檔案SHA-256", T, 66),
]


AGREEMENT_COLUMNS = [
    Column("Agreement", "框架協議", T, 40),
    Column("Record", "記錄", T, 34),
    Column("Date and reference", "日期及參考", T, 50),
    Column("Detail", "詳情", T, 34),
    Column("File in the binder", "檔案位置", T, 48),
    Column("SHA-256", "SHA-256", T, 66),
]


def _board_approval(agreement: FrameworkAgreement) -> str:
    minutes = f", minutes {agreement.board_minutes_ref}" if agreement.board_minutes_ref else ""
    return f"{agreement.title}: board approved {agreement.board_approved_on:%Y-%m-%d}{minutes}"


def _independence(supplier: Counterparty) -> str:
    if supplier.connected_person_id:
        return "Connected: not independent · 關連人士"
    if not supplier.independence_basis:
        return "Not recorded · 未有記錄"
    checked = f" on {supplier.independence_checked_on:%Y-%m-%d}" if supplier.independence_checked_on else ""
    reference = f" ({supplier.independence_reference})" if supplier.independence_reference else ""
    return f"{supplier.get_independence_basis_display()}{checked}{reference}"


def _index_workbook(year: int, rows: list[list], issued: list[list], agreements: list[list]) -> ReportWorkbook:
    report = ReportWorkbook()
    sheet = report.table(
        "Index",
        INDEX_COLUMNS,
        heading=f"Evidence binder · 審計證據冊 — financial year {year} · {year}財政年度",
        note="One row per order of the year and per document; each file's SHA-256 is also in MANIFEST.txt",
    )
    sheet.extend(rows)
    sheet.finish()
    issued_sheet = report.table(
        "Issued reports",
        ISSUED_COLUMNS,
        heading=f"Reports issued for the year · 本年度已發出的報告 — {year}",
        note="Each copy as it was downloaded or e-mailed; its SHA-256 then and in this binder agree",
    )
    issued_sheet.extend(issued)
    issued_sheet.finish()
    agreement_sheet = report.table(
        "Agreements",
        AGREEMENT_COLUMNS,
        heading=f"The governing agreements · 規管協議 — {year}",
        note="The board's approval of each agreement of the year's orders and the counterparty's undertaking to give "
        "the auditors access to its records (Rule 14A.58)",
    )
    agreement_sheet.extend(agreements)
    agreement_sheet.finish()
    return report
