"""Compliance acts: approving and cancelling orders, recording invoices, keeping caps and terms
consistent, and recording alerts.

Each act is one database transaction. Acts that decide about headroom lock the order's row and then
its category's row (always in that order, so they cannot deadlock): two approvals against the same
caps therefore run one after the other, and the second sees what the first approved.
Refusals are transactions.errors.Refusal (API: 409 with the code below); malformed input is a
ValidationError (API: 400).
"""

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from transactions.errors import Refusal
from transactions.models import CreditNote, ExchangeRate, Invoice, PurchaseOrder, TransactionCategory
from transactions.money import format_money, mul_div_round
from transactions.selectors import RateBook, amount_converted
from transactions.services import assign_fields

from .dates import day_in_words as _day
from .ledger import alerts_record as alerts_record  # re-exported: checks and callers record alerts here
from .ledger import (
    commitment_entries,
    credit_note_entries,
    invoice_entries,
    ledger_post,
    revalue_for_rate,
    totals_lock,
    withdrawal_entries,
)
from .models import AlertThreshold, AnnualCap, CapRevision, CapTotals, DistributionList, LedgerEntry
from .quote_exceptions import approved_exception_for
from .recompliance import recompliance_refusal, renewals_settle_for_cap
from .selectors import (
    PeriodShare,
    QuoteRuleResult,
    caps_with_utilisation,
    order_allocation,
    quote_rule_for_order,
)
from .terms import category_terms, describe_terms, term_length_check, terms_check, terms_cover

if TYPE_CHECKING:
    from transactions.users import User

# The codes of the approval gates (API contract).
SELF_APPROVAL = "self_approval"
OUTSIDE_TERM = "outside_term"
QUOTE_RULE = "quote_rule"
PRICING_RULE = "pricing_rule"  # the quote rule of a sale: not priced lower than independent customers
CAP_EXCEEDED = "cap_exceeded"
NO_EXCHANGE_RATE = "no_exchange_rate"


def _period(cap: AnnualCap) -> str:
    return _("%(start)s to %(end)s") % {"start": _day(cap.period_start), "end": _day(cap.period_end)}


def _lock_order_and_category(order_id: int) -> tuple[PurchaseOrder, TransactionCategory]:
    order = PurchaseOrder.objects.select_for_update(of=("self",)).get(pk=order_id)
    category = (
        TransactionCategory.objects.select_for_update(of=("self",))
        .select_related("agreement__connected_person")
        .get(pk=order.category_id)
    )
    order.category = category
    return order, category


# --- Approval ------------------------------------------------------------------------------------


def _check_term(order: PurchaseOrder, category: TransactionCategory) -> None:
    """The order date and every service day fall inside the recorded terms (the first and any renewal)."""
    terms = category_terms(category)
    if len(terms) == 1:
        outside = _("the term of “%(category)s”") % {"category": category.name}
        runs = _("the term of “%(category)s” runs from %(term)s") % {"category": category.name, "term": terms[0]}
    else:
        outside = _("every recorded term of “%(category)s”") % {"category": category.name}
        runs = _("the recorded terms of “%(category)s” are %(terms)s") % {
            "category": category.name,
            "terms": describe_terms(terms),
        }
    if not any(term.covers(order.order_date) for term in terms):
        raise Refusal(
            OUTSIDE_TERM,
            _(
                "Order %(order)s is dated %(day)s, outside %(outside)s (%(terms)s). "
                "Orders can only be placed under the agreement during its term."
            )
            % {
                "order": order.number,
                "day": _day(order.order_date),
                "outside": outside,
                "terms": describe_terms(terms),
            },
        )
    if order.recognition == PurchaseOrder.Recognition.OVER_SERVICE_PERIOD and not terms_cover(
        terms, order.service_start, order.service_end
    ):
        raise Refusal(
            OUTSIDE_TERM,
            _(
                "Order %(order)s buys services from %(start)s to %(end)s, but %(runs)s. "
                "Every service day must fall inside the term."
            )
            % {
                "order": order.number,
                "start": _day(order.service_start),
                "end": _day(order.service_end),
                "runs": runs,
            },
        )


