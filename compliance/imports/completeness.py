"""The completeness check: the ERP's postings to and from a connected person's companies for a period
(counterparty code, document number, date, amount, currency) compared with the invoices and credit notes the
product holds for them, both ways, and kept as evidence for the annual pack (CompletenessCheck). Payables
(the group's purchases) and receivables (its sales invoices) are both compared: sales invoices are rows of
the invoices table under orders of a sales category, so one query finds both."""

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from transactions.models import ConnectedPerson, CreditNote, Invoice

from ..models import CompletenessCheck
from .kinds import CellError, currency, day, text
from .reading import FileRefused, Rows

if TYPE_CHECKING:
    from transactions.users import User

COLUMNS = ("counterparty", "number", "date", "amount", "currency")


def _signed_amount(value: str) -> Decimal:
    # The ERP lists credit notes as negative postings: the sign is kept, the cents are checked.
    try:
        amount = Decimal(value.strip().replace(",", ""))
    except ArithmeticError:
        raise CellError(_("“%(value)s” is not an amount.") % {"value": value[:40]}) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise CellError(_("“%(value)s” is not an amount.") % {"value": value[:40]})
    return amount.quantize(Decimal("0.01"))


def _product_documents(person: ConnectedPerson, start: datetime.date, end: datetime.date) -> dict[str, dict]:
    """The product's invoices and credit notes with the person's companies dated in the period, purchases
    and sales alike (credit notes negative, as the ERP posts them), by document number. Two queries."""
    documents = {}
    for number, day_, amount, cur, code, name in Invoice.objects.filter(
        purchase_order__counterparty__connected_person=person, invoice_date__range=(start, end)
    ).values_list("number", "invoice_date", "amount", "currency", "purchase_order__counterparty__erp_code",
                  "purchase_order__counterparty__name"):  # fmt: skip
        documents[number] = {"number": number, "date": str(day_), "amount": str(amount), "currency": cur,
                             "counterparty": code or name}  # fmt: skip
    for number, day_, amount, cur, code, name in CreditNote.objects.filter(
        invoice__purchase_order__counterparty__connected_person=person, credit_date__range=(start, end)
    ).values_list("number", "credit_date", "amount", "currency", "invoice__purchase_order__counterparty__erp_code",
                  "invoice__purchase_order__counterparty__name"):  # fmt: skip
        documents[number] = {"number": number, "date": str(day_), "amount": str(-amount), "currency": cur,
                             "counterparty": code or name}  # fmt: skip
    return documents


def completeness_check_record(
    *, user: "User", connected_person: ConnectedPerson, period_start: datetime.date, period_end: datetime.date,
    file: UploadedFile,
) -> CompletenessCheck:  # fmt: skip
    """Compare the ERP's list with the product and keep the result as evidence."""
    comparison = completeness_compare(
        connected_person=connected_person, period_start=period_start, period_end=period_end, file=file
    )
    return CompletenessCheck.objects.create(
        connected_person=connected_person, period_start=period_start, period_end=period_end, created_by=user,
        **comparison,
    )  # fmt: skip


def completeness_compare(
    *, connected_person: ConnectedPerson, period_start: datetime.date, period_end: datetime.date, file: UploadedFile
) -> dict:
    """What each side lacks (the fields of a CompletenessCheck). A row that cannot be read is a
    ValidationError naming its row: a check on a misread list would be no evidence."""
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period must end on or after it starts.")})
    try:
        rows = Rows(file, file.name)
        missing = [name for name in COLUMNS if name not in rows.header]
        if missing:
            raise FileRefused(_("The first row lacks the column(s) %(columns)s.") % {"columns": ", ".join(missing)})
        erp: dict[str, dict] = {}
        problems = []
        for number, cells in rows:
            given = dict(zip(rows.header, cells, strict=False))
            try:
                row = {
                    "counterparty": text(given["counterparty"], max_length=200),
                    "number": text(given["number"]),
                    "date": str(day(given["date"])),
                    "amount": str(_signed_amount(given["amount"])),
                    "currency": currency(given["currency"]),
                }
            except CellError as error:
                problems.append(_("Row %(row)s: %(error)s") % {"row": number, "error": error})
                continue
            erp[row["number"]] = row
    except FileRefused as refused:
        raise ValidationError({"file": str(refused)}) from None
    if problems:
        raise ValidationError({"file": problems[:20]})
    product = _product_documents(connected_person, period_start, period_end)
    keys = ("date", "amount", "currency")
    missing_in_product = [
        {**row, "product": product.get(row["number"])}
        for number, row in sorted(erp.items())
        if number not in product or any(product[number][k] != row[k] for k in keys)
    ]
    missing_in_erp = [row for number, row in sorted(product.items()) if number not in erp]
    return {
        "file_name": file.name.rsplit("/", 1)[-1][:200],
        "erp_rows": len(erp),
        "matched": len(erp) - len(missing_in_product),
        "missing_in_product": missing_in_product,
        "missing_in_erp": missing_in_erp,
    }


def completeness_checks(*, start, end) -> list[CompletenessCheck]:
    """The completeness checks whose period overlaps the year, oldest period first."""
    return list(
        CompletenessCheck.objects.filter(period_start__lte=end, period_end__gte=start)
        .select_related("connected_person", "created_by")
        .order_by("period_start", "pk")
    )
