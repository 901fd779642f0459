"""The approval gates: approving and cancelling orders, purchases and sales alike.

Each act is one database transaction. Approval locks the order's row and then its category's row (always in
that order, so two approvals cannot deadlock): two approvals against the same caps run one after the other,
and the second sees what the first approved. Only a user whose role may approve (or cancel) acts: the
service checks it, so the API, the admin's buttons and its bulk actions cannot differ.
Refusals are transactions.errors.Refusal (API: 409 with the code below); malformed input is a
ValidationError (API: 400).
"""

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.alerts.recording import (
    alerts_record as alerts_record,  # re-exported: checks and callers record alerts here
)
from compliance.caps.ledger import (
    commitment_entries,
    ledger_post,
    totals_lock,
    withdrawal_entries,
)
from compliance.common.dates import day_in_words as _day
from compliance.common.dates import period_in_words
from compliance.models import AnnualCap
from compliance.rules.quote_exceptions import approved_exception_for
from compliance.rules.recompliance import recompliance_refusal
from compliance.rules.selectors import (
    PeriodShare,
    QuoteRuleFailure,
    QuoteRuleResult,
    caps_with_utilisation,
    order_allocation,
    quote_rule_for_order,
)
from compliance.rules.terms import category_terms, describe_terms, terms_cover
from transactions.errors import Refusal
from transactions.models import PurchaseOrder, TransactionCategory
from transactions.money import format_money, mul_div_round
from transactions.selectors import amount_converted

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
    return period_in_words(cap.period_start, cap.period_end)


def lock_order_and_category(order_id: int) -> tuple[PurchaseOrder, TransactionCategory]:
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
    """The refusal that words why the order fails the quote rule (QuoteRuleResult.failure decides); None if it
    passes. Used by the approval gate, its preview and the sweep over approved orders."""
    failure = result.failure()
    if failure is None:
        return None
    if failure.reason == QuoteRuleFailure.NO_ORDER_RATE:
        return _order_rate_refusal(order, category.currency)
    if failure.reason == QuoteRuleFailure.NO_QUOTE_RATE:
        quote = failure.assessment.quote
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
    if result.sale:
        return _pricing_rule_refusal(order, result, category, failure)
    if failure.reason == QuoteRuleFailure.TOO_FEW:
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
    dearest = failure.assessment
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


def _pricing_rule_refusal(
    order: PurchaseOrder, result: QuoteRuleResult, category: TransactionCategory, failure: QuoteRuleFailure
) -> Refusal:
    """A sale's failure of the pricing rule, worded: too few price references from distinct independent
    customers, or priced lower than one of them (by how much, and than whom)."""
    if failure.reason == QuoteRuleFailure.TOO_FEW:
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
    highest = failure.assessment
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
    order, category = lock_order_and_category(order_id)
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
    order, category = lock_order_and_category(order_id)
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