def quote_rule_refusal(order: PurchaseOrder, result: QuoteRuleResult, category: TransactionCategory) -> Refusal | None:
    """Why the order fails the quote rule (or a rate it needs is missing), from an assessment; None if it passes.
    Used by the approval gate and by the sweep over approved orders."""
    currency = category.currency
    if result.sale and result.order_converted is not None and not result.missing_rates:
        return pricing_rule_refusal(order, result, category)
    if result.order_converted is None:
        return _order_rate_refusal(order, currency)
    if result.missing_rates:
        quote = result.missing_rates[0].quote
        return Refusal(
            NO_EXCHANGE_RATE,
            _(
                "There is no %(quote_currency)s/%(order_currency)s exchange rate for %(day)s, the date of order "
                "%(order)s: the quote from %(supplier)s is compared with the order at that day's rate. Record that "
                "day's rate before approving."
            )
            % {
                "quote_currency": quote.currency,
                "order_currency": order.currency,
                "day": _day(order.order_date),
                "order": order.number,
                "supplier": quote.supplier.name,
            },
        )
    if not result.enough_quotes:
        ignored = [
            _("the quote from %(supplier)s (%(reason)s)") % {"supplier": a.quote.supplier.name, "reason": a.reason}
            for a in result.assessments
            if not a.counted
        ]
        detail = _(
            "Order %(order)s needs quotes from at least %(required)s independent third parties, dated "
            "within %(days)s days before the order; it has %(has)s."
        ) % {
            "order": order.number,
            "required": result.required,
            "days": category.quote_validity_days,
            "has": result.independent_suppliers,
        }
        if ignored:
            detail += _(" Not counted: %(ignored)s.") % {"ignored": "; ".join(ignored)}
        return Refusal(QUOTE_RULE, detail)
    if not result.more_favourable:
        dearest = _quote_not_undercut(result)
        return Refusal(
            QUOTE_RULE,
            _(
                "Order %(order)s costs %(price)s, not less than the independent quote from %(supplier)s "
                "(%(quote)s). The connected person's price must be more favourable than every independent quote."
            )
            % {
                "order": order.number,
                "price": format_money(_order_in_quote_currency(result, dearest), dearest.quote.currency),
                "supplier": dearest.quote.supplier.name,
                "quote": format_money(dearest.quote.amount, dearest.quote.currency),
            },
        )
    return None


def pricing_rule_refusal(
    order: PurchaseOrder, result: QuoteRuleResult, category: TransactionCategory
) -> Refusal | None:
    """Why a sale fails the pricing rule: too few price references from distinct independent customers, or
    priced lower than one of them (by how much, and than whom); None if it passes."""
    if not result.enough_quotes:
        ignored = [
            _("the reference of %(customer)s (%(reason)s)") % {"customer": a.quote.supplier.name, "reason": a.reason}
            for a in result.assessments
            if not a.counted
        ]
        detail = _(
            "Sales order %(order)s needs price references from at least %(required)s independent customers, dated "
            "within %(days)s days before the order; it has %(count)s."
        ) % {
            "order": order.number,
            "required": result.required,
            "days": category.quote_validity_days,
            "count": result.independent_suppliers,
        }
        if ignored:
            detail += " " + _("Not counted: %(list)s.") % {"list": "; ".join(ignored)}
        return Refusal(PRICING_RULE, detail)
    if not result.more_favourable:
        highest = max(
            (a for a in result.counted if result.order_amount < a.compared), key=lambda a: (a.compared, -a.quote.pk)
        )
        price = _order_in_quote_currency(result, highest)
        reference = highest.quote.reference or _("no reference")
        return Refusal(
            PRICING_RULE,
            _(
                "Sales order %(order)s charges the connected person %(price)s, %(short)s less than %(customer)s, "
                "an independent customer, was charged (%(quote)s, %(reference)s, %(day)s). A sale to a connected "
                "person must not be priced lower than to independent customers."
            )
            % {
                "order": order.number,
                "price": format_money(price, highest.quote.currency),
                "short": format_money(highest.quote.amount - price, highest.quote.currency),
                "customer": highest.quote.supplier.name,
                "quote": format_money(highest.quote.amount, highest.quote.currency),
                "reference": reference,
                "day": _day(highest.quote.quoted_on),
            },
        )
    return None


