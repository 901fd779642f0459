"""Renewals: a later term of a category with the caps of its periods (compliance.terms has the rules).

Renewing by a new framework agreement needs nothing of its own: the new agreement's categories have
their own terms and caps.
"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from transactions.models import CategoryRenewal, TransactionCategory
from transactions.services import assign_fields

from .models import AnnualCap
from .services import annual_cap_save
from .terms import Term, category_terms, term_length_check, terms_check

RENEWAL_FIELDS = ("category", "term_start", "term_end", "term_explanation", "board_approved_on", "reference")


def _day(value: datetime.date) -> str:
    return value.strftime("%-d %b %Y")


def category_renewal_check(renewal: CategoryRenewal) -> None:
    """A new renewal starts after every recorded term; any renewal keeps the terms apart, explains a term
    over three years, and keeps the category's caps and approved orders inside the terms."""
    if not (renewal.category_id and renewal.term_start and renewal.term_end) or renewal.term_end < renewal.term_start:
        return
    category = renewal.category
    others = [r for r in category.renewals.order_by("term_start") if r.pk != renewal.pk] if category.pk else []
    if renewal.pk is None:
        latest = max((term.end for term in category_terms(category, renewals=others)), default=None)
        if latest is not None and renewal.term_start <= latest:
            raise ValidationError(
                {
                    "term_start": f"A renewal starts after the latest recorded term of “{category.name}”, which ends "
                    f"on {_day(latest)}."
                }
            )
    term_length_check(renewal.term_start, renewal.term_end, renewal.term_explanation)
    terms = [*category_terms(category, renewals=others), Term(renewal.term_start, renewal.term_end, renewal)]
    terms_check(category, terms)


@transaction.atomic
def category_renewal_save(
    *, renewal: CategoryRenewal, user, caps: list[dict[str, Any]] | None = None
) -> CategoryRenewal:
    """Record a renewal (or correct one) and, for a new one, the caps of its periods, all or nothing."""
    if renewal.pk is not None:
        stored = CategoryRenewal.objects.values_list("category_id", flat=True).get(pk=renewal.pk)
        if stored != renewal.category_id:
            raise ValidationError({"category": "A renewal cannot be moved to another category."})
    else:
        renewal.created_by = user
    renewal.full_clean(exclude=["created_by"])
    # Lock the category so that two renewals (or a renewal and a cap) cannot claim the same days.
    renewal.category = TransactionCategory.objects.select_for_update().get(pk=renewal.category_id)
    category_renewal_check(renewal)
    renewal._history_user = user
    renewal.save()
    for number, fields in enumerate(caps or []):
        cap = AnnualCap(category=renewal.category)
        assign_fields(cap, fields, ("period_start", "period_end", "amount"))
        try:
            annual_cap_save(cap=cap, user=user)
        except ValidationError as error:
            raise ValidationError({"caps": [f"Cap {number + 1}: {m}" for m in error.messages]}) from error
    return renewal


def category_renewal_record(*, user, caps: list[dict[str, Any]] | None = None, **fields: Any) -> CategoryRenewal:
    renewal = CategoryRenewal()
    assign_fields(renewal, fields, RENEWAL_FIELDS)
    return category_renewal_save(renewal=renewal, user=user, caps=caps)


def category_renewal_update(*, renewal: CategoryRenewal, user, **fields: Any) -> CategoryRenewal:
    assign_fields(renewal, fields, RENEWAL_FIELDS)
    return category_renewal_save(renewal=renewal, user=user)
