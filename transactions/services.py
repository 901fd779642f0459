"""Writes of facts: purchase orders while they are drafts, and their quotes.

Every service validates first and writes inside one transaction, so bad input changes nothing.
Approval, cancellation and invoices are compliance acts (compliance.caps.approval and compliance.caps.documents).
"""

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .errors import Refusal
from .models import ExchangeRate, PurchaseOrder, Quote
from .selectors import exchange_rate_in_use

if TYPE_CHECKING:
    from transactions.users import User

ORDER_FIELDS = (
    "number", "category", "counterparty", "description", "order_date", "amount", "currency",
    "recognition", "service_start", "service_end",
)  # fmt: skip
QUOTE_FIELDS = ("purchase_order", "supplier", "quoted_on", "amount", "currency", "reference", "document")


def assign_fields(instance, fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Set the given fields on an instance, refusing any field the service does not let callers set."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(instance, name, value)


def purchase_order_check(order: PurchaseOrder) -> None:
    """The rules of a well-formed order that span rows; raises ValidationError keyed by field."""
    if order.category_id is None or order.counterparty_id is None:
        return  # reported as missing fields
    category, counterparty = order.category, order.counterparty
    connected_person = category.agreement.connected_person
    if counterparty.connected_person_id != connected_person.pk:
        raise ValidationError(
            {
                "counterparty": _(
                    "%(counterparty)s is not a company of %(person)s, the connected person of “%(agreement)s”. "
                    "Orders under this agreement are placed with its group companies."
                )
                % {
                    "counterparty": counterparty.name,
                    "person": connected_person.name,
                    "agreement": category.agreement.title,
                }
            }
        )


def _validate_order(order: PurchaseOrder) -> None:
    errors: dict[str, list[str]] = {}
    try:
        order.full_clean(exclude=["created_by"])
    except ValidationError as error:
        errors = error.message_dict
    try:
        purchase_order_check(order)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(m for m in messages if m not in errors.get(name, []))
    if errors:
        raise ValidationError(errors)


def _locked_draft(order_id: int) -> None:
    """Lock the order's row and refuse unless it is a draft (its approval would race the edit)."""
    order = PurchaseOrder.objects.select_for_update(of=("self",)).only("number", "status").get(pk=order_id)
    if not order.is_draft:
        raise Refusal(
            "order_not_draft",
            _("Order %(order)s is %(status)s; only draft orders and their quotes can be changed.")
            % {"order": order.number, "status": order.get_status_display().lower()},
        )


@transaction.atomic
def purchase_order_save(*, order: PurchaseOrder, user: "User") -> PurchaseOrder:
    """Save a new or changed draft order (the admin's form instance, or one built from fields)."""
    if order.pk is None:
        order.created_by = user
        order.status = PurchaseOrder.Status.DRAFT
    else:
        _locked_draft(order.pk)
    _validate_order(order)
    order._history_user = user
    order.save()
    return order


def purchase_order_create(*, user: "User", **fields: Any) -> PurchaseOrder:
    order = PurchaseOrder()
    assign_fields(order, fields, ORDER_FIELDS)
    return purchase_order_save(order=order, user=user)


def purchase_order_update(*, order: PurchaseOrder, user: "User", **fields: Any) -> PurchaseOrder:
    assign_fields(order, fields, ORDER_FIELDS)
    return purchase_order_save(order=order, user=user)


@transaction.atomic
def quote_save(*, quote: Quote, user: "User") -> Quote:
    """Save a new or changed quote of a draft order."""
    if quote.pk is not None:
        stored_order = Quote.objects.values_list("purchase_order_id", flat=True).get(pk=quote.pk)
        if stored_order != quote.purchase_order_id:
            raise ValidationError({"purchase_order": _("A quote cannot be moved to another order; enter it there.")})
    else:
        quote.created_by = user
    _locked_draft(quote.purchase_order_id)
    quote.full_clean(exclude=["created_by"])
    if quote.document and not quote.document._committed:
        # Keep the name the user gave the file; it is stored under a random one.
        quote.document_name = quote.document.name.rsplit("/", 1)[-1][:200]
    elif not quote.document:
        quote.document_name = ""
    quote._history_user = user
    quote.save()
    return quote


def quote_create(*, user: "User", **fields: Any) -> Quote:
    quote = Quote()
    assign_fields(quote, fields, QUOTE_FIELDS)
    return quote_save(quote=quote, user=user)


def quote_update(*, quote: Quote, user: "User", **fields: Any) -> Quote:
    assign_fields(quote, fields, QUOTE_FIELDS)
    return quote_save(quote=quote, user=user)


@transaction.atomic
def quote_delete(*, quote: Quote, user: "User") -> None:
    """Withdraw a quote entered by mistake on a draft order (the history keeps it)."""
    _locked_draft(quote.purchase_order_id)
    quote._history_user = user
    quote.delete()


@transaction.atomic
def exchange_rate_delete(*, rate: ExchangeRate, user: "User") -> None:
    """A rate that converts a recorded document is corrected, never deleted."""
    if exchange_rate_in_use(rate):
        raise Refusal(
            "rate_in_use",
            _("The rate %(rate)s converts orders, quotes or invoices of that day; correct it instead of deleting it.")
            % {"rate": rate},
        )
    rate._history_user = user
    rate.delete()
