"""The registry of import kinds: the columns of each, how a cell becomes a value, how a row is matched
with a stored document, and the service that records it.

Adding a kind is one more `Kind` in KINDS: its columns (the API's field names, each with the model field it
sets), its key (the document number, or the fields that identify it), the fields compared to call a row
`unchanged`, and the service of its own app that records one document. Sales are stored in the tables of
purchases (transactions.models.SalesOrder and its kin are proxies): a kind has a direction, and an order or
a category of the other direction is a row error, as the API refuses it.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.utils.translation import gettext as _

from transactions.api import direction_mismatch
from transactions.currencies import CURRENCIES
from transactions.models import (
    PURCHASE,
    SALE,
    Counterparty,
    CreditNote,
    Invoice,
    PriceReference,
    PurchaseOrder,
    Quote,
    SalesInvoice,
    SalesOrder,
    TransactionCategory,
)

if TYPE_CHECKING:
    from transactions.users import User


class CellError(ValueError):
    """A cell that cannot become a value; the message is for the user."""


# --- Cells ----------------------------------------------------------------------------------------


def text(value: str, *, max_length: int = 64) -> str:
    # Kept exactly as written: a leading =, +, - or @ is text here, never a formula.
    value = value.strip()
    if len(value) > max_length:
        raise CellError(_("At most %(count)s characters.") % {"count": max_length})
    return value


def day(value: str) -> datetime.date:
    value = value.strip()
    try:
        return datetime.date.fromisoformat(value[:10] if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+", value) else value)
    except ValueError:
        raise CellError(_("“%(value)s” is not a date: write YYYY-MM-DD.") % {"value": value[:40]}) from None


def money(value: str) -> Decimal:
    cleaned = value.strip().replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not an amount.") % {"value": value[:40]}) from None
    if not amount.is_finite():
        raise CellError(_("“%(value)s” is not an amount.") % {"value": value[:40]})
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(_("An amount has at most two decimals."))
    if amount <= 0:
        raise CellError(_("The amount must be greater than zero."))
    if amount >= Decimal("1e16"):
        raise CellError(_("The amount is too large."))
    return amount.quantize(Decimal("0.01"))


def currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise CellError(_("“%(value)s” is not an ISO 4217 currency code (e.g. CNY, HKD, USD).") % {"value": value[:10]})
    return code


def recognition(value: str) -> str:
    value = value.strip() or PurchaseOrder.Recognition.ON_ORDER_DATE
    if value not in PurchaseOrder.Recognition.values:
        raise CellError(_("Write on_order_date or over_service_period."))
    return value


# --- References: by id, by ERP code or by exact name, never a new row --------------------------------


class References:
    """Finds what a row names. Memoised per value: a file names few counterparties and categories;
    orders and invoices are looked up by number once per distinct number."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str], Any] = {}

    def _find(self, what: str, value: str, lookup: Callable[[str], Any]) -> Any:
        key = (what, value)
        if key not in self._memo:
            self._memo[key] = lookup(value)
        found = self._memo[key]
        if found is None:
            raise CellError(MISSING[what]() % {"value": value[:64]})
        return found

    def counterparty(self, value: str) -> Counterparty:
        def lookup(v: str) -> Counterparty | None:
            rows = Counterparty.objects.filter(erp_code=v) if v else Counterparty.objects.none()
            found = rows.first() or Counterparty.objects.filter(name=v).first()
            if found is None and v.isdigit():
                found = Counterparty.objects.filter(pk=int(v)).first()
            return found

        return self._find("counterparty", value.strip(), lookup)

    def category(self, value: str, direction: str = PURCHASE) -> TransactionCategory:
        v = value.strip()
        found = self._find(
            "category", v, lambda v: TransactionCategory.objects.filter(pk=int(v)).first() if v.isdigit() else None
        )
        _direction_check(found, direction)
        return found

    def purchase_order(self, value: str, direction: str = PURCHASE) -> PurchaseOrder:
        def lookup(v: str) -> PurchaseOrder | None:
            orders = PurchaseOrder.objects.select_related("category")
            found = orders.filter(number=v).first()
            if found is None and v.isdigit():
                found = orders.filter(pk=int(v)).first()
            return found

        found = self._find("purchase_order" if direction == PURCHASE else "sales_order", value.strip(), lookup)
        _direction_check(found.category, direction)
        return found

    def invoice(self, value: str) -> Invoice:
        def lookup(v: str) -> Invoice | None:
            found = Invoice.objects.filter(number=v).first()
            if found is None and v.isdigit():
                found = Invoice.objects.filter(pk=int(v)).first()
            return found

        return self._find("invoice", value.strip(), lookup)


