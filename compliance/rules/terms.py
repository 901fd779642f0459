"""Terms of a category: the first term (the category's own dates) and the later terms its renewals add.

Rules (Listing Rules, Chapter 14A, and the API contract):
- the terms of a category never overlap; a renewal starts after every recorded term has ended;
- a term longer than three years needs the independent financial adviser's explanation (Rule 14A.52):
  three years from 29 Jul 2025 run to 28 Jul 2028, so a term ending 29 Jul 2028 needs one;
- every cap period lies inside one term, and every approved order (order date and each service day)
  inside the recorded terms; orders outside every term are refused (compliance.caps.approval._check_term);
- the term *in force* on a day is the latest term that has begun by then, else the first term. It is
  what the API shows as a category's `term_start` / `term_end`.
"""

import datetime
import itertools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from compliance.common.dates import day_in_words as _day
from compliance.models import AnnualCap
from transactions.models import CategoryRenewal, PurchaseOrder, TransactionCategory


@dataclass(frozen=True)
class Term:
    start: datetime.date
    end: datetime.date
    renewal: CategoryRenewal | None = None  # None: the category's first term

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return _("%(start)s to %(end)s") % {"start": _day(self.start), "end": _day(self.end)}


def category_terms(category: TransactionCategory, *, renewals: list[CategoryRenewal] | None = None) -> list[Term]:
    """Every recorded term of the category in date order: its first term as the instance holds it (a form
    may be changing it) and its renewals (from the database unless given)."""
    if renewals is None:
        renewals = list(category.renewals.order_by("term_start")) if category.pk else []
    terms = [Term(category.term_start, category.term_end)] if category.term_start and category.term_end else []
    terms += [Term(r.term_start, r.term_end, r) for r in renewals]
    return sorted(terms, key=lambda term: term.start)


def terms_cover(terms: list[Term], first: datetime.date, last: datetime.date) -> bool:
    """Every day from `first` to `last` falls in one of the terms."""
    cursor = first
    for term in sorted(terms, key=lambda t: t.start):
        if term.end < cursor:
            continue
        if term.start > cursor:
            return False
        cursor = term.end + datetime.timedelta(days=1)
        if cursor > last:
            return True
    return cursor > last


def term_in_force(terms: list[Term], on: datetime.date) -> Term | None:
    """The latest term that has begun by `on`, else the first."""
    begun = [term for term in terms if term.start <= on]
    if begun:
        return max(begun, key=lambda term: term.start)
    return min(terms, key=lambda term: term.start) if terms else None


def describe_terms(terms: list[Term]) -> str:
    return "; ".join(str(term) for term in terms)


# --- Rules --------------------------------------------------------------------------------------------

THREE_YEARS = 3


def term_limit_end(start: datetime.date) -> datetime.date:
    """The last day of a term of three years starting on `start` (from 29 Feb: 28 Feb three years on)."""
    try:
        anniversary = start.replace(year=start.year + THREE_YEARS)
    except ValueError:  # 29 February
        anniversary = datetime.date(start.year + THREE_YEARS, 3, 1)
    return anniversary - datetime.timedelta(days=1)


def term_length_check(start: datetime.date | None, end: datetime.date | None, explanation: str) -> None:
    """A term over three years is refused unless the independent financial adviser's explanation is given."""
    if not (start and end) or end < start:
        return
    limit = term_limit_end(start)
    if end > limit and not (explanation or "").strip():
        raise ValidationError(
            {
                "term_explanation": _(
                    "The term from %(start)s to %(end)s is longer than three years (three years end on %(limit)s). "
                    "Record the independent financial adviser's explanation of why a longer term is required "
                    "(Rule 14A.52), or shorten the term."
                )
                % {"start": _day(start), "end": _day(end), "limit": _day(limit)}
            }
        )


def terms_check(category: TransactionCategory, terms: list[Term], *, field: str = "term_end") -> None:
    """The terms do not overlap, and keep every cap period and approved order of the category inside them."""
    ordered = sorted(terms, key=lambda term: term.start)
    for earlier, later in itertools.pairwise(ordered):
        if later.start <= earlier.end:
            raise ValidationError(
                {
                    field: _(
                        "The terms %(earlier)s and %(later)s overlap; each term starts after the previous one ends."
                    )
                    % {"earlier": earlier, "later": later}
                }
            )
    if category.pk is None:
        return
    errors: list[str] = []
    caps = AnnualCap.objects.filter(category_id=category.pk).order_by("period_start")
    outside = [cap for cap in caps if not any(t.covers(cap.period_start) and t.covers(cap.period_end) for t in terms)]
    if outside:
        periods = ", ".join(str(Term(c.period_start, c.period_end)) for c in outside)
        errors.append(_("The caps for %(periods)s would fall outside the term.") % {"periods": periods})
    approved = PurchaseOrder.objects.filter(category_id=category.pk, status=PurchaseOrder.Status.APPROVED)
    numbers = [
        order.number
        for order in approved.only("number", "order_date", "recognition", "service_start", "service_end")
        if not order_inside_terms(order, terms)
    ]
    if numbers:
        errors.append(
            _("Approved orders would fall outside the term: %(orders)s.") % {"orders": ", ".join(numbers[:5])}
        )
    if errors:
        raise ValidationError({field: errors})


def order_inside_terms(order: PurchaseOrder, terms: list[Term]) -> bool:
    """The order date and every service day fall inside the terms (the approval gate's rule)."""
    if not any(term.covers(order.order_date) for term in terms):
        return False
    if order.recognition == PurchaseOrder.Recognition.OVER_SERVICE_PERIOD:
        return terms_cover(terms, order.service_start, order.service_end)
    return True


# --- Reads for lists -----------------------------------------------------------------------------------


def categories_with_term_in_force(
    categories: QuerySet[TransactionCategory], *, on: datetime.date
) -> QuerySet[TransactionCategory]:
    """Categories annotated with the renewal in force on `on` (`renewal_in_force_id`, `renewal_term_start`,
    `renewal_term_end`; all null while the first term is in force). One query for any number."""
    latest = CategoryRenewal.objects.filter(category=OuterRef("pk"), term_start__lte=on).order_by("-term_start")
    return categories.annotate(
        renewal_in_force_id=Subquery(latest.values("pk")[:1]),
        renewal_term_start=Subquery(latest.values("term_start")[:1]),
        renewal_term_end=Subquery(latest.values("term_end")[:1]),
    )
