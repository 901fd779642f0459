"""Reading report workbooks back with openpyxl, as a finance user's spreadsheet would see them."""

import datetime
import zipfile
from decimal import Decimal
from io import BytesIO

import openpyxl
from django.utils import timezone

from compliance.reports.annual_review import write_annual_review
from compliance.reports.directors import write_directors_report
from compliance.reports.monthly import write_monthly_report
from tests.factories import OrderFactory, QuoteFactory
from transactions.models import PurchaseOrder

HEADER_ROW = 3
CENT = Decimal("0.01")


def monthly(month) -> bytes:
    output = BytesIO()
    write_monthly_report(month, output)
    return output.getvalue()


def directors(half) -> bytes:
    output = BytesIO()
    write_directors_report(half, output)
    return output.getvalue()


def annual(year: int) -> bytes:
    output = BytesIO()
    write_annual_review(year, output)
    return output.getvalue()


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(BytesIO(data))


def headers(ws) -> list[str]:
    """The English half of each header of a table sheet."""
    return [str(cell.value).split("\n")[0] for cell in ws[HEADER_ROW] if cell.value is not None]


def rows(ws) -> list[dict]:
    """The data rows of a table sheet, each {English header: cell}."""
    names = headers(ws)
    return [
        dict(zip(names, row, strict=False))
        for row in ws.iter_rows(min_row=HEADER_ROW + 1, max_col=len(names))
        if any(cell.value is not None for cell in row)
    ]


def money(cell) -> Decimal:
    """A money cell's value as the exact two-place amount it was written from."""
    assert cell.data_type == "n", f"{cell.coordinate} holds {cell.value!r} as {cell.data_type}, not a number"
    return Decimal(repr(cell.value)).quantize(CENT)


def percent(cell) -> Decimal:
    """A percent cell (a fraction) as the two-place percentage of the API ("80.00")."""
    assert cell.data_type == "n"
    return (Decimal(repr(cell.value)) * 100).quantize(CENT)


def sheet_xml(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml")}


def approved_order(ledger, amount, **fields) -> PurchaseOrder:
    """An approved order written directly: the gates are tested elsewhere, reports read what is stored."""
    fields.setdefault("category", ledger.category)
    fields.setdefault("counterparty", ledger.connected)
    fields.setdefault("approved_by", ledger.clerk)
    if fields.get("service_start"):
        fields["recognition"] = PurchaseOrder.Recognition.OVER_SERVICE_PERIOD
    # Approved on its order date, as the policy asks (the annual pack lists later approvals as exceptions).
    day = fields.get("order_date", OrderFactory.order_date)
    fields.setdefault("approved_at", timezone.make_aware(datetime.datetime.combine(day, datetime.time(18))))
    return OrderFactory(amount=Decimal(amount), status=PurchaseOrder.Status.APPROVED, **fields)


def quoted(ledger, order: PurchaseOrder, *, amount_above: str = "1.00") -> PurchaseOrder:
    """Two independent quotes dated ten days before the order, each `amount_above` its price."""
    for supplier in ledger.independents[:2]:
        QuoteFactory(
            purchase_order=order, supplier=supplier, quoted_on=order.order_date - datetime.timedelta(days=10),
            amount=order.amount + Decimal(amount_above), currency=order.currency,
        )  # fmt: skip
    return order