def _quote_not_undercut(result: QuoteRuleResult):
    """The lowest counted quote the order is not cheaper than (compared in the order's currency)."""
    return min((a for a in result.counted if result.order_amount >= a.compared), key=lambda a: (a.compared, a.quote.pk))


def _order_in_quote_currency(result: QuoteRuleResult, assessment) -> Decimal:
    """The order's price in the quote's currency at the same (order date) rate the comparison used."""
    if assessment.quote.currency == result.order_currency:
        return result.order_amount
    return mul_div_round(result.order_amount, assessment.quote.amount, assessment.compared)


def _check_quote_rule(order: PurchaseOrder, category: TransactionCategory) -> None:
    """The quote rule, unless an approved quote-rule exception covers the order as it stands."""
    exception = approved_exception_for(order)
    if exception is not None and exception.covers(order):
        converted = amount_converted(
            amount=order.amount, currency=order.currency, target_currency=category.currency, on=order.order_date
        )
        if converted is None:
            raise _order_rate_refusal(order, category.currency)
        return
    refusal = quote_rule_refusal(order, quote_rule_for_order(order), category)
    if refusal is None:
        return
    if exception is not None and refusal.code in (QUOTE_RULE, PRICING_RULE):
        raise Refusal(
            refusal.code,
            refusal.detail
            + _(
                " The quote-rule exception approved for this order covered %(amount)s; the order has changed since, "
                "so it no longer applies."
            )
            % {"amount": format_money(exception.order_amount, exception.order_currency)},
        )
    raise refusal


def _order_rate_refusal(order: PurchaseOrder, currency: str) -> Refusal:
    return Refusal(
        NO_EXCHANGE_RATE,
        _(
            "There is no %(currency)s/%(target)s exchange rate for %(day)s, the date of order %(order)s. "
            "Record that day's rate before approving."
        )
        % {"currency": order.currency, "target": currency, "day": _day(order.order_date), "order": order.number},
    )


def _lock_caps_touched(order: PurchaseOrder, category: TransactionCategory) -> None:
    """Lock the running totals of the caps the order's recognition touches (their number depends on the
    periods, not on how many orders exist), before the order's amount is converted or the totals read:
    a rate correction or an invoice moving those totals waits, or is waited for."""
    totals_lock(
        AnnualCap.objects.filter(
            category=category, period_start__lte=order.recognition_end, period_end__gte=order.recognition_start
        ).values_list("pk", flat=True)
    )


def _check_caps(order: PurchaseOrder, category: TransactionCategory, converted: Decimal) -> list[PeriodShare]:
    """The order's shares of the caps it touches, if each fits the headroom the caps' totals leave."""
    caps = list(caps_with_utilisation(AnnualCap.objects.filter(category=category)))
    shares = order_allocation(order, converted, caps)
    currency = category.currency
    for share in shares:
        if share.cap is None:
            raise Refusal(
                CAP_EXCEEDED,
                _(
                    "No annual cap covers %(start)s to %(end)s, which order %(order)s falls in (%(amount)s). "
                    "Without a cap there is no headroom."
                )
                % {
                    "start": _day(share.first_day),
                    "end": _day(share.last_day),
                    "order": order.number,
                    "amount": format_money(share.amount, currency),
                },
            )
    for share in shares:
        cap = share.cap
        after = cap.used + share.amount
        if after > cap.amount:
            raise Refusal(
                CAP_EXCEEDED,
                _(
                    "Approving order %(order)s would take the annual cap of “%(category)s” for %(period)s to "
                    "%(after)s, above the cap of %(cap)s by %(over)s. Headroom left: %(headroom)s."
                )
                % {
                    "order": order.number,
                    "category": category.name,
                    "period": _period(cap),
                    "after": format_money(after, currency),
                    "cap": format_money(cap.amount, currency),
                    "over": format_money(after - cap.amount, currency),
                    "headroom": format_money(max(cap.remaining, Decimal(0)), currency),
                },
            )
    return shares


def role_check(user: "User", permission: str, refusal: str) -> None:
    """The role is checked here, in the service, so that the API, the admin's buttons and its bulk actions
    cannot differ: each also checks it first to hide what the user may not do, but none is trusted to."""
    if not user.has_perm(permission):
        raise PermissionDenied(refusal)