def _direction_check(category: TransactionCategory, direction: str) -> None:
    message = direction_mismatch(category, direction)
    if message is not None:
        raise CellError(message)


MISSING = {
    "counterparty": lambda: _("No counterparty has the ERP code, name or id “%(value)s”."),
    "category": lambda: _("No transaction category has the id “%(value)s”."),
    "purchase_order": lambda: _("No purchase order has the number or id “%(value)s”."),
    "sales_order": lambda: _("No sales order has the number or id “%(value)s”."),
    "invoice": lambda: _("No invoice has the number or id “%(value)s”."),
}


# --- Kinds ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str, References], Any]
    required: bool = True
    # The model field the column sets, when the API names it otherwise (a sales order is `purchase_order`).
    field: str = ""

    @property
    def target(self) -> str:
        return self.field or self.name


def _plain(parse: Callable[[str], Any]) -> Callable[[str, References], Any]:
    return lambda value, refs: parse(value)


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[Model]
    columns: tuple[Column, ...]
    # The fields that identify a stored document: the same key and the same values are `unchanged`.
    key: tuple[str, ...]
    compared: tuple[str, ...]
    record: Callable[..., Model]
    # Fields identifying a row within the file: two rows with the same key are an error.
    extra: dict[str, Any] = field(default_factory=dict)
    direction: str = PURCHASE

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column_of(self, model_field: str) -> str:
        """The file's name for a model field (a service's error names the field)."""
        return next((column.name for column in self.columns if column.target == model_field), model_field)

    def stored(self, values: dict[str, Any]) -> Model | None:
        lookup = {name: values[name] for name in self.key}
        return self.model.objects.filter(**lookup).first()

    def differences(self, stored: Model, values: dict[str, Any]) -> list[str]:
        """The columns whose values differ from the stored document's."""
        return [
            self.column_of(name)
            for name in self.compared
            if _comparable(getattr(stored, name)) != _comparable(values.get(name))
        ]


def _comparable(value: Any) -> Any:
    return value.pk if isinstance(value, Model) else value


def _record_purchase_order(*, user: "User", **values) -> PurchaseOrder:
    from transactions.services import purchase_order_create

    # Imported orders arrive as drafts: approval is a separate act with all its gates.
    return purchase_order_create(user=user, **values)


def _record_quote(*, user: "User", **values) -> Quote:
    from transactions.services import quote_create

    return quote_create(user=user, **values)


def _record_invoice(*, user: "User", **values) -> Invoice:
    from compliance.caps.documents import invoice_record

    return invoice_record(user=user, **values)


def _record_credit_note(*, user: "User", **values) -> CreditNote:
    from compliance.caps.documents import credit_note_record

    return credit_note_record(user=user, **values)


def _optional_day(value: str) -> datetime.date | None:
    return day(value) if value.strip() else None


