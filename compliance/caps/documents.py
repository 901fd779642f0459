"""Invoices, credit notes and exchange rates: recorded through the same checks from every door, each one
database transaction that moves the cap ledger (compliance.caps.ledger) with the alerts and breaches it
causes.
"""

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from compliance.alerts.recording import (
    alerts_record as alerts_record,  # re-exported: checks and callers record alerts here
)
from compliance.caps.approval import NO_EXCHANGE_RATE, lock_order_and_category
from compliance.caps.ledger import (
    credit_note_entries,
    invoice_entries,
    ledger_post,
    revalue_for_rate,
    totals_lock,
)
from compliance.common.dates import day_in_words as _day
from compliance.models import AnnualCap, LedgerEntry
from transactions.errors import Refusal
from transactions.models import CreditNote, ExchangeRate, Invoice, TransactionCategory
from transactions.money import format_money
from transactions.selectors import RateBook, amount_converted
from transactions.services import assign_fields

if TYPE_CHECKING:
    from transactions.users import User

# --- Invoices -----------------------------------------------------------------------------------

INVOICE_FIELDS = ("purchase_order", "number", "invoice_date", "amount", "currency")


def _rate_refusal(document: str, currency: str, target: str, day: datetime.date) -> Refusal | None:
    if RateBook([(currency, target, day)]).ratio(currency, target, day) is None:
        return Refusal(
            NO_EXCHANGE_RATE,
            _(
                "There is no %(currency)s/%(target)s exchange rate for %(day)s, the date of %(document)s. "
                "Record that day's rate first."
            )
            % {"currency": currency, "target": target, "day": _day(day), "document": document},
        )
    return None


def invoice_refusal(invoice: Invoice) -> Refusal | None:
    """Why this invoice cannot be recorded as it stands, or None (used by the admin form as well).
    An invoice counts whatever its order's status (draft, approved or cancelled): it happened."""
    return _rate_refusal(
        _("invoice %(number)s") % {"number": invoice.number},
        invoice.currency,
        invoice.purchase_order.category.currency,
        invoice.invoice_date,
    )


def _cap_on(category: TransactionCategory, day: datetime.date) -> AnnualCap | None:
    return AnnualCap.objects.filter(category=category, period_start__lte=day, period_end__gte=day).first()


@transaction.atomic
def invoice_save(*, invoice: Invoice, user: "User") -> Invoice:
    """Record a new invoice (an actual amount) or a correction, against an order of any status; post it
    to the ledger (a correction reverses what it posted and posts it again) and record any alert the
    actual amount now reaches. An invoice on a draft flags the order `invoiced_before_approval`."""
    if invoice.pk is None:
        invoice.created_by = user
    else:
        previous_order = Invoice.objects.values_list("purchase_order_id", flat=True).get(pk=invoice.pk)
        if previous_order != invoice.purchase_order_id:
            raise ValidationError({"purchase_order": _("An invoice cannot be moved to another order.")})
    invoice.full_clean(exclude=["created_by"])
    order, category = lock_order_and_category(invoice.purchase_order_id)
    invoice.purchase_order = order
    refusal = invoice_refusal(invoice)
    if refusal is not None:
        raise refusal
    if invoice.pk is not None:
        credited = _credited(invoice.pk)
        if credited > invoice.amount:
            raise ValidationError(
                {
                    "amount": _("Credit notes of %(credited)s are recorded against this invoice; it cannot be less.")
                    % {"credited": format_money(credited, invoice.currency)}
                }
            )
    cap = _cap_on(category, invoice.invoice_date)
    booked = LedgerEntry.objects.filter(invoice_id=invoice.pk).values_list("cap_id", flat=True) if invoice.pk else []
    totals_lock([*booked, *([cap.pk] if cap else [])])
    converted = amount_converted(
        amount=invoice.amount, currency=invoice.currency, target_currency=category.currency, on=invoice.invoice_date
    )
    invoice._history_user = user
    invoice.save()
    if order.is_draft and not order.invoiced_before_approval:
        order.invoiced_before_approval = True
        order._history_user = user
        order._change_reason = "invoiced before approval"
        order.save(update_fields=["invoiced_before_approval"])
    ledger_post(invoice_entries(invoice, cap=cap, converted=converted), user=user, triggered_by=order)
    return invoice