@transaction.atomic
def purchase_order_approve(*, order_id: int, user: "User") -> PurchaseOrder:
    """Approve a draft order if every gate passes, and record any alert its approval raises."""
    order, category = _lock_order_and_category(order_id)
    if category.direction == TransactionCategory.Direction.SALE:
        role_check(
            user,
            "transactions.approve_salesorder",
            _("Only a user with the compliance role can approve sales orders."),
        )
    else:
        role_check(
            user,
            "transactions.approve_purchaseorder",
            _("Only a user with the compliance role can approve purchase orders."),
        )
    if not order.is_draft:
        raise Refusal(
            "order_not_draft",
            _("Order %(order)s is already %(status)s.")
            % {"order": order.number, "status": order.get_status_display().lower()},
        )
    if order.created_by_id == user.pk:
        raise Refusal(
            SELF_APPROVAL,
            _(
                "You entered order %(order)s, so you cannot approve it: another person with the compliance role "
                "must approve it."
            )
            % {"order": order.number},
        )
    _check_term(order, category)
    refusal = recompliance_refusal(order, category)
    if refusal is not None:
        raise refusal
    _check_quote_rule(order, category)
    _lock_caps_touched(order, category)
    converted = amount_converted(
        amount=order.amount, currency=order.currency, target_currency=category.currency, on=order.order_date
    )
    if converted is None:
        raise _order_rate_refusal(order, category.currency)
    shares = _check_caps(order, category, converted)

    order.status = PurchaseOrder.Status.APPROVED
    order.approved_by = user
    order.approved_at = timezone.now()
    order._history_user = user
    order._change_reason = "approved"
    order.save()
    ledger_post(commitment_entries(order, shares), user=user, triggered_by=order)
    return order


def cancellation_effective_on_check(order: PurchaseOrder, effective_on: datetime.date) -> None:
    today = timezone.localdate()
    if effective_on < order.order_date:
        raise ValidationError(
            {
                "effective_on": _(
                    "A cancellation takes effect on or after the order date (%(day)s), not on %(effective)s."
                )
                % {"day": _day(order.order_date), "effective": _day(effective_on)}
            }
        )
    if effective_on > today:
        raise ValidationError(
            {
                "effective_on": _("A cancellation takes effect on a day that has come, not on %(effective)s.")
                % {"effective": _day(effective_on)}
            }
        )


@transaction.atomic
def purchase_order_cancel(
    *, order_id: int, user: "User", reason: str = "", effective_on: datetime.date | None = None
) -> PurchaseOrder:
    """Cancel a draft or approved order: its commitment is withdrawn from `effective_on` (today by
    default); its invoices still count (only credit notes reduce actual)."""
    order, category = _lock_order_and_category(order_id)
    if category.direction == TransactionCategory.Direction.SALE:
        role_check(
            user,
            "transactions.cancel_salesorder",
            _("Only a user with the compliance role can cancel sales orders."),
        )
    else:
        role_check(
            user,
            "transactions.cancel_purchaseorder",
            _("Only a user with the compliance role can cancel purchase orders."),
        )
    if order.status == PurchaseOrder.Status.CANCELLED:
        raise Refusal("order_not_cancellable", _("Order %(order)s is already cancelled.") % {"order": order.number})
    effective_on = effective_on or timezone.localdate()
    cancellation_effective_on_check(order, effective_on)
    order.status = PurchaseOrder.Status.CANCELLED
    order.cancelled_by = user
    order.cancelled_at = timezone.now()
    order.cancellation_reason = reason[:500]
    order.cancellation_effective_on = effective_on
    order._history_user = user
    order._change_reason = f"cancelled: {reason}" if reason else "cancelled"
    order.save()
    ledger_post(withdrawal_entries(order, effective_on), user=user)
    return order


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
    order, category = _lock_order_and_category(invoice.purchase_order_id)
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
    order, category = _lock_order_and_category(note.invoice.purchase_order_id)
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


# --- Alerts ---------------------------------------------------------------------------------------


# --- Caps and terms -------------------------------------------------------------------------------

CAP_FIELDS = ("category", "period_start", "period_end", "amount")


