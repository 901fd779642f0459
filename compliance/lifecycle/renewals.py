"""Renewals: a later term of a category with the caps of its periods (compliance.rules.terms has the rules),
and material changes of a category's terms.

Both re-comply before they take effect (Rule 14A.54), as cap revisions do: each is classified with
the connected person's other caps (compliance.rules.classification.terms_classification), its required steps
follow the tier (compliance.rules.recompliance), and it is pending until the last of them is recorded. While
a renewal is pending no order touching its term is approved; while a change of terms is pending no
order touching the days from its effective date (`recompliance_pending`, compliance.caps.approval).

Renewing by a new framework agreement needs nothing of its own: the new agreement's categories have
their own terms and caps.
"""

import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from compliance.caps.setup import annual_cap_save
from compliance.common.dates import day_in_words as _day
from compliance.models import AnnualCap, TermsChange
from compliance.rules.recompliance import RECOMPLIANCE_PENDING as RECOMPLIANCE_PENDING  # re-exported: the gate's code
from compliance.rules.recompliance import REFERENCES, STEPS, recompliance_settle, steps_check
from compliance.rules.recompliance import recompliance_refusal as recompliance_refusal  # re-exported: the approval gate
from compliance.rules.recompliance import renewals_settle_for_cap as renewals_settle_for_cap  # re-exported
from compliance.rules.terms import Term, category_terms, term_length_check, terms_check
from transactions.errors import Refusal
from transactions.models import CategoryRenewal, TransactionCategory
from transactions.services import assign_fields

if TYPE_CHECKING:
    from transactions.users import User

RENEWAL_FIELDS = (
    "category", "term_start", "term_end", "term_explanation", "reference", *STEPS, *REFERENCES,
)  # fmt: skip


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
                    "term_start": _(
                        "A renewal starts after the latest recorded term of “%(category)s”, which ends on %(day)s."
                    )
                    % {"category": category.name, "day": _day(latest)}
                }
            )
    term_length_check(renewal.term_start, renewal.term_end, renewal.term_explanation)
    terms = [*category_terms(category, renewals=others), Term(renewal.term_start, renewal.term_end, renewal)]
    terms_check(category, terms)


@transaction.atomic
def category_renewal_save(
    *, renewal: CategoryRenewal, user: "User", caps: list[dict[str, Any]] | None = None
) -> CategoryRenewal:
    """Record a renewal (or correct one) and, for a new one, the caps of its periods, all or nothing."""
    if renewal.pk is not None:
        stored = CategoryRenewal.objects.values_list("category_id", flat=True).get(pk=renewal.pk)
        if stored != renewal.category_id:
            raise ValidationError({"category": _("A renewal cannot be moved to another category.")})
    else:
        renewal.created_by = user
    renewal.full_clean(exclude=["created_by", "status", "tier", "missing"])
    # Lock the category so that two renewals (or a renewal and a cap) cannot claim the same days.
    renewal.category = TransactionCategory.objects.select_for_update().get(pk=renewal.category_id)
    category_renewal_check(renewal)
    steps_check(renewal)
    renewal._history_user = user
    renewal.save()
    for number, fields in enumerate(caps or []):
        cap = AnnualCap(category=renewal.category)
        assign_fields(cap, fields, ("period_start", "period_end", "amount"))
        try:
            annual_cap_save(cap=cap, user=user)
        except ValidationError as error:
            raise ValidationError({"caps": [f"Cap {number + 1}: {m}" for m in error.messages]}) from error
    recompliance_settle(renewal, renewal.term_start, renewal.term_end)
    renewal.save()
    return renewal


@transaction.atomic
def category_renewal_record_steps(
    *, renewal_id: int, user: "User", **steps: datetime.date | str | None
) -> CategoryRenewal:
    """Record the dates of re-compliance steps taken (and the board's references); the renewal takes effect
    when every step its classification requires is recorded."""
    unknown = set(steps) - set(STEPS) - set(REFERENCES)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    category_id = CategoryRenewal.objects.values_list("category_id", flat=True).get(pk=renewal_id)
    TransactionCategory.objects.select_for_update().only("pk").get(pk=category_id)
    renewal = CategoryRenewal.objects.select_for_update(of=("self",)).select_related("category").get(pk=renewal_id)
    for step, value in steps.items():
        setattr(renewal, step, (value or "").strip() if step in REFERENCES else value)
    steps_check(renewal)
    # Classified again: caps entered since, or new financial figures, may ask for more steps.
    recompliance_settle(renewal, renewal.term_start, renewal.term_end)
    renewal._history_user = user
    renewal.save()
    return renewal


