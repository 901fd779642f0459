"""Writes of facts: purchase orders while they are drafts, and their quotes.

Every service validates first and writes inside one transaction, so bad input changes nothing.
Approval, cancellation and invoices are compliance acts (compliance.services).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .errors import Refusal
from .models import ExchangeRate, PurchaseOrder, Quote
from .selectors import exchange_rate_in_use

ORDER_FIELDS = (
    "number", "category", "counterparty", "description", "order_date", "amount", "currency",
    "recognition", "service_start", "service_end",
)  # fmt: skip
QUOTE_FIELDS = ("purchase_order", "supplier", "quoted_on", "amount", "currency", "reference", "document")


def _assign(instance, fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be set." for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(instance, name, value)


def purchase_order_check(order: PurchaseOrder) -> None:
    """The rules of a well-formed order that span rows; raises ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    category, counterparty = order.category, order.counterparty
    if category is not None and counterparty is not None:
        connected_person = category.agreement.connected_person
        if counterparty.connected_person_id != connected_person.pk:
            errors.setdefault("counterparty", []).append(
                f"{counterparty.name} is not a company of {connected_person.name}, the connected person of "
                f"“{category.agreement.title}”. Orders under this agreement are placed with its group companies."
            )
    if order.recognition == PurchaseOrder.Recognition.OVER_SERVICE_PERIOD:
        for name in ("service_start", "service_end"):
            if getattr(order, name) is None:
                errors.setdefault(name, []).append("Enter the service period of an order spread over it.")
        if order.service_start and order.service_end and order.service_end < order.service_start:
            errors.setdefault("service_end", []).append("The service period must end on or after it starts.")
    else:
        for name in ("service_start", "service_end"):
            if getattr(order, name) is not None:
                errors.setdefault(name, []).append(
                    "Leave the service period empty: this order is recognised on its order date."
                )
    if errors:
        raise ValidationError(errors)


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


def _locked_draft(order_id: int) -> PurchaseOrder:
    order = PurchaseOrder.objects.select_for_update(of=("self",)).get(pk=order_id)
    if not order.is_draft:
        raise Refusal(
            "order_not_draft",
            f"Order {order.number} is {order.get_status_display().lower()}; only draft orders and their quotes "
            "can be changed.",
        )
    return order


@transaction.atomic
def purchase_order_create(*, user, **fields: Any) -> PurchaseOrder:
    order = PurchaseOrder(created_by=user, status=PurchaseOrder.Status.DRAFT)
    _assign(order, fields, ORDER_FIELDS)
    _validate_order(order)
    order._history_user = user
    order.save()
    return order


@transaction.atomic
def purchase_order_update(*, order: PurchaseOrder, user, **fields: Any) -> PurchaseOrder:
    locked = _locked_draft(order.pk)
    _assign(locked, fields, ORDER_FIELDS)
    _validate_order(locked)
    locked._history_user = user
    locked.save()
    return locked


def _validate_quote(quote: Quote) -> None:
    quote.full_clean(exclude=["created_by", "purchase_order"])


@transaction.atomic
def quote_create(*, user, **fields: Any) -> Quote:
    quote = Quote(created_by=user)
    _assign(quote, fields, QUOTE_FIELDS)
    _locked_draft(quote.purchase_order_id)
    _validate_quote(quote)
    if quote.document:
        quote.document_name = quote.document.name.rsplit("/", 1)[-1][:200]
    quote._history_user = user
    quote.save()
    return quote


@transaction.atomic
def quote_update(*, quote: Quote, user, **fields: Any) -> Quote:
    _locked_draft(quote.purchase_order_id)
    if "purchase_order" in fields and fields["purchase_order"].pk != quote.purchase_order_id:
        raise ValidationError({"purchase_order": "A quote cannot be moved to another order; enter it there."})
    document_before = quote.document.name if quote.document else ""
    _assign(quote, fields, QUOTE_FIELDS)
    _validate_quote(quote)
    if quote.document and quote.document.name != document_before:
        quote.document_name = quote.document.name.rsplit("/", 1)[-1][:200]
    quote._history_user = user
    quote.save()
    return quote


@transaction.atomic
def quote_delete(*, quote: Quote, user) -> None:
    """Withdraw a quote entered by mistake on a draft order (the history keeps it)."""
    _locked_draft(quote.purchase_order_id)
    quote._history_user = user
    quote.delete()


@transaction.atomic
def exchange_rate_delete(*, rate: ExchangeRate, user) -> None:
    """A rate that converts a recorded document is corrected, never deleted."""
    if exchange_rate_in_use(rate):
        raise Refusal(
            "rate_in_use",
            f"The rate {rate} converts orders, quotes or invoices of that day; correct it instead of deleting it.",
        )
    rate._history_user = user
    rate.delete()
