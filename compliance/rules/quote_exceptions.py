"""Documented quote-rule exceptions: where fewer than the required independent quotes can exist (a sole
supplier), compliance records an exception for one draft order with its reason and evidence, and a
second person approves it. The approval gate then accepts that order without the quote rule; every
other gate still applies.

The approver is neither the exception's requester nor the order's creator: the four-eyes principle
the quote rule itself stands for. The exception covers the order as it stood when requested (amount,
currency and counterparty): an order changed afterwards needs a new exception.

Locks: the order row, then the exception row, as the approval does, so approving an exception and
approving its order cannot interleave.
"""

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.models import QuoteRuleException
from transactions.errors import Refusal
from transactions.models import PurchaseOrder
from transactions.money import format_money

if TYPE_CHECKING:
    from transactions.users import User

EXCEPTION_SELF_APPROVAL = "exception_self_approval"
EXCEPTION_CREATOR_APPROVAL = "exception_creator_approval"
EXCEPTION_NOT_PENDING = "exception_not_pending"
EXCEPTION_ORDER_CHANGED = "exception_order_changed"
OPEN = (QuoteRuleException.Status.PENDING, QuoteRuleException.Status.APPROVED)


def quote_rule_exception_check(exception: QuoteRuleException) -> None:
    """An exception says why, carries its evidence, is for a draft order and is the order's only open one."""
    errors: dict[str, str] = {}
    if not (exception.reason or "").strip():
        errors["reason"] = _("Say why fewer than the required independent quotes can exist, e.g. a sole supplier.")
    if not exception.evidence:
        errors["evidence"] = _("Upload the evidence (PDF, PNG or JPEG), e.g. the search that found no other supplier.")
    order = exception.purchase_order if exception.purchase_order_id else None
    if order is not None:
        if not order.is_draft:
            errors["purchase_order"] = _("Order %(order)s is %(status)s; exceptions are recorded for draft orders.") % {
                "order": order.number,
                "status": order.get_status_display().lower(),
            }
        elif QuoteRuleException.objects.filter(purchase_order=order, status__in=OPEN).exclude(pk=exception.pk).exists():
            errors["purchase_order"] = _("Order %(order)s already has a pending or approved quote-rule exception.") % {
                "order": order.number
            }
    if errors:
        raise ValidationError(errors)


def quote_rule_exception_request(
    *, user: "User", purchase_order: PurchaseOrder, reason: str, evidence
) -> QuoteRuleException:
    exception = QuoteRuleException(purchase_order=purchase_order, reason=reason, evidence=evidence)
    return quote_rule_exception_record(exception=exception, user=user)


@transaction.atomic
def quote_rule_exception_record(*, exception: QuoteRuleException, user: "User") -> QuoteRuleException:
    """Record an exception (its order, reason and evidence set) for one draft order, waiting for a second
    person's approval."""
    if exception.pk is not None:
        raise ValueError("quote_rule_exception_record records new exceptions only")
    order = PurchaseOrder.objects.select_for_update(of=("self",)).get(pk=exception.purchase_order_id)
    exception.purchase_order = order
    exception.reason = (exception.reason or "").strip()
    exception.order_amount = order.amount
    exception.order_currency = order.currency
    exception.order_counterparty_id = order.counterparty_id
    exception.requested_by = user
    exception.status = QuoteRuleException.Status.PENDING
    quote_rule_exception_check(exception)
    exception.full_clean(exclude=["requested_by", "order_counterparty", "reason"])
    exception.evidence_name = exception.evidence.name.rsplit("/", 1)[-1][:200]
    exception._history_user = user
    exception.save()
    return exception


def _lock(exception_id: int) -> tuple[QuoteRuleException, PurchaseOrder]:
    order_id = QuoteRuleException.objects.values_list("purchase_order_id", flat=True).get(pk=exception_id)
    order = PurchaseOrder.objects.select_for_update(of=("self",)).get(pk=order_id)
    exception = QuoteRuleException.objects.select_for_update(of=("self",)).get(pk=exception_id)
    exception.purchase_order = order
    return exception, order


@transaction.atomic
def quote_rule_exception_approve(*, exception_id: int, user: "User") -> QuoteRuleException:
    """The second person's approval. Refused to the requester and to the order's creator."""
    exception, order = _lock(exception_id)
    if exception.status != QuoteRuleException.Status.PENDING:
        raise Refusal(
            EXCEPTION_NOT_PENDING,
            _("This exception is already %(status)s.") % {"status": exception.get_status_display().lower()},
        )
    if not order.is_draft:
        raise Refusal(
            "order_not_draft",
            _("Order %(order)s is %(status)s.") % {"order": order.number, "status": order.get_status_display().lower()},
        )
    if exception.requested_by_id == user.pk:
        raise Refusal(
            EXCEPTION_SELF_APPROVAL,
            _(
                "You requested the quote-rule exception for order %(order)s, so you cannot approve it: a second "
                "person must."
            )
            % {"order": order.number},
        )
    if order.created_by_id == user.pk:
        raise Refusal(
            EXCEPTION_CREATOR_APPROVAL,
            _(
                "You entered order %(order)s, so you cannot approve its quote-rule exception: someone who neither "
                "entered the order nor requested the exception must."
            )
            % {"order": order.number},
        )
    if not exception.covers(order):
        raise Refusal(
            EXCEPTION_ORDER_CHANGED,
            _("Order %(order)s has changed since the exception was requested for %(amount)s; request a new exception.")
            % {"order": order.number, "amount": format_money(exception.order_amount, exception.order_currency)},
        )
    exception.status = QuoteRuleException.Status.APPROVED
    exception.decided_by = user
    exception.decided_at = timezone.now()
    exception._history_user = user
    exception.save()
    return exception


@transaction.atomic
def quote_rule_exception_reject(*, exception_id: int, user: "User", reason: str = "") -> QuoteRuleException:
    """Turn an exception down; the order stays under the quote rule."""
    exception, _order = _lock(exception_id)
    if exception.status != QuoteRuleException.Status.PENDING:
        raise Refusal(
            EXCEPTION_NOT_PENDING,
            _("This exception is already %(status)s.") % {"status": exception.get_status_display().lower()},
        )
    if exception.requested_by_id == user.pk:
        raise Refusal(EXCEPTION_SELF_APPROVAL, _("You requested this exception; a second person decides on it."))
    exception.status = QuoteRuleException.Status.REJECTED
    exception.decided_by = user
    exception.decided_at = timezone.now()
    exception.rejection_reason = (reason or "")[:500]
    exception._history_user = user
    exception.save()
    return exception


# --- Reads --------------------------------------------------------------------------------------


def approved_exception_for(order: PurchaseOrder) -> QuoteRuleException | None:
    return order.quote_rule_exceptions.filter(status=QuoteRuleException.Status.APPROVED).first()


def quote_rule_exception_list() -> QuerySet[QuoteRuleException]:
    """Every exception with its order and people: for the API, the admin, the reports and the annual review."""
    return QuoteRuleException.objects.select_related(
        "purchase_order__category__agreement", "order_counterparty", "requested_by", "decided_by"
    )
