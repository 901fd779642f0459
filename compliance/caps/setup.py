"""Setting up categories and their annual caps: the checks that keep caps, periods and terms consistent, and
the writes, one transaction each.
"""

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from compliance.alerts.recording import (
    alerts_record as alerts_record,  # re-exported: checks and callers record alerts here
)
from compliance.common.dates import day_in_words as _day
from compliance.common.dates import period_in_words
from compliance.models import AnnualCap, CapRevision, CapTotals
from compliance.rules.recompliance import renewals_settle_for_cap
from compliance.rules.selectors import caps_with_utilisation
from compliance.rules.terms import category_terms, describe_terms, term_length_check, terms_check
from transactions.models import PurchaseOrder, TransactionCategory
from transactions.money import format_money
from transactions.services import assign_fields

if TYPE_CHECKING:
    from transactions.users import User

# --- Alerts ---------------------------------------------------------------------------------------


# --- Caps and terms -------------------------------------------------------------------------------

CAP_FIELDS = ("category", "period_start", "period_end", "amount")


def annual_cap_amount_check(cap: AnnualCap) -> None:
    """Once a cap is in use, or while a revision of it is pending, its amount changes only through a
    completed revision (compliance.lifecycle.revisions): a typing error in a fresh cap is still corrected here."""
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
                % {"period": period_in_words(overlapping.period_start, overlapping.period_end)}
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
    and keeps every cap period and every approved order inside the recorded terms (compliance.rules.terms)."""
    if not (category.term_start and category.term_end) or category.term_end < category.term_start:
        return
    term_length_check(category.term_start, category.term_end, category.term_explanation)
    terms_check(category, category_terms(category))


def _material_terms_check(category: TransactionCategory) -> None:
    """Once orders are approved under a category, its pricing basis and scope change only through a recorded
    change of terms, which re-complies first (compliance.lifecycle.renewals)."""
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