KINDS: dict[str, Kind] = {
    "purchase_orders": Kind(
        name="purchase_orders",
        model=PurchaseOrder,
        columns=(
            Column("number", _plain(text)),
            Column("category", lambda v, refs: refs.category(v)),
            Column("counterparty", lambda v, refs: refs.counterparty(v)),
            Column("order_date", _plain(day)),
            Column("amount", _plain(money)),
            Column("currency", _plain(currency)),
            Column("recognition", _plain(recognition), required=False),
            Column("service_start", _plain(_optional_day), required=False),
            Column("service_end", _plain(_optional_day), required=False),
            Column("description", _plain(lambda v: text(v, max_length=500)), required=False),
        ),
        key=("number",),
        compared=(
            "category",
            "counterparty",
            "order_date",
            "amount",
            "currency",
            "recognition",
            "service_start",
            "service_end",
        ),
        record=_record_purchase_order,
    ),
    "quotes": Kind(
        name="quotes",
        model=Quote,
        columns=(
            Column("purchase_order", lambda v, refs: refs.purchase_order(v)),
            Column("supplier", lambda v, refs: refs.counterparty(v)),
            Column("quoted_on", _plain(day)),
            Column("amount", _plain(money)),
            Column("currency", _plain(currency)),
            Column("reference", _plain(lambda v: text(v, max_length=100)), required=False),
        ),
        # A quote has no number of its own: the order, the supplier and the supplier's quote number.
        key=("purchase_order", "supplier", "reference"),
        compared=("quoted_on", "amount", "currency"),
        record=_record_quote,
    ),
    "invoices": Kind(
        name="invoices",
        model=Invoice,
        columns=(
            Column("purchase_order", lambda v, refs: refs.purchase_order(v)),
            Column("number", _plain(text)),
            Column("invoice_date", _plain(day)),
            Column("amount", _plain(money)),
            Column("currency", _plain(currency)),
        ),
        key=("number",),
        compared=("purchase_order", "invoice_date", "amount", "currency"),
        record=_record_invoice,
    ),
    "credit_notes": Kind(
        name="credit_notes",
        model=CreditNote,
        columns=(
            Column("invoice", lambda v, refs: refs.invoice(v)),
            Column("number", _plain(text)),
            Column("credit_date", _plain(day)),
            Column("amount", _plain(money)),
            Column("currency", _plain(currency)),
        ),
        key=("number",),
        compared=("invoice", "credit_date", "amount", "currency"),
        record=_record_credit_note,
    ),
}

# Sales: the same services as purchases (the gates tell the directions apart by the category), the API's
# column names.
KINDS["sales_orders"] = Kind(
    name="sales_orders",
    model=SalesOrder,
    columns=tuple(
        Column("category", lambda v, refs: refs.category(v, SALE)) if column.name == "category" else column
        for column in KINDS["purchase_orders"].columns
    ),
    key=KINDS["purchase_orders"].key,
    compared=KINDS["purchase_orders"].compared,
    record=_record_purchase_order,
    direction=SALE,
)
KINDS["price_references"] = Kind(
    name="price_references",
    model=PriceReference,
    columns=(
        Column("sales_order", lambda v, refs: refs.purchase_order(v, SALE), field="purchase_order"),
        Column("customer", lambda v, refs: refs.counterparty(v), field="supplier"),
        Column("dated", _plain(day), field="quoted_on"),
        Column("amount", _plain(money)),
        Column("currency", _plain(currency)),
        Column("reference", _plain(lambda v: text(v, max_length=100)), required=False),
    ),
    key=KINDS["quotes"].key,
    compared=KINDS["quotes"].compared,
    record=_record_quote,
    direction=SALE,
)
KINDS["sales_invoices"] = Kind(
    name="sales_invoices",
    model=SalesInvoice,
    columns=(
        Column("sales_order", lambda v, refs: refs.purchase_order(v, SALE), field="purchase_order"),
        *KINDS["invoices"].columns[1:],
    ),
    key=KINDS["invoices"].key,
    compared=KINDS["invoices"].compared,
    record=_record_invoice,
    direction=SALE,
)

CONTRACT_KINDS = ("purchase_orders", "quotes", "invoices", "credit_notes", "sales_orders", "price_references",
                  "sales_invoices")  # fmt: skip