def annual_cap_amount_check(cap: AnnualCap) -> None:
    """Once a cap is in use, or while a revision of it is pending, its amount changes only through a
    completed revision (compliance.revisions): a typing error in a fresh cap is still corrected here."""
    if cap.pk is None or cap.amount is None:
        return
    stored = AnnualCap.objects.filter(pk=cap.pk).values_list("amount", flat=True).first()
    if stored is None or stored == cap.amount:
        return
    if CapRevision.objects.filter(cap_id=cap.pk, status=CapRevision.Status.PENDING).exists():
        raise ValidationError(
            {"amount": _("A revision of this cap is pending; its amount changes when the revision takes effect.")}
        )
    used = caps_with_utilisation(AnnualCap.objects.filter(pk=cap.pk)).get().used
    if used > 0:
        currency = cap.category.currency
        raise ValidationError(
            {
                "amount": _(
                    "%(used)s of this cap is already committed or invoiced, so its amount (%(stored)s) changes only "
                    "through a cap revision, which takes effect once the steps its classification requires (board "
                    "approval, announcement, shareholders' approval) are recorded."
                )
                % {"used": format_money(used, currency), "stored": format_money(stored, currency)}
            }
        )


def annual_cap_check(cap: AnnualCap) -> None:
    """A cap's period lies inside one recorded term of its category and overlaps no other period of the
    category; its amount changes only as annual_cap_amount_check allows.

    (A period that ends before it starts is reported by AnnualCap.clean.)"""
    category = getattr(cap, "category", None)
    if not (category and cap.period_start and cap.period_end) or cap.period_end < cap.period_start:
        return
    terms = category_terms(category)
    if not any(term.covers(cap.period_start) and term.covers(cap.period_end) for term in terms):
        where = (_("the term of “%(category)s”") if len(terms) == 1 else _("any recorded term of “%(category)s”")) % {
            "category": category.name
        }
        raise ValidationError(
            {
                "period_start": _("The period %(start)s to %(end)s is not inside %(where)s (%(terms)s).")
                % {
                    "start": _day(cap.period_start),
                    "end": _day(cap.period_end),
                    "where": where,
                    "terms": describe_terms(terms),
                }
            }
        )
    if category.pk is None:
        return
    annual_cap_amount_check(cap)
    overlapping = (
        AnnualCap.objects.filter(category=category, period_start__lte=cap.period_end, period_end__gte=cap.period_start)
        .exclude(pk=cap.pk)
        .first()
    )
    if overlapping is not None:
        raise ValidationError(
            {
                "period_start": _("The period overlaps the cap for %(period)s; a day belongs to one period only.")
                % {"period": _period(overlapping)}
            }
        )


@transaction.atomic
def annual_cap_save(*, cap: AnnualCap, user: "User") -> AnnualCap:
    if cap.pk is not None:
        stored_category = AnnualCap.objects.values_list("category_id", flat=True).get(pk=cap.pk)
        if stored_category != cap.category_id:
            raise ValidationError({"category": _("A cap cannot be moved to another category.")})
    cap.full_clean()
    # Lock the category so that two caps cannot be entered over the same days at once.
    TransactionCategory.objects.select_for_update().get(pk=cap.category_id)
    annual_cap_check(cap)
    cap._history_user = user
    cap.save()
    CapTotals.objects.get_or_create(cap=cap)
    renewals_settle_for_cap(cap)
    return cap


def annual_cap_create(*, user: "User", **fields: Any) -> AnnualCap:
    cap = AnnualCap()
    assign_fields(cap, fields, CAP_FIELDS)
    return annual_cap_save(cap=cap, user=user)


def annual_cap_update(*, cap: AnnualCap, user: "User", **fields: Any) -> AnnualCap:
    assign_fields(cap, fields, CAP_FIELDS)
    return annual_cap_save(cap=cap, user=user)


def transaction_category_check(category: TransactionCategory) -> None:
    """A term over three years carries its explanation; a term change keeps clear of the renewals' terms
    and keeps every cap period and every approved order inside the recorded terms (compliance.terms)."""
    if not (category.term_start and category.term_end) or category.term_end < category.term_start:
        return
    term_length_check(category.term_start, category.term_end, category.term_explanation)
    terms_check(category, category_terms(category))