def invoice_record(*, user: "User", **fields: Any) -> Invoice:
    invoice = Invoice()
    assign_fields(invoice, fields, INVOICE_FIELDS)
    return invoice_save(invoice=invoice, user=user)


def invoice_update(*, invoice: Invoice, user: "User", **fields: Any) -> Invoice:
    assign_fields(invoice, fields, INVOICE_FIELDS)
    return invoice_save(invoice=invoice, user=user)


# --- Credit notes -------------------------------------------------------------------------------

CREDIT_NOTE_FIELDS = ("invoice", "number", "credit_date", "amount", "currency")


def _credited(invoice_id: int, *, excluding: int | None = None) -> Decimal:
    notes = CreditNote.objects.filter(invoice_id=invoice_id)
    if excluding is not None:
        notes = notes.exclude(pk=excluding)
    return notes.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


def credit_note_check(note: CreditNote) -> None:
    """A credit note is in its invoice's currency, at most what remains of the invoice after earlier credit
    notes, and its day's rate is recorded (used by the admin form as well)."""
    invoice = note.invoice
    if note.currency and note.currency != invoice.currency:
        raise ValidationError(
            {
                "currency": _("A credit note is in the currency of its invoice (%(currency)s).")
                % {"currency": invoice.currency}
            }
        )
    remaining = invoice.amount - _credited(invoice.pk, excluding=note.pk)
    if note.amount is not None and note.amount > remaining:
        raise ValidationError(
            {
                "amount": _("Only %(remaining)s of invoice %(number)s remains to be credited.")
                % {"remaining": format_money(remaining, invoice.currency), "number": invoice.number}
            }
        )
    target = invoice.purchase_order.category.currency
    refusal = _rate_refusal(
        _("credit note %(number)s") % {"number": note.number}, note.currency, target, note.credit_date
    )
    if refusal is not None:
        raise refusal


@transaction.atomic
def credit_note_save(*, note: CreditNote, user: "User") -> CreditNote:
    """Record a credit note against an invoice: a negative actual entry on its credit date, in the period
    containing it. Credit notes are recorded once, never changed."""
    if note.pk is not None:
        raise ValidationError(_("A credit note is recorded once; record another document to correct it."))
    note.created_by = user
    note.full_clean(exclude=["created_by"])
    order, category = lock_order_and_category(note.invoice.purchase_order_id)
    credit_note_check(note)
    cap = _cap_on(category, note.credit_date)
    totals_lock([cap.pk] if cap else [])
    converted = amount_converted(
        amount=note.amount, currency=note.currency, target_currency=category.currency, on=note.credit_date
    )
    note._history_user = user
    note.save()
    ledger_post(credit_note_entries(note, cap=cap, converted=converted), user=user, triggered_by=order)
    return note


def credit_note_record(*, user: "User", **fields: Any) -> CreditNote:
    note = CreditNote()
    assign_fields(note, fields, CREDIT_NOTE_FIELDS)
    return credit_note_save(note=note, user=user)


# --- Exchange rates -------------------------------------------------------------------------------

RATE_FIELDS = ("currency", "target_currency", "rate_date", "rate", "source")


@transaction.atomic
def exchange_rate_save(*, rate: ExchangeRate, user: "User") -> ExchangeRate:
    """Record or correct an exchange rate. The orders, invoices and credit notes it converts are revalued
    by the difference, on the rate's date, in the same transaction, with any alert that follows."""
    rate.full_clean()
    rate._history_user = user
    rate.save()
    revalue_for_rate(rate=rate, user=user)
    return rate


def exchange_rate_create(*, user: "User", **fields: Any) -> ExchangeRate:
    rate = ExchangeRate()
    assign_fields(rate, fields, RATE_FIELDS)
    return exchange_rate_save(rate=rate, user=user)


def exchange_rate_update(*, exchange_rate: ExchangeRate, user: "User", **fields: Any) -> ExchangeRate:
    assign_fields(exchange_rate, fields, RATE_FIELDS)
    return exchange_rate_save(rate=exchange_rate, user=user)