def category_renewal_record(
    *, user: "User", caps: list[dict[str, Any]] | None = None, **fields: Any
) -> CategoryRenewal:
    renewal = CategoryRenewal()
    assign_fields(renewal, fields, RENEWAL_FIELDS)
    return category_renewal_save(renewal=renewal, user=user, caps=caps)


def category_renewal_update(*, renewal: CategoryRenewal, user: "User", **fields: Any) -> CategoryRenewal:
    assign_fields(renewal, fields, RENEWAL_FIELDS)
    return category_renewal_save(renewal=renewal, user=user)


# --- Material changes of terms ----------------------------------------------------------------------

TERMS_CHANGE_FIELDS = ("category", "effective_from", "pricing_basis", "scope", "reason", *STEPS, *REFERENCES)


def terms_change_check(change: TermsChange) -> None:
    """A change says why and what changes, starts inside a recorded term, and is the category's only pending one."""
    errors: dict[str, str] = {}
    if not (change.reason or "").strip():
        errors["reason"] = _("Say why the terms change, e.g. the new pricing policy agreed with the supplier.")
    if not (change.pricing_basis or "").strip() and not (change.scope or "").strip():
        errors["pricing_basis"] = _("Enter the new pricing basis, the new scope, or both.")
    if change.category_id and change.effective_from:
        terms = category_terms(change.category)
        if not any(term.covers(change.effective_from) for term in terms):
            errors["effective_from"] = _("%(day)s is not inside a recorded term of “%(category)s”.") % {
                "day": _day(change.effective_from),
                "category": change.category.name,
            }
        pending = TermsChange.objects.filter(category_id=change.category_id, status=TermsChange.Status.PENDING)
        if pending.exclude(pk=change.pk).exists():
            errors["category"] = _("A change of this category's terms is already pending: record its steps first.")
    if errors:
        raise ValidationError(errors)


def _terms_end(change: TermsChange) -> datetime.date:
    return max(term.end for term in category_terms(change.category))


@transaction.atomic
def terms_change_propose(*, user: "User", **fields: Any) -> TermsChange:
    """Record a material change of a category's terms; the category keeps its terms until it takes effect."""
    change = TermsChange(proposed_by=user)
    assign_fields(change, fields, TERMS_CHANGE_FIELDS)
    change.reason = (change.reason or "").strip()
    # The database constraints back up terms_change_check, whose sentences say more.
    change.full_clean(exclude=["proposed_by", "tier", "missing", "status"], validate_constraints=False)
    change.category = TransactionCategory.objects.select_for_update().get(pk=change.category_id)
    terms_change_check(change)
    steps_check(change)
    took_effect = recompliance_settle(change, change.effective_from, _terms_end(change))
    change._history_user = user
    change.save()
    if took_effect:
        _apply_terms(change, user)
    return change


@transaction.atomic
def terms_change_record_steps(*, change_id: int, user: "User", **steps: datetime.date | str | None) -> TermsChange:
    """Record the steps taken; once every required one is recorded, the new terms become the category's."""
    unknown = set(steps) - set(STEPS) - set(REFERENCES)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    category_id = TermsChange.objects.values_list("category_id", flat=True).get(pk=change_id)
    TransactionCategory.objects.select_for_update().only("pk").get(pk=category_id)
    change = TermsChange.objects.select_for_update(of=("self",)).select_related("category").get(pk=change_id)
    if not change.is_pending:
        raise Refusal("terms_change_not_pending", _("This change of terms has taken effect; nothing can be recorded."))
    for step, value in steps.items():
        setattr(change, step, (value or "").strip() if step in REFERENCES else value)
    steps_check(change)
    took_effect = recompliance_settle(change, change.effective_from, _terms_end(change))
    change._history_user = user
    change.save()
    if took_effect:
        _apply_terms(change, user)
    return change


def _apply_terms(change: TermsChange, user: "User") -> None:
    category = change.category
    fields = [name for name in ("pricing_basis", "scope") if getattr(change, name).strip()]
    for name in fields:
        setattr(category, name, getattr(change, name).strip())
    category._history_user = user
    category._change_reason = f"Change of terms {change.pk} took effect: {change.reason}"
    category.save(update_fields=fields)