def _material_terms_check(category: TransactionCategory) -> None:
    """Once orders are approved under a category, its pricing basis and scope change only through a recorded
    change of terms, which re-complies first (compliance.renewals)."""
    stored = TransactionCategory.objects.values("pricing_basis", "scope").get(pk=category.pk)
    changed = [name for name in ("pricing_basis", "scope") if getattr(category, name) != stored[name]]
    if changed and category.purchase_orders.filter(status=PurchaseOrder.Status.APPROVED).exists():
        raise ValidationError(
            {
                name: _(
                    "Orders are approved under these terms: a material change of the pricing basis or scope is "
                    "recorded as a change of terms, which takes effect once its re-compliance steps are recorded."
                )
                for name in changed
            }
        )


CATEGORY_FIELDS = (
    "agreement", "name", "name_zh", "term_start", "term_end", "term_explanation", "currency", "direction",
    "min_independent_quotes", "quote_validity_days", "quote_documents_required", "pricing_basis", "scope",
)  # fmt: skip


@transaction.atomic
def transaction_category_save(*, category: TransactionCategory, user: "User") -> TransactionCategory:
    """Save a new or changed category; a term or currency change must keep its caps and orders valid."""
    if category.pk is not None:
        stored_currency, stored_direction = (
            TransactionCategory.objects.select_for_update().values_list("currency", "direction").get(pk=category.pk)
        )
        if category.currency != stored_currency and category.caps.exists():
            raise ValidationError({"currency": _("The currency of a category with caps cannot change.")})
        if category.direction != stored_direction and category.purchase_orders.exists():
            raise ValidationError(
                {
                    "direction": _(
                        "Orders are recorded under this category: whether it buys from or sells to the connected "
                        "person cannot change. Enter the other direction as a category of its own."
                    )
                }
            )
        _material_terms_check(category)
    category.full_clean()
    transaction_category_check(category)
    category._history_user = user
    category.save()
    return category


def transaction_category_create(*, user: "User", **fields: Any) -> TransactionCategory:
    category = TransactionCategory()
    assign_fields(category, fields, CATEGORY_FIELDS)
    return transaction_category_save(category=category, user=user)


def transaction_category_update(*, category: TransactionCategory, user: "User", **fields: Any) -> TransactionCategory:
    assign_fields(category, fields, CATEGORY_FIELDS)
    return transaction_category_save(category=category, user=user)


# --- Distribution lists ---------------------------------------------------------------------------

LIST_FIELDS = (
    "name", "description", "member_emails", "thresholds", "monthly_report", "headroom_warnings", "quote_rule_report",
    "term_warnings",
)  # fmt: skip


@transaction.atomic
def distribution_list_save(
    *, user: "User", distribution_list: DistributionList | None = None, **fields: Any
) -> DistributionList:
    """Create or change a named list, its addresses (replacing them when given) and its thresholds."""
    distribution_list = distribution_list or DistributionList()
    emails = fields.pop("member_emails", None)
    thresholds = fields.pop("thresholds", None)
    assign_fields(distribution_list, fields, LIST_FIELDS)
    distribution_list.full_clean()
    distribution_list._history_user = user
    distribution_list.save()
    if thresholds is not None:
        distribution_list.thresholds.set(thresholds)
    if emails is not None:
        wanted = {email.lower() for email in emails}
        distribution_list.members.exclude(email__in=wanted).delete()
        present = set(distribution_list.members.values_list("email", flat=True))
        for email in sorted(wanted - present):
            distribution_list.members.create(email=email)
    return distribution_list


def alert_threshold_delete(*, threshold_id: int, user: "User") -> None:
    """Delete a threshold nobody receives alerts for. While distribution lists take its alerts it is
    refused: deleting it would silently take them off those alerts (the default threshold, 80%, is
    alerted at whether or not its row exists)."""
    with transaction.atomic():
        threshold = AlertThreshold.objects.select_for_update().get(pk=threshold_id)
        subscribed = list(
            DistributionList.objects.filter(thresholds=threshold).order_by("name").values_list("name", flat=True)
        )
        if subscribed:
            raise Refusal(
                "threshold_in_use",
                _(
                    "The %(percent)s%% threshold cannot be deleted: the distribution lists %(lists)s receive its "
                    "alerts. Take it off those lists first."
                )
                % {"percent": threshold.percent, "lists": ", ".join(f"“{name}”" for name in subscribed)},
            )
        threshold._history_user = user
        threshold.delete()
